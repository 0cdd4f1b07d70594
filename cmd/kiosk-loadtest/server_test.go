package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kiosk/server"
)

const testAdminToken = "loadtest-admin"

// testServer is a real kiosk server in this process on 127.0.0.1, which
// can be stopped and started again on the same address and data dir.
type testServer struct {
	t      *testing.T
	addr   string
	data   string
	cancel context.CancelFunc
	done   chan error
}

func startTestServer(t *testing.T) *testServer {
	s := &testServer{t: t, data: t.TempDir()}
	s.start("127.0.0.1:0")
	t.Cleanup(s.stop)
	return s
}

func (s *testServer) start(addr string) {
	var ln net.Listener
	var err error
	for range 50 { // the old listener's port can take a moment to free
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", addr, err)
	}
	s.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	ready := make(chan string, 1)
	cfg := server.Config{Listener: ln, DataDir: s.data, AdminToken: testAdminToken, Ready: ready,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	go func() { s.done <- server.Run(ctx, cfg) }()
	select {
	case <-ready:
	case err := <-s.done:
		s.t.Fatalf("server.Run: %v", err)
	case <-time.After(20 * time.Second):
		s.t.Fatal("server not ready after 20s")
	}
}

func (s *testServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			s.t.Errorf("server.Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		s.t.Error("server did not stop within 20s")
	}
}

func (s *testServer) url() string { return "http://" + s.addr }

// call is an admin request; it fails the test on anything but 2xx.
func (s *testServer) call(method, path string, body, out any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url()+path, rd)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Errorf("%s %s: %v", method, path, err)
		return
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		s.t.Errorf("%s %s: %s: %s", method, path, resp.Status, data)
		return
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Errorf("%s %s: %v", method, path, err)
		}
	}
}

// testConfig is a small, quick run against s with the tool's screens
// created by its own -create.
func testConfig(t *testing.T, s *testServer, n int) Config {
	t.Helper()
	cfg := Config{Server: s.url(), TokensFile: filepath.Join(t.TempDir(), "tokens.txt"), AdminToken: testAdminToken,
		Create: n, DialRate: 500, Heartbeat: time.Second, PlaysEvery: time.Second, ItemS: 1, Settle: time.Second,
		Drain: 20 * time.Second, MaxDuration: 2 * time.Minute, ServerPID: os.Getpid(), PushManifests: true}
	cfg.fillDefaults()
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := run(context.Background(), cfg, quiet, io.Discard); err != nil {
		t.Fatalf("-create %d: %v", n, err)
	}
	tokens, err := readTokens(cfg.TokensFile)
	if err != nil || len(tokens) != n {
		t.Fatalf("-create %d wrote %d tokens (%v)", n, len(tokens), err)
	}
	cfg.Create = 0
	return cfg
}

