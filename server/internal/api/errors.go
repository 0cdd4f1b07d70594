package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"kiosk/assets"
	"kiosk/playlists"
	"kiosk/server/internal/store"
)

// apiError is an error that already knows its status.
type apiError struct {
	Code int
	Msg  string
}

func (e *apiError) Error() string { return e.Msg }

func errorf(code int, format string, args ...any) error {
	return &apiError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = func(msg string) error { return &apiError{http.StatusUnauthorized, msg} }
	errForbidden    = func(msg string) error { return &apiError{http.StatusForbidden, msg} }
)

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
		err = c.JSON(code, map[string]string{"error": msg})
	}
	if err != nil {
		h.log.Warn("write error response", "error", err)
	}
}
