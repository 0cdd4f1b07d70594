package usercmd

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"kiosk/server/internal/store"
)

// RunAudit is "kiosk-server audit verify -data DIR": it checks the audit
// trail's hash chain with the server stopped and reports the first broken
// link. Exit status 0: intact; 1: broken or unreadable; 2: usage.
func RunAudit(args []string, stdout, stderr io.Writer) int {
	const usage = "usage: kiosk-server audit verify -data DIR"
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
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
	s, err := store.Open(*dir, nil)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer s.Close()
	v, err := s.VerifyAudit()
	if err != nil {
		fmt.Fprintln(stderr, "verify audit:", err)
		return 1
	}
	if !v.OK {
		fmt.Fprintf(stdout, "audit trail BROKEN at entry %d: %s (%d entries checked)\n", v.BrokenAt, v.Reason, v.Entries)
		return 1
	}
	fmt.Fprintf(stdout, "audit trail intact: %d entries", v.Entries)
	if v.Anchor > 0 {
		fmt.Fprintf(stdout, " after pruned entry %d", v.Anchor)
	}
	fmt.Fprintf(stdout, ", last %d, head hash %s\n", v.Last, v.Head)
	return 0
}
