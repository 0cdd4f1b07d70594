package usercmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"kiosk/playlists"
	"kiosk/server/internal/signing"
	"kiosk/server/internal/store"
)

// RunKey is "kiosk-server key show|rotate-prepare|rotate-complete -data DIR":
// the manifest signing key. show prints the public key for players'
// -server-key (one line on stdout, its id on stderr); rotate-prepare makes
// the next key, which every manifest then announces (signed by the current
// key) so players trust it; rotate-complete, with the server stopped and
// once every screen has applied a manifest since the prepare step, makes the
// next key the signing one and retires the old.
func RunKey(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: kiosk-server key show|rotate-prepare|rotate-complete -data DIR"
	if len(args) == 0 || args[0] != "show" && args[0] != "rotate-prepare" && args[0] != "rotate-complete" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("key "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("data", "./data", "the server's data directory")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if _, err := os.Stat(filepath.Join(*dir, store.DBFile)); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "no %s in %s: is -data right?\n", store.DBFile, *dir)
		return 1
	}
	switch args[0] {
	case "show":
		s, err := store.Open(*dir, nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer s.Close()
		sg, err := signing.Open(*dir, s, nil)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintln(stdout, playlists.EncodeKey(sg.Public()))
		fmt.Fprintf(stderr, "manifest key %s; save the line above as the players' -server-key file\n", sg.KeyID())
	case "rotate-prepare":
		id, err := signing.PrepareRotation(*dir)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "next key %s is ready; restart the server so manifests announce it, wait until every screen has applied a manifest, then run key rotate-complete\n", id)
	case "rotate-complete":
		old, cur, err := signing.CompleteRotation(*dir, time.Now())
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "manifests are now signed with %s; %s is retired (restart the server)\n", cur, old)
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	return 0
}
