// Package usercmd is "kiosk-server user": it manages the people who sign
// in, working on the store directly while the server is stopped, so the
// first admin can be made before the server ever ran and a locked-out
// admin can get back in.
package usercmd

import (
	"bufio"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"kiosk/server/internal/people"
	"kiosk/server/internal/store"
)

const userUsage = `usage: kiosk-server user SUBCOMMAND [flags] [NAME]

Manages the people who sign in to the admin page, with the server stopped
(it holds the data directory's lock while it runs).

  add -role ROLE [-groups G1,G2] [-urgent] NAME   create a user
  list                                            show every user
  disable NAME                                    refuse sign-in; ends their sessions
  enable NAME                                     allow sign-in again
  passwd NAME                                     set a new password; ends their sessions
  reset-mfa NAME                                  remove the second factor (lost phone)

Every subcommand takes -data DIR (default ./data). Flags may come before or
after NAME. Roles: %s.

add and passwd read the password from the first line of standard input, or
ask twice without echo at a terminal. It is never a flag: flags show in ps
and in shell history.
`

// usageError is a mistake in the command line (exit status 2), as opposed
// to a failure to carry out a correct one (status 1).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// userCLI holds what every subcommand needs.
type userCLI struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	dataDir        string
	actor          string
}

// Run runs "kiosk-server user ARGS..." and returns the exit status:
// 0 done, 1 failed, 2 wrong command line. A password is read from stdin:
// from the terminal without echo when stdin is one (an *os.File), else its
// first line.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) { fmt.Fprintf(w, userUsage, roleNames()) }
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	sub := args[0]
	if sub == "help" || sub == "-h" || sub == "-help" || sub == "--help" {
		usage(stdout)
		return 0
	}

	flags := flag.NewFlagSet("kiosk-server user "+sub, flag.ContinueOnError)
	flags.SetOutput(stderr)
	c := &userCLI{stdin: stdin, stdout: stdout, stderr: stderr, actor: cliActor()}
	flags.StringVar(&c.dataDir, "data", "./data", "data directory of the server (stop the server first)")
	var (
		run      func(name string) error
		synopsis = sub + " [-data DIR] NAME"
		wantPos  = 1
	)
	switch sub {
	case "add":
		role := flags.String("role", "", "role: "+roleNames())
		groups := flags.String("groups", "", "comma-separated group ids the user is limited to (default: every group)")
		urgent := flags.Bool("urgent", false, "may send urgent notices without review")
		synopsis = "add [-data DIR] -role ROLE [-groups G1,G2] [-urgent] NAME"
		run = func(name string) error { return c.add(name, *role, *groups, *urgent) }
	case "list":
		synopsis, wantPos = "list [-data DIR]", 0
		run = func(string) error { return c.list() }
	case "disable":
		run = func(name string) error { return c.setDisabled(name, true) }
	case "enable":
		run = func(name string) error { return c.setDisabled(name, false) }
	case "passwd":
		run = c.passwd
	case "reset-mfa":
		run = c.resetMFA
	default:
		fmt.Fprintf(stderr, "kiosk-server user: unknown subcommand %q\n\n", sub)
		usage(stderr)
		return 2
	}
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: kiosk-server user %s\n", synopsis)
		flags.PrintDefaults()
	}

	pos, err := parseInterspersed(flags, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2 // the flag package has said what is wrong, and the usage
	}
	if len(pos) != wantPos {
		switch {
		case wantPos == 0:
			fmt.Fprintf(stderr, "kiosk-server user %s: takes no NAME (got %q)\n", sub, strings.Join(pos, " "))
		case len(pos) == 0:
			fmt.Fprintf(stderr, "kiosk-server user %s: NAME is missing\n", sub)
		default:
			fmt.Fprintf(stderr, "kiosk-server user %s: one NAME expected, got %d (%q)\n", sub, len(pos), strings.Join(pos, " "))
		}
		flags.Usage()
		return 2
	}
	name := ""
	if wantPos == 1 {
		name = pos[0]
	}
	if err := run(name); err != nil {
		fmt.Fprintf(stderr, "kiosk-server user %s: %v\n", sub, err)
		var ue usageError
		if errors.As(err, &ue) {
			flags.Usage()
			return 2
		}
		return 1
	}
	return 0
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments ("disable bob -data /srv/kiosk" as well as "disable -data
// /srv/kiosk bob"), which the flag package alone stops at. Everything after
// "--" is positional.
func parseInterspersed(flags *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := flags.Parse(args); err != nil {
			return nil, err
		}
		rest := flags.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func roleNames() string {
	names := make([]string, len(store.Roles))
	for i, r := range store.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// cliActor names the person at the terminal for the audit trail: the
// operating-system account, and who became root through sudo.
func cliActor() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = cmp.Or(os.Getenv("USER"), os.Getenv("USERNAME"), "unknown")
	}
	if su := os.Getenv("SUDO_USER"); su != "" && su != name {
		name = su + " (sudo as " + name + ")"
	}
	return "cli:" + name
}

// open opens the store. Only add may start a new data directory (the first
// admin is made before the server ever ran); the other subcommands would
// only find an empty one where a -data typo points.
func (c *userCLI) open(create bool) (*store.Store, error) {
	if !create {
		db := filepath.Join(c.dataDir, store.DBFile)
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no server data in %s (no %s there); is -data right?", c.dataDir, store.DBFile)
		} else if err != nil {
			return nil, err
		}
	}
	return store.Open(c.dataDir, nil)
}

