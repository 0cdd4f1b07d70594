package syncer

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

const waitLong = 5 * time.Second

type harness struct {
	c       *Client
	cache   *cache.Cache
	onApply chan string
	cancel  context.CancelFunc
	done    chan error
	once    sync.Once
}

// start runs a client against f with a fresh cache (or the given one) and
// short timings.
func start(t *testing.T, f *fakeServer, ch *cache.Cache, mods ...func(*Config)) *harness {
	t.Helper()
	if ch == nil {
		var err error
		ch, err = cache.Open(filepath.Join(t.TempDir(), "cache.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ch.Close() })
	}
	h := &harness{cache: ch, onApply: make(chan string, 100), done: make(chan error, 1)}
	cfg := Config{
		Server:            f.srv.URL,
		Token:             f.token,
		Cache:             ch,
		PlayerVersion:     "test",
		OnApply:           func(m *playlists.Manifest) { h.onApply <- m.Version },
		HeartbeatInterval: 100 * time.Millisecond,
		PingInterval:      time.Second,
		BackoffMin:        20 * time.Millisecond,
		BackoffMax:        200 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- c.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.once.Do(func() {
		h.cancel()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run returned %v, want nil after cancel", err)
			}
		case <-time.After(waitLong):
			t.Fatal("Run did not return within 5s of cancel")
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLong):
		t.Fatalf("no %s within %v", what, waitLong)
		panic("unreachable")
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not true within %v", what, waitLong)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readAsset(t *testing.T, ch *cache.Cache, sha string) []byte {
	t.Helper()
	r, err := ch.OpenAsset(sha)
	if err != nil {
		t.Fatalf("OpenAsset(%s): %v", sha[:8], err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHelloWelcomeFetchAndAck(t *testing.T) {
	f := newFakeServer(t)
	f.skew = 7 * time.Second
	big := bytes.Repeat([]byte("法律故事"), 200_000) // spans several cache chunks
	m1, data := content([]byte("image one"), big)
	f.publish(m1, data)

	h := start(t, f, nil)
	if hello := recv(t, f.hellos, "hello"); hello.AppliedVersion != "" || hello.PlayerVersion != "test" {
		t.Errorf("hello = %+v, want no applied version and player version \"test\"", hello)
	}
	if got := recv(t, h.onApply, "OnApply"); got != m1.Version {
		t.Errorf("OnApply version = %s, want %s", got, m1.Version)
	}
	if got := recv(t, f.applied, "applied ack"); got != m1.Version {
		t.Errorf("applied ack = %s, want %s", got, m1.Version)
	}
	if got := h.cache.AppliedVersion(); got != m1.Version {
		t.Errorf("cache applied version = %s, want %s", got, m1.Version)
	}
	if got := readAsset(t, h.cache, m1.Assets[0].SHA256); !bytes.Equal(got, data[m1.Assets[0].SHA256]) {
		t.Error("first asset in cache differs from what the server sent")
	}
	if got := readAsset(t, h.cache, m1.Assets[1].SHA256); !bytes.Equal(got, data[m1.Assets[1].SHA256]) {
		t.Error("second asset in cache differs from what the server sent")
	}
	if !h.c.Online() {
		t.Error("Online() = false while connected")
	}
	if id, name := h.c.Screen(); id != "scr-1" || name != "Lobby A" {
		t.Errorf("Screen() = %q, %q; want scr-1, Lobby A", id, name)
	}
	eventually(t, "clock offset measured", func() bool {
		d := h.c.ClockOffset() - f.skew
		return d > -time.Second && d < time.Second
	})
	var hb playlists.Heartbeat
	eventually(t, "heartbeat with the applied version", func() bool {
		hb = recv(t, f.heartbeats, "heartbeat")
		return hb.AppliedVersion == m1.Version
	})
	if hb.PlayerVersion != "test" || hb.CacheBytes <= 0 || hb.DiskFreeBytes <= 0 {
		t.Errorf("heartbeat = %+v, want player version, cache bytes and disk free filled in", hb)
	}
	if d := time.Duration(hb.ClockOffsetMS)*time.Millisecond - f.skew; d < -time.Second || d > time.Second {
		t.Errorf("heartbeat clock offset = %d ms, want about %v", hb.ClockOffsetMS, f.skew)
	}
}

func TestVersionPushFetchesOnlyMissingAndCollectsGarbage(t *testing.T) {
	f := newFakeServer(t)
	shared, old, fresh := []byte("shared image"), []byte("only in v1"), []byte("only in v2")
	m1, d1 := content(shared, old)
	f.publish(m1, d1)
	h := start(t, f, nil)
	recv(t, f.applied, "first ack")

	m2, d2 := content(shared, fresh)
	f.publish(m2, d2)
	if got := recv(t, f.applied, "second ack"); got != m2.Version {
		t.Fatalf("applied ack = %s, want %s", got, m2.Version)
	}
	if n := f.hits(m2.Assets[0].SHA256) + f.hits(m2.Assets[1].SHA256); n != 2 {
		t.Errorf("downloads of v2's assets = %d, want 2 (the shared one only once, by v1)", n)
	}
	oldSHA := m1.Assets[0].SHA256
	if m1.Assets[0].SHA256 == m2.Assets[0].SHA256 || m1.Assets[0].SHA256 == m2.Assets[1].SHA256 {
		oldSHA = m1.Assets[1].SHA256
	}
	eventually(t, "v1-only asset collected", func() bool { return !h.cache.Has(oldSHA) })
	for _, a := range m2.Assets {
		if !h.cache.Has(a.SHA256) {
			t.Errorf("asset %s of the applied version missing after GC", a.SHA256[:8])
		}
	}
}

func TestCorruptUpdateRejectedOldKept(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(f *fakeServer, m *playlists.Manifest, data map[string][]byte)
		wantErr string
	}{
		{
			name: "asset bytes flipped",
			corrupt: func(f *fakeServer, m *playlists.Manifest, data map[string][]byte) {
				b := bytes.Clone(data[m.Assets[0].SHA256])
				b[0] ^= 0xff
				f.blobs[m.Assets[0].SHA256] = b
			},
			wantErr: "verification failed",
		},
		{
			name: "asset truncated",
			corrupt: func(f *fakeServer, m *playlists.Manifest, data map[string][]byte) {
				b := data[m.Assets[0].SHA256]
				f.blobs[m.Assets[0].SHA256] = b[:len(b)-3]
			},
			wantErr: "verification failed",
		},
		{
			name: "manifest content does not match its version",
			corrupt: func(f *fakeServer, m *playlists.Manifest, data map[string][]byte) {
				tampered := *m
				tampered.Items = append([]playlists.Item{{ID: "aaa", Kind: playlists.KindNotice, Title: "<script>alert(1)</script>"}}, m.Items...)
				f.rawOverride, _ = json.Marshal(tampered)
			},
			wantErr: "claims",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			oldBlob := []byte("old content")
			m1, d1 := content(oldBlob)
			f.publish(m1, d1)
			h := start(t, f, nil)
			recv(t, f.applied, "first ack")
			recv(t, h.onApply, "first OnApply")

			m2, d2 := content(oldBlob, []byte("new content, corrupted in transit"))
			f.set(m2, d2)
			f.mu.Lock()
			tt.corrupt(f, m2, d2)
			f.mu.Unlock()
			f.notify(m2.Version)

			eventually(t, "download failure counted", func() bool { return h.c.DownloadFailures() >= 1 })
			if e := h.c.LastError(); !strings.Contains(e, tt.wantErr) {
				t.Errorf("LastError() = %q, want it to mention %q", e, tt.wantErr)
			}
			if got := h.cache.AppliedVersion(); got != m1.Version {
				t.Errorf("applied version = %s after a corrupt update, want the old %s", got, m1.Version)
			}
			if got := readAsset(t, h.cache, m1.Assets[0].SHA256); !bytes.Equal(got, oldBlob) {
				t.Error("old asset damaged by the failed update")
			}
			select {
			case v := <-f.applied:
				t.Fatalf("player acked %s after a corrupt update", v)
			case v := <-h.onApply:
				t.Fatalf("display switched to %s after a corrupt update", v)
			default:
			}

			// The server is fixed: the retry (with backoff) gets the update.
			f.mu.Lock()
			f.rawOverride = nil
			for sha, b := range d2 {
				f.blobs[sha] = b
			}
			f.mu.Unlock()
			if got := recv(t, f.applied, "ack after the fix"); got != m2.Version {
				t.Errorf("applied ack = %s, want %s", got, m2.Version)
			}
			eventually(t, "error state cleared", func() bool { return h.c.DownloadFailures() == 0 && h.c.LastError() == "" })
		})
	}
}

func TestReconnectsAfterServerDropsAndResumes(t *testing.T) {
	f := newFakeServer(t)
	m1, d1 := content([]byte("one"))
	f.publish(m1, d1)
	h := start(t, f, nil)
	recv(t, f.hellos, "first hello")
	recv(t, f.applied, "first ack")
	hits := f.hits(m1.Assets[0].SHA256)

	f.dropAll()
	eventually(t, "offline noticed", func() bool { return !h.c.Online() || f.connects.Load() >= 2 })
	hello := recv(t, f.hellos, "hello after reconnect")
	if hello.AppliedVersion != m1.Version {
		t.Errorf("hello after reconnect carries %q, want the applied %s", hello.AppliedVersion, m1.Version)
	}
	eventually(t, "online again", h.c.Online)
	if n := f.hits(m1.Assets[0].SHA256); n != hits {
		t.Errorf("asset downloaded %d more times after reconnect, want 0", n-hits)
	}

	// A version published while the player is away is fetched on return.
	f.dropAll()
	m2, d2 := content([]byte("one"), []byte("two"))
	f.publish(m2, d2)
	if got := recv(t, f.applied, "ack after resync"); got != m2.Version {
		t.Errorf("applied after resync = %s, want %s", got, m2.Version)
	}
}

func TestUnauthorizedKeepsRetryingAndPlaying(t *testing.T) {
	f := newFakeServer(t)
	m1, d1 := content([]byte("cached"))
	f.publish(m1, d1)
	h := start(t, f, nil)
	recv(t, f.applied, "ack with the right token")
	h.stop(t)

	// Same cache, wrong token: the player must say so and keep its content.
	h2 := start(t, f, h.cache, func(c *Config) { c.Token = "revoked" })
	before := f.attempts.Load()
	eventually(t, "several refused attempts", func() bool { return f.attempts.Load() >= before+3 })
	if h2.c.Online() {
		t.Error("Online() = true with a refused token")
	}
	if e := h2.c.LastError(); !strings.Contains(e, "401") {
		t.Errorf("LastError() = %q, want it to mention the 401", e)
	}
	if got := h2.cache.AppliedVersion(); got != m1.Version {
		t.Errorf("applied version = %q, want the cached %s kept", got, m1.Version)
	}
}

func TestServerErrorFrameBeforeWelcome(t *testing.T) {
	f := newFakeServer(t)
	f.refuseWith = "screen disabled by an administrator"
	h := start(t, f, nil)
	eventually(t, "refusal recorded", func() bool {
		return strings.Contains(h.c.LastError(), "screen disabled")
	})
	if h.c.Online() {
		t.Error("Online() = true after the server refused the hello")
	}
}

func TestNewerVersionDuringDownloadWins(t *testing.T) {
	f := newFakeServer(t)
	m1, d1 := content([]byte("base"))
	f.publish(m1, d1)
	h := start(t, f, nil)
	recv(t, f.applied, "first ack")

	slow := bytes.Repeat([]byte{7}, 100_000)
	m2, d2 := content([]byte("base"), slow)
	gate := make(chan struct{})
	f.mu.Lock()
	f.gates[assetOf(m2, slow)] = gate
	f.mu.Unlock()
	f.publish(m2, d2)
	eventually(t, "slow download started", func() bool { return f.hits(assetOf(m2, slow)) >= 1 })

	m3, d3 := content([]byte("base"), []byte("newest"))
	f.publish(m3, d3)
	if got := recv(t, f.applied, "ack of the newest"); got != m3.Version {
		t.Fatalf("applied ack = %s, want the newest %s", got, m3.Version)
	}
	close(gate)
	time.Sleep(200 * time.Millisecond)
	if got := h.cache.AppliedVersion(); got != m3.Version {
		t.Errorf("applied version = %s, want %s (an older version applied after the newer)", got, m3.Version)
	}
	select {
	case v := <-f.applied:
		t.Errorf("extra ack %s after the newest", v)
	default:
	}
	if h.c.DownloadFailures() != 0 {
		t.Errorf("DownloadFailures() = %d, want 0: abandoning a superseded download is not a failure", h.c.DownloadFailures())
	}
}

func TestStalledDownloadAborted(t *testing.T) {
	f := newFakeServer(t)
	slow := bytes.Repeat([]byte{9}, 50_000)
	m1, d1 := content(slow)
	f.mu.Lock()
	f.gates[assetOf(m1, slow)] = make(chan struct{}) // never opens
	f.mu.Unlock()
	f.publish(m1, d1)
	h := start(t, f, nil, func(c *Config) { c.IdleTimeout = 150 * time.Millisecond })
	eventually(t, "stall reported", func() bool { return strings.Contains(h.c.LastError(), "stalled") })
	if h.cache.AppliedVersion() != "" {
		t.Error("a stalled download was applied")
	}
}

func assetOf(m *playlists.Manifest, b []byte) string {
	for _, a := range m.Assets {
		if a.Size == int64(len(b)) {
			return a.SHA256
		}
	}
	return ""
}

func TestBackoffBounds(t *testing.T) {
	const lo, hi = 500 * time.Millisecond, 30 * time.Second
	tests := []struct {
		attempt  int
		wantCeil time.Duration
	}{
		{0, time.Second},
		{1, 2 * time.Second},
		{3, 8 * time.Second},
		{5, hi},
		{62, hi},
		{1000, hi},
	}
	for _, tt := range tests {
		if got := backoff(lo, hi, tt.attempt, func() float64 { return 0 }); got != lo {
			t.Errorf("backoff(attempt %d, rnd 0) = %v, want the floor %v", tt.attempt, got, lo)
		}
		got := backoff(lo, hi, tt.attempt, func() float64 { return 0.999999 })
		if got > tt.wantCeil || got < tt.wantCeil-tt.wantCeil/1000 {
			t.Errorf("backoff(attempt %d, rnd ~1) = %v, want just under %v", tt.attempt, got, tt.wantCeil)
		}
	}
	if got := backoff(time.Second, time.Second, 3, func() float64 { return 0.5 }); got != time.Second {
		t.Errorf("backoff with min == max = %v, want %v", got, time.Second)
	}
}

func TestClockAnswer(t *testing.T) {
	tests := []struct {
		name        string
		t0, srv, t1 int64
		want        time.Duration
		accepted    bool
	}{
		{"server ahead", 1000, 61_050, 1100, 60 * time.Second, true},
		{"server behind", 10_000, 5_010, 10_020, -5 * time.Second, true},
		{"answer older than probe", 1000, 5000, 900, 0, false},
		{"round trip too slow", 0, 5000, 20_000, 0, false},
		{"no server time", 1000, 0, 1010, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Client{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			c.clockAnswer(playlists.TimeSync{T0: tt.t0, Server: tt.srv}, tt.t1)
			if got := c.ClockOffset(); got != tt.want {
				t.Errorf("offset = %v, want %v", got, tt.want)
			}
			if c.measured.Load() != tt.accepted {
				t.Errorf("accepted = %v, want %v", c.measured.Load(), tt.accepted)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	ch, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no cache", Config{Server: "http://x", Token: "t"}, "no cache"},
		{"no token", Config{Server: "http://x", Cache: ch}, "no device token"},
		{"bad scheme", Config{Server: "ftp://x", Token: "t", Cache: ch}, "http or https"},
		{"no host", Config{Server: "http://", Token: "t", Cache: ch}, "no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	c, err := New(Config{Server: "https://kiosk.example.org/base/", Token: "t", Cache: ch})
	if err != nil {
		t.Fatal(err)
	}
	if c.wsURL != "wss://kiosk.example.org/base/api/v1/device/ws" || c.base != "https://kiosk.example.org/base" {
		t.Errorf("urls = %q, %q; want wss://kiosk.example.org/base/api/v1/device/ws and https://kiosk.example.org/base", c.wsURL, c.base)
	}
}

func TestDroppedDownloadResumesWithRange(t *testing.T) {
	f := newFakeServer(t)
	big := bytes.Repeat([]byte("交通安全 "), 120_000) // about 1.3 MB, several chunks
	m1, d1 := content(big)
	sha := m1.Assets[0].SHA256
	const cut = 3*cache.ChunkSize + 1234
	f.mu.Lock()
	f.cutOnce[sha] = cut
	f.mu.Unlock()
	f.publish(m1, d1)
	h := start(t, f, nil)

	if got := recv(t, f.applied, "ack after the resumed download"); got != m1.Version {
		t.Fatalf("applied = %s, want %s", got, m1.Version)
	}
	if got := readAsset(t, h.cache, sha); !bytes.Equal(got, big) {
		t.Fatal("resumed asset differs from the original")
	}
	f.mu.Lock()
	ranges := append([]string(nil), f.ranges...)
	f.mu.Unlock()
	want := "bytes=" + strconv.Itoa(3*cache.ChunkSize) + "-"
	if len(ranges) != 1 || ranges[0] != want {
		t.Errorf("Range headers = %q, want exactly [%q] (resume after the last full chunk)", ranges, want)
	}
	if n := f.hits(sha); n != 2 {
		t.Errorf("asset requests = %d, want 2 (the dropped one and the resume)", n)
	}
}

// A server that cannot resume (416) must not be asked for the same range
// forever: the player drops what it staged and starts over.
func TestUnresumableDownloadStartsOver(t *testing.T) {
	f := newFakeServer(t)
	big := bytes.Repeat([]byte("消防安全 "), 120_000)
	m1, d1 := content(big)
	sha := m1.Assets[0].SHA256
	f.mu.Lock()
	f.cutOnce[sha] = 3*cache.ChunkSize + 99
	f.noRange[sha] = true
	f.mu.Unlock()
	f.publish(m1, d1)
	h := start(t, f, nil)

	if got := recv(t, f.applied, "ack after starting over"); got != m1.Version {
		t.Fatalf("applied = %s, want %s", got, m1.Version)
	}
	if got := readAsset(t, h.cache, sha); !bytes.Equal(got, big) {
		t.Fatal("downloaded asset differs from the original")
	}
	if n := f.hits(sha); n != 3 {
		t.Errorf("asset requests = %d, want 3 (dropped, refused resume, full)", n)
	}
}

// TestHeartbeatReportsPlayLog checks that technicians can see a play log
// that overflowed: the heartbeat carries what is pending and what was lost.
// The fake server has no plays route, so nothing is uploaded meanwhile.
func TestHeartbeatReportsPlayLog(t *testing.T) {
	f := newFakeServer(t)
	m, data := content([]byte("poster"))
	f.publish(m, data)
	ch, err := cache.Open(filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	ch.SetMaxPlays(5)
	recordPlays(t, ch, 8, "item-1")
	start(t, f, ch)

	hb := recv(t, f.heartbeats, "heartbeat")
	if hb.PlaysPending != 5 || hb.PlaysDropped != 3 {
		t.Errorf("heartbeat plays pending, dropped = %d, %d; want 5, 3", hb.PlaysPending, hb.PlaysDropped)
	}

	// The counts are read afresh for every heartbeat.
	recordPlays(t, ch, 2, "item-2")
	eventually(t, "heartbeat with 5 dropped", func() bool {
		hb = recv(t, f.heartbeats, "heartbeat")
		return hb.PlaysDropped == 5
	})
	if hb.PlaysPending != 5 {
		t.Errorf("heartbeat plays pending = %d; want 5 (the bound)", hb.PlaysPending)
	}
}
