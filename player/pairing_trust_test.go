package player

import (
	"crypto/ed25519"
	"path/filepath"
	"testing"

	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

func TestAdoptionMustNameAPinnedKey(t *testing.T) {
	c, err := cache.Open(filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := func() string {
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return playlists.EncodeKey(pub)
	}
	real, attacker := key(), key()
	if err := checkAdoptionKey(c, attacker); err != nil {
		t.Fatalf("a fresh player (nothing pinned) refused its first pairing: %v", err)
	}
	if err := c.PinServerKey(real); err != nil {
		t.Fatal(err)
	}
	if err := checkAdoptionKey(c, attacker); err == nil {
		t.Fatal("a player that pinned the server's key accepted an adoption naming another key")
	}
	if err := checkAdoptionKey(c, real); err != nil {
		t.Errorf("re-pairing with the pinned server refused: %v", err)
	}
}
