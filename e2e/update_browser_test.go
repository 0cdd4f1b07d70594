package e2e

import (
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/player"
	"kiosk/playlists"
	"kiosk/server"
)

// TestPlayerVersionsInChromium: an admin uploads a signed player build
// through the 播放器版本 page, starts a roll-out to a canary group, sees
// the canary screen fail (this in-process player was not started by the
// launcher, so it cannot install, and says so) while the other screen
// waits, pauses, resumes and advances, and reads the version distribution.
func TestPlayerVersionsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	pub, priv, _ := ed25519.GenerateKey(nil)
	srv := startServerWith(t, func(c *server.Config) { c.ReleaseKey = playlists.EncodeKey(pub) })
	dialogs := countDialogs(t, ctx, "player versions")
	seedContent(srv)
	srv.must(http.MethodPost, "/groups", map[string]any{"id": "canary", "name": "试点小区"}, nil)
	a := srv.screen("试点一号", "canary")
	b := srv.screen("主街", "")
	startPlayerWith(t, srv.url(), a.Token, cachePath(t, "rel-a"), func(c *player.Config) {
		c.Platform = "linux/amd64"
		c.ReleaseKey = playlists.EncodeKey(pub)
	})
	waitFor(t, 20*time.Second, "the canary screen online", func() bool { return srv.status(a.ID).Online })

	// A signed build on disk, as kiosk-release sign leaves it.
	dir := t.TempDir()
	bin := filepath.Join(dir, "kiosk-player")
	os.WriteFile(bin, []byte("#!/bin/sh\necho pretend player 9.9.9\n"), 0o755)
	m, _ := signFile(t, priv, bin, "9.9.9", "linux/amd64")
	raw, _ := json.MarshalIndent(m, "", "  ")
	manifest := filepath.Join(dir, "kiosk-player.json")
	os.WriteFile(manifest, raw, 0o644)

	const pw = "admin-password-123"
	srv.user("guanli", pw, "admin")
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	signInAs(t, ctx, "guanli", pw)
	adminPoll(t, ctx, "the player versions link", `document.querySelector('#nav a[data-route="player-versions"]') !== null`, 5*time.Second)
	evalVoid(t, ctx, "open player versions", `location.hash = '#/player-versions'`)
	adminPoll(t, ctx, "the upload form", `document.getElementById('rel-upload') !== null`, 10*time.Second)
	adminPoll(t, ctx, "the version distribution", `document.querySelector('#rel-versions tr[data-version="`+player.Version+`"]') !== null`, 10*time.Second)

	do(t, ctx, "choose the files", chromedp.SetUploadFiles("#rel-binary", []string{bin}), chromedp.SetUploadFiles("#rel-manifest", []string{manifest}))
	do(t, ctx, "upload", chromedp.Click("#rel-upload-submit"))
	adminPoll(t, ctx, "the upload accepted", `!document.getElementById('rel-upload-ok').hidden`, 10*time.Second)
	adminPoll(t, ctx, "the build listed", `document.querySelector('#rel-builds tr[data-sha="`+m.SHA256+`"]') !== null`, 10*time.Second)

	// The same manifest with another binary is refused, and the page says why.
	os.WriteFile(bin, []byte("#!/bin/sh\necho something else\n"), 0o755)
	do(t, ctx, "choose a tampered binary", chromedp.SetUploadFiles("#rel-binary", []string{bin}), chromedp.SetUploadFiles("#rel-manifest", []string{manifest}))
	do(t, ctx, "upload it", chromedp.Click("#rel-upload-submit"))
	adminPoll(t, ctx, "the refusal", `(() => { const e = document.getElementById('rel-upload-error');
		return !e.hidden && e.textContent.includes('refused'); })()`, 10*time.Second)

	evalVoid(t, ctx, "pick the build and the canary group", `
		document.getElementById('rel-build').value = '`+m.SHA256+`';
		document.querySelector('#rel-canary input[value="canary"]').checked = true;
		document.getElementById('rel-percent').value = '50';`)
	do(t, ctx, "start the roll-out", chromedp.Click("#rel-start-submit"))
	adminPoll(t, ctx, "the roll-out's progress", `document.getElementById('rel-rollout') !== null`, 10*time.Second)
	adminPoll(t, ctx, "the canary screen failed, with the reason", `(() => {
		const r = document.querySelector('#rel-progress tr[data-screen="`+a.ID+`"]');
		return r && r.dataset.state === 'failed' && r.textContent.includes('kiosk-player-launch.sh'); })()`, 15*time.Second)
	adminPoll(t, ctx, "the other screen waiting", `document.querySelector('#rel-progress tr[data-screen="`+b.ID+`"]').dataset.state === 'waiting'`, 5*time.Second)
	adminScreenshot(ctx, ".player-versions.png")

	// The fleet page sums it up in one line, linking here.
	evalVoid(t, ctx, "go to the fleet", `location.hash = '#/fleet'`)
	adminPoll(t, ctx, "the versions line on the fleet page", `(() => { const p = document.getElementById('fleet-versions');
		return p && p.textContent.includes('`+player.Version+`') && p.textContent.includes('推送 9.9.9') && p.textContent.includes('1 块失败'); })()`, 10*time.Second)
	evalVoid(t, ctx, "back to the roll-out", `document.querySelector('#fleet-versions a').click()`)
	adminPoll(t, ctx, "the roll-out again", `document.getElementById('rel-pause') !== null`, 10*time.Second)

	do(t, ctx, "pause", chromedp.Click("#rel-pause"))
	adminPoll(t, ctx, "paused", `document.getElementById('rel-rollout').dataset.paused === 'true' && document.getElementById('rel-resume') !== null`, 10*time.Second)
	do(t, ctx, "resume", chromedp.Click("#rel-resume"))
	adminPoll(t, ctx, "running again", `document.getElementById('rel-rollout').dataset.paused === 'false'`, 10*time.Second)
	do(t, ctx, "advance", chromedp.Click("#rel-advance"))
	adminPoll(t, ctx, "the second wave", `document.getElementById('rel-rollout').dataset.state === 'rest'`, 10*time.Second)
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
