package kioskctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentKind describes one content noun: items, playlists or schedules.
// The three share list, show, create, update and delete; they differ in
// their flags and their table columns.
type contentKind struct {
	noun, one string // "items", "item"
	a         string // "an item"
	summary   string
	path      string // "/items"
	about     string
	// addFlags registers the kind's field flags; their values are read by
	// fields after parsing.
	addFlags func(fs *flagSet) fieldFlags
	header   []string
	row      func(obj map[string]any) []string
}

// fieldFlags turns the flags a person set into body fields.
type fieldFlags func(set map[string]bool) (map[string]any, error)

var itemKind = contentKind{
	noun: "items", one: "item", a: "an item", path: "/items", summary: "what screens show: notices, legal stories, ads",
	about: "Items: one thing a screen shows (kind legal_story, notice or psa; title, body, optional media).",
	addFlags: func(fs *flagSet) fieldFlags {
		kind := fs.String("kind", "", "legal_story, notice or psa")
		title := fs.String("title", "", "the title")
		body := fs.String("body", "", "the text")
		asset := fs.String("asset", "", "sha256 of uploaded media (see 'kioskctl media upload'); \"\" for none")
		dur := fs.String("duration", "", "how long it shows: seconds or a duration such as 15s (default 10)")
		return func(set map[string]bool) (map[string]any, error) {
			m := map[string]any{}
			if set["kind"] {
				m["kind"] = *kind
			}
			if set["title"] {
				m["title"] = *title
			}
			if set["body"] {
				m["body"] = *body
			}
			if set["asset"] {
				m["asset"] = *asset
			}
			if set["duration"] {
				s, err := parseSeconds("--duration", *dur)
				if err != nil {
					return nil, err
				}
				m["duration_s"] = s
			}
			return m, nil
		}
	},
	header: []string{"ID", "KIND", "TITLE", "SECONDS", "MEDIA"},
	row: func(o map[string]any) []string {
		return []string{str(o["id"]), str(o["kind"]), str(o["title"]), str(o["duration_s"]), shortSHA(str(o["asset"]))}
	},
}

var playlistKind = contentKind{
	noun: "playlists", one: "playlist", a: "a playlist", path: "/playlists", summary: "ordered lists of items",
	about: "Playlists: an ordered list of item ids.",
	addFlags: func(fs *flagSet) fieldFlags {
		name := fs.String("name", "", "the name")
		var items listFlag
		fs.Var(&items, "items", "item ids in order, comma-separated or repeated (replaces the list)")
		return func(set map[string]bool) (map[string]any, error) {
			m := map[string]any{}
			if set["name"] {
				m["name"] = *name
			}
			if set["items"] {
				m["items"] = []string(items)
			}
			return m, nil
		}
	},
	header: []string{"ID", "NAME", "ITEMS"},
	row: func(o map[string]any) []string {
		n := 0
		if l, ok := o["items"].([]any); ok {
			n = len(l)
		}
		return []string{str(o["id"]), str(o["name"]), strconv.Itoa(n)}
	},
}

var scheduleKind = contentKind{
	noun: "schedules", one: "schedule", a: "a schedule", path: "/schedules", summary: "which playlist plays where and when",
	about: "Schedules: a playlist on a target (all screens, groups, tags, screens) with a time rule.",
	addFlags: func(fs *flagSet) fieldFlags {
		name := fs.String("name", "", "a name for people")
		playlist := fs.String("playlist", "", "playlist id")
		var target listFlag
		fs.Var(&target, "target", "all, group:G, tag:T or screen:S; comma-separated or repeated")
		cronExpr := fs.String("cron", "", `a daypart: a 5-field cron expression in the screen's time zone, e.g. "0 7 * * 1-5"`)
		dur := fs.String("duration", "", "how long each daypart lasts: seconds or a duration such as 2h")
		from := fs.String("from", "", "start: RFC 3339, or 2006-01-02[T15:04] in Beijing time")
		to := fs.String("to", "", "end (exclusive), same forms as --from")
		prio := fs.Int("priority", 0, "higher wins where schedules overlap")
		return func(set map[string]bool) (map[string]any, error) {
			m := map[string]any{}
			if set["name"] {
				m["name"] = *name
			}
			if set["playlist"] {
				m["playlist"] = *playlist
			}
			if set["target"] {
				t, err := parseTarget(target)
				if err != nil {
					return nil, err
				}
				m["target"] = t
			}
			if set["cron"] {
				m["cron"] = *cronExpr
			}
			if set["duration"] {
				s, err := parseSeconds("--duration", *dur)
				if err != nil {
					return nil, err
				}
				m["duration_s"] = s
			}
			for _, f := range []struct {
				name string
				v    *string
			}{{"from", from}, {"to", to}} {
				if !set[f.name] {
					continue
				}
				if *f.v == "" {
					m[f.name] = nil
					continue
				}
				t, err := parseInstant("--"+f.name, *f.v)
				if err != nil {
					return nil, err
				}
				m[f.name] = t.Format(time.RFC3339)
			}
			if set["priority"] {
				m["priority"] = *prio
			}
			return m, nil
		}
	},
	header: []string{"ID", "NAME", "PLAYLIST", "TARGET", "WHEN", "FROM", "TO", "PRIO"},
	row: func(o map[string]any) []string {
		whenS := "always"
		if cr := str(o["cron"]); cr != "" {
			whenS = cr
			if d, ok := o["duration_s"].(float64); ok && d > 0 {
				whenS += " for " + duration(time.Duration(d)*time.Second)
			}
		}
		return []string{str(o["id"]), orDash(str(o["name"])), str(o["playlist"]), targetString(o["target"]),
			whenS, instant(o["from"]), instant(o["to"]), str(o["priority"])}
	},
}

