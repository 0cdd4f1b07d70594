package display

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"kiosk/playlists"
)

const (
	// maxStreams bounds concurrent /events streams. One browser needs one;
	// the bound only keeps a misbehaving local client from piling up
	// goroutines.
	maxStreams = 32
	// clockEvery is how often an idle stream carries a clock event: it
	// refreshes the page's clock correction and keeps the connection
	// visibly alive.
	clockEvery = 15 * time.Second
	// streamWriteTimeout bounds one write to a stream, so a browser that
	// stopped reading cannot hold a goroutine forever.
	streamWriteTimeout = 10 * time.Second
)

// kindLabels are the Chinese labels residents see on the coloured band.
var kindLabels = map[playlists.Kind]string{
	playlists.KindLegalStory: "法律故事",
	playlists.KindNotice:     "服务信息",
	playlists.KindPSA:        "公益广告",
}

// itemView is an item as the page renders it. Text is sent as data and set
// with textContent by the page, never as markup.
type itemView struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	KindLabel string     `json:"kind_label"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	DurationS int        `json:"duration_s"`
	Media     *mediaView `json:"media,omitempty"`
}

type mediaView struct {
	URL  string `json:"url"`
	MIME string `json:"mime"`
	Type string `json:"type"` // "image" or "video"
}

// showEvent is the full state the page needs; every event carries all of
// it, so a page that reconnects or missed an event is right again at once.
type showEvent struct {
	// Key changes whenever what is on screen changes; equal keys mean the
	// page already shows the right thing and only the preload may differ.
	Key          string    `json:"key"`
	Fallback     bool      `json:"fallback"`
	Current      *itemView `json:"current,omitempty"`
	Since        int64     `json:"since"`             // unix ms
	Ends         int64     `json:"ends,omitempty"`    // unix ms
	Next         *itemView `json:"next,omitempty"`    // preload this
	NextAt       int64     `json:"next_at,omitempty"` // unix ms
	Now          int64     `json:"now"`               // server-corrected unix ms
	Timezone     string    `json:"timezone"`
	DistrictName string    `json:"district_name"`
	ScreenName   string    `json:"screen_name"`
	Version      string    `json:"version"`
	// Urgent, when set, covers everything else (see urgent.go).
	Urgent *urgentEvent `json:"urgent,omitempty"`
	// Pairing, when set, covers the screen with the code (pairing.go).
	Pairing *pairingView `json:"pairing,omitempty"`
	// SafeMode: the manifest holds the screen on the neutral slate (the
	// fallback screen, saying "信息更新中").
	SafeMode bool `json:"safe_mode,omitempty"`
	// Layout frames the rotation (playlists/layout.go): "" or "full",
	// "header", "header_ticker". Header names the compound in the header
	// bar; Ticker holds the titles of the service notices in the rotation,
	// for the footer ticker. Urgent notices, safe mode, pairing and the
	// clock screen cover every layout.
	Layout string   `json:"layout,omitempty"`
	Header string   `json:"header,omitempty"`
	Ticker []string `json:"ticker,omitempty"`
}

// maxTicker bounds the ticker: beyond a dozen titles a resident waits
// minutes for the one they want, and the rotation shows them anyway.
const maxTicker = 12

// clockEvent refreshes the page's clock correction between shows.
type clockEvent struct {
	Now int64 `json:"now"` // server-corrected unix ms
}

// notify tells every stream that the state changed. Streams read the state
// themselves, so a slow stream only ever sees the latest state and a full
// channel means it already has a wake-up pending. s.mu must be held.
func (s *Server) notify() {
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// subscribe registers a stream; ok is false when too many are open.
func (s *Server) subscribe() (ch chan struct{}, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.subs) >= maxStreams {
		return nil, false
	}
	ch = make(chan struct{}, 1)
	s.subs[ch] = struct{}{}
	return ch, true
}

func (s *Server) unsubscribe(ch chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, ch)
}

// snapshot builds the show event for the current state.
func (s *Server) snapshot() showEvent {
	// The status callback belongs to the player core and may take its own
	// locks, so it is called outside s.mu.
	st := s.syncStatus()
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := showEvent{
		Key:          fmt.Sprintf("%s-%d", s.epoch, s.showID),
		Fallback:     !s.curOK,
		Since:        s.since.UnixMilli(),
		Now:          s.now().UnixMilli(),
		Timezone:     s.tz,
		DistrictName: s.district,
		ScreenName:   st.ScreenName,
	}
	if s.m != nil {
		ev.Version = s.m.Version
		ev.SafeMode = s.m.SafeMode != nil
		if !ev.SafeMode {
			ev.Layout, ev.Header = s.m.Layout, s.m.Header
		}
	}
	if ev.Layout == playlists.LayoutHeaderTicker {
		ev.Ticker = s.tickerTitles()
	}
	ev.Urgent = s.urgentView()
	ev.Pairing = s.pairingView()
	if s.curOK {
		ev.Current = s.view(s.cur.Item)
		ev.Ends = s.ends.UnixMilli()
	}
	if s.nextOK {
		ev.Next = s.view(s.next.Item)
		ev.NextAt = s.nextAt.UnixMilli()
	}
	return ev
}

// tickerTitles are the titles of the notices in the current rotation, in
// rotation order, each once. s.mu must be held.
func (s *Server) tickerTitles() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range s.rotation {
		if e.Item.Kind != playlists.KindNotice || seen[e.Item.Title] || strings.TrimSpace(e.Item.Title) == "" {
			continue
		}
		seen[e.Item.Title] = true
		out = append(out, e.Item.Title)
		if len(out) == maxTicker {
			break
		}
	}
	return out
}

// view turns an item into what the page renders. Media goes along only when
// the manifest lists the asset with a type the page can show. s.mu must be
// held.
func (s *Server) view(it playlists.Item) *itemView {
	v := &itemView{
		ID:        it.ID,
		Kind:      string(it.Kind),
		KindLabel: kindLabels[it.Kind],
		Title:     it.Title,
		Body:      it.Body,
		DurationS: it.DurationS,
	}
	if it.Asset == "" || s.m == nil {
		return v
	}
	ref, ok := s.m.Asset(it.Asset)
	if !ok {
		return v
	}
	if typ := mediaType(ref.MIME); typ != "" {
		v.Media = &mediaView{URL: "/media/" + ref.SHA256, MIME: ref.MIME, Type: typ}
	}
	return v
}

// mediaType is "image" or "video" for a MIME type the page can show, ""
// for anything else. SVG is no picture here: it is a document that can
// carry script.
func mediaType(mime string) string {
	typ, sub, _ := strings.Cut(mime, "/")
	switch {
	case typ == "image" && !strings.HasPrefix(sub, "svg"):
		return "image"
	case typ == "video":
		return "video"
	}
	return ""
}

// handleEvents streams show events to the page: the full state on connect
// and after every change, and a clock event when idle.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	ch, ok := s.subscribe()
	if !ok {
		http.Error(w, "too many event streams", http.StatusServiceUnavailable)
		return
	}
	defer s.unsubscribe(ch)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	write := func(event string, id string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s event: %w", event, err)
		}
		// A deadline per write, not per stream: the stream lives for
		// hours, each write must not. Recorders in tests lack deadlines.
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		var b strings.Builder
		if id != "" {
			fmt.Fprintf(&b, "id: %s\n", id)
		}
		fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", event, data)
		if _, err := w.Write([]byte(b.String())); err != nil {
			return err
		}
		return rc.Flush()
	}
	sendShow := func() error {
		ev := s.snapshot()
		return write("show", ev.Key, ev)
	}

	// EventSource reconnects on its own; a second is quick enough for a
	// player restart and slow enough not to spin.
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := w.Write([]byte("retry: 1000\n\n")); err != nil {
		return
	}
	marks := s.newStreamMarks()
	if err := sendShow(); err != nil {
		s.log.Debug("event stream closed", "error", err)
		return
	}
	if err := s.sendCommandEvents(&marks, write); err != nil {
		s.log.Debug("event stream closed", "error", err)
		return
	}
	ticker := time.NewTicker(clockEvery)
	defer ticker.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			// Run ended: the player is shutting down, and http.Server's
			// Shutdown waits for this request to finish.
			return
		case <-ch:
			err = sendShow()
			if err == nil {
				err = s.sendCommandEvents(&marks, write)
			}
		case <-ticker.C:
			err = write("clock", "", clockEvent{Now: s.now().UnixMilli()})
		}
		if err != nil {
			s.log.Debug("event stream closed", "error", err)
			return
		}
	}
}
