package playlists

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// signBatch is what the server does: leaves, tree, one signature.
func signBatch(t *testing.T, priv ed25519.PrivateKey, ids []string, version string) (*BatchTree, BatchSig) {
	t.Helper()
	leaves := make([]Digest, len(ids))
	for i, id := range ids {
		leaves[i] = BatchLeaf(id, version)
	}
	tree := NewBatchTree(leaves)
	pub := priv.Public().(ed25519.PublicKey)
	sig := BatchSig{KeyID: KeyID(pub), Serial: 42, IssuedAt: time.Date(2026, 11, 30, 2, 0, 0, 123456789, time.UTC), ServerKey: EncodeKey(pub)}
	sig.Sig = ed25519.Sign(priv, BatchMessage(sig, tree.Root()))
	return tree, sig
}

func TestBatchProofsVerifyForEverySizeAndLeaf(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"version":"x","items":[]}`)
	sum := sha256.Sum256(body)
	version := hex.EncodeToString(sum[:])
	for n := 1; n <= 67; n++ {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("scr-%03d", i)
		}
		tree, sig := signBatch(t, priv, ids, version)
		if tree.Len() != n {
			t.Fatalf("n=%d: tree has %d leaves", n, tree.Len())
		}
		for i, id := range ids {
			p := ManifestPush{Version: version, Sig: sig, Proof: tree.Proof(i), Body: body}
			if err := VerifyPush([]ed25519.PublicKey{pub}, id, p); err != nil {
				t.Fatalf("n=%d leaf %d: %v", n, i, err)
			}
			// The proof is another screen's: refused.
			other := ids[(i+1)%n]
			if n > 1 {
				if err := VerifyPush([]ed25519.PublicKey{pub}, other, p); !errors.Is(err, ErrSignature) {
					t.Fatalf("n=%d leaf %d verified for %s: %v", n, i, other, err)
				}
			}
		}
	}
}

func TestBatchRefusals(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	ids := []string{"a", "b", "c", "d", "e"}
	tree, sig := signBatch(t, priv, ids, "v1")
	good := ManifestPush{Version: "v1", Sig: sig, Proof: tree.Proof(2)}
	if err := VerifyPush([]ed25519.PublicKey{pub}, "c", good); err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[5] == '0' {
			b[5] = '1'
		} else {
			b[5] = '0'
		}
		return string(b)
	}
	cases := map[string]func(p *ManifestPush){
		"other version":      func(p *ManifestPush) { p.Version = "v2" },
		"changed proof step": func(p *ManifestPush) { p.Proof = append([]string{flip(p.Proof[0])}, p.Proof[1:]...) },
		"swapped side":       func(p *ManifestPush) { p.Proof = append([]string{"l" + p.Proof[0][1:]}, p.Proof[1:]...) },
		"dropped step":       func(p *ManifestPush) { p.Proof = p.Proof[1:] },
		"malformed step":     func(p *ManifestPush) { p.Proof = []string{"x:00"} },
		"other serial":       func(p *ManifestPush) { p.Sig.Serial++ },
		"other issue time":   func(p *ManifestPush) { p.Sig.IssuedAt = p.Sig.IssuedAt.Add(time.Nanosecond) },
		"announced next key": func(p *ManifestPush) { p.Sig.NextKey = EncodeKey(otherPub) },
		"unknown key id":     func(p *ManifestPush) { p.Sig.KeyID = KeyID(otherPub) },
		"short signature":    func(p *ManifestPush) { p.Sig.Sig = p.Sig.Sig[:10] },
		"proof far too long": func(p *ManifestPush) { p.Proof = make([]string, 40) },
	}
	for name, mutate := range cases {
		p := good
		p.Proof = append([]string(nil), good.Proof...)
		mutate(&p)
		if err := VerifyPush([]ed25519.PublicKey{pub}, "c", p); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: got %v, want ErrSignature", name, err)
		}
	}
	if err := VerifyPush([]ed25519.PublicKey{otherPub}, "c", good); !errors.Is(err, ErrSignature) {
		t.Errorf("untrusted key: %v", err)
	}
}

// A frame assembled from the shared parts decodes into the push, with the
// manifest's bytes exactly as given (their hash is the version).
func TestPushFramesDecodeExactly(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	body := []byte(`{"version":"","items":[{"id":"i1","title":"通知 <b>&"}],"assets":[]}`)
	sum := sha256.Sum256(body)
	version := hex.EncodeToString(sum[:])
	ids := []string{"s1", "s2", "s3"}
	tree, sig := signBatch(t, priv, ids, version)
	frames, err := NewPushFrames(tree, sig, version, body)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		raw := frames.AppendFrame(nil, i)
		if len(raw) > frames.FrameLen() {
			t.Fatalf("frame of %d bytes above FrameLen %d", len(raw), frames.FrameLen())
		}
		env, err := Decode(raw)
		if err != nil || env.Type != MsgManifest {
			t.Fatalf("decode: %v %q", err, env.Type)
		}
		var p ManifestPush
		if err := env.DecodeData(&p); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p.Body, body) {
			t.Fatalf("body changed on the wire:\n%s\n%s", p.Body, body)
		}
		if p.Version != version || p.Sig.Serial != 42 || p.Sig.ServerKey != EncodeKey(pub) {
			t.Fatalf("push %+v", p)
		}
		if err := VerifyPush([]ed25519.PublicKey{pub}, id, p); err != nil {
			t.Fatalf("screen %s: %v", id, err)
		}
	}
	if _, err := NewPushFrames(tree, sig, version, []byte("{not json")); err == nil {
		t.Fatal("a body that is not JSON was framed")
	}
}

// The signed messages are a wire format: players verify them byte for
// byte, older ones included.
func TestSignedMessagesAreStable(t *testing.T) {
	at := time.Date(2026, 11, 30, 2, 0, 0, 500, time.UTC)
	got := string(SignedMessage("scr_1", ManifestSignature{KeyID: "k1", Serial: 7, IssuedAt: at}, []byte("{}")))
	want := "kiosk-manifest-v1\n5:scr_1\n1:7\n28:2026-11-30T02:00:00.0000005Z\n2:k1\n0:\n64:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n"
	if got != want {
		t.Errorf("SignedMessage:\n%q\nwant\n%q", got, want)
	}
	var root Digest
	got = string(BatchMessage(BatchSig{KeyID: "k1", Serial: 7, IssuedAt: at, NextKey: "n"}, root))
	want = "kiosk-manifest-batch-v1\n1:7\n28:2026-11-30T02:00:00.0000005Z\n2:k1\n1:n\n64:" + strings.Repeat("0", 64) + "\n"
	if got != want {
		t.Errorf("BatchMessage:\n%q\nwant\n%q", got, want)
	}
}
