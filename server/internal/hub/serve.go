package hub

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// ServeHTTP authenticates the player from "Authorization: Bearer <token>",
// upgrades the request and returns at once; the connection lives on in its
// read pump, plus a writer only while it has frames to send. Tokens are accepted from the header only: a token in
// the URL would end up in access logs and proxies.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kiosk-device"`)
		writeJSONError(w, http.StatusUnauthorized, "missing device token: send Authorization: Bearer <token>")
		return
	}
	screenID, err := h.handler.Authenticate(token)
	switch {
	case errors.Is(err, ErrUnauthorized):
		w.Header().Set("WWW-Authenticate", `Bearer realm="kiosk-device", error="invalid_token"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid device token")
		return
	case err != nil:
		h.log.Error("authenticate device", "remote", r.RemoteAddr, "error", err)
		writeJSONError(w, http.StatusInternalServerError, "device authentication failed")
		return
	case screenID == "":
		h.log.Error("authenticate device: handler returned an empty screen id", "remote", r.RemoteAddr)
		writeJSONError(w, http.StatusInternalServerError, "device authentication failed")
		return
	}

	h.mu.RLock()
	closed := h.closed
	h.mu.RUnlock()
	if closed {
		writeJSONError(w, http.StatusServiceUnavailable, "server shutting down")
		return
	}

	// On failure Upgrade has already answered through upgrader.Error.
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		h.log.Debug("websocket upgrade failed", "screen", screenID, "remote", r.RemoteAddr, "error", err)
		return
	}
	c := newClient(h, conn, screenID)
	old, ok := h.register(c)
	if !ok {
		// Close raced with this upgrade: say goodbye the same way Close does.
		c.closeNow(closeFrame(closeGoingAway, "server shutting down"))
		return
	}
	if old != nil {
		old.close(closeNormal, "replaced by a newer connection")
		h.log.Info("screen reconnected, closing its previous connection", "screen", screenID, "remote", r.RemoteAddr)
	} else {
		h.log.Info("screen connected", "screen", screenID, "remote", r.RemoteAddr)
	}
	c.startPings()
	go c.readPump()
	// A token revoked (rotated) while this upgrade was in flight was
	// checked before the revocation, and the Kick that follows a revocation
	// could not see this connection, which was not registered yet. Now
	// that it is, either a later Kick will find it or the revocation has
	// already happened and shows here.
	if id, err := h.handler.Authenticate(token); err != nil || id != screenID {
		h.log.Info("device token revoked during the upgrade, closing", "screen", screenID, "remote", r.RemoteAddr)
		c.close(closePolicy, "device token revoked")
	}
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// writeJSONError answers with the project's error shape {"error": "..."}.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
