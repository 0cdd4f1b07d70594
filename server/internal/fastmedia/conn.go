package fastmedia

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// headBufSize bounds a request head the fast path reads (net/http's own
// read buffer is as large): a longer one, with whatever was pipelined
// after it, goes to net/http, which applies its own limit.
const headBufSize = 4096

var bufPool = sync.Pool{New: func() any { b := make([]byte, headBufSize); return &b }}

// mediaPrefix is how every request line the fast path answers begins;
// the first bytes that differ send the connection to net/http at once
// (a websocket upgrade, an admin request).
const mediaPrefix = "GET " + AssetPath

var (
	mediaPrefixBytes = []byte(mediaPrefix)
	headEnd          = []byte("\r\n\r\n")
)

// AssetPath is the device media route's path before the hash.
const AssetPath = "/api/v1/device/assets/"

type conn struct {
	l  *Listener
	nc *net.TCPConn
	// first holds a connection's first bytes: no more than it takes to
	// tell a media request, so a connection that is not one (every
	// player's websocket) goes to net/http without ever borrowing a
	// head buffer, and an idle server's memory holds no pooled buffers
	// for the sockets it accepted.
	first [len(mediaPrefix)]byte
	pool  *[]byte // the head buffer, once a media request began; nil before
	buf   []byte  // first[:] or *pool
	r, w  int     // buf[r:w]: read and not yet answered
	out   []byte  // an answer's head

	mu   sync.Mutex
	idle bool // waiting for a request's first byte
}

func newConn(l *Listener, nc *net.TCPConn) *conn {
	c := &conn{l: l, nc: nc}
	c.buf = c.first[:]
	return c
}

