package playlists

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Manifest signatures. The manifest bytes stay exactly what they are (their
// SHA-256 is the version, and equal content keeps equal versions); the
// signature travels beside them, in HTTP headers on GET /device/manifest,
// and covers the screen it was issued to, a serial that only grows, the
// time it was issued, the key to trust next (during a key rotation) and
// the manifest bytes. A player that pinned the server's key refuses a
// manifest whose signature does not verify, one issued to another screen,
// and one with a serial below the one it applied last: a replayed older
// manifest cannot roll a screen back.
const (
	HeaderManifestKey       = "Kiosk-Manifest-Key"       // key id of the signing key
	HeaderManifestSerial    = "Kiosk-Manifest-Serial"    // decimal
	HeaderManifestIssuedAt  = "Kiosk-Manifest-Issued-At" // RFC 3339 with nanoseconds, UTC
	HeaderManifestNextKey   = "Kiosk-Manifest-Next-Key"  // base64 public key announced for rotation; empty: none
	HeaderManifestSignature = "Kiosk-Manifest-Signature" // base64 Ed25519 signature
	HeaderServerKey         = "Kiosk-Server-Key"         // base64 public key of the signing key (for pinning on first use)
)

// ManifestSignature is what travels beside a manifest's bytes.
type ManifestSignature struct {
	KeyID    string
	Serial   uint64
	IssuedAt time.Time
	NextKey  string // base64 Ed25519 public key, or ""
	Sig      []byte
}

// ErrSignature is any refusal of a signed manifest; errors.Is matches it.
var ErrSignature = errors.New("manifest signature refused")

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// EncodeKey and DecodeKey move public keys as standard base64.
func EncodeKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// DecodeKey reads a base64 Ed25519 public key.
func DecodeKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("not a base64 Ed25519 public key (%d bytes)", len(b))
	}
	return ed25519.PublicKey(b), nil
}

// SignedMessage is the exact byte string a manifest signature covers:
// fixed labels and lengths so that no two distinct inputs share one. The
// body enters as its SHA-256, so signing costs the same small amount for
// any manifest size (a fleet fetching after a publish signs once per
// screen).
func SignedMessage(screenID string, s ManifestSignature, body []byte) []byte {
	sum := sha256.Sum256(body)
	return labelled("kiosk-manifest-v1",
		screenID,
		strconv.FormatUint(s.Serial, 10),
		s.IssuedAt.UTC().Format(time.RFC3339Nano),
		s.KeyID,
		s.NextKey,
		hex.EncodeToString(sum[:]),
	)
}

// labelled is label, a newline, then each field as its length, a colon,
// the field and a newline: no two distinct inputs share one message.
func labelled(label string, fields ...string) []byte {
	b := make([]byte, 0, 256)
	b = append(b, label...)
	b = append(b, '\n')
	for _, f := range fields {
		b = appendField(b, f)
	}
	return b
}

// Headers renders s as HTTP header values.
func (s ManifestSignature) Headers() map[string]string {
	h := map[string]string{
		HeaderManifestKey:       s.KeyID,
		HeaderManifestSerial:    strconv.FormatUint(s.Serial, 10),
		HeaderManifestIssuedAt:  s.IssuedAt.UTC().Format(time.RFC3339Nano),
		HeaderManifestSignature: base64.StdEncoding.EncodeToString(s.Sig),
	}
	if s.NextKey != "" {
		h[HeaderManifestNextKey] = s.NextKey
	}
	return h
}

// ParseManifestSignature reads the headers get returns; a missing or
// malformed one is an ErrSignature.
func ParseManifestSignature(get func(string) string) (ManifestSignature, error) {
	var s ManifestSignature
	s.KeyID = get(HeaderManifestKey)
	if s.KeyID == "" || get(HeaderManifestSignature) == "" {
		return s, fmt.Errorf("%w: the manifest is not signed", ErrSignature)
	}
	var err error
	if s.Serial, err = strconv.ParseUint(get(HeaderManifestSerial), 10, 64); err != nil {
		return s, fmt.Errorf("%w: bad serial %q", ErrSignature, get(HeaderManifestSerial))
	}
	if s.IssuedAt, err = time.Parse(time.RFC3339Nano, get(HeaderManifestIssuedAt)); err != nil {
		return s, fmt.Errorf("%w: bad issued-at %q", ErrSignature, get(HeaderManifestIssuedAt))
	}
	if s.Sig, err = base64.StdEncoding.DecodeString(get(HeaderManifestSignature)); err != nil || len(s.Sig) != ed25519.SignatureSize {
		return s, fmt.Errorf("%w: malformed signature", ErrSignature)
	}
	s.NextKey = get(HeaderManifestNextKey)
	return s, nil
}

// VerifyManifestSignature checks s over body for screenID with one of the
// trusted keys (by key id). It does not judge the serial: the caller
// compares it with the last one it applied.
func VerifyManifestSignature(trusted []ed25519.PublicKey, screenID string, s ManifestSignature, body []byte) error {
	for _, k := range trusted {
		if KeyID(k) != s.KeyID {
			continue
		}
		if !ed25519.Verify(k, SignedMessage(screenID, s, body), s.Sig) {
			return fmt.Errorf("%w: bad signature by key %s", ErrSignature, s.KeyID)
		}
		return nil
	}
	return fmt.Errorf("%w: signed by unknown key %s", ErrSignature, s.KeyID)
}
