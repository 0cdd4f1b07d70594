package api

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"kiosk/server/internal/store"
)

// upload sends data as p would from the media page: multipart, with the
// session cookie and the CSRF header.
func (p *person) upload(name string, data []byte) *httptest.ResponseRecorder {
	p.v.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/assets", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(p.cookie)
	req.Header.Set(csrfHeader, p.csrf)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	p.v.e.ServeHTTP(rec, req)
	return rec
}

// usesOf is GET /assets as a map from hash to its used_by.
func usesOf(t *testing.T, v *env) map[string]store.AssetWithUses {
	t.Helper()
	rec := v.admin("GET", "/api/v1/assets", nil)
	if got := rec.Header().Get("X-Max-Upload-Bytes"); got != "4096" {
		t.Errorf("X-Max-Upload-Bytes = %q, want the limit 4096", got)
	}
	// An unused asset says so with an empty list, not null.
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil {
		t.Fatalf("GET /assets: %v (%s)", err, rec.Body)
	}
	for _, a := range raw {
		if u, ok := a["used_by"]; !ok || string(u) == "null" {
			t.Errorf("GET /assets entry %s: used_by = %s, want a list", a["sha256"], u)
		}
	}
	out := map[string]store.AssetWithUses{}
	for _, a := range must[[]store.AssetWithUses](t, rec, http.StatusOK) {
		out[a.SHA256] = a
	}
	return out
}

// draftResp is a content write's answer: the object's id and the change
// set it was drafted into.
type draftResp struct {
	ID        string `json:"id"`
	ChangeSet string `json:"changeset"`
}

func useKeys(us []store.AssetUse) string {
	var parts []string
	for _, u := range us {
		parts = append(parts, u.Kind+":"+u.ID+":"+u.Title+":"+u.ChangeSet)
	}
	return strings.Join(parts, ",")
}

// TestAssetsSayWhatUsesThem: GET /assets names, for each asset, the
// published items, the items drafted in open change sets and the urgent
// notices in force that show it, plus who uploaded it under what name; an
// asset nothing uses lists none and deletes.
func TestAssetsSayWhatUsesThem(t *testing.T) {
	v := newEnv(t)
	s := v.seed() // s.sha is used by the published item s.item
	v.addUser("lin", store.RoleEditor)
	ed := v.signIn("lin")

	drafted := must[store.Asset](t, ed.upload(`C:\Users\lin\Desktop\停水.png`, pngBytes("drafted")), http.StatusCreated)
	if drafted.Name != "停水.png" || drafted.UploadedBy != "lin" {
		t.Errorf("upload as lin: name %q by %q, want 停水.png by lin (the path cut off)", drafted.Name, drafted.UploadedBy)
	}
	// Uploading the same bytes again keeps the first name and uploader.
	again := must[store.Asset](t, upload(v, adminToken, "other.png", pngBytes("drafted")), http.StatusCreated)
	if again.SHA256 != drafted.SHA256 || again.Name != "停水.png" || again.UploadedBy != "lin" {
		t.Errorf("same bytes again: got %+v, want the first upload's name and uploader", again)
	}
	rec := ed.do("POST", "/api/v1/items", map[string]any{"kind": "notice", "title": "停水通知", "asset": drafted.SHA256, "duration_s": 8})
	draft := must[draftResp](t, rec, http.StatusCreated)
	if draft.ChangeSet == "" {
		t.Fatalf("the editor's item was not drafted: %s", rec.Body)
	}

	notice := must[store.Asset](t, upload(v, adminToken, "urgent.png", pngBytes("urgent")), http.StatusCreated)
	urg := must[idResp](t, v.admin("POST", "/api/v1/urgent", map[string]any{
		"title": "燃气检修", "asset": notice.SHA256, "target": map[string]any{"all": true},
		"expires_at": testNow.Add(2 * time.Hour).Format(time.RFC3339),
	}), http.StatusCreated)
	unused := must[store.Asset](t, upload(v, adminToken, "unused.png", pngBytes("unused")), http.StatusCreated)

	got := usesOf(t, v)
	tests := []struct {
		name, sha, want string
	}{
		{"published item", s.sha, "item:" + s.item + ":反诈:"},
		{"drafted item", drafted.SHA256, "item:" + draft.ID + ":停水通知:" + draft.ChangeSet},
		{"urgent notice in force", notice.SHA256, "urgent:" + urg.ID + ":燃气检修:"},
		{"nothing", unused.SHA256, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := got[tt.sha]
			if !ok {
				t.Fatalf("GET /assets lacks %s", tt.sha)
			}
			if k := useKeys(a.UsedBy); k != tt.want {
				t.Errorf("used_by = %q, want %q", k, tt.want)
			}
		})
	}
	one := must[store.AssetWithUses](t, v.admin("GET", "/api/v1/assets/"+drafted.SHA256, nil), http.StatusOK)
	if k := useKeys(one.UsedBy); k != "item:"+draft.ID+":停水通知:"+draft.ChangeSet {
		t.Errorf("GET /assets/%s used_by = %q, want the drafted item", drafted.SHA256, k)
	}
	if a := got[unused.SHA256]; a.Name != "unused.png" || a.UploadedBy != "break-glass" || a.Size == 0 || a.MIME != "image/png" {
		t.Errorf("unused asset listed as %+v, want its name, uploader, size and type", a)
	}

	// The drafted item's asset becomes free once its change set is discarded.
	if rec := ed.do("DELETE", "/api/v1/changesets/"+draft.ChangeSet, nil); rec.Code/100 != 2 {
		t.Fatalf("discard the change set: got %d %s", rec.Code, rec.Body)
	}
	if k := useKeys(usesOf(t, v)[drafted.SHA256].UsedBy); k != "" {
		t.Errorf("after discarding the change set: used_by = %q, want none", k)
	}
}

