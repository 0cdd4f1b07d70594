package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// browserNames are the Chromium builds looked for on PATH by -browser auto:
// Debian's package, Ubuntu's and Raspberry Pi OS's older name, Google's.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// findBrowser resolves -browser: "off" or "" starts none, "auto" looks on
// PATH (none found is not an error: the banner says what to install), and
// anything else is a path or a name that must exist.
func findBrowser(spec string) (string, error) {
	switch strings.TrimSpace(spec) {
	case "", "off", "none":
		return "", nil
	case "auto":
		for _, n := range browserNames {
			if p, err := exec.LookPath(n); err == nil {
				return p, nil
			}
		}
		return "", nil
	}
	p, err := exec.LookPath(spec)
	if err != nil {
		return "", fmt.Errorf("-browser %s: %w", spec, err)
	}
	return p, nil
}

// freeLoopbackPort asks the kernel for a port that is free now. Chromium
// is told the port up front because the player needs its DevTools address
// when it starts; the gap between closing and Chromium binding it is
// milliseconds on a machine's loopback.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// headlessBrowser is the screen's browser: Chromium started the way
// deploy/kiosk-browser.sh starts it on a screen box (kiosk flags, DevTools
// on loopback for the screenshot command), but headless at 1920×1080, so
// the demo shows the player's screenshot command without a display.
type headlessBrowser struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startHeadless(path, pageURL string, port int, profile string, logOut io.Writer) (*headlessBrowser, error) {
	if err := os.MkdirAll(profile, 0o700); err != nil {
		return nil, fmt.Errorf("browser profile: %w", err)
	}
	args := []string{
		"--headless=new",
		// A 1920×1080 virtual screen, which --kiosk then fills (headless,
		// the default screen is 800×600).
		"--screen-info={1920x1080}",
		"--hide-scrollbars",
		"--mute-audio",
		// The flags deploy/kiosk-browser.sh gives a screen's Chromium.
		"--kiosk",
		"--noerrdialogs",
		"--disable-infobars",
		"--disable-session-crashed-bubble",
		"--autoplay-policy=no-user-gesture-required",
		"--check-for-update-interval=31536000",
		"--no-first-run",
		"--disable-translate",
		"--user-data-dir=" + profile,
		"--remote-debugging-address=127.0.0.1",
		"--remote-debugging-port=" + strconv.Itoa(port),
	}
	if os.Geteuid() == 0 {
		// Chromium refuses to run as root with its sandbox (containers, CI).
		args = append(args, "--no-sandbox")
	}
	args = append(args, pageURL)
	cmd := exec.Command(path, args...)
	cmd.Stdout = logOut
	cmd.Stderr = logOut
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	b := &headlessBrowser{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(b.done)
	}()
	return b, nil
}

// stop ends the browser and waits for it, at most a few seconds.
func (b *headlessBrowser) stop() {
	if b == nil {
		return
	}
	_ = b.cmd.Process.Kill()
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
	}
}

// waitForPage waits until the browser shows an item: the player's /state
// names the item its page reports (page_item), with at least two seconds
// before the next one, so the picture is not caught in a crossfade.
func waitForPage(ctx context.Context, screenURL string, b *headlessBrowser) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("the browser's page showed no item: %w", ctx.Err())
		case <-b.done:
			return errors.New("the browser exited")
		case <-time.After(250 * time.Millisecond):
		}
		resp, err := client.Get(strings.TrimRight(screenURL, "/") + "/state")
		if err != nil {
			continue
		}
		var st struct {
			PageItem     string    `json:"page_item"`
			CurrentUntil time.Time `json:"current_until"`
			Now          time.Time `json:"now"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || st.PageItem == "" || st.CurrentUntil.Sub(st.Now) < 2*time.Second {
			continue
		}
		// The item's fade-in (0.6 s) is over by then.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
			return nil
		}
	}
}

// takeScreenshot asks the server for a screenshot of the demo screen, the
// way a technician's button does (POST /screens/{id}/commands), waits for
// the player to answer, and saves the picture as base plus the extension
// of its type (the player sends JPEG unless asked otherwise). It returns
// the file's name.
func takeScreenshot(ctx context.Context, c *apiClient, screenID, base string) (string, error) {
	var cmd struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	path := "/api/v1/screens/" + screenID + "/commands"
	if err := c.doJSON(ctx, http.MethodPost, path, map[string]string{"type": "screenshot"}, &cmd); err != nil {
		return "", fmt.Errorf("send the screenshot command: %w", err)
	}
	for cmd.Status != "done" {
		switch cmd.Status {
		case "failed", "expired":
			return "", fmt.Errorf("the player answered the screenshot command with %s: %s", cmd.Status, cmd.Error)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the screenshot command is still %s: %w", cmd.Status, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
		if err := c.doJSON(ctx, http.MethodGet, path+"/"+cmd.ID, nil, &cmd); err != nil {
			return "", fmt.Errorf("read the screenshot command: %w", err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/screens/"+screenID+"/screenshot", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("download the screenshot: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("download the screenshot: HTTP %d", resp.StatusCode)
	}
	file := base + ".jpg"
	if strings.Contains(resp.Header.Get("Content-Type"), "png") {
		file = base + ".png"
	}
	tmp := file + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 64<<20)); err != nil {
		f.Close()
		os.Remove(tmp)
		return "", fmt.Errorf("download the screenshot: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return file, os.Rename(tmp, file)
}
