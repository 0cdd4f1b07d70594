package display

import (
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// TestUrgentInChromium drives the real page: a notice covers the rotation
// in the urgent style with its text literal, the page reports the notice as
// what it shows, and the overlay goes when the notice expires.
func TestUrgentInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	pic := testPNG(t)
	picRef := assetRef(pic, "image/png")

	// The page comes up on the rotation first; the notice, which ends 4 s
	// after it is sent, goes out only then, so a slow Chromium start on a
	// loaded machine cannot eat its lifetime.
	m := rotationManifest(item("a", playlists.KindNotice, 30))
	m.Assets = []playlists.AssetRef{picRef}
	m.Seal()
	s := New(Options{Media: memMedia{picRef.SHA256: pic}, Logger: quietLogger()})
	s.SetManifest(m)
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ctx := newBrowser(t, chrome)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("navigate to the kiosk page: %v", err)
	}
	waitJS(t, ctx, "the rotation on screen", `(() => { const l = document.querySelector('.layer.visible');
		return l !== null && l.dataset.itemId === 'a'; })()`)

	now := time.Now()
	u := notice("u1", now, now.Add(4*time.Second))
	u.Title = "<b>3号楼停水</b>"
	u.Body = "今日 9:00–18:00 停水，请提前储水。"
	u.Asset = picRef.SHA256
	m2 := rotationManifest(item("a", playlists.KindNotice, 30))
	m2.Assets = []playlists.AssetRef{picRef}
	m2.Urgent = []playlists.Urgent{u}
	m2.Seal()
	s.SetManifest(m2)

	waitJS(t, ctx, "the urgent overlay with literal text and its picture", `(() => {
		const b = document.getElementById('urgent');
		if (!b || !b.classList.contains('visible')) return false;
		const r = b.getBoundingClientRect();
		const im = b.querySelector('.media img');
		return b.querySelector('.kind-label').textContent === '紧急通知' &&
		  b.querySelector('.title').textContent === `+jsString(u.Title)+` &&
		  b.querySelector('b') === null &&
		  b.querySelector('.body').textContent === `+jsString(u.Body)+` &&
		  /^有效至 \d\d:\d\d$/.test(b.querySelector('.u-until').textContent) &&
		  im !== null && im.complete && im.naturalWidth > 0 &&
		  r.width === window.innerWidth && r.height === window.innerHeight &&
		  getComputedStyle(b).zIndex === '500' &&
		  document.body.dataset.urgent === 'u1'; })()`)
	waitFor(t, 10*time.Second, "the page to report the notice", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.pageItem == "u1"
	})
	if os.Getenv("KIOSK_SCREENSHOT_URGENT") != "" {
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(os.Getenv("KIOSK_SCREENSHOT_URGENT"), buf, 0o644)
		}
	}
	waitJS(t, ctx, "the overlay gone after expiry, the rotation showing", `(() => {
		const b = document.getElementById('urgent');
		const l = document.querySelector('.layer.visible');
		return b !== null && !b.classList.contains('visible') && document.body.dataset.urgent === undefined &&
		  l !== null && l.dataset.itemId === 'a'; })()`)
}
