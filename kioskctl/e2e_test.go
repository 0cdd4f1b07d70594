package kioskctl

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"kiosk/server"
	"kiosk/server/servertest"
)

const e2eAdminToken = "kioskctl-e2e-admin-token"

// startServer runs a real Kiosk server on a loopback port and returns its
// URL.
func startServer(t *testing.T) string {
	return servertest.Start(t, server.Config{AdminToken: e2eAdminToken})
}

// cli runs kioskctl's entry function with an environment of its own.
type cli struct {
	t      *testing.T
	env    map[string]string
	config string
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	env := Env{
		Getenv:    func(k string) string { return c.env[k] },
		Stdin:     strings.NewReader(stdin),
		Stdout:    &out,
		Stderr:    &errb,
		ConfigDir: c.config,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, args, env)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs args and fails the test unless kioskctl exits 0.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != 0 {
		c.t.Fatalf("kioskctl %s: exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// expect runs args and checks the exit code and that stderr has a
// readable one-line message (never a Go panic).
func (c *cli) expect(code int, args ...string) result {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != code {
		c.t.Fatalf("kioskctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	msg := lines[len(lines)-1]
	if strings.HasPrefix(msg, "Run '") && len(lines) > 1 {
		msg = lines[len(lines)-2] // a usage error points at --help after its message
	}
	if code != 0 && (!strings.HasPrefix(msg, "kioskctl: ") || strings.Contains(r.stderr, "goroutine")) {
		c.t.Errorf("kioskctl %s: stderr %q, want a 'kioskctl: ...' message", strings.Join(args, " "), r.stderr)
	}
	return r
}

// api calls the server directly with the break-glass token (setup only).
func api(t *testing.T, base, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, base+"/api/v1"+path, rd)
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

func writePNG(t *testing.T, path string, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for x := 0; x < 4; x++ {
		for y := 0; y < 4; y++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:])
}

const e2eCampaign = `# week 18 of the east street office
items:
  - id: water-cut
    kind: notice
    title: 停水通知
    body: 5月3日 9:00-17:00 东区停水
    media: water.png
    duration_s: 15
  - id: fraud
    kind: psa
    title: 防范电信诈骗
    body: 不轻信陌生来电
playlists:
  - id: week-18
    name: 第18周
    items: [water-cut, fraud]
schedules:
  - id: week-18-mornings
    name: 早间
    playlist: week-18
    target: {groups: [east]}
    cron: "0 7 * * *"
    duration_s: 7200
    from: 2026-04-27
    to: 2026-05-04
`

func TestEndToEnd(t *testing.T) {
	base := startServer(t)
	dir := t.TempDir()
	c := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base, "KIOSK_ADMIN_TOKEN": e2eAdminToken}, config: filepath.Join(dir, "config")}

	// A group and a screen to list and target.
	if code := api(t, base, http.MethodPost, "/groups", map[string]any{"id": "east", "name": "东区"}, nil); code != http.StatusCreated {
		t.Fatalf("create group: %d", code)
	}
	var scr struct{ ID, Token string }
	if code := api(t, base, http.MethodPost, "/screens", map[string]any{"name": "东区一号楼大堂", "group": "east"}, &scr); code != http.StatusCreated {
		t.Fatalf("create screen: %d", code)
	}

	t.Run("media upload", func(t *testing.T) {
		c.t = t
		sum := writePNG(t, filepath.Join(dir, "notice.png"), color.RGBA{200, 0, 0, 255})
		out := c.ok("media", "upload", filepath.Join(dir, "notice.png"))
		if !strings.Contains(out, sum) || !strings.Contains(out, "image/png") {
			t.Errorf("upload output %q does not name sha256 %s and image/png", out, sum)
		}
		var list []asset
		if err := json.Unmarshal([]byte(c.ok("media", "list", "--json")), &list); err != nil || len(list) != 1 || list[0].SHA256 != sum {
			t.Errorf("media list --json = %+v (%v), want the one upload %s", list, err, sum)
		}
	})

	campaignFile := filepath.Join(dir, "week18.yaml")
	waterSum := writePNG(t, filepath.Join(dir, "water.png"), color.RGBA{0, 0, 200, 255})
	if err := os.WriteFile(campaignFile, []byte(e2eCampaign), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("apply twice", func(t *testing.T) {
		c.t = t
		out := c.ok("apply", "-f", campaignFile)
		if !strings.Contains(out, "4 created, 0 updated, 0 unchanged") || !strings.Contains(out, "uploaded") {
			t.Fatalf("first apply:\n%s\nwant 4 created and the media uploaded", out)
		}
		var idsF idsFile
		raw, err := os.ReadFile(filepath.Join(dir, "week18.ids.json"))
		if err != nil || json.Unmarshal(raw, &idsF) != nil {
			t.Fatalf("ids file: %v", err)
		}
		ids := idsF.Servers[base]
		if ids == nil || ids.Items["water-cut"] == "" || ids.Playlists["week-18"] == "" || ids.Schedules["week-18-mornings"] == "" {
			t.Fatalf("ids file %s lacks the created ids", raw)
		}
		var it itemBody
		if code := api(t, base, http.MethodGet, "/items/"+ids.Items["water-cut"], nil, &it); code != 200 || it.Asset != waterSum || it.Title != "停水通知" {
			t.Errorf("item on the server: %d %+v, want the campaign's with asset %s", code, it, waterSum)
		}

		out = c.ok("apply", "-f", campaignFile)
		if !strings.Contains(out, "0 created, 0 updated, 4 unchanged") || strings.Contains(out, "uploaded") {
			t.Errorf("second apply:\n%s\nwant everything unchanged and no upload", out)
		}

		// One title changes: one update, the rest unchanged.
		changed := strings.Replace(e2eCampaign, "防范电信诈骗", "防范电信网络诈骗", 1)
		if err := os.WriteFile(campaignFile, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		out = c.ok("apply", "-f", campaignFile, "--dry-run")
		if !strings.Contains(out, "0 would be created, 1 would be updated, 3 unchanged") {
			t.Errorf("dry run:\n%s\nwant one update", out)
		}
		var steps []step
		if err := json.Unmarshal([]byte(c.ok("apply", "-f", campaignFile, "--json")), &steps); err != nil {
			t.Fatalf("apply --json: %v", err)
		}
		updates := 0
		for _, s := range steps {
			if s.Action == actUpdate {
				updates++
				if s.Key != "fraud" {
					t.Errorf("updated %s, want fraud", s.Key)
				}
			}
		}
		if updates != 1 {
			t.Errorf("apply --json steps %+v, want one update", steps)
		}
		if out := c.ok("items", "list"); !strings.Contains(out, "防范电信网络诈骗") {
			t.Errorf("items list after update:\n%s", out)
		}
	})

	t.Run("apply --prune", func(t *testing.T) {
		c.t = t
		file := filepath.Join(dir, "autumn.yaml")
		write := func(body string) {
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write(`items:
  - {id: leaves, kind: notice, title: 落叶清扫通知}
  - {id: heating, kind: notice, title: 供暖开始}
playlists:
  - {id: autumn, name: 秋季, items: [leaves, heating]}
schedules:
  - {id: autumn-evenings, name: 秋季傍晚, playlist: autumn, target: {all: true}, cron: "0 17 * * *", duration_s: 3600}
`)
		if out := c.ok("apply", "-f", file); !strings.Contains(out, "4 created") {
			t.Fatalf("first apply:\n%s", out)
		}
		idsPath := filepath.Join(dir, "autumn.ids.json")
		readIDs := func() *serverIDs {
			var f idsFile
			raw, err := os.ReadFile(idsPath)
			if err != nil || json.Unmarshal(raw, &f) != nil || f.Servers[base] == nil {
				t.Fatalf("ids file: %v %s", err, raw)
			}
			return f.Servers[base]
		}
		before := readIDs()
		heating, schedule := before.Items["heating"], before.Schedules["autumn-evenings"]

		// The heating notice and the schedule leave the file.
		write(`items:
  - {id: leaves, kind: notice, title: 落叶清扫通知}
playlists:
  - {id: autumn, name: 秋季, items: [leaves]}
`)
		// Without --prune nothing is deleted.
		if out := c.ok("apply", "-f", file); strings.Contains(out, "deleted") || !strings.Contains(out, "1 updated") {
			t.Errorf("apply without --prune:\n%s\nwant the playlist updated and nothing deleted", out)
		}
		if code := api(t, base, http.MethodGet, "/items/"+heating, nil, nil); code != http.StatusOK {
			t.Errorf("item after apply without --prune: %d, want it kept", code)
		}
		out := c.ok("apply", "-f", file, "--prune", "--dry-run")
		if !strings.Contains(out, "2 would be deleted") {
			t.Errorf("dry run with --prune:\n%s\nwant 2 would be deleted", out)
		}
		if code := api(t, base, http.MethodGet, "/schedules/"+schedule, nil, nil); code != http.StatusOK {
			t.Errorf("schedule after a dry run: %d, want it kept", code)
		}
		out = c.ok("apply", "-f", file, "--prune")
		if !strings.Contains(out, "0 created, 0 updated, 2 unchanged, 2 deleted") {
			t.Errorf("apply --prune:\n%s\nwant the schedule and the item deleted", out)
		}
		for path, id := range map[string]string{"/items/": heating, "/schedules/": schedule} {
			if code := api(t, base, http.MethodGet, path+id, nil, nil); code != http.StatusNotFound {
				t.Errorf("GET %s%s after --prune: %d, want 404", path, id, code)
			}
		}
		after := readIDs()
		if after.Items["heating"] != "" || after.Schedules["autumn-evenings"] != "" || after.Items["leaves"] == "" {
			t.Errorf("ids after --prune: %+v, want the deleted keys gone and the kept ones kept", after)
		}
		if out := c.ok("apply", "-f", file, "--prune"); !strings.Contains(out, "2 unchanged, 0 deleted") {
			t.Errorf("apply --prune again:\n%s\nwant nothing left to delete", out)
		}
	})

	t.Run("groups, screens and users", func(t *testing.T) {
		c.t = t
		var street, compound groupView
		if err := json.Unmarshal([]byte(c.ok("groups", "create", "north", "--name", "北区", "--json")), &street); err != nil || street.ID == "" {
			t.Fatalf("groups create: %v %+v", err, street)
		}
		if err := json.Unmarshal([]byte(c.ok("groups", "create", "xingfuli", "--name", "幸福里小区", "--parent", street.ID, "--layout", "header", "--json")), &compound); err != nil {
			t.Fatal(err)
		}
		if compound.Parent != street.ID || compound.Layout != "header" {
			t.Errorf("compound %+v, want parent %s and layout header", compound, street.ID)
		}
		c.expect(ExitUsage, "groups", "create", "x", "--name", "x", "--layout", "sideways")
		c.expect(ExitUsage, "groups", "create", "--name", "x")
		c.expect(ExitUsage, "groups", "update", compound.ID)
		if out := c.ok("groups", "update", compound.ID, "--name", "幸福里"); !strings.Contains(out, "幸福里") {
			t.Errorf("groups update:\n%s", out)
		}
		var g groupView
		api(t, base, http.MethodGet, "/groups/"+compound.ID, nil, &g)
		if g.Name != "幸福里" || g.Parent != street.ID || g.Layout != "header" {
			t.Errorf("after a rename the group is %+v: only the name may change", g)
		}
		if out := c.ok("groups"); !strings.Contains(out, "幸福里") || !strings.Contains(out, "北区") {
			t.Errorf("groups list:\n%s", out)
		}

		out := c.ok("screens", "add", "--name", "幸福里3号楼大堂", "--group", compound.ID, "--tag", "lobby,west")
		if !strings.Contains(out, "token (shown once") || !strings.Contains(out, "kiosk-player -server "+base+" -token ") {
			t.Errorf("screens add:\n%s\nwant the token and the player command", out)
		}
		var page struct {
			Screens []screenView `json:"screens"`
		}
		api(t, base, http.MethodGet, "/screens?group="+compound.ID, nil, &page)
		added := page.Screens
		if len(added) != 1 || added[0].Name != "幸福里3号楼大堂" || len(added[0].Tags) != 2 {
			t.Fatalf("screens in the compound: %+v", added)
		}
		c.expect(ExitUsage, "screens", "add", "--group", compound.ID)
		c.expect(ExitUsage, "screens", "add", "--name", "x", "--orientation", "upside-down")
		// Pairing with a code no screen shows: the server's refusal, readable.
		if r := c.expect(ExitNotFound, "screens", "add", "--name", "x", "--pair", "ZZZZ-ZZZZ"); r.stderr == "" {
			t.Error("a wrong pairing code gave no message")
		}
		if r := c.expect(ExitConflict, "groups", "delete", compound.ID); !strings.Contains(r.stderr, "group_in_use") {
			t.Errorf("deleting a group with a screen: %s", r.stderr)
		}
		c.ok("screens", "delete", added[0].ID)
		c.ok("groups", "delete", compound.ID)
		c.expect(ExitNotFound, "groups", "delete", compound.ID)

		const pw = "晚上好-evening-2026"
		if r := c.run(pw+"\n", "users", "add", "laowang", "--role", "technician", "--group", street.ID); r.code != 0 {
			t.Fatalf("users add: exit %d: %s", r.code, r.stderr)
		}
		c.expect(ExitUsage, "users", "add", "laoli", "--role", "boss")
		if r := c.run("short\n", "users", "add", "laoli", "--role", "viewer"); r.code != ExitFailed || !strings.Contains(r.stderr, "password") {
			t.Errorf("a short password: exit %d, %s", r.code, r.stderr)
		}
		if out := c.ok("users"); !strings.Contains(out, "laowang") || !strings.Contains(out, "technician") || !strings.Contains(out, street.ID) {
			t.Errorf("users list:\n%s", out)
		}
		if out := c.ok("users", "disable", "laowang"); !strings.Contains(out, "disabled laowang") {
			t.Errorf("users disable:\n%s", out)
		}
		tech := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base}, config: t.TempDir()}
		if r := tech.run(pw+"\n", "login", "--user", "laowang"); r.code != ExitAuth {
			t.Errorf("a disabled account signed in: exit %d", r.code)
		}
		c.ok("users", "enable", "laowang")
		if r := tech.run(pw+"\n", "login", "--user", "laowang"); r.code != 0 {
			t.Errorf("an enabled account could not sign in: exit %d: %s", r.code, r.stderr)
		}
		c.expect(ExitNotFound, "users", "disable", "nobody")
	})

	t.Run("screens with a filter", func(t *testing.T) {
		c.t = t
		out := c.ok("screens", "--state", "offline", "--group", "east")
		if !strings.Contains(out, scr.ID) || !strings.Contains(out, "东区一号楼大堂") || !strings.Contains(out, "LAST SEEN") {
			t.Errorf("screens --state offline --group east:\n%s\nwant the screen", out)
		}
		if out := c.ok("screens", "list", "--state", "online"); strings.Contains(out, scr.ID) {
			t.Errorf("screens --state online lists the offline screen:\n%s", out)
		}
		var list []screenView
		if err := json.Unmarshal([]byte(c.ok("screens", "--json", "--group", "east")), &list); err != nil || len(list) != 1 {
			t.Errorf("screens --json: %v %+v", err, list)
		}
		if out := c.ok("screens", "show", scr.ID); !strings.Contains(out, "offline") {
			t.Errorf("screens show:\n%s", out)
		}
	})

	t.Run("screens follows every page", func(t *testing.T) {
		c.t = t
		// 1,203 screens: three pages of 500 for kioskctl to follow.
		if code := api(t, base, http.MethodPost, "/groups", map[string]any{"id": "west", "name": "西区"}, nil); code != http.StatusCreated {
			t.Fatalf("create group: %d", code)
		}
		rows := make([]map[string]any, 1203)
		for i := range rows {
			rows[i] = map[string]any{"name": fmt.Sprintf("西区 %04d 号屏", i), "group": "west", "tags": []string{[]string{"hall", "gate", "lift"}[i%3]}}
		}
		if code := api(t, base, http.MethodPost, "/screens/import", map[string]any{"screens": rows}, nil); code != http.StatusCreated {
			t.Fatalf("import: %d", code)
		}
		var list []screenView
		if err := json.Unmarshal([]byte(c.ok("screens", "--json", "--group", "west")), &list); err != nil || len(list) != 1203 {
			t.Fatalf("screens --json --group west: %v, %d screens, want 1203", err, len(list))
		}
		seen := map[string]bool{}
		for i, s := range list {
			if want := fmt.Sprintf("西区 %04d 号屏", i); s.Name != want || seen[s.ID] {
				t.Fatalf("screen %d: %q (repeated: %v), want %q: every screen once, by name", i, s.Name, seen[s.ID], want)
			}
			seen[s.ID] = true
		}
		out := c.ok("screens", "--group", "west", "--tag", "lift", "--search", "11 号")
		// names ending "11 号屏" whose number is 2 mod 3: 0011, 0311, ...
		want := 0
		for i := range 1203 {
			if i%3 == 2 && i%100 == 11 {
				want++
				if !strings.Contains(out, fmt.Sprintf("西区 %04d 号屏", i)) {
					t.Errorf("screens --tag lift --search '11 号' lacks screen %04d", i)
				}
			}
		}
		if got := strings.Count(out, "西区 "); got != want {
			t.Errorf("screens --tag lift --search '11 号': %d screens, want %d:\n%s", got, want, out)
		}
		if r := c.run("", "screens", "--search", "号屏", "--state", "online"); r.code != 0 || strings.Contains(r.stdout, "西区") || !strings.Contains(r.stderr, "no screens match") {
			t.Errorf("screens --search --state online (none online): exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("urgent send and withdraw", func(t *testing.T) {
		c.t = t
		var sent urgentView
		out := c.ok("urgent", "send", "--title", "燃气泄漏 请勿靠近", "--body", "3号楼", "--target", "group:east", "--for", "30m", "--json")
		if err := json.Unmarshal([]byte(out), &sent); err != nil || sent.ID == "" || sent.Status != "active" {
			t.Fatalf("urgent send --json: %v %s", err, out)
		}
		if out := c.ok("urgent", "list"); !strings.Contains(out, sent.ID) || !strings.Contains(out, "active") {
			t.Errorf("urgent list:\n%s", out)
		}
		c.ok("urgent", "withdraw", sent.ID)
		var got urgentView
		if code := api(t, base, http.MethodGet, "/urgent/"+sent.ID, nil, &got); code != 200 || got.Status != "withdrawn" {
			t.Errorf("after withdraw: %d status %q, want withdrawn", code, got.Status)
		}
	})

	t.Run("commands", func(t *testing.T) {
		c.t = t
		if out := c.ok("commands", "send", scr.ID, "identify"); !strings.Contains(out, "queued") {
			t.Errorf("commands send:\n%s\nwant queued (the screen is offline)", out)
		}
		// Nobody answers: --wait gives up and says so with exit 1.
		r := c.expect(ExitFailed, "commands", "send", scr.ID, "reload", "--wait", "--timeout", "1s")
		if !strings.Contains(r.stderr, "did not succeed") {
			t.Errorf("stderr %q", r.stderr)
		}
		if out := c.ok("commands", "send", "--group", "east", "resync"); !strings.Contains(out, scr.ID) {
			t.Errorf("group command:\n%s", out)
		}
	})

	t.Run("plays CSV", func(t *testing.T) {
		c.t = t
		// The screen reports two plays of the water-cut notice, as its
		// player would.
		var idsF idsFile
		raw, _ := os.ReadFile(filepath.Join(dir, "week18.ids.json"))
		_ = json.Unmarshal(raw, &idsF)
		item := idsF.Servers[base].Items["water-cut"]
		start := time.Now().Add(-time.Hour).UnixMilli()
		batch := map[string]any{"batch_id": "b1", "plays": []map[string]any{
			{"id": "p1", "item": item, "start": start, "duration_ms": 15000},
			{"id": "p2", "item": item, "start": start + 15000, "duration_ms": 15000},
		}}
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/device/plays", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+scr.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("post plays: %v %v", err, resp)
		}
		resp.Body.Close()

		from := time.Now().Add(-24 * time.Hour).Format(time.RFC3339)
		to := time.Now().Add(time.Hour).Format(time.RFC3339)
		csvFile := filepath.Join(dir, "plays.csv")
		c.ok("reports", "plays", "--from", from, "--to", to, "--group", "east", "-o", csvFile)
		raw, err = os.ReadFile(csvFile)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(raw, []byte("\xef\xbb\xbf")) || !bytes.Contains(raw, []byte("停水通知")) {
			t.Errorf("plays.csv = %q, want the server's CSV with a BOM and the notice", raw)
		}
		out := c.ok("reports", "plays", "--from", from, "--to", to)
		if !strings.Contains(out, "停水通知") || !strings.Contains(out, "30s") {
			t.Errorf("plays table:\n%s\nwant the notice with 2 plays, 30s", out)
		}
	})

	t.Run("exit codes", func(t *testing.T) {
		c.t = t
		bad := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base, "KIOSK_ADMIN_TOKEN": "wrong"}, config: c.config}
		if r := bad.expect(ExitAuth, "screens"); !strings.Contains(r.stderr, "invalid_token") {
			t.Errorf("bad token stderr %q, want the server's code", r.stderr)
		}
		none := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base}, config: filepath.Join(dir, "empty")}
		none.expect(ExitAuth, "items", "list")
		if r := c.expect(ExitNotFound, "items", "show", "itm_nope"); !strings.Contains(r.stderr, "not_found") {
			t.Errorf("unknown id stderr %q", r.stderr)
		}
		c.expect(ExitNotFound, "urgent", "withdraw", "nope")
		// No screenshot taken yet: not found, and no file left behind.
		shot := filepath.Join(dir, "shot.jpg")
		c.expect(ExitNotFound, "screenshot", scr.ID, "--latest", "-o", shot)
		if _, err := os.Stat(shot); !os.IsNotExist(err) {
			t.Errorf("a failed screenshot left %s behind (%v)", shot, err)
		}
		c.expect(ExitUsage, "screens", "--bogus")
		c.expect(ExitUsage, "screens", "--state", "asleep")
		c.expect(ExitUsage, "items", "create", "--duration", "soon")
		c.expect(ExitUsage, "apply", "-f", filepath.Join(dir, "missing.yaml"))
		c.expect(ExitUsage, "frobnicate")
		var items []struct{ ID, Title string }
		api(t, base, http.MethodGet, "/items", nil, &items)
		for _, it := range items {
			if it.Title == "停水通知" {
				// Still in the week's playlist: the server refuses.
				c.expect(ExitConflict, "items", "delete", it.ID)
			}
		}
		if r := c.run("", "items", "--help"); r.code != 0 || !strings.Contains(r.stdout, "create") {
			t.Errorf("items --help: %d %q", r.code, r.stdout)
		}
		if r := c.run("", "urgent", "send", "--help"); r.code != 0 || !strings.Contains(r.stdout, "--target") {
			t.Errorf("urgent send --help: %d %q", r.code, r.stdout)
		}
	})

	t.Run("login, change set, logout", func(t *testing.T) {
		c.t = t
		const pw = "correct horse battery staple"
		if code := api(t, base, http.MethodPost, "/users", map[string]any{"username": "xiaoli", "password": pw, "role": "editor"}, nil); code != http.StatusCreated {
			t.Fatalf("create user: %d", code)
		}
		ed := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base}, config: filepath.Join(dir, "editor-config")}
		if r := ed.run("wrong password!!\n", "login", "--user", "xiaoli"); r.code != ExitAuth {
			t.Errorf("login with a wrong password: exit %d, want 4 (%s)", r.code, r.stderr)
		}
		if r := ed.run(pw+"\n", "login", "--user", "xiaoli"); r.code != 0 {
			t.Fatalf("login: exit %d: %s", r.code, r.stderr)
		}
		st, err := os.Stat(filepath.Join(ed.config, sessionFile))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("session file: %v mode %v, want 0600", err, st.Mode())
		}
		ed.env = map[string]string{} // the session file names the server
		if out := ed.ok("whoami"); !strings.Contains(out, "xiaoli") || !strings.Contains(out, "editor") {
			t.Errorf("whoami:\n%s", out)
		}
		out := ed.ok("items", "create", "--kind", "legal_story", "--title", "一月一法", "--body", "民法典", "--duration", "20s")
		if !strings.Contains(out, "change set cs") {
			t.Fatalf("items create by an editor:\n%s\nwant the change set named", out)
		}
		var sets []changeSetSummary
		if err := json.Unmarshal([]byte(ed.ok("changesets", "list", "--mine", "--state", "open", "--json")), &sets); err != nil || len(sets) != 1 {
			t.Fatalf("changesets list: %v %+v", err, sets)
		}
		csID := sets[0].ID
		// The same campaign applied by the editor: all unchanged (it is
		// published), so nothing lands in the change set.
		if out := ed.ok("apply", "-f", campaignFile); !strings.Contains(out, "0 created, 0 updated, 4 unchanged") {
			t.Errorf("editor apply:\n%s", out)
		}
		// A campaign of the editor's own: drafted, then unchanged while it
		// waits in the open set, then blocked once the set is submitted.
		own := filepath.Join(dir, "editor.json")
		writeFile := func(title string) {
			body := `{"items": [{"id": "law", "kind": "legal_story", "title": "` + title + `"}]}`
			if err := os.WriteFile(own, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writeFile("宪法宣传日")
		if out := ed.ok("apply", "-f", own); !strings.Contains(out, "1 created") || !strings.Contains(out, "change set "+csID) {
			t.Errorf("editor's own campaign:\n%s\nwant it drafted into %s", out, csID)
		}
		if out := ed.ok("apply", "-f", own); !strings.Contains(out, "0 created, 0 updated, 1 unchanged") {
			t.Errorf("editor's campaign again:\n%s\nwant unchanged (it waits in the change set)", out)
		}
		writeFile("宪法宣传周")
		if out := ed.ok("apply", "-f", own); !strings.Contains(out, "0 created, 1 updated") {
			t.Errorf("editor's changed campaign:\n%s\nwant the draft updated in place", out)
		}
		ed.ok("changesets", "submit", csID)
		writeFile("宪法宣传月")
		if r := ed.expect(ExitFailed, "apply", "-f", own); !strings.Contains(r.stdout, "blocked") {
			t.Errorf("apply against a submitted set:\n%s", r.stdout)
		}
		if out := ed.ok("changesets", "show", csID); !strings.Contains(out, "submitted") || !strings.Contains(out, "一月一法") || !strings.Contains(out, "宪法宣传周") {
			t.Errorf("changesets show:\n%s", out)
		}
		c.ok("changesets", "approve", csID, "--comment", "好")
		if out := c.ok("items", "list"); !strings.Contains(out, "一月一法") || !strings.Contains(out, "宪法宣传周") {
			t.Errorf("approved item not published:\n%s", out)
		}
		// The editor replaces the item: --prune drafts its deletion, and a
		// second apply sees the drafted deletion and drafts nothing more.
		if err := os.WriteFile(own, []byte(`{"items": [{"id": "water", "kind": "psa", "title": "节约用水"}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if out := ed.ok("apply", "-f", own, "--prune"); !strings.Contains(out, "1 deleted") || !strings.Contains(out, "change set cs") {
			t.Errorf("editor's apply --prune:\n%s\nwant the deletion drafted into a change set", out)
		}
		if out := ed.ok("apply", "-f", own, "--prune"); !strings.Contains(out, "deletion already drafted") || !strings.Contains(out, "0 deleted") {
			t.Errorf("editor's apply --prune again:\n%s\nwant the drafted deletion left as it is", out)
		}
		if out := c.ok("items", "list"); !strings.Contains(out, "宪法宣传周") {
			t.Errorf("a drafted deletion took effect before review:\n%s", out)
		}
		ed.ok("logout")
		if _, err := os.Stat(filepath.Join(ed.config, sessionFile)); !os.IsNotExist(err) {
			t.Errorf("session file after logout: %v", err)
		}
		ed.env = map[string]string{"KIOSK_SERVER": base}
		ed.expect(ExitAuth, "items", "list")
	})
}

func TestLoginWithTOTP(t *testing.T) {
	base := startServer(t)
	const user, pw = "zhang", "correct horse battery staple"
	if code := api(t, base, http.MethodPost, "/users", map[string]any{"username": user, "password": pw, "role": "viewer"}, nil); code != http.StatusCreated {
		t.Fatalf("create user: %d", code)
	}
	// Turn on TOTP as the person would in the admin page.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	post := func(path string, body any, csrf string, out any) int {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1"+path, bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			_ = json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var se struct{ CSRF string }
	if code := post("/session", map[string]string{"username": user, "password": pw}, "", &se); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	var enrol struct{ Secret string }
	if code := post("/me/totp", map[string]any{}, se.CSRF, &enrol); code != 200 || enrol.Secret == "" {
		t.Fatalf("start TOTP: %d", code)
	}
	// The server accepts the codes of the previous, current and next step,
	// each once: confirm with the previous one, sign in with the next.
	codeAt := func(at time.Time) string {
		c, err := totp.GenerateCode(enrol.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if code := post("/me/totp/confirm", map[string]string{"code": codeAt(time.Now().Add(-30 * time.Second))}, se.CSRF, nil); code/100 != 2 {
		t.Fatalf("confirm TOTP: %d", code)
	}

	c := &cli{t: t, env: map[string]string{"KIOSK_SERVER": base}, config: t.TempDir()}
	// Without a terminal nobody can be asked for the code.
	if r := c.run(pw+"\n", "login", "--user", user); r.code != ExitAuth || !strings.Contains(r.stderr, "totp_required") {
		t.Errorf("login without the code: exit %d, stderr %q; want 4 and totp_required", r.code, r.stderr)
	}
	if r := c.run(pw+"\n", "login", "--user", user, "--totp", codeAt(time.Now().Add(30*time.Second))); r.code != 0 {
		t.Fatalf("login with the code: exit %d: %s", r.code, r.stderr)
	}
	c.env = map[string]string{}
	if out := c.ok("whoami"); !strings.Contains(out, user) || !strings.Contains(out, "session") {
		t.Errorf("whoami:\n%s", out)
	}
	// A viewer may not write: 403 is exit 4, with the server's words.
	if r := c.expect(ExitAuth, "items", "create", "--kind", "psa", "--title", "x"); !strings.Contains(r.stderr, "403") {
		t.Errorf("viewer write: %q", r.stderr)
	}
}
