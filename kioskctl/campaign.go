package kioskctl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// A campaign file holds items, playlists and schedules under ids of the
// file's own ("water-cut-notice"), so a week's campaign can live in version
// control and be applied again and again (README "Command-line client").
// Playlists name their items and schedules their playlist by these ids; a
// reference that is not an id of the file is taken as a server id.
type campaign struct {
	Items     []campaignItem     `json:"items"`
	Playlists []campaignPlaylist `json:"playlists"`
	Schedules []campaignSchedule `json:"schedules"`
}

type campaignItem struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Asset     string `json:"asset"`
	DurationS int    `json:"duration_s"`
	// Media is a file, relative to the campaign file, uploaded when the
	// server lacks it; the item's asset is its sha256.
	Media string `json:"media"`
}

type campaignPlaylist struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

type campaignSchedule struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Playlist  string `json:"playlist"`
	Target    target `json:"target"`
	Cron      string `json:"cron"`
	DurationS int    `json:"duration_s"`
	From      string `json:"from"`
	To        string `json:"to"`
	Priority  int    `json:"priority"`
}

// maxInputFile bounds a campaign or object file: a week of content is
// kilobytes, and a wrong file (a video) should fail fast.
const maxInputFile = 8 << 20

// readInput reads a file, or stdin for "-".
func (c *ctl) readInput(name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = c.env.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usagef("%s: %v", name, errors.Unwrap(err))
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxInputFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(raw) > maxInputFile {
		return nil, usagef("%s is larger than %d MB; is it the right file?", name, maxInputFile>>20)
	}
	return raw, nil
}

// toJSON turns a JSON or YAML document into JSON. YAML is recognised by
// the file name, else by the content not starting like JSON.
func toJSON(name string, raw []byte) ([]byte, error) {
	ext := strings.ToLower(filepath.Ext(name))
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")))
	isJSON := ext == ".json" || (ext != ".yaml" && ext != ".yml" && len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '['))
	if isJSON {
		if !json.Valid(trimmed) {
			var v any
			err := json.Unmarshal(trimmed, &v)
			return nil, usagef("%s: not valid JSON: %v", name, jsonErrorWithLine(trimmed, err))
		}
		return trimmed, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(trimmed, &doc); err != nil {
		return nil, usagef("%s: not valid YAML: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	v, err := plainYAML(&doc)
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	return out, nil
}

// plainYAML turns a YAML node into JSON-shaped values. Timestamps stay
// the text that was written: "from: 2026-04-27" is a date in Beijing
// time to kioskctl, not midnight UTC as a YAML parser would read it.
func plainYAML(n *yaml.Node) (any, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return plainYAML(n.Content[0])
	case yaml.AliasNode:
		return plainYAML(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			v, err := plainYAML(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			v, err := plainYAML(c)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	if n.ShortTag() == "!!timestamp" {
		return n.Value, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %v", n.Line, err)
	}
	return v, nil
}

// jsonErrorWithLine adds the line number to a JSON syntax error.
func jsonErrorWithLine(raw []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(raw[:min(int(se.Offset), len(raw))], []byte("\n"))
		return fmt.Errorf("line %d: %v", line, err)
	}
	return err
}

// decodeStrict decodes JSON into v refusing unknown fields, so a typo in
// a file ("titel") is an error rather than a silently empty field.
func decodeStrict(name string, raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "json: ")
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			msg = fmt.Sprintf("field %s: expected %s, got %s", te.Field, te.Type, te.Value)
			if te.Field == "" {
				msg = "expected a mapping with items, playlists and schedules, got " + te.Value
			}
		}
		return usagef("%s: %s", name, msg)
	}
	return nil
}

// readObjectFile reads one object (an item, playlist or schedule) from a
// JSON or YAML file for create and update.
func (c *ctl) readObjectFile(name string) (map[string]any, error) {
	raw, err := c.readInput(name)
	if err != nil {
		return nil, err
	}
	js, err := toJSON(name, raw)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		return nil, usagef("%s: expected one object (a mapping of fields)", name)
	}
	return m, nil
}

