package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// A group created or edited with a new default playlist is one write: the
// group's own fields and the drafted default land together, or, when the
// default is refused, neither does.
func TestGroupEditWithDefaultIsAllOrNothing(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	// A signed-in admin's content changes wait for review.
	uid := v.addUser("adm", store.RoleAdmin)
	p := v.signIn("adm")
	if rec := v.admin("POST", "/api/v1/groups", map[string]any{"id": "north", "name": "北区"}); rec.Code != http.StatusCreated {
		t.Fatalf("create group: got %d %s", rec.Code, rec.Body)
	}

	type answer struct {
		ID              string `json:"id"`
		Name            string `json:"name"`
		DefaultPlaylist string `json:"default_playlist"`
		ChangeSet       string `json:"changeset"`
	}
	decode := func(body []byte) answer {
		t.Helper()
		var a answer
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("answer %s: %v", body, err)
		}
		return a
	}
	published := func(id string) (playlists.Group, bool) {
		t.Helper()
		g, err := v.st.GetGroup(id)
		if errors.Is(err, store.ErrNotFound) {
			return g, false
		}
		if err != nil {
			t.Fatal(err)
		}
		return g, true
	}

	rec := p.do("PUT", "/api/v1/groups/north", map[string]any{"name": "北区一", "default_playlist": s.playlist})
	if rec.Code != http.StatusOK {
		t.Fatalf("edit with a drafted default: got %d %s", rec.Code, rec.Body)
	}
	got := decode(rec.Body.Bytes())
	if got.Name != "北区一" || got.DefaultPlaylist != s.playlist || got.ChangeSet == "" {
		t.Errorf("answer %s: want the group as it will be, with its change set", rec.Body)
	}
	if g, _ := published("north"); g.Name != "北区一" || g.DefaultPlaylist != "" {
		t.Errorf("published: %+v; want the new name now and the default only after review", g)
	}

	// A default the draft refuses (no such playlist) renames nothing.
	rec = p.do("PUT", "/api/v1/groups/north", map[string]any{"name": "不该", "default_playlist": "pl_nope"})
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("edit with a missing default: got %d %s, want 400", rec.Code, rec.Body)
	}
	if g, _ := published("north"); g.Name != "北区一" {
		t.Errorf("a refused edit renamed the group to %q", g.Name)
	}

	// Created with a drafted default: into the same change set.
	rec = p.do("POST", "/api/v1/groups", map[string]any{"id": "south", "name": "南区", "default_playlist": s.playlist})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create with a drafted default: got %d %s", rec.Code, rec.Body)
	}
	if c := decode(rec.Body.Bytes()); c.ID != "south" || c.DefaultPlaylist != s.playlist || c.ChangeSet != got.ChangeSet {
		t.Errorf("create answer %s: want south as it will be, in change set %s", rec.Body, got.ChangeSet)
	}
	if g, ok := published("south"); !ok || g.DefaultPlaylist != "" {
		t.Errorf("published south: %+v, %v; want it created, its default after review", g, ok)
	}
	if rec := p.do("POST", "/api/v1/groups", map[string]any{"id": "south", "name": "又一个", "default_playlist": s.playlist}); rec.Code != http.StatusConflict || errCodeOf(t, rec.Body.Bytes()) != "group_exists" {
		t.Errorf("create over an existing group: got %d %s, want 409 group_exists", rec.Code, rec.Body)
	}

	// The admin's change set goes stale (an item it edits is deleted
	// meanwhile): a default can no longer be drafted into it, and the
	// group's own fields are not saved either.
	it, err := v.st.CreateItem(playlists.Item{Kind: playlists.KindNotice, Title: "临时", DurationS: 5})
	if err != nil {
		t.Fatal(err)
	}
	edit := it
	edit.Title = "临时改"
	if _, _, err := v.st.Draft(store.Actor{ID: uid, Name: "adm"}, store.Op{Action: store.OpUpdate, Kind: store.KindItem, ID: it.ID, Item: &edit}); err != nil {
		t.Fatal(err)
	}
	if err := v.st.DeleteItem(it.ID); err != nil {
		t.Fatal(err)
	}
	rec = p.do("POST", "/api/v1/groups", map[string]any{"id": "east", "name": "东区", "default_playlist": s.playlist})
	if rec.Code != http.StatusConflict || errCodeOf(t, rec.Body.Bytes()) != "conflict" {
		t.Errorf("create with a stale change set: got %d %s, want 409 conflict", rec.Code, rec.Body)
	}
	if g, ok := published("east"); ok {
		t.Errorf("a refused create left group %+v", g)
	}
	rec = p.do("PUT", "/api/v1/groups/north", map[string]any{"name": "也不该", "default_playlist": s.playlist})
	if rec.Code != http.StatusConflict || errCodeOf(t, rec.Body.Bytes()) != "conflict" {
		t.Errorf("edit with a stale change set: got %d %s, want 409 conflict", rec.Code, rec.Body)
	}
	if g, _ := published("north"); g.Name != "北区一" {
		t.Errorf("a refused edit renamed the group to %q", g.Name)
	}
	// Without a default change the fleet fields are saved at once.
	if rec := p.do("PUT", "/api/v1/groups/north", map[string]any{"name": "北区二"}); rec.Code != http.StatusOK {
		t.Errorf("plain edit: got %d %s", rec.Code, rec.Body)
	}
	if g, _ := published("north"); g.Name != "北区二" {
		t.Errorf("plain edit: name %q, want 北区二", g.Name)
	}
}

// Published at once (break-glass): the group and its default land
// together, answered without a change set; a refused default saves
// neither.
func TestGroupDefaultPublishedWithGroup(t *testing.T) {
	v := newEnv(t)
	s := v.seed()
	rec := v.admin("POST", "/api/v1/groups", map[string]any{"id": "west", "name": "西区", "default_playlist": s.playlist})
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: got %d %s", rec.Code, rec.Body)
	}
	rec = v.admin("PUT", "/api/v1/groups/west", map[string]any{"name": "不该", "default_playlist": "pl_nope"})
	if rec.Code != http.StatusBadRequest || errCodeOf(t, rec.Body.Bytes()) != "invalid_field" {
		t.Errorf("edit with a missing default: got %d %s, want 400 invalid_field", rec.Code, rec.Body)
	}
	if g, _ := v.st.GetGroup("west"); g.Name != "西区" || g.DefaultPlaylist != s.playlist {
		t.Errorf("after a refused edit: %+v; want it as created", g)
	}
	rec = v.admin("PUT", "/api/v1/groups/west", map[string]any{"name": "西区一", "default_playlist": ""})
	if rec.Code != http.StatusOK {
		t.Fatalf("edit: got %d %s", rec.Code, rec.Body)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["name"] != "西区一" || got["default_playlist"] != nil || got["changeset"] != nil {
		t.Errorf("answer %s: want the renamed group with no default and no change set", rec.Body)
	}
	if g, _ := v.st.GetGroup("west"); g.Name != "西区一" || g.DefaultPlaylist != "" {
		t.Errorf("published: %+v", g)
	}
}

// errCodeOf is the code of a JSON error body.
func errCodeOf(t *testing.T, body []byte) string {
	t.Helper()
	var e map[string]string
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	return e["code"]
}
