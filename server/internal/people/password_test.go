package people

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, pw, user string
		want           string // substring of the error; "" means accepted
	}{
		{"long enough", "correct horse battery", "alice", ""},
		{"exactly 12", "tR4!vq9#Lm2x", "alice", ""},
		{"no username given", "tR4!vq9#Lm2x", "", ""},
		{"short", "Tr0ub4dor&3", "alice", "password is 11 characters; at least 12 are required"},
		{"empty", "", "alice", "password is 0 characters; at least 12 are required"},
		// 12 characters but 36 bytes: length counts characters, not bytes.
		{"cjk counted in runes", "我的密码是很长的一句话啊", "alice", ""},
		{"cjk too short", "我的密码太短了", "alice", "password is 7 characters; at least 12 are required"},
		{"too long", strings.Repeat("ab", 129), "alice", "password is 258 characters; at most 256 are allowed"},
		{"at the maximum", strings.Repeat("ab", 128), "alice", ""},
		{"equals username", "Administrator7", "administrator7", "must not contain the username"},
		{"contains username any case", "xx-ALICE-2024-yy", "alice", "must not contain the username"},
		{"one character", "aaaaaaaaaaaaaa", "alice", "must not be one character repeated"},
		{"one cjk character", "好好好好好好好好好好好好", "alice", "must not be one character repeated"},
		{"common", "Password1234", "alice", "most commonly used"},
		{"common sequence", "123456789012", "alice", "most commonly used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw, tt.user)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q): got %v, want nil", tt.pw, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckPassword(%q): got %v, want an error containing %q", tt.pw, err, tt.want)
			}
			if !errors.Is(err, ErrWeakPassword) {
				t.Errorf("errors.Is(%v, ErrWeakPassword) = false, want true", err)
			}
			if msg := err.Error(); msg[0] < 'a' || msg[0] > 'z' {
				t.Errorf("error %q should start lower-case", msg)
			}
		})
	}
}

func TestHashAndVerify(t *testing.T) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want the PHC prefix $argon2id$v=19$m=19456,t=2,p=1$", enc)
	}
	parts := strings.Split(enc, "$")
	if len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Errorf("hash %q: want 16-byte salt and 32-byte key in unpadded base64 (22 and 43 chars)", enc)
	}
	if ok, err := VerifyPassword(enc, "correct horse battery"); !ok || err != nil {
		t.Errorf("verify right password: got %v, %v; want true, nil", ok, err)
	}
	if ok, err := VerifyPassword(enc, "correct horse batterY"); ok || err != nil {
		t.Errorf("verify wrong password: got %v, %v; want false, nil", ok, err)
	}
	again, _ := HashPassword("correct horse battery")
	if again == enc {
		t.Error("two hashes of one password are equal; want a fresh salt each time")
	}
	if NeedsRehash(enc) {
		t.Errorf("NeedsRehash(%q) = true for a current hash", enc)
	}
}

// A hash made with other parameters (say, before they were raised) still
// verifies, with its own parameters, and asks to be rehashed.
func TestVerifyOtherParams(t *testing.T) {
	p := argonParams{memory: 8 * 1024, time: 1, threads: 2, keyLen: 32}
	salt := []byte("0123456789abcdef")
	enc := encodeHash(p, salt, argonKey([]byte("old but gold pw"), salt, p))
	if ok, err := VerifyPassword(enc, "old but gold pw"); !ok || err != nil {
		t.Errorf("verify with m=8192,t=1,p=2: got %v, %v; want true, nil", ok, err)
	}
	if !NeedsRehash(enc) {
		t.Errorf("NeedsRehash(%q) = false; want true for older parameters", enc)
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashPassword("correct horse battery")
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	for _, enc := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1,x=3$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,m=1,t=2,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=99999999,t=2,p=1$" + salt + "$" + key, // 95 GiB: refused, not attempted
		"$argon2id$v=19$m=19456,t=100000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$!!$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
	} {
		ok, err := VerifyPassword(enc, "correct horse battery")
		if ok || err == nil {
			t.Errorf("VerifyPassword(%q): got %v, %v; want false and an error", enc, ok, err)
		}
		if !NeedsRehash(enc) {
			t.Errorf("NeedsRehash(%q) = false; want true for an unreadable hash", enc)
		}
	}
}

// BenchmarkVerifyPassword is the cost of one sign-in's password check
// (docs/BENCHMARKS.md): argon2id at the current parameters.
func BenchmarkVerifyPassword(b *testing.B) {
	enc, err := HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := VerifyPassword(enc, "correct horse battery"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
