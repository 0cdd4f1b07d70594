package kioskctl

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

var changeSetStates = []string{"open", "submitted", "approved", "rejected", "discarded"}

type changeSetSummary struct {
	ID            string     `json:"id"`
	Title         string     `json:"title"`
	State         string     `json:"state"`
	AuthorName    string     `json:"author_name"`
	Ops           int        `json:"ops"`
	UpdatedAt     *time.Time `json:"updated_at"`
	DecidedByName string     `json:"decided_by_name"`
	Comment       string     `json:"comment"`
}

func runChangesetsList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List change sets, newest first.")
	state := fs.String("state", "", "only this state: "+strings.Join(changeSetStates, ", "))
	mine := fs.Bool("mine", false, "only my own")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *state != "" && !contains(changeSetStates, *state) {
		return usagef("--state must be one of %s (got %q)", strings.Join(changeSetStates, ", "), *state)
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	q := url.Values{}
	if *state != "" {
		q.Set("state", *state)
	}
	if *mine {
		q.Set("mine", "1")
	}
	p := "/changesets"
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var sets []changeSetSummary
	raw, err := cl.callInto(c.ctx, http.MethodGet, p, nil, &sets)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("ID", "STATE", "TITLE", "AUTHOR", "CHANGES", "UPDATED", "DECIDED BY")
	for _, s := range sets {
		t.row(s.ID, s.State, s.Title, s.AuthorName, strconv.Itoa(s.Ops), when(s.UpdatedAt), orDash(s.DecidedByName))
	}
	t.write(c.out)
	if len(sets) == 0 {
		c.note("no change sets")
	}
	return nil
}

func runChangesetsShow(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Show a change set: its state, each object it changes, and how many screens it reaches.")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var d struct {
		changeSetSummary
		Changes []struct {
			Action string `json:"action"`
			Kind   string `json:"kind"`
			ID     string `json:"id"`
			Label  string `json:"label"`
		} `json:"changes"`
		Reach struct {
			Count int        `json:"count"`
			From  *time.Time `json:"from"`
		} `json:"reach"`
		Conflicts  []string `json:"conflicts"`
		CanApprove bool     `json:"can_approve"`
	}
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/changesets/"+pathEscape(pos[0]), nil, &d)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := &table{} // a record: whole values, not cut to a column
	t.row("id", d.ID)
	t.row("title", d.Title)
	t.row("state", d.State)
	t.row("author", d.AuthorName)
	t.row("updated", when(d.UpdatedAt))
	if d.DecidedByName != "" {
		t.row("decided by", d.DecidedByName)
	}
	if d.Comment != "" {
		t.row("comment", d.Comment)
	}
	reach := strconv.Itoa(d.Reach.Count) + " screens"
	if d.Reach.From != nil {
		reach += ", from " + when(d.Reach.From)
	}
	t.row("reaches", reach)
	t.row("you may approve", strconv.FormatBool(d.CanApprove))
	t.write(c.out)
	fmt.Fprintln(c.out)
	ct := newTable("ACTION", "KIND", "ID", "WHAT")
	for _, ch := range d.Changes {
		ct.row(ch.Action, ch.Kind, ch.ID, ch.Label)
	}
	ct.write(c.out)
	for _, cf := range d.Conflicts {
		fmt.Fprintln(c.out, "conflict: "+oneLine(cf))
	}
	return nil
}

// changesetAction is submit, approve or reject.
func changesetAction(verb string) func(c *ctl, path string, args []string) error {
	about := map[string]string{
		"submit":  "Hand your open change set to review. Changes drafted afterwards start a new set.",
		"approve": "Approve a submitted change set and publish it at once (another person's: two-person rule).",
		"reject":  "Send a submitted change set back to its author with a comment (required).",
	}[verb]
	return func(c *ctl, path string, args []string) error {
		fs := c.flags(path, "ID", about)
		var comment *string
		if verb != "submit" {
			comment = fs.String("comment", "", "a comment for the author")
		}
		pos, err := c.parse(fs, args, 1, 1)
		if err != nil {
			return err
		}
		var body any
		if comment != nil {
			if verb == "reject" && strings.TrimSpace(*comment) == "" {
				return usagef("reject needs --comment saying what to change")
			}
			body = map[string]string{"comment": *comment}
		}
		cl, err := c.apiClient()
		if err != nil {
			return err
		}
		var res changeSetSummary
		raw, err := cl.callInto(c.ctx, http.MethodPost, "/changesets/"+pathEscape(pos[0])+"/"+verb, body, &res)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(raw)
		}
		past := map[string]string{"submit": "submitted for review", "approve": "approved and published", "reject": "rejected"}[verb]
		fmt.Fprintf(c.out, "change set %s %s (state %s)\n", pos[0], past, orDash(res.State))
		return nil
	}
}
