package kioskctl

import (
	"flag"
	"fmt"
	"net/http"
	"strings"
)

// Groups (streets, compounds) and registering screens: what a technician
// scripts when a compound gets its screens.

type groupView struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Parent          string `json:"parent"`
	Timezone        string `json:"timezone"`
	DefaultPlaylist string `json:"default_playlist"`
	Layout          string `json:"layout"`
}

// layouts are the screen layouts a group or screen may set ("" inherits).
var layouts = []string{"full", "header", "header_ticker"}

func runGroupsList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List groups (streets and compounds) with their parent, time zone and layout.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var gs []groupView
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/groups", nil, &gs)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("ID", "NAME", "PARENT", "TIME ZONE", "LAYOUT", "DEFAULT PLAYLIST")
	for _, g := range gs {
		t.row(g.ID, g.Name, orDash(g.Parent), orDash(g.Timezone), orDash(g.Layout), orDash(g.DefaultPlaylist))
	}
	t.write(c.out)
	if len(gs) == 0 {
		c.note("no groups yet: kioskctl groups create east --name 东区")
	}
	return nil
}

// groupFlags are the settings create and update share; nil pointers are
// flags not given.
type groupFlags struct {
	name, parent, timezone, layout *string
	set                            map[string]bool
}

func addGroupFlags(c *ctl, path, usage, doc string) (*groupFlags, func([]string) ([]string, error)) {
	fs := c.flags(path, usage, doc)
	g := &groupFlags{
		name:     fs.String("name", "", "the group's name as staff say it, e.g. 东区 or 幸福里小区"),
		parent:   fs.String("parent", "", "the id of the group it belongs to (a compound's street); \"\" for none"),
		timezone: fs.String("timezone", "", "IANA time zone of its screens, e.g. Asia/Shanghai (default: inherited)"),
		layout:   fs.String("layout", "", "full, header or header_ticker (default: inherited)"),
	}
	parse := func(args []string) ([]string, error) {
		min, max := 0, 0
		if usage != "" {
			min, max = 1, 1
		}
		pos, err := c.parse(fs, args, min, max)
		if err != nil {
			return nil, err
		}
		g.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { g.set[f.Name] = true })
		if g.set["layout"] && *g.layout != "" && !contains(layouts, *g.layout) {
			return nil, usagef("--layout must be one of %s (got %q)", strings.Join(layouts, ", "), *g.layout)
		}
		return pos, nil
	}
	return g, parse
}

func runGroupsCreate(c *ctl, path string, args []string) error {
	g, parse := addGroupFlags(c, path, "ID", `Create a group: a street, or a compound under a street (--parent). ID is
yours to choose and stays (letters, digits, - and _), e.g. west or xingfuli.`)
	pos, err := parse(args)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*g.name) == "" {
		return usagef("--name is required")
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	req := map[string]any{"id": pos[0], "name": *g.name, "parent": *g.parent, "timezone": *g.timezone, "layout": *g.layout}
	var v groupView
	raw, err := cl.callInto(c.ctx, http.MethodPost, "/groups", req, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.out, "created group %s (%s)\n", v.ID, v.Name)
	return nil
}