// parseCampaign reads and checks a campaign file; dir is where its media
// paths are relative to.
func parseCampaign(name string, raw []byte) (campaign, error) {
	var cp campaign
	js, err := toJSON(name, raw)
	if err != nil {
		return cp, err
	}
	if err := decodeStrict(name, js, &cp); err != nil {
		return cp, err
	}
	return cp, cp.check(name)
}

// check reports the first problem of the file: missing or repeated ids,
// missing fields, bad times. The server checks the rest.
func (cp *campaign) check(name string) error {
	if len(cp.Items)+len(cp.Playlists)+len(cp.Schedules) == 0 {
		return usagef("%s: no items, playlists or schedules in it", name)
	}
	bad := func(kind string, i int, id, format string, args ...any) error {
		where := fmt.Sprintf("%s[%d]", kind, i)
		if id != "" {
			where += " (" + id + ")"
		}
		return usagef("%s: %s: %s", name, where, fmt.Sprintf(format, args...))
	}
	seen := map[string]map[string]bool{"items": {}, "playlists": {}, "schedules": {}}
	checkID := func(kind string, i int, id string) error {
		switch {
		case strings.TrimSpace(id) == "":
			return bad(kind, i, "", "id is required: a stable name of your own, such as water-cut-notice")
		case seen[kind][id]:
			return bad(kind, i, id, "id %q is used twice", id)
		}
		seen[kind][id] = true
		return nil
	}
	for i, it := range cp.Items {
		if err := checkID("items", i, it.ID); err != nil {
			return err
		}
		if it.Media != "" && it.Asset != "" {
			return bad("items", i, it.ID, "give media (a file) or asset (a sha256), not both")
		}
	}
	for i, p := range cp.Playlists {
		if err := checkID("playlists", i, p.ID); err != nil {
			return err
		}
	}
	for i := range cp.Schedules {
		s := &cp.Schedules[i]
		if err := checkID("schedules", i, s.ID); err != nil {
			return err
		}
		for _, f := range []*string{&s.From, &s.To} {
			if *f == "" {
				continue
			}
			t, err := parseInstant("from/to", *f)
			if err != nil {
				return bad("schedules", i, s.ID, "%v", err)
			}
			*f = t.UTC().Format(time.RFC3339)
		}
	}
	return nil
}

// idsFile maps a campaign's ids to the ids the server gave the objects,
// per server, so that a second apply updates what the first created. It
// sits beside the campaign (week48.yaml -> week48.ids.json) and belongs
// in version control with it.
type idsFile struct {
	Servers map[string]*serverIDs `json:"servers"`
}

type serverIDs struct {
	Items     map[string]string `json:"items"`
	Playlists map[string]string `json:"playlists"`
	Schedules map[string]string `json:"schedules"`
}

func (s *serverIDs) kind(k string) map[string]string {
	var m *map[string]string
	switch k {
	case "item":
		m = &s.Items
	case "playlist":
		m = &s.Playlists
	default:
		m = &s.Schedules
	}
	if *m == nil {
		*m = map[string]string{}
	}
	return *m
}

// defaultIDsPath is week48.ids.json for week48.yaml.
func defaultIDsPath(campaignFile string) string {
	ext := filepath.Ext(campaignFile)
	return strings.TrimSuffix(campaignFile, ext) + ".ids.json"
}

func loadIDs(path string) (*idsFile, error) {
	f := &idsFile{Servers: map[string]*serverIDs{}}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ids file: %w", err)
	}
	if err := json.Unmarshal(raw, f); err != nil {
		return nil, usagef("%s is damaged (%v): fix it or remove it (objects are then matched by title and name)", path, err)
	}
	if f.Servers == nil {
		f.Servers = map[string]*serverIDs{}
	}
	return f, nil
}

func (f *idsFile) server(url string) *serverIDs {
	s := f.Servers[url]
	if s == nil {
		s = &serverIDs{}
		f.Servers[url] = s
	}
	return s
}

func saveIDs(path string, f *idsFile) error {
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ids file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write ids file: %w", err)
	}
	return nil
}
