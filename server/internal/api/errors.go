package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"kiosk/assets"
	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// apiError is an error that already knows its status, and optionally a
// machine-readable code (otherwise derived from the status).
type apiError struct {
	Code int
	Msg  string
	Key  string
}

func (e *apiError) Error() string { return e.Msg }

func errorf(code int, format string, args ...any) error {
	return &apiError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// errCode is an apiError with a machine-readable code the page acts on
// ("totp_required", "csrf", "self_approval", ...).
func errCode(status int, code, msg string) error {
	return &apiError{Code: status, Msg: msg, Key: code}
}

var (
	errUnauthorized = func(msg string) error { return &apiError{Code: http.StatusUnauthorized, Msg: msg} }
	errForbidden    = func(msg string) error { return &apiError{Code: http.StatusForbidden, Msg: msg} }
)

// statusCodes are the default machine-readable codes by status.
var statusCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "too_many_requests",
	http.StatusServiceUnavailable:    "unavailable",
	http.StatusInsufficientStorage:   "disk_full",
}

// errorKey is the machine-readable code of err at status code.
func errorKey(err error, code int) string {
	var ae *apiError
	if errors.As(err, &ae) && ae.Key != "" {
		return ae.Key
	}
	var fe playlists.FieldError
	if errors.As(err, &fe) {
		return "invalid_field"
	}
	if errors.As(err, new(store.SelfApprovalError)) {
		return "self_approval"
	}
	if k, ok := statusCodes[code]; ok {
		return k
	}
	return "internal"
}

// classify maps an error to a status and the message the client sees.
// Anything it does not recognise is a 500 whose details stay in the log.
func classify(err error) (int, string) {
	var ae *apiError
	var fe playlists.FieldError
	var mbe *http.MaxBytesError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae.Code, ae.Msg
	case errors.As(err, &fe):
		return http.StatusBadRequest, fe.Error()
	case errors.As(err, new(store.SelfApprovalError)):
		return http.StatusForbidden, err.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", mbe.Limit)
	case errors.Is(err, store.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, assets.ErrUnsupported):
		return http.StatusUnsupportedMediaType, err.Error()
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, err.Error()
	case errors.Is(err, store.ErrDiskFull):
		// The message names the data directory: what an operator must free.
		return http.StatusInsufficientStorage, err.Error()
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" {
			msg = s
		}
		if he.Code == http.StatusNotFound {
			msg = "no such route"
		}
		return he.Code, msg
	}
	return http.StatusInternalServerError, "internal server error"
}

// handleError is echo's one error handler.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := classify(err)
	if code >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(code)
	} else {
		err = c.JSON(code, errorBody(err, code, msg))
	}
	if err != nil {
		h.log.Warn("write error response", "error", err)
	}
}

// errorResponse is the JSON body of every refusal: error is English for a
// person reading a script's output; code (and for a field error field,
// reason and the limits) let the admin page say it in its own language.
// Every value is a string (the limits too), so the body stays the flat
// string map clients have always decoded.
type errorResponse struct {
	Error  string `json:"error"`
	Code   string `json:"code"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
	Min    string `json:"min,omitempty"`
	Limit  string `json:"limit,omitempty"`
}

func errorBody(err error, code int, msg string) errorResponse {
	out := errorResponse{Error: msg, Code: errorKey(err, code)}
	var fe playlists.FieldError
	var ae *apiError
	if out.Code == "invalid_field" && !errors.As(err, &ae) && errors.As(err, &fe) {
		fe = withReason(fe)
		out.Field, out.Reason = fe.Field, fe.Reason
		switch out.Reason {
		case playlists.ReasonTooLong:
			out.Limit = strconv.Itoa(fe.Limit)
		case playlists.ReasonOutOfRange:
			out.Min, out.Limit = strconv.Itoa(fe.Min), strconv.Itoa(fe.Limit)
		}
	}
	return out
}

var (
	tooLongProblem    = regexp.MustCompile(`^is \d+ characters, at most (\d+) allowed$`)
	outOfRangeProblem = regexp.MustCompile(`^must be between (-?\d+) and (\d+)\b`)
)

// withReason is fe with its Reason (and limits) set: the constructor's,
// or for the call sites that build a FieldError by hand, what the wording
// they share states ("is required", "does not exist", "is N characters,
// at most M allowed", "must be between A and B").
func withReason(fe playlists.FieldError) playlists.FieldError {
	if fe.Reason != "" {
		return fe
	}
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	switch {
	case strings.HasPrefix(fe.Problem, "is required"):
		fe.Reason = playlists.ReasonRequired
	case strings.Contains(fe.Problem, "does not exist"):
		fe.Reason = playlists.ReasonUnknownReference
	default:
		if m := tooLongProblem.FindStringSubmatch(fe.Problem); m != nil {
			fe.Reason, fe.Limit = playlists.ReasonTooLong, atoi(m[1])
		} else if m := outOfRangeProblem.FindStringSubmatch(fe.Problem); m != nil {
			fe.Reason, fe.Min, fe.Limit = playlists.ReasonOutOfRange, atoi(m[1]), atoi(m[2])
		}
	}
	return fe
}
