package kioskctl

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Accounts, for an administrator who scripts a new colleague's start or a
// leaver's last day. Passwords are read like login reads them (no echo on
// a terminal, else stdin's first line), never taken from a flag where the
// shell history would keep them.

type userListView struct {
	ID          string     `json:"id"`
	Username    string     `json:"username"`
	Role        string     `json:"role"`
	Groups      []string   `json:"groups"`
	Urgent      bool       `json:"urgent"`
	Disabled    bool       `json:"disabled"`
	TOTPEnabled bool       `json:"totp_enabled"`
	LastSignIn  *time.Time `json:"last_sign_in"`
}

var roles = []string{"admin", "reviewer", "editor", "technician", "viewer"}

func runUsersList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List accounts: role, group scope, urgent-notice right, two-step sign-in, last sign-in.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var us []userListView
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/users", nil, &us)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("USERNAME", "ROLE", "GROUPS", "URGENT", "TOTP", "STATUS", "LAST SIGN-IN", "ID")
	for _, u := range us {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		groups := strings.Join(u.Groups, ",")
		if groups == "" {
			groups = "all"
		}
		t.row(u.Username, u.Role, groups, yesNo(u.Urgent), yesNo(u.TOTPEnabled), status, when(u.LastSignIn), u.ID)
	}
	t.write(c.out)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func runUsersAdd(c *ctl, path string, args []string) error {
	fs := c.flags(path, "USERNAME", `Create an account. The password is asked for without echo on a terminal, or
read from stdin's first line (at least 12 characters, not containing the
username). Tell the colleague to change it at first sign-in.`)
	role := fs.String("role", "", "admin, reviewer, editor, technician or viewer (required)")
	var groups listFlag
	fs.Var(&groups, "group", "limit the account to these groups (ids; comma-separated or repeated); default: all")
	urgent := fs.Bool("urgent", false, "may send urgent notices")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if !contains(roles, *role) {
		return usagef("--role must be one of %s (got %q)", strings.Join(roles, ", "), *role)
	}
	password, err := c.readSecret(bufio.NewReader(c.env.Stdin), "Password for "+pos[0]+": ")
	if err != nil {
		return err
	}
	if password == "" {
		return usagef("no password given")
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	req := map[string]any{"username": pos[0], "password": password, "role": *role, "groups": []string(groups), "urgent": *urgent}
	var v userListView
	raw, err := cl.callInto(c.ctx, http.MethodPost, "/users", req, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.out, "created %s %s (%s)\n", v.Role, v.Username, v.ID)
	return nil
}

// runUsersSetDisabled is users disable and users enable. Disabling ends
// the account's sessions on the server at once.
func runUsersSetDisabled(disabled bool) func(c *ctl, path string, args []string) error {
	verb := map[bool]string{true: "disabled", false: "enabled"}[disabled]
	doc := map[bool]string{
		true:  "Disable an account: it can no longer sign in and its sessions end now. Its history stays.",
		false: "Enable a disabled account again.",
	}[disabled]
	return func(c *ctl, path string, args []string) error {
		fs := c.flags(path, "USERNAME|ID", doc)
		pos, err := c.parse(fs, args, 1, 1)
		if err != nil {
			return err
		}
		cl, err := c.apiClient()
		if err != nil {
			return err
		}
		id, err := userID(c, cl, pos[0])
		if err != nil {
			return err
		}
		var v userListView
		raw, err := cl.callInto(c.ctx, http.MethodPut, "/users/"+pathEscape(id), map[string]any{"disabled": disabled}, &v)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(raw)
		}
		fmt.Fprintf(c.out, "%s %s\n", verb, v.Username)
		return nil
	}
}

// userID finds an account by username or id.
func userID(c *ctl, cl *client, who string) (string, error) {
	var us []userListView
	if _, err := cl.callInto(c.ctx, http.MethodGet, "/users", nil, &us); err != nil {
		return "", err
	}
	for _, u := range us {
		if u.ID == who || u.Username == who {
			return u.ID, nil
		}
	}
	return "", &APIError{Status: http.StatusNotFound, Code: "not_found", Msg: fmt.Sprintf("no account %q (kioskctl users list shows them)", who)}
}
