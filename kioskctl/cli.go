// Package kioskctl is the command-line client of a Kiosk server: fleet
// status, media, content (items, playlists, schedules, whole campaigns from
// a file), change sets, urgent notices, remote commands and play reports,
// all through the public /api/v1 HTTP API. cmd/kioskctl only wires the
// process (arguments, environment, terminal) into Run.
package kioskctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Exit codes scripts can trust (README "Command-line client").
const (
	ExitOK       = 0
	ExitFailed   = 1 // the server refused or failed, or the operation did not succeed
	ExitUsage    = 2 // bad arguments, flags or input file
	ExitNotFound = 3 // 404: no such screen, item, ...
	ExitAuth     = 4 // 401 or 403: missing, wrong or insufficient credentials
	ExitConflict = 5 // 409: the change conflicts with the current state
)

// Env is everything kioskctl takes from its process; tests fill it in.
type Env struct {
	Getenv           func(string) string
	Stdin            io.Reader
	Stdout, Stderr   io.Writer
	StdinIsTerminal  bool
	StderrIsTerminal bool
	// ReadPassword reads a line from the terminal without echo; nil when
	// there is no terminal.
	ReadPassword func() ([]byte, error)
	// ConfigDir holds the session file of "kioskctl login".
	ConfigDir string
	// HTTPClient, if set, replaces the default client (tests).
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// usageError is a mistake in how kioskctl was called or in an input file;
// hint: the command's --help would show what is right (a bad flag, a
// missing argument).
type usageError struct {
	msg  string
	hint bool
}

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// syntaxf is a usage error in the command line itself.
func syntaxf(format string, args ...any) error {
	return usageError{msg: fmt.Sprintf(format, args...), hint: true}
}

// errHelp ends a command after it printed its help.
var errHelp = errors.New("help shown")

// ExitCode is the exit status for err (nil: ExitOK).
func ExitCode(err error) int {
	var ue usageError
	var ae *APIError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return ExitOK
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &ae):
		switch ae.Status {
		case http.StatusNotFound:
			return ExitNotFound
		case http.StatusUnauthorized, http.StatusForbidden:
			return ExitAuth
		case http.StatusConflict:
			return ExitConflict
		}
	case errors.Is(err, errNoCredentials):
		return ExitAuth
	}
	return ExitFailed
}

// Run runs kioskctl with args (without the program name) and returns the
// exit code. Errors are printed to env.Stderr as one readable line.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	c := &ctl{ctx: ctx, env: env, out: env.Stdout}
	err := c.dispatch(args)
	if err != nil && !errors.Is(err, errHelp) {
		fmt.Fprintln(env.Stderr, "kioskctl: "+describe(err))
		var ue usageError
		if errors.As(err, &ue) && ue.hint && c.helpHint != "" {
			fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", c.helpHint)
		}
	}
	return ExitCode(err)
}

// describe is the one line a person reads for err.
func describe(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		msg := err.Error()
		switch ae.Status {
		case http.StatusUnauthorized:
			if ae.Code == "session_expired" {
				msg += " (run 'kioskctl login')"
			}
		}
		return msg
	}
	return err.Error()
}

// ctl is one invocation: its environment, global options and client.
type ctl struct {
	ctx      context.Context
	env      Env
	out      io.Writer
	server   string
	json     bool
	helpHint string // the command whose --help a usage error points at
	client   *client
}

// command is one node of the command tree.
type command struct {
	name    string
	summary string
	run     func(c *ctl, path string, args []string) error // nil: a noun with verbs
	verbs   []command
	// deflt is the verb run when a noun is given none ("screens" lists).
	deflt string
}

