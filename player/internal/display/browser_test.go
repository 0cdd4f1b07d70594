package display

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// requireBrowserEnv, when set (CI sets it), turns a missing Chromium from a
// skip into a failure.
const requireBrowserEnv = "KIOSK_REQUIRE_CHROMIUM"

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowserEnv) != "" {
		t.Fatalf("no Chromium on PATH and %s is set", requireBrowserEnv)
	}
	t.Skip("no Chromium on PATH (install Debian's chromium; set " + requireBrowserEnv + " to make this a failure)")
	return ""
}

// newBrowser starts headless Chromium with the flags a closed network
// needs. It is closed when the test ends, before servers the test started
// earlier shut down (cleanups run last-in first-out), so open event streams
// do not hold up httptest.Server.Close.
func newBrowser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1920, 1080),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancel()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// waitJS polls a predicate on the page until it holds; what names it in
// the failure, which also shows what the page displays.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond),
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
			`(() => { const l = document.querySelector('.layer.visible'); const ti = document.getElementById('title');
			  return JSON.stringify({item: l && l.dataset.itemId, title: ti && ti.textContent,
			  fallback: document.getElementById('fallback').className}); })()`))
		t.Fatalf("waiting for %s: %v (page state %s)", what, err, state)
	}
}

// jsString quotes s for JavaScript source.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 90))
	for y := range 90 {
		for x := range 160 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), 180, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode test image: %v", err)
	}
	return buf.Bytes()
}

// TestPageInChromium drives the real page in headless Chromium: the first
// title shows literally (an injected script neither renders nor runs), the
// page moves on after the item's time, an image item shows its image, a
// broken image falls back to text, and no content means the clock screen.
func TestPageInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	pic := testPNG(t)
	broken := []byte("\x89PNG\r\n\x1a\nnot really a png")
	picRef, brokenRef := assetRef(pic, "image/png"), assetRef(broken, "image/png")

	evil := item("evil", playlists.KindLegalStory, 2)
	evil.Title = "<script>alert(1)</script>"
	evil.Body = `<img src=x onerror="alert(2)">`
	img := item("pic", playlists.KindPSA, 2)
	img.Title = "防范电信诈骗"
	img.Asset = picRef.SHA256
	bad := item("bad", playlists.KindNotice, 2)
	bad.Title = "图片坏了也要有字"
	bad.Asset = brokenRef.SHA256
	m := manifest([]playlists.Item{evil, img, bad}, map[string][]string{"pl": {"evil", "pic", "bad"}},
		[]playlists.Schedule{schedule("s", "pl", 0, nil, nil)}, picRef, brokenRef)

	s := New(Options{
		Media:        memMedia{picRef.SHA256: pic, brokenRef.SHA256: broken},
		Logger:       quietLogger(),
		DistrictName: "东湖街道",
	})
	s.SetManifest(m)
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)

	ctx := newBrowser(t, chrome)

	// Any dialog means item text ran as script.
	var dialogs atomic.Int32
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			dialogs.Add(1)
			t.Errorf("a script in item text ran: dialog %q", ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("navigate to the kiosk page: %v", err)
	}

	waitJS(t, ctx, "the literal script title", `(() => { const e = document.getElementById('title');
		const l = document.querySelector('.layer.visible');
		return e !== null && e.textContent === `+jsString(evil.Title)+` && l !== null && l.dataset.itemId === 'evil'; })()`)
	waitJS(t, ctx, "the body shown as text", `[...document.querySelectorAll('.layer.visible .body')]
		.some(e => e.textContent === `+jsString(evil.Body)+`)`)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`document.querySelectorAll('.layer script, .layer img[src="x"]').length`)); err != nil || n != 0 {
		t.Errorf("item markup became elements: %d script/img nodes (err %v), want 0", n, err)
	}

	waitJS(t, ctx, "the image item after the first item's 2 s", `(() => {
		const l = document.querySelector('.layer.visible');
		const im = l && l.querySelector('.media img');
		return l !== null && l.dataset.itemId === 'pic' && im !== null && im.complete && im.naturalWidth === 160 &&
		  document.getElementById('title').textContent === `+jsString(img.Title)+`; })()`)
	waitJS(t, ctx, "the broken image item as text only", `(() => {
		const l = document.querySelector('.layer.visible');
		return l !== null && l.dataset.itemId === 'bad' && l.querySelector('.media') === null &&
		  document.getElementById('title').textContent === `+jsString(bad.Title)+`; })()`)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.layer.visible').length`)); err != nil || n != 1 {
		t.Errorf("%d visible layers (err %v), want exactly 1", n, err)
	}

	waitFor(t, 20*time.Second, "the page's liveness report", s.PageAlive)

	s.SetManifest(nil)
	waitJS(t, ctx, "the fallback clock", `(() => {
		const f = document.getElementById('fallback');
		return f.classList.contains('visible') && document.querySelector('.layer.visible') === null &&
		  /^\d\d:\d\d$/.test(document.getElementById('fb-clock').textContent) &&
		  /^\d{4}年\d{1,2}月\d{1,2}日 星期./.test(document.getElementById('fb-date').textContent) &&
		  document.getElementById('fb-district').textContent === '东湖街道' &&
		  document.getElementById('title') === null; })()`)

	if os.Getenv("KIOSK_SCREENSHOT") != "" {
		// Handy when changing the look: KIOSK_SCREENSHOT=/tmp/x.png.
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(os.Getenv("KIOSK_SCREENSHOT"), buf, 0o644)
		}
	}
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d dialogs opened, want none", n)
	}
}

