package usercmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kiosk/server/internal/store"
)

// RunBackup is "kiosk-server backup -to FILE -server URL": it downloads a
// consistent backup from a running server (GET /api/v1/backup, admin
// only), checks every checksum while it arrives, and keeps the file only
// when the archive is whole. Exit status 0: saved; 1: failed; 2: usage.
func RunBackup(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const usage = `usage: kiosk-server backup -to FILE [-server URL]
the token comes from KIOSK_TOKEN (an admin's personal API token) or KIOSK_ADMIN_TOKEN`
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	to := fs.String("to", "", "the archive to write (a .tar file; refused if it exists)")
	server := fs.String("server", "http://127.0.0.1:8080", "the running server's base URL")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *to == "" {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	token := ClientToken(getenv)
	if token == "" {
		fmt.Fprintln(stderr, "no token: set KIOSK_TOKEN to an admin's personal API token (my account → tokens) or KIOSK_ADMIN_TOKEN")
		return 2
	}
	start := time.Now()
	m, err := DownloadBackup(strings.TrimRight(*server, "/")+"/api/v1/backup", token, *to)
	if err != nil {
		fmt.Fprintln(stderr, "backup:", err)
		return 1
	}
	fmt.Fprintf(stdout, "backup saved to %s: %d files, %s, checked (%s)\n",
		*to, len(m.Files), humanBytes(m.Bytes()), time.Since(start).Round(time.Millisecond))
	return 0
}

// ClientToken is the token the subcommands that talk to a running server
// send: KIOSK_TOKEN (a personal API token), else the break-glass
// KIOSK_ADMIN_TOKEN; "" for none.
func ClientToken(getenv func(string) string) string {
	if t := strings.TrimSpace(getenv("KIOSK_TOKEN")); t != "" {
		return t
	}
	return strings.TrimSpace(getenv("KIOSK_ADMIN_TOKEN"))
}

// DownloadBackup fetches url into file through file.part, verifying the
// archive as it streams; the .part file is removed on any failure.
func DownloadBackup(url, token, file string) (store.BackupManifest, error) {
	if _, err := os.Stat(file); err == nil {
		return store.BackupManifest{}, fmt.Errorf("%s exists; choose a new name", file)
	}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return store.BackupManifest{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return store.BackupManifest{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
		return store.BackupManifest{}, fmt.Errorf("server answered %s: %s", resp.Status, e.Error)
	}
	return SaveBackup(resp.Body, file)
}

// SaveBackup writes the archive read from r to file, verifying it on the
// way (store.VerifyBackup), and keeps it only when it is whole.
func SaveBackup(r io.Reader, file string) (store.BackupManifest, error) {
	part := file + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return store.BackupManifest{}, err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(part)
		}
	}()
	m, err := store.VerifyBackup(io.TeeReader(r, f))
	if err != nil {
		return m, err
	}
	if err := f.Sync(); err != nil {
		return m, err
	}
	if err := f.Close(); err != nil {
		return m, err
	}
	if err := os.Rename(part, file); err != nil {
		return m, err
	}
	ok = true
	return m, nil
}

// RunRestore is "kiosk-server restore -from FILE -data DIR" (DIR new or
// empty, the server stopped), or with -check only verifies FILE.
func RunRestore(args []string, stdout, stderr io.Writer) int {
	const usage = `usage: kiosk-server restore -from FILE -data DIR   (DIR must be new or empty)
       kiosk-server restore -from FILE -check      (verify only)`
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup archive")
	dir := fs.String("data", "", "the data directory to create")
	check := fs.Bool("check", false, "only verify the archive")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *from == "" || (*dir == "") == !*check {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	f, err := os.Open(*from)
	if err != nil {
		fmt.Fprintln(stderr, "restore:", err)
		return 1
	}
	defer f.Close()
	var m store.BackupManifest
	if *check {
		m, err = store.VerifyBackup(f)
	} else {
		m, err = store.Restore(f, *dir)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		var be store.BackupError
		if errors.As(err, &be) && !*check {
			fmt.Fprintf(stderr, "nothing was written to %s\n", *dir)
		}
		return 1
	}
	if *check {
		fmt.Fprintf(stdout, "%s is whole: %d files, %s, written %s\n", *from, len(m.Files), humanBytes(m.Bytes()), m.CreatedAt.Local().Format(time.DateTime))
		return 0
	}
	abs, _ := filepath.Abs(*dir)
	fmt.Fprintf(stdout, "restored %d files (%s) from the backup of %s into %s\nstart the server with -data %s\n",
		len(m.Files), humanBytes(m.Bytes()), m.CreatedAt.Local().Format(time.DateTime), abs, abs)
	return 0
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
