package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"kiosk/playlists"
	"kiosk/server/internal/people"
	"kiosk/server/internal/store"
)

// personalTokenPrefix marks personal API tokens, so a token can be told
// apart (and looked up directly) before the slower checks.
const personalTokenPrefix = "kpt_"

// totpIssuer is what authenticator apps show beside the account.
const totpIssuer = "Kiosk"

func (h *handler) me(c echo.Context) (store.User, error) {
	p := principalOf(c)
	if p.Via == viaBreakGlass {
		return store.User{}, errCode(http.StatusBadRequest, "breakglass", "the break-glass token is not a person's account; sign in as a user")
	}
	return h.store.GetUser(p.User.ID)
}

func (h *handler) getMe(c echo.Context) error {
	p := principalOf(c)
	if p.Via == viaBreakGlass {
		return c.JSON(http.StatusOK, h.viewSession(p).User)
	}
	u, err := h.me(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewUser(u))
}

type passwordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changeMyPassword needs the current password (a borrowed unlocked
// browser is not enough) and ends the person's other sessions.
func (h *handler) changeMyPassword(c echo.Context) error {
	var req passwordChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if err := checkOwnPassword(u, req.Current); err != nil {
		return err
	}
	if err := h.setPassword(u.ID, u.Username, req.New, "new"); err != nil {
		return err
	}
	keep := principalOf(c).sessionHash
	if _, err := h.store.DeleteSessions(func(s store.Session) bool { return s.UserID == u.ID && s.Hash != keep }); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// checkOwnPassword asks for the person's password before a change to
// their own credentials: a borrowed unlocked browser is not enough.
func checkOwnPassword(u store.User, pw string) error {
	ok, err := people.VerifyPassword(u.PasswordHash, pw)
	if err != nil {
		return err
	}
	if !ok {
		return errCode(http.StatusForbidden, "bad_credentials", "the password is wrong")
	}
	return nil
}

// setPassword checks pw against the policy and stores its hash.
func (h *handler) setPassword(id, username, pw, field string) error {
	if err := people.CheckPassword(pw, username); err != nil {
		return playlists.FieldError{Field: field, Problem: err.Error()}
	}
	hash, err := people.HashPassword(pw)
	if err != nil {
		return err
	}
	_, err = h.store.UpdateUser(id, func(u *store.User) error {
		u.PasswordHash = hash
		return nil
	})
	return err
}

type totpEnrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
	QRPNG  string `json:"qr_png"` // data: URL
}

// startTOTP makes a new secret; it takes effect only once confirmed with
// a code, so a half-finished enrolment never locks anyone out.
func (h *handler) startTOTP(c echo.Context) error {
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if u.TOTPEnabled {
		return errCode(http.StatusConflict, "totp_enabled", "a second factor is already set up; turn it off first to enrol a new one")
	}
	secret, url, png, err := people.NewTOTP(totpIssuer, u.Username)
	if err != nil {
		return err
	}
	if _, err := h.store.UpdateUser(u.ID, func(u *store.User) error {
		u.TOTPSecret, u.TOTPEnabled = secret, false
		return nil
	}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, totpEnrolment{Secret: secret, URL: url,
		QRPNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
}

type codeRequest struct {
	Code     string `json:"code"`
	Password string `json:"password"`
}

func (h *handler) confirmTOTP(c echo.Context) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if u.TOTPSecret == "" || u.TOTPEnabled {
		return errCode(http.StatusConflict, "totp_not_enrolling", "no enrolment in progress: start one first")
	}
	step, ok := people.CheckTOTP(u.TOTPSecret, strings.TrimSpace(req.Code), h.opts.Now(), u.TOTPLastStep)
	if !ok {
		return playlists.FieldError{Field: "code", Problem: "is not the current code of the new secret (check the phone's clock)"}
	}
	if _, err := h.store.UpdateUser(u.ID, func(u *store.User) error {
		u.TOTPEnabled, u.TOTPLastStep = true, step
		return nil
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) disableTOTP(c echo.Context) error {
	var req codeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if err := checkOwnPassword(u, req.Password); err != nil {
		return err
	}
	if h.opts.RequireMFA && (u.Role == store.RoleAdmin || u.Role == store.RoleReviewer) {
		return errCode(http.StatusForbidden, "totp_required_by_policy", "this server requires a second factor for the "+string(u.Role)+" role")
	}
	if _, err := h.store.UpdateUser(u.ID, func(u *store.User) error {
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "", false, 0
		return nil
	}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) listMyTokens(c echo.Context) error {
	u, err := h.me(c)
	if err != nil {
		return err
	}
	toks, err := h.store.ListAPITokens(u.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toks)
}

type tokenRequest struct {
	Name string     `json:"name"`
	Role store.Role `json:"role"`
}

// createMyToken issues a personal token with the caller's role or less
// (viewer, for read-only scripts). It is shown here once.
func (h *handler) createMyToken(c echo.Context) error {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if principalOf(c).Via == viaToken {
		return errCode(http.StatusForbidden, "forbidden", "a token cannot create tokens; sign in to the page")
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		return playlists.FieldError{Field: "name", Problem: "is required (what the token is for, e.g. \"nightly export\")"}
	}
	if n := utf8.RuneCountInString(req.Name); n > playlists.MaxNameRunes {
		return playlists.FieldError{Field: "name", Problem: fmt.Sprintf("is %d characters, at most %d allowed", n, playlists.MaxNameRunes)}
	}
	if req.Role == "" {
		req.Role = u.Role
	}
	if _, err := store.ParseRole(string(req.Role)); err != nil {
		return err
	}
	if req.Role != u.Role && req.Role != store.RoleViewer {
		return playlists.FieldError{Field: "role", Problem: fmt.Sprintf("must be your own role (%s) or viewer", u.Role)}
	}
	token := randomToken(personalTokenPrefix)
	t, err := h.store.CreateAPIToken(store.APIToken{Hash: store.HashToken(token), UserID: u.ID, Name: req.Name, Role: req.Role})
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, t.ID)
	return c.JSON(http.StatusCreated, struct {
		store.APIToken
		Token string `json:"token"`
	}{t, token})
}

func (h *handler) revokeMyToken(c echo.Context) error {
	u, err := h.me(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteAPIToken(u.ID, c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// Users (admins).

type userRequest struct {
	Username string     `json:"username"`
	Password string     `json:"password"`
	Role     store.Role `json:"role"`
	Groups   []string   `json:"groups"`
	Urgent   *bool      `json:"urgent"`
	Disabled *bool      `json:"disabled"`
}

func (h *handler) listUsers(c echo.Context) error {
	users, err := h.store.ListUsers()
	if err != nil {
		return err
	}
	out := make([]userView, len(users))
	for i, u := range users {
		out[i] = viewUser(u)
	}
	return c.JSON(http.StatusOK, out)
}

func (h *handler) getUser(c echo.Context) error {
	u, err := h.store.GetUser(c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewUser(u))
}

func (h *handler) createUser(c echo.Context) error {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role, err := store.ParseRole(string(req.Role))
	if err != nil {
		return err
	}
	if err := people.CheckPassword(req.Password, req.Username); err != nil {
		return playlists.FieldError{Field: "password", Problem: err.Error()}
	}
	hash, err := people.HashPassword(req.Password)
	if err != nil {
		return err
	}
	u, err := h.store.CreateUser(store.User{Username: strings.TrimSpace(req.Username), Role: role,
		Groups: req.Groups, Urgent: req.Urgent != nil && *req.Urgent, PasswordHash: hash})
	if err != nil {
		return err
	}
	c.Set(ctxAuditTarget, u.ID)
	c.Set(ctxAuditAfter, store.HashJSON(viewUser(u)))
	c.Set(ctxAuditDetail, fmt.Sprintf("created user %s with role %s", u.Username, u.Role))
	return c.JSON(http.StatusCreated, viewUser(u))
}

// updateUser changes role, scope, the urgent permission and whether the
// account is disabled. Disabling ends every session of the person at once;
// their tokens stop working with it.
func (h *handler) updateUser(c echo.Context) error {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Password != "" {
		return playlists.FieldError{Field: "password", Problem: "is set with POST /users/{id}/password"}
	}
	p := principalOf(c)
	id := c.Param("id")
	admins, err := h.enabledAdmins()
	if err != nil {
		return err
	}
	var before userView
	u, err := h.store.UpdateUser(id, func(u *store.User) error {
		before = viewUser(*u)
		if req.Username != "" && req.Username != u.Username {
			return playlists.FieldError{Field: "username", Problem: "cannot be changed"}
		}
		if req.Role != "" {
			role, err := store.ParseRole(string(req.Role))
			if err != nil {
				return err
			}
			u.Role = role
		}
		if req.Groups != nil {
			u.Groups = req.Groups
		}
		if req.Urgent != nil {
			u.Urgent = *req.Urgent
		}
		if req.Disabled != nil {
			if *req.Disabled && p.User.ID == u.ID {
				return errCode(http.StatusConflict, "self_disable", "you cannot disable your own account")
			}
			u.Disabled = *req.Disabled
		}
		if before.Role == store.RoleAdmin && !before.Disabled && (u.Role != store.RoleAdmin || u.Disabled) && admins <= 1 {
			return errCode(http.StatusConflict, "last_admin", "this is the last enabled admin: make another admin first")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if u.Disabled {
		if _, err := h.store.DeleteSessions(func(s store.Session) bool { return s.UserID == u.ID }); err != nil {
			return err
		}
	}
	c.Set(ctxAuditBefore, store.HashJSON(before))
	c.Set(ctxAuditAfter, store.HashJSON(viewUser(u)))
	c.Set(ctxAuditDetail, fmt.Sprintf("user %s: role %s, groups %v, urgent %t, disabled %t", u.Username, u.Role, u.Groups, u.Urgent, u.Disabled))
	return c.JSON(http.StatusOK, viewUser(u))
}

func (h *handler) resetUserPassword(c echo.Context) error {
	var req userRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := h.store.GetUser(c.Param("id"))
	if err != nil {
		return err
	}
	if err := h.setPassword(u.ID, u.Username, req.Password, "password"); err != nil {
		return err
	}
	if _, err := h.store.DeleteSessions(func(s store.Session) bool { return s.UserID == u.ID }); err != nil {
		return err
	}
	c.Set(ctxAuditDetail, "password reset by an administrator; sessions ended")
	return c.NoContent(http.StatusNoContent)
}

func (h *handler) resetUserTOTP(c echo.Context) error {
	if _, err := h.store.UpdateUser(c.Param("id"), func(u *store.User) error {
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "", false, 0
		return nil
	}); err != nil {
		return err
	}
	c.Set(ctxAuditDetail, "second factor reset by an administrator")
	return c.NoContent(http.StatusNoContent)
}

// enabledAdmins counts the admins who can sign in.
func (h *handler) enabledAdmins() (int, error) {
	users, err := h.store.ListUsers()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, u := range users {
		if u.Role == store.RoleAdmin && !u.Disabled {
			n++
		}
	}
	return n, nil
}
