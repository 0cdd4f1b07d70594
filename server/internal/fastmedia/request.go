package fastmedia

import (
	"bytes"
)

// request is a media GET's head as the fast path understands it. parse
// accepts only heads that net/http reads the same way and that the API
// would answer from the fields here; anything else is net/http's.
type request struct {
	sha   string
	auth  []byte // Authorization, trimmed
	rng   []byte // Range
	inm   []byte // If-None-Match
	ims   []byte // If-Modified-Since
	close bool   // Connection: close
}

const shaLen = 64

// requestLine is "GET /api/v1/device/assets/<sha> HTTP/1.1".
const requestLineLen = len(mediaPrefix) + shaLen + len(" HTTP/1.1")

// parse reads head (the request line and header lines, each ending in
// CRLF, then an empty line). It reports false for what it leaves to
// net/http: another request line; a line with a bare CR or LF, a folded
// line, a header name that is not a token or a value with control bytes;
// no Host or more than one; more than one of a header it reads; a body
// (Content-Length, Transfer-Encoding), Expect, Upgrade, a Connection
// option other than close and keep-alive, and the conditions and range
// forms the fast path does not answer (If-Match, If-Unmodified-Since,
// If-Range).
func (r *request) parse(head []byte) bool {
	line, rest, ok := cutLine(head)
	if !ok || len(line) != requestLineLen ||
		!bytes.HasPrefix(line, mediaPrefixBytes) || !bytes.HasSuffix(line, []byte(" HTTP/1.1")) {
		return false
	}
	sha := line[len(mediaPrefix) : len(mediaPrefix)+shaLen]
	for _, b := range sha {
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'f') {
			return false
		}
	}
	hosts := 0
	seen := 0 // bits of the headers read
	for {
		line, rest, ok = cutLine(rest)
		if !ok {
			return false
		}
		if len(line) == 0 {
			break // the empty line: the head's end
		}
		if line[0] == ' ' || line[0] == '\t' {
			return false // obsolete line folding
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		for _, b := range name {
			if !isTokenByte(b) {
				return false
			}
		}
		for _, b := range value {
			if b < ' ' && b != '\t' || b == 0x7f {
				return false
			}
		}
		var bit int
		switch {
		case bytes.EqualFold(name, []byte("Host")):
			hosts++
			if !validHost(value) {
				return false
			}
			continue
		case bytes.EqualFold(name, []byte("Authorization")):
			bit, r.auth = 1, value
		case bytes.EqualFold(name, []byte("Range")):
			bit, r.rng = 2, value
		case bytes.EqualFold(name, []byte("If-None-Match")):
			bit, r.inm = 4, value
		case bytes.EqualFold(name, []byte("If-Modified-Since")):
			bit, r.ims = 8, value
		case bytes.EqualFold(name, []byte("Connection")):
			bit = 16
			if !r.connection(value) {
				return false
			}
		case bytes.EqualFold(name, []byte("Content-Length")),
			bytes.EqualFold(name, []byte("Transfer-Encoding")),
			bytes.EqualFold(name, []byte("Expect")),
			bytes.EqualFold(name, []byte("Upgrade")),
			bytes.EqualFold(name, []byte("If-Match")),
			bytes.EqualFold(name, []byte("If-Unmodified-Since")),
			bytes.EqualFold(name, []byte("If-Range")):
			return false
		default:
			continue
		}
		if seen&bit != 0 {
			return false // net/http would read only the first
		}
		seen |= bit
	}
	if hosts != 1 || len(rest) != 0 {
		return false
	}
	r.sha = string(sha)
	return true
}

// cutLine splits off a line ending in CRLF; a bare CR or LF before it
// is refused.
func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil, false
	}
	line = b[:i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, nil, false
	}
	return line, b[i+1:], true
}

// connection reads a Connection header: only the options close and
// keep-alive.
func (r *request) connection(v []byte) bool {
	for len(v) > 0 {
		var opt []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			opt, v = trimOWS(v[:i]), v[i+1:]
		} else {
			opt, v = trimOWS(v), nil
		}
		switch {
		case bytes.EqualFold(opt, []byte("close")):
			r.close = true
		case bytes.EqualFold(opt, []byte("keep-alive")):
		default:
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// isTokenByte is RFC 9110's tchar.
func isTokenByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
}

// validHost accepts a host name or address with an optional port, in the
// plain characters net/http accepts too; anything else is net/http's to
// judge.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	for _, b := range v {
		switch {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		case b == '.', b == '-', b == ':', b == '[', b == ']':
		default:
			return false
		}
	}
	return true
}
