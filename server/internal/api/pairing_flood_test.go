package api

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"testing"

	"kiosk/playlists"
)

// One site cannot fill the pairing table: its clients (one IPv6 /48,
// however many /64s it steps through) hold a few codes at once, and a
// screen elsewhere still gets its code.
func TestPairingTableNotFilledFromOneSite(t *testing.T) {
	v := newEnv(t)
	start := func(remote string) int {
		pub, _, err := ed25519.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		return v.request("POST", "/api/v1/device/pair", map[string]any{"public_key": playlists.EncodeKey(pub)}, func(r *http.Request) {
			r.RemoteAddr = remote
		}).Code
	}
	created := 0
	for sub := 0; sub < 17; sub++ {
		for i := 0; i < 60; i++ {
			if start(fmt.Sprintf("[2001:db8:0:%x::1]:1234", sub)) == http.StatusCreated {
				created++
			}
		}
	}
	if created > 10 {
		t.Errorf("one /48 got %d pending codes, want at most 10", created)
	}
	if code := start("192.0.2.9:1"); code != http.StatusCreated {
		t.Errorf("a screen elsewhere: got %d, want 201", code)
	}
}
