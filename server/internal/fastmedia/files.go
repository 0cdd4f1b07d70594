package fastmedia

import (
	"os"
	"sync"
	"time"
)

// openFiles keeps the files of recently sent assets open for a while:
// sendfile with an explicit offset lets any number of answers share one
// file, so a burst of requests for the same media costs no open, fcntl
// and close each. An entry is reopened after fileTTL (the blob of an
// asset deleted meanwhile is not kept on the disk for longer; what is
// sent is checked against the manifest and the store's index on every
// request all the same), and at most maxOpenFiles are kept.
type openFiles struct {
	open  func(sha string) (*os.File, error)
	mu    sync.Mutex
	m     map[string]*openFile
	timer *time.Timer // sweeps expired entries while there are any
	shut  bool
}

const (
	fileTTL      = 5 * time.Second
	maxOpenFiles = 64
)

type openFile struct {
	f     *os.File
	sha   string
	refs  int       // answers sending from it, plus one while in the map
	until time.Time // taken from the map until then
}

func newOpenFiles(open func(string) (*os.File, error)) *openFiles {
	return &openFiles{open: open, m: map[string]*openFile{}}
}

// get returns sha's open file; put gives it back.
func (o *openFiles) get(sha string) (*openFile, error) {
	now := time.Now()
	o.mu.Lock()
	if e := o.m[sha]; e != nil {
		if now.Before(e.until) {
			e.refs++
			o.mu.Unlock()
			return e, nil
		}
		o.dropLocked(e)
	}
	o.mu.Unlock()
	f, err := o.open(sha)
	if err != nil {
		return nil, err
	}
	e := &openFile{f: f, sha: sha, refs: 1, until: now.Add(fileTTL)}
	o.mu.Lock()
	if !o.shut && len(o.m) < maxOpenFiles && o.m[sha] == nil {
		o.m[sha] = e
		e.refs++
		if o.timer == nil {
			o.timer = time.AfterFunc(fileTTL, o.sweep)
		}
	}
	o.mu.Unlock()
	return e, nil
}

func (o *openFiles) put(e *openFile) {
	o.mu.Lock()
	e.refs--
	last := e.refs == 0
	o.mu.Unlock()
	if last {
		e.f.Close()
	}
}

// dropLocked takes e out of the map; it is closed by its last put.
func (o *openFiles) dropLocked(e *openFile) {
	delete(o.m, e.sha)
	e.refs--
	if e.refs == 0 {
		e.f.Close()
	}
}

func (o *openFiles) sweep() {
	now := time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.m {
		if !now.Before(e.until) {
			o.dropLocked(e)
		}
	}
	o.timer = nil
	if len(o.m) > 0 && !o.shut {
		o.timer = time.AfterFunc(fileTTL, o.sweep)
	}
}

// closeAll drops every entry and keeps no more (the listener's end).
func (o *openFiles) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.shut = true
	for _, e := range o.m {
		o.dropLocked(e)
	}
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
}