// recordWebM has the browser itself record a short WebM clip of a canvas,
// so the test needs no media tools and ships no binary fixture.
func recordWebM(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a blank page: %v", err)
	}
	b64, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new Promise((resolve, reject) => {
		const c = document.createElement('canvas'); c.width = 320; c.height = 180;
		document.body.appendChild(c);
		const g = c.getContext('2d'); let f = 0;
		const iv = setInterval(() => { g.fillStyle = 'hsl(' + (f * 20 % 360) + ',80%,50%)'; g.fillRect(0, 0, 320, 180); f++; }, 40);
		const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm' });
		const chunks = [];
		rec.ondataavailable = e => chunks.push(e.data);
		rec.onerror = e => reject(String(e.error));
		rec.onstop = async () => {
			clearInterval(iv);
			const buf = new Uint8Array(await new Blob(chunks).arrayBuffer());
			let s = ''; for (const x of buf) s += String.fromCharCode(x);
			resolve(btoa(s));
		};
		rec.start();
		setTimeout(() => rec.stop(), 1000);
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("record a test clip: %v", err)
	}
	clip, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(clip) == 0 {
		t.Fatalf("decode the test clip: %d bytes, %v", len(clip), err)
	}
	return clip
}

// TestVideoInChromium: a video item is preloaded paused in the hidden layer,
// plays muted once it is swapped in, and loops while its time lasts.
func TestVideoInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)

	media := memMedia{}
	s := New(Options{Media: media, Logger: quietLogger()})
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ctx := newBrowser(t, chrome)

	clip := recordWebM(t, ctx)
	ref := assetRef(clip, "video/webm")
	media[ref.SHA256] = clip // before the page asks for anything
	vid := item("vid", playlists.KindPSA, 3)
	vid.Asset = ref.SHA256
	s.SetManifest(manifest(
		[]playlists.Item{item("txt", playlists.KindNotice, 2), vid},
		map[string][]string{"pl": {"txt", "vid"}},
		[]playlists.Schedule{schedule("s", "pl", 0, nil, nil)}, ref))

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("navigate to the kiosk page: %v", err)
	}
	waitJS(t, ctx, "the video preloaded, paused, in the hidden layer", `(() => {
		const l = document.querySelector('.layer.visible');
		const v = document.querySelector('.layer:not(.visible) video');
		return l !== null && l.dataset.itemId === 'txt' &&
		  v !== null && v.paused && v.muted && v.readyState >= 3; })()`)
	waitJS(t, ctx, "the video playing, muted and looping, once swapped in", `(() => {
		const l = document.querySelector('.layer.visible');
		const v = l && l.querySelector('video');
		return l !== null && l.dataset.itemId === 'vid' && v !== null && !v.paused && v.muted && v.loop && v.currentTime > 0; })()`)
	// The one-second clip outlasts itself within the item's three seconds.
	waitJS(t, ctx, "the video to loop", `(() => {
		const v = document.querySelector('.layer.visible video');
		if (!v) return false;
		window.__maxT = Math.max(window.__maxT || 0, v.currentTime);
		return window.__maxT > 0.5 && v.currentTime < 0.3 && !v.paused; })()`)
}
