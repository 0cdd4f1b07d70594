package kioskctl

import (
	"fmt"
	"net/http"
	"time"
)

type urgentView struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Target      any        `json:"target"`
	ExpiresAt   *time.Time `json:"expires_at"`
	CreatedAt   *time.Time `json:"created_at"`
	Status      string     `json:"status"`
	SentBy      string     `json:"sent_by"`
	WithdrawnBy string     `json:"withdrawn_by"`
}

// maxUrgentFor bounds --for: an urgent notice is for an emergency, not a
// campaign (schedules are for those).
const maxUrgentFor = 7 * 24 * time.Hour

func runUrgentSend(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `Send an urgent notice: it goes to the target's screens at once, without review,
and shows until it expires or is withdrawn ('kioskctl urgent withdraw ID').`)
	title := fs.String("title", "", "the headline (required)")
	body := fs.String("body", "", "the text")
	asset := fs.String("asset", "", "sha256 of an uploaded image to show with it")
	var tgt listFlag
	fs.Var(&tgt, "target", "all, group:G, tag:T or screen:S; comma-separated or repeated (required)")
	dur := fs.Duration("for", 0, "how long it shows, e.g. 30m or 2h (required)")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *title == "" {
		return usagef("--title is required")
	}
	t, err := parseTarget(tgt)
	if err != nil {
		return err
	}
	if *dur <= 0 || *dur > maxUrgentFor {
		return usagef("--for is required: how long the notice shows, between 1s and %s (e.g. 30m)", maxUrgentFor)
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	req := map[string]any{"title": *title, "body": *body, "asset": *asset, "target": t,
		"expires_at": c.env.Now().Add(*dur).Format(time.RFC3339)}
	var v urgentView
	raw, err := cl.callInto(c.ctx, http.MethodPost, "/urgent", req, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.out, "sent urgent notice %s to %s until %s\n  withdraw it with: kioskctl urgent withdraw %s\n",
		v.ID, targetString(toAny(t)), when(v.ExpiresAt), v.ID)
	return nil
}

func runUrgentWithdraw(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Take an urgent notice off every screen now. Repeating it is harmless.")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	if _, err := cl.call(c.ctx, http.MethodDelete, "/urgent/"+pathEscape(pos[0]), nil); err != nil {
		return err
	}
	if c.json {
		return c.printJSON([]byte(fmt.Sprintf(`{"id":%q,"withdrawn":true}`, pos[0])))
	}
	fmt.Fprintf(c.out, "withdrew urgent notice %s\n", pos[0])
	return nil
}

func runUrgentList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List urgent notices of the last 7 days: active, expired and withdrawn.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var ns []urgentView
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/urgent", nil, &ns)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("ID", "STATUS", "TITLE", "TARGET", "SENT", "UNTIL", "BY")
	for _, n := range ns {
		t.row(n.ID, n.Status, n.Title, targetString(n.Target), when(n.CreatedAt), when(n.ExpiresAt), orDash(n.SentBy))
	}
	t.write(c.out)
	if len(ns) == 0 {
		c.note("no urgent notices in the last 7 days")
	}
	return nil
}

// toAny turns a target into the generic JSON shape targetString reads.
func toAny(t target) any {
	m := map[string]any{}
	if t.All {
		m["all"] = true
	}
	for k, l := range map[string][]string{"groups": t.Groups, "tags": t.Tags, "screens": t.Screens} {
		if len(l) > 0 {
			a := make([]any, len(l))
			for i, s := range l {
				a[i] = s
			}
			m[k] = a
		}
	}
	return m
}
