package kioskctl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"time"
)

// The bodies apply sends and compares: exactly the fields a person
// writes, normalised the way the server stores them, so that "unchanged"
// means the server holds the same thing.
type itemBody struct {
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Asset     string `json:"asset"`
	DurationS int    `json:"duration_s"`
}

type playlistBody struct {
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

type scheduleBody struct {
	Name      string  `json:"name"`
	Playlist  string  `json:"playlist"`
	Target    target  `json:"target"`
	Cron      string  `json:"cron"`
	DurationS int     `json:"duration_s"`
	From      *string `json:"from"`
	To        *string `json:"to"`
	Priority  int     `json:"priority"`
}

// defaultItemSeconds is the server's duration for an item that names none.
const defaultItemSeconds = 10

func (b itemBody) normal() itemBody {
	if b.DurationS == 0 {
		b.DurationS = defaultItemSeconds
	}
	return b
}

func (b playlistBody) normal() playlistBody {
	if b.Items == nil {
		b.Items = []string{}
	}
	return b
}

func (b scheduleBody) normal() scheduleBody {
	norm := func(s *string) *string {
		if s == nil || *s == "" {
			return nil
		}
		if t, err := time.Parse(time.RFC3339, *s); err == nil {
			u := t.UTC().Format(time.RFC3339)
			return &u
		}
		return s
	}
	b.From, b.To = norm(b.From), norm(b.To)
	emptyNil := func(l []string) []string {
		if len(l) == 0 {
			return nil
		}
		return l
	}
	b.Target.Groups, b.Target.Tags, b.Target.Screens = emptyNil(b.Target.Groups), emptyNil(b.Target.Tags), emptyNil(b.Target.Screens)
	return b
}

// Plan actions.
const (
	actCreate    = "create"
	actUpdate    = "update"
	actUnchanged = "unchanged"
	actBlocked   = "blocked" // differs, but awaits review in a submitted change set
)

// remoteObj is an object as the server has it: published, or only in
// one of the caller's change sets.
type remoteObj struct {
	ID   string
	Name string // title of an item, name of a playlist or schedule
	Body any    // itemBody, playlistBody or scheduleBody, normalised
	// ChangeSet is set when the object exists only in a change set (or
	// its latest form is there); Submitted when that set awaits review.
	ChangeSet string
	Submitted bool
}

// wanted is one object of the campaign file, references resolved.
type wanted struct {
	Key  string
	Name string
	Body any
}

// step is one line of the plan, and of apply's report.
type step struct {
	Kind      string `json:"kind"`
	Key       string `json:"id"`
	Action    string `json:"action"`
	ServerID  string `json:"server_id,omitempty"`
	ChangeSet string `json:"changeset,omitempty"`
	Note      string `json:"note,omitempty"`
	body      any
}

// plan decides, for each wanted object of one kind, whether to create,
// update or leave it: known by the ids file, else adopted when exactly one
// unclaimed published object has its title or name, else created.
func plan(kind string, want []wanted, ids map[string]string, have map[string]remoteObj) []step {
	claimed := map[string]bool{}
	for _, id := range ids {
		claimed[id] = true
	}
	steps := make([]step, 0, len(want))
	for _, w := range want {
		st := step{Kind: kind, Key: w.Key, body: w.Body}
		cur, ok := remoteObj{}, false
		if id := ids[w.Key]; id != "" {
			if cur, ok = have[id]; !ok {
				st.Note = "was " + id + ", which is gone"
			}
		}
		if !ok && w.Name != "" {
			var match []remoteObj
			for _, o := range have {
				if o.ChangeSet == "" && !claimed[o.ID] && o.Name == w.Name {
					match = append(match, o)
				}
			}
			if len(match) == 1 {
				cur, ok = match[0], true
				st.Note = "matched by name"
			}
		}
		if !ok {
			st.Action = actCreate
			steps = append(steps, st)
			continue
		}
		claimed[cur.ID] = true
		st.ServerID, st.ChangeSet = cur.ID, cur.ChangeSet
		switch {
		case reflect.DeepEqual(cur.Body, w.Body):
			st.Action = actUnchanged
		case cur.Submitted:
			st.Action = actBlocked
			st.Note = "differs, but change set " + cur.ChangeSet + " with it awaits review: approve or reject it first"
		default:
			st.Action = actUpdate
		}
		steps = append(steps, st)
	}
	return steps
}

func runApply(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `Apply a campaign file (JSON or YAML): items, playlists and schedules, each under
an id of the file's own. Objects are created when missing, updated when they
differ and reported unchanged otherwise. Nothing is deleted unless --prune
is given: then what an earlier apply of this file created and the file no
longer has is deleted (schedules, then playlists, then items); nothing the
file never created is touched. The ids the server gave are kept in FILE's
.ids.json beside it (commit it with the file).
For people who may not publish, the changes land in their open change set.

  items:
    - id: water-cut
      kind: notice            # legal_story, notice or psa
      title: 停水通知
      body: 5月3日 9:00-17:00 停水
      media: photos/water.jpg # uploaded if the server lacks it (or asset: <sha256>)
      duration_s: 15
  playlists:
    - id: week-18
      name: 第18周
      items: [water-cut]
  schedules:
    - id: week-18-mornings
      playlist: week-18
      target: {groups: [g-east]}
      cron: "0 7 * * *"
      duration_s: 7200
      from: 2026-04-27        # Beijing time, or RFC 3339
      to: 2026-05-04`)
	file := fs.String("f", "", "the campaign `FILE` (required)")
	idsPath := fs.String("ids", "", "`FILE` keeping the server's ids (default: the campaign file with .ids.json)")
	dry := fs.Bool("dry-run", false, "only show what would change")
	prune := fs.Bool("prune", false, "also delete what this file created earlier and no longer has")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *file == "" {
		return usagef("-f FILE is required")
	}
	if *file == "-" && *idsPath == "" {
		return usagef("with -f - (stdin), say where the ids are kept with --ids FILE")
	}
	raw, err := c.readInput(*file)
	if err != nil {
		return err
	}
	cp, err := parseCampaign(*file, raw)
	if err != nil {
		return err
	}
	if *idsPath == "" {
		*idsPath = defaultIDsPath(*file)
	}
	idsF, err := loadIDs(*idsPath)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	ids := idsF.server(cl.base.String())
	a := &applier{c: c, cl: cl, dry: *dry, prune: *prune, ids: ids, save: func() error { return saveIDs(*idsPath, idsF) },
		dir: filepath.Dir(*file)}
	err = a.run(cp)
	a.report()
	return err
}

