package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	good := Config{Server: DefaultServer, TokensFile: "t.txt"}
	good.fillDefaults()
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"other 127/8 address", func(c *Config) { c.Server = "http://127.12.0.9:18080" }, ""},
		{"ipv6 loopback", func(c *Config) { c.Server = "http://[::1]:8080" }, ""},
		{"localhost", func(c *Config) { c.Server = "http://localhost:8080/" }, ""},
		{"private address", func(c *Config) { c.Server = "http://10.0.0.5:8080" }, "only loopback"},
		{"just outside 127/8", func(c *Config) { c.Server = "http://128.0.0.1:8080" }, "only loopback"},
		{"any address", func(c *Config) { c.Server = "http://0.0.0.0:8080" }, "only loopback"},
		{"remote name", func(c *Config) { c.Server = "http://kiosk.example.org" }, "only loopback"},
		{"localhost look-alike", func(c *Config) { c.Server = "http://localhost.example.org:8080" }, "only loopback"},
		{"https", func(c *Config) { c.Server = "https://127.0.0.1:8443" }, "http://"},
		{"ws scheme", func(c *Config) { c.Server = "ws://127.0.0.1:8080" }, "http://"},
		{"no tokens", func(c *Config) { c.TokensFile = "" }, "-tokens is required"},
		{"too many", func(c *Config) { c.Conns = MaxConns + 1 }, "-n"},
		{"run too long", func(c *Config) { c.MaxDuration = 2 * MaxDuration }, "-max-duration"},
		{"hold past the limit", func(c *Config) { c.Hold = c.MaxDuration + time.Second }, "-hold"},
		{"zero rate", func(c *Config) { c.DialRate = -1 }, "-rate"},
		{"create without admin token", func(c *Config) { c.Create = 3 }, "admin token"},
		{"publishes without admin token", func(c *Config) { c.Publishes = 3 }, "admin token"},
		{"publishes and storm", func(c *Config) { c.Publishes, c.Storm, c.AdminToken = 3, true, "x" }, "pick one"},
		{"heartbeat flood", func(c *Config) { c.Heartbeat = time.Millisecond }, "-heartbeat"},
		{"plays flood", func(c *Config) { c.PlaysEvery = time.Millisecond }, "-plays-every"},
		{"receive only without publishes", func(c *Config) { c.ReceiveOnly = true }, "-receive-only"},
		{"receive only with notices", func(c *Config) { c.ReceiveOnly, c.Publishes, c.AdminToken, c.PushManifests = true, 3, "x", false }, "-push-manifests"},
		{"asset share above 1", func(c *Config) { c.AssetShare = 1.5 }, "-asset-share"},
		{"backoff inverted", func(c *Config) { c.BackoffMax = c.BackoffMin / 2 }, "-backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			err := c.validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("validate: got %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("validate: got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLocalhostMustResolveToLoopback: "localhost" pointed elsewhere by
// /etc/hosts is refused.
func TestLocalhostMustResolveToLoopback(t *testing.T) {
	defer func(f func(string) ([]string, error)) { lookupHost = f }(lookupHost)
	for _, tc := range []struct {
		addrs []string
		want  bool
	}{
		{[]string{"127.0.0.1", "::1"}, true},
		{[]string{"127.0.0.1", "192.168.1.9"}, false},
		{nil, false},
	} {
		lookupHost = func(string) ([]string, error) { return tc.addrs, nil }
		if got := isLoopback("localhost"); got != tc.want {
			t.Errorf("localhost resolving to %v: isLoopback = %v, want %v", tc.addrs, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"KIOSK_ADMIN_TOKEN": "s3cret"}
	getenv := func(k string) string { return env[k] }
	cfg, err := parseFlags([]string{"-tokens", "x", "-create", "2"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken != "s3cret" || cfg.Create != 2 || cfg.Server != DefaultServer ||
		cfg.Heartbeat != 30*time.Second || cfg.PlaysEvery != 10*time.Second || cfg.BackoffMax != 30*time.Second {
		t.Fatalf("got %+v; want the env token and the player's periods", cfg)
	}

	tokenFile := filepath.Join(t.TempDir(), "admin")
	os.WriteFile(tokenFile, []byte("from-file\n"), 0o600)
	cfg, err = parseFlags([]string{"-tokens", "x", "-url", "ws://127.0.0.1:18080/api/v1/device/ws",
		"-admin-token-file", tokenFile, "-publishes", "3"}, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "http://127.0.0.1:18080" || cfg.AdminToken != "from-file" {
		t.Fatalf("got server %q token %q; want the -url's host and the file's token", cfg.Server, cfg.AdminToken)
	}
	if _, err := parseFlags([]string{"-tokens", "x", "-server", "http://192.0.2.1:8080"}, getenv, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "only loopback") {
		t.Fatalf("remote -server: got %v, want a loopback refusal", err)
	}
}

func TestReadTokens(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readTokens(write("ok.txt", "# comment\n a \n\nb\n"))
	if err != nil || strings.Join(got, ",") != "a,b" {
		t.Fatalf("got %q, %v; want [a b]", got, err)
	}
	if _, err := readTokens(write("dup.txt", "a\nb\na\n")); err == nil || !strings.Contains(err.Error(), ":3: duplicate") {
		t.Fatalf("duplicate: got %v, want an error naming line 3", err)
	}
	if _, err := readTokens(write("empty.txt", "# nothing\n")); err == nil {
		t.Fatal("empty file: got nil error")
	}
}

func TestReadProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc here")
	}
	s, err := readProc(os.Getpid())
	if err != nil || s.rss < 1<<20 || s.hwm < s.rss {
		t.Fatalf("readProc(self) = %+v, %v; want RSS of at least 1 MiB and a peak at least that", s, err)
	}
}

func TestBackoffBounds(t *testing.T) {
	minD, maxD := 500*time.Millisecond, 30*time.Second
	for attempt, wantCeil := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		low := backoff(minD, maxD, attempt, func() float64 { return 0 })
		high := backoff(minD, maxD, attempt, func() float64 { return 1 })
		if low != minD || high != wantCeil {
			t.Errorf("attempt %d: waits from %s to %s, want %s to %s", attempt, low, high, minD, wantCeil)
		}
	}
	if got := backoff(minD, maxD, 1000, func() float64 { return 1 }); got != maxD {
		t.Errorf("attempt 1000: %s, want the cap %s", got, maxD)
	}
}

func TestDistOf(t *testing.T) {
	var ns []int64
	for i := 100; i >= 1; i-- {
		ns = append(ns, int64(i)*int64(time.Millisecond))
	}
	d := distOf(ns)
	if d.N != 100 || d.P50 != 50 || d.P90 != 90 || d.P99 != 99 || d.Max != 100 {
		t.Fatalf("distOf(1..100 ms) = %+v; want p50 50, p90 90, p99 99, max 100", d)
	}
	if d := distOf(nil); d != (Dist{}) {
		t.Fatalf("distOf(nil) = %+v, want zero", d)
	}
}

func TestPlayLogRecordsFinishedItems(t *testing.T) {
	var l playLog
	l.entries = nil
	start := time.Unix(1_800_000_000, 0)
	l.itemStart = start
	if l.advance("b", start.Add(time.Hour)) != 0 || len(l.pending) != 0 {
		t.Fatal("an empty rotation recorded plays")
	}
	l.entries = testEntries(10, 5)
	l.advance("boot", start.Add(31*time.Second)) // 10 + 5 + 10 + 5 done, the third 10 s item runs
	if len(l.pending) != 4 {
		t.Fatalf("recorded %d plays after 31 s of 10 s/5 s items, want 4", len(l.pending))
	}
	p := l.pending[2].play
	if p.ID != "boot-3" || p.Start != start.Add(15*time.Second).UnixMilli() || p.DurationMS != 10000 || p.Item != "i0" {
		t.Fatalf("third play = %+v; want boot-3, item i0 from +15 s for 10 s", p)
	}
}

// TestPublishStatsCountsLaterVersions: a screen that only ever saw the
// version of publish 2 received publish 1 with it (the server coalesced
// the writes); a screen that saw neither missed both.
func TestPublishStatsCountsLaterVersions(t *testing.T) {
	r := &runner{rec: newRecorder(3, 2), manifests: newManifestCache("run")}
	r.manifests.by["v1"] = &manifestInfo{version: "v1", publish: 0}
	r.manifests.by["v2"] = &manifestInfo{version: "v2", publish: 1}
	base := time.Unix(1_800_000_000, 0)
	r.rec.pubs[0].t0.Store(base.UnixNano())
	r.rec.pubs[1].t0.Store(base.Add(time.Second).UnixNano())
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	r.rec.notice(0, "v1", ms(100))
	r.rec.acked(0, "v1", 0, ms(150))
	r.rec.notice(0, "v2", ms(1100))
	r.rec.acked(0, "v2", 1, ms(1200))
	r.rec.notice(1, "v2", ms(1300))
	r.rec.acked(1, "v2", 1, ms(1400))
	// screen 2 hears nothing
	ps, ov := r.publishStats()
	if len(ps) != 2 {
		t.Fatalf("got %d publishes, want 2", len(ps))
	}
	if p := ps[0]; p.Received.N != 2 || p.Received.Max != 1300 || p.Acked.Max != 1400 || p.ViaLater != 1 || p.MissedRecv != 1 || p.MissedAcked != 1 {
		t.Errorf("publish 1: %+v; want 2 received (the later one at 1300 ms, via publish 2's version), 1 missed", p)
	}
	if p := ps[1]; p.Received.N != 2 || p.Received.P50 != 100 || p.Received.Max != 300 || p.ViaLater != 0 || p.MissedRecv != 1 {
		t.Errorf("publish 2: %+v; want received at 100 and 300 ms, 1 missed", p)
	}
	if ov.ScreensMissed != 1 || ov.Received.N != 4 || ov.Acked.N != 4 {
		t.Errorf("overall %+v; want 4 received and acked, 1 screen missed", ov)
	}
	if r.rec.allAcked(1) || !func() bool { r.rec.acked(2, "v2", 1, ms(2000)); return r.rec.allAcked(1) }() {
		t.Error("allAcked: want false until screen 2 acked publish 2, then true")
	}
}

// TestPublishesTableCells: the report's publishes table keeps one cell per
// column on every row (a failed publish, the pooled row), with and without
// the acked columns of a -receive-only run.
func TestPublishesTableCells(t *testing.T) {
	d := Dist{N: 3, P50: 1, P90: 2, P99: 3, Max: 4}
	for _, ro := range []bool{false, true} {
		rep := Report{Mode: "publishes", ReceiveOnly: ro,
			Publishes: []PublishStats{{Index: 1, WriteMS: 5, Received: d, Acked: d, MissedRecv: 1, MissedAcked: 2, ViaLater: 3}, {Index: 2, Error: "refused"}},
			Overall:   &Overall{Publishes: 1, Failed: 1, Received: d, Acked: d, WriteMS: d, ScreensMissed: 7}}
		var b strings.Builder
		rep.writeText(&b)
		var rows []string
		for line := range strings.Lines(b.String()) {
			if strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "|---") {
				rows = append(rows, strings.TrimSpace(line))
			}
		}
		want := 13
		if ro {
			want = 8
		}
		if len(rows) != 5 || strings.Contains(rows[0], "acked") == ro {
			t.Fatalf("receive only %v: table %q; want a header (acked columns only when acked), a rule and three rows", ro, rows)
		}
		for _, r := range rows {
			if n := strings.Count(r, "|") - 1; n != want {
				t.Errorf("receive only %v: %d cells in %q, want %d", ro, n, r, want)
			}
		}
	}
}
