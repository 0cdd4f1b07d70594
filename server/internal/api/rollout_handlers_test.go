package api

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/rollouts"
	"kiosk/server/internal/store"
)

// withRollouts gives the API a roll-out manager with release key pub
// (nil: none configured); sent records the offers queued to screens.
func withRollouts(pub ed25519.PublicKey, sent map[string]int) func(*Options) {
	return func(o *Options) {
		m, err := rollouts.New(rollouts.Options{
			Store:      o.Store,
			ReleaseKey: pub,
			Status:     o.Devices.Status,
			Send:       func(id string, _ []byte) bool { sent[id]++; return true },
			Now:        o.Now,
		})
		if err != nil {
			panic(err)
		}
		o.Rollouts = m
	}
}

func signedBuild(priv ed25519.PrivateKey, version, platform string, bin []byte) playlists.PlayerBuild {
	sum := sha256.Sum256(bin)
	return playlists.SignBuild(priv, playlists.PlayerBuild{Version: version, Platform: platform, Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:])})
}

// buildUpload is a multipart body with manifest m and the binary bin.
func buildUpload(t *testing.T, m *playlists.PlayerBuild, bin []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if bin != nil {
		w, _ := mw.CreateFormFile("file", "kiosk-player")
		w.Write(bin)
	}
	if m != nil {
		raw, _ := json.Marshal(m)
		mw.WriteField("manifest", string(raw))
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func (v *env) uploadBuild(setup func(*http.Request), m *playlists.PlayerBuild, bin []byte) *httptest.ResponseRecorder {
	v.t.Helper()
	ct, body := buildUpload(v.t, m, bin)
	req := httptest.NewRequest("POST", "/api/v1/player-builds", body)
	req.Header.Set("Content-Type", ct)
	setup(req)
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

func asAdmin(r *http.Request) { r.Header.Set("Authorization", "Bearer "+adminToken) }

func TestPlayerBuildUpload(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	v := newEnv(t, withRollouts(pub, map[string]int{}))
	bin := []byte("\x7fELF player 2.0.0")
	good := signedBuild(priv, "2.0.0", "linux/amd64", bin)

	b := must[store.PlayerBuild](t, v.uploadBuild(asAdmin, &good, bin), http.StatusCreated)
	if b.SHA256 != good.SHA256 || b.UploadedBy != "break-glass" {
		t.Errorf("stored build %+v", b)
	}
	if rec := v.uploadBuild(asAdmin, &good, bin); rec.Code != http.StatusOK {
		t.Errorf("the same build again: got %d %s, want 200", rec.Code, rec.Body)
	}

	tampered := append([]byte{}, bin...)
	tampered[6] ^= 1
	other := signedBuild(otherPriv, "2.0.1", "linux/amd64", bin)
	bad := good
	bad.Platform = "linux/arm64" // the signature covers the platform
	for _, tc := range []struct {
		name string
		m    *playlists.PlayerBuild
		bin  []byte
		code string
	}{
		{"tampered binary", &good, tampered, "build_refused"},
		{"signed by another key", &other, bin, "build_refused"},
		{"platform changed", &bad, bin, "build_refused"},
		{"no manifest", nil, bin, "invalid_field"},
		{"no file", &good, nil, "invalid_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := v.uploadBuild(asAdmin, tc.m, tc.bin)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("got %d %s, want 400 %s", rec.Code, rec.Body, tc.code)
			}
		})
	}
	if bs := must[[]store.PlayerBuild](t, v.admin("GET", "/api/v1/player-builds", nil), 200); len(bs) != 1 {
		t.Errorf("%d builds listed, want the one good build", len(bs))
	}

	// Only admins may upload, list and roll out.
	for _, role := range []store.Role{store.RoleReviewer, store.RoleEditor, store.RoleTechnician, store.RoleViewer} {
		v.addUser("u-"+string(role), role)
		p := v.signIn("u-" + string(role))
		rec := v.uploadBuild(func(r *http.Request) {
			r.AddCookie(p.cookie)
			r.Header.Set(csrfHeader, p.csrf)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}, &good, bin)
		if rec.Code != http.StatusForbidden {
			t.Errorf("upload as %s: got %d, want 403", role, rec.Code)
		}
		for _, r := range []struct{ method, path string }{{"GET", "/api/v1/player-builds"}, {"POST", "/api/v1/rollouts"}, {"GET", "/api/v1/rollouts"}} {
			if rec := p.do(r.method, r.path, map[string]any{"version": "2.0.0"}); rec.Code != http.StatusForbidden {
				t.Errorf("%s %s as %s: got %d, want 403", r.method, r.path, role, rec.Code)
			}
		}
		if rec := p.do("GET", "/api/v1/player-versions", nil); rec.Code != http.StatusOK {
			t.Errorf("player versions as %s: got %d, want 200", role, rec.Code)
		}
	}
	if rec := v.uploadBuild(func(*http.Request) {}, &good, bin); rec.Code != http.StatusUnauthorized {
		t.Errorf("anonymous upload: got %d, want 401", rec.Code)
	}
}

func TestPlayerBuildUploadWithoutReleaseKey(t *testing.T) {
	_, priv, _ := ed25519.GenerateKey(nil)
	v := newEnv(t, withRollouts(nil, map[string]int{}))
	bin := []byte("binary")
	m := signedBuild(priv, "2.0.0", "linux/amd64", bin)
	rec := v.uploadBuild(asAdmin, &m, bin)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "-release-key") {
		t.Errorf("got %d %s, want 503 naming -release-key", rec.Code, rec.Body)
	}
}

