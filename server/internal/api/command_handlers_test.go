package api

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

// fakeSender stands in for hub.Send: screens in online accept frames.
type fakeSender struct {
	mu     sync.Mutex
	online map[string]bool
	frames map[string][][]byte
	// onSend, if set, runs before each send attempt (set it before the
	// request it is for).
	onSend func(id string)
}

func (f *fakeSender) send(id string, frame []byte) bool {
	if f.onSend != nil {
		f.onSend(id)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.online[id] {
		return false
	}
	f.frames[id] = append(f.frames[id], frame)
	return true
}

type commandEnv struct {
	*env
	cmds   *devices.Commands
	sender *fakeSender
	clock  *time.Time
}

func newCommandEnv(t *testing.T) *commandEnv {
	t.Helper()
	clock := testNow
	now := func() time.Time { return clock }
	st, err := store.Open(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub := publish.New(publish.Options{Store: st, Now: now})
	fs := &fakeSender{online: map[string]bool{}, frames: map[string][][]byte{}}
	cmds := devices.NewCommands(devices.CommandOptions{Store: st, Send: fs.send, Now: now})
	devs, err := devices.New(devices.Options{Store: st, Version: pub.Version, Now: now, OfflineAfter: time.Minute, Commands: cmds})
	if err != nil {
		t.Fatal(err)
	}
	fh := &fakeHub{}
	e := New(Options{
		Store: st, Devices: devs, Publisher: pub, Hub: fh, Commands: cmds,
		AdminToken: adminToken, MaxUploadBytes: 4096, MaxScreenshotBytes: 64 << 10, Now: now,
		Metrics: prometheus.NewRegistry(),
	})
	return &commandEnv{env: &env{t: t, e: e, st: st, pub: pub, devs: devs, hub: fh}, cmds: cmds, sender: fs, clock: &clock}
}

type createdScreenT struct {
	ID    string `json:"id"`
	Token string `json:"token"`
}

func (v *commandEnv) newScreen(name, group string) createdScreenT {
	v.t.Helper()
	body := map[string]any{"name": name}
	if group != "" {
		body["group"] = group
	}
	return must[createdScreenT](v.t, v.admin(http.MethodPost, "/api/v1/screens", body), http.StatusCreated)
}

func TestCreateCommandBadInput(t *testing.T) {
	v := newCommandEnv(t)
	scr := v.newScreen("Lobby", "")
	tests := []struct {
		name     string
		path     string
		body     any
		wantCode int
		wantErr  string
	}{
		{"unknown type", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{"type": "self-destruct"}, 400, "allowed: reload, identify, resync, clear-cache, restart, screenshot"},
		{"missing type", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{}, 400, "type: is required"},
		{"unknown screen", "/api/v1/screens/scr_nope/commands", map[string]any{"type": "reload"}, 404, `screen "scr_nope" not found`},
		{"unknown group", "/api/v1/groups/nowhere/commands", map[string]any{"type": "reload"}, 404, `group "nowhere" not found`},
		{"ttl zero", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{"type": "reload", "ttl_s": 0}, 400, "ttl_s: must be between 1 and 86400"},
		{"ttl too long", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{"type": "reload", "ttl_s": 86401}, 400, "ttl_s: must be between 1 and 86400"},
		{"ttl not a number", "/api/v1/screens/" + scr.ID + "/commands", `{"type":"reload","ttl_s":"soon"}`, 400, "ttl_s"},
		{"unknown field", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{"type": "reload", "when": "now"}, 400, "when: is not a known field"},
		{"args too big", "/api/v1/screens/" + scr.ID + "/commands", map[string]any{"type": "identify", "args": map[string]string{"x": strings.Repeat("a", 5000)}}, 400, "args: is"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := v.admin(http.MethodPost, tc.path, tc.body)
			got := must[map[string]string](t, rec, tc.wantCode)
			if !strings.Contains(got["error"], tc.wantErr) {
				t.Errorf("error: got %q, want it to contain %q", got["error"], tc.wantErr)
			}
		})
	}
	if list := must[[]store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands", nil), 200); len(list) != 0 {
		t.Errorf("commands after only bad requests: got %d, want 0", len(list))
	}
}

func TestCommandLifecycle(t *testing.T) {
	v := newCommandEnv(t)
	scr := v.newScreen("Lobby", "")

	// Offline: queued, with the default TTL.
	cmd := must[store.Command](t, v.admin(http.MethodPost, "/api/v1/screens/"+scr.ID+"/commands", map[string]any{"type": "identify"}), http.StatusAccepted)
	if cmd.ID == "" || cmd.Status != store.CommandQueued || cmd.Type != "identify" {
		t.Fatalf("created: got %+v, want a queued identify with an id", cmd)
	}
	if want := testNow.Add(devices.DefaultCommandTTL); !cmd.ExpiresAt.Equal(want) {
		t.Errorf("expires_at: got %v, want %v", cmd.ExpiresAt, want)
	}

	// Hello sends nothing (the welcome must come first); the welcome
	// being queued delivers it.
	v.sender.online[scr.ID] = true
	if _, err := v.devs.Hello(scr.ID, playlists.Hello{}); err != nil {
		t.Fatal(err)
	}
	if n := len(v.sender.frames[scr.ID]); n != 0 {
		t.Fatalf("frames sent from inside hello: got %d, want 0", n)
	}
	v.devs.Welcomed(scr.ID)
	if n := len(v.sender.frames[scr.ID]); n != 1 {
		t.Fatalf("frames sent on welcome: got %d, want 1", n)
	}
	env, _ := playlists.Decode(v.sender.frames[scr.ID][0])
	var wire playlists.Command
	if env.Type != playlists.MsgCommand || env.DecodeData(&wire) != nil || wire.ID != cmd.ID || wire.ExpiresAt != cmd.ExpiresAt.UnixMilli() {
		t.Fatalf("frame: got %s %s, want command %s", env.Type, env.Data, cmd.ID)
	}
	got := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd.ID, nil), 200)
	if got.Status != store.CommandDelivered || got.DeliveredAt == nil {
		t.Fatalf("after hello: got status %q delivered_at %v, want delivered with a time", got.Status, got.DeliveredAt)
	}

	// The result finishes it; a second, different result changes nothing.
	v.devs.CommandResult(scr.ID, playlists.CommandResult{ID: cmd.ID, OK: true, Result: "shown"})
	v.devs.CommandResult(scr.ID, playlists.CommandResult{ID: cmd.ID, OK: false, Error: "late"})
	got = must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd.ID, nil), 200)
	if got.Status != store.CommandDone || got.Result != "shown" || got.Error != "" || got.FinishedAt == nil {
		t.Fatalf("after results: got %+v, want done/shown from the first result", got)
	}

	// Another hello does not send a finished command again.
	v.devs.Hello(scr.ID, playlists.Hello{})
	v.devs.Welcomed(scr.ID)
	if n := len(v.sender.frames[scr.ID]); n != 1 {
		t.Errorf("frames after a second hello: got %d, want still 1", n)
	}

	// A result from another screen for this id is ignored.
	other := v.newScreen("Gate", "")
	cmd2 := must[store.Command](t, v.admin(http.MethodPost, "/api/v1/screens/"+scr.ID+"/commands", map[string]any{"type": "reload"}), http.StatusAccepted)
	if cmd2.Status != store.CommandDelivered {
		t.Errorf("command to a connected screen: got status %q, want delivered at once", cmd2.Status)
	}
	v.devs.CommandResult(other.ID, playlists.CommandResult{ID: cmd2.ID, OK: true})
	if got := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd2.ID, nil), 200); got.Status != store.CommandDelivered {
		t.Errorf("after a foreign result: got status %q, want delivered", got.Status)
	}
	// Commands are per screen in the API too.
	if rec := v.admin(http.MethodGet, "/api/v1/screens/"+other.ID+"/commands/"+cmd2.ID, nil); rec.Code != 404 {
		t.Errorf("another screen's command: got %d, want 404", rec.Code)
	}

	list := must[[]store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands", nil), 200)
	if len(list) != 2 || list[0].ID != cmd2.ID || list[1].ID != cmd.ID {
		t.Errorf("list: got %d commands, want [%s %s] newest first", len(list), cmd2.ID, cmd.ID)
	}
}

