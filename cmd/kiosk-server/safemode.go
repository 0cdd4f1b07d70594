package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"kiosk/server/usercmd"
)

// runSafeMode is "kiosk-server safe-mode on|off|list" against a running
// server, for the day the admin page is out of reach: it calls the API
// with a personal token (KIOSK_TOKEN) or the break-glass token
// (KIOSK_ADMIN_TOKEN), as an admin or reviewer.
func runSafeMode(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	const usage = `usage:
  kiosk-server safe-mode on   -server URL (-all | -groups g1,g2 | -screens s1,s2)
  kiosk-server safe-mode off  -server URL -id SAFE_MODE_ID
  kiosk-server safe-mode list -server URL
the token comes from KIOSK_TOKEN (a personal API token) or KIOSK_ADMIN_TOKEN`
	if len(args) == 0 || (args[0] != "on" && args[0] != "off" && args[0] != "list") {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("safe-mode "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "http://"+defaultAddr(), "the server's base URL")
	all := fs.Bool("all", false, "every screen")
	groups := fs.String("groups", "", "comma-separated group ids")
	screens := fs.String("screens", "", "comma-separated screen ids")
	id := fs.String("id", "", "the safe mode to lift (see list)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	token := usercmd.ClientToken(getenv)
	if token == "" {
		fmt.Fprintln(stderr, "no token: set KIOSK_TOKEN to a personal API token (my account → tokens) or KIOSK_ADMIN_TOKEN")
		return 2
	}
	c := apiClient{base: strings.TrimRight(*server, "/") + "/api/v1", token: token}
	var err error
	switch args[0] {
	case "on":
		target := map[string]any{}
		switch {
		case *all:
			target["all"] = true
		case *groups != "":
			target["groups"] = splitList(*groups)
		case *screens != "":
			target["screens"] = splitList(*screens)
		default:
			fmt.Fprintln(stderr, "say which screens: -all, -groups or -screens")
			return 2
		}
		var m struct {
			ID    string    `json:"id"`
			Since time.Time `json:"since"`
		}
		if err = c.do(http.MethodPost, "/safe-mode", map[string]any{"target": target}, &m); err == nil {
			fmt.Fprintf(stdout, "safe mode %s on since %s; lift it with: kiosk-server safe-mode off -server %s -id %s\n",
				m.ID, m.Since.Local().Format(time.DateTime), *server, m.ID)
		}
	case "off":
		if *id == "" {
			fmt.Fprintln(stderr, "-id is required (kiosk-server safe-mode list shows them)")
			return 2
		}
		if err = c.do(http.MethodDelete, "/safe-mode/"+*id, nil, nil); err == nil {
			fmt.Fprintf(stdout, "safe mode %s lifted\n", *id)
		}
	case "list":
		var ms []struct {
			ID       string          `json:"id"`
			Target   json.RawMessage `json:"target"`
			Since    time.Time       `json:"since"`
			By       string          `json:"by"`
			LiftedAt *time.Time      `json:"lifted_at"`
		}
		if err = c.do(http.MethodGet, "/safe-mode", nil, &ms); err == nil {
			for _, m := range ms {
				state := "ON"
				if m.LiftedAt != nil {
					state = "lifted " + m.LiftedAt.Local().Format(time.DateTime)
				}
				fmt.Fprintf(stdout, "%s  %-24s since %s by %s  target %s\n", m.ID, state, m.Since.Local().Format(time.DateTime), m.By, m.Target)
			}
			if len(ms) == 0 {
				fmt.Fprintln(stdout, "no safe mode in force or lifted in the last 7 days")
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func defaultAddr() string { return "127.0.0.1:8080" }

type apiClient struct {
	base, token string
}

func (c apiClient) do(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s (HTTP %d)", method, path, e.Error, resp.StatusCode)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return errors.Join(fmt.Errorf("%s %s: decode answer", method, path), err)
		}
	}
	return nil
}
