// Package fastmedia answers players' media requests (GET
// /api/v1/device/assets/{sha}) without net/http, at the cost of a web
// server written in C: a listener wrapper reads each plain TCP
// connection's requests itself, answers the ordinary media GETs it
// fully understands with a small HTTP/1.1 responder (keep-alive,
// pipelining, sendfile, one byte range, If-None-Match and
// If-Modified-Since), and hands the connection, with the bytes it has
// read, to net/http for the rest of its life at the first request that is
// anything else: another route, HEAD, HTTP/1.0, a body, an Upgrade, a
// header it does not parse exactly, a condition or range it does not
// answer, any refusal (a bad token, an asset not in the screen's manifest).
// net/http then answers that request as if it had read it itself, so
// every error and unusual case keeps exactly one implementation, the
// API's; the fast path only ever sends what the API would have sent.
//
// What the API would send for an answer is kept in step by the
// differential test in the api package, which sends the same requests to
// the server with and without this listener and compares the answers.
package fastmedia

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Source is what the fast path needs from the API.
type Source interface {
	// Asset is what to send for sha to the holder of the device token:
	// ok is false when the request must go to net/http instead (the
	// token or the asset refused, access logging on, anything the API
	// answers otherwise than with the asset).
	Asset(token, sha string) (a Asset, ok bool)
	// Open opens the asset's bytes; an error hands the request to
	// net/http, which reports it.
	Open(sha string) (*os.File, error)
	// Served records a GET the fast path answered (metrics).
	Served(status int, took time.Duration)
}

// Asset is one answer's metadata.
type Asset struct {
	MIME    string
	Size    int64
	ModTime time.Time // Last-Modified; zero or the epoch: left to net/http
	// Header is the header lines ("Name: value\r\n" each) the API adds
	// to an answer with the bytes (200 and 206); NotModifiedHeader those
	// it adds to a 304.
	Header            string
	NotModifiedHeader string
}

// Options are the timeouts net/http would apply to the same connection.
type Options struct {
	// ReadHeaderTimeout bounds reading a request's head, from the
	// connection's start or the request's first byte.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection.
	IdleTimeout time.Duration
	Logger      *slog.Logger
}

// Listener is a net.Listener for http.Server.Serve whose Accept returns
// only the connections the fast path hands over; Shutdown and CloseAll
// end the ones it is still serving.
type Listener struct {
	inner net.Listener
	src   Source
	opts  Options
	files *openFiles

	handoff chan net.Conn
	errc    chan error
	done    chan struct{} // closed by Close
	once    sync.Once

	shutting atomic.Bool
	mu       sync.Mutex
	conns    map[*conn]struct{}
	wg       sync.WaitGroup // one per served connection
}

// Listen starts accepting on inner.
func Listen(inner net.Listener, src Source, opts Options) *Listener {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	l := &Listener{
		inner:   inner,
		src:     src,
		opts:    opts,
		handoff: make(chan net.Conn),
		errc:    make(chan error),
		done:    make(chan struct{}),
		conns:   map[*conn]struct{}{},
		files:   newOpenFiles(src.Open),
	}
	go l.acceptLoop()
	return l
}

func (l *Listener) acceptLoop() {
	for {
		nc, err := l.inner.Accept()
		if err != nil {
			select {
			case l.errc <- err:
			case <-l.done:
				return
			}
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				continue // net/http waits, then calls Accept again
			}
			return
		}
		tc, ok := nc.(*net.TCPConn)
		if !ok { // not plain TCP (TLS, a pipe): all net/http's
			l.pass(nc)
			continue
		}
		c := newConn(l, tc)
		l.mu.Lock()
		if l.shutting.Load() {
			l.mu.Unlock()
			tc.Close()
			continue
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go c.serve()
	}
}

// pass hands nc to net/http's Accept, or closes it once the listener is
// closed.
func (l *Listener) pass(nc net.Conn) {
	select {
	case l.handoff <- nc:
	case <-l.done:
		nc.Close()
	}
}

// Accept returns the next connection for net/http.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case nc := <-l.handoff:
		return nc, nil
	case err := <-l.errc:
		return nil, err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting. Connections the fast path is serving go on;
// Shutdown or CloseAll ends them.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		close(l.done)
		err = l.inner.Close()
	})
	return err
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Shutdown is http.Server.Shutdown for the fast path's connections: it
// stops accepting, closes those waiting for a request, lets those reading
// a request or sending an answer finish it, and waits for all to end or
// ctx to be done.
func (l *Listener) Shutdown(ctx context.Context) error {
	l.Close()
	l.shutting.Store(true)
	l.mu.Lock()
	for c := range l.conns {
		c.closeIfIdle()
	}
	l.mu.Unlock()
	all := make(chan struct{})
	go func() { l.wg.Wait(); close(all) }()
	select {
	case <-all:
		l.files.closeAll()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// CloseAll closes the listener and every connection the fast path is
// serving (http.Server.Close).
func (l *Listener) CloseAll() {
	l.Close()
	l.shutting.Store(true)
	l.mu.Lock()
	for c := range l.conns {
		c.nc.Close()
	}
	l.mu.Unlock()
	l.files.closeAll() // files in use close with their last answer
}

func (l *Listener) forget(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.wg.Done()
}

// replayConn is a connection handed to net/http: the bytes the fast path
// read and did not answer come first. It passes ReadFrom (net/http's
// sendfile) and CloseWrite through to the TCP connection, and has no
// WriteTo, which would read past the replayed bytes.
type replayConn struct {
	net.Conn
	tcp  *net.TCPConn
	buf  []byte // unread replayed bytes
	pool *[]byte
	// expired is the read timeout the fast path met inside a head, for
	// net/http to meet after the replayed bytes, as if it had read them.
	expired error
}

func (r *replayConn) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		if err := r.expired; err != nil {
			r.expired = nil
			return 0, err
		}
		return r.Conn.Read(p)
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	if len(r.buf) == 0 {
		r.buf = nil // a drained slice would still hold the bytes' array
		if r.pool != nil {
			bufPool.Put(r.pool)
			r.pool = nil
		}
	}
	return n, nil
}

func (r *replayConn) ReadFrom(src io.Reader) (int64, error) {
	return r.tcp.ReadFrom(src)
}

func (r *replayConn) CloseWrite() error { return r.tcp.CloseWrite() }
