package e2e

import (
	"context"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. Without it the browser tests skip
// locally; CI sets KIOSK_REQUIRE_CHROMIUM=1 so a missing browser fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("KIOSK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("KIOSK_REQUIRE_CHROMIUM") != "" {
		t.Fatal("KIOSK_REQUIRE_CHROMIUM is set but no chromium binary was found (apt-get install chromium fonts-noto-cjk)")
	}
	t.Skip("chromium not installed: skipping browser test (apt-get install chromium fonts-noto-cjk; CI sets KIOSK_REQUIRE_CHROMIUM=1)")
	return ""
}

// newBrowser starts a headless Chromium with the flags a closed, root-run
// machine needs, and returns a tab context that ends with the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 720),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now so a launch failure is reported as such.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return ctx
}

// countDialogs reports every JavaScript dialog the page opens as a test
// error (what says what a dialog would mean) and dismisses it; the counter
// lets the test check at the end that none opened.
func countDialogs(t *testing.T, ctx context.Context, what string) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	events := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			n.Add(1)
			t.Errorf("%s: dialog %q", what, ev.Message)
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return &n
}
