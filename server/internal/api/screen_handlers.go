package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/publish"
	"kiosk/server/internal/store"
)

type screenRequest struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Group    string   `json:"group"`
	Tags     []string `json:"tags"`
	Timezone string   `json:"timezone"`
	// Orientation is landscape or portrait; empty: not said.
	Orientation string `json:"orientation"`
	// DefaultPlaylist fills the screen's schedule gaps (see playlists doc).
	DefaultPlaylist string `json:"default_playlist"`
	// Layout is full, header, header_ticker or "" (inherit from the
	// group chain). Left out of a PUT, the screen keeps its layout, so a
	// form that does not show it cannot reset it.
	Layout *string `json:"layout"`
}

func (r screenRequest) screen() store.Screen {
	sc := store.Screen{Name: r.Name, Group: r.Group, Tags: r.Tags, Timezone: r.Timezone, Orientation: r.Orientation, DefaultPlaylist: r.DefaultPlaylist}
	if r.Layout != nil {
		sc.Layout = *r.Layout
	}
	return sc
}

// screenView is a screen with what it last reported and what it should run.
type screenView struct {
	store.Screen
	store.ScreenStatus
	Online bool `json:"online"`
	// LastSeen shadows the status field so that "never seen" is an explicit
	// null rather than a missing key.
	LastSeen         *time.Time `json:"last_seen"`
	PublishedVersion string     `json:"published_version"`
	// UpToDate: the screen acknowledged the version published for it.
	UpToDate bool `json:"up_to_date"`
	// Health is the derived state, state_reasons and state_since
	// (health_handlers.go, devices/state.go).
	devices.Health
}

func (h *handler) view(scr store.Screen) screenView {
	st, online := h.devices.Status(scr.ID)
	v := screenView{Screen: scr, ScreenStatus: st, Online: online, PublishedVersion: h.pub.Version(scr.ID)}
	if !st.LastSeen.IsZero() {
		t := st.LastSeen
		v.LastSeen = &t
	}
	v.UpToDate = v.PublishedVersion != "" && v.PublishedVersion == st.AppliedVersion
	v.Health = h.devices.Health(scr.ID)
	return v
}

// createdScreen is the one response that carries the device token.
type createdScreen struct {
	screenView
	Token string `json:"token"`
}

func (h *handler) createScreen(c echo.Context) error {
	var req screenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return playlists.FieldError{Field: "id", Problem: "is assigned by the server; leave it out"}
	}
	p := principalOf(c)
	if err := p.checkPlacement("group", req.Group); err != nil {
		return err
	}
	if req.DefaultPlaylist != "" {
		if err := mayChangeDefault(p); err != nil {
			return err
		}
	}
	scr := req.screen()
	dc, err := h.defaultOnCreate(p, req.DefaultPlaylist)
	if err != nil {
		return err
	}
	created, err := h.screens.Create(scr, dc)
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, created.Screen.ID)
	out := map[string]any{}
	if key := h.serverKey(); key != "" {
		out["server_key"] = key
	}
	if created.Default != nil && created.Default.ChangeSet != "" {
		out["changeset"] = created.Default.ChangeSet
	}
	return c.JSON(http.StatusCreated, withFields(createdScreen{screenView: h.view(created.Screen), Token: created.Token}, out))
}

func (h *handler) updateScreen(c echo.Context) error {
	var req screenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkBodyID(req.ID, c.Param("id")); err != nil {
		return err
	}
	p := principalOf(c)
	cur, err := h.store.GetScreen(c.Param("id"))
	if err != nil {
		return err
	}
	if req.Group != cur.Group {
		if err := p.checkPlacement("group", req.Group); err != nil {
			return err
		}
	}
	if req.DefaultPlaylist != cur.DefaultPlaylist {
		if err := mayChangeDefault(p); err != nil {
			return err
		}
	}
	scr := req.screen()
	scr.DefaultPlaylist = cur.DefaultPlaylist // content: through review below
	if req.Layout == nil {
		scr.Layout = cur.Layout
	}
	dc := h.defaultChange(p, cur.DefaultPlaylist, req.DefaultPlaylist)
	scr, res, err := h.screens.Update(c.Param("id"), scr, dc)
	if err != nil {
		return err
	}
	if res == nil {
		return c.JSON(http.StatusOK, h.view(scr))
	}
	// The default playlist is content: answered as every content write
	// is (write.go), the stored screen plus the change set it waits in.
	c.Set(ctxAuditBefore, store.HashJSON(res.Before))
	c.Set(ctxAuditTarget, scr.ID)
	c.Set(ctxAuditAfter, store.HashJSON(res.Screen))
	fields := map[string]any{}
	if res.ChangeSet != "" {
		c.Set(ctxAuditDetail, "drafted into change set "+res.ChangeSet)
		fields["changeset"] = res.ChangeSet
	}
	return c.JSON(http.StatusOK, withFields(res.Screen, fields))
}

// rotateScreenToken issues a new token; the old one stops working at once
// and the screen's open socket is closed, so only the new token reconnects.
func (h *handler) rotateScreenToken(c echo.Context) error {
	id := c.Param("id")
	token, err := h.screens.RotateToken(id)
	if err != nil {
		return err
	}
	out := map[string]string{"id": id, "token": token}
	if key := h.serverKey(); key != "" {
		out["server_key"] = key
	}
	return c.JSON(http.StatusOK, out)
}

// serverKey is the public key manifests are signed with (EncodeKey), for
// a player's -server-key file; "" when manifests are not signed. It goes
// with every new device token, so the install that uses the token can pin
// the key from the start instead of trusting it on first use.
func (h *handler) serverKey() string {
	if h.opts.Signer == nil {
		return ""
	}
	return playlists.EncodeKey(h.opts.Signer.Public())
}

func (h *handler) getScreen(c echo.Context) error {
	scr, err := h.store.GetScreen(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, withFields(h.view(scr), map[string]any{"layout_effective": h.effectiveLayout(scr)}))
}

// effectiveLayout is the layout scr shows: its own, else the nearest
// group's up the chain, else full (as publishing resolves it), so a form
// can say what "inherit" means for this screen.
func (h *handler) effectiveLayout(scr store.Screen) string {
	gs, err := h.store.ListGroups()
	if err != nil {
		return playlists.ResolveLayout(scr.Layout)
	}
	groups := make(map[string]playlists.Group, len(gs))
	for _, g := range gs {
		groups[g.ID] = g
	}
	return publish.Context(scr, groups).Layout
}

// screenManifest shows an admin exactly what a screen was given.
func (h *handler) screenManifest(c echo.Context) error {
	id := c.Param("id")
	if _, err := h.store.GetScreen(id); err != nil {
		return err
	}
	m, ok := h.pub.Ensure(id)
	if !ok {
		return errorf(http.StatusNotFound, "no manifest published yet for screen %q", id)
	}
	return c.JSONBlob(http.StatusOK, m.JSON)
}

func (h *handler) deleteScreen(c echo.Context) error {
	id := c.Param("id")
	if err := h.screens.Delete(id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
