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

// checkSignature decides whether body, served with resp's headers, may be
// applied, and returns its serial (0: unsigned, accepted only while no key
// is pinned). With no key pinned, the first signed manifest pins its key
// (trust on first use); pairing or -server-key pin it beforehand, which is
// the safer way.
func (c *Client) checkSignature(resp *http.Response, body []byte) (uint64, error) {
	screen, _ := c.Screen()
	pinned, err := c.cfg.Cache.TrustedKeys()
	if err != nil {
		return 0, err
	}
	sig, sigErr := playlists.ParseManifestSignature(resp.Header.Get)
	var signer string // base64 of the key that verified
	if len(pinned) == 0 {
		if sigErr != nil {
			// A server from before signing: nothing to check against yet.
			return 0, nil
		}
		pub, err := playlists.DecodeKey(resp.Header.Get(playlists.HeaderServerKey))
		if err != nil {
			return 0, fmt.Errorf("%w: %s: %v", errRejected, playlists.HeaderServerKey, err)
		}
		if err := playlists.VerifyManifestSignature([]ed25519.PublicKey{pub}, screen, sig, body); err != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, err)
		}
		signer = playlists.EncodeKey(pub)
		c.log.Warn("pinned the server's manifest key on first use; pair the screen or pass -server-key to pin it beforehand",
			"key_id", sig.KeyID)
	} else {
		if sigErr != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, sigErr)
		}
		keys := make([]ed25519.PublicKey, 0, len(pinned))
		for _, k := range pinned {
			if pub, err := playlists.DecodeKey(k); err == nil {
				keys = append(keys, pub)
			}
		}
		if err := playlists.VerifyManifestSignature(keys, screen, sig, body); err != nil {
			return 0, fmt.Errorf("%w: %v", errRejected, err)
		}
		for i, k := range keys {
			if playlists.KeyID(k) == sig.KeyID {
				signer = playlists.EncodeKey(keys[i])
			}
		}
	}
	if applied := c.cfg.Cache.AppliedSerial(); sig.Serial <= applied {
		return 0, fmt.Errorf("%w: serial %d is not above the applied %d (a replayed or older manifest)", errRejected, sig.Serial, applied)
	}
	// Trust exactly the key that signed this manifest and the one it
	// announces for a rotation: once the server signs with the new key,
	// the old one (which may have leaked, hence the rotation) is dropped.
	keep := []string{signer}
	if sig.NextKey != "" {
		if _, err := playlists.DecodeKey(sig.NextKey); err != nil {
			return 0, fmt.Errorf("%w: next key: %v", errRejected, err)
		}
		keep = append(keep, sig.NextKey)
	}
	if err := c.cfg.Cache.SetTrusted(keep...); err != nil {
		return 0, err
	}
	return sig.Serial, nil
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
