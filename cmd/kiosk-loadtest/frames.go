package main

// Reading frames off a screen's socket as cheaply as a player on its own
// machine would: 10,000 simulated screens share the cores with the server
// they measure, so what the tool spends per frame is the server's loss.

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// readBufs lend readFrame a buffer to read a frame into.
var readBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledRead is the largest buffer put back in readBufs; one grown by a
// rare large frame is left to the collector.
const maxPooledRead = 64 << 10

// readFrame reads the next frame into a buffer lent by readBufs, which the
// caller gives back (releaseFrame) once nothing points into it.
// conn.ReadMessage grows a new slice from 512 bytes for every frame, four
// allocations and copies for a pushed manifest: with 10,000 screens in one
// process, allocating and clearing a frame's worth of memory per screen
// per publish was a tenth of the tool's CPU, taken from the server on the
// same cores. A pushed manifest's body is not kept from the buffer either
// (manifestCache.own).
func readFrame(conn *websocket.Conn) (*bytes.Buffer, error) {
	_, r, err := conn.NextReader()
	if err != nil {
		return nil, err
	}
	b := readBufs.Get().(*bytes.Buffer)
	b.Reset()
	if _, err := b.ReadFrom(r); err != nil {
		releaseFrame(b)
		return nil, err
	}
	return b, nil
}

func releaseFrame(b *bytes.Buffer) {
	if b.Cap() <= maxPooledRead {
		readBufs.Put(b)
	}
}

// own makes p.Body, which points into a lent frame buffer, p's own: the
// bytes already verified for p.Version when they are the same (every
// screen of a publish receives the same manifest), a copy otherwise.
func (c *manifestCache) own(p *playlists.ManifestPush) {
	c.mu.Lock()
	mi := c.by[p.Version]
	c.mu.Unlock()
	if mi != nil && bytes.Equal(mi.raw, p.Body) {
		p.Body = mi.raw
		return
	}
	p.Body = bytes.Clone(p.Body)
}

// pushFramePrefix, pushFrameProof and pushFrameBody frame the manifest
// frames the server builds (playlists.PushFrames, or Encode of a
// ManifestPush): the proof comes after the version and the signature,
// and the body is the frame's last field.
const (
	pushFramePrefix = `{"type":"` + playlists.MsgManifest + `","data":{`
	pushFrameProof  = `,"proof":[`
	pushFrameBody   = `],"manifest":`
)

// pushHead is the last decoded head of a pushed frame: its version and
// signature, which are the same bytes in every screen's frame of one
// publish. Decoding them once per publish instead of once per screen is
// what 10,000 players on their own machines would do in total; in one
// process it was an eighth of the tool's CPU, taken from the server it
// measures on the same cores.
type pushHead struct {
	raw string // the bytes from the data object's brace up to the proof
	p   playlists.ManifestPush
}

var lastPushHead atomic.Pointer[pushHead]

// splitPushFrame reads a manifest frame without running the JSON decoder
// over the manifest: the head (version, signature) is decoded, or taken
// from lastPushHead when its bytes are the same; the proof, hex strings,
// is read by hand; the body is the bytes between "manifest": and the
// closing braces, which the version hash then checks
// (manifestCache.open). ok is false for any other frame, or one laid out
// otherwise.
func splitPushFrame(msg []byte) (*playlists.ManifestPush, bool) {
	if !bytes.HasPrefix(msg, []byte(pushFramePrefix)) || !bytes.HasSuffix(msg, []byte("}}")) {
		return nil, false
	}
	// Neither the version, the signature's fields nor the hex proof can
	// hold these sequences, so their first occurrences end the head and
	// the proof.
	start := len(pushFramePrefix) - 1 // the data object's opening brace
	i := bytes.Index(msg, []byte(pushFrameProof))
	j := bytes.Index(msg, []byte(pushFrameBody))
	if i < start || j < i {
		return nil, false
	}
	p := new(playlists.ManifestPush)
	raw := msg[start:i]
	if h := lastPushHead.Load(); h != nil && h.raw == string(raw) {
		*p = h.p
	} else {
		head := make([]byte, 0, len(raw)+1)
		head = append(append(head, raw...), '}')
		if json.Unmarshal(head, p) != nil || p.Version == "" || p.Proof != nil || p.Body != nil {
			return nil, false
		}
		lastPushHead.Store(&pushHead{raw: string(raw), p: *p})
	}
	proof, ok := hexStrings(msg[i+len(pushFrameProof) : j])
	if !ok {
		return nil, false
	}
	p.Proof = proof
	p.Body = msg[j+len(pushFrameBody) : len(msg)-2]
	return p, true
}

// hexStrings reads the inside of a JSON array of strings made of letters,
// digits and colons only (a proof: "l:<hex>", "r:<hex>"); ok is false for
// anything else.
func hexStrings(b []byte) ([]string, bool) {
	if len(b) == 0 {
		return []string{}, true
	}
	out := make([]string, 0, bytes.Count(b, []byte(","))+1)
	for part := range bytes.SplitSeq(b, []byte(",")) {
		if len(part) < 2 || part[0] != '"' || part[len(part)-1] != '"' {
			return nil, false
		}
		part = part[1 : len(part)-1]
		for _, c := range part {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':') {
				return nil, false
			}
		}
		out = append(out, string(part))
	}
	return out, true
}
