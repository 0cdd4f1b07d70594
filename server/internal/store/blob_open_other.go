//go:build !linux

package store

import "os"

// openBlobFile opens a blob read-only (blob_open_linux.go says why Linux
// does it differently).
func openBlobFile(path string) (*os.File, error) { return os.Open(path) }