// audit records a change made here. The change is already stored, so a
// failure to record it is reported but changes nothing else.
func (c *userCLI) audit(s *store.Store, action string, u store.User, status int, detail string) error {
	err := s.AppendAudit(store.AuditEntry{
		Actor:  c.actor,
		IP:     "local",
		Via:    "cli",
		Action: action,
		Target: u.ID,
		Status: status,
		Detail: detail,
	})
	if err != nil {
		return fmt.Errorf("the change is stored (%s), but recording it in the audit trail failed: %w", detail, err)
	}
	return nil
}

// endSessions signs user id out everywhere: after a password reset or
// when disabled, no browser signed in before may stay in.
func endSessions(s *store.Store, id string) (int, error) {
	gone, err := s.DeleteSessions(func(se store.Session) bool { return se.UserID == id })
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return len(gone), nil
}

func sessionCount(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// maxPasswordLine bounds what is read from standard input for a password:
// far above the policy's 256 characters, so an over-long password is
// refused by the policy with its length rather than cut short.
const maxPasswordLine = 64 << 10

// readPassword takes the password from a terminal (asked twice, no echo)
// or else from the first line of standard input.
func (c *userCLI) readPassword(name string) (string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(c.stderr, "New password for %s: ", name)
		first, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(c.stderr, "Repeat it: ")
		second, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords differ; nothing was changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, maxPasswordLine)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password on standard input (pipe it in as the first line, or run at a terminal to be asked)")
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

// newPasswordHash reads a password for name, applies the policy and hashes it.
func (c *userCLI) newPasswordHash(name string) (string, error) {
	pw, err := c.readPassword(name)
	if err != nil {
		return "", err
	}
	if err := people.CheckPassword(pw, name); err != nil {
		return "", fmt.Errorf("%w; nothing was changed", err)
	}
	return people.HashPassword(pw)
}

func (c *userCLI) add(name, roleFlag, groupsFlag string, urgent bool) error {
	if roleFlag == "" {
		return usageError{"-role is required; one of " + roleNames()}
	}
	role, err := store.ParseRole(roleFlag)
	if err != nil {
		return usageError{err.Error()}
	}
	var groups []string
	for g := range strings.SplitSeq(groupsFlag, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	s, err := c.open(true)
	if err != nil {
		return err
	}
	defer s.Close()
	// Ask for the password only for a name that can still be taken.
	if _, err := s.GetUserByName(name); err == nil {
		return fmt.Errorf("username %q is taken", name)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash, err := c.newPasswordHash(name)
	if err != nil {
		return err
	}
	u, err := s.CreateUser(store.User{Username: name, Role: role, Groups: groups, Urgent: urgent, PasswordHash: hash})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "created user %s (role %s, id %s)\n", u.Username, u.Role, u.ID)
	return c.audit(s, "user add", u, 201, fmt.Sprintf("created user %s with role %s", u.Username, u.Role))
}

func (c *userCLI) list() error {
	s, err := c.open(false)
	if err != nil {
		return err
	}
	defer s.Close()
	users, err := s.ListUsers()
	if err != nil {
		return err
	}
	if len(users) == 0 {
		fmt.Fprintln(c.stdout, "no users yet; create the first with: kiosk-server user add -role admin NAME")
		return nil
	}
	rows := [][]string{{"USERNAME", "ROLE", "GROUPS", "URGENT", "DISABLED", "MFA", "LAST SIGN-IN"}}
	for _, u := range users {
		groups := "all"
		if len(u.Groups) > 0 {
			groups = strings.Join(u.Groups, ",")
		}
		mfa := "off"
		switch {
		case u.TOTPEnabled:
			mfa = "totp"
		case u.TOTPSecret != "":
			mfa = "enrolling"
		}
		last := "never"
		if !u.LastSignIn.IsZero() {
			last = u.LastSignIn.Local().Format(time.DateTime + " MST")
		}
		rows = append(rows, []string{u.Username, string(u.Role), groups, yesNo(u.Urgent), yesNo(u.Disabled), mfa, last})
	}
	return writeTable(c.stdout, rows)
}

// writeTable prints rows in aligned columns. text/tabwriter counts runes,
// which misaligns Chinese names: they take two columns on a terminal.
func writeTable(w io.Writer, rows [][]string) error {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth is the terminal width of s. Usernames hold ASCII or
// Chinese, Japanese and Korean letters only (store.User), which are all
// wide; group ids and the rest are ASCII.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= utf8.RuneSelf {
			n++
		}
	}
	return n
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// lookup finds the user called name.
func lookup(s *store.Store, name string) (store.User, error) {
	u, err := s.GetUserByName(name)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, fmt.Errorf("no user %q (kiosk-server user list shows them)", name)
	}
	return u, err
}

