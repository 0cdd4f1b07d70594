package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// signedBy reports whether header is the X-Kiosk-Signature of body under
// secret: "sha256=" and the hex HMAC-SHA256.
func signedBy(secret string, body []byte, header string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal([]byte("sha256="+hex.EncodeToString(m.Sum(nil))), []byte(header))
}

// webhookEndpoint is a webhook endpoint on loopback: it records each POST
// and whether its signature verifies under secret (once known).
type webhookEndpoint struct {
	mu       sync.Mutex
	status   int
	secret   string
	got      []string
	verified int
}

func (r *webhookEndpoint) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.got = append(r.got, string(body))
	if r.secret != "" && signedBy(r.secret, body, req.Header.Get("X-Kiosk-Signature")) {
		r.verified++
	}
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *webhookEndpoint) counts() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got), r.verified
}

// noChinese is true when the element's text holds no Chinese character:
// the English page must not fall back to Chinese anywhere.
func noChinese(sel string) string {
	return `!/[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]/.test(document.querySelector(` + js(sel) + `).textContent)`
}

// switchLanguage presses the header's language button and waits for the
// page to come back in lang, signed in.
func switchLanguage(t *testing.T, ctx context.Context, lang, fleetText string) {
	t.Helper()
	do(t, ctx, "press the language button", chromedp.Click("#lang"))
	waitReloaded(t, ctx, "the page in "+lang, `document.documentElement.lang === `+js(lang)+`
		&& document.querySelector('#nav a[data-route="fleet"]')?.textContent === `+js(fleetText)+`
		&& document.getElementById('signin').hidden`)
}

// waitReloaded waits for expr across a reload: while the old document
// goes and the new one loads, evaluating fails, which is not an answer.
func waitReloaded(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	adminPoll(t, ctx, what, expr, time.Second) // reports what the page shows
}

