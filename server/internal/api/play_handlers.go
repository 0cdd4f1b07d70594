package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
)

// Limits on what a device may upload as proof of play.
const (
	maxPlayIDLen   = 128
	maxPlayRefLen  = 128 // item, playlist and schedule ids
	maxPlayLength  = 24 * time.Hour
	maxPlayBatchID = 200
)

// playMetrics count proof-of-play uploads.
type playMetrics struct {
	ingested prometheus.Counter
	batches  *prometheus.CounterVec
}

func newPlayMetrics(reg prometheus.Registerer) *playMetrics {
	m := &playMetrics{
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kiosk_plays_ingested_total", Help: "Proof-of-play records stored (duplicates not counted).",
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kiosk_play_batches_total", Help: "Play batch uploads by result: accepted, duplicate (batch id seen before) or rejected (bad input).",
		}, []string{"result"}),
	}
	for _, r := range []string{"accepted", "duplicate", "rejected"} {
		m.batches.WithLabelValues(r) // export zeros, so alerts on rate() work from the start
	}
	reg.MustRegister(m.ingested, m.batches)
	return m
}

// postPlays returns the handler for POST /api/v1/device/plays. The screen
// is the one the device token names and nothing else: the body has no
// screen field, and one sent anyway is refused as unknown, so a device can
// never file plays under another screen.
func (h *handler) postPlays(m *playMetrics) echo.HandlerFunc {
	return func(c echo.Context) error {
		screenID := c.Get(ctxScreen).(string)
		var b playlists.PlayBatch
		if err := decodeJSON(c, &b); err != nil {
			m.batches.WithLabelValues("rejected").Inc()
			return err
		}
		if err := validatePlayBatch(&b); err != nil {
			m.batches.WithLabelValues("rejected").Inc()
			h.log.Warn("play batch refused", "screen", screenID, "batch", b.BatchID, "error", err)
			return err
		}
		res, err := h.store.IngestPlays(screenID, b)
		if err != nil {
			return err
		}
		if res.Skipped > 0 {
			h.log.Warn("plays dated more than a day ahead of the server clock skipped", "screen", screenID, "batch", b.BatchID, "skipped", res.Skipped)
		}
		if res.Duplicate {
			m.batches.WithLabelValues("duplicate").Inc()
		} else {
			m.batches.WithLabelValues("accepted").Inc()
			m.ingested.Add(float64(res.Accepted))
		}
		return c.JSON(http.StatusOK, map[string]any{
			"batch_id":  b.BatchID,
			"accepted":  res.Accepted,
			"skipped":   res.Skipped,
			"duplicate": res.Duplicate,
		})
	}
}

// validatePlayBatch refuses a batch the store should not hold, naming the
// first bad field (e.g. "plays[3].duration_ms").
func validatePlayBatch(b *playlists.PlayBatch) error {
	if err := checkPlayString("batch_id", b.BatchID, maxPlayBatchID, true); err != nil {
		return err
	}
	if len(b.Plays) > playlists.MaxPlaysPerBatch {
		return playlists.FieldError{Field: "plays", Problem: fmt.Sprintf("holds %d plays, at most %d per batch", len(b.Plays), playlists.MaxPlaysPerBatch)}
	}
	for i, p := range b.Plays {
		f := func(name string) string { return fmt.Sprintf("plays[%d].%s", i, name) }
		if err := checkPlayString(f("id"), p.ID, maxPlayIDLen, true); err != nil {
			return err
		}
		if err := checkPlayString(f("item"), p.Item, maxPlayRefLen, true); err != nil {
			return err
		}
		if err := checkPlayString(f("playlist"), p.Playlist, maxPlayRefLen, false); err != nil {
			return err
		}
		if err := checkPlayString(f("schedule"), p.Schedule, maxPlayRefLen, false); err != nil {
			return err
		}
		if p.Start <= 0 {
			return playlists.FieldError{Field: f("start"), Problem: fmt.Sprintf("must be a positive unix time in milliseconds (got %d)", p.Start)}
		}
		if p.DurationMS < 0 || p.DurationMS > maxPlayLength.Milliseconds() {
			return playlists.FieldError{Field: f("duration_ms"), Problem: fmt.Sprintf("must be between 0 and %d (24 h) (got %d)", maxPlayLength.Milliseconds(), p.DurationMS)}
		}
	}
	return nil
}

// checkPlayString bounds an id-like field. NUL is refused because the store
// uses it as a key separator.
func checkPlayString(field, v string, maxLen int, required bool) error {
	switch {
	case v == "" && required:
		return playlists.FieldError{Field: field, Problem: "is required"}
	case len(v) > maxLen:
		return playlists.FieldError{Field: field, Problem: fmt.Sprintf("is %d bytes, at most %d allowed", len(v), maxLen)}
	case !utf8.ValidString(v) || strings.ContainsRune(v, 0):
		return playlists.FieldError{Field: field, Problem: "must be valid UTF-8 without NUL characters"}
	}
	return nil
}
