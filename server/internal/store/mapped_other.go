//go:build !linux

package store

// ReleaseMapped does nothing outside Linux; see mapped_linux.go.
func (s *Store) ReleaseMapped() error { return nil }
