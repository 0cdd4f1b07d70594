package people

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: the ones every authenticator app understands (RFC 6238
// defaults: SHA-1, 6 digits, 30 s steps).
const (
	totpPeriod = 30
	totpDigits = 6
	qrSize     = 200
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTP makes a fresh 160-bit TOTP secret for account at issuer and
// returns it in base32, as an otpauth:// URL, and as that URL in a 200×200
// PNG QR code for authenticator apps to scan.
func NewTOTP(issuer, account string) (secret, url string, qrPNG []byte, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  20,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", "", nil, fmt.Errorf("new totp secret: %w", err)
	}
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return "", "", nil, fmt.Errorf("totp qr code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", "", nil, fmt.Errorf("totp qr code: %w", err)
	}
	return key.Secret(), key.URL(), buf.Bytes(), nil
}

// TOTPStep is the RFC 6238 time step that t falls in.
func TOTPStep(t time.Time) int64 {
	u := t.Unix()
	s := u / totpPeriod
	if u < 0 && u%totpPeriod != 0 {
		s-- // floor, not truncation, before 1970
	}
	return s
}

// CheckTOTP reports whether code is the one-time code of secret for the
// step of now or one step either side (clocks of phones drift). A code
// whose step is not after lastStep is refused even when right: each code
// works once, so one seen over a shoulder or in a proxy log is useless.
// On success step is the matched step, which the caller stores as the new
// lastStep.
func CheckTOTP(secret, code string, now time.Time, lastStep int64) (step int64, ok bool) {
	if len(code) != totpDigits {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	cur := TOTPStep(now)
	// All three steps are computed, so timing does not tell which matched;
	// the latest match wins, so a replay of it is refused afterwards.
	for s := cur - 1; s <= cur+1; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep {
			step, ok = s, true
		}
	}
	return step, ok
}