func TestCommandExpiry(t *testing.T) {
	v := newCommandEnv(t)
	scr := v.newScreen("Lobby", "")
	cmd := must[store.Command](t, v.admin(http.MethodPost, "/api/v1/screens/"+scr.ID+"/commands", map[string]any{"type": "reload", "ttl_s": 1}), http.StatusAccepted)
	if err := v.cmds.Expire(); err != nil {
		t.Fatal(err)
	}
	if got := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd.ID, nil), 200); got.Status != store.CommandQueued {
		t.Fatalf("before the TTL: got %q, want queued", got.Status)
	}
	*v.clock = testNow.Add(time.Second)
	if err := v.cmds.Expire(); err != nil {
		t.Fatal(err)
	}
	got := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd.ID, nil), 200)
	if got.Status != store.CommandExpired || !strings.Contains(got.Error, "not delivered") {
		t.Fatalf("after the TTL: got %q %q, want expired, not delivered", got.Status, got.Error)
	}
	// A screen connecting later gets nothing, and a late result is ignored.
	v.sender.online[scr.ID] = true
	v.devs.Hello(scr.ID, playlists.Hello{})
	v.devs.Welcomed(scr.ID)
	v.devs.CommandResult(scr.ID, playlists.CommandResult{ID: cmd.ID, OK: true})
	if n := len(v.sender.frames[scr.ID]); n != 0 {
		t.Errorf("frames to a screen whose command expired: got %d, want 0", n)
	}
	if got := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/commands/"+cmd.ID, nil), 200); got.Status != store.CommandExpired {
		t.Errorf("after a late result: got %q, want expired", got.Status)
	}
}

