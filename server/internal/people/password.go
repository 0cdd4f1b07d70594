package people

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds, in characters (runes). The upper bound keeps a
// sign-in request from costing more than hashing a normal password.
const (
	MinPasswordRunes = 12
	MaxPasswordRunes = 256
)

// Argon2id parameters for new hashes, as OWASP recommends for argon2id
// (m=19 MiB, t=2, p=1). Stored hashes carry their own parameters, so these
// can be raised later; NeedsRehash tells when a stored hash is behind.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

// Bounds on parameters read back from a stored hash, so a damaged or
// planted record cannot make one verification take gigabytes or minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	maxThreads   = 64
	minSaltLen   = 8
	minKeyLen    = 16
	maxKeyLen    = 128
)

// ErrWeakPassword matches every refusal of CheckPassword (errors.Is).
var ErrWeakPassword = errors.New("weak password")

// WeakPasswordError says, in a sentence a person can act on, why a password
// is refused.
type WeakPasswordError struct{ Reason string }

func (e WeakPasswordError) Error() string { return e.Reason }

// Is makes errors.Is(err, ErrWeakPassword) true.
func (e WeakPasswordError) Is(target error) bool { return target == ErrWeakPassword }

func weak(format string, args ...any) error {
	return WeakPasswordError{Reason: fmt.Sprintf(format, args...)}
}

// CheckPassword applies the password policy: length first (the strongest
// single factor), then the patterns that make a long password guessable
// anyway. username may be empty.
func CheckPassword(pw, username string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordRunes:
		return weak("password is %d characters; at least %d are required", n, MinPasswordRunes)
	case n > MaxPasswordRunes:
		return weak("password is %d characters; at most %d are allowed", n, MaxPasswordRunes)
	}
	lower := strings.ToLower(pw)
	if u := strings.ToLower(strings.TrimSpace(username)); u != "" && strings.Contains(lower, u) {
		return weak("password must not contain the username")
	}
	first, _ := utf8.DecodeRuneInString(pw)
	if strings.Trim(pw, string(first)) == "" {
		return weak("password must not be one character repeated")
	}
	if commonPasswords[lower] {
		return weak("password is one of the most commonly used passwords; choose another")
	}
	return nil
}

// commonPasswords are, lower-cased, frequent entries of public breach lists
// that pass the length rule. Shorter favourites ("123456", "password") are
// already refused by length.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, pw := range []string{
		"123456789012", "1234567890123", "12345678901234", "123456789123",
		"098765432109", "987654321098", "123123123123", "123456123456",
		"111222333444", "112233445566", "147258369147", "159357159357",
		"password1234", "password12345", "password123456", "password123!",
		"password@123", "password!123", "passwordpassword", "mypassword123",
		"p@ssw0rd1234", "p@ssword1234", "passw0rd1234", "1234password",
		"qwertyuiop12", "qwertyuiop123", "qwertyuiopas", "qwertyqwerty",
		"qwerty123456", "qwerty1234567", "123456qwerty", "1q2w3e4r5t6y",
		"1q2w3e4r5t6y7u", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "zaq12wsxcde3",
		"qazwsxedcrfv", "qazwsxedc123", "123qweasdzxc", "asdfghjkl123",
		"zxcvbnm12345", "abcdefghijkl", "abcdefghijklm", "abc123456789",
		"abcd12345678", "iloveyou1234", "iloveyou12345", "iloveyouiloveyou",
		"letmein12345", "letmeinletmein", "welcome12345", "welcome123456",
		"welcome@1234", "changeme1234", "changeme12345", "administrator",
		"administrator1", "admin1234567", "admin12345678", "adminadmin12",
		"trustno1trustno1", "monkey123456", "football1234", "baseball1234",
		"superman1234", "dragon123456", "sunshine1234", "princess1234",
		"starwars1234", "computer1234", "internet1234", "whatever1234",
		"0987654321qwerty", "woaini1314520", "woaini520520", "5201314520",
		"aa123456789a", "a123456789012", "qq123456789", "1234567890qwe",
		"1234567890qwerty", "1234qwerasdf", "1234qwerasdfzxcv", "q1w2e3r4t5y6",
	} {
		m[pw] = true
	}
	return m
}()

// hashSlots bounds how many argon2 computations run at once. Each takes
// 19 MiB and a core for tens of milliseconds; a burst of sign-in attempts
// then waits in line instead of exhausting memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

func argonKey(pw, salt []byte, p argonParams) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, p.time, p.memory, p.threads, p.keyLen)
}

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	keyLen  uint32
}

var current = argonParams{memory: argonMemoryKiB, time: argonTime, threads: argonThreads, keyLen: argonKeyLen}

// HashPassword returns pw hashed with argon2id and a fresh salt, in the PHC
// string format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, both
// unpadded standard base64.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argonKey([]byte(pw), salt, current)
	return encodeHash(current, salt, key), nil
}

func encodeHash(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// parseHash reads a PHC argon2id string. It refuses parameters outside
// sane bounds rather than spending whatever a stored string asks for.
func parseHash(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, errors.New("password hash is not in PHC format ($argon2id$v=…$m=…,t=…,p=…$salt$hash)")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("password hash uses %q; only argon2id is supported", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("password hash has argon2 version %q; only v=%d is supported", parts[2], argon2.Version)
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return p, nil, nil, fmt.Errorf("password hash parameters %q are malformed", parts[3])
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, fmt.Errorf("password hash parameter %s=%q is not a number", k, v)
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("password hash parameter p=%d is out of range", n)
			}
			p.threads = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("password hash has unknown parameter %q", k)
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] {
		return p, nil, nil, fmt.Errorf("password hash parameters %q lack one of m, t, p", parts[3])
	}
	if p.time < 1 || p.time > maxTime || p.threads < 1 || p.threads > maxThreads ||
		p.memory < 8*uint32(p.threads) || p.memory > maxMemoryKiB {
		return p, nil, nil, fmt.Errorf("password hash parameters %q are out of range", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen {
		return p, nil, nil, errors.New("password hash has a malformed salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, errors.New("password hash has a malformed key")
	}
	p.keyLen = uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword reports whether pw matches encoded, comparing in constant
// time with the parameters encoded carries. An error means encoded itself is
// unusable (a damaged record), not a wrong password.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argonKey([]byte(pw), salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than
// new hashes get (or cannot be read), so the caller should store a fresh
// HashPassword of the password it has just verified.
func NeedsRehash(encoded string) bool {
	p, salt, _, err := parseHash(encoded)
	return err != nil || p != current || len(salt) != argonSaltLen
}

// dummySalt is fixed: DummyVerify's result is thrown away, only its cost
// matters.
var dummySalt = make([]byte, argonSaltLen)

// DummyVerify spends what VerifyPassword spends on a current hash, for
// sign-ins naming no (usable) user, so response times do not tell which
// usernames exist.
func DummyVerify(pw string) {
	got := argonKey([]byte(pw), dummySalt, current)
	var want [argonKeyLen]byte
	subtle.ConstantTimeCompare(got, want[:])
}
