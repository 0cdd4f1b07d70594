package kioskctl

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// screenView is what kioskctl reads of GET /screens; --json prints the
// server's whole answer.
type screenView struct {
	ID               string     `json:"id"`
	Name             string     `json:"name"`
	Group            string     `json:"group"`
	Tags             []string   `json:"tags"`
	Timezone         string     `json:"timezone"`
	Orientation      string     `json:"orientation"`
	Online           bool       `json:"online"`
	LastSeen         *time.Time `json:"last_seen"`
	State            string     `json:"state"`
	Reasons          []string   `json:"state_reasons"`
	StateSince       *time.Time `json:"state_since"`
	AppliedVersion   string     `json:"applied_version"`
	PublishedVersion string     `json:"published_version"`
	UpToDate         bool       `json:"up_to_date"`
	CurrentItem      string     `json:"current_item"`
	PlayerVersion    string     `json:"player_version"`
	UptimeS          int64      `json:"uptime_s"`
	CacheBytes       int64      `json:"cache_bytes"`
	DiskFreeBytes    int64      `json:"disk_free_bytes"`
	ClockOffsetMS    int64      `json:"clock_offset_ms"`
	LastSyncError    string     `json:"last_sync_error"`
}

var screenStates = []string{"online", "offline", "stale", "degraded"}

// screensPageSize is how many screens kioskctl asks for per request; the
// server allows at most 500.
const screensPageSize = 500

func runScreensList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `List screens with their health: id, name, group, state, last seen, what they
are showing and the player version, ordered by name. "kioskctl screens" alone does
the same. Every screen is listed: kioskctl follows the server's pages to the end.`)
	state := fs.String("state", "", "only screens in this state: online, offline, stale or degraded")
	group := fs.String("group", "", `only screens in this group (and the groups nested in it); "-" for screens in no group`)
	tag := fs.String("tag", "", "only screens carrying this tag")
	search := fs.String("search", "", "only screens whose name or id contains this text (case ignored)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *state != "" && !contains(screenStates, *state) {
		return usagef("--state must be one of %s (got %q)", strings.Join(screenStates, ", "), *state)
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(screensPageSize))
	for k, v := range map[string]string{"state": *state, "group": *group, "tag": *tag, "q": *search} {
		if v != "" {
			q.Set(k, v)
		}
	}
	scrs, raws, err := allScreens(c, cl, q)
	if err != nil {
		return err
	}
	if c.json {
		// Every screen as the server gave it, one JSON array.
		b, err := json.Marshal(raws)
		if err != nil {
			return err
		}
		return c.printJSON(b)
	}
	titles := c.itemTitles(cl)
	now := c.env.Now()
	t := newTable("ID", "NAME", "GROUP", "STATE", "LAST SEEN", "SHOWING", "VERSION")
	for _, s := range scrs {
		t.row(s.ID, s.Name, orDash(s.Group), orDash(s.State), ago(s.LastSeen, now),
			showing(s.CurrentItem, titles), orDash(s.PlayerVersion))
	}
	t.write(c.out)
	if len(scrs) == 0 {
		c.note("no screens match")
	}
	return nil
}

// allScreens follows GET /screens' pages from the first to the last with
// query q, and returns every screen, decoded and as the server wrote it.
func allScreens(c *ctl, cl *client, q url.Values) ([]screenView, []json.RawMessage, error) {
	var scrs []screenView
	raws := []json.RawMessage{}
	seen := map[string]bool{}
	for {
		var page struct {
			Screens    []json.RawMessage `json:"screens"`
			NextCursor string            `json:"next_cursor"`
			Total      int               `json:"total"`
		}
		if _, err := cl.callInto(c.ctx, http.MethodGet, "/screens?"+q.Encode(), nil, &page); err != nil {
			return nil, nil, err
		}
		for _, r := range page.Screens {
			var s screenView
			if err := json.Unmarshal(r, &s); err != nil {
				return nil, nil, fmt.Errorf("decode a screen of GET /screens: %w", err)
			}
			if seen[s.ID] {
				continue // renamed between two pages: listed once
			}
			seen[s.ID] = true
			scrs = append(scrs, s)
			raws = append(raws, r)
		}
		if page.NextCursor == "" {
			return scrs, raws, nil
		}
		if page.NextCursor == q.Get("cursor") {
			return nil, nil, fmt.Errorf("GET /screens: the server gave the same cursor twice")
		}
		q.Set("cursor", page.NextCursor)
	}
}

// itemTitles maps item ids to titles for display; empty when the caller
// may not read content (a technician sees ids then).
func (c *ctl) itemTitles(cl *client) map[string]string {
	var items []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if _, err := cl.callInto(c.ctx, http.MethodGet, "/items", nil, &items); err != nil {
		return nil
	}
	m := make(map[string]string, len(items))
	for _, it := range items {
		m[it.ID] = it.Title
	}
	return m
}

func showing(id string, titles map[string]string) string {
	if id == "" {
		return "-"
	}
	if t, ok := titles[id]; ok && t != "" {
		return t
	}
	return id
}

func runScreensShow(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Show one screen: health, versions, what it shows and its player's status.")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var s screenView
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/screens/"+pathEscape(pos[0]), nil, &s)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	now := c.env.Now()
	t := &table{} // a record: whole values, not cut to a column
	t.row("id", s.ID)
	t.row("name", s.Name)
	t.row("group", orDash(s.Group))
	t.row("tags", orDash(strings.Join(s.Tags, ", ")))
	t.row("state", orDash(s.State))
	if len(s.Reasons) > 0 {
		t.row("reasons", strings.Join(s.Reasons, "; "))
	}
	t.row("online", strconv.FormatBool(s.Online))
	t.row("last seen", ago(s.LastSeen, now)+" ("+when(s.LastSeen)+")")
	t.row("showing", showing(s.CurrentItem, c.itemTitles(cl)))
	t.row("applied", orDash(s.AppliedVersion))
	t.row("published", orDash(s.PublishedVersion))
	t.row("up to date", strconv.FormatBool(s.UpToDate))
	t.row("player", orDash(s.PlayerVersion))
	if s.UptimeS > 0 {
		t.row("uptime", duration(time.Duration(s.UptimeS)*time.Second))
	}
	t.row("cache", bytesHuman(s.CacheBytes))
	if s.DiskFreeBytes > 0 {
		t.row("disk free", bytesHuman(s.DiskFreeBytes))
	}
	t.row("clock offset", strconv.FormatInt(s.ClockOffsetMS, 10)+" ms")
	if s.LastSyncError != "" {
		t.row("sync error", s.LastSyncError)
	}
	t.write(c.out)
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// bytesHuman is n in B, KB, MB or GB (powers of 1024).
func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, u := range []string{"KB", "MB", "GB", "TB"} {
		f /= unit
		if f < unit {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " PB"
}

// note tells a person something on stderr (never in the way of stdout).
func (c *ctl) note(msg string) {
	if c.env.Stderr != nil {
		_, _ = c.env.Stderr.Write([]byte(msg + "\n"))
	}
}
