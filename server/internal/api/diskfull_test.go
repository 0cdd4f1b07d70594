package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// The finding: on a full disk, writes answered a generic 500 and /healthz
// still said ok. Now writes answer 507 naming the data directory, /healthz
// is 503 degraded: disk_full, /metrics shows kiosk_store_disk_full 1, and
// all of it clears with the first write that succeeds once space is freed.
func TestDiskFull(t *testing.T) {
	v := newEnv(t)
	v.st.InjectWriteFault(syscall.ENOSPC) // what the disk says when it is full

	wantInsufficientStorage := func(what string, rec *httptest.ResponseRecorder) {
		t.Helper()
		if rec.Code != http.StatusInsufficientStorage {
			t.Fatalf("%s on a full disk: status %d %s, want 507", what, rec.Code, rec.Body)
		}
		var e struct{ Error, Code string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("%s: decode %s: %v", what, rec.Body, err)
		}
		if e.Code != "disk_full" || !strings.Contains(e.Error, "disk full") || !strings.Contains(e.Error, v.st.Dir()) {
			t.Errorf("%s: answer %+v, want code disk_full and a message naming the data directory %s", what, e, v.st.Dir())
		}
	}
	wantInsufficientStorage("upload (blob write)", upload(v, adminToken, "x.png", pngBytes("full")))
	wantInsufficientStorage("create item (bbolt commit)",
		v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "停水通知", "duration_s": 10}))

	rec := v.do("GET", "/healthz", "", nil)
	var hz map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &hz); err != nil {
		t.Fatalf("healthz: decode %s: %v", rec.Body, err)
	}
	if rec.Code != http.StatusServiceUnavailable || hz["status"] != "degraded" || hz["reason"] != "disk_full" || !strings.Contains(hz["error"], v.st.Dir()) {
		t.Errorf("healthz on a full disk: %d %v, want 503 degraded, reason disk_full, naming the data directory", rec.Code, hz)
	}
	if m := v.do("GET", "/metrics", "", nil).Body.String(); !strings.Contains(m, "\nkiosk_store_disk_full 1\n") {
		t.Errorf("metrics on a full disk lack kiosk_store_disk_full 1:\n%s", grepLines(m, "disk_full"))
	}

	// Space is freed: the next write succeeds and everything clears.
	v.st.InjectWriteFault(nil)
	must[idResp](t, v.admin("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "停水通知", "duration_s": 10}), 201)
	if rec := upload(v, adminToken, "x.png", pngBytes("room again")); rec.Code != http.StatusCreated {
		t.Fatalf("upload after space was freed: %d %s", rec.Code, rec.Body)
	}
	if rec := v.do("GET", "/healthz", "", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"ok"`) {
		t.Errorf("healthz after recovery: %d %s, want 200 ok", rec.Code, rec.Body)
	}
	if m := v.do("GET", "/metrics", "", nil).Body.String(); !strings.Contains(m, "\nkiosk_store_disk_full 0\n") {
		t.Errorf("metrics after recovery lack kiosk_store_disk_full 0:\n%s", grepLines(m, "disk_full"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