func contentCommand(k contentKind) command {
	return command{name: k.noun, summary: k.summary, verbs: []command{
		{name: "list", summary: "list " + k.noun, run: k.list},
		{name: "show", summary: "show one " + k.one, run: k.show},
		{name: "create", summary: "create " + k.a + " from flags or -f FILE", run: k.create},
		{name: "update", summary: "change " + k.a + ": the flags given, or the whole of -f FILE", run: k.update},
		{name: "delete", summary: "delete " + k.a, run: k.delete},
	}}
}

func (k contentKind) list(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List "+k.noun+".\n\n"+k.about)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var objs []map[string]any
	raw, err := cl.callInto(c.ctx, http.MethodGet, k.path, nil, &objs)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable(k.header...)
	for _, o := range objs {
		t.row(k.row(o)...)
	}
	t.write(c.out)
	if len(objs) == 0 {
		c.note("no " + k.noun + " yet")
	}
	return nil
}

func (k contentKind) show(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Show one "+k.one+".")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	raw, err := cl.call(c.ctx, http.MethodGet, k.path+"/"+pathEscape(pos[0]), nil)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	return printObject(c.out, raw)
}

func (k contentKind) create(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "Create "+k.a+" from flags, or from a JSON or YAML file with -f.\n\n"+k.about+
		"\n\nFor people who may not publish, the change lands in their open change set.")
	file := fs.String("f", "", "read the "+k.one+" from this JSON or YAML `FILE` (- for stdin)")
	fields := k.addFlags(fs)
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	set := setFlags(fs)
	body, err := fields(set)
	if err != nil {
		return err
	}
	if *file != "" {
		if len(body) > 0 {
			return usagef("give either -f or field flags, not both")
		}
		if body, err = c.readObjectFile(*file); err != nil {
			return err
		}
		if _, ok := body["id"]; ok {
			return usagef("%s: \"id\" is assigned by the server; leave it out (for ids of your own, use 'kioskctl apply')", *file)
		}
	}
	if len(body) == 0 {
		return usagef("nothing to create: give field flags or -f FILE")
	}
	return c.write(http.MethodPost, k.path, body, "created "+k.one)
}

func (k contentKind) update(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Change "+k.a+". With field flags, only those fields change (the rest is read\n"+
		"from the server first); with -f FILE the file replaces the "+k.one+" whole.")
	file := fs.String("f", "", "replace the "+k.one+" with this JSON or YAML `FILE` (- for stdin)")
	fields := k.addFlags(fs)
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id := pos[0]
	set := setFlags(fs)
	changes, err := fields(set)
	if err != nil {
		return err
	}
	var body map[string]any
	switch {
	case *file != "" && len(changes) > 0:
		return usagef("give either -f or field flags, not both")
	case *file != "":
		if body, err = c.readObjectFile(*file); err != nil {
			return err
		}
		if v, ok := body["id"]; ok && str(v) != id {
			return usagef("%s: id %q does not match %q", *file, str(v), id)
		}
	case len(changes) == 0:
		return usagef("nothing to change: give field flags or -f FILE")
	default:
		cl, err := c.apiClient()
		if err != nil {
			return err
		}
		if _, err := cl.callInto(c.ctx, http.MethodGet, k.path+"/"+pathEscape(id), nil, &body); err != nil {
			return err
		}
		for _, f := range []string{"created_at", "updated_at"} {
			delete(body, f)
		}
		for f, v := range changes {
			body[f] = v
		}
	}
	return c.write(http.MethodPut, k.path+"/"+pathEscape(id), body, "updated "+k.one)
}