// serve answers requests until the connection ends or goes to net/http.
func (c *conn) serve() {
	handedOff := false
	defer func() {
		if r := recover(); r != nil {
			c.l.opts.Logger.Error("fast media path panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		if !handedOff {
			c.nc.Close()
			if c.pool != nil {
				bufPool.Put(c.pool)
			}
		}
		c.l.forget(c)
	}()
	// The first request's head must come within ReadHeaderTimeout of the
	// connection's start, later ones within IdleTimeout and then
	// ReadHeaderTimeout of their first byte, as net/http has it.
	hdrDeadline := time.Now().Add(c.l.opts.ReadHeaderTimeout)
	if c.other(hdrDeadline) {
		handedOff = c.handOffRaw()
		return
	}
	for first := true; ; first = false {
		if c.r == c.w {
			c.r, c.w = 0, 0
			wait := hdrDeadline
			if !first {
				wait = time.Now().Add(c.l.opts.IdleTimeout)
			}
			if !c.waitRequest(wait) {
				return
			}
		}
		if !first {
			hdrDeadline = time.Now().Add(c.l.opts.ReadHeaderTimeout)
		}
		end, expired, ok := c.readHead(hdrDeadline)
		if !ok {
			return
		}
		if end < 0 {
			handedOff = c.handOff(expired)
			return
		}
		var req request
		if !req.parse(c.buf[c.r:end]) {
			handedOff = c.handOff(nil)
			return
		}
		switch c.answer(&req) {
		case handOff:
			handedOff = c.handOff(nil)
			return
		case failed:
			return
		}
		c.r = end
		if req.close {
			return // closed at once, as net/http does
		}
	}
}

// waitRequest reads a request's first bytes while the connection counts
// as idle: Shutdown closes it then. It reports whether any came.
func (c *conn) waitRequest(deadline time.Time) bool {
	n, err := c.idleRead(deadline, func() (int, error) { return c.nc.Read(c.buf) })
	c.w = n
	return n > 0 && err == nil
}

// idleRead runs read, bounded by deadline, while the connection counts as
// idle, so that Shutdown closes it meanwhile; it reads nothing when
// Shutdown has begun.
func (c *conn) idleRead(deadline time.Time, read func() (int, error)) (int, error) {
	c.mu.Lock()
	if c.l.shutting.Load() {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.idle = true
	c.mu.Unlock()
	c.nc.SetReadDeadline(deadline)
	n, err := read()
	c.mu.Lock()
	c.idle = false
	c.mu.Unlock()
	return n, err
}

// other looks at the connection's first bytes without reading them and
// reports whether they are not a media request line. Anything else (a
// media request so far, nothing yet at the deadline, the peer gone, no
// peeking on this platform) leaves the connection to the reads that
// follow, which meet the same bytes, deadline or end.
func (c *conn) other(deadline time.Time) bool {
	n, err := c.idleRead(deadline, func() (int, error) { return peek(c.nc, c.first[:]) })
	if err != nil || n == 0 {
		return false
	}
	got := c.first[:n]
	return !bytes.HasPrefix(mediaPrefixBytes, got)
}

// handOffRaw gives net/http the connection itself, nothing read from it.
func (c *conn) handOffRaw() bool {
	c.nc.SetDeadline(time.Time{})
	select {
	case c.l.handoff <- c.nc:
		return true
	case <-c.l.done:
		return false // serve closes it
	}
}

func (c *conn) closeIfIdle() {
	c.mu.Lock()
	if c.idle {
		c.nc.Close()
	}
	c.mu.Unlock()
}

// readHead reads until buf[r:] holds a whole request head and returns
// the offset just past it, or -1 when the request is net/http's: its
// first bytes are not a media request line, the head does not fit in
// the buffer, or reading it ended early: the client ended the connection
// inside it, or the header timeout came (expired is then the error for
// net/http to meet after the bytes read, so that it answers as it
// does). ok is false when the connection must just be closed: a read
// failed, which net/http does not answer either.
func (c *conn) readHead(deadline time.Time) (end int, expired error, ok bool) {
	deadlineSet := false
	for {
		got := c.buf[c.r:c.w]
		if !bytes.HasPrefix(got, mediaPrefixBytes) && !bytes.HasPrefix(mediaPrefixBytes, got) {
			return -1, nil, true
		}
		if i := bytes.Index(got, headEnd); i >= 0 {
			return c.r + i + 4, nil, true
		}
		if bareLF(got) {
			return -1, nil, true // lines net/http reads, the fast path does not
		}
		if c.w == len(c.buf) && c.pool == nil {
			// A media request line so far: borrow the head buffer.
			p := bufPool.Get().(*[]byte)
			c.w = copy(*p, got)
			c.r, c.buf, c.pool = 0, *p, p
		}
		if c.w == len(c.buf) {
			if c.r == 0 {
				return -1, nil, true // too long for the fast path
			}
			c.w = copy(c.buf, got)
			c.r = 0
		}
		if !deadlineSet {
			c.nc.SetReadDeadline(deadline)
			deadlineSet = true
		}
		n, err := c.nc.Read(c.buf[c.w:])
		c.w += n
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			return -1, err, true
		case errors.Is(err, io.EOF):
			return -1, nil, true
		default:
			return 0, nil, false
		}
	}
}

// bareLF reports whether b has a line feed without a carriage return
// before it.
func bareLF(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return false
		}
		i += j
		if i == 0 || b[i-1] != '\r' {
			return true
		}
		i++
	}
}

// handOff gives the connection, with its unanswered bytes, to net/http's
// Accept. It reports whether net/http took it.
func (c *conn) handOff(expired error) bool {
	c.nc.SetDeadline(time.Time{}) // net/http sets its own
	rc := &replayConn{Conn: c.nc, tcp: c.nc, buf: c.buf[c.r:c.w], pool: c.pool, expired: expired}
	empty := len(rc.buf) == 0
	switch {
	case empty:
		rc.buf, rc.pool = nil, nil
	case c.pool == nil:
		rc.buf = bytes.Clone(rc.buf) // not the conn's own array: it may go
	}
	select {
	case c.l.handoff <- rc: // rc is net/http's from here on
		if empty && c.pool != nil {
			bufPool.Put(c.pool)
		}
		return true
	case <-c.l.done:
		return false // serve closes it
	}
}
