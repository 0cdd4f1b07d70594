package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// write makes a content change on behalf of the caller: at once for the
// break-glass token (or with review off), otherwise as a draft in the
// caller's open change set, which screens see only once another person
// approves it. It answers the object (plus "changeset" for a draft) with
// status, or, for a delete, 204 when published and 202 when drafted.
func (h *handler) write(c echo.Context, status int, op store.Op) error {
	return h.writeWith(c, status, op, nil)
}

// writeWith is write with more fields in a successful answer (extra is
// called only then; nil adds none).
func (h *handler) writeWith(c echo.Context, status int, op store.Op, extra func() map[string]any) error {
	p := principalOf(c)
	if old, ok, err := h.store.Published(op); err != nil {
		return err
	} else if ok {
		c.Set(ctxAuditBefore, store.HashJSON(old))
	}
	var obj any
	var csID string
	if h.direct(p) {
		var err error
		if obj, err = h.store.Apply(op); err != nil {
			return err
		}
	} else {
		cs, res, err := h.store.Draft(p.actor(), op)
		if err != nil {
			return err
		}
		obj, csID = res, cs.ID
		c.Set(ctxAuditDetail, "drafted into change set "+cs.ID)
	}
	id := op.ID
	if id == "" {
		id = objectID(obj)
	}
	c.Set(ctxAuditTarget, id)
	if obj != nil {
		c.Set(ctxAuditAfter, store.HashJSON(obj))
	}
	if op.Action == store.OpDelete {
		if csID == "" {
			return c.NoContent(http.StatusNoContent)
		}
		return c.JSON(http.StatusAccepted, map[string]string{"id": op.ID, "changeset": csID})
	}
	fields := map[string]any{}
	if extra != nil {
		fields = extra()
	}
	if csID != "" {
		fields["changeset"] = csID
	}
	return c.JSON(status, withFields(obj, fields))
}

func objectID(obj any) string {
	raw, err := json.Marshal(obj)
	if err != nil {
		return ""
	}
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

// withChangeSet adds "changeset" to obj's JSON object.
func withChangeSet(obj any, csID string) any {
	return withFields(obj, map[string]any{"changeset": csID})
}

// withFields adds fields to obj's JSON object.
func withFields(obj any, fields map[string]any) any {
	if len(fields) == 0 {
		return obj
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		return obj
	}
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return obj
	}
	for k, v := range fields {
		m[k], _ = json.Marshal(v)
	}
	return m
}

// defaultOnCreate is the default playlist change that goes with a new
// screen or group in the same commit. Without want, or for a person who
// publishes directly (the default is then one of the saved fields), there
// is none. Otherwise the default is content and waits for review, drafted
// with the new screen or group; the playlist must exist already, or
// nothing is created.
func (h *handler) defaultOnCreate(p *principal, want string) (*store.DefaultChange, error) {
	if want == "" || h.direct(p) {
		return nil, nil
	}
	if _, err := h.store.GetPlaylist(want); err != nil {
		return nil, playlists.FieldError{Field: "default_playlist", Problem: fmt.Sprintf("playlist %q does not exist (or is not published yet)", want)}
	}
	actor := p.actor()
	return &store.DefaultChange{Playlist: want, Draft: &actor}, nil
}

// defaultChange is the change of an existing screen's or group's default
// playlist from cur to want that goes with its edit in the same commit:
// none when it stays, published at once for a person who publishes
// directly, drafted for review otherwise.
func (h *handler) defaultChange(p *principal, cur, want string) *store.DefaultChange {
	if want == cur {
		return nil
	}
	dc := &store.DefaultChange{Playlist: want}
	if !h.direct(p) {
		actor := p.actor()
		dc.Draft = &actor
	}
	return dc
}
