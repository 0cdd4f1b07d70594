package api

import (
	"crypto/ed25519"
	"net/http"
	"testing"

	"kiosk/playlists"
	"kiosk/server/internal/signing"
)

func TestDeviceManifestIsSigned(t *testing.T) {
	signer, err := signing.Open(t.TempDir(), &serials{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, func(o *Options) { o.Signer = signer })
	s := v.seed()
	get := func(token string) (*http.Response, []byte) {
		rec := v.do("GET", "/api/v1/device/manifest", token, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("manifest: %d %s", rec.Code, rec.Body)
		}
		return rec.Result(), rec.Body.Bytes()
	}
	resp, body := get(s.tokenA)
	sig, err := playlists.ParseManifestSignature(resp.Header.Get)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := playlists.DecodeKey(resp.Header.Get(playlists.HeaderServerKey))
	if err != nil || !pub.Equal(signer.Public()) {
		t.Fatalf("server key header: %v", err)
	}
	trusted := []ed25519.PublicKey{signer.Public()}
	if err := playlists.VerifyManifestSignature(trusted, s.screenA, sig, body); err != nil {
		t.Fatalf("screen A's manifest: %v", err)
	}
	if err := playlists.VerifyManifestSignature(trusted, s.screenB, sig, body); err == nil {
		t.Error("screen A's signed manifest verifies for screen B")
	}
	resp2, _ := get(s.tokenA)
	sig2, _ := playlists.ParseManifestSignature(resp2.Header.Get)
	if sig2.Serial <= sig.Serial {
		t.Errorf("second fetch serial %d, want above %d", sig2.Serial, sig.Serial)
	}
}

type serials struct{ last uint64 }

func (m *serials) ReserveSerials(from, n uint64) (uint64, error) {
	first := max(m.last+1, from)
	m.last = first + n - 1
	return first, nil
}
