package playlists

import "strconv"

// The frames every screen sends after every publish, applied (with the
// heartbeat inside) and heartbeat, are read here without encoding/json:
// at 10,000 screens the reflection decoder was the largest cost of an
// acknowledgement on the server (about 20 µs a frame, with the read
// pump's stack grown and shrunk again each time). DecodeAcked accepts only
// the plain shape the player writes (Encode's output: the type first,
// keys spelled exactly, strings of printable ASCII without escapes,
// integers, booleans, no null, no update status) and says ok = false for
// anything else, which the caller then decodes with Decode and DecodeData
// as before. Whenever it says ok, the result is what encoding/json gives
// (TestDecodeAckedMatchesJSON and FuzzDecodeAcked hold it to that).

// DecodeAcked decodes frame if it is an applied or heartbeat frame in the
// plain shape. typ is MsgApplied (a filled) or MsgHeartbeat (hb filled).
func DecodeAcked(frame []byte) (typ string, a Applied, hb Heartbeat, ok bool) {
	p := fastParser{b: frame}
	if !p.byte('{') || !p.key("type") {
		return "", a, hb, false
	}
	t, ok := p.str()
	if !ok || !p.byte(',') || !p.key("data") {
		return "", a, hb, false
	}
	switch t {
	case MsgApplied:
		ok = p.applied(&a)
	case MsgHeartbeat:
		ok = p.heartbeat(&hb)
	default:
		return "", a, hb, false
	}
	if !ok || !p.byte('}') || !p.end() {
		return "", Applied{}, Heartbeat{}, false
	}
	return t, a, hb, true
}

// fastParser walks one plain JSON frame; every method reports false on
// anything outside the plain shape.
type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c after any white space.
func (p *fastParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (p *fastParser) end() bool {
	p.space()
	return p.i == len(p.b)
}

// key consumes the object key k and its colon.
func (p *fastParser) key(k string) bool {
	s, ok := p.rawStr()
	return ok && string(s) == k && p.byte(':')
}

// rawStr consumes a string of printable ASCII without escapes.
func (p *fastParser) rawStr() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c < 0x20 || c == '\\' || c >= 0x7f:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

func (p *fastParser) str() (string, bool) {
	s, ok := p.rawStr()
	return string(s), ok
}

// int consumes an integer that fits in int64, as encoding/json takes it
// into an int64 or int field: no fraction, no exponent, no leading zero.
func (p *fastParser) int() (int64, bool) {
	p.space()
	start := p.i
	if p.i < len(p.b) && p.b[p.i] == '-' {
		p.i++
	}
	digits := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	n := p.i - digits
	if n == 0 || (n > 1 && p.b[digits] == '0') {
		return 0, false
	}
	if p.i < len(p.b) && (p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		return 0, false
	}
	v, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	return v, err == nil
}

func (p *fastParser) bool() (bool, bool) {
	p.space()
	switch {
	case hasAt(p.b, p.i, "true"):
		p.i += 4
		return true, true
	case hasAt(p.b, p.i, "false"):
		p.i += 5
		return false, true
	}
	return false, false
}

func hasAt(b []byte, i int, s string) bool {
	return len(b)-i >= len(s) && string(b[i:i+len(s)]) == s
}

// object runs field for each key of an object; field consumes the value.
func (p *fastParser) object(field func(key []byte) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		k, ok := p.rawStr()
		if !ok || !p.byte(':') || !field(k) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

func (p *fastParser) applied(a *Applied) bool {
	return p.object(func(k []byte) bool {
		var ok bool
		switch string(k) {
		case "version":
			a.Version, ok = p.str()
		case "heartbeat":
			// A repeated key fills the same heartbeat, as encoding/json
			// does with a pointer already set.
			if a.Heartbeat == nil {
				a.Heartbeat = new(Heartbeat)
			}
			ok = p.heartbeat(a.Heartbeat)
		}
		return ok
	})
}

func (p *fastParser) heartbeat(hb *Heartbeat) bool {
	return p.object(func(k []byte) bool {
		var ok bool
		var n int64
		switch string(k) {
		case "current_item":
			hb.CurrentItem, ok = p.str()
		case "current_since":
			hb.CurrentSince, ok = p.int()
		case "applied_version":
			hb.AppliedVersion, ok = p.str()
		case "uptime_s":
			hb.UptimeS, ok = p.int()
		case "cache_bytes":
			hb.CacheBytes, ok = p.int()
		case "disk_free_bytes":
			hb.DiskFreeBytes, ok = p.int()
		case "disk_total_bytes":
			hb.DiskTotalBytes, ok = p.int()
		case "player_version":
			hb.PlayerVersion, ok = p.str()
		case "clock_offset_ms":
			hb.ClockOffsetMS, ok = p.int()
		case "page_alive":
			hb.PageAlive, ok = p.bool()
		case "last_sync_error":
			hb.LastSyncError, ok = p.str()
		case "manifest_rejected":
			hb.ManifestRejected, ok = p.str()
		case "download_failures":
			n, ok = p.int()
			hb.DownloadFailures = int(n)
			ok = ok && int64(hb.DownloadFailures) == n
		case "plays_pending":
			hb.PlaysPending, ok = p.int()
		case "plays_dropped":
			hb.PlaysDropped, ok = p.int()
		}
		return ok
	})
}
