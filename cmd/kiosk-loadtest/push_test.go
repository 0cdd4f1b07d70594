package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// pushBatch signs one batch over screens for m, as the server does, and
// returns its frames.
func pushBatch(t testing.TB, key ed25519.PrivateKey, serial uint64, screens []string, m *playlists.Manifest) *playlists.PushFrames {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	leaves := make([]playlists.Digest, len(screens))
	for i, id := range screens {
		leaves[i] = playlists.BatchLeaf(id, m.Version)
	}
	tree := playlists.NewBatchTree(leaves)
	pub := key.Public().(ed25519.PublicKey)
	sig := playlists.BatchSig{KeyID: playlists.KeyID(pub), Serial: serial, IssuedAt: time.Now(), ServerKey: playlists.EncodeKey(pub)}
	sig.Sig = ed25519.Sign(key, playlists.BatchMessage(sig, tree.Root()))
	frames, err := playlists.NewPushFrames(tree, sig, m.Version, body)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func testManifest(title string) *playlists.Manifest {
	m := &playlists.Manifest{Timezone: playlists.DefaultTimezone, Schedules: []playlists.Schedule{}, Playlists: []playlists.Playlist{},
		Items: []playlists.Item{{ID: "i1", Kind: playlists.KindPSA, Title: title, DurationS: 10}}, Assets: []playlists.AssetRef{}}
	m.Seal()
	return m
}

// TestPushedManifestFrame: a "manifest" frame built by the server's
// playlists.NewPushFrames is read without decoding the manifest per
// screen, booked as received when read, applied with its batch serial
// and pinned key (-verify-signatures), and decoded once for all screens;
// replays, other screens' proofs, unknown keys and mismatched bytes are
// refused.
func TestPushedManifestFrame(t *testing.T) {
	cfg := Config{Server: DefaultServer, TokensFile: "t", VerifySignatures: true, PushManifests: true}
	cfg.fillDefaults()
	r, err := newRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.rec = newRecorder(2, 1)
	screens := []string{"scr-a", "scr-b", "scr-c"}
	_, key, _ := ed25519.GenerateKey(nil)
	m1 := testManifest("one")
	frames := pushBatch(t, key, 7, screens, m1)

	a, b := newScreen(r, 0, "ta"), newScreen(r, 1, "tb")
	a.id, b.id = "scr-a", "scr-b"
	frame := frames.AppendFrame(nil, 0)
	p, ok := splitPushFrame(frame)
	if !ok {
		t.Fatalf("splitPushFrame refused the server's frame %.200s", frame)
	}
	// The same as decoding the whole frame.
	env, err := playlists.Decode(frame)
	if err != nil || env.Type != playlists.MsgManifest {
		t.Fatalf("Decode: %v, type %q", err, env.Type)
	}
	var full playlists.ManifestPush
	if err := env.DecodeData(&full); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(m1)
	if p.Version != m1.Version || string(p.Body) != string(body) || !slices.Equal(p.Proof, full.Proof) ||
		p.Sig.Serial != 7 || p.Sig.KeyID != full.Sig.KeyID || string(p.Sig.Sig) != string(full.Sig.Sig) || !p.Sig.IssuedAt.Equal(full.Sig.IssuedAt) {
		t.Fatalf("split frame %+v differs from the decoded %+v", p, full)
	}
	// Another screen's frame of the same batch takes the head decoded
	// above (lastPushHead) and still reads as the whole frame decodes.
	for i := range screens {
		frame := frames.AppendFrame(nil, i)
		p, ok := splitPushFrame(frame)
		env, err := playlists.Decode(frame)
		var full playlists.ManifestPush
		if !ok || err != nil || env.DecodeData(&full) != nil {
			t.Fatalf("frame %d: split %v, decode %v", i, ok, err)
		}
		if lastPushHead.Load() == nil || p.Version != full.Version || !slices.Equal(p.Proof, full.Proof) || string(p.Body) != string(full.Body) ||
			p.Sig.Serial != full.Sig.Serial || string(p.Sig.Sig) != string(full.Sig.Sig) || !p.Sig.IssuedAt.Equal(full.Sig.IssuedAt) {
			t.Fatalf("frame %d: split %+v differs from the decoded %+v", i, p, full)
		}
	}
	// A proof that is not plain hex strings is refused, not misread.
	odd := bytes.Replace(frames.AppendFrame(nil, 0), []byte(`"proof":["`), []byte(`"proof":["\u0072`), 1)
	if bytes.Equal(odd, frames.AppendFrame(nil, 0)) {
		t.Fatal("no proof in the frame")
	}
	if _, ok := splitPushFrame(odd); ok {
		t.Fatal("splitPushFrame took a proof with an escape")
	}
	if _, ok := splitPushFrame([]byte(`{"type":"version","data":{"version":"x"}}`)); ok {
		t.Fatal("splitPushFrame took a version notice")
	}

	read := time.Now().Add(-time.Second)
	a.pushReceived(p, read)
	if a.wanted != m1.Version || a.pushed != p || a.serverVersion != m1.Version {
		t.Fatalf("after the push: wanted %s, pushed %v, server version %s", a.wanted, a.pushed != nil, a.serverVersion)
	}
	if ev := r.rec.logs[0].events; len(ev) != 1 || ev[0].ack || ev[0].t != read.UnixNano() {
		t.Fatalf("received events %+v; want one at the frame's read time", ev)
	}
	ctx := context.Background()
	if err := a.update(ctx, m1.Version, p); err != nil {
		t.Fatalf("update with the pushed manifest: %v", err)
	}
	if a.applied != m1.Version || a.appliedSerial != 7 || a.pinnedKey != playlists.EncodeKey(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("applied %s serial %d pinned %q; want the push's version, serial and key", a.applied, a.appliedSerial, a.pinnedKey)
	}
	select {
	case <-a.appliedSig:
	default:
		t.Fatal("no applied signal for the session to ack")
	}

	// Another screen of the batch: its own proof, the manifest decoded once.
	pb, _ := splitPushFrame(frames.AppendFrame(nil, 1))
	if err := b.update(ctx, m1.Version, pb); err != nil {
		t.Fatalf("second screen: %v", err)
	}
	if len(r.manifests.by) != 1 || b.appliedInfo != a.appliedInfo {
		t.Errorf("%d versions cached, infos shared %v; want one decode for both screens", len(r.manifests.by), b.appliedInfo == a.appliedInfo)
	}
	if got := r.rec.get(cSignatures); got != 2 {
		t.Errorf("signatures verified %d, want 2", got)
	}

	refused := func(name string, frame []byte, mod func(*playlists.ManifestPush), kind string) {
		t.Helper()
		p, ok := splitPushFrame(frame)
		if !ok {
			t.Fatalf("%s: frame not split", name)
		}
		if mod != nil {
			mod(p)
		}
		err := a.update(ctx, p.Version, p)
		var ke *kindError
		if !errors.As(err, &ke) || ke.kind != kind {
			t.Fatalf("%s: update returned %v, want kind %q", name, err, kind)
		}
		if a.applied != m1.Version {
			t.Fatalf("%s: applied %s", name, a.applied)
		}
		if kind != "hash mismatch" && !strings.Contains(a.rejected, err.Error()) {
			t.Errorf("%s: rejected %q, want the reason reported", name, a.rejected)
		}
	}
	m2 := testManifest("two")
	refused("replay", frames.AppendFrame(nil, 0), nil, "serial not above applied")
	refused("other screen's proof", pushBatch(t, key, 8, screens, m2).AppendFrame(nil, 1), nil, "signature refused")
	_, other, _ := ed25519.GenerateKey(nil)
	refused("unknown key", pushBatch(t, other, 9, screens, m2).AppendFrame(nil, 0), nil, "signature refused")
	refused("bytes of another version", pushBatch(t, key, 10, screens, m2).AppendFrame(nil, 0),
		func(p *playlists.ManifestPush) { p.Body = body }, "hash mismatch")

	// A genuine newer push applies and clears the rejection.
	p3, _ := splitPushFrame(pushBatch(t, key, 11, screens, m2).AppendFrame(nil, 0))
	if err := a.update(ctx, m2.Version, p3); err != nil || a.applied != m2.Version || a.rejected != "" {
		t.Fatalf("genuine push: %v, applied %s, rejected %q", err, a.applied, a.rejected)
	}
}

// TestNewerPushDropsStash: a notice or push of another version drops the
// stashed manifest, so fetchLoop never applies bytes of a version it no
// longer wants.
func TestNewerPushDropsStash(t *testing.T) {
	r := &runner{rec: newRecorder(1, 0), manifests: newManifestCache("run")}
	s := newScreen(r, 0, "t")
	p := &playlists.ManifestPush{Version: "v1"}
	s.pushReceived(p, time.Now())
	if s.pushed != p {
		t.Fatal("push not stashed")
	}
	s.want("v2")
	if s.pushed != nil || s.wanted != "v2" {
		t.Fatalf("after a notice of v2: stash %v, wanted %s", s.pushed, s.wanted)
	}
	if r.rec.get(cPushes) != 1 {
		t.Errorf("manifests_pushed %d, want 1", r.rec.get(cPushes))
	}
}

func TestManifestsVia(t *testing.T) {
	for _, tc := range []struct {
		accepted        bool
		pushed, notices int64
		want            string
	}{
		{true, 10, 0, "manifests pushed in the frame"},
		{true, 0, 10, "notice then GET (the hello accepted"},
		{false, 0, 10, "notice then GET"},
		{true, 6, 4, "mixed: 6 manifests pushed"},
		{true, 0, 0, "no new version"},
	} {
		if got := manifestsVia(tc.accepted, tc.pushed, tc.notices); !strings.HasPrefix(got, tc.want) {
			t.Errorf("manifestsVia(%v, %d, %d) = %q, want %q…", tc.accepted, tc.pushed, tc.notices, got, tc.want)
		}
	}
}

// BenchmarkPushFrame is the tool's per-screen cost of one manifest frame
// (the read pump's split and the cache's check), against decoding the
// whole frame and hashing the manifest, which a screen would do without
// the shortcuts. The manifest is 60 items (about 15 KB).
func BenchmarkPushFrame(b *testing.B) {
	m := &playlists.Manifest{Timezone: playlists.DefaultTimezone, Schedules: []playlists.Schedule{}, Playlists: []playlists.Playlist{}, Assets: []playlists.AssetRef{}}
	for i := range 60 {
		m.Items = append(m.Items, playlists.Item{ID: fmt.Sprintf("item-%02d", i),
			Kind: playlists.KindPSA, Title: "防诈骗提醒：陌生来电要求转账一律挂断 " + strings.Repeat("·", i%5), DurationS: 10})
	}
	m.Seal()
	_, key, _ := ed25519.GenerateKey(nil)
	screens := make([]string, 10000)
	for i := range screens {
		screens[i] = fmt.Sprintf("scr-%05d", i)
	}
	frame := pushBatch(b, key, 1, screens, m).AppendFrame(nil, 4321)
	b.Logf("frame of %d bytes", len(frame))
	b.Run("split+cache", func(b *testing.B) {
		c := newManifestCache("run")
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			p, ok := splitPushFrame(frame)
			if !ok {
				b.Fatal("not split")
			}
			if _, err := c.open(p.Body, p.Version); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode+hash", func(b *testing.B) {
		b.SetBytes(int64(len(frame)))
		for b.Loop() {
			env, err := playlists.Decode(frame)
			if err != nil {
				b.Fatal(err)
			}
			var p playlists.ManifestPush
			if err := env.DecodeData(&p); err != nil {
				b.Fatal(err)
			}
			if _, err := playlists.VerifyManifest(p.Body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestScreenTakesPushesOffTheSocket runs one simulated screen against a
// fake server that pushes manifest frames larger than the basic frame
// limit: the hello accepts pushes, both versions are applied and acked
// without a GET of the manifest, and each is booked as received.
func TestScreenTakesPushesOffTheSocket(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	screens := []string{"scr-a", "scr-b", "scr-c"}
	big := func(title string) *playlists.Manifest {
		m := testManifest(title)
		for i := range 200 { // ~40 KB, above playlists.MaxMessageBytes
			m.Items = append(m.Items, playlists.Item{ID: fmt.Sprintf("i%03d", i+2), Kind: playlists.KindPSA, Title: title + strings.Repeat(" 提醒", 20), DurationS: 10})
		}
		m.Seal()
		return m
	}
	m1, m2 := big("one"), big("two")
	f1, f2 := pushBatch(t, key, 5, screens, m1).AppendFrame(nil, 1), pushBatch(t, key, 6, screens, m2).AppendFrame(nil, 1)
	if len(f1) <= playlists.MaxMessageBytes {
		t.Fatalf("test setup: a frame of %d bytes does not need the raised read limit", len(f1))
	}
	var gets atomic.Int32
	acks := make(chan string, 4)
	hello := make(chan playlists.Hello, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/device/manifest", func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		http.Error(w, `{"error":"no"}`, http.StatusNotFound)
	})
	mux.HandleFunc("GET /api/v1/device/ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		var env playlists.Envelope
		var h playlists.Hello
		if ws.ReadJSON(&env) != nil || env.DecodeData(&h) != nil {
			return
		}
		hello <- h
		send := func(frame []byte) { ws.WriteMessage(websocket.TextMessage, frame) }
		welcome, _ := playlists.Encode(playlists.MsgWelcome, playlists.Welcome{ScreenID: "scr-b"})
		send(welcome)
		send(f1)
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return
			}
			e, _ := playlists.Decode(msg)
			if e.Type != playlists.MsgApplied {
				continue
			}
			var a playlists.Applied
			e.DecodeData(&a)
			acks <- a.Version
			if a.Version == m1.Version {
				send(f2)
			}
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cfg := Config{Server: srv.URL, TokensFile: "t", PushManifests: true, VerifySignatures: true, AssetShare: 0}
	cfg.fillDefaults()
	r, err := newRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.rec = newRecorder(1, 1)
	s := newScreen(r, 0, "tok")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx, func() {}) }()
	defer func() { cancel(); <-done }()

	select {
	case h := <-hello:
		if !slices.Contains(h.Accept, playlists.AcceptManifest) {
			t.Fatalf("hello accepts %v, want %q", h.Accept, playlists.AcceptManifest)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no hello")
	}
	for _, want := range []string{m1.Version, m2.Version} {
		select {
		case v := <-acks:
			if v != want {
				t.Fatalf("acked %s, want %s", v, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no ack of %s; errors %v", want, r.rec.errorCounts())
		}
	}
	if n := gets.Load(); n != 0 {
		t.Errorf("%d manifest GETs, want none", n)
	}
	if r.rec.get(cPushes) != 2 || r.rec.get(cSignatures) != 2 || r.rec.get(cManifests) != 0 {
		t.Errorf("pushed %d, signatures %d, fetched %d; want 2, 2, 0", r.rec.get(cPushes), r.rec.get(cSignatures), r.rec.get(cManifests))
	}
	l := &r.rec.logs[0]
	l.mu.Lock()
	var received int
	for _, e := range l.events {
		if !e.ack {
			received++
		}
	}
	l.mu.Unlock()
	if received != 2 {
		t.Errorf("%d versions booked as received, want 2", received)
	}
}

// The report's server CPU per publish is the publishes phase's CPU above
// the steady background, over the publishes; a phase with a restart in it
// gives none.
func TestReportCPUPerPublish(t *testing.T) {
	cfg := Config{Server: DefaultServer, TokensFile: "t"}
	cfg.fillDefaults()
	r, err := newRunner(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.rec = newRecorder(100, 10)
	phases := []PhaseStats{
		{Phase: phaseIdle, Seconds: 2, Samples: 8, RSSMedMB: 40},
		{Phase: phaseSteady, Seconds: 10, Samples: 40, RSSMedMB: 42, CPUPercent: 40},
		{Phase: phasePublishes, Seconds: 20, Samples: 80, CPUPercent: 90},
	}
	rep := r.report(time.Now(), phases, 0, 50)
	if rep.CPUPerPublishMS != 1000 { // 50 % of a core for 20 s over 10 publishes
		t.Errorf("CPU per publish: got %v ms, want 1000", rep.CPUPerPublishMS)
	}
	var out strings.Builder
	rep.writeText(&out)
	if !strings.Contains(out.String(), "Server CPU per publish beyond the steady background") {
		t.Errorf("the text report does not give the CPU per publish:\n%s", out.String())
	}
	phases[2].Restarts = 1
	if rep := r.report(time.Now(), phases, 0, 50); rep.CPUPerPublishMS != 0 {
		t.Errorf("CPU per publish across a restart: got %v, want none", rep.CPUPerPublishMS)
	}
}
