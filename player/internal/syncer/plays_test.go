package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

// playsServer mimics the server's play endpoint: batches are idempotent by
// id and plays are deduplicated by id, as the contract promises.
type playsServer struct {
	t     *testing.T
	srv   *httptest.Server
	token string

	mu         sync.Mutex
	batches    []string // batch ids received, in order, repeats included
	seenBatch  map[string]bool
	stored     map[string]playlists.Play
	dropAnswer int // process the batch, then cut the connection without answering, this many times
	failWith   int // answer this status (without storing) while failCount > 0
	failCount  int
	retryAfter string      // Retry-After sent with those failures
	times      []time.Time // arrival of each batch
	refuseItem string      // answer 400 to a batch holding a play of this item
}

func newPlaysServer(t *testing.T) *playsServer {
	ps := &playsServer{t: t, token: "tok", seenBatch: map[string]bool{}, stored: map[string]playlists.Play{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+pathPlays, ps.handle)
	ps.srv = httptest.NewServer(mux)
	t.Cleanup(ps.srv.Close)
	return ps
}

func (ps *playsServer) handle(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+ps.token {
		http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		return
	}
	var b playlists.PlayBatch
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		http.Error(w, `{"error":"bad json"}`, http.StatusBadRequest)
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.batches = append(ps.batches, b.BatchID)
	ps.times = append(ps.times, time.Now())
	if ps.failCount > 0 {
		ps.failCount--
		if ps.retryAfter != "" {
			w.Header().Set("Retry-After", ps.retryAfter)
		}
		http.Error(w, `{"error":"try later"}`, ps.failWith)
		return
	}
	for _, p := range b.Plays {
		if ps.refuseItem != "" && p.Item == ps.refuseItem {
			http.Error(w, `{"error":"plays[0].item: refused"}`, http.StatusBadRequest)
			return
		}
	}
	accepted, dup := 0, ps.seenBatch[b.BatchID]
	if !dup {
		ps.seenBatch[b.BatchID] = true
		for _, p := range b.Plays {
			if _, ok := ps.stored[p.ID]; !ok {
				ps.stored[p.ID] = p
				accepted++
			}
		}
	}
	if ps.dropAnswer > 0 {
		ps.dropAnswer--
		// Stored, but the answer is lost on the way back.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"batch_id": b.BatchID, "accepted": accepted, "duplicate": dup})
}

func (ps *playsServer) snapshot() (batches []string, stored int) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]string(nil), ps.batches...), len(ps.stored)
}

