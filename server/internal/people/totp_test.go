package people

import (
	"bytes"
	"image/png"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// The RFC 6238 appendix B secret ("12345678901234567890" in base32) and the
// 8-digit SHA-1 value at 59 s, 94287082, whose last six digits are the
// 6-digit code.
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestCheckTOTPRFCVector(t *testing.T) {
	now := time.Unix(59, 0)
	step, ok := CheckTOTP(rfcSecret, "287082", now, 0)
	if !ok || step != 1 {
		t.Fatalf("CheckTOTP(RFC vector at 59 s): got step %d, %v; want 1, true", step, ok)
	}
}

func TestCheckTOTP(t *testing.T) {
	now := time.Date(2026, 3, 9, 8, 0, 15, 0, time.UTC)
	cur := TOTPStep(now)
	code := func(step int64) string {
		c, err := totp.GenerateCodeCustom(rfcSecret, time.Unix(step*30, 0), totpOpts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", code(cur), 0, cur, true},
		{"one step early (slow phone)", code(cur - 1), 0, cur - 1, true},
		{"one step late (fast phone)", code(cur + 1), 0, cur + 1, true},
		{"two steps early", code(cur - 2), 0, 0, false},
		{"two steps late", code(cur + 2), 0, 0, false},
		{"replay of the last used step", code(cur), cur, 0, false},
		{"older than the last used step", code(cur - 1), cur, 0, false},
		{"next step after last used", code(cur + 1), cur, cur + 1, true},
		{"five digits", code(cur)[:5], 0, 0, false},
		{"seven digits", code(cur) + "0", 0, 0, false},
		{"spaces", " " + code(cur)[1:], 0, 0, false},
		{"letters", "12345a", 0, 0, false},
		{"fullwidth digits", "１２３４５６", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := CheckTOTP(rfcSecret, tt.code, now, tt.lastStep)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Errorf("CheckTOTP(%q, last %d): got %d, %v; want %d, %v", tt.code, tt.lastStep, step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
	if _, ok := CheckTOTP("not base32!", "123456", now, 0); ok {
		t.Error("CheckTOTP with a malformed secret: got ok")
	}
}

func TestNewTOTP(t *testing.T) {
	secret, u, qr, err := NewTOTP("Kiosk", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) != 32 {
		t.Errorf("secret %q: want 32 base32 characters (160 bits)", secret)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	if pu.Scheme != "otpauth" || pu.Host != "totp" || pu.Path != "/Kiosk:alice" ||
		q.Get("secret") != secret || q.Get("issuer") != "Kiosk" || q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("url %q: want otpauth://totp/Kiosk:alice with the secret, issuer Kiosk, 6 digits, 30 s", u)
	}
	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 200 {
		t.Errorf("qr is %dx%d; want 200x200", b.Dx(), b.Dy())
	}
	now := time.Now()
	c, _ := totp.GenerateCode(secret, now)
	if _, ok := CheckTOTP(secret, c, now, 0); !ok {
		t.Error("a code from the new secret does not check")
	}
	if s2, _, _, _ := NewTOTP("Kiosk", "alice"); s2 == secret {
		t.Error("two enrolments got the same secret")
	}
}

func TestTOTPStep(t *testing.T) {
	for _, tt := range []struct {
		unix int64
		want int64
	}{{0, 0}, {29, 0}, {30, 1}, {59, 1}, {-1, -1}, {-30, -1}, {-31, -2}} {
		if got := TOTPStep(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("TOTPStep(%d s) = %d, want %d", tt.unix, got, tt.want)
		}
	}
}