// TestDeleteAssetInUse: an asset in use is refused with 409 and the code
// asset_in_use, naming the users, and nothing is removed; an unused one
// is deleted with its bytes.
func TestDeleteAssetInUse(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	v.addUser("lin", store.RoleEditor)
	ed := v.signIn("lin")
	drafted := must[store.Asset](t, ed.upload("b.png", pngBytes("b")), http.StatusCreated)
	cs := must[draftResp](t, ed.do("POST", "/api/v1/items", map[string]any{"kind": "psa", "title": "防火", "asset": drafted.SHA256}), http.StatusCreated).ChangeSet
	unused := must[store.Asset](t, ed.upload("c.png", pngBytes("c")), http.StatusCreated)

	tests := []struct {
		name, sha, mention string
	}{
		{"published item", s.sha, s.item},
		{"item drafted in a change set", drafted.SHA256, cs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ed.do("DELETE", "/api/v1/assets/"+tt.sha, nil)
			e := must[map[string]string](t, rec, http.StatusConflict)
			if e["code"] != "asset_in_use" || !strings.Contains(e["error"], tt.mention) {
				t.Errorf("refusal = %v, want code asset_in_use and an error naming %s", e, tt.mention)
			}
			if rec := v.admin("GET", "/api/v1/assets/"+tt.sha+"/raw", nil); rec.Code != http.StatusOK {
				t.Errorf("after the refusal GET raw = %d, want 200 (nothing removed)", rec.Code)
			}
		})
	}

	if rec := ed.do("DELETE", "/api/v1/assets/"+unused.SHA256, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete unused: got %d %s, want 204", rec.Code, rec.Body)
	}
	if rec := v.admin("GET", "/api/v1/assets/"+unused.SHA256+"/raw", nil); rec.Code != http.StatusNotFound {
		t.Errorf("GET raw after delete = %d, want 404", rec.Code)
	}
	e := must[map[string]string](t, ed.do("DELETE", "/api/v1/assets/"+unused.SHA256, nil), http.StatusNotFound)
	if e["code"] != "not_found" {
		t.Errorf("second delete: code %q, want not_found", e["code"])
	}
	// A viewer may list the library but not delete from it.
	v.addUser("zhao", store.RoleViewer)
	viewer := v.signIn("zhao")
	if rec := viewer.do("GET", "/api/v1/assets", nil); rec.Code != http.StatusOK {
		t.Errorf("viewer GET /assets = %d, want 200", rec.Code)
	}
	if rec := viewer.do("DELETE", "/api/v1/assets/"+drafted.SHA256, nil); rec.Code != http.StatusForbidden {
		t.Errorf("viewer DELETE asset = %d, want 403", rec.Code)
	}
}
