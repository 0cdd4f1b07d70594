package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// tokenFileName holds the demo screen's device token inside the data dir.
// The server shows a token only once, at creation, so a second run with
// the same -data needs it kept somewhere to restart the same player.
const tokenFileName = "demo-player-token"

// seedResult says what seeding found or made.
type seedResult struct {
	ScreenID string
	Token    string // device token of the demo screen
	Seeded   bool   // content was created by this run (false: reused)
	Items    int    // items on the server after seeding
}

// seed makes sure the server holds the demo content and the demo screen,
// creating only what is missing, and returns the screen's device token.
func seed(ctx context.Context, c *apiClient, dataDir string, log *slog.Logger) (seedResult, error) {
	var res seedResult
	if err := ensureGroups(ctx, c); err != nil {
		return res, err
	}

	var items []idAnswer
	if err := c.list(ctx, "/api/v1/items", &items); err != nil {
		return res, fmt.Errorf("list items: %w", err)
	}
	if len(items) == 0 {
		n, err := seedContent(ctx, c, log)
		if err != nil {
			return res, err
		}
		res.Seeded, res.Items = true, n
	} else {
		// Content is the editor's once it exists: a second run must not
		// duplicate it, nor undo what someone changed through the API.
		log.Info("data dir already has content; not seeding again", "items", len(items))
		res.Items = len(items)
	}

	id, token, err := ensureScreen(ctx, c, dataDir, log)
	if err != nil {
		return res, err
	}
	res.ScreenID, res.Token = id, token
	return res, nil
}

// ensureGroups creates the demo groups that do not exist yet, parents
// first (demoGroups is ordered that way).
func ensureGroups(ctx context.Context, c *apiClient) error {
	var have []idAnswer
	if err := c.list(ctx, "/api/v1/groups", &have); err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	exists := map[string]bool{}
	for _, g := range have {
		exists[g.ID] = true
	}
	for _, g := range demoGroups {
		if exists[g.ID] {
			continue
		}
		req := groupRequest{ID: g.ID, Name: g.Name, Parent: g.Parent, Timezone: g.Timezone}
		if err := c.doJSON(ctx, http.MethodPost, "/api/v1/groups", req, nil); err != nil {
			return fmt.Errorf("create group %s: %w", g.ID, err)
		}
	}
	return nil
}

// seedContent uploads the illustrations and creates the items, playlists and
// schedules. It returns how many items it created.
func seedContent(ctx context.Context, c *apiClient, log *slog.Logger) (int, error) {
	shaOf := map[string]string{} // illustration name → uploaded sha256
	for _, it := range demoItems {
		if it.Image == "" || shaOf[it.Image] != "" {
			continue
		}
		png, err := renderIllustration(it.Image)
		if err != nil {
			return 0, err
		}
		info, err := c.upload(ctx, it.Image+".png", png)
		if err != nil {
			return 0, fmt.Errorf("upload illustration %s: %w", it.Image, err)
		}
		shaOf[it.Image] = info.SHA256
	}

	idOf := map[string]string{} // item key → server id
	for _, it := range demoItems {
		req := itemRequest{Kind: string(it.Kind), Title: it.Title, Body: it.Body, Asset: shaOf[it.Image], DurationS: it.DurationS}
		var ans idAnswer
		if err := c.doJSON(ctx, http.MethodPost, "/api/v1/items", req, &ans); err != nil {
			return 0, fmt.Errorf("create item %s: %w", it.Key, err)
		}
		if ans.ID == "" {
			return 0, fmt.Errorf("create item %s: answer has no id", it.Key)
		}
		idOf[it.Key] = ans.ID
	}

	plOf := map[string]string{} // playlist name → server id
	for _, pl := range demoPlaylists {
		req := playlistRequest{Name: pl.Name, Items: make([]string, 0, len(pl.Items))}
		for _, key := range pl.Items {
			id, ok := idOf[key]
			if !ok {
				return 0, fmt.Errorf("playlist %s: unknown item key %q", pl.Name, key)
			}
			req.Items = append(req.Items, id)
		}
		var ans idAnswer
		if err := c.doJSON(ctx, http.MethodPost, "/api/v1/playlists", req, &ans); err != nil {
			return 0, fmt.Errorf("create playlist %s: %w", pl.Name, err)
		}
		plOf[pl.Name] = ans.ID
	}

	for _, sc := range demoSchedules {
		id, ok := plOf[sc.Playlist]
		if !ok {
			return 0, fmt.Errorf("schedule: unknown playlist %q", sc.Playlist)
		}
		req := scheduleRequest{Playlist: id, Target: sc.Target, Cron: sc.Cron, DurationS: sc.DurationS, Priority: sc.Priority}
		if err := c.doJSON(ctx, http.MethodPost, "/api/v1/schedules", req, nil); err != nil {
			return 0, fmt.Errorf("create schedule for %s: %w", sc.Playlist, err)
		}
	}
	log.Info("seeded demo content", "assets", len(shaOf), "items", len(idOf), "playlists", len(plOf), "schedules", len(demoSchedules))
	return len(idOf), nil
}