func runReport(t *testing.T, cfg Config) Report {
	t.Helper()
	cfg.JSONPath = "-"
	var out bytes.Buffer
	if err := run(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	return rep
}

// TestPublishesReachEveryScreen runs 50 screens through 3 publishes against
// a real server and checks the report's counts: every screen received and
// acked every publish, fetched manifests and assets, posted plays, sent
// heartbeats, answered commands. No speed is asserted.
func TestPublishesReachEveryScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and 50 screens for ~10 s")
	}
	s := startTestServer(t)
	const n, publishes = 50, 3
	cfg := testConfig(t, s, n)
	cfg.Publishes, cfg.PublishEvery, cfg.AssetShare = publishes, 700*time.Millisecond, 1
	cfg.Settle = 3 * time.Second // the restarted screen is back before the first publish
	cfg.VerifySignatures = true  // every manifest's signature checked as the player does
	var page struct {
		Screens []struct{ ID string } `json:"screens"`
	}
	var cmdIDs []string
	cfg.OnSynced = func() {
		s.call(http.MethodGet, "/api/v1/screens?limit=100", nil, &page)
		screens := page.Screens
		for i, typ := range []string{"reload", "screenshot", "restart"} {
			var c struct{ ID string }
			s.call(http.MethodPost, "/api/v1/screens/"+screens[i].ID+"/commands", map[string]string{"type": typ}, &c)
			cmdIDs = append(cmdIDs, c.ID)
		}
	}
	rep := runReport(t, cfg)

	if len(rep.Publishes) != publishes || rep.Overall == nil || rep.Overall.Publishes != publishes {
		t.Fatalf("report lists %d publishes (%+v); want %d, all written", len(rep.Publishes), rep.Overall, publishes)
	}
	for _, p := range rep.Publishes {
		if p.Error != "" || p.Received.N != n || p.Acked.N != n || p.MissedRecv != 0 || p.MissedAcked != 0 {
			t.Errorf("publish %d: %+v; want all %d screens received and acked", p.Index, p, n)
		}
	}
	if rep.Overall.Received.N != n*publishes || rep.Overall.Acked.N != n*publishes || rep.Overall.ScreensMissed != 0 {
		t.Errorf("overall %+v; want %d received and acked", rep.Overall, n*publishes)
	}
	// The server's own timing of the pushes, read from its /metrics: at
	// least one push (quick writes may be coalesced into fewer).
	if f := rep.FanOut; f == nil || f.Pushes < 1 || f.P50LeMS <= 0 {
		t.Errorf("server fan-out %+v; want pushes with a median bucket", f)
	}
	c := rep.Counters
	for name, atLeast := range map[string]int64{
		"welcomes": n,
		// The first sync and at least one publish's version: a slow
		// server may coalesce quick writes into fewer versions. A server
		// that pushes manifests (the hello accepts them) sends them in
		// the frame instead of a notice and a fetch.
		"manifests_fetched+manifests_pushed": n * 2,
		"signatures_verified":                n * 2,
		"assets_fetched":                     n * 2, // -asset-share 1: every screen, every version
		"applied_sent":                       n * 2,
		"heartbeats_sent":                    n * 2, // one on connect, one after each applied
		"time_probes_sent":                   n,
		"time_answers":                       n,
		"play_batches_posted":                n, // 10 s items over a run of several seconds
		"plays_posted":                       n,
		"version_notices+manifests_pushed":   n,
		"commands_received":                  3,
		"command_results_sent":               3,
	} {
		var got int64
		for _, part := range strings.Split(name, "+") {
			got += c[part]
		}
		if got < atLeast {
			t.Errorf("counter %s = %d, want at least %d", name, got, atLeast)
		}
	}
	if !rep.PushManifests || rep.ManifestsVia == "" {
		t.Errorf("report: push_manifests %v, manifests_via %q; want the hello's accept and how manifests came", rep.PushManifests, rep.ManifestsVia)
	}
	if c["restarts"] != 1 || c["reconnects"] != 1 || c["dial_failures"] != 0 || len(rep.Errors) != 0 {
		t.Errorf("restarts %d, reconnects %d, dial failures %d, errors %v; want the one restart's reconnect and no errors",
			c["restarts"], c["reconnects"], c["dial_failures"], rep.Errors)
	}
	if len(rep.ServerPhases) < 4 || rep.ServerPhases[0].Phase != phaseIdle || rep.ServerPhases[0].Samples == 0 {
		t.Errorf("server phases %+v; want idle, connect, steady and publishes, sampled", rep.ServerPhases)
	}

	// The server recorded the command results the screens sent.
	for i, want := range []string{"done", "failed", "done"} {
		var got struct{ Status, Result, Error string }
		s.call(http.MethodGet, "/api/v1/screens/"+page.Screens[i].ID+"/commands/"+cmdIDs[i], nil, &got)
		if got.Status != want {
			t.Errorf("command %d: server has %+v, want status %s", i, got, want)
		}
	}
}

