package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrDiskFull is matched (errors.Is) by DiskFullError.
var ErrDiskFull = errors.New("disk full")

// DiskFullError is a write refused because the disk holding the data
// directory has no space left (or the quota is used up). Nothing of the
// write was stored.
type DiskFullError struct {
	Dir string // the data directory
	Op  string // what was being written
	Err error  // the system's error
}

func (e DiskFullError) Error() string {
	return fmt.Sprintf("disk full: no space left on the disk holding the data directory %s (%s); free space there and writes resume by themselves", e.Dir, e.Op)
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e DiskFullError) Is(target error) bool { return target == ErrDiskFull }

func (e DiskFullError) Unwrap() error { return e.Err }

// isNoSpace reports whether err means the disk (or the quota) is full.
// bbolt formats some of its errors with %s, so the text counts too.
func isNoSpace(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, syscall.ENOSPC.Error()) || strings.Contains(msg, syscall.EDQUOT.Error())
}

// Kinds of writes whose failures are tracked apart: a full disk can still
// take a bbolt commit that fits into pages the file already has, while a
// new blob needs new blocks, so one success says nothing about the other.
const (
	writeDB = iota
	writeBlob
	writeKinds
)

// diskState remembers which kinds of writes last failed for lack of space.
// A later success of the same kind clears it; so does a probe (DiskStatus)
// once space is freed, even if nobody writes.
type diskState struct {
	mu     sync.Mutex
	full   [writeKinds]bool
	since  time.Time // when the current full spell began
	probed time.Time // last probe, to probe at most every diskProbeEvery
	fault  error     // InjectWriteFault
}

// diskProbeEvery bounds how often DiskStatus tries a write while the disk
// is marked full (the health check and /metrics call it).
const diskProbeEvery = 5 * time.Second

// diskProbeBytes is what the blob probe writes: enough to need new blocks.
const diskProbeBytes = 64 << 10

// DiskStatus is the data directory's disk as the store has seen it.
type DiskStatus struct {
	Full  bool
	Since time.Time // when writes began failing for lack of space
	Err   error     // a DiskFullError naming the directory, when Full
}

// InjectWriteFault makes every later bbolt commit and blob write fail with
// err, as the disk would; nil ends it. Tests use it to simulate a full
// disk (syscall.ENOSPC) without filling one.
func (s *Store) InjectWriteFault(err error) {
	s.disk.mu.Lock()
	s.disk.fault = err
	s.disk.mu.Unlock()
}

func (s *Store) writeFault() error {
	s.disk.mu.Lock()
	defer s.disk.mu.Unlock()
	return s.disk.fault
}

// noteWrite records the outcome of a write of kind: nil clears that kind's
// full mark, a full disk sets it and comes back as a DiskFullError, other
// errors pass through unchanged.
func (s *Store) noteWrite(kind int, op string, err error) error {
	d := &s.disk
	switch {
	case err == nil:
		d.mu.Lock()
		d.full[kind] = false
		d.mu.Unlock()
		return nil
	case isNoSpace(err):
		d.mu.Lock()
		if !d.full[writeDB] && !d.full[writeBlob] {
			d.since = s.now().UTC()
		}
		d.full[kind] = true
		d.mu.Unlock()
		return DiskFullError{Dir: s.dir, Op: op, Err: err}
	}
	return err
}

// DiskStatus reports whether writes are failing for lack of space. While
// they are, it probes (at most every few seconds) with a small write of
// each failing kind, so the mark clears once space is freed even if no
// one writes.
func (s *Store) DiskStatus() DiskStatus {
	d := &s.disk
	d.mu.Lock()
	full := d.full
	probe := (full[writeDB] || full[writeBlob]) && s.now().Sub(d.probed) >= diskProbeEvery
	if probe {
		d.probed = s.now()
	}
	d.mu.Unlock()
	if probe {
		if full[writeBlob] {
			s.probeBlob()
		}
		if full[writeDB] {
			_ = s.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyDiskProbe, []byte(s.now().UTC().Format(time.RFC3339)))
			})
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := DiskStatus{Full: d.full[writeDB] || d.full[writeBlob]}
	if st.Full {
		op := "writing media"
		if d.full[writeDB] {
			op = "committing to " + DBFile
		}
		st.Since = d.since
		st.Err = DiskFullError{Dir: s.dir, Op: op}
	}
	return st
}

// keyDiskProbe is the meta key the database probe writes.
var keyDiskProbe = []byte("disk_probe")

// probeBlob writes, syncs and removes a file where uploads are written.
func (s *Store) probeBlob() {
	dir := filepath.Join(s.dir, "assets", "tmp")
	err := os.MkdirAll(dir, 0o750)
	var f *os.File
	if err == nil {
		f, err = os.CreateTemp(dir, "upload-probe-*")
	}
	if err == nil {
		_, err = s.diskWriter(f).Write(make([]byte, diskProbeBytes))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		os.Remove(f.Name())
	}
	_ = s.noteWrite(writeBlob, "writing media", err)
}

// diskWriter writes to f unless a fault is injected. It has no ReadFrom,
// so io.Copy goes through Write.
type diskWriter struct {
	s *Store
	f *os.File
}

func (s *Store) diskWriter(f *os.File) io.Writer { return diskWriter{s, f} }

func (w diskWriter) Write(p []byte) (int, error) {
	if err := w.s.writeFault(); err != nil {
		return 0, &os.PathError{Op: "write", Path: w.f.Name(), Err: err}
	}
	return w.f.Write(p)
}

// boltDB is the bbolt file with every write transaction's outcome noted:
// a commit that fails for lack of space marks the disk full and comes
// back as a DiskFullError, a commit that succeeds clears the mark.
type boltDB struct {
	*bolt.DB
	s *Store
}

func (d *boltDB) Update(fn func(*bolt.Tx) error) error {
	return d.s.noteWrite(writeDB, "committing to "+DBFile, d.DB.Update(d.withFault(fn)))
}

func (d *boltDB) Batch(fn func(*bolt.Tx) error) error {
	return d.s.noteWrite(writeDB, "committing to "+DBFile, d.DB.Batch(d.withFault(fn)))
}

// withFault makes fn fail as its commit would when a fault is injected;
// the transaction rolls back, as after a failed write.
func (d *boltDB) withFault(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		// What fn writes to screens, groups and content is noted, and
		// applied to the in-memory index once tx commits (memindex.go).
		d.s.beginNote(tx)
		defer endNote(tx)
		if err := fn(tx); err != nil {
			return err
		}
		if err := d.s.writeFault(); err != nil {
			return fmt.Errorf("write %s: %w", d.Path(), err)
		}
		return nil
	}
}

// blobErr is a failed blob write under op: a DiskFullError (and the mark
// set) when the disk is full, else op: err.
func (s *Store) blobErr(op string, err error) error {
	if isNoSpace(err) {
		return s.noteWrite(writeBlob, "writing media", err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