// ensureScreen finds or creates the demo screen and returns its id and a
// working device token: the one saved by an earlier run if the server
// still accepts it, else a freshly rotated one.
func ensureScreen(ctx context.Context, c *apiClient, dataDir string, log *slog.Logger) (id, token string, err error) {
	tokenPath := filepath.Join(dataDir, tokenFileName)

	// GET /screens answers a page at a time: ask for the screens named
	// like the demo's (a search), not the first page of a large fleet.
	var screens []screenAnswer
	if err := c.list(ctx, "/api/v1/screens?limit=500&q="+url.QueryEscape(demoScreenName), &screens); err != nil {
		return "", "", fmt.Errorf("list screens: %w", err)
	}
	for _, s := range screens {
		if s.Name != demoScreenName {
			continue
		}
		saved, err := readToken(tokenPath)
		if err != nil {
			return "", "", err
		}
		if saved != "" && deviceTokenWorks(ctx, c.base, saved) {
			return s.ID, saved, nil
		}
		// The saved token is gone or stale (a token rotated elsewhere): the
		// admin API can issue a new one for the same screen.
		log.Info("saved demo screen token missing or rejected; rotating it", "screen", s.ID)
		var ans screenAnswer
		if err := c.doJSON(ctx, http.MethodPost, "/api/v1/screens/"+s.ID+"/token", nil, &ans); err != nil {
			return "", "", fmt.Errorf("rotate token of demo screen %s: %w (start over with a fresh -data dir)", s.ID, err)
		}
		if ans.Token == "" {
			return "", "", fmt.Errorf("rotate token of demo screen %s: answer has no token", s.ID)
		}
		if err := writeToken(tokenPath, ans.Token); err != nil {
			return "", "", err
		}
		return s.ID, ans.Token, nil
	}

	req := screenRequest{Name: demoScreenName, Group: demoScreenGroup, Tags: demoScreenTags}
	var ans screenAnswer
	if err := c.doJSON(ctx, http.MethodPost, "/api/v1/screens", req, &ans); err != nil {
		return "", "", fmt.Errorf("create demo screen: %w", err)
	}
	if ans.ID == "" || ans.Token == "" {
		return "", "", errors.New("create demo screen: answer lacks id or token")
	}
	if err := writeToken(tokenPath, ans.Token); err != nil {
		return "", "", err
	}
	return ans.ID, ans.Token, nil
}

// deviceTokenWorks asks the device API whether token is still accepted.
// Anything but an authentication failure counts as working: a screen with
// nothing scheduled may legitimately have no manifest yet.
func deviceTokenWorks(ctx context.Context, base, token string) bool {
	err := newAPIClient(base, token).doJSON(ctx, http.MethodGet, "/api/v1/device/manifest", nil, nil)
	st := statusOf(err)
	return err == nil || (st != 0 && st != http.StatusUnauthorized && st != http.StatusForbidden)
}

// readToken returns the saved token, or "" if there is none.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read demo screen token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeToken saves the token readable by its owner only, via a temporary
// file and a rename so that an interrupted run never leaves half a token.
func writeToken(path, token string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".token-*")
	if err != nil {
		return fmt.Errorf("save demo screen token: %w", err)
	}
	// CreateTemp makes the file 0600 whatever the umask, which is what a
	// credential needs.
	defer os.Remove(f.Name()) // no-op after a successful rename
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("save demo screen token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save demo screen token: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save demo screen token: %w", err)
	}
	return nil
}