func runGroupsUpdate(c *ctl, path string, args []string) error {
	g, parse := addGroupFlags(c, path, "ID", `Change a group: only the settings given change (--name to rename, --parent to
move it; --parent "" makes it a top-level group).`)
	pos, err := parse(args)
	if err != nil {
		return err
	}
	if len(g.set) == 0 {
		return usagef("say what changes: --name, --parent, --timezone or --layout")
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	// PUT replaces the group's settings: start from what it has.
	var cur groupView
	if _, err := cl.callInto(c.ctx, http.MethodGet, "/groups/"+pathEscape(pos[0]), nil, &cur); err != nil {
		return err
	}
	for name, p := range map[string]*string{"name": g.name, "parent": g.parent, "timezone": g.timezone, "layout": g.layout} {
		if !g.set[name] {
			continue
		}
		switch name {
		case "name":
			cur.Name = *p
		case "parent":
			cur.Parent = *p
		case "timezone":
			cur.Timezone = *p
		case "layout":
			cur.Layout = *p
		}
	}
	req := map[string]any{"id": cur.ID, "name": cur.Name, "parent": cur.Parent, "timezone": cur.Timezone,
		"default_playlist": cur.DefaultPlaylist, "layout": cur.Layout}
	var v groupView
	raw, err := cl.callInto(c.ctx, http.MethodPut, "/groups/"+pathEscape(cur.ID), req, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.out, "updated group %s (%s)\n", v.ID, v.Name)
	return nil
}

// deleteCommand is a "delete ID" verb: DELETE apiPath/ID, then "deleted
// <what> ID" (or {"id","deleted"} with --json). Refusals (a group still in
// use, an unknown id) come back as the server words them.
func deleteCommand(what, apiPath, doc string) func(c *ctl, path string, args []string) error {
	return func(c *ctl, path string, args []string) error {
		fs := c.flags(path, "ID", doc)
		pos, err := c.parse(fs, args, 1, 1)
		if err != nil {
			return err
		}
		cl, err := c.apiClient()
		if err != nil {
			return err
		}
		if _, err := cl.call(c.ctx, http.MethodDelete, apiPath+"/"+pathEscape(pos[0]), nil); err != nil {
			return err
		}
		if c.json {
			return c.printJSON([]byte(fmt.Sprintf(`{"id":%q,"deleted":true}`, pos[0])))
		}
		fmt.Fprintf(c.out, "deleted %s %s\n", what, pos[0])
		return nil
	}
}

var (
	runGroupsDelete  = deleteCommand("group", "/groups", "Delete an empty group (the server refuses one that still has screens or groups).")
	runScreensDelete = deleteCommand("screen", "/screens", "Delete a screen: its token stops working at once.")
)

type createdScreenView struct {
	screenView
	Token     string `json:"token"`
	ServerKey string `json:"server_key"`
}

func runScreensAdd(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", `Register a screen. With --pair CODE, adopt the code the screen shows (the
player then fetches its token itself). Without it, the screen's token is
printed once, with the command that starts the player: keep it secret.`)
	name := fs.String("name", "", "the screen's name, e.g. 幸福里3号楼大堂 (required)")
	group := fs.String("group", "", "the id of its group (compound)")
	var tags listFlag
	fs.Var(&tags, "tag", "a tag; comma-separated or repeated")
	orientation := fs.String("orientation", "", "landscape or portrait")
	timezone := fs.String("timezone", "", "IANA time zone (default: the group's)")
	code := fs.String("pair", "", "the pairing `CODE` the screen shows")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return usagef("--name is required")
	}
	if *orientation != "" && *orientation != "landscape" && *orientation != "portrait" {
		return usagef("--orientation must be landscape or portrait (got %q)", *orientation)
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	req := map[string]any{"name": *name, "group": *group, "tags": []string(tags), "orientation": *orientation, "timezone": *timezone}
	if *code != "" {
		req["code"] = *code
		var v screenView
		raw, err := cl.callInto(c.ctx, http.MethodPost, "/screens/pair", req, &v)
		if err != nil {
			return err
		}
		if c.json {
			return c.printJSON(raw)
		}
		fmt.Fprintf(c.out, "paired screen %s (%s); it picks up its token within seconds\n", v.ID, v.Name)
		return nil
	}
	var v createdScreenView
	raw, err := cl.callInto(c.ctx, http.MethodPost, "/screens", req, &v)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	fmt.Fprintf(c.out, "created screen %s (%s)\n\ntoken (shown once, keep it secret):\n  %s\n", v.ID, v.Name, v.Token)
	if v.ServerKey != "" {
		fmt.Fprintf(c.out, "\nserver key (save as server.key on the screen box):\n  %s\n", v.ServerKey)
	}
	fmt.Fprintf(c.out, "\nstart the player with:\n  kiosk-player -server %s -token %s%s\n",
		cl.base.Scheme+"://"+cl.base.Host, v.Token, map[bool]string{true: " -server-key server.key"}[v.ServerKey != ""])
	return nil
}
