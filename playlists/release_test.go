package playlists

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func signedTestBuild(t *testing.T, bin []byte) (ed25519.PublicKey, ed25519.PrivateKey, PlayerBuild) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bin)
	m := SignBuild(priv, PlayerBuild{Version: "1.2.0", Platform: "linux/arm64", Size: int64(len(bin)), SHA256: hex.EncodeToString(sum[:])})
	return pub, priv, m
}

func TestVerifyBuild(t *testing.T) {
	bin := []byte("\x7fELF pretend player binary")
	pub, _, m := signedTestBuild(t, bin)
	if err := VerifyBuildFor(pub, m, "linux/arm64"); err != nil {
		t.Fatalf("a good build: got %v, want it accepted", err)
	}
	size, sha, err := HashBuild(bytes.NewReader(bin))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBuildBytes(m, size, sha); err != nil {
		t.Fatalf("the signed bytes: got %v, want them accepted", err)
	}

	otherPub, otherPriv, _ := ed25519.GenerateKey(nil)
	tampered := append([]byte{}, bin...)
	tampered[5] ^= 1
	tsize, tsha, _ := HashBuild(bytes.NewReader(tampered))

	for _, tc := range []struct {
		name string
		err  error
	}{
		{"tampered binary", CheckBuildBytes(m, tsize, tsha)},
		{"truncated binary", CheckBuildBytes(m, size-1, sha)},
		{"wrong key", VerifyBuild(otherPub, m)},
		{"signed by another key", VerifyBuild(pub, SignBuild(otherPriv, m))},
		{"wrong platform", VerifyBuildFor(pub, m, "linux/amd64")},
		{"version changed", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Version = "1.2.1" }))},
		{"platform changed", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Platform = "linux/amd64" }))},
		{"size changed", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Size++ }))},
		{"hash changed", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.SHA256 = tsha }))},
		{"no signature", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Signature = "" }))},
		{"garbage signature", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Signature = "AAAA" }))},
		{"unknown platform", VerifyBuild(pub, SignBuild(otherPriv, with(m, func(m *PlayerBuild) { m.Platform = "windows/amd64" })))},
		{"path in version", VerifyBuild(pub, with(m, func(m *PlayerBuild) { m.Version = "../../bin" }))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, ErrBuildRefused) {
				t.Errorf("got %v, want an ErrBuildRefused", tc.err)
			}
		})
	}
}

func with(m PlayerBuild, f func(*PlayerBuild)) PlayerBuild {
	f(&m)
	return m
}

func TestBuildSignedMessageIsUnambiguous(t *testing.T) {
	a := BuildSignedMessage(PlayerBuild{Version: "1.2", Platform: "linux/amd64", Size: 10, SHA256: "ab", KeyID: "k"})
	b := BuildSignedMessage(PlayerBuild{Version: "1.2linux/amd64", Platform: "", Size: 10, SHA256: "ab", KeyID: "k"})
	if bytes.Equal(a, b) {
		t.Fatal("two manifests that differ only in field boundaries share a signed message")
	}
}

func TestValidBuildVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"1.2.0": true, "0.1.0-dev": true, "2026.03.1+rc1": true, "v1": true,
		"": false, ".hidden": false, "..": false, "-x": false, "a/b": false, "1 2": false, "版本": false,
		"1234567890123456789012345678901234567890123456789012345678901234":  true,
		"12345678901234567890123456789012345678901234567890123456789012345": false,
	} {
		if got := ValidBuildVersion(v); got != want {
			t.Errorf("ValidBuildVersion(%q) = %v, want %v", v, got, want)
		}
	}
}
