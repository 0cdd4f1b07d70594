// Package assets owns content-addressed media: hashing, sniffing what a file
// really is from its bytes, and verifying that downloaded bytes are the ones
// a manifest promised. It is shared by the server and the player.
package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
)

// SniffLen is how many leading bytes Sniff needs.
const SniffLen = 512

// Accepted media types. Anything else, SVG and HTML included, is refused:
// screens show raster images and video, nothing that can carry script.
const (
	MIMEPNG  = "image/png"
	MIMEJPEG = "image/jpeg"
	MIMEWebP = "image/webp"
	MIMEGIF  = "image/gif"
	MIMEMP4  = "video/mp4"
	MIMEWebM = "video/webm"
)

// ErrUnsupported is returned by Sniff for bytes that are not an accepted
// media type.
var ErrUnsupported = errors.New("unsupported media type")

// Sniff identifies the media type from the first bytes of a file (at least
// SniffLen of them when the file is that long). The file name and any
// declared type are deliberately ignored.
func Sniff(head []byte) (string, error) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return MIMEPNG, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return MIMEJPEG, nil
	case len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return MIMEWebP, nil
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return MIMEGIF, nil
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		// EBML header: WebM (Matroska is refused, browsers do not all play it).
		if bytes.Contains(head, []byte("webm")) {
			return MIMEWebM, nil
		}
	case isMP4(head):
		return MIMEMP4, nil
	}
	detected := http.DetectContentType(head)
	return "", fmt.Errorf("%w: %s (accepted: PNG, JPEG, WebP, GIF, MP4, WebM)", ErrUnsupported, detected)
}

// isMP4 checks for an ISO base media "ftyp" box with an MP4-family brand.
func isMP4(head []byte) bool {
	if len(head) < 12 || !bytes.Equal(head[4:8], []byte("ftyp")) {
		return false
	}
	brand := string(head[8:12])
	switch brand {
	case "isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "M4V ", "MSNV", "NDAS":
		return true
	}
	return false
}

// Sum returns the lower-case hex SHA-256 of b.
func Sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ErrMismatch is returned when bytes do not match what was promised.
var ErrMismatch = errors.New("asset verification failed")

// Verifier hashes bytes as they pass and checks them against an expected
// hash and size. Write everything, then call Check.
type Verifier struct {
	want string
	size int64
	h    hash.Hash
	n    int64
}

// NewVerifier expects size bytes hashing to sha (lower-case hex).
func NewVerifier(sha string, size int64) *Verifier {
	return &Verifier{want: sha, size: size, h: sha256.New()}
}

// Write hashes p. It fails as soon as more bytes arrive than promised, so a
// hostile server cannot fill the disk.
func (v *Verifier) Write(p []byte) (int, error) {
	if v.n+int64(len(p)) > v.size {
		return 0, fmt.Errorf("%w: more than the expected %d bytes", ErrMismatch, v.size)
	}
	v.n += int64(len(p))
	return v.h.Write(p)
}

// Written is how many bytes have been hashed so far.
func (v *Verifier) Written() int64 { return v.n }

// Check reports whether exactly the promised bytes were written.
func (v *Verifier) Check() error {
	if v.n != v.size {
		return fmt.Errorf("%w: got %d bytes, want %d", ErrMismatch, v.n, v.size)
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("%w: sha256 %s, want %s", ErrMismatch, got, v.want)
	}
	return nil
}

// Verify reads r to the end and checks it against sha and size.
func Verify(r io.Reader, sha string, size int64) error {
	v := NewVerifier(sha, size)
	if _, err := io.Copy(v, r); err != nil {
		return err
	}
	return v.Check()
}