func newPlaysClient(t *testing.T, ps *playsServer, mods ...func(*Config)) (*Client, *cache.Cache) {
	t.Helper()
	ch, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	cfg := Config{
		Server: ps.srv.URL, Token: ps.token, Cache: ch, PlayerVersion: "test",
		BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, ch
}

func recordPlays(t *testing.T, ch *cache.Cache, n int, item string) {
	t.Helper()
	for i := range n {
		if _, err := ch.RecordPlay(playlists.Play{Item: item, Start: int64(1_700_000_000_000 + i), DurationMS: 1000}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFlushPlaysRetryAfterLostAnswer(t *testing.T) {
	ps := newPlaysServer(t)
	ps.dropAnswer = 1
	c, ch := newPlaysClient(t, ps)
	recordPlays(t, ch, 3, "a")

	if err := c.FlushPlays(context.Background()); err == nil {
		t.Fatal("FlushPlays with the answer lost: got nil error, want one")
	}
	if st := ch.PlayStats(); st.Pending != 3 {
		t.Fatalf("after a lost answer %d plays pending, want all 3 kept", st.Pending)
	}
	if err := c.FlushPlays(context.Background()); err != nil {
		t.Fatalf("FlushPlays retry: %v", err)
	}
	batches, stored := ps.snapshot()
	if len(batches) != 2 || batches[0] != batches[1] {
		t.Fatalf("batch ids sent = %q; want the same id twice (retry of the lost answer)", batches)
	}
	if stored != 3 {
		t.Fatalf("server stored %d plays, want 3 (no duplicates, no losses)", stored)
	}
	if st := ch.PlayStats(); st.Pending != 0 {
		t.Fatalf("%d plays still pending after the acknowledged retry, want 0", st.Pending)
	}
	if got := c.PlaysUploaded(); got != 3 {
		t.Fatalf("PlaysUploaded() = %d, want 3", got)
	}
}

func TestFlushPlaysInBatches(t *testing.T) {
	ps := newPlaysServer(t)
	c, ch := newPlaysClient(t, ps)
	n := 2*playlists.MaxPlaysPerBatch + 34
	recordPlays(t, ch, n, "a")
	if err := c.FlushPlays(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches, stored := ps.snapshot()
	if len(batches) != 3 || stored != n {
		t.Fatalf("sent %d batches, server stored %d plays; want 3 batches, %d plays", len(batches), stored, n)
	}
	if len(map[string]bool{batches[0]: true, batches[1]: true, batches[2]: true}) != 3 {
		t.Fatalf("batch ids %q are not distinct", batches)
	}
}

func TestFlushPlaysFailures(t *testing.T) {
	t.Run("server error keeps plays", func(t *testing.T) {
		ps := newPlaysServer(t)
		ps.failWith, ps.failCount = http.StatusServiceUnavailable, 1
		c, ch := newPlaysClient(t, ps)
		recordPlays(t, ch, 2, "a")
		if err := c.FlushPlays(context.Background()); err == nil || !strings.Contains(err.Error(), "503") {
			t.Fatalf("FlushPlays against a 503: got %v, want an error naming 503", err)
		}
		if st := ch.PlayStats(); st.Pending != 2 {
			t.Fatalf("pending after a 503 = %d, want 2", st.Pending)
		}
	})
	t.Run("throttled keeps plays and says how long to wait", func(t *testing.T) {
		ps := newPlaysServer(t)
		ps.failWith, ps.failCount, ps.retryAfter = http.StatusTooManyRequests, 1, "7"
		c, ch := newPlaysClient(t, ps)
		recordPlays(t, ch, 2, "a")
		err := c.FlushPlays(context.Background())
		var rl *retryLaterError
		if !errors.As(err, &rl) || rl.wait != 7*time.Second || !strings.Contains(err.Error(), "429") {
			t.Fatalf("FlushPlays against a 429 with Retry-After 7: got %v, want a retryLaterError of 7s naming 429", err)
		}
		if st := ch.PlayStats(); st.Pending != 2 || c.plays.refused.Load() != 0 {
			t.Fatalf("after a 429: pending %d, refused %d; want 2 pending, 0 refused", st.Pending, c.plays.refused.Load())
		}
		if err := c.FlushPlays(context.Background()); err != nil {
			t.Fatalf("FlushPlays once the throttle lifts: %v", err)
		}
		if _, stored := ps.snapshot(); stored != 2 {
			t.Fatalf("server stored %d plays, want 2", stored)
		}
	})
	t.Run("unauthorized keeps plays", func(t *testing.T) {
		ps := newPlaysServer(t)
		c, ch := newPlaysClient(t, ps, func(cfg *Config) { cfg.Token = "wrong" })
		recordPlays(t, ch, 2, "a")
		if err := c.FlushPlays(context.Background()); err != ErrUnauthorized {
			t.Fatalf("FlushPlays with a bad token: got %v, want ErrUnauthorized", err)
		}
		if st := ch.PlayStats(); st.Pending != 2 {
			t.Fatalf("pending after a 401 = %d, want 2", st.Pending)
		}
	})
	t.Run("refused batch is dropped, later plays go through", func(t *testing.T) {
		ps := newPlaysServer(t)
		ps.refuseItem = "poison"
		c, ch := newPlaysClient(t, ps)
		recordPlays(t, ch, 1, "poison")
		if err := c.FlushPlays(context.Background()); err != nil {
			t.Fatalf("FlushPlays of a refused batch: %v; want nil (dropped)", err)
		}
		recordPlays(t, ch, 2, "good")
		if err := c.FlushPlays(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, stored := ps.snapshot(); stored != 2 {
			t.Fatalf("server stored %d plays, want the 2 good ones", stored)
		}
		if st := ch.PlayStats(); st.Pending != 0 {
			t.Fatalf("pending = %d, want 0", st.Pending)
		}
	})
	t.Run("nothing pending sends nothing", func(t *testing.T) {
		ps := newPlaysServer(t)
		c, _ := newPlaysClient(t, ps)
		if err := c.FlushPlays(context.Background()); err != nil {
			t.Fatal(err)
		}
		if batches, _ := ps.snapshot(); len(batches) != 0 {
			t.Fatalf("sent %d batches with nothing pending, want 0", len(batches))
		}
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"5", 5 * time.Second},
		{" 12 ", 12 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"99999999999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), maxRetryAfter},
	} {
		if got := retryAfter(tc.header, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestSanitizePlays(t *testing.T) {
	in := []cache.PendingPlay{
		{Seq: 1, Play: playlists.Play{ID: "1", Item: "a", Start: 5, DurationMS: -3}},
		{Seq: 2, Play: playlists.Play{ID: "2", Item: "", Start: 5}},
		{Seq: 3, Play: playlists.Play{ID: "3", Item: "a", Start: 0}},
		{Seq: 4, Play: playlists.Play{ID: "4", Item: "a", Start: 5, DurationMS: 48 * 3600 * 1000}},
	}
	got := sanitizePlays(in)
	if len(got) != 2 || got[0].DurationMS != 0 || got[1].DurationMS != maxPlayDuration.Milliseconds() {
		t.Fatalf("sanitizePlays = %+v; want plays 1 (duration 0) and 4 (duration capped at 24 h)", got)
	}
}

// TestPlayLoopUploadsWithoutWebsocket: plays go up whenever the HTTP
// endpoint answers, even while the websocket cannot connect, and after a
// failure the loop retries on its own.
func TestPlayLoopUploadsWithoutWebsocket(t *testing.T) {
	ps := newPlaysServer(t)
	ps.failWith, ps.failCount = http.StatusBadGateway, 2
	c, ch := newPlaysClient(t, ps, func(cfg *Config) { cfg.PlayUploadInterval = 50 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for i := range 5 {
		recordPlays(t, ch, 1, fmt.Sprintf("it%d", i))
		time.Sleep(30 * time.Millisecond)
	}
	eventually(t, "all 5 plays uploaded", func() bool {
		_, stored := ps.snapshot()
		return stored == 5 && ch.PlayStats().Pending == 0
	})
}

// TestPlayLoopHonoursRetryAfter: a throttled upload is retried, not
// dropped, and not before the server's Retry-After even though the
// backoff alone would try again within 100 ms.
func TestPlayLoopHonoursRetryAfter(t *testing.T) {
	ps := newPlaysServer(t)
	ps.failWith, ps.failCount, ps.retryAfter = http.StatusTooManyRequests, 1, "1"
	c, ch := newPlaysClient(t, ps, func(cfg *Config) { cfg.PlayUploadInterval = 50 * time.Millisecond })
	recordPlays(t, ch, 3, "a")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	eventually(t, "the throttled plays uploaded", func() bool {
		_, stored := ps.snapshot()
		return stored == 3 && ch.PlayStats().Pending == 0
	})
	ps.mu.Lock()
	times := append([]time.Time(nil), ps.times...)
	ps.mu.Unlock()
	if len(times) < 2 {
		t.Fatalf("server saw %d uploads, want the throttled one and its retry", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < time.Second-50*time.Millisecond {
		t.Fatalf("retry came %v after the 429, want at least the 1s Retry-After", gap)
	}
}
