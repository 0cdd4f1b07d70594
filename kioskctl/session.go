package kioskctl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sessionFile is the name of the session kept by "kioskctl login" in the
// config directory. It holds a live credential: mode 0600 in a 0700
// directory, and logout deletes it.
const sessionFile = "session.json"

// session is a cookie session: what a browser would keep, for a program.
// The server wants X-CSRF-Token only from browsers, but kioskctl sends it
// on every write anyway, so a stricter server later still accepts it.
type session struct {
	Server   string         `json:"server"`
	Username string         `json:"username"`
	Cookies  []storedCookie `json:"cookies"`
	CSRF     string         `json:"csrf"`
	Created  time.Time      `json:"created"`
}

type storedCookie struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func sessionPath(dir string) string { return filepath.Join(dir, sessionFile) }

// loadSession reads the session file; nil when there is none.
func loadSession(dir string) (*session, error) {
	if dir == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(sessionPath(dir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	var s session
	if err := json.Unmarshal(raw, &s); err != nil || s.Server == "" {
		return nil, fmt.Errorf("session file %s is damaged: run 'kioskctl login' again", sessionPath(dir))
	}
	return &s, nil
}

func saveSession(dir string, s session) error {
	if dir == "" {
		return errors.New("no configuration directory to keep the session in (set XDG_CONFIG_HOME)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keep session: %w", err)
	}
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".session-*")
	if err != nil {
		return fmt.Errorf("keep session: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keep session: %w", err)
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("keep session: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keep session: %w", err)
	}
	if err := os.Rename(tmp.Name(), sessionPath(dir)); err != nil {
		return fmt.Errorf("keep session: %w", err)
	}
	return nil
}

func runLogin(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `Sign in with a username and password (and a TOTP code when the account has one)
and keep the session in $XDG_CONFIG_HOME/kioskctl/session.json (mode 0600).
The password is asked for on a terminal, else read from the first line of
stdin. KIOSK_TOKEN, when set, wins over the session.`)
	user := fs.String("user", "", "username (asked for when missing on a terminal)")
	totp := fs.String("totp", "", "the current 6-digit TOTP code (asked for when needed on a terminal)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	server := c.server
	if server == "" {
		server = c.env.Getenv("KIOSK_SERVER")
	}
	if server == "" {
		return usagef("no server: pass --server URL or set KIOSK_SERVER")
	}
	base, err := parseServer(server)
	if err != nil {
		return err
	}
	in := bufio.NewReader(c.env.Stdin)
	if *user == "" {
		if !c.env.StdinIsTerminal {
			return usagef("pass --user NAME (stdin is not a terminal)")
		}
		fmt.Fprint(c.env.Stderr, "Username: ")
		line, _ := in.ReadString('\n')
		*user = strings.TrimSpace(line)
		if *user == "" {
			return usagef("no username given")
		}
	}
	password, err := c.readSecret(in, "Password: ")
	if err != nil {
		return err
	}
	cl := &client{base: base, http: c.httpClient()}
	req := map[string]string{"username": *user, "password": password, "totp": *totp}
	resp, body, err := cl.signIn(c.ctx, req)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "totp_required" && *totp == "" && c.env.StdinIsTerminal {
		code, err2 := c.readSecret(in, "TOTP code: ")
		if err2 != nil {
			return err2
		}
		req["totp"] = code
		resp, body, err = cl.signIn(c.ctx, req)
	}
	if err != nil {
		return err
	}
	var view struct {
		CSRF string `json:"csrf"`
		User struct {
			Username string `json:"username"`
			Role     string `json:"role"`
		} `json:"user"`
	}
	if err := json.Unmarshal(body, &view); err != nil {
		return fmt.Errorf("decode sign-in answer: %w", err)
	}
	se := session{Server: base.String(), Username: view.User.Username, CSRF: view.CSRF, Created: c.env.Now().UTC()}
	for _, ck := range resp.Cookies() {
		if ck.Value != "" && ck.MaxAge >= 0 {
			se.Cookies = append(se.Cookies, storedCookie{Name: ck.Name, Value: ck.Value})
		}
	}
	if len(se.Cookies) == 0 {
		return errors.New("the server answered the sign-in without a session cookie")
	}
	if err := saveSession(c.env.ConfigDir, se); err != nil {
		return err
	}
	if c.json {
		return c.printJSON(body)
	}
	fmt.Fprintf(c.out, "Signed in to %s as %s (%s). The session ends after a while idle; run 'kioskctl logout' when done.\n",
		se.Server, view.User.Username, view.User.Role)
	return nil
}

// signIn posts the credentials; the answer's cookies are the session.
func (cl *client) signIn(ctx context.Context, req map[string]string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	raw, _ := json.Marshal(req)
	r, err := cl.newRequest(ctx, http.MethodPost, "/session", bytes.NewReader(raw))
	if err != nil {
		return nil, nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := cl.send(r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read sign-in answer: %w", err)
	}
	return resp, body, nil
}

// readSecret asks for a secret without echo on a terminal, else reads
// the next line of stdin.
func (c *ctl) readSecret(in *bufio.Reader, prompt string) (string, error) {
	if c.env.StdinIsTerminal && c.env.ReadPassword != nil {
		fmt.Fprint(c.env.Stderr, prompt)
		b, err := c.env.ReadPassword()
		fmt.Fprintln(c.env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.TrimSuffix(strings.ToLower(prompt), ": "), err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := in.ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" && err != nil {
		return "", usagef("%s expected on the first line of stdin", strings.TrimSuffix(strings.ToLower(prompt), ": "))
	}
	return line, nil
}

func (c *ctl) httpClient() *http.Client {
	if c.env.HTTPClient != nil {
		return c.env.HTTPClient
	}
	return &http.Client{}
}

func runLogout(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "End the session kept by 'kioskctl login' on the server and delete it here.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	se, err := loadSession(c.env.ConfigDir)
	if err != nil {
		// A damaged file is removed all the same.
		_ = os.Remove(sessionPath(c.env.ConfigDir))
		return err
	}
	if se == nil {
		fmt.Fprintln(c.out, "Not signed in.")
		return nil
	}
	base, err := parseServer(se.Server)
	if err == nil {
		cl := &client{base: base, session: se, http: c.httpClient()}
		_, err = cl.call(c.ctx, http.MethodDelete, "/session", nil)
	}
	if rmErr := os.Remove(sessionPath(c.env.ConfigDir)); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
		return fmt.Errorf("delete session file: %w", rmErr)
	}
	var ae *APIError
	if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusUnauthorized) {
		return fmt.Errorf("session file deleted, but the server did not confirm the sign-out: %w", err)
	}
	fmt.Fprintf(c.out, "Signed out of %s.\n", se.Server)
	return nil
}

func runWhoami(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "Show who the current credentials belong to, their role and what they may do.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var v struct {
		User struct {
			Username string   `json:"username"`
			Role     string   `json:"role"`
			Groups   []string `json:"groups"`
		} `json:"user"`
		Via    string   `json:"via"`
		Can    []string `json:"can"`
		Review bool     `json:"review"`
	}
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/session", nil, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := &table{} // a record: whole values, not cut to a column
	t.row("server", cl.base.String())
	t.row("user", v.User.Username)
	t.row("role", v.User.Role)
	t.row("via", v.Via)
	t.row("groups", orDash(strings.Join(v.User.Groups, ", ")))
	t.row("may", strings.Join(v.Can, ", "))
	if v.Review {
		t.row("changes", "drafted into change sets for review")
	} else {
		t.row("changes", "published at once")
	}
	t.write(c.out)
	return nil
}
