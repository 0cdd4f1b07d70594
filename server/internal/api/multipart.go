package api

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// maxPartHeaderBytes bounds one multipart part's header section (its
// boundary line included). mime/multipart reads up to 10 MB of part
// headers into memory, so twenty uploads with a 9 MB header each cost the
// server 440 MB; a browser's file part needs a few hundred bytes.
const maxPartHeaderBytes = 8 << 10

// multipartReader reads r's multipart/form-data body with each part's
// header section bounded by maxPartHeaderBytes. The returned limiter says
// whether a read failed because of that bound.
func multipartReader(r *http.Request) (*multipart.Reader, *partHeaderLimiter, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, nil, errorf(http.StatusBadRequest, "expected a multipart/form-data body with a \"file\" field: Content-Type is not multipart/form-data")
	}
	boundary := params["boundary"]
	if boundary == "" || strings.ContainsAny(boundary, "\r\n") {
		return nil, nil, errorf(http.StatusBadRequest, "expected a multipart/form-data body with a \"file\" field: no usable boundary in Content-Type")
	}
	lim := newPartHeaderLimiter(r.Body, boundary, maxPartHeaderBytes)
	return multipart.NewReader(lim, boundary), lim, nil
}

// errPartHeaderTooLarge is the answer to a part whose headers pass the bound.
func errPartHeaderTooLarge(max int) error {
	return errCode(http.StatusBadRequest, "part_header_too_large",
		fmt.Sprintf("a multipart part's headers exceed %d bytes", max))
}

// partHeaderLimiter sits between a request body and mime/multipart and
// fails the read that would take a part's header section past max bytes,
// before multipart has buffered it. It follows the stream just enough to
// find the header sections: a delimiter line ("--boundary" at the start of
// a line, as multipart accepts with CRLF or bare LF line ends) up to the
// first empty line after it. Part bodies pass through untouched; the final
// delimiter ("--boundary--") ends the watch.
type partHeaderLimiter struct {
	r     io.Reader
	delim []byte // "\n--" + boundary
	max   int

	state   int
	matched int // stBody: bytes of delim matched
	pos     int // stDelimLine: bytes after the boundary
	dashes  int // stDelimLine: leading '-' after the boundary ("--" is the final one)
	lineLen int // stHeader: bytes on the current line, CR not counted
	n       int // bytes of the current header section

	exceeded bool
}

const (
	stBody      = iota // preamble or a part's body: looking for a delimiter
	stDelimLine        // after "--boundary", up to the end of that line
	stHeader           // a part's header lines, up to an empty line
	stDone             // after the final delimiter
)

func newPartHeaderLimiter(r io.Reader, boundary string, max int) *partHeaderLimiter {
	// The stream starts as if after a line end: the first delimiter may
	// be its very first line.
	return &partHeaderLimiter{r: r, delim: []byte("\n--" + boundary), max: max, matched: 1}
}

func (l *partHeaderLimiter) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errPartHeaderTooLarge(l.max)
	}
	n, err := l.r.Read(p)
	if !l.scan(p[:n]) {
		// Nothing of this read is passed on: the request fails anyway,
		// and multipart must not buffer more of the header.
		l.exceeded = true
		return 0, errPartHeaderTooLarge(l.max)
	}
	return n, err
}

// scan follows the stream through b and reports false once a header
// section is longer than max.
func (l *partHeaderLimiter) scan(b []byte) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch l.state {
		case stBody:
			if l.matched == 0 {
				// Skip to the next line end, where a delimiter may begin.
				j := bytes.IndexByte(b[i:], '\n')
				if j < 0 {
					return true
				}
				i += j
				l.matched = 1
				continue
			}
			if c == l.delim[l.matched] {
				l.matched++
				if l.matched == len(l.delim) {
					l.state, l.pos, l.dashes, l.n = stDelimLine, 0, 0, 0
				}
				continue
			}
			l.matched = 0
			if c == '\n' {
				l.matched = 1
			}
		case stDelimLine:
			l.n++
			switch {
			case c == '-' && l.pos == l.dashes && l.dashes < 2:
				l.dashes++
				if l.dashes == 2 {
					l.state = stDone
					return true
				}
			case c == '\n' && l.dashes == 0:
				l.state, l.lineLen = stHeader, 0
			case (c == ' ' || c == '\t' || c == '\r') && l.dashes == 0:
			default:
				// "--boundary" followed by something else: not a delimiter
				// line, so still inside a body.
				l.state, l.matched = stBody, 0
				if c == '\n' {
					l.matched = 1
				}
			}
			l.pos++
		case stHeader:
			l.n++
			switch c {
			case '\n':
				if l.lineLen == 0 {
					l.state, l.matched = stBody, 0
				}
				l.lineLen = 0
			case '\r':
			default:
				l.lineLen++
			}
		case stDone:
			return true
		}
		if l.n > l.max {
			return false
		}
	}
	return true
}