// applier carries out one apply.
type applier struct {
	c     *ctl
	cl    *client
	dry   bool
	prune bool
	ids   *serverIDs
	// deleting holds, per kind, objects whose deletion waits in one of
	// the caller's change sets (object id -> change set).
	deleting map[string]map[string]string
	save     func() error
	dir      string
	steps    []step
}

func (a *applier) run(cp campaign) error {
	have, err := a.fetch()
	if err != nil {
		return err
	}
	// Items first, then playlists that list them, then schedules.
	items := make([]wanted, len(cp.Items))
	for i, it := range cp.Items {
		asset := it.Asset
		if it.Media != "" {
			if asset, err = a.media(it.Media); err != nil {
				return fmt.Errorf("items %s: %w", it.ID, err)
			}
		}
		items[i] = wanted{Key: it.ID, Name: it.Title, Body: itemBody{Kind: it.Kind, Title: it.Title, Body: it.Body,
			Asset: asset, DurationS: it.DurationS}.normal()}
	}
	if err := a.do("item", "/items", plan("item", items, a.ids.kind("item"), have["item"])); err != nil {
		return err
	}
	pls := make([]wanted, len(cp.Playlists))
	for i, p := range cp.Playlists {
		refs := make([]string, len(p.Items))
		for j, r := range p.Items {
			refs[j] = a.resolve("item", r, cp.hasItem)
		}
		pls[i] = wanted{Key: p.ID, Name: p.Name, Body: playlistBody{Name: p.Name, Items: refs}.normal()}
	}
	if err := a.do("playlist", "/playlists", plan("playlist", pls, a.ids.kind("playlist"), have["playlist"])); err != nil {
		return err
	}
	scs := make([]wanted, len(cp.Schedules))
	for i, s := range cp.Schedules {
		b := scheduleBody{Name: s.Name, Playlist: a.resolve("playlist", s.Playlist, cp.hasPlaylist), Target: s.Target,
			Cron: s.Cron, DurationS: s.DurationS, Priority: s.Priority}
		if s.From != "" {
			b.From = &s.From
		}
		if s.To != "" {
			b.To = &s.To
		}
		scs[i] = wanted{Key: s.ID, Name: s.Name, Body: b.normal()}
	}
	if err := a.do("schedule", "/schedules", plan("schedule", scs, a.ids.kind("schedule"), have["schedule"])); err != nil {
		return err
	}
	if a.prune {
		if err := a.pruneGone(cp, have); err != nil {
			return err
		}
	}
	blocked := 0
	for _, st := range a.steps {
		if st.Action == actBlocked {
			blocked++
		}
	}
	if blocked > 0 {
		return fmt.Errorf("%d change(s) not made: they await review in a submitted change set", blocked)
	}
	return nil
}

