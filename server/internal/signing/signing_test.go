package signing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kiosk/playlists"
)

type memSerials struct{ last uint64 }

func (m *memSerials) ReserveSerials(from, n uint64) (uint64, error) {
	first := max(m.last+1, from)
	m.last = first + n - 1
	return first, nil
}

func TestSignVerifyAndRefusals(t *testing.T) {
	dir := t.TempDir()
	st := &memSerials{}
	s, err := Open(dir, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, Dir, CurrentFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want mode 0600", fi, err)
	}
	body := []byte(`{"version":"v1"}`)
	sig, err := s.Sign("scr_a", body)
	if err != nil {
		t.Fatal(err)
	}
	trusted := []ed25519.PublicKey{s.Public()}
	if err := playlists.VerifyManifestSignature(trusted, "scr_a", sig, body); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for name, check := range map[string]func() error{
		"other screen": func() error { return playlists.VerifyManifestSignature(trusted, "scr_b", sig, body) },
		"changed body": func() error {
			return playlists.VerifyManifestSignature(trusted, "scr_a", sig, []byte(`{"version":"v2"}`))
		},
		"changed serial": func() error {
			s2 := sig
			s2.Serial++
			return playlists.VerifyManifestSignature(trusted, "scr_a", s2, body)
		},
		"unknown key": func() error {
			pub, _, _ := ed25519.GenerateKey(nil)
			return playlists.VerifyManifestSignature([]ed25519.PublicKey{pub}, "scr_a", sig, body)
		},
	} {
		if err := check(); !errors.Is(err, playlists.ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", name, err)
		}
	}
	// Round trip through headers.
	h := sig.Headers()
	back, err := playlists.ParseManifestSignature(func(k string) string { return h[k] })
	if err != nil || playlists.VerifyManifestSignature(trusted, "scr_a", back, body) != nil {
		t.Fatalf("header round trip: %v", err)
	}
	if _, err := playlists.ParseManifestSignature(func(string) string { return "" }); !errors.Is(err, playlists.ErrSignature) {
		t.Errorf("unsigned: got %v", err)
	}
}

func TestSerialsGrowAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	st := &memSerials{}
	s, _ := Open(dir, st, nil)
	a, _ := s.Sign("x", nil)
	b, _ := s.Sign("x", nil)
	s2, err := Open(dir, st, nil) // a restart: same key, fresh block
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s2.Sign("x", nil)
	if !(a.Serial < b.Serial && b.Serial < c.Serial) || s2.KeyID() != s.KeyID() {
		t.Fatalf("serials %d %d %d (keys %s %s), want growing under one key", a.Serial, b.Serial, c.Serial, s.KeyID(), s2.KeyID())
	}
}

// A clock that steps back, or a restore to older data, still gives
// growing serials while the other moved forward.
func TestSerialsSurviveClockStepBack(t *testing.T) {
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	st := &memSerials{}
	s, _ := Open(t.TempDir(), st, func() time.Time { return now })
	a, _ := s.Sign("x", nil)
	now = now.Add(-time.Hour)
	b, _ := s.Sign("x", nil)
	dir := t.TempDir()
	s2, _ := Open(dir, &memSerials{}, func() time.Time { return now.Add(2 * time.Hour) }) // restored data, later clock
	c, _ := s2.Sign("x", nil)
	if !(a.Serial < b.Serial && b.Serial < c.Serial) {
		t.Fatalf("serials %d %d %d, want growing", a.Serial, b.Serial, c.Serial)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	st := &memSerials{}
	s, _ := Open(dir, st, nil)
	oldID := s.KeyID()
	nextID, err := PrepareRotation(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = Open(dir, st, nil)
	sig, _ := s.Sign("x", nil)
	next, err := playlists.DecodeKey(sig.NextKey)
	if err != nil || playlists.KeyID(next) != nextID || sig.KeyID != oldID {
		t.Fatalf("announcement: %+v %v", sig, err)
	}
	gotOld, gotNew, err := CompleteRotation(dir, time.Now())
	if err != nil || gotOld != oldID || gotNew != nextID {
		t.Fatalf("complete: %s %s %v", gotOld, gotNew, err)
	}
	s, _ = Open(dir, st, nil)
	if s.KeyID() != nextID {
		t.Fatalf("after rotation signing with %s, want %s", s.KeyID(), nextID)
	}
	if _, _, err := CompleteRotation(dir, time.Now()); err == nil {
		t.Error("completing without a prepared key succeeded")
	}
}

// BenchmarkSign is the cost a manifest fetch pays for its signature
// (docs/BENCHMARKS.md): one Ed25519 signature over a 64 KB manifest.
func BenchmarkSign(b *testing.B) {
	s, err := Open(b.TempDir(), &memSerials{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Sign("scr_0123456789ab", body); err != nil {
			b.Fatal(err)
		}
	}
}

// One batch signature covers every screen of a push, each with its own
// proof, under a serial above the per-request signatures before it and
// below those after.
func TestPushFramesSignedOnceForAll(t *testing.T) {
	s, err := Open(t.TempDir(), &memSerials{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.Sign("s1", []byte(`{}`))
	body := []byte(`{"items":[]}`)
	sum := sha256.Sum256(body)
	version := hex.EncodeToString(sum[:])
	ids := []string{"s1", "s2", "s3", "s4", "s5"}
	pf, err := s.PushFrames(version, ids, body)
	if err != nil || pf == nil {
		t.Fatalf("PushFrames: %v %v", pf, err)
	}
	after, _ := s.Sign("s1", []byte(`{}`))
	for i, id := range ids {
		env, err := playlists.Decode(pf.AppendFrame(nil, i))
		if err != nil {
			t.Fatal(err)
		}
		var p playlists.ManifestPush
		if err := env.DecodeData(&p); err != nil {
			t.Fatal(err)
		}
		if err := playlists.VerifyPush([]ed25519.PublicKey{s.Public()}, id, p); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if p.Sig.ServerKey != playlists.EncodeKey(s.Public()) {
			t.Fatalf("server key %q", p.Sig.ServerKey)
		}
		if p.Sig.Serial <= before.Serial || p.Sig.Serial >= after.Serial {
			t.Fatalf("batch serial %d not between %d and %d", p.Sig.Serial, before.Serial, after.Serial)
		}
	}
	big := make([]byte, playlists.MaxInlineManifestBytes+1)
	if pf, err := s.PushFrames("v", ids, big); pf != nil || err != nil {
		t.Fatalf("a manifest above the inline limit was framed: %v", err)
	}
}

// BenchmarkPushFrames10k is what one publish to 10,000 screens costs
// before its first frame can leave: leaves, tree, one signature.
//
//	go test -run '^$' -bench PushFrames ./server/internal/signing/
func BenchmarkPushFrames10k(b *testing.B) {
	s, err := Open(b.TempDir(), &memSerials{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 10000)
	for i := range ids {
		ids[i] = fmt.Sprintf("scr_%020d", i)
	}
	body := make([]byte, 0, 4096)
	body = append(body, `{"items":"`...)
	body = append(body, bytes.Repeat([]byte("x"), 4000)...)
	body = append(body, `"}`...)
	for b.Loop() {
		if _, err := s.PushFrames("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ids, body); err != nil {
			b.Fatal(err)
		}
	}
}
