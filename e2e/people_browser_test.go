package e2e

import (
	"context"
	"image/color"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"kiosk/server"
)

// TestPeopleReviewInChromium drives review before publish through the
// admin page in headless Chromium against a real server and player. An
// admin (the break-glass token, over the API) creates an editor, a reviewer
// and a technician. The editor signs in with a password, creates an item
// and adds it to the playlist an all-screens schedule plays; each save says
// which change set it went to, and the player's applied version does not
// move, not even once the editor submits. The editor gets no approve or
// reject button on their own set. The reviewer signs in, finds the set in
// the queue, reads the diff (the new title and picture, the playlist's new
// order, the screen it reaches) and approves; the player then shows the new item. The
// technician sees content read-only, and no review, users or audit pages.
func TestPeopleReviewInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	dialogs := countDialogs(t, ctx, "people and review")

	// Published content (break-glass publishes at once) and a real player.
	old := srv.item("notice", "停水通知", "明日 9:00–12:00 停水。", "", 2)
	pl := srv.playlist("社区轮播", old)
	srv.scheduleAll(pl, 0)
	scr := srv.screen("一号屏", "")
	p := startPlayer(t, srv.url(), scr.Token, cachePath(t, scr.ID))
	waitFor(t, 20*time.Second, "the player to apply the published content", func() bool {
		st := p.state()
		return st.AppliedVersion != "" && st.AppliedVersion == srv.status(scr.ID).PublishedVersion
	})

	const (
		editorName, editorPW     = "bianji", "editor-password-1"
		reviewerName, reviewerPW = "shenhe", "reviewer-password-1"
		techName, techPW         = "jishu", "technician-password-1"
	)
	srv.user(editorName, editorPW, "editor")
	srv.user(reviewerName, reviewerPW, "reviewer")
	srv.user(techName, techPW, "technician")

	// The editor signs in with a password; the header names them.
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	signInAs(t, ctx, editorName, editorPW)
	adminPoll(t, ctx, "the editor signed in", `(() => { const w = document.getElementById('whoami');
		return !document.getElementById('who').hidden && w.dataset.role === 'editor' && w.textContent.includes(`+js(editorName)+`)
			&& document.querySelector('#nav a[data-route="review"]') !== null
			&& document.querySelector('#nav a[data-route="users"], #nav a[data-route="audit"]') === null
			&& document.getElementById('review-off').hidden; })()`, 10*time.Second)
	if c := evalString(t, ctx, `document.cookie`); c != "" {
		t.Errorf("document.cookie = %q, want none (the session cookie is HttpOnly)", c)
	}
	if kept := evalString(t, ctx, `sessionStorage.getItem('kiosk.admin.token') || ''`); kept != "" {
		t.Errorf("a password sign-in kept a token in sessionStorage: %q", kept)
	}

	// A new item lands in the editor's change set, not on screens.
	const title = "周六义诊"
	evalVoid(t, ctx, "open items", `location.hash = '#/items'`)
	adminPoll(t, ctx, "the item form", `document.getElementById('item-form') !== null
		&& document.querySelector('#items tr[data-id=`+js(old)+`]') !== null`, 10*time.Second)
	pic := filepath.Join(t.TempDir(), "clinic.png")
	if err := os.WriteFile(pic, pngBytes(t, 320, 180, color.RGBA{20, 150, 90, 255}), 0o644); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "fill the item form", chromedp.SendKeys("#i-title", title), chromedp.SendKeys("#i-body", "社区卫生站 9:00–11:00"),
		chromedp.SetUploadFiles("#i-file", []string{pic}))
	evalVoid(t, ctx, "a 2 s item", `document.getElementById('i-duration').value = '2'`)
	do(t, ctx, "save", chromedp.Click("#i-save"))
	adminPoll(t, ctx, "the saved-to-change-set notice", `(() => { const n = document.querySelector('#item-ok .changeset-note');
		return !document.getElementById('item-ok').hidden && n !== null && n.textContent.includes('已保存到变更集')
			&& n.querySelector('a').getAttribute('href') === '#/review/' + n.dataset.changeset; })()`, 10*time.Second)
	csID := evalString(t, ctx, `document.querySelector('#item-ok .changeset-note').dataset.changeset`)
	itemRow := `[...document.querySelectorAll('#items tbody tr')].find((r) => r.querySelector('.item-title')?.textContent === ` + js(title) + `)`
	adminPoll(t, ctx, "the drafted item listed as a draft", `(() => { const r = `+itemRow+`;
		return !!r && r.dataset.draft === 'create' && r.querySelector('a.tag.draft') !== null; })()`, 10*time.Second)
	itemID := evalString(t, ctx, itemRow+`.dataset.id`)
	if code := srv.call(http.MethodGet, "/items/"+itemID, nil, nil); code != http.StatusNotFound {
		t.Errorf("GET /items/%s (published state) = %d before approval, want 404", itemID, code)
	}

	// The editor adds it to the playlist the all-screens schedule plays.
	evalVoid(t, ctx, "open playlists", `location.hash = '#/playlists'`)
	plRow := `document.querySelector('#playlists tbody tr[data-id=` + js(pl) + `]')`
	adminPoll(t, ctx, "the playlist, and the drafted item to add", plRow+` !== null
		&& document.querySelector('#p-add option[value=`+js(itemID)+`]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "edit the playlist", plRow+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the playlist in the form", `document.getElementById('p-name').value === '社区轮播'`, 5*time.Second)
	evalVoid(t, ctx, "pick the new item", `document.getElementById('p-add').value = `+js(itemID))
	do(t, ctx, "add it and save", chromedp.Click("#p-add-btn"), chromedp.Click("#p-save"))
	adminPoll(t, ctx, "the playlist saved to the same change set", `(() => { const n = document.querySelector('#playlist-ok .changeset-note');
		return n !== null && n.dataset.changeset === `+js(csID)+`; })()`, 10*time.Second)
	applied := p.state().AppliedVersion
	published := srv.status(scr.ID).PublishedVersion

	// The review page shows the open set; the editor names and submits it.
	evalVoid(t, ctx, "open review", `location.hash = '#/review'`)
	adminPoll(t, ctx, "the open change set with both changes", `(() => { const o = document.querySelector('#cs-open .cs-open');
		return o !== null && o.dataset.id === `+js(csID)+` && o.querySelectorAll('.cs-change-list li').length === 2
			&& document.getElementById('cs-reach')?.dataset.count === '1'; })()`, 10*time.Second)
	adminScreenshot(ctx, ".review-open.png")
	evalVoid(t, ctx, "title the set", `document.getElementById('cs-title').value = '周六义诊通知'`)
	do(t, ctx, "submit", chromedp.Click("#cs-submit"))
	adminPoll(t, ctx, "the set submitted", `document.getElementById('cs-none') !== null
		&& document.querySelector('#cs-mine-list tr[data-id=`+js(csID)+`][data-state="submitted"] .cs-link')?.textContent === '周六义诊通知'`, 10*time.Second)

	// The author's own set offers no verdict.
	evalVoid(t, ctx, "open the set", `document.querySelector('#cs-mine-list tr[data-id=`+js(csID)+`] .cs-link').click()`)
	adminPoll(t, ctx, "the set's page", `document.getElementById('cs-name')?.textContent === '周六义诊通知'
		&& document.querySelector('.cs-change') !== null`, 10*time.Second)
	if n := evalInt(t, ctx, `document.querySelectorAll('#cs-approve, #cs-reject').length`); n != 0 {
		t.Errorf("the author sees %d approve/reject buttons on their own change set, want 0", n)
	}
	adminScreenshot(ctx, ".review-author.png")

	// Nothing reached the screen: not the drafts, not the submission.
	time.Sleep(1500 * time.Millisecond) // a publish would reach the player well within this
	if st := p.state(); st.AppliedVersion != applied {
		t.Errorf("the player applied %s after drafting and submitting, want still %s", short(st.AppliedVersion), short(applied))
	}
	if got := srv.status(scr.ID).PublishedVersion; got != published {
		t.Errorf("published version moved to %s before approval, want %s", short(got), short(published))
	}

	// Sign out; the reviewer signs in and finds the set in the queue.
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	adminPoll(t, ctx, "the sign-in page", `!document.getElementById('signin').hidden
		&& document.getElementById('signin-msg').textContent.includes('已退出')`, 10*time.Second)
	signInAs(t, ctx, reviewerName, reviewerPW)
	adminPoll(t, ctx, "the reviewer signed in", `document.getElementById('whoami').dataset.role === 'reviewer'`, 10*time.Second)
	evalVoid(t, ctx, "open review", `location.hash = '#/review'`)
	queued := `document.querySelector('#cs-queue-list tr[data-id=` + js(csID) + `]')`
	adminPoll(t, ctx, "the set in the review queue", queued+` !== null && `+queued+`.cells[1].textContent === `+js(editorName), 10*time.Second)
	evalVoid(t, ctx, "open it", queued+`.querySelector('a[data-review]').click()`)

	// The diff: the new item's text, the playlist's new order, the reach.
	adminPoll(t, ctx, "the diff", `(() => {
		const item = document.querySelector('.cs-change[data-kind="item"][data-action="create"]');
		const list = document.querySelector('.cs-change[data-kind="playlist"][data-action="update"]');
		if (!item || !list) return false;
		const after = (c, f) => c.querySelector('tr[data-field="' + f + '"] .diff-after')?.textContent || '';
		const before = (c, f) => c.querySelector('tr[data-field="' + f + '"] .diff-before')?.textContent || '';
		return after(item, 'title') === `+js(title)+` && after(item, 'body') === '社区卫生站 9:00–11:00'
			&& before(list, 'items') === '停水通知' && after(list, 'items') === '停水通知'+`+js(title)+`
			&& list.querySelector('tr[data-field="items"]').classList.contains('changed')
			&& (() => { const im = item.querySelector('tr[data-field="asset"] .diff-after .thumb img');
				return im !== null && im.src.startsWith('blob:') && im.complete && im.naturalWidth === 320; })()
			&& document.getElementById('cs-reach').textContent.includes('一号屏')
			&& document.getElementById('cs-conflicts') === null; })()`, 10*time.Second)
	adminScreenshot(ctx, ".review-diff.png")
	if st := p.state(); st.AppliedVersion != applied {
		t.Errorf("the player applied %s before approval, want still %s", short(st.AppliedVersion), short(applied))
	}

	// A reject needs a comment; approve publishes.
	do(t, ctx, "reject without a comment", chromedp.Click("#cs-reject"))
	adminPoll(t, ctx, "the comment asked for", `!document.getElementById('cs-error').hidden`, 5*time.Second)
	do(t, ctx, "approve", chromedp.Click("#cs-approve"))
	adminPoll(t, ctx, "the set approved", `document.querySelector('#cs-head .badge[data-status="approved"]') !== null
		&& document.querySelectorAll('#cs-approve, #cs-reject').length === 0`, 10*time.Second)
	waitFor(t, 40*time.Second, "the player to show the approved item", func() bool {
		return p.state().CurrentItem == itemID
	})
	if st := p.state(); st.AppliedVersion == applied {
		t.Errorf("the player still has version %s after approval", short(applied))
	}

	// The technician sees content read-only and no review, users or audit.
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	signInAs(t, ctx, techName, techPW)
	adminPoll(t, ctx, "the technician signed in", `document.getElementById('whoami').dataset.role === 'technician'
		&& document.querySelector('#nav a[data-route="items"]') !== null
		&& document.querySelector('#nav a[data-route="review"], #nav a[data-route="users"], #nav a[data-route="audit"]') === null`, 10*time.Second)
	for _, pg := range []struct{ hash, table, form string }{
		{"#/items", "#items", "#item-form"},
		{"#/playlists", "#playlists", "#playlist-form"},
		{"#/schedules", "#schedules", "#schedule-form"},
	} {
		evalVoid(t, ctx, "open "+pg.hash, `location.hash = `+js(pg.hash))
		adminPoll(t, ctx, pg.hash+" listed read-only", `document.querySelector(`+js(pg.table+` tbody tr[data-id]`)+`) !== null
			&& document.querySelector(`+js(pg.form)+`) === null
			&& document.querySelectorAll('#view button[data-edit], #view button[data-delete], #view input[type="file"]').length === 0`, 10*time.Second)
	}
	evalVoid(t, ctx, "open users by hand", `location.hash = '#/users'`)
	adminPoll(t, ctx, "no access to users", `document.getElementById('no-access') !== null && document.getElementById('users') === null`, 5*time.Second)
	// Technicians keep the fleet's buttons.
	evalVoid(t, ctx, "open the screen", `location.hash = '#/screen/' + encodeURIComponent(`+js(scr.ID)+`)`)
	adminPoll(t, ctx, "the screen's commands", `document.querySelector('button[data-command="identify"]') !== null`, 10*time.Second)

	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// user creates a person with the break-glass token.
func (s *testServer) user(name, password, role string) string {
	s.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	s.must(http.MethodPost, "/users", map[string]any{"username": name, "password": password, "role": role}, &out)
	if out.ID == "" {
		s.t.Fatalf("POST /users %s: no id in the answer", name)
	}
	return out.ID
}

// signInAs signs in on the admin page with a username and password.
func signInAs(t *testing.T, ctx context.Context, username, password string) {
	t.Helper()
	adminPoll(t, ctx, "the sign-in form", `!document.getElementById('signin').hidden`, 10*time.Second)
	evalVoid(t, ctx, "clear the sign-in form", `document.getElementById('username').value = ''; document.getElementById('password').value = ''`)
	do(t, ctx, "sign in as "+username, chromedp.SendKeys("#username", username), chromedp.SendKeys("#password", password),
		chromedp.Click("#signin-submit"))
	adminPoll(t, ctx, "the app after signing in as "+username, `document.getElementById('signin').hidden
		&& !document.getElementById('view').hidden`, 10*time.Second)
}

// signInWithToken uses the page's secondary sign-in: a bearer token (the
// break-glass admin token or a personal API token).
func signInWithToken(t *testing.T, ctx context.Context, token string) {
	t.Helper()
	openTokenSignIn(t, ctx)
	do(t, ctx, "sign in with a token", chromedp.SendKeys("#token", token), chromedp.Click("#token-submit"))
}

func openTokenSignIn(t *testing.T, ctx context.Context) {
	t.Helper()
	adminPoll(t, ctx, "the sign-in form", `!document.getElementById('signin').hidden`, 10*time.Second)
	evalVoid(t, ctx, "open the token sign-in", `document.getElementById('token-signin').open = true`)
}

// TestPeopleAccountInChromium covers the account and users screens: a
// reviewer turns on two-step verification from the QR code the page shows
// (a data: image under the page's CSP), creates a personal API token that
// is shown once and works as a bearer token, then signs in again and is
// asked for the code. The break-glass admin sees the review-off banner,
// creates, edits and disables a user on the users page, and resets the
// reviewer's MFA; the reviewer's token, revoked, stops working.
func TestPeopleAccountInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	dialogs := countDialogs(t, ctx, "account and users")
	const name, pw = "zhanghu", "account-password-1"
	uid := srv.user(name, pw, "reviewer")

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/account"))
	signInAs(t, ctx, name, pw)
	evalVoid(t, ctx, "open the account", `location.hash = '#/account'`)
	adminPoll(t, ctx, "the account page", `document.getElementById('me-username')?.textContent === `+js(name)+`
		&& document.getElementById('me-totp-start') !== null`, 10*time.Second)

	// Two-step verification: scan (the QR renders), confirm with a code.
	do(t, ctx, "start TOTP enrolment", chromedp.Click("#me-totp-start"))
	adminPoll(t, ctx, "the QR code and secret", `(() => { const im = document.getElementById('me-totp-qr');
		return im !== null && im.src.startsWith('data:image/png') && im.complete && im.naturalWidth > 0
			&& document.getElementById('me-totp-secret').textContent.length >= 16; })()`, 10*time.Second)
	adminScreenshot(ctx, ".totp.png")
	secret := evalString(t, ctx, `document.getElementById('me-totp-secret').textContent`)
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatalf("generate a TOTP code: %v", err)
	}
	do(t, ctx, "confirm the code", chromedp.SendKeys("#me-totp-code", code), chromedp.Click("#me-totp-confirm"))
	adminPoll(t, ctx, "TOTP on", `document.getElementById('me-totp-on') !== null && !document.getElementById('me-totp-ok').hidden`, 10*time.Second)

	// A personal token, shown once, works as a bearer token.
	do(t, ctx, "name a token", chromedp.SendKeys("#me-token-name", "发布脚本"))
	evalVoid(t, ctx, "make it read-only", `document.getElementById('me-token-role').value = 'viewer'`)
	do(t, ctx, "create it", chromedp.Click("#me-token-create"))
	adminPoll(t, ctx, "the new token shown once", `(document.getElementById('me-token-value')?.value || '').startsWith('kpt_')
		&& [...document.querySelectorAll('#me-tokens tbody tr')].some((r) => r.querySelector('.tok-name')?.textContent === '发布脚本')`, 10*time.Second)
	token := evalString(t, ctx, `document.getElementById('me-token-value').value`)
	var who struct {
		User struct {
			Username string `json:"username"`
		} `json:"user"`
	}
	if code := callAPI(t, http.MethodGet, srv.url()+"/api/v1/session", "Bearer "+token, nil, &who); code != http.StatusOK || who.User.Username != name {
		t.Errorf("GET /session with the new token: %d %+v, want 200 as %s", code, who, name)
	}

	// Signing in again asks for the code after the password.
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	adminPoll(t, ctx, "the sign-in form", `!document.getElementById('signin').hidden`, 10*time.Second)
	evalVoid(t, ctx, "clear the sign-in form", `document.getElementById('username').value = ''`)
	do(t, ctx, "username and password", chromedp.SendKeys("#username", name), chromedp.SendKeys("#password", pw), chromedp.Click("#signin-submit"))
	adminPoll(t, ctx, "the code asked for", `!document.getElementById('totp-row').hidden
		&& document.getElementById('signin-msg').textContent.includes('动态验证码')`, 10*time.Second)
	// The enrolment used this step's code, and a code is good once: take
	// the next step's, which the server accepts as clock drift.
	code, err = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "the code", chromedp.SendKeys("#totp", code), chromedp.Click("#signin-submit"))
	adminPoll(t, ctx, "signed in with the code", `document.getElementById('signin').hidden
		&& document.getElementById('whoami').dataset.role === 'reviewer'`, 10*time.Second)

	// The token is revoked from the list and stops working.
	evalVoid(t, ctx, "open the account", `location.hash = '#/account'`)
	tokRow := `[...document.querySelectorAll('#me-tokens tbody tr')].find((r) => r.querySelector('.tok-name')?.textContent === '发布脚本')`
	adminPoll(t, ctx, "the token listed", tokRow+` !== undefined`, 10*time.Second)
	evalVoid(t, ctx, "revoke twice", `(() => { const b = `+tokRow+`.querySelector('button[data-revoke]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the token gone", tokRow+` === undefined`, 10*time.Second)
	if code := callAPI(t, http.MethodGet, srv.url()+"/api/v1/session", "Bearer "+token, nil, nil); code != http.StatusUnauthorized {
		t.Errorf("GET /session with the revoked token: %d, want 401", code)
	}

	// The break-glass admin publishes at once: the banner says so on every page.
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "the review-off banner", `(() => { const b = document.getElementById('review-off');
		return !b.hidden && b.textContent.includes('审核已关闭') && !b.textContent.includes('review is off'); })()`, 10*time.Second)

	// Users: create, edit the role, disable, reset MFA.
	evalVoid(t, ctx, "open users", `location.hash = '#/users'`)
	userRow := func(n string) string { return `document.querySelector('#users tr[data-username=` + js(n) + `]')` }
	adminPoll(t, ctx, "the users page", userRow(name)+` !== null && !document.getElementById('review-off').hidden`, 10*time.Second)
	do(t, ctx, "create without a name", chromedp.Click("#user-save"))
	adminPoll(t, ctx, "a name asked for", `document.getElementById('user-error').textContent === '请填写用户名。'`, 5*time.Second)
	do(t, ctx, "fill the user form", chromedp.SendKeys("#user-name", "lisi"), chromedp.SendKeys("#user-password", "sunrise-harbor-42"))
	evalVoid(t, ctx, "a technician", `document.getElementById('user-role').value = 'technician'`)
	do(t, ctx, "create", chromedp.Click("#user-save"))
	adminPoll(t, ctx, "the user listed", userRow("lisi")+`?.dataset.role === 'technician' && !document.getElementById('user-ok').hidden`, 10*time.Second)
	evalVoid(t, ctx, "edit", userRow("lisi")+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the form in edit mode", `document.getElementById('user-role').value === 'technician' && !document.getElementById('user-cancel').hidden
		&& document.getElementById('user-form-title').textContent === '编辑用户 lisi' && document.getElementById('user-name').disabled
		&& document.getElementById('user-password').closest('.field-row').hidden`, 5*time.Second)
	evalVoid(t, ctx, "make a viewer", `document.getElementById('user-role').value = 'viewer'`)
	do(t, ctx, "save", chromedp.Click("#user-save"))
	adminPoll(t, ctx, "the role changed, the form new again", userRow("lisi")+`?.dataset.role === 'viewer'
		&& document.getElementById('user-form-title').textContent === '新建用户' && !document.getElementById('user-name').disabled`, 10*time.Second)
	evalVoid(t, ctx, "disable twice", `(() => { const b = `+userRow("lisi")+`.querySelector('button[data-disable]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "the user disabled", userRow("lisi")+`?.querySelector('button[data-enable]') !== null`, 10*time.Second)
	evalVoid(t, ctx, "reset MFA twice", `(() => { const b = `+userRow(name)+`.querySelector('button[data-reset-mfa]'); b.click(); b.click(); })()`)
	adminPoll(t, ctx, "MFA reset", userRow(name)+` !== null && `+userRow(name)+`.querySelector('button[data-reset-mfa]') === null`, 10*time.Second)
	adminScreenshot(ctx, ".users.png")

	var users []struct {
		ID          string `json:"id"`
		Username    string `json:"username"`
		Role        string `json:"role"`
		Disabled    bool   `json:"disabled"`
		TOTPEnabled bool   `json:"totp_enabled"`
	}
	srv.must(http.MethodGet, "/users", nil, &users)
	seen := 0
	for _, u := range users {
		switch u.Username {
		case "lisi":
			seen++
			if u.Role != "viewer" || !u.Disabled {
				t.Errorf("lisi = %+v, want a disabled viewer", u)
			}
		case name:
			seen++
			if u.ID != uid || u.TOTPEnabled {
				t.Errorf("%s = %+v, want TOTP reset", name, u)
			}
		}
	}
	if seen != 2 {
		t.Errorf("GET /users = %+v, want lisi and %s", users, name)
	}
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// TestPeopleSessionExpiryInChromium: when the server ends a session for
// idleness, the page's next request returns it to the sign-in page with
// the reason, and signing in again works.
func TestPeopleSessionExpiryInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServerWith(t, func(c *server.Config) { c.SessionIdle = time.Second })
	dialogs := countDialogs(t, ctx, "session expiry")
	const name, pw = "bianji", "editor-password-1"
	srv.user(name, pw, "editor")

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/fleet"))
	signInAs(t, ctx, name, pw)
	time.Sleep(1500 * time.Millisecond) // past the idle timeout
	// The fleet's live stream may have noticed already and brought the
	// sign-in page; otherwise the refresh finds out.
	evalVoid(t, ctx, "press refresh", `document.getElementById('refresh')?.click()`)
	adminPoll(t, ctx, "the sign-in page with the reason", `(() => { const m = document.getElementById('signin-msg');
		return !document.getElementById('signin').hidden && document.getElementById('view').hidden
			&& !m.hidden && m.textContent.includes('会话已过期，请重新登录'); })()`, 10*time.Second)
	signInAs(t, ctx, name, pw)
	adminPoll(t, ctx, "the fleet again", `document.getElementById('screens') !== null`, 10*time.Second)
	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}