func (k contentKind) delete(c *ctl, path string, args []string) error {
	fs := c.flags(path, "ID", "Delete "+k.a+". The server refuses while something still uses it.")
	pos, err := c.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	return c.write(http.MethodDelete, k.path+"/"+pathEscape(pos[0]), nil, "deleted "+k.one)
}

// write sends a content change and says what happened: published, or
// drafted into a change set (whose id the answer names).
func (c *ctl) write(method, path string, body any, done string) error {
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var res struct {
		ID        string `json:"id"`
		ChangeSet string `json:"changeset"`
	}
	raw, err := cl.callInto(c.ctx, method, path, body, &res)
	if err != nil {
		return err
	}
	if c.json {
		if raw == nil {
			raw = json.RawMessage(`{}`)
		}
		return c.printJSON(raw)
	}
	if res.ID == "" {
		res.ID = path[strings.LastIndex(path, "/")+1:]
	}
	fmt.Fprintf(c.out, "%s %s\n", done, res.ID)
	c.changeSetNote(res.ChangeSet)
	return nil
}

// changeSetNote tells a person where a drafted change went.
func (c *ctl) changeSetNote(cs string) {
	if cs == "" {
		return
	}
	fmt.Fprintf(c.out, "drafted into change set %s: screens see it once another person approves it\n"+
		"  (kioskctl changesets submit %s, then a reviewer: kioskctl changesets approve %s)\n", cs, cs, cs)
}

// printObject prints a JSON object as "key  value" lines in the server's
// field order; nested values print as compact JSON.
func printObject(w interface{ Write([]byte) (int, error) }, raw []byte) error {
	fields, err := orderedFields(raw)
	if err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	t := &table{} // a record: whole values, not cut to a column
	for _, f := range fields {
		t.row(f.key, f.value)
	}
	t.write(w)
	return nil
}

type field struct{ key, value string }

func orderedFields(raw []byte) ([]field, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	var out []field
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			var b bytes.Buffer
			_ = json.Compact(&b, v)
			s = b.String()
		}
		out = append(out, field{key: fmt.Sprint(k), value: s})
	}
	return out, nil
}

// str is a JSON value as table text.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return orDash(s)
}

func instant(v any) string {
	s := str(v)
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return when(&t)
}

// targetString is a target object as the --target flag writes it.
func targetString(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return "-"
	}
	var parts []string
	if all, _ := m["all"].(bool); all {
		parts = append(parts, "all")
	}
	for _, k := range []struct{ field, prefix string }{{"groups", "group:"}, {"tags", "tag:"}, {"screens", "screen:"}} {
		if l, ok := m[k.field].([]any); ok {
			for _, x := range l {
				parts = append(parts, k.prefix+str(x))
			}
		}
	}
	return orDash(strings.Join(parts, ","))
}

// target is the API's target object.
type target struct {
	All     bool     `json:"all,omitempty" yaml:"all,omitempty"`
	Groups  []string `json:"groups,omitempty" yaml:"groups,omitempty"`
	Tags    []string `json:"tags,omitempty" yaml:"tags,omitempty"`
	Screens []string `json:"screens,omitempty" yaml:"screens,omitempty"`
}

// parseTarget reads "all", "group:G", "tag:T" and "screen:S" specs.
func parseTarget(specs []string) (target, error) {
	var t target
	if len(specs) == 0 {
		return t, usagef("--target is required: all, group:G, tag:T or screen:S")
	}
	for _, s := range specs {
		kind, val, ok := strings.Cut(s, ":")
		if s == "all" {
			t.All = true
			continue
		}
		if !ok || strings.TrimSpace(val) == "" {
			return t, usagef("--target %q: use all, group:G, tag:T or screen:S", s)
		}
		switch kind {
		case "group":
			t.Groups = append(t.Groups, val)
		case "tag":
			t.Tags = append(t.Tags, val)
		case "screen":
			t.Screens = append(t.Screens, val)
		default:
			return t, usagef("--target %q: %q is not one of group, tag, screen", s, kind)
		}
	}
	return t, nil
}

// parseSeconds reads "15", "15s", "2h" or "1h30m" as whole seconds.
func parseSeconds(flagName, s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 {
			return 0, usagef("%s must not be negative", flagName)
		}
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d%time.Second != 0 {
		return 0, usagef("%s %q: give whole seconds (15) or a duration (15s, 2h, 1h30m)", flagName, s)
	}
	return int(d / time.Second), nil
}

// beijing is the zone the district works in and the admin page reads
// times in; a time typed without a zone means Beijing time.
var beijing = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// parseInstant reads RFC 3339, or a date or date-and-minute in Beijing time.
func parseInstant(flagName, s string) (time.Time, error) {
	return parseInstantIn(flagName, s, beijing)
}