func commands() []command {
	return []command{
		{name: "login", summary: "sign in with username and password (+ TOTP); keeps a session", run: runLogin},
		{name: "logout", summary: "end the session kept by login", run: runLogout},
		{name: "whoami", summary: "show who the credentials belong to", run: runWhoami},
		{name: "screens", summary: "fleet status", deflt: "list", verbs: []command{
			{name: "list", summary: "list every screen as a table (--state, --group, --tag, --search)", run: runScreensList},
			{name: "show", summary: "show one screen", run: runScreensShow},
			{name: "add", summary: "register a screen (token shown once, or --pair CODE)", run: runScreensAdd},
			{name: "delete", summary: "delete a screen", run: runScreensDelete},
		}},
		{name: "groups", summary: "streets and compounds", deflt: "list", verbs: []command{
			{name: "list", summary: "list groups", run: runGroupsList},
			{name: "create", summary: "create a group (ID --name, --parent)", run: runGroupsCreate},
			{name: "update", summary: "rename, move or re-set a group", run: runGroupsUpdate},
			{name: "delete", summary: "delete an empty group", run: runGroupsDelete},
		}},
		{name: "users", summary: "accounts (admins)", deflt: "list", verbs: []command{
			{name: "list", summary: "list accounts", run: runUsersList},
			{name: "add", summary: "create an account (password from the terminal or stdin)", run: runUsersAdd},
			{name: "disable", summary: "disable an account and end its sessions", run: runUsersSetDisabled(true)},
			{name: "enable", summary: "enable an account again", run: runUsersSetDisabled(false)},
		}},
		{name: "media", summary: "uploaded images and videos", verbs: []command{
			{name: "upload", summary: "upload files (progress on a terminal)", run: runMediaUpload},
			{name: "list", summary: "list uploaded media", run: runMediaList},
		}},
		contentCommand(itemKind),
		contentCommand(playlistKind),
		contentCommand(scheduleKind),
		{name: "apply", summary: "apply a campaign file: create, update or keep items, playlists, schedules", run: runApply},
		{name: "changesets", summary: "change sets under review", verbs: []command{
			{name: "list", summary: "list change sets (--state, --mine)", run: runChangesetsList},
			{name: "show", summary: "show a change set and what it changes", run: runChangesetsShow},
			{name: "submit", summary: "hand a change set to review", run: changesetAction("submit")},
			{name: "approve", summary: "approve and publish a change set", run: changesetAction("approve")},
			{name: "reject", summary: "send a change set back with a comment", run: changesetAction("reject")},
		}},
		{name: "urgent", summary: "urgent notices (bypass review)", verbs: []command{
			{name: "send", summary: "send an urgent notice", run: runUrgentSend},
			{name: "withdraw", summary: "take an urgent notice off every screen", run: runUrgentWithdraw},
			{name: "list", summary: "urgent notices of the last 7 days", run: runUrgentList},
		}},
		{name: "commands", summary: "remote commands to screens", verbs: []command{
			{name: "send", summary: "send a command to a screen or group, optionally wait", run: runCommandsSend},
			{name: "list", summary: "recent commands of a screen", run: runCommandsList},
		}},
		{name: "screenshot", summary: "take a screenshot of a screen and save it", run: runScreenshot},
		{name: "reports", summary: "proof-of-play reports", verbs: []command{
			{name: "plays", summary: "plays per item, screen, group or day; CSV with -o", run: runReportPlays},
		}},
	}
}

func (c *ctl) dispatch(args []string) error {
	cmds := commands()
	if len(args) == 0 || isHelp(args[0]) || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			return c.dispatch(append(args[1:], "--help"))
		}
		c.printTopHelp(cmds)
		if len(args) == 0 {
			return usagef("no command given")
		}
		return errHelp
	}
	// Global flags may come before the command too: kioskctl --json screens.
	lead := []string{}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && !isHelp(args[0]) {
		lead = append(lead, args[0])
		if !strings.Contains(args[0], "=") && takesValue(args[0]) && len(args) > 1 {
			lead = append(lead, args[1])
			args = args[1:]
		}
		args = args[1:]
	}
	if len(args) == 0 {
		return usagef("no command given")
	}
	cmd, ok := find(cmds, args[0])
	if !ok {
		return usagef("unknown command %q (run 'kioskctl help')", args[0])
	}
	rest := args[1:]
	path := "kioskctl " + cmd.name
	c.helpHint = path
	if cmd.run != nil {
		return cmd.run(c, path, append(lead, rest...))
	}
	if len(rest) == 0 || strings.HasPrefix(rest[0], "-") && !isHelp(rest[0]) {
		if cmd.deflt != "" {
			v, _ := find(cmd.verbs, cmd.deflt)
			return v.run(c, path+" "+v.name, append(lead, rest...))
		}
	}
	if len(rest) == 0 || isHelp(rest[0]) {
		c.printNounHelp(path, cmd)
		if len(rest) == 0 {
			return syntaxf("%s needs a subcommand", cmd.name)
		}
		return errHelp
	}
	v, ok := find(cmd.verbs, rest[0])
	if !ok {
		return syntaxf("unknown subcommand %q of %s", rest[0], cmd.name)
	}
	path += " " + v.name
	c.helpHint = path
	return v.run(c, path, append(lead, rest[1:]...))
}

