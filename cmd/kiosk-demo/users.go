package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// usersFileName keeps the demo accounts' passwords inside the data dir, so
// a second run with the same -data can print them again: the server keeps
// only their hashes.
const usersFileName = "demo-users.json"

// DemoUser is one account the demo made, one per role, so the review
// flow can be tried: the editor drafts, the reviewer approves.
type DemoUser struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Password string `json:"password"`
	Urgent   bool   `json:"urgent,omitempty"`
}

var demoRoles = []DemoUser{
	{Username: "admin", Role: "admin", Urgent: true},
	{Username: "reviewer", Role: "reviewer"},
	{Username: "editor", Role: "editor"},
	{Username: "technician", Role: "technician"},
	{Username: "viewer", Role: "viewer"},
}

// demoPassword is 16 characters from an alphabet without look-alikes,
// grouped for reading off a terminal.
func demoPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	out := make([]byte, 0, 19)
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, alphabet[int(v)%len(alphabet)])
	}
	return string(out)
}

// ensureUsers makes one account per role unless the data dir already has
// them, and returns the accounts with their passwords (read back from the
// data dir on a later run).
func ensureUsers(ctx context.Context, c *apiClient, dataDir string) ([]DemoUser, error) {
	path := filepath.Join(dataDir, usersFileName)
	var saved []DemoUser
	if raw, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(raw, &saved); err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	known := map[string]DemoUser{}
	for _, u := range saved {
		known[u.Username] = u
	}
	var out []DemoUser
	for _, u := range demoRoles {
		if k, ok := known[u.Username]; ok {
			out = append(out, k)
			continue
		}
		u.Password = demoPassword()
		body := map[string]any{"username": u.Username, "password": u.Password, "role": u.Role, "urgent": u.Urgent}
		err := c.doJSON(ctx, http.MethodPost, "/api/v1/users", body, nil)
		if statusOf(err) == http.StatusConflict {
			continue // made by someone else; its password is theirs
		}
		if err != nil {
			return nil, fmt.Errorf("create demo user %s: %w", u.Username, err)
		}
		out = append(out, u)
	}
	raw, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, fmt.Errorf("save demo passwords: %w", err)
	}
	return out, nil
}
