package kioskctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

var commandTypes = []string{"reload", "identify", "resync", "clear-cache", "restart", "screenshot"}

type commandView struct {
	ID       string     `json:"id"`
	ScreenID string     `json:"screen_id"`
	Type     string     `json:"type"`
	Status   string     `json:"status"`
	Result   string     `json:"result"`
	Error    string     `json:"error"`
	Created  *time.Time `json:"created_at"`
	Finished *time.Time `json:"finished_at"`
}

func (v commandView) open() bool { return v.Status == "queued" || v.Status == "delivered" }

// pollEvery is how often --wait asks for a command's state.
const pollEvery = 500 * time.Millisecond

func runCommandsSend(c *ctl, path string, args []string) error {
	fs := c.flags(path, "SCREEN TYPE | --group G TYPE", `Send a remote command to a screen, or to every screen of a group (and its
nested groups): `+strings.Join(commandTypes, ", ")+`. A connected screen gets it
at once, others when they reconnect (until --ttl passes). With --wait, wait
for the results; the exit code is 1 when any command failed, expired or did
not finish within --timeout.`)
	group := fs.String("group", "", "send to every screen of this group")
	wait := fs.Bool("wait", false, "wait for the screens' results")
	timeout := fs.Duration("timeout", 60*time.Second, "how long --wait waits")
	ttl := fs.Duration("ttl", 0, "how long the command may wait for a disconnected screen (server default 10m)")
	argsJSON := fs.String("args", "", `the command's arguments as JSON, e.g. '{"duration_s":60}' for identify`)
	pos, err := c.parse(fs, args, 1, 2)
	if err != nil {
		return err
	}
	var screen, typ string
	switch {
	case *group != "" && len(pos) == 1:
		typ = pos[0]
	case *group == "" && len(pos) == 2:
		screen, typ = pos[0], pos[1]
	case *group != "":
		return usagef("with --group, give only the command TYPE")
	default:
		return usagef("give SCREEN and TYPE, or --group G and TYPE")
	}
	if !contains(commandTypes, typ) {
		return usagef("command type %q is not one of %s", typ, strings.Join(commandTypes, ", "))
	}
	req := map[string]any{"type": typ}
	if *ttl != 0 {
		if *ttl < time.Second {
			return usagef("--ttl must be at least 1s")
		}
		req["ttl_s"] = int(*ttl / time.Second)
	}
	if *argsJSON != "" {
		if !json.Valid([]byte(*argsJSON)) {
			return usagef("--args is not valid JSON")
		}
		req["args"] = json.RawMessage(*argsJSON)
	}
	if *wait && *timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var cmds []commandView
	var raw json.RawMessage
	var failed []string
	if screen != "" {
		var cmd commandView
		if raw, err = cl.callInto(c.ctx, http.MethodPost, "/screens/"+pathEscape(screen)+"/commands", req, &cmd); err != nil {
			return err
		}
		cmds = []commandView{cmd}
	} else {
		var res struct {
			Commands []commandView `json:"commands"`
			Failed   []struct {
				Screen string `json:"screen"`
				Error  string `json:"error"`
			} `json:"failed"`
		}
		if raw, err = cl.callInto(c.ctx, http.MethodPost, "/groups/"+pathEscape(*group)+"/commands", req, &res); err != nil {
			return err
		}
		cmds = res.Commands
		for _, f := range res.Failed {
			failed = append(failed, f.Screen+": "+f.Error)
		}
	}
	if *wait {
		if cmds, err = c.waitCommands(cl, cmds, *timeout); err != nil {
			return err
		}
		raw, _ = json.Marshal(cmds)
	}
	if c.json {
		if err := c.printJSON(raw); err != nil {
			return err
		}
	} else {
		t := newTable("SCREEN", "COMMAND", "TYPE", "STATUS", "RESULT")
		for _, cmd := range cmds {
			res := cmd.Result
			if cmd.Error != "" {
				res = cmd.Error
			}
			t.row(cmd.ScreenID, cmd.ID, cmd.Type, cmd.Status, orDash(res))
		}
		t.write(c.out)
		for _, f := range failed {
			fmt.Fprintln(c.out, "not sent: "+oneLine(f))
		}
		if screen == "" && len(cmds) == 0 && len(failed) == 0 {
			c.note("the group has no screens")
		}
	}
	return commandsOutcome(cmds, failed, *wait)
}