// TestLanguageRefusalsWebhooksAuditInChromium: the header button switches
// the whole page to English and back, and a reload keeps the choice; a
// refusal of the API shows in the page's language, worded from its code,
// field and reason; the webhooks page adds a receiver on loopback, sends
// it a test, shows the delivery in the log and deletes it, in both
// languages; the audit log filters by object and verifies its chain.
func TestLanguageRefusalsWebhooksAuditInChromium(t *testing.T) {
	ctx := newBrowser(t)
	srv := startServer(t)
	const pw = "admin-password-12"
	srv.addPerson("guanli", pw, "admin", nil, true)

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/"))
	signInAs(t, ctx, "guanli", pw)
	adminPoll(t, ctx, "the Chinese nav", `document.querySelector('#nav a[data-route="fleet"]')?.textContent === '设备总览'
		&& document.querySelector('#nav a[data-route="webhooks"]') !== null`, 10*time.Second)

	// A refusal in Chinese: the title is over the limit (the input's
	// maxlength stops typing, not a script), and the page words the
	// server's field, reason and limit itself.
	long := strings.Repeat("长", 201)
	evalVoid(t, ctx, "open urgent", `location.hash = '#/urgent'`)
	adminPoll(t, ctx, "the urgent form", `document.getElementById('u-title') !== null`, 10*time.Second)
	evalVoid(t, ctx, "a title too long", `document.getElementById('u-title').value = `+js(long))
	do(t, ctx, "send it", chromedp.Click("#u-send"))
	adminPoll(t, ctx, "the refusal in Chinese", `(() => { const m = document.getElementById('urgent-error');
		return !m.hidden && m.textContent.includes('标题：最多 200 个字'); })()`, 10*time.Second)

	// English: the nav, the page and the same refusal.
	switchLanguage(t, ctx, "en", "Fleet")
	adminPoll(t, ctx, "the nav in English", `document.querySelector('#nav a[data-route="urgent"]').textContent === 'Urgent'
		&& document.querySelector('#nav a[data-route="webhooks"]').textContent === 'Webhooks' && `+noChinese("#nav"), 5*time.Second)
	evalVoid(t, ctx, "open urgent", `location.hash = '#/urgent'`)
	adminPoll(t, ctx, "the urgent page in English", `document.querySelector('#view h1')?.textContent === 'Urgent notices'
		&& document.getElementById('u-title') !== null && `+noChinese("#view"), 10*time.Second)
	evalVoid(t, ctx, "a title too long", `document.getElementById('u-title').value = `+js(long))
	do(t, ctx, "send it", chromedp.Click("#u-send"))
	adminPoll(t, ctx, "the refusal in English", `(() => { const m = document.getElementById('urgent-error');
		return !m.hidden && m.textContent.includes('Title: at most 200 characters'); })()`, 10*time.Second)
	do(t, ctx, "reload", chromedp.Reload())
	waitReloaded(t, ctx, "still English after a reload", `document.documentElement.lang === 'en'
		&& document.querySelector('#nav a[data-route="fleet"]')?.textContent === 'Fleet'
		&& document.querySelector('#view h1')?.textContent === 'Urgent notices'`)

	// The other pages of this area, loaded, with no Chinese left in them.
	for _, pg := range []struct{ hash, h1, loaded string }{
		{"#/safe-mode", "Safe mode", `document.querySelector('#safe-list tr') !== null`},
		{"#/review", "Review", `document.getElementById('cs-none') !== null && document.querySelector('#cs-queue-list tbody tr') !== null`},
		{"#/users", "Users", `document.querySelector('#users tbody tr[data-id]') !== null`},
		{"#/account", "My account", `document.getElementById('me-username')?.textContent === 'guanli' && document.querySelector('#me-tokens tbody tr') !== null`},
		{"#/audit", "Audit log", `document.querySelector('#audit tbody tr[data-seq]') !== null`},
	} {
		evalVoid(t, ctx, "open "+pg.hash, `location.hash = `+js(pg.hash))
		adminPoll(t, ctx, pg.hash+" in English", `location.hash === `+js(pg.hash)+` && document.querySelector('#view h1')?.textContent === `+js(pg.h1)+`
			&& `+pg.loaded, 10*time.Second)
		if evalInt(t, ctx, `(`+noChinese("#view")+`) ? 1 : 0`) != 1 {
			t.Errorf("%s in English still shows Chinese: %q", pg.hash, evalString(t, ctx, `document.getElementById('view').innerText`))
		}
	}
	// Safe mode asks for the English word on the English page, in any case.
	evalVoid(t, ctx, "open safe mode", `location.hash = '#/safe-mode'`)
	adminPoll(t, ctx, "the safe mode form", `document.querySelector('label[for="safe-confirm"]')?.textContent === 'Type "SAFE MODE" to confirm'
		&& document.getElementById('safe-start').disabled`, 10*time.Second)
	do(t, ctx, "type the word", chromedp.SendKeys("#safe-confirm", "safe mode"))
	adminPoll(t, ctx, "the switch enabled", `!document.getElementById('safe-start').disabled`, 5*time.Second)
	evalVoid(t, ctx, "back to urgent", `location.hash = '#/urgent'`)

	// Webhooks in English: a refusal without a reason keeps the server's
	// detail after the field's name.
	ok := &webhookEndpoint{status: http.StatusNoContent}
	okSrv := httptest.NewServer(ok)
	defer okSrv.Close()
	evalVoid(t, ctx, "open webhooks", `location.hash = '#/webhooks'`)
	adminPoll(t, ctx, "the webhooks page", `document.getElementById('hook-form') !== null
		&& document.querySelector('#webhooks tbody')?.textContent.includes('No webhooks yet.') && `+noChinese("#view"), 10*time.Second)
	do(t, ctx, "a URL that is not http", chromedp.SendKeys("#hook-url", "ftp://example.org/x"), chromedp.Click("#hook-add"))
	adminPoll(t, ctx, "the URL refused", `(() => { const m = document.getElementById('hook-form-error');
		return !m.hidden && m.textContent === 'Failed: URL is not valid (url: must use http or https, not "ftp")' && m.textContent.includes('http or https'); })()`, 10*time.Second)
	evalVoid(t, ctx, "clear the URL", `document.getElementById('hook-url').value = ''`)
	do(t, ctx, "add one on loopback, offline alerts only, no secret",
		chromedp.SendKeys("#hook-url", okSrv.URL+"/kiosk"), chromedp.Click(`#hook-events input[value="offline"]`), chromedp.Click("#hook-add"))
	adminPoll(t, ctx, "the secret shown once", `(() => { const s = document.getElementById('hook-secret-value');
		return s && s.value.length === 64 && !document.getElementById('hook-secret').hidden; })()`, 10*time.Second)
	ok.mu.Lock()
	ok.secret = evalString(t, ctx, `document.getElementById('hook-secret-value').value`)
	ok.mu.Unlock()
	adminPoll(t, ctx, "the webhook listed", `(() => { const r = document.querySelector('#webhooks tbody tr[data-id]');
		return r && r.textContent.includes(`+js(okSrv.URL+"/kiosk")+`) && r.cells[1].textContent === 'offline'
			&& r.textContent.includes('not tested'); })()`, 10*time.Second)
	var hooks []struct {
		ID     string   `json:"id"`
		Events []string `json:"events"`
	}
	srv.must(http.MethodGet, "/webhooks", nil, &hooks)
	if len(hooks) != 1 || len(hooks[0].Events) != 1 || hooks[0].Events[0] != "offline" {
		t.Fatalf("webhooks after adding: %+v, want one for offline alerts", hooks)
	}
	id := hooks[0].ID
	do(t, ctx, "send a test", chromedp.Click(`button[data-test="`+id+`"]`))
	adminPoll(t, ctx, "the test delivered", `(() => { const m = document.getElementById('hook-ok');
		return !m.hidden && m.textContent.startsWith('Test delivered: the receiver answered HTTP 204'); })()`, 15*time.Second)
	if n, v := ok.counts(); n != 1 || v != 1 {
		t.Errorf("receiver: %d posts, %d verified with the secret the page showed; want 1 and 1", n, v)
	}
	adminPoll(t, ctx, "the delivery log", `(() => { const r = document.querySelector('#hook-deliveries tbody tr[data-test="true"]');
		return !document.getElementById('hook-log').hidden && r && r.dataset.status === 'delivered'
			&& r.textContent.includes('delivered') && r.cells[4].textContent === '204'; })()`, 10*time.Second)
	adminPoll(t, ctx, "the last test in the list", `document.querySelector('#webhooks tr[data-id] .hook-last-test')?.textContent.includes('delivered')`, 10*time.Second)
	adminScreenshot(ctx, ".webhooks-en.png")
	do(t, ctx, "delete: first press", chromedp.Click(`button[data-delete="`+id+`"]`))
	do(t, ctx, "delete: confirm", chromedp.Click(`button[data-delete="`+id+`"]`))
	adminPoll(t, ctx, "the webhook gone", `document.querySelector('#webhooks tr[data-id]') === null
		&& document.getElementById('hook-log').hidden`, 10*time.Second)
	srv.must(http.MethodGet, "/webhooks", nil, &hooks)
	if len(hooks) != 0 {
		t.Errorf("webhooks after deleting: %+v, want none", hooks)
	}

	// Back to Chinese: a receiver that refuses, with a secret of our own.
	bad := &webhookEndpoint{status: http.StatusInternalServerError, secret: "a-secret-of-our-own-1"}
	badSrv := httptest.NewServer(bad)
	defer badSrv.Close()
	switchLanguage(t, ctx, "zh-CN", "设备总览")
	adminPoll(t, ctx, "the webhooks page in Chinese", `document.querySelector('#view h1')?.textContent === 'Webhook 告警推送'`, 10*time.Second)
	do(t, ctx, "add one that refuses", chromedp.SendKeys("#hook-url", badSrv.URL), chromedp.SendKeys("#hook-secret-in", bad.secret),
		chromedp.Click("#hook-add"))
	adminPoll(t, ctx, "added, no secret shown", `document.querySelector('#webhooks tr[data-id]') !== null
		&& document.getElementById('hook-secret').hidden && document.getElementById('hook-form-ok').textContent.includes('已添加')`, 10*time.Second)
	srv.must(http.MethodGet, "/webhooks", nil, &hooks)
	if len(hooks) != 1 {
		t.Fatalf("webhooks: %+v", hooks)
	}
	id = hooks[0].ID
	do(t, ctx, "send a test", chromedp.Click(`button[data-test="`+id+`"]`))
	adminPoll(t, ctx, "the test refused, in Chinese", `(() => { const m = document.getElementById('hook-error');
		return !m.hidden && m.textContent.startsWith('测试未被接收：对方返回 HTTP 500'); })()`, 15*time.Second)
	adminPoll(t, ctx, "the failed delivery in the log", `(() => { const r = document.querySelector('#hook-deliveries tbody tr[data-test="true"]');
		return r && r.dataset.status === 'failed' && r.textContent.includes('发送失败') && r.cells[4].textContent === '500'; })()`, 10*time.Second)
	if n, v := bad.counts(); n != 1 || v != 1 {
		t.Errorf("refusing receiver: %d posts, %d verified; want 1 and 1", n, v)
	}
	adminScreenshot(ctx, ".webhooks.png")

	// The audit log: the webhook's entries by object, in Chinese, and the
	// chain verified.
	evalVoid(t, ctx, "open the audit log", `location.hash = '#/audit'`)
	adminPoll(t, ctx, "the audit log", `document.querySelectorAll('#audit tbody tr[data-seq]').length > 3`, 10*time.Second)
	do(t, ctx, "filter by the webhook", chromedp.SendKeys("#audit-object", id), chromedp.Click("#audit-apply"))
	adminPoll(t, ctx, "only the webhook's entries", `(() => { const rows = [...document.querySelectorAll('#audit tbody tr[data-seq]')];
		return rows.length === 2 && rows.every((r) => r.cells[3].textContent === `+js(id)+`)
			&& rows.some((r) => r.dataset.action.includes('/test'))
			&& document.getElementById('audit-count').textContent === '共 2 条'; })()`, 10*time.Second)
	do(t, ctx, "verify the chain", chromedp.Click("#audit-verify"))
	adminPoll(t, ctx, "the chain intact", `document.getElementById('audit-chain').textContent.startsWith('哈希链完整')`, 10*time.Second)
	evalVoid(t, ctx, "a reversed range", `document.getElementById('audit-since').value = '2026-03-02'; document.getElementById('audit-until').value = '2026-03-01'`)
	do(t, ctx, "apply it", chromedp.Click("#audit-apply"))
	adminPoll(t, ctx, "the range refused on the page", `document.getElementById('audit-error').textContent === '结束日期早于开始日期。'`, 5*time.Second)
	evalVoid(t, ctx, "a plain range", `document.getElementById('audit-since').value = ''; document.getElementById('audit-until').value = ''`)
	do(t, ctx, "clear the filters", chromedp.Click("#audit-clear"))
	adminPoll(t, ctx, "all entries again", `document.querySelectorAll('#audit tbody tr[data-seq]').length > 3`, 10*time.Second)
	adminScreenshot(ctx, ".audit.png")

	// A technician sees the webhooks and their log, and nothing to change.
	srv.addPerson("jishu", pw, "technician", nil, false)
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	signInAs(t, ctx, "jishu", pw)
	evalVoid(t, ctx, "open webhooks", `location.hash = '#/webhooks'`)
	adminPoll(t, ctx, "the list, read-only", `document.querySelector('#webhooks tr[data-id]') !== null
		&& document.getElementById('hook-form') === null && document.querySelector('button[data-test], button[data-delete]') === null`, 10*time.Second)
	do(t, ctx, "open the log", chromedp.Click(`button[data-log="`+id+`"]`))
	adminPoll(t, ctx, "the log for a technician", `document.querySelector('#hook-deliveries tbody tr[data-test="true"]') !== null`, 10*time.Second)
}
