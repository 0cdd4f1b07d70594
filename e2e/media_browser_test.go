package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"kiosk/server"
)

// mediaTexts are the catalogue texts the media test expects, per language.
var mediaTexts = map[string]struct {
	htmlLang, inUse, unsupported, tooLarge, cancelled, nav string
}{
	"zh": {"zh-CN", "这个文件正在被使用，不能删除", "不支持这种文件", "文件太大", "已取消", "媒体库"},
	"en": {"en", "This file is in use and cannot be deleted", "Unsupported file", "File too large", "Cancelled", "Media"},
}

// TestMediaLibraryInChromium drives the media page in headless Chromium,
// once in Chinese and once in English, as an editor signed in with a
// password (cookie and CSRF header on the XMLHttpRequest uploads). Per
// language: an image and a video (recorded by this browser's
// MediaRecorder, so a real WebM) are chosen together in the file input and
// both reach 100 % with a speed shown; the library shows the image's
// thumbnail and size and a frame of the video with its size; once an item
// uses the image its card says so and offers no delete; the unused video
// is deleted; a delete that races an item starting to use the file is
// refused beside the library (409 asset_in_use) in the page's language; a
// text file named .png is refused by the server (415), and one over the
// limit by the page before sending. With the upload throttled, two 8 MB
// files upload at once while a third waits, show intermediate progress,
// and cancelled leave nothing on the server.
func TestMediaLibraryInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	const limit = 12 << 20
	srv := startServerWith(t, func(c *server.Config) { c.MaxUploadBytes = limit })
	dialogs := countDialogs(t, ctx, "media library")
	const editor, editorPW = "meiti", "editor-password-1"
	srv.user(editor, editorPW, "editor")
	dir := t.TempDir()

	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/media"))
	signInAs(t, ctx, editor, editorPW)

	big := noisePNG(t, 1448, 1448) // about 8 MB: noise does not compress
	if len(big) < 7<<20 || len(big) > limit {
		t.Fatalf("the big file is %d bytes, want about 8 MB and under the limit", len(big))
	}
	bigPath := writeFile(t, dir, "big.png", big)
	big2Path := writeFile(t, dir, "big2.png", big)
	tooBig := writeFile(t, dir, "huge.png", append(pngBytes(t, 4, 4, color.RGBA{1, 2, 3, 255}), make([]byte, limit)...))
	notMedia := writeFile(t, dir, "notes.png", []byte(strings.Repeat("not a picture at all\n", 40)))

	for i, lang := range []string{"zh", "en"} {
		tx := mediaTexts[lang]
		evalVoid(t, ctx, "choose "+lang, `localStorage.setItem('kiosk.admin.lang', `+js(lang)+`); location.hash = '#/media'`)
		do(t, ctx, "reload in "+lang, chromedp.Reload())
		adminPoll(t, ctx, "the media page in "+lang, `document.documentElement.lang === `+js(tx.htmlLang)+`
			&& document.getElementById('m-drop') !== null && document.getElementById('m-summary').textContent !== ''
			&& document.querySelector('#nav a[data-route="media"]')?.textContent === `+js(tx.nav), 15*time.Second)

		// An image and a video, chosen together.
		pic := writeFile(t, dir, lang+"-poster.png", pngBytes(t, 320, 180, color.RGBA{uint8(40 + 100*i), 90, 200, 255}))
		clip := writeFile(t, dir, lang+"-clip.webm", recordWebM(t, ctx, i))
		do(t, ctx, "choose the image and the video", chromedp.SetUploadFiles("#m-file", []string{pic, clip}))
		row := func(name string) string {
			return `document.querySelector('#m-queue .m-upload[data-name=` + js(name) + `]')`
		}
		for _, name := range []string{filepath.Base(pic), filepath.Base(clip)} {
			adminPoll(t, ctx, name+" uploaded to 100 % with a speed", `(() => { const r = `+row(name)+`;
				return r !== null && r.dataset.state === 'done' && r.dataset.percent === '100' && r.querySelector('progress').value === 100
					&& r.dataset.sha.length === 64 && Number(r.dataset.speed) > 0 && /[0-9.]+ [kM]B\/s/.test(r.querySelector('.m-up-status').textContent); })()`, 30*time.Second)
		}
		picSHA := evalString(t, ctx, row(filepath.Base(pic))+`.dataset.sha`)
		clipSHA := evalString(t, ctx, row(filepath.Base(clip))+`.dataset.sha`)
		card := func(sha string) string {
			return `document.querySelector('#m-library .m-asset[data-sha=` + js(sha) + `]')`
		}
		adminPoll(t, ctx, "the image's thumbnail and size", `(() => { const c = `+card(picSHA)+`;
			const im = c && c.querySelector('.m-thumb img');
			return !!im && im.src.startsWith('blob:') && im.complete && im.naturalWidth === 320
				&& c.querySelector('.m-dims').textContent === '320 × 180' && c.querySelector('.m-format').textContent === 'PNG'
				&& c.querySelector('.m-name').textContent.startsWith(`+js(filepath.Base(pic))+`)
				&& c.querySelector('.m-by').textContent.includes(`+js(editor)+`) && c.dataset.used === '0'; })()`, 20*time.Second)
		adminPoll(t, ctx, "a frame of the video as its thumbnail", `(() => { const c = `+card(clipSHA)+`;
			const im = c && c.querySelector('.m-thumb img.m-poster');
			return !!im && im.complete && im.naturalWidth === 320 && c.dataset.kind === 'video'
				&& c.querySelector('.m-dims').textContent === '320 × 240' && c.querySelector('.m-format').textContent === 'WebM'; })()`, 20*time.Second)
		adminScreenshot(ctx, ".media-"+lang+".png")

		// An item starts using the image: its card says so and offers no delete.
		title := "停水通知 " + lang
		srv.item("notice", title, "", picSHA, 5)
		do(t, ctx, "refresh", chromedp.Click("#refresh"))
		adminPoll(t, ctx, "the image used by the item", `(() => { const c = `+card(picSHA)+`;
			return !!c && c.dataset.used === '1' && c.querySelector('.m-use a')?.textContent === `+js(title)+`
				&& c.querySelector('button[data-delete]') === null && c.querySelector('.m-locked') !== null; })()`, 10*time.Second)

		// The unused video is deleted with two clicks.
		del := card(clipSHA) + `.querySelector('button[data-delete]')`
		evalVoid(t, ctx, "delete the video", del+`.click()`)
		evalVoid(t, ctx, "confirm", del+`.click()`)
		adminPoll(t, ctx, "the video gone", card(clipSHA)+` === null && !document.getElementById('media-ok').hidden`, 10*time.Second)
		if code := srv.call(http.MethodGet, "/assets/"+clipSHA, nil, nil); code != http.StatusNotFound {
			t.Errorf("GET /assets/%s after deleting = %d, want 404", clipSHA, code)
		}

		// A delete racing an item that starts to use the file is refused readably.
		race := srv.upload(lang+"-race.png", pngBytes(t, 64, 64, color.RGBA{200, uint8(20 + 100*i), 20, 255}))
		do(t, ctx, "refresh", chromedp.Click("#refresh"))
		adminPoll(t, ctx, "the new file deletable", card(race)+`?.querySelector('button[data-delete]') != null`, 10*time.Second)
		srv.item("psa", "反诈 "+lang, "", race, 5)
		del = card(race) + `.querySelector('button[data-delete]')`
		evalVoid(t, ctx, "delete the file now in use", del+`.click()`)
		evalVoid(t, ctx, "confirm", del+`.click()`)
		adminPoll(t, ctx, "the refusal in "+lang+", then who uses it", `(() => { const m = document.getElementById('media-error'); const c = `+card(race)+`;
			return !m.hidden && m.textContent.includes(`+js(tx.inUse)+`) && !!c && c.dataset.used === '1'; })()`, 10*time.Second)
		adminScreenshot(ctx, ".media-in-use-"+lang+".png")

		// A file dropped on the zone uploads too.
		dropped := lang + "-dropped.png"
		evalVoid(t, ctx, "drop a picture on the zone", `(async () => {
			const c = document.createElement('canvas');
			c.width = 200; c.height = 100;
			const g = c.getContext('2d');
			g.fillStyle = `+js([]string{"#15803d", "#7e22ce"}[i])+`;
			g.fillRect(0, 0, 200, 100);
			const blob = await new Promise((resolve) => c.toBlob(resolve, 'image/png'));
			const dt = new DataTransfer();
			dt.items.add(new File([blob], `+js(dropped)+`, { type: 'image/png' }));
			const zone = document.getElementById('m-drop');
			zone.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true, cancelable: true }));
			zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
		})()`)
		adminPoll(t, ctx, "the dropped picture uploaded and listed", `(() => { const r = `+row(dropped)+`;
			if (r?.dataset.state !== 'done') return false;
			const c = document.querySelector('#m-library .m-asset[data-sha="' + r.dataset.sha + '"]');
			return !!c && c.dataset.name === `+js(dropped)+` && c.querySelector('.m-dims').textContent === '200 × 100'
				&& !document.getElementById('m-drop').classList.contains('over'); })()`, 20*time.Second)

		// The server refuses what is not media; the page refuses what is too large.
		do(t, ctx, "choose a text file and a huge one", chromedp.SetUploadFiles("#m-file", []string{notMedia, tooBig}))
		adminPoll(t, ctx, "both refused, each with its reason", `(() => { const a = `+row("notes.png")+`, b = `+row("huge.png")+`;
			return a?.dataset.state === 'failed' && a.textContent.includes(`+js(tx.unsupported)+`)
				&& b?.dataset.state === 'failed' && b.textContent.includes(`+js(tx.tooLarge)+`) && b.textContent.includes('12'); })()`, 15*time.Second)

		// Throttled: two 8 MB uploads run at once while a third file waits;
		// each shows progress on the way; cancelling one lets the waiting
		// file go, and the cancelled ones leave nothing on the server.
		var before []struct {
			SHA256 string `json:"sha256"`
		}
		srv.must(http.MethodGet, "/assets", nil, &before)
		small := writeFile(t, dir, lang+"-small.png", pngBytes(t, 32, 32, color.RGBA{10, uint8(60 + 100*i), 10, 255}))
		throttle(t, ctx, 2e6)
		evalVoid(t, ctx, "clear finished uploads", `document.getElementById('m-clear').click()`)
		do(t, ctx, "choose two big files and a small one", chromedp.SetUploadFiles("#m-file", []string{bigPath, big2Path, small}))
		adminPoll(t, ctx, "progress part of the way, with speed and time left, two at a time", `(() => { const r = `+row("big.png")+`;
			const p = Number(r?.dataset.percent);
			return r?.dataset.state === 'uploading' && p >= 5 && p < 90 && Number(r.dataset.events) >= 3
				&& r.querySelector('progress').value === p && /MB\/s|kB\/s/.test(r.querySelector('.m-up-status').textContent)
				&& `+row("big2.png")+`.dataset.state === 'uploading' && `+row(filepath.Base(small))+`.dataset.state === 'queued'; })()`, 20*time.Second)
		adminScreenshot(ctx, ".media-progress-"+lang+".png")
		evalVoid(t, ctx, "cancel the first", row("big.png")+`.querySelector('button[data-cancel]').click()`)
		adminPoll(t, ctx, "the first cancelled and the waiting file uploaded", `(() => { const r = `+row("big.png")+`;
			return r.dataset.state === 'cancelled' && r.textContent.includes(`+js(tx.cancelled)+`)
				&& r.querySelector('button[data-cancel]').hidden && `+row(filepath.Base(small))+`.dataset.state === 'done'; })()`, 20*time.Second)
		evalVoid(t, ctx, "cancel the second", row("big2.png")+`.querySelector('button[data-cancel]').click()`)
		adminPoll(t, ctx, "the second cancelled", row("big2.png")+`.dataset.state === 'cancelled'`, 10*time.Second)
		throttle(t, ctx, -1)
		waitFor(t, 10*time.Second, "the server to drop the cancelled uploads' temporary files", func() bool {
			tmp, _ := filepath.Glob(filepath.Join(srv.dataDir, "assets", "tmp", "*"))
			return len(tmp) == 0
		})
		var after []struct {
			SHA256 string `json:"sha256"`
		}
		srv.must(http.MethodGet, "/assets", nil, &after)
		if len(after) != len(before)+1 {
			t.Errorf("after two cancelled uploads and one finished the server has %d assets, want %d", len(after), len(before)+1)
		}
	}
	// The playlists page, on the shared form and table, in English: create,
	// edit and delete, each reported beside the form (the editor's changes
	// go to their change set, which the messages link to).
	item := srv.item("notice", "Water cut", "", "", 5)
	evalVoid(t, ctx, "open playlists", `location.hash = '#/playlists'`)
	adminPoll(t, ctx, "the playlist form in English", `document.getElementById('playlist-form-title')?.textContent === 'New playlist'
		&& document.getElementById('p-save').textContent === 'Create' && document.getElementById('p-cancel').hidden
		&& document.querySelector('#p-add option[value=`+js(item)+`]') !== null`, 10*time.Second)
	do(t, ctx, "save without a name", chromedp.Click("#p-save"))
	adminPoll(t, ctx, "the name asked for", `document.getElementById('playlist-error').textContent === 'Name is required.'`, 5*time.Second)
	do(t, ctx, "name it", chromedp.SendKeys("#p-name", "Evening loop"))
	evalVoid(t, ctx, "pick the item", `document.getElementById('p-add').value = `+js(item))
	do(t, ctx, "add and save", chromedp.Click("#p-add-btn"), chromedp.Click("#p-save"))
	plRow := `[...document.querySelectorAll('#playlists tbody tr')].find((r) => r.querySelector('.p-name')?.textContent === 'Evening loop')`
	adminPoll(t, ctx, "the playlist saved and listed", `(() => { const r = `+plRow+`;
		return !!r && r.querySelector('li')?.textContent === 'Water cut' && r.cells[2].textContent === '5 s'
			&& document.getElementById('playlist-ok').textContent.startsWith('Saved "Evening loop".')
			&& document.getElementById('p-name').value === ''; })()`, 10*time.Second)
	evalVoid(t, ctx, "edit it", plRow+`.querySelector('button[data-edit]').click()`)
	adminPoll(t, ctx, "the form editing it", `document.getElementById('playlist-form-title').textContent.startsWith('Edit playlist')
		&& document.getElementById('p-save').textContent === 'Save' && !document.getElementById('p-cancel').hidden
		&& document.getElementById('p-name').value === 'Evening loop' && document.querySelectorAll('#p-items li[data-id]').length === 1`, 5*time.Second)
	adminScreenshot(ctx, ".playlists-en.png")
	do(t, ctx, "cancel editing", chromedp.Click("#p-cancel"))
	adminPoll(t, ctx, "back to a new playlist", `document.getElementById('playlist-form-title').textContent === 'New playlist'
		&& document.getElementById('p-name').value === ''`, 5*time.Second)
	del := plRow + `.querySelector('button[data-delete]')`
	evalVoid(t, ctx, "delete it", del+`.click()`)
	adminPoll(t, ctx, "asked to confirm", del+`.textContent === 'Really delete?'`, 5*time.Second)
	evalVoid(t, ctx, "confirm", del+`.click()`)
	adminPoll(t, ctx, "the playlist deleted", plRow+` === undefined
		&& document.getElementById('playlist-ok').textContent.startsWith('Deleted "Evening loop".')`, 10*time.Second)

	// A viewer browses the library but uploads and deletes nothing.
	srv.user("kan", "viewer-password-1", "viewer")
	do(t, ctx, "sign out", chromedp.Click("#signout"))
	signInAs(t, ctx, "kan", "viewer-password-1")
	evalVoid(t, ctx, "open media", `location.hash = '#/media'`)
	adminPoll(t, ctx, "the library read-only", `document.querySelector('#m-library .m-asset') !== null
		&& document.getElementById('m-upload') === null && document.querySelector('#view input[type="file"], #view button[data-delete]') === null`, 10*time.Second)

	// On a phone the library fits the width: no sideways scrolling.
	do(t, ctx, "a phone-sized window", chromedp.EmulateViewport(390, 844))
	adminPoll(t, ctx, "the library within 390 px", `document.documentElement.scrollWidth <= 390
		&& document.querySelector('#m-library .m-asset').getBoundingClientRect().right <= 390`, 10*time.Second)
	adminScreenshot(ctx, ".media-phone.png")

	if d := dialogs.Load(); d != 0 {
		t.Errorf("%d dialogs opened, want none", d)
	}
}

