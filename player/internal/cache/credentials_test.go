package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCredentialsSurviveReopen(t *testing.T) {
	c, path := openTemp(t)
	if _, ok, err := c.Credentials(); ok || err != nil {
		t.Fatalf("fresh cache: got ok=%v err=%v, want no credentials", ok, err)
	}
	k1, err := c.DeviceKey()
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := c.DeviceKey()
	if !bytes.Equal(k1, k2) {
		t.Error("DeviceKey changed between calls; a pairing player must keep one key")
	}
	want := Credentials{Token: "kdt_x", ScreenID: "scr_1", ScreenName: "大厅", Server: "http://s", ServerKey: "c2VydmVy", DeviceKey: k1, PairedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	if err := c.SaveCredentials(want); err != nil {
		t.Fatal(err)
	}
	c.Close()

	c2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	got, ok, err := c2.Credentials()
	if !ok || err != nil {
		t.Fatalf("after reopen: ok=%v err=%v, want the credentials", ok, err)
	}
	if got.Token != want.Token || got.ScreenID != want.ScreenID || got.ServerKey != want.ServerKey ||
		!bytes.Equal(got.DeviceKey, want.DeviceKey) || !got.PairedAt.Equal(want.PairedAt) {
		t.Errorf("credentials: got %+v, want %+v", got, want)
	}
	if err := c2.ClearCredentials(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c2.Credentials(); ok {
		t.Error("credentials still there after ClearCredentials")
	}
}

func TestOpenRestrictsFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	c, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// A file someone loosened (or an older install made) is tightened.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("cache file mode: got %o, want 600", mode)
	}
}
