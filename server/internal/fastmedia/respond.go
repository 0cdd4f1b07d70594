package fastmedia

import (
	"bytes"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

type outcome int

const (
	answered outcome = iota // sent; the connection may go on
	handOff                 // nothing sent; the request is net/http's
	failed                  // the connection broke while answering
)

// answer sends what the API sends for req (http.ServeContent's answer
// with the API's headers), or hands it off: the token or asset refused,
// an If-None-Match that does not match (ServeContent parses entity tags
// more loosely than a list), a Range that is not one satisfiable range
// in its plain form, an asset whose bytes cannot be opened.
func (c *conn) answer(req *request) outcome {
	start := time.Now()
	if c.l.shutting.Load() {
		req.close = true // net/http's answers say so while it shuts down
	}
	token, ok := bearer(req.auth)
	if !ok {
		return handOff
	}
	a, ok := c.l.src.Asset(token, req.sha)
	// ServeContent sends no Last-Modified for a zero or epoch time.
	if !ok || a.ModTime.IsZero() || a.ModTime.Equal(time.Unix(0, 0)) || !validValue(a.MIME) {
		return handOff
	}
	modTime := a.ModTime.UTC().Truncate(time.Second) // HTTP dates have whole seconds
	if req.inm != nil {
		if !etagMatches(req.inm, req.sha) {
			return handOff
		}
		return c.notModified(req, a, start)
	}
	if req.ims != nil {
		if t, err := http.ParseTime(string(req.ims)); err == nil && !modTime.After(t) {
			return c.notModified(req, a, start)
		}
	}
	status, off, n := http.StatusOK, int64(0), a.Size
	if req.rng != nil {
		if off, n, ok = parseRange(req.rng, a.Size); !ok {
			return handOff
		}
		status = http.StatusPartialContent
	}
	f, err := c.l.files.get(req.sha)
	if err != nil {
		return handOff
	}
	defer c.l.files.put(f)

	b := c.out[:0]
	if status == http.StatusOK {
		b = append(b, "HTTP/1.1 200 OK\r\n"...)
	} else {
		b = append(b, "HTTP/1.1 206 Partial Content\r\n"...)
	}
	b = append(b, "Accept-Ranges: bytes\r\nContent-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	if status == http.StatusPartialContent {
		b = append(b, "\r\nContent-Range: bytes "...)
		b = strconv.AppendInt(b, off, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, off+n-1, 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, a.Size, 10)
	}
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, a.MIME...)
	b = append(b, "\r\n"...)
	b = appendETag(b, req.sha)
	b = append(b, "Last-Modified: "...)
	b = modTime.AppendFormat(b, http.TimeFormat)
	b = append(b, "\r\n"...)
	b = append(b, a.Header...)
	b = c.endHead(b, req)
	c.out = b
	if err := writeHead(c.nc, b, n > 0); err != nil {
		return failed
	}
	if err := sendFile(c.nc, f.f, off, n); err != nil {
		return failed
	}
	c.l.src.Served(status, time.Since(start))
	return answered
}

func (c *conn) notModified(req *request, a Asset, start time.Time) outcome {
	b := append(c.out[:0], "HTTP/1.1 304 Not Modified\r\n"...)
	b = appendETag(b, req.sha)
	b = append(b, a.NotModifiedHeader...)
	b = c.endHead(b, req)
	c.out = b
	if err := writeHead(c.nc, b, false); err != nil {
		return failed
	}
	c.l.src.Served(http.StatusNotModified, time.Since(start))
	return answered
}

func appendETag(b []byte, sha string) []byte {
	b = append(b, "Etag: \""...)
	b = append(b, sha...)
	return append(b, "\"\r\n"...)
}

// endHead adds Date, Connection: close when the client asked for it,
// and the empty line, as net/http does.
func (c *conn) endHead(b []byte, req *request) []byte {
	b = append(b, "Date: "...)
	b = appendDate(b)
	if req.close {
		b = append(b, "\r\nConnection: close"...)
	}
	return append(b, "\r\n\r\n"...)
}

// bearer is the API's reading of Authorization: "Bearer <token>", the
// scheme in any case, the token trimmed.
func bearer(v []byte) (string, bool) {
	if len(v) <= 7 || !bytes.EqualFold(v[:7], []byte("bearer ")) {
		return "", false
	}
	t := bytes.TrimSpace(v[7:])
	if len(t) == 0 {
		return "", false
	}
	return string(t), true
}

// etagMatches is the API's If-None-Match test (etagMatches in the api
// package) against `"sha"`: a list, weak comparison, or "*".
func etagMatches(v []byte, sha string) bool {
	for len(v) > 0 {
		var t []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			t, v = v[:i], v[i+1:]
		} else {
			t, v = v, nil
		}
		t = bytes.TrimPrefix(bytes.TrimSpace(t), []byte("W/"))
		if len(t) == 1 && t[0] == '*' ||
			len(t) == len(sha)+2 && t[0] == '"' && t[len(t)-1] == '"' && string(t[1:len(t)-1]) == sha {
			return true
		}
	}
	return false
}

// parseRange reads the three plain forms of one satisfiable byte range
// ("bytes=A-B", "bytes=A-", "bytes=-N" with N > 0), as http.ServeContent
// answers them: the end clamped to the size, a suffix longer than the
// content meaning all of it. Anything else (several ranges, spaces, an
// unsatisfiable one, 416) is left to ServeContent.
func parseRange(v []byte, size int64) (off, n int64, ok bool) {
	spec, found := bytes.CutPrefix(v, []byte("bytes="))
	if !found {
		return 0, 0, false
	}
	first, last, found := bytes.Cut(spec, []byte("-"))
	if !found {
		return 0, 0, false
	}
	if len(first) == 0 {
		suffix, ok := digits(last)
		if !ok || suffix == 0 {
			return 0, 0, false
		}
		suffix = min(suffix, size)
		return size - suffix, suffix, size > 0
	}
	start, ok := digits(first)
	if !ok || start >= size {
		return 0, 0, false
	}
	end := size - 1
	if len(last) > 0 {
		e, ok := digits(last)
		if !ok || e < start {
			return 0, 0, false
		}
		end = min(e, size-1)
	}
	return start, end - start + 1, true
}

// digits is a decimal number of at most 18 digits (no overflow).
func digits(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

// validValue reports whether s can be sent as a header value as it is.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return s != ""
}

// date is the Date header's value, formatted once a second.
type date struct {
	sec int64
	b   []byte
}

var lastDate atomic.Pointer[date]

func appendDate(b []byte) []byte {
	now := time.Now()
	d := lastDate.Load()
	if d == nil || d.sec != now.Unix() {
		d = &date{sec: now.Unix(), b: now.UTC().AppendFormat(nil, http.TimeFormat)}
		lastDate.Store(d)
	}
	return append(b, d.b...)
}