// throttle limits the page's upload speed to bytesPerSec (-1: no limit).
func throttle(t *testing.T, ctx context.Context, bytesPerSec float64) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("network enable: %v", err)
	}
	_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: bytesPerSec}},
	})
	if err != nil {
		t.Fatalf("throttle uploads to %v B/s: %v", bytesPerSec, err)
	}
}

// recordWebM has the browser record a short WebM of a moving square on a
// 320×240 canvas: a real video, generated here, no fixture needed.
func recordWebM(t *testing.T, ctx context.Context, seed int) []byte {
	t.Helper()
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
		const c = document.createElement('canvas');
		c.width = 320; c.height = 240;
		const g = c.getContext('2d');
		const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm' });
		const parts = [];
		rec.ondataavailable = (e) => parts.push(e.data);
		let f = 0;
		const draw = () => {
			g.fillStyle = `+js([]string{"#1d4ed8", "#b91c1c"}[seed%2])+`;
			g.fillRect(0, 0, 320, 240);
			g.fillStyle = '#fff';
			g.fillRect((f * 12) % 300, 100, 24, 24);
			f++;
		};
		draw();
		const timer = setInterval(draw, 40);
		const stopped = new Promise((resolve) => { rec.onstop = resolve; });
		rec.start(200);
		await new Promise((resolve) => setTimeout(resolve, 1600));
		rec.stop();
		await stopped;
		clearInterval(timer);
		const buf = new Uint8Array(await new Blob(parts).arrayBuffer());
		let s = '';
		for (let i = 0; i < buf.length; i += 0x8000) s += String.fromCharCode(...buf.subarray(i, i + 0x8000));
		return btoa(s);
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("record a WebM in the browser: %v", err)
	}
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(data) < 1000 {
		t.Fatalf("recorded WebM: %d bytes, %v", len(data), err)
	}
	return data
}

