package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/devices"
	"kiosk/server/internal/store"
)

// Listing limits for GET /screens/{id}/commands.
const (
	defaultCommandList = 50
	maxCommandList     = store.MaxCommandsPerScreen
)

// commandRequest is POST /screens/{id}/commands and /groups/{id}/commands.
type commandRequest struct {
	Type string          `json:"type"`
	TTLS *int            `json:"ttl_s"` // absent: devices.DefaultCommandTTL
	Args json.RawMessage `json:"args"`
}

func (r commandRequest) toDevices() (devices.CommandRequest, error) {
	req := devices.CommandRequest{Type: strings.TrimSpace(r.Type), Args: r.Args}
	if r.TTLS != nil {
		maxS := int(devices.MaxCommandTTL / time.Second)
		if *r.TTLS < 1 || *r.TTLS > maxS {
			return req, playlists.FieldError{Field: "ttl_s", Problem: "must be between 1 and " + strconv.Itoa(maxS) + " seconds"}
		}
		req.TTL = time.Duration(*r.TTLS) * time.Second
	}
	return req, nil
}

func (h *handler) commands() (*devices.Commands, error) {
	if h.opts.Commands == nil {
		return nil, errorf(http.StatusServiceUnavailable, "remote commands are not enabled on this server")
	}
	return h.opts.Commands, nil
}

// commandRequest reads and checks a command request body, and returns the
// command service that will queue it.
func (h *handler) commandRequest(c echo.Context) (*devices.Commands, devices.CommandRequest, error) {
	cmds, err := h.commands()
	if err != nil {
		return nil, devices.CommandRequest{}, err
	}
	var body commandRequest
	if err := decodeJSON(c, &body); err != nil {
		return nil, devices.CommandRequest{}, err
	}
	req, err := body.toDevices()
	if err != nil {
		return nil, devices.CommandRequest{}, err
	}
	return cmds, req, nil
}

// createScreenCommand queues a command for one screen: 202, since the
// screen acts on it later (at once if connected, else on reconnect).
func (h *handler) createScreenCommand(c echo.Context) error {
	cmds, req, err := h.commandRequest(c)
	if err != nil {
		return err
	}
	cmd, err := cmds.Create(c.Param("id"), req)
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, c.Param("id")+"/"+cmd.ID)
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/screens/"+cmd.ScreenID+"/commands/"+cmd.ID)
	return c.JSON(http.StatusAccepted, cmd)
}

// groupCommands is the answer to a group command: one command per screen
// it could be queued for, and the screens it could not (say, deleted while
// the request ran) with the reason a client may see.
type groupCommands struct {
	Group    string               `json:"group"`
	IDs      []string             `json:"ids"`
	Commands []store.Command      `json:"commands"`
	Failed   []groupCommandFailed `json:"failed"`
}

type groupCommandFailed struct {
	Screen string `json:"screen"`
	Error  string `json:"error"`
}

// createGroupCommand answers 202 when at least one screen got its command
// (or the group has none), listing failed screens; when every screen failed
// it answers with the first failure's error like any other request.
func (h *handler) createGroupCommand(c echo.Context) error {
	cmds, req, err := h.commandRequest(c)
	if err != nil {
		return err
	}
	res, err := cmds.CreateForGroup(c.Param("id"), req)
	if err != nil {
		return err
	}
	out := groupCommands{Group: c.Param("id"), IDs: make([]string, len(res.Commands)), Commands: res.Commands,
		Failed: make([]groupCommandFailed, len(res.Failed))}
	for i, cmd := range res.Commands {
		out.IDs[i] = cmd.ID
	}
	for i, f := range res.Failed {
		// classify keeps a 500's cause out of the answer; devices has
		// logged it.
		_, msg := classify(f.Err)
		out.Failed[i] = groupCommandFailed{Screen: f.Screen, Error: msg}
	}
	return c.JSON(http.StatusAccepted, out)
}

func (h *handler) listScreenCommands(c echo.Context) error {
	limit, err := queryLimit(c, defaultCommandList, maxCommandList)
	if err != nil {
		return err
	}
	list, err := h.store.ListCommands(c.Param("id"), limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (h *handler) getScreenCommand(c echo.Context) error {
	id := c.Param("id")
	if _, err := h.store.GetScreen(id); err != nil {
		return err
	}
	cmd, err := h.store.GetCommand(id, c.Param("cid"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cmd)
}

// deviceScreenshot receives the image a player captured for a screenshot
// command. A device can only ever write its own screen's screenshot.
func (h *handler) deviceScreenshot(c echo.Context) error {
	id := c.Get(ctxScreen).(string)
	r := c.Request()
	limit := h.maxScreenshotBytes()
	if r.ContentLength > limit {
		return store.TooLargeError{Limit: limit}
	}
	ct := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get(echo.HeaderContentType), ";")[0]))
	if ct != "image/jpeg" && ct != "image/png" {
		return errorf(http.StatusUnsupportedMediaType, "screenshot must be sent as image/jpeg or image/png, not %q", ct)
	}
	shot, err := h.store.PutScreenshot(id, r.Body, limit)
	if err != nil {
		return err
	}
	h.log.Info("screenshot received", "screen", id, "bytes", shot.Size, "mime", shot.MIME)
	return c.JSON(http.StatusCreated, shot)
}

func (h *handler) maxScreenshotBytes() int64 {
	if h.opts.MaxScreenshotBytes > 0 {
		return h.opts.MaxScreenshotBytes
	}
	return store.DefaultMaxScreenshotBytes
}

// getScreenshot serves a screen's latest screenshot to an administrator,
// typed by its sniffed bytes and sandboxed like any uploaded media.
func (h *handler) getScreenshot(c echo.Context) error {
	id := c.Param("id")
	if _, err := h.store.GetScreen(id); err != nil {
		return err
	}
	f, shot, err := h.store.OpenScreenshot(id)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, shot.MIME)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// A new screenshot replaces the old under the same URL.
	hdr.Set("Cache-Control", "private, no-cache")
	serveFile(c, shot.TakenAt, f)
	return nil
}