func TestGroupCommandFansOutToNestedGroups(t *testing.T) {
	v := newCommandEnv(t)
	must[map[string]any](t, v.admin(http.MethodPost, "/api/v1/groups", map[string]any{"id": "street", "name": "Street"}), http.StatusCreated)
	must[map[string]any](t, v.admin(http.MethodPost, "/api/v1/groups", map[string]any{"id": "compound", "name": "Compound", "parent": "street"}), http.StatusCreated)
	must[map[string]any](t, v.admin(http.MethodPost, "/api/v1/groups", map[string]any{"id": "elsewhere", "name": "Elsewhere"}), http.StatusCreated)
	a := v.newScreen("A", "street")
	b := v.newScreen("B", "compound")
	v.newScreen("C", "elsewhere")
	got := must[struct {
		IDs      []string        `json:"ids"`
		Commands []store.Command `json:"commands"`
	}](t, v.admin(http.MethodPost, "/api/v1/groups/street/commands", map[string]any{"type": "reload"}), http.StatusAccepted)
	if len(got.IDs) != 2 || len(got.Commands) != 2 {
		t.Fatalf("group command: got %d ids, want 2 (A and nested B)", len(got.IDs))
	}
	screens := map[string]bool{}
	for _, c := range got.Commands {
		screens[c.ScreenID] = true
	}
	if !screens[a.ID] || !screens[b.ID] {
		t.Errorf("group command screens: got %v, want %s and %s", screens, a.ID, b.ID)
	}
}

