package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kiosk/playlists"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if code, _, stderr := runCmd(t, "keygen", "-out", keys); code != 0 {
		t.Fatalf("keygen: status %d, stderr %s", code, stderr)
	}
	st, err := os.Stat(filepath.Join(keys, privateKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", st.Mode().Perm())
	}
	if code, _, _ := runCmd(t, "keygen", "-out", keys); code != 1 {
		t.Errorf("keygen over an existing key: status %d, want 1 (refused)", code)
	}

	bin := filepath.Join(dir, "kiosk-player")
	os.WriteFile(bin, []byte("pretend binary"), 0o755)
	manifest := filepath.Join(dir, "build.json")
	code, _, stderr := runCmd(t, "sign", "-key", filepath.Join(keys, privateKeyFile), "-version", "1.2.0",
		"-platform", "linux/arm/v7", "-out", manifest, bin)
	if code != 0 {
		t.Fatalf("sign: status %d, stderr %s", code, stderr)
	}
	raw, _ := os.ReadFile(manifest)
	var m playlists.PlayerBuild
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.2.0" || m.Platform != "linux/arm/v7" || m.Size != int64(len("pretend binary")) {
		t.Errorf("manifest %+v does not describe the binary", m)
	}
	pubPath := filepath.Join(keys, publicKeyFile)
	if code, out, stderr := runCmd(t, "verify", "-pub", pubPath, "-manifest", manifest, bin); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify: status %d, out %q, stderr %s", code, out, stderr)
	}

	os.WriteFile(bin, []byte("pretend binarY"), 0o755)
	if code, _, stderr := runCmd(t, "verify", "-pub", pubPath, "-manifest", manifest, bin); code != 1 || !strings.Contains(stderr, "SHA-256") {
		t.Errorf("verify of a tampered binary: status %d, stderr %q; want 1 naming the hash", code, stderr)
	}

	other := filepath.Join(dir, "other")
	runCmd(t, "keygen", "-out", other)
	os.WriteFile(bin, []byte("pretend binary"), 0o755)
	if code, _, stderr := runCmd(t, "verify", "-pub", filepath.Join(other, publicKeyFile), "-manifest", manifest, bin); code != 1 || !strings.Contains(stderr, "release key") {
		t.Errorf("verify with another key: status %d, stderr %q; want 1", code, stderr)
	}

	if code, out, _ := runCmd(t, "pub", "-key", filepath.Join(keys, privateKeyFile)); code != 0 {
		t.Errorf("pub: status %d", code)
	} else if want, _ := os.ReadFile(pubPath); out != string(want) {
		t.Errorf("pub printed %q, want release.pub's %q", out, want)
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	runCmd(t, "keygen", "-out", dir)
	bin := filepath.Join(dir, "bin")
	os.WriteFile(bin, []byte("x"), 0o755)
	for _, args := range [][]string{
		{"sign", "-key", filepath.Join(dir, privateKeyFile), "-version", "1.0", "-platform", "windows/amd64", bin},
		{"sign", "-key", filepath.Join(dir, privateKeyFile), "-version", "../1.0", "-platform", "linux/amd64", bin},
		{"sign", "-version", "1.0", "-platform", "linux/amd64", bin},
		{"frobnicate"},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%q: status %d, want 2", args, code)
		}
	}
}