func (cp campaign) hasItem(key string) bool {
	for _, it := range cp.Items {
		if it.ID == key {
			return true
		}
	}
	return false
}

func (cp campaign) hasPlaylist(key string) bool {
	for _, p := range cp.Playlists {
		if p.ID == key {
			return true
		}
	}
	return false
}

// resolve turns a reference into a server id: an id of the file maps
// through the ids file (a dry run's yet-to-be-created objects show as
// "new:KEY"); anything else is a server id already.
func (a *applier) resolve(kind, ref string, inFile func(string) bool) string {
	if !inFile(ref) {
		return ref
	}
	if id := a.ids.kind(kind)[ref]; id != "" {
		return id
	}
	return "new:" + ref
}

// do carries out one kind's steps in order.
func (a *applier) do(kind, path string, steps []step) error {
	for _, st := range steps {
		if a.dry || st.Action == actUnchanged || st.Action == actBlocked {
			a.steps = append(a.steps, st)
			continue
		}
		var res struct {
			ID        string `json:"id"`
			ChangeSet string `json:"changeset"`
		}
		method, p := http.MethodPost, path
		if st.Action == actUpdate {
			method, p = http.MethodPut, path+"/"+pathEscape(st.ServerID)
		}
		if _, err := a.cl.callInto(a.c.ctx, method, p, st.body, &res); err != nil {
			return fmt.Errorf("%s %s: %w", kind, st.Key, err)
		}
		if res.ID != "" {
			st.ServerID = res.ID
		}
		st.ChangeSet = res.ChangeSet
		a.steps = append(a.steps, st)
		if st.Action == actCreate || a.ids.kind(kind)[st.Key] != st.ServerID {
			a.ids.kind(kind)[st.Key] = st.ServerID
			if err := a.save(); err != nil {
				return err
			}
		}
	}
	// Unchanged objects found by name are remembered too.
	if !a.dry {
		changed := false
		for _, st := range steps {
			if st.Action == actUnchanged && a.ids.kind(kind)[st.Key] != st.ServerID {
				a.ids.kind(kind)[st.Key] = st.ServerID
				changed = true
			}
		}
		if changed {
			return a.save()
		}
	}
	return nil
}

