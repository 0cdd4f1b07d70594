package display

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func pairingState(t *testing.T, s *Server) (code string, expires *time.Time) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/state", nil))
	var v struct {
		PairingCode      string     `json:"pairing_code"`
		PairingExpiresAt *time.Time `json:"pairing_expires_at"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode /state %s: %v", rec.Body, err)
	}
	return v.PairingCode, v.PairingExpiresAt
}

func TestPairingStateAndEvent(t *testing.T) {
	s := New(Options{Logger: quietLogger()})
	if code, exp := pairingState(t, s); code != "" || exp != nil {
		t.Fatalf("before pairing: got %q %v, want no code", code, exp)
	}
	at := time.Date(2026, 3, 1, 9, 10, 0, 0, time.UTC)
	s.SetPairing(&Pairing{Code: "ABCDEFGH", ExpiresAt: at, Server: "https://signage.example.org"})
	code, exp := pairingState(t, s)
	if code != "ABCDEFGH" || exp == nil || !exp.Equal(at) {
		t.Errorf("/state: got %q %v, want ABCDEFGH until %v", code, exp, at)
	}
	ev := s.snapshot()
	if ev.Pairing == nil || ev.Pairing.Display != "ABCD EFGH" || ev.Pairing.Hint != PairingHint || ev.Pairing.ExpiresAt != at.UnixMilli() {
		t.Errorf("show event: got %+v, want the grouped code, the hint and the expiry", ev.Pairing)
	}
	s.SetPairing(nil)
	if code, _ := pairingState(t, s); code != "" || s.snapshot().Pairing != nil {
		t.Errorf("after pairing: got %q, want the view gone", code)
	}
}

// TestPairingInChromium: the code covers the screen, large and grouped,
// with the instruction and the server, and goes once the player is paired.
func TestPairingInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	s := New(Options{Logger: quietLogger()})
	s.SetPairing(&Pairing{Code: "KM7PXR4W", ExpiresAt: time.Now().Add(10 * time.Minute), Server: "https://signage.example.org"})
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ctx := newBrowser(t, chrome)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("navigate to the kiosk page: %v", err)
	}
	// From three metres: the code at least 15 % of a 1080-pixel-high
	// screen, the whole screen covered, nothing clipped.
	waitJS(t, ctx, "the pairing view with the grouped code", `(() => {
		const b = document.getElementById('pairing');
		if (!b || !b.classList.contains('visible')) return false;
		const c = document.getElementById('pairing-code');
		const r = b.getBoundingClientRect(), cr = c.getBoundingClientRect();
		return c.textContent === 'KM7P XR4W' &&
		  parseFloat(getComputedStyle(c).fontSize) >= 0.15 * window.innerHeight &&
		  cr.left >= 0 && cr.right <= window.innerWidth &&
		  b.querySelector('.pa-hint').textContent === `+jsString(PairingHint)+` &&
		  b.querySelector('.pa-server').textContent.includes('https://signage.example.org') &&
		  /^配对码 \d+:\d\d 后失效/.test(b.querySelector('.pa-expires').textContent) &&
		  r.width === window.innerWidth && r.height === window.innerHeight &&
		  document.body.dataset.pairing === 'KM7PXR4W'; })()`)
	if path := os.Getenv("KIOSK_SCREENSHOT_PAIRING"); path != "" {
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(path, buf, 0o644)
		}
	}
	s.SetPairing(nil)
	waitJS(t, ctx, "the pairing view gone", `(() => {
		const b = document.getElementById('pairing');
		return b !== null && !b.classList.contains('visible') && document.body.dataset.pairing === undefined; })()`)
}
