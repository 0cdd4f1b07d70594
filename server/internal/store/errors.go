package store

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels the API maps to statuses; the typed errors below match them
// with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrTooLarge = errors.New("too large")
)

// NotFoundError says which thing does not exist.
type NotFoundError struct {
	Kind string // "item", "playlist", ...
	ID   string
}

func (e NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.ID) }

// Is makes errors.Is(err, ErrNotFound) true.
func (e NotFoundError) Is(target error) bool { return target == ErrNotFound }

// InUseError refuses to delete something others still reference, naming them
// so the editor knows what to change first.
type InUseError struct {
	Kind   string
	ID     string
	UsedBy []string // e.g. `playlist pl_1 ("Morning")`
}

func (e InUseError) Error() string {
	return fmt.Sprintf("%s %q is in use by %s", e.Kind, e.ID, strings.Join(e.UsedBy, ", "))
}

// Is makes errors.Is(err, ErrConflict) true.
func (e InUseError) Is(target error) bool { return target == ErrConflict }

// ConflictError is any other clash with existing state (duplicate id, cycle).
type ConflictError struct{ Msg string }

func (e ConflictError) Error() string { return e.Msg }

// Is makes errors.Is(err, ErrConflict) true.
func (e ConflictError) Is(target error) bool { return target == ErrConflict }

// ExistsError refuses to create something under an id that is taken, so
// a caller can tell it from the other conflicts a write may meet in the
// same transaction (a full or stale change set).
type ExistsError struct {
	Kind string
	ID   string
}

func (e ExistsError) Error() string { return fmt.Sprintf("%s %q already exists", e.Kind, e.ID) }

// Is makes errors.Is(err, ErrConflict) true.
func (e ExistsError) Is(target error) bool { return target == ErrConflict }

// TooLargeError is an upload over the configured limit.
type TooLargeError struct{ Limit int64 }

func (e TooLargeError) Error() string {
	return fmt.Sprintf("upload exceeds the limit of %d bytes", e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e TooLargeError) Is(target error) bool { return target == ErrTooLarge }
