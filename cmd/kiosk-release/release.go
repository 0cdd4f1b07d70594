package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"kiosk/playlists"
)

// Key file names keygen writes.
const (
	privateKeyFile = "release.key"
	publicKeyFile  = "release.pub"
)

// errUsage marks a command-line mistake: exit status 2.
var errUsage = errors.New("usage")

const usage = `usage:
  kiosk-release keygen -out DIR
  kiosk-release sign -key FILE -version V -platform P [-out FILE] BINARY
  kiosk-release verify -pub FILE -manifest FILE BINARY
  kiosk-release pub -key FILE
platforms: ` + "linux/amd64, linux/arm64, linux/arm/v7"

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "keygen":
		err = keygen(args[1:], stdout, stderr)
	case "sign":
		err = sign(args[1:], stdout, stderr)
	case "verify":
		err = verify(args[1:], stdout, stderr)
	case "pub":
		err = pub(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "kiosk-release: %v\n%s\n", err, usage)
		return 2
	}
	fmt.Fprintf(stderr, "kiosk-release: %v\n", err)
	return 1
}

func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kiosk-release "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string, nargs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() != nargs {
		return fmt.Errorf("%w: %s takes %d argument(s), got %q", errUsage, fs.Name(), nargs, fs.Args())
	}
	return nil
}

// keygen writes a new release key pair into -out, refusing to overwrite.
func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flags("keygen", stderr)
	out := fs.String("out", "", "directory for release.key (private, 0600) and release.pub")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: keygen needs -out DIR", errUsage)
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	pubKey, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		return err
	}
	privPath, pubPath := filepath.Join(*out, privateKeyFile), filepath.Join(*out, publicKeyFile)
	for _, p := range []string{privPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; refusing to overwrite a release key", p)
		}
	}
	if err := writeNew(privPath, base64.StdEncoding.EncodeToString(priv)+"\n", 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, playlists.EncodeKey(pubKey)+"\n", 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "release key %s\nprivate: %s (keep it offline)\npublic:  %s (kiosk-server -release-key %s)\n",
		playlists.KeyID(pubKey), privPath, pubPath, pubPath)
	return nil
}

func writeNew(path, content string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readPrivateKey reads a key file keygen wrote.
func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(b) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%s is not a release private key (kiosk-release keygen writes one)", path)
	}
	return ed25519.PrivateKey(b), nil
}

// readPublicKey reads a release.pub file: one line of base64.
func readPublicKey(path string) (ed25519.PublicKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := playlists.DecodeKey(string(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return k, nil
}

// sign hashes the binary and prints (or writes) its signed build manifest.
func sign(args []string, stdout, stderr io.Writer) error {
	fs := flags("sign", stderr)
	keyPath := fs.String("key", "", "release private key (release.key)")
	version := fs.String("version", "", "the version the binary reports (its -X kiosk/player.Version)")
	platform := fs.String("platform", "", "linux/amd64, linux/arm64 or linux/arm/v7")
	out := fs.String("out", "", "write the manifest here instead of standard output")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *keyPath == "" || *version == "" || *platform == "" {
		return fmt.Errorf("%w: sign needs -key, -version and -platform", errUsage)
	}
	priv, err := readPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	size, sha, err := playlists.HashBuild(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", fs.Arg(0), err)
	}
	m := playlists.SignBuild(priv, playlists.PlayerBuild{Version: *version, Platform: *platform, Size: size, SHA256: sha})
	if err := m.Check(); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	doc, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	if *out == "" {
		_, err = stdout.Write(doc)
		return err
	}
	return os.WriteFile(*out, doc, 0o644)
}

// verify checks a binary against its manifest and the release public key,
// as the server and the player do.
func verify(args []string, stdout, stderr io.Writer) error {
	fs := flags("verify", stderr)
	pubPath := fs.String("pub", "", "release public key (release.pub)")
	manifest := fs.String("manifest", "", "the signed build manifest")
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if *pubPath == "" || *manifest == "" {
		return fmt.Errorf("%w: verify needs -pub and -manifest", errUsage)
	}
	pubKey, err := readPublicKey(*pubPath)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*manifest)
	if err != nil {
		return err
	}
	var m playlists.PlayerBuild
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s: %w", *manifest, err)
	}
	if err := playlists.VerifyBuild(pubKey, m); err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	size, sha, err := playlists.HashBuild(f)
	f.Close()
	if err != nil {
		return err
	}
	if err := playlists.CheckBuildBytes(m, size, sha); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %s %s, %d bytes, sha256 %s, signed by %s\n", m.Version, m.Platform, m.Size, m.SHA256, m.KeyID)
	return nil
}

// pub prints the public half of a private key file.
func pub(args []string, stdout, stderr io.Writer) error {
	fs := flags("pub", stderr)
	keyPath := fs.String("key", "", "release private key (release.key)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *keyPath == "" {
		return fmt.Errorf("%w: pub needs -key", errUsage)
	}
	priv, err := readPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, playlists.EncodeKey(priv.Public().(ed25519.PublicKey)))
	return nil
}
