package playlists

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Player builds. Whoever builds releases holds the release key (Ed25519)
// offline and signs each player binary's build manifest with it
// (cmd/kiosk-release). The server is configured with the public half and
// refuses uploads that do not verify; the player checks the signature, the
// size and the SHA-256 again before it installs anything, so a server that
// was taken over cannot push a binary of its own. The release key is not
// the manifest key: that one lives on the server, this one never does.

// BuildPlatforms are the platforms a player build may be made for.
var BuildPlatforms = []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}

// MaxBuildBytes bounds a player binary (today's are about 15 MB).
const MaxBuildBytes = 256 << 20

// maxBuildVersion bounds a build's version string; it names a directory on
// the screen (versions/<version>/), so it is also kept to a safe alphabet.
const maxBuildVersion = 64

// PlayerBuild is the signed build manifest of one player binary.
type PlayerBuild struct {
	Version   string `json:"version"`  // what the binary reports as its player version
	Platform  string `json:"platform"` // one of BuildPlatforms
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`    // lower-case hex of the binary
	KeyID     string `json:"key_id"`    // KeyID of the release key that signed it
	Signature string `json:"signature"` // base64 Ed25519 over BuildSignedMessage
}

// ErrBuildRefused is any refusal of a player build; errors.Is matches it.
var ErrBuildRefused = errors.New("player build refused")

// ValidBuildVersion reports whether v may name a build: 1–64 characters of
// letters, digits and ". _ + -", starting with a letter or digit.
func ValidBuildVersion(v string) bool {
	if v == "" || len(v) > maxBuildVersion {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c == '.' || c == '_' || c == '+' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Check validates the fields (not the signature).
func (m PlayerBuild) Check() error {
	if !ValidBuildVersion(m.Version) {
		return FieldError{Field: "version", Problem: fmt.Sprintf("is %q; want 1-%d letters, digits and . _ + - (starting with a letter or digit)", m.Version, maxBuildVersion)}
	}
	if !slices.Contains(BuildPlatforms, m.Platform) {
		return FieldError{Field: "platform", Problem: fmt.Sprintf("is %q; want one of %s", m.Platform, strings.Join(BuildPlatforms, ", "))}
	}
	if m.Size <= 0 || m.Size > MaxBuildBytes {
		return FieldError{Field: "size", Problem: fmt.Sprintf("is %d; want 1 to %d bytes", m.Size, MaxBuildBytes)}
	}
	if !IsSHA256Hex(m.SHA256) {
		return InvalidFormat("sha256", "must be 64 lower-case hex characters")
	}
	if m.KeyID == "" || m.Signature == "" {
		return FieldError{Field: "signature", Problem: "is missing: sign the build with kiosk-release sign"}
	}
	return nil
}

// BuildSignedMessage is the exact byte string a build signature covers:
// fixed labels and lengths so that no two distinct manifests share one.
func BuildSignedMessage(m PlayerBuild) []byte {
	var b strings.Builder
	b.WriteString("kiosk-player-build-v1\n")
	for _, f := range []string{
		m.Version,
		m.Platform,
		strconv.FormatInt(m.Size, 10),
		m.SHA256,
		m.KeyID,
	} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// SignBuild fills m's key id and signature with the release key priv.
func SignBuild(priv ed25519.PrivateKey, m PlayerBuild) PlayerBuild {
	m.KeyID = KeyID(priv.Public().(ed25519.PublicKey))
	m.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, BuildSignedMessage(m)))
	return m
}

// VerifyBuild checks m's fields and its signature by the release key pub.
func VerifyBuild(pub ed25519.PublicKey, m PlayerBuild) error {
	if err := m.Check(); err != nil {
		return fmt.Errorf("%w: %v", ErrBuildRefused, err)
	}
	if id := KeyID(pub); m.KeyID != id {
		return fmt.Errorf("%w: signed by key %s, the release key is %s", ErrBuildRefused, m.KeyID, id)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: malformed signature", ErrBuildRefused)
	}
	if !ed25519.Verify(pub, BuildSignedMessage(m), sig) {
		return fmt.Errorf("%w: bad signature for %s %s", ErrBuildRefused, m.Version, m.Platform)
	}
	return nil
}

// VerifyBuildFor is VerifyBuild plus the platform the binary must be for.
func VerifyBuildFor(pub ed25519.PublicKey, m PlayerBuild, platform string) error {
	if err := VerifyBuild(pub, m); err != nil {
		return err
	}
	if m.Platform != platform {
		return fmt.Errorf("%w: build is for %s, this is %s", ErrBuildRefused, m.Platform, platform)
	}
	return nil
}

// CheckBuildBytes compares what was received (size and SHA-256 in hex)
// with what m promises.
func CheckBuildBytes(m PlayerBuild, size int64, sha string) error {
	if size != m.Size {
		return fmt.Errorf("%w: binary is %d bytes, the manifest says %d", ErrBuildRefused, size, m.Size)
	}
	if sha != m.SHA256 {
		return fmt.Errorf("%w: binary has SHA-256 %s, the manifest says %s", ErrBuildRefused, sha, m.SHA256)
	}
	return nil
}

// HashBuild reads r to its end, at most MaxBuildBytes+1 bytes, and returns
// its size and SHA-256 in hex.
func HashBuild(r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(r, MaxBuildBytes+1))
	if err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