// media uploads a campaign's media file unless the server has it, and
// returns its sha256.
func (a *applier) media(rel string) (string, error) {
	p := rel
	if !filepath.IsAbs(p) {
		p = filepath.Join(a.dir, rel)
	}
	f, err := os.Open(p)
	if err != nil {
		return "", usagef("media %s: %v", rel, errors.Unwrap(err))
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("read media %s: %w", rel, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	_, err = a.cl.call(a.c.ctx, http.MethodGet, "/assets/"+sum, nil)
	var ae *APIError
	switch {
	case err == nil:
		return sum, nil
	case !errors.As(err, &ae) || ae.Status != http.StatusNotFound:
		return "", err
	case a.dry:
		a.steps = append(a.steps, step{Kind: "media", Key: rel, Action: "upload", ServerID: sum})
		return sum, nil
	}
	_, up, err := a.c.upload(a.cl, p)
	if err != nil {
		return "", fmt.Errorf("upload media %s: %w", rel, err)
	}
	a.steps = append(a.steps, step{Kind: "media", Key: rel, Action: "upload", ServerID: up.SHA256})
	return up.SHA256, nil
}

// fetch reads what the server holds: published items, playlists and
// schedules, overlaid with the caller's own open and submitted change
// sets (objects drafted but not yet approved).
func (a *applier) fetch() (map[string]map[string]remoteObj, error) {
	have := map[string]map[string]remoteObj{"item": {}, "playlist": {}, "schedule": {}}
	a.deleting = map[string]map[string]string{"item": {}, "playlist": {}, "schedule": {}}
	var items []struct {
		ID string `json:"id"`
		itemBody
	}
	if _, err := a.cl.callInto(a.c.ctx, http.MethodGet, "/items", nil, &items); err != nil {
		return nil, err
	}
	for _, it := range items {
		have["item"][it.ID] = remoteObj{ID: it.ID, Name: it.Title, Body: it.itemBody.normal()}
	}
	var pls []struct {
		ID string `json:"id"`
		playlistBody
	}
	if _, err := a.cl.callInto(a.c.ctx, http.MethodGet, "/playlists", nil, &pls); err != nil {
		return nil, err
	}
	for _, p := range pls {
		have["playlist"][p.ID] = remoteObj{ID: p.ID, Name: p.Name, Body: p.playlistBody.normal()}
	}
	var scs []struct {
		ID string `json:"id"`
		scheduleBody
	}
	if _, err := a.cl.callInto(a.c.ctx, http.MethodGet, "/schedules", nil, &scs); err != nil {
		return nil, err
	}
	for _, s := range scs {
		have["schedule"][s.ID] = remoteObj{ID: s.ID, Name: s.Name, Body: s.scheduleBody.normal()}
	}
	for _, state := range []string{"open", "submitted"} {
		var sets []struct {
			ID string `json:"id"`
		}
		q := url.Values{"state": {state}, "mine": {"1"}}
		if _, err := a.cl.callInto(a.c.ctx, http.MethodGet, "/changesets?"+q.Encode(), nil, &sets); err != nil {
			return nil, err
		}
		for _, cs := range sets {
			var detail struct {
				Changes []struct {
					Action string          `json:"action"`
					Kind   string          `json:"kind"`
					ID     string          `json:"id"`
					After  json.RawMessage `json:"after"`
				} `json:"changes"`
			}
			if _, err := a.cl.callInto(a.c.ctx, http.MethodGet, "/changesets/"+pathEscape(cs.ID), nil, &detail); err != nil {
				return nil, err
			}
			for _, ch := range detail.Changes {
				m, ok := have[ch.Kind]
				if !ok {
					continue
				}
				if ch.Action == "delete" {
					a.deleting[ch.Kind][ch.ID] = cs.ID
					continue
				}
				if len(ch.After) == 0 || string(ch.After) == "null" {
					continue
				}
				o := remoteObj{ID: ch.ID, ChangeSet: cs.ID, Submitted: state == "submitted"}
				switch ch.Kind {
				case "item":
					var b itemBody
					_ = json.Unmarshal(ch.After, &b)
					o.Name, o.Body = b.Title, b.normal()
				case "playlist":
					var b playlistBody
					_ = json.Unmarshal(ch.After, &b)
					o.Name, o.Body = b.Name, b.normal()
				case "schedule":
					var b scheduleBody
					_ = json.Unmarshal(ch.After, &b)
					o.Name, o.Body = b.Name, b.normal()
				}
				m[ch.ID] = o
			}
		}
	}
	return have, nil
}

// report prints what apply did (or would do), and a summary.
func (a *applier) report() {
	c := a.c
	if c.json {
		out := a.steps
		if out == nil {
			out = []step{}
		}
		raw, _ := json.Marshal(out)
		_ = c.printJSON(raw)
		return
	}
	t := newTable("ACTION", "KIND", "ID", "SERVER ID", "NOTE")
	counts := map[string]int{}
	sets := map[string]bool{}
	for _, st := range a.steps {
		action := st.Action
		if !a.dry {
			action = map[string]string{actCreate: "created", actUpdate: "updated", "upload": "uploaded",
				actDelete: "deleted", actForget: "forgotten"}[st.Action]
			if action == "" {
				action = st.Action
			}
		}
		note := st.Note
		if st.ChangeSet != "" {
			if note != "" {
				note += "; "
			}
			note += "change set " + st.ChangeSet
			if st.Action != actUnchanged || !a.dry {
				sets[st.ChangeSet] = true
			}
		}
		t.row(action, st.Kind, st.Key, orDash(st.ServerID), note)
		counts[st.Action]++
	}
	t.write(c.out)
	verb := map[bool]string{true: "would be ", false: ""}[a.dry]
	fmt.Fprintf(c.out, "\n%d %screated, %d %supdated, %d unchanged", counts[actCreate], verb, counts[actUpdate], verb, counts[actUnchanged])
	if a.prune {
		fmt.Fprintf(c.out, ", %d %sdeleted", counts[actDelete], verb)
		if counts[actForget] > 0 {
			fmt.Fprintf(c.out, ", %d already gone", counts[actForget])
		}
	}
	if counts[actBlocked] > 0 {
		fmt.Fprintf(c.out, ", %d blocked", counts[actBlocked])
	}
	fmt.Fprintln(c.out)
	for cs := range sets {
		if counts[actCreate]+counts[actUpdate]+counts[actDelete] > 0 && !a.dry {
			c.changeSetNote(cs)
		}
	}
}