// TestGroupCommandPartialFailure deletes the group's other screens while the
// first one's command is being sent, as a concurrent DELETE would: the
// answer is still 202, with the queued command and the failed screens.
// TestGroupCommandFanOut: a group command queues one command per screen
// and answers with them and an empty failed list (the screens deleted
// mid-way are unit-tested in devices); screens deleted after the queueing
// take their commands with them.
func TestGroupCommandFanOut(t *testing.T) {
	v := newCommandEnv(t)
	must[map[string]any](t, v.admin(http.MethodPost, "/api/v1/groups", map[string]any{"id": "street", "name": "Street"}), http.StatusCreated)
	all := map[string]bool{}
	for _, name := range []string{"A", "B", "C"} {
		all[v.newScreen(name, "street").ID] = true
	}
	got := must[struct {
		IDs      []string        `json:"ids"`
		Commands []store.Command `json:"commands"`
		Failed   []struct {
			Screen string `json:"screen"`
			Error  string `json:"error"`
		} `json:"failed"`
	}](t, v.admin(http.MethodPost, "/api/v1/groups/street/commands", map[string]any{"type": "identify"}), http.StatusAccepted)
	if len(got.Commands) != 3 || len(got.IDs) != 3 || len(got.Failed) != 0 {
		t.Fatalf("queued: got ids %v commands %+v failed %+v, want 3 commands and no failure", got.IDs, got.Commands, got.Failed)
	}
	for i, c := range got.Commands {
		if !all[c.ScreenID] || got.IDs[i] != c.ID || c.Type != playlists.CmdIdentify {
			t.Errorf("command %d: %+v (id %s), want an identify for a screen of the group", i, c, got.IDs[i])
		}
		if s := must[store.Command](t, v.admin(http.MethodGet, "/api/v1/screens/"+c.ScreenID+"/commands/"+c.ID, nil), http.StatusOK); s.ID != c.ID {
			t.Errorf("stored command %s: got %+v", c.ID, s)
		}
	}
	raw := v.admin(http.MethodPost, "/api/v1/groups/street/commands", map[string]any{"type": "reload"})
	if raw.Code != http.StatusAccepted || !strings.Contains(raw.Body.String(), `"failed":[]`) {
		t.Errorf("group command without failures: got %d %s, want 202 with \"failed\":[]", raw.Code, raw.Body.String())
	}
}

func jpegBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScreenshotUploadAndServe(t *testing.T) {
	v := newCommandEnv(t)
	scr := v.newScreen("Lobby", "")
	other := v.newScreen("Gate", "")
	img := jpegBytes(t, 64, 36)

	post := func(token, ctype string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/device/screenshot", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		v.e.ServeHTTP(rec, req)
		return rec
	}
	if rec := v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/screenshot", nil); rec.Code != 404 {
		t.Errorf("screenshot before any upload: got %d, want 404", rec.Code)
	}
	bad := []struct {
		name, token, ctype string
		body               []byte
		want               int
	}{
		{"admin token", adminToken, "image/jpeg", img, 403},
		{"no token", "", "image/jpeg", img, 401},
		{"html as jpeg", scr.Token, "image/jpeg", []byte("<html><script>alert(1)</script></html>"), 415},
		{"wrong content type", scr.Token, "text/html", img, 415},
		{"too large", scr.Token, "image/jpeg", append(bytes.Clone(img), make([]byte, 64<<10)...), 413},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if rec := post(tc.token, tc.ctype, tc.body); rec.Code != tc.want {
				t.Errorf("got %d (%s), want %d", rec.Code, rec.Body, tc.want)
			}
		})
	}
	if rec := post(scr.Token, "image/jpeg", img); rec.Code != http.StatusCreated {
		t.Fatalf("upload: got %d %s, want 201", rec.Code, rec.Body)
	}
	rec := v.admin(http.MethodGet, "/api/v1/screens/"+scr.ID+"/screenshot", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), img) {
		t.Fatalf("get: got %d with %d bytes, want 200 with the %d uploaded", rec.Code, rec.Body.Len(), len(img))
	}
	for h, want := range map[string]string{"Content-Type": "image/jpeg", "X-Content-Type-Options": "nosniff"} {
		if got := rec.Header().Get(h); got != want {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
	if rec.Header().Get("Last-Modified") == "" {
		t.Error("Last-Modified missing")
	}
	// The device wrote its own screen's image only.
	if rec := v.admin(http.MethodGet, "/api/v1/screens/"+other.ID+"/screenshot", nil); rec.Code != 404 {
		t.Errorf("other screen's screenshot: got %d, want 404", rec.Code)
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes())); err != nil {
		t.Errorf("served screenshot does not decode: %v", err)
	}
}