// commandsOutcome is the error that makes the exit code 1 when any
// command did not succeed.
func commandsOutcome(cmds []commandView, failed []string, waited bool) error {
	bad := len(failed)
	for _, cmd := range cmds {
		if cmd.Status == "failed" || cmd.Status == "expired" || (waited && cmd.open()) {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d command(s) did not succeed", bad, len(cmds)+len(failed))
	}
	return nil
}

// waitCommands polls until every command finished or timeout passed.
func (c *ctl) waitCommands(cl *client, cmds []commandView, timeout time.Duration) ([]commandView, error) {
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	for {
		open := 0
		for i, cmd := range cmds {
			if !cmd.open() {
				continue
			}
			var cur commandView
			p := "/screens/" + pathEscape(cmd.ScreenID) + "/commands/" + pathEscape(cmd.ID)
			if _, err := cl.callInto(ctx, http.MethodGet, p, nil, &cur); err != nil {
				if ctx.Err() != nil && c.ctx.Err() == nil {
					return cmds, nil // timed out mid-request: report what we know
				}
				return nil, err
			}
			cmds[i] = cur
			if cur.open() {
				open++
			}
		}
		if open == 0 {
			return cmds, nil
		}
		// A big group's round of polls is spread out: at most about 50
		// requests a second, whatever the group's size.
		wait := max(pollEvery, time.Duration(open)*20*time.Millisecond)
		select {
		case <-ctx.Done():
			if c.ctx.Err() != nil {
				return nil, errors.New("interrupted")
			}
			c.note(fmt.Sprintf("%d command(s) still without a result after %s", open, timeout))
			return cmds, nil
		case <-time.After(wait):
		}
	}
}

func runCommandsList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "SCREEN", "List a screen's recent remote commands, newest first.")
	limit := fs.Int("limit", 20, "how many")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var cmds []commandView
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/screens/"+pathEscape(pos[0])+"/commands?limit="+strconv.Itoa(*limit), nil, &cmds)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("COMMAND", "TYPE", "STATUS", "SENT", "FINISHED", "RESULT")
	for _, cmd := range cmds {
		res := cmd.Result
		if cmd.Error != "" {
			res = cmd.Error
		}
		t.row(cmd.ID, cmd.Type, cmd.Status, when(cmd.Created), when(cmd.Finished), orDash(res))
	}
	t.write(c.out)
	return nil
}

func runScreenshot(c *ctl, path string, args []string) error {
	fs := c.flags(path, "SCREEN", `Ask a screen for a screenshot, wait for it, and save it. The player needs
-devtools for this (README "Remote commands"). With --latest, only download
the last one taken.`)
	out := fs.String("o", "", "`FILE` to write (required; - for stdout)")
	latest := fs.Bool("latest", false, "do not take a new one; download the latest")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for the screen")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o FILE is required (e.g. -o screen.jpg)")
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	screen := pos[0]
	if !*latest {
		var cmd commandView
		if _, err := cl.callInto(c.ctx, http.MethodPost, "/screens/"+pathEscape(screen)+"/commands",
			map[string]any{"type": "screenshot", "ttl_s": max(1, int(*timeout/time.Second))}, &cmd); err != nil {
			return err
		}
		cmds, err := c.waitCommands(cl, []commandView{cmd}, *timeout)
		if err != nil {
			return err
		}
		switch cmd = cmds[0]; {
		case cmd.open():
			return fmt.Errorf("screen %s did not take the screenshot within %s (is it online?)", screen, *timeout)
		case cmd.Status != "done":
			return fmt.Errorf("screenshot %s: %s", cmd.Status, orDash(cmd.Error))
		}
	}
	n, mime, err := c.download(cl, "/screens/"+pathEscape(screen)+"/screenshot", *out)
	if err != nil {
		return err
	}
	if *out != "-" && !c.json {
		fmt.Fprintf(c.out, "saved %s (%s, %s)\n", *out, mime, bytesHuman(n))
	}
	return nil
}

// download streams a GET answer into file (- for stdout) through a
// temporary file, so a failed download leaves no half file behind.
func (c *ctl) download(cl *client, path, file string) (int64, string, error) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	req, err := cl.newRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Accept", "*/*")
	watch := newStallWatch(cancel)
	defer watch.stop()
	resp, err := cl.send(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	mime := strings.Split(resp.Header.Get("Content-Type"), ";")[0]
	body := &countingReader{r: resp.Body, onRead: func(int) { watch.moved() }}
	if file == "-" {
		n, err := io.Copy(c.env.Stdout, body)
		return n, mime, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return 0, "", fmt.Errorf("write %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if watch.fired() {
			return 0, "", fmt.Errorf("download stalled: no progress for %s", stallTimeout)
		}
		return 0, "", fmt.Errorf("download %s: %w", file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, "", err
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return 0, "", fmt.Errorf("write %s: %w", file, err)
	}
	return n, mime, nil
}
