package syncer

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"

	"kiosk/playlists"
)

// errRejected marks a manifest the player refused to apply although the
// server delivered it: a bad or missing signature, another screen's, a key
// it does not trust, a serial not above the applied one. The reason goes
// to the server in every heartbeat until a good manifest applies, and the
// server shows the screen degraded (manifest_rejected).
var errRejected = errors.New("manifest rejected")

// signedBy is what a manifest's signature says, whichever way it came:
// the Kiosk-Manifest-* headers of GET /device/manifest, or the batch
// signature of a pushed frame. trust judges both with the same rules.
type signedBy struct {
	unsigned  error  // non-nil: the manifest carries no signature, and why
	keyID     string // key that signed
	serial    uint64
	serverKey string // base64 key offered for pinning on first use
	nextKey   string // base64 key announced for a rotation
	// verify checks the signature with the given keys (by key id).
	verify func(keys []ed25519.PublicKey) error
}

// checkSignature decides whether body, served with resp's headers, may be
// applied, and returns its serial (0: unsigned, accepted only while no key
// is pinned).
func (c *Client) checkSignature(resp *http.Response, body []byte) (uint64, error) {
	screen, _ := c.Screen()
	sig, sigErr := playlists.ParseManifestSignature(resp.Header.Get)
	return c.trust(signedBy{
		unsigned:  sigErr,
		keyID:     sig.KeyID,
		serial:    sig.Serial,
		serverKey: resp.Header.Get(playlists.HeaderServerKey),
		nextKey:   sig.NextKey,
		verify: func(keys []ed25519.PublicKey) error {
			return playlists.VerifyManifestSignature(keys, screen, sig, body)
		},
	}, playlists.HeaderServerKey)
}

// checkPush decides whether a pushed manifest may be applied, and returns
// its serial. The bytes are tied to p.Version by the caller
// (playlists.VerifyManifest); here the batch proof and signature tie the
// version to this screen.
func (c *Client) checkPush(p *playlists.ManifestPush) (uint64, error) {
	screen, _ := c.Screen()
	return c.trust(signedBy{
		keyID:     p.Sig.KeyID,
		serial:    p.Sig.Serial,
		serverKey: p.Sig.ServerKey,
		nextKey:   p.Sig.NextKey,
		verify: func(keys []ed25519.PublicKey) error {
			return playlists.VerifyPush(keys, screen, *p)
		},
	}, "server_key")
}

// trust applies the rules every manifest passes, fetched or pushed. With
// no key pinned, the first signed manifest pins its key (trust on first
// use); pairing or -server-key pin it beforehand, which is the safer way.
// The serial must be above the applied one. The keys trusted afterwards
// are exactly the signer and the rotation key it announces. keyField names
// where serverKey came from, for the rejection reason.
func (c *Client) trust(s signedBy, keyField string) (uint64, error) {
	pinned, err := c.cfg.Cache.TrustedKeys()
	if err != nil {
		return 0, err
	}
	var signer string // base64 of the key that verified
	if len(pinned) == 0 {
		if s.unsigned != nil {
			// A server from before signing: nothing to check against yet.
			return 0, nil
		}
		pub, err := playlists.DecodeKey(s.serverKey)
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %v", errRejected, keyField, err)
		}
		if err := s.verify([]ed25519.PublicKey{pub}); err != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, err)
		}
		signer = playlists.EncodeKey(pub)
		c.log.Warn("pinned the server's manifest key on first use; pair the screen or pass -server-key to pin it beforehand",
			"key_id", s.keyID)
	} else {
		if s.unsigned != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, s.unsigned)
		}
		keys := make([]ed25519.PublicKey, 0, len(pinned))
		for _, k := range pinned {
			if pub, err := playlists.DecodeKey(k); err == nil {
				keys = append(keys, pub)
			}
		}
		if err := s.verify(keys); err != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, err)
		}
		for i, k := range keys {
			if playlists.KeyID(k) == s.keyID {
				signer = playlists.EncodeKey(keys[i])
			}
		}
	}
	if applied := c.cfg.Cache.AppliedSerial(); s.serial <= applied {
		return 0, fmt.Errorf("%w: serial %d is not above the applied %d (a replayed or older manifest)", errRejected, s.serial, applied)
	}
	// Trust exactly the key that signed this manifest and the one it
	// announces for a rotation: once the server signs with the new key,
	// the old one (which may have leaked, hence the rotation) is dropped.
	keep := []string{signer}
	if s.nextKey != "" {
		if _, err := playlists.DecodeKey(s.nextKey); err != nil {
			return 0, fmt.Errorf("%w: next key: %v", errRejected, err)
		}
		keep = append(keep, s.nextKey)
	}
	if err := c.cfg.Cache.SetTrusted(keep...); err != nil {
		return 0, err
	}
	return s.serial, nil
}

func (c *Client) setRejected(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.rejected = ""
		return
	}
	c.rejected = err.Error()
}

// Rejected is why the last manifest was refused; "" once one applied.
func (c *Client) Rejected() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rejected
}
