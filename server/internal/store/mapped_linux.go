package store

import (
	"fmt"
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMapped drops the database file's pages from this process's
// memory map (madvise MADV_DONTNEED on bbolt's read-only shared mapping).
// The data is not touched: the pages stay in the kernel's page cache and a
// later read maps them back with a minor fault, without disk I/O. What goes
// is resident memory that one-off scans left counted against the process:
// bbolt maps the whole file, and every page a start-up pass read (every
// screen's record, status and history) would otherwise stay in the
// server's RSS, although the kernel may reclaim it at any time.
//
// It holds a read transaction, so bbolt cannot remap the file (when it
// grows) while the advice is given.
func (s *Store) ReleaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error {
		size := tx.Size()
		if size <= 0 {
			return nil
		}
		_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, s.db.Info().Data, uintptr(size), syscall.MADV_DONTNEED)
		if errno != 0 {
			return fmt.Errorf("store: release mapped pages: %w", errno)
		}
		return nil
	})
}