// TestStormEveryScreenComesBack stops the server under 30 connected
// screens and starts it again on the same data dir; the report must show
// the outage and every screen back and synced, through the player's
// reconnect backoff.
func TestStormEveryScreenComesBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and 30 screens through a restart")
	}
	s := startTestServer(t)
	const n = 30
	cfg := testConfig(t, s, n)
	cfg.Storm = true
	cfg.PushManifests = false // older players: a server must announce, not push, to them
	cfg.OnSynced = func() {
		go func() {
			time.Sleep(500 * time.Millisecond)
			s.stop()
			s.start(s.addr)
		}()
	}
	rep := runReport(t, cfg)
	st := rep.Storm
	if st == nil || !st.Happened {
		t.Fatalf("storm %+v; want one that happened", st)
	}
	if st.AllBackS <= 0 || st.AllSyncedS < st.AllBackS || st.FirstBackS > st.AllBackS || st.ScreensNotBack != 0 || st.ScreensNotSynced != 0 {
		t.Errorf("storm %+v; want every screen back, then synced", st)
	}
	if rep.Counters["manifests_pushed"] != 0 || rep.PushManifests {
		t.Errorf("%d manifests pushed to screens whose hello did not accept them", rep.Counters["manifests_pushed"])
	}
	if rep.Counters["reconnects"] < n || rep.Counters["disconnects"] < n {
		t.Errorf("reconnects %d, disconnects %d; want at least %d each", rep.Counters["reconnects"], rep.Counters["disconnects"], n)
	}
	for kind := range rep.Errors {
		ok := strings.HasPrefix(kind, "dial: ") || strings.HasPrefix(kind, "plays: ") || strings.HasPrefix(kind, "fetch: ") ||
			kind == "write: connection closed" || kind == "write: connection reset"
		if !ok {
			t.Errorf("error %q (%d) during a restart; want only failed dials, writes, uploads and fetches while the server was away", kind, rep.Errors[kind])
		}
	}
}

// TestReceiveOnlyReadsEveryPush: with -receive-only, screens sync once as
// players, then read every publish's push and send nothing else, though
// heartbeats and plays are due every second: the server receives no frame
// but pongs from the moment every screen synced (at most one frame per
// screen already on its way then), and the play uploads stop. The report
// times receipt and leaves the acked columns empty, not missed.
func TestReceiveOnlyReadsEveryPush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server and 30 screens for a few seconds")
	}
	s := startTestServer(t)
	const n, publishes = 30, 3
	cfg := testConfig(t, s, n)
	cfg.Publishes, cfg.PublishEvery, cfg.AssetShare, cfg.ReceiveOnly = publishes, 700*time.Millisecond, 1, true
	cfg.Settle = 2 * time.Second // two heartbeat and play periods of quiet before the first publish
	var framesAtSync, playsAtSync float64
	cfg.OnSynced = func() {
		framesAtSync, playsAtSync = s.metricSum(t, "kiosk_hub_frames_received_total"), s.metricSum(t, "kiosk_play_batches_total")
	}
	rep := runReport(t, cfg)

	if !rep.ReceiveOnly || rep.Overall == nil || rep.Overall.Publishes != publishes {
		t.Fatalf("report: receive_only %v, overall %+v; want %d publishes", rep.ReceiveOnly, rep.Overall, publishes)
	}
	for _, p := range rep.Publishes {
		if p.Error != "" || p.Received.N != n || p.MissedRecv != 0 || p.Acked.N != 0 || p.MissedAcked != 0 {
			t.Errorf("publish %d: %+v; want all %d screens received, none acked and none counted missing", p.Index, p, n)
		}
	}
	if rep.Overall.ScreensMissed != 0 || rep.Overall.Received.N != n*publishes {
		t.Errorf("overall %+v; want %d receipts, no screen missing any", rep.Overall, n*publishes)
	}
	// A chatty fleet would have sent some 3 frames per screen by now
	// (heartbeats every second for over 4 s, and an applied per publish).
	if sent := s.metricSum(t, "kiosk_hub_frames_received_total") - framesAtSync; sent > n {
		t.Errorf("the server received %.0f frames after every screen synced; want at most %d (one in flight per screen)", sent, n)
	}
	if posted := s.metricSum(t, "kiosk_play_batches_total") - playsAtSync; posted > n {
		t.Errorf("%.0f play batches posted after every screen synced; want at most %d (one in flight per screen)", posted, n)
	}
	c := rep.Counters
	if c["manifests_pushed"] < n*publishes || c["assets_fetched"] > 2*n || len(rep.Errors) != 0 {
		t.Errorf("pushes read %d, assets %d, errors %v; want at least %d pushes, only the first sync's downloads, no errors",
			c["manifests_pushed"], c["assets_fetched"], rep.Errors, n*publishes)
	}
}

// metricSum adds up every series of the counter name in the server's
// /metrics.
func (s *testServer) metricSum(t *testing.T, name string) float64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	sum := 0.0
	for line := range strings.SplitSeq(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, name); ok && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "{")) {
			var v float64
			if _, err := fmt.Sscan(rest[strings.LastIndexByte(rest, ' ')+1:], &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}