// change applies fn to the user called name and returns the result.
func change(s *store.Store, name string, fn func(*store.User) error) (store.User, error) {
	u, err := lookup(s, name)
	if err != nil {
		return store.User{}, err
	}
	return s.UpdateUser(u.ID, fn)
}

func (c *userCLI) setDisabled(name string, disabled bool) error {
	s, err := c.open(false)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := change(s, name, func(u *store.User) error { u.Disabled = disabled; return nil })
	if err != nil {
		return err
	}
	action, detail := "user enable", "enabled user "+u.Username
	if disabled {
		n, err := endSessions(s, u.ID)
		if err != nil {
			return err
		}
		action, detail = "user disable", fmt.Sprintf("disabled user %s and ended %s", u.Username, sessionCount(n))
	}
	fmt.Fprintln(c.stdout, detail)
	return c.audit(s, action, u, 200, detail)
}

func (c *userCLI) passwd(name string) error {
	s, err := c.open(false)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := lookup(s, name); err != nil {
		return err // say so before asking for a password
	}
	hash, err := c.newPasswordHash(name)
	if err != nil {
		return err
	}
	u, err := change(s, name, func(u *store.User) error { u.PasswordHash = hash; return nil })
	if err != nil {
		return err
	}
	n, err := endSessions(s, u.ID)
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("set a new password for %s and ended %s", u.Username, sessionCount(n))
	fmt.Fprintln(c.stdout, detail)
	return c.audit(s, "user passwd", u, 200, detail)
}

func (c *userCLI) resetMFA(name string) error {
	s, err := c.open(false)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := change(s, name, func(u *store.User) error {
		u.TOTPSecret, u.TOTPEnabled, u.TOTPLastStep = "", false, 0
		return nil
	})
	if err != nil {
		return err
	}
	detail := fmt.Sprintf("removed the second factor of %s; they enrol again after signing in", u.Username)
	fmt.Fprintln(c.stdout, detail)
	return c.audit(s, "user reset-mfa", u, 200, detail)
}