func TestRolloutOverAPI(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sent := map[string]int{}
	v := newEnv(t, withRollouts(pub, sent))
	s := v.seed()
	must[playlists.Group](t, v.admin("POST", "/api/v1/groups", map[string]any{"id": "lab", "name": "试点"}), 201)
	if rec := v.admin("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "A", "group": "lab"}); rec.Code != 200 {
		t.Fatalf("move A into lab: %d %s", rec.Code, rec.Body)
	}
	bin := []byte("player 2.0.0 binary")
	b := signedBuild(priv, "2.0.0", "linux/amd64", bin)
	must[store.PlayerBuild](t, v.uploadBuild(asAdmin, &b, bin), http.StatusCreated)

	if rec := v.admin("POST", "/api/v1/rollouts", map[string]any{"build": b.SHA256, "canary_groups": []string{"nowhere"}}); rec.Code != http.StatusNotFound {
		t.Errorf("unknown canary group: got %d, want 404", rec.Code)
	}
	r := must[store.Rollout](t, v.admin("POST", "/api/v1/rollouts", map[string]any{"build": b.SHA256, "canary_groups": []string{"lab"}, "percent": 50}), http.StatusCreated)
	if sent[s.screenA] != 1 || sent[s.screenB] != 0 {
		t.Errorf("offers sent %v: want screen A (lab) only", sent)
	}

	// The device may fetch the build it was offered, and nothing else.
	get := func(token string) *httptest.ResponseRecorder {
		return v.do("GET", "/api/v1/device/player-build/"+b.SHA256, token, nil)
	}
	if rec := get(s.tokenA); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), bin) {
		t.Errorf("offered screen: got %d (%d bytes), want 200 with the binary", rec.Code, rec.Body.Len())
	}
	if rec := get(s.tokenB); rec.Code != http.StatusNotFound {
		t.Errorf("screen not offered: got %d, want 404", rec.Code)
	}
	if rec := get(adminToken); rec.Code != http.StatusForbidden {
		t.Errorf("admin token on the device route: got %d, want 403", rec.Code)
	}

	// Screen A reports a rollback: the roll-out shows it failed, and why.
	// (The registry passes heartbeats on; here the API's registry has no
	// roll-outs wired, so the report goes straight to the manager.)
	v.h.opts.Rollouts.Report(s.screenA, "1.0.0", &playlists.UpdateStatus{
		Build: b.SHA256, Version: "2.0.0", State: playlists.UpdateRolledBack, Error: "new version did not start (4 starts)"})
	view := must[rollouts.View](t, v.admin("GET", "/api/v1/rollouts/"+r.ID, nil), 200)
	if view.Counts[rollouts.ScreenFailed] != 1 || view.Screens[0].Screen != s.screenA ||
		view.Screens[0].Error != "rolled back from 2.0.0: new version did not start (4 starts)" {
		t.Errorf("roll-out view %+v: want screen A failed first, with the reason", view)
	}

	for _, step := range []struct {
		action, state string
		coverage      int
		paused        bool
	}{
		{"pause", store.RolloutCanary, 0, true},
		{"resume", store.RolloutCanary, 0, false},
		{"advance", store.RolloutRest, 50, false},
		{"advance", store.RolloutRest, 100, false},
		{"advance", store.RolloutDone, 100, false},
	} {
		got := must[store.Rollout](t, v.admin("POST", "/api/v1/rollouts/"+r.ID+"/"+step.action, nil), 200)
		if got.State != step.state || got.Coverage != step.coverage || got.Paused != step.paused {
			t.Errorf("after %s: %s/%d paused %v, want %s/%d paused %v", step.action, got.State, got.Coverage, got.Paused, step.state, step.coverage, step.paused)
		}
	}
	if sent[s.screenB] != 1 {
		t.Errorf("screen B got %d offers once all screens are included, want 1", sent[s.screenB])
	}
	if rec := v.admin("POST", "/api/v1/rollouts/"+r.ID+"/advance", nil); rec.Code != http.StatusConflict {
		t.Errorf("advance past done: got %d, want 409", rec.Code)
	}
	if rec := v.admin("POST", "/api/v1/rollouts/ro_nope/pause", nil); rec.Code != http.StatusNotFound {
		t.Errorf("unknown roll-out: got %d, want 404", rec.Code)
	}
	entries, _ := v.st.ListAudit(store.AuditFilter{Action: "POST /api/v1/rollouts/:id/advance"})
	if len(entries) != 3 {
		t.Errorf("%d audit entries for advance, want 3", len(entries))
	}
}
