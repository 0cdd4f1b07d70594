package api

import (
	"encoding/json"
	"net/http"
	"testing"

	"kiosk/server/internal/store"
)

// A screen edit with a new default playlist is one write: the fleet fields
// and the drafted default land together, or, when the default is refused,
// neither does.
func TestScreenEditWithDefaultIsAllOrNothing(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	// A signed-in admin's content changes wait for review.
	v.addUser("adm", store.RoleAdmin)
	p := v.signIn("adm")

	rec := p.do("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "新A", "tags": []string{"lobby"}, "default_playlist": s.playlist})
	if rec.Code != http.StatusOK {
		t.Fatalf("edit with a drafted default: got %d %s", rec.Code, rec.Body)
	}
	var got struct {
		Name            string `json:"name"`
		DefaultPlaylist string `json:"default_playlist"`
		ChangeSet       string `json:"changeset"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Name != "新A" || got.DefaultPlaylist != s.playlist || got.ChangeSet == "" {
		t.Errorf("answer %s: want the screen as it will be, with its change set", rec.Body)
	}
	if scr, _ := v.st.GetScreen(s.screenA); scr.Name != "新A" || scr.DefaultPlaylist != "" {
		t.Errorf("published: %+v; want the new name now and the default only after review", scr)
	}

	rec = p.do("PUT", "/api/v1/screens/"+s.screenA, map[string]any{"name": "不该", "default_playlist": "pl_nope"})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("edit with a missing default: got %d %s, want 400", rec.Code, rec.Body)
	}
	if scr, _ := v.st.GetScreen(s.screenA); scr.Name != "新A" {
		t.Errorf("a refused edit renamed the screen to %q", scr.Name)
	}

	// Created with a drafted default: one answer carrying the token and
	// the change set; the token works at once.
	rec = p.do("POST", "/api/v1/screens", map[string]any{"name": "C", "default_playlist": s.playlist})
	var created struct {
		ID        string `json:"id"`
		Token     string `json:"token"`
		ChangeSet string `json:"changeset"`
	}
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &created) != nil || created.ChangeSet != got.ChangeSet {
		t.Fatalf("create with a drafted default: got %d %s, want 201 in change set %s", rec.Code, rec.Body, got.ChangeSet)
	}
	if id, err := v.devs.Authenticate(created.Token); err != nil || id != created.ID {
		t.Errorf("the new screen's token: %q, %v", id, err)
	}
}

// Deleting a screen closes its socket and refuses its token at once.
func TestDeleteScreenKicksAndForgets(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	if rec := v.admin("DELETE", "/api/v1/screens/"+s.screenB, nil); rec.Code != http.StatusNoContent {
		t.Fatalf("delete: got %d %s", rec.Code, rec.Body)
	}
	if len(v.hub.kicked) != 1 || v.hub.kicked[0] != s.screenB {
		t.Errorf("kicked %v, want [%s]", v.hub.kicked, s.screenB)
	}
	if _, err := v.devs.Authenticate(s.tokenB); err == nil {
		t.Errorf("the deleted screen's token still authenticates")
	}
}