// takesValue reports whether a leading global flag consumes the next
// argument (--server URL, but not --json).
func takesValue(arg string) bool {
	name := strings.TrimLeft(arg, "-")
	return name == "server"
}

func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "-help" }

func find(cmds []command, name string) (command, bool) {
	for _, c := range cmds {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func (c *ctl) printTopHelp(cmds []command) {
	w := c.env.Stdout
	fmt.Fprint(w, `kioskctl: command-line client of a Kiosk server.

Usage: kioskctl <command> [<subcommand>] [flags]

Commands:
`)
	t := &table{}
	for _, cmd := range cmds {
		t.row("  "+cmd.name, cmd.summary)
		for _, v := range cmd.verbs {
			t.row("    "+v.name, v.summary)
		}
	}
	t.write(w)
	fmt.Fprint(w, helpFooter)
}

const helpFooter = `
Every command takes --help, --server URL and --json.

Server and credentials:
  --server URL or KIOSK_SERVER       the server, e.g. https://signs.example
  KIOSK_TOKEN (or KIOSK_TOKEN_FILE)  a personal API token (kpt_...), or
  KIOSK_ADMIN_TOKEN (or ..._FILE)    the break-glass token, or
  kioskctl login                     a session kept under $XDG_CONFIG_HOME/kioskctl

Exit codes:
  0 ok   1 failed (server error, operation failed)   2 usage or bad input file
  3 not found (404)   4 not signed in or not allowed (401/403)   5 conflict (409)
`

func (c *ctl) printNounHelp(path string, cmd command) {
	w := c.env.Stdout
	fmt.Fprintf(w, "Usage: %s <subcommand> [flags]\n\n%s.\n\nSubcommands:\n", path, upperFirst(cmd.summary))
	t := &table{}
	for _, v := range cmd.verbs {
		t.row("  "+v.name, v.summary)
	}
	t.write(w)
	fmt.Fprintf(w, "\nRun '%s <subcommand> --help' for its flags.\n", path)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// flagSet is a command's flags plus the global ones, with its help text.
type flagSet struct {
	*flag.FlagSet
	path, args, about string
}

// flags starts the flag set of the command at path; args names its
// positional arguments for the usage line, about says what it does.
func (c *ctl) flags(path, args, about string) *flagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.server, "server", "", "the server's `URL` (default $KIOSK_SERVER, else the one of 'kioskctl login')")
	fs.BoolVar(&c.json, "json", false, "print the API's JSON instead of a table")
	return &flagSet{FlagSet: fs, path: path, args: args, about: about}
}

// parse parses args, allowing flags before and after positional
// arguments ("commands send S1 reload --wait"); "--" ends the flags.
// It checks the number of positional arguments against min and max
// (max < 0: no limit).
func (c *ctl) parse(fs *flagSet, args []string, min, max int) ([]string, error) {
	var pos, tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.usage(c.env.Stdout)
				return nil, errHelp
			}
			return nil, syntaxf("%s", err.Error())
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	pos = append(pos, tail...)
	switch {
	case len(pos) < min:
		if fs.args != "" {
			return nil, syntaxf("%s: missing arguments: %s", fs.path, fs.args)
		}
		return nil, syntaxf("%s: missing arguments", fs.path)
	case max >= 0 && len(pos) > max:
		return nil, syntaxf("%s: unexpected argument %q", fs.path, pos[max])
	}
	return pos, nil
}

func (fs *flagSet) usage(w io.Writer) {
	line := "Usage: " + fs.path
	if fs.args != "" {
		line += " " + fs.args
	}
	fmt.Fprintf(w, "%s [flags]\n\n%s\n\nFlags:\n", line, strings.TrimSpace(fs.about))
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	t := &table{}
	for _, n := range names {
		f := fs.Lookup(n)
		name, usage := flag.UnquoteUsage(f)
		left := "  --" + n
		if len(n) == 1 {
			left = "  -" + n
		}
		if name != "" {
			left += " " + name
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "[]" {
			usage += " (default " + f.DefValue + ")"
		}
		t.row(left, usage)
	}
	t.write(w)
}

// setFlags is the set of flag names given on the command line.
func setFlags(fs *flagSet) map[string]bool {
	m := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { m[f.Name] = true })
	return m
}

// listFlag is a flag that may be repeated or comma-separated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}