// noisePNG is a w×h PNG of random pixels, which PNG cannot compress.
func noisePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFormsHelperInChromium exercises forms.js, the page's one create/edit
// form and list table, with every kind of field the other pages will need
// (text, number, select, checkbox, a custom control, a field only for new
// objects, one locked while editing), without an API behind it: save and
// remove are recorded. It checks the new and edit modes, the body sent,
// the local required check, a refusal shown beside the form, the two-click
// delete, and the table's rows and empty text.
func TestFormsHelperInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	ctx := newBrowser(t)
	srv := startServer(t)
	do(t, ctx, "open /admin/", chromedp.Navigate(srv.url()+"/admin/#/fleet"))
	signInWithToken(t, ctx, adminToken)
	adminPoll(t, ctx, "signed in", `document.getElementById('signin').hidden`, 10*time.Second)
	evalVoid(t, ctx, "build a form", `(async () => {
		const { editForm, listTable } = await import('./forms.js');
		const log = window.formLog = { saves: [], removes: [] };
		let tags = [];
		const tagBox = document.createElement('output');
		tagBox.id = 't-tags';
		const f = window.testForm = editForm({
			id: 'thing', prefix: 't',
			titles: { create: 'New thing', edit: 'Edit thing' },
			fields: [
				{ name: 'username', label: 'User', required: true, lockedOnEdit: true, maxlength: 20 },
				{ name: 'password', label: 'Password', type: 'password', onlyNew: true },
				{ name: 'count', label: 'Count', type: 'number', min: 1, initial: 3 },
				{ name: 'role', label: 'Role', type: 'select', options: () => [{ value: 'editor', text: 'Editor' }, { value: 'viewer', text: 'Viewer' }] },
				{ name: 'urgent', label: 'Urgent', type: 'checkbox', hint: 'may send' },
				{ name: 'tags', label: 'Tags', control: tagBox, get: () => tags.slice(), set: (v) => { tags = (v || []).slice(); tagBox.textContent = tags.join(','); } },
			],
			idOf: (o) => o.username,
			save: async (body, editing) => {
				if (body.username === 'refuse') throw new Error('refused by the server');
				log.saves.push({ body, editing: editing ? editing.id : null });
				return { id: 'x1' };
			},
			savedText: (body) => 'saved ' + body.username,
		});
		const tbl = window.testTable = listTable({
			id: 'things', empty: 'nothing yet',
			columns: [{ head: 'User', cell: (r) => r.username }, { head: 'Count', class: 'num', cell: (r) => String(r.count) }],
			rowData: (r) => ({ role: r.role }),
			actions: (r) => [f.editButton(r), ' ', f.deleteButton(r, { name: r.username, remove: async (o) => { log.removes.push(o.id); return null; } })],
		});
		tbl.render([]);
		document.getElementById('view').replaceChildren(f.element, tbl.element);
		window.formReady = true;
	})()`)
	adminPoll(t, ctx, "the form in new mode", `window.formReady === true
		&& document.getElementById('thing-form-title').textContent === 'New thing' && document.getElementById('t-save').textContent === '创建'
		&& document.getElementById('t-cancel').hidden && document.getElementById('t-count').value === '3'
		&& document.getElementById('t-role').value === 'editor' && !document.getElementById('t-password').closest('.field-row').hidden
		&& document.querySelector('#things tbody td').textContent === 'nothing yet'`, 10*time.Second)

	do(t, ctx, "save empty", chromedp.Click("#t-save"))
	adminPoll(t, ctx, "the required field asked for", `document.getElementById('thing-error').textContent === '请填写User。' && window.formLog.saves.length === 0`, 5*time.Second)

	do(t, ctx, "fill it", chromedp.SendKeys("#t-username", "lin"), chromedp.SendKeys("#t-password", "pw-123"))
	evalVoid(t, ctx, "choose", `document.getElementById('t-role').value = 'viewer'; document.getElementById('t-urgent').checked = true;
		document.getElementById('t-count').value = '7'`)
	do(t, ctx, "create", chromedp.Click("#t-save"))
	adminPoll(t, ctx, "created, reported and reset", `(() => { const s = window.formLog.saves[0];
		return !!s && s.editing === null && JSON.stringify(s.body) === JSON.stringify({ username: 'lin', password: 'pw-123', count: 7, role: 'viewer', urgent: true, tags: [] })
			&& document.getElementById('thing-ok').textContent === 'saved lin' && document.getElementById('t-username').value === ''; })()`, 5*time.Second)

	evalVoid(t, ctx, "list a row", `window.testTable.render([{ id: 'u1', username: 'lin', count: 7, role: 'viewer', urgent: true, tags: ['a', 'b'] }])`)
	do(t, ctx, "edit it", chromedp.Click(`#things button[data-edit="u1"]`))
	adminPoll(t, ctx, "the form in edit mode", `document.getElementById('thing-form-title').textContent === 'Edit thing lin'
		&& document.getElementById('t-save').textContent === '保存' && !document.getElementById('t-cancel').hidden
		&& document.getElementById('t-username').disabled && document.getElementById('t-password').closest('.field-row').hidden
		&& document.getElementById('t-count').value === '7' && document.getElementById('t-role').value === 'viewer'
		&& document.getElementById('t-urgent').checked && document.getElementById('t-tags').textContent === 'a,b'
		&& document.querySelector('#things tr[data-id="u1"]').dataset.role === 'viewer'`, 5*time.Second)
	evalVoid(t, ctx, "change the count", `document.getElementById('t-count').value = '9'`)
	do(t, ctx, "save", chromedp.Click("#t-save"))
	adminPoll(t, ctx, "saved as an edit, without the new-only field", `(() => { const s = window.formLog.saves[1];
		return !!s && s.editing === 'u1' && s.body.count === 9 && !('password' in s.body) && s.body.tags.join() === 'a,b'
			&& document.getElementById('thing-form-title').textContent === 'New thing' && !document.getElementById('t-username').disabled; })()`, 5*time.Second)

	evalVoid(t, ctx, "a name the server refuses", `document.getElementById('t-username').value = 'refuse'`)
	do(t, ctx, "save", chromedp.Click("#t-save"))
	adminPoll(t, ctx, "the refusal beside the form", `document.getElementById('thing-error').textContent === '保存失败：refused by the server'
		&& document.getElementById('t-username').value === 'refuse'`, 5*time.Second)

	del := `document.querySelector('#things button[data-delete="u1"]')`
	evalVoid(t, ctx, "delete once", del+`.click()`)
	adminPoll(t, ctx, "asked to confirm", del+`.textContent === '确认删除？' && window.formLog.removes.length === 0`, 5*time.Second)
	evalVoid(t, ctx, "confirm", del+`.click()`)
	adminPoll(t, ctx, "deleted and reported", `window.formLog.removes.join() === 'u1'
		&& document.getElementById('thing-ok').textContent === '已删除「lin」。'`, 5*time.Second)
}
