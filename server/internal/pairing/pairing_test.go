package pairing

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newKey(t *testing.T) (string, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return playlists.EncodeKey(pub), priv
}

func accept(ed25519.PublicKey) error { return nil }

func adoptAs(id string) func(Device) (Adoption, error) {
	return func(Device) (Adoption, error) { return Adoption{ScreenID: id, Token: "tok-" + id}, nil }
}

func TestAlphabet(t *testing.T) {
	for _, bad := range "0O1I258V" {
		if strings.ContainsRune(Alphabet, bad) {
			t.Errorf("alphabet holds the look-alike %q", bad)
		}
	}
	seen := map[rune]bool{}
	for _, r := range Alphabet {
		if seen[r] {
			t.Errorf("alphabet repeats %q", r)
		}
		seen[r] = true
	}
	counts := map[rune]int{}
	for range 2000 {
		c := NewCode()
		if len(c) != CodeLen {
			t.Fatalf("code %q: got length %d, want %d", c, len(c), CodeLen)
		}
		for _, r := range c {
			if !strings.ContainsRune(Alphabet, r) {
				t.Fatalf("code %q holds %q, outside the alphabet", c, r)
			}
			counts[r]++
		}
	}
	// 16000 symbols over 28: about 571 each; a symbol never drawn or
	// drawn twice as often means the sampling is broken.
	for _, r := range Alphabet {
		if n := counts[r]; n < 350 || n > 800 {
			t.Errorf("symbol %q drawn %d times in 16000, want about 571", r, n)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"ABCD EFGH", "ABCDEFGH", true},
		{"abcd-efgh", "ABCDEFGH", true},
		{" AB CD EF GH ", "ABCDEFGH", true},
		{"8CD5-2XYV", "BCDSZXYU", true}, // look-alikes typed for kept symbols
		{"ABCD0EFG", "", false},         // 0 is never in a code
		{"ABCDEFG", "", false},
		{"ABCDEFGHJ", "", false},
		{"ABCD\u3000EFGH", "ABCDEFGH", true}, // an ideographic space from a Chinese IME
		{"", "", false},
	} {
		got, ok := Normalize(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Normalize(%q): got %q %v, want %q %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if got := Format("ABCDEFGH"); got != "ABCD EFGH" {
		t.Errorf("Format: got %q, want %q", got, "ABCD EFGH")
	}
}

func TestAdoptOnceAndPollOnce(t *testing.T) {
	clk := newClock()
	tab := New(Options{Now: clk.now})
	key, _ := newKey(t)
	tk, err := tab.Start(key)
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.now().Add(DefaultTTL); !tk.ExpiresAt.Equal(want) {
		t.Errorf("expires: got %v, want %v", tk.ExpiresAt, want)
	}
	// Before adoption the poll says pending and grants nothing.
	if st, a, err := tab.Poll(tk.Poll, accept); st != Pending || a.Token != "" || err != nil {
		t.Fatalf("poll before adoption: got %v %+v %v, want pending and nothing", st, a, err)
	}
	// The code as a technician types it, grouped and in lower case.
	if _, err := tab.Adopt(strings.ToLower(Format(tk.Code)), adoptAs("scr_1")); err != nil {
		t.Fatalf("adopt: %v", err)
	}
	if _, err := tab.Adopt(tk.Code, adoptAs("scr_2")); !errors.Is(err, ErrUnknown) {
		t.Errorf("second adoption of one code: got %v, want ErrUnknown", err)
	}
	st, a, err := tab.Poll(tk.Poll, accept)
	if st != Adopted || a.ScreenID != "scr_1" || a.Token != "tok-scr_1" || err != nil {
		t.Fatalf("poll after adoption: got %v %+v %v, want the adoption", st, a, err)
	}
	if st, a, _ := tab.Poll(tk.Poll, accept); st != Gone || a.Token != "" {
		t.Errorf("second poll after adoption: got %v %+v, want gone", st, a)
	}
	if tab.Len() != 0 {
		t.Errorf("table after delivery: got %d entries, want 0", tab.Len())
	}
}

func TestProofRequired(t *testing.T) {
	tab := New(Options{})
	key, _ := newKey(t)
	tk, _ := tab.Start(key)
	tab.Adopt(tk.Code, adoptAs("scr_1"))
	bad := errors.New("bad proof")
	if st, a, err := tab.Poll(tk.Poll, func(ed25519.PublicKey) error { return bad }); err != bad || a.Token != "" {
		t.Fatalf("poll with a bad proof: got %v %+v %v, want the verifier's error and nothing", st, a, err)
	}
	// The refused poll did not use the adoption up.
	if st, _, _ := tab.Poll(tk.Poll, accept); st != Adopted {
		t.Errorf("poll with a good proof after a bad one: got %v, want adopted", st)
	}
}

func TestExpiry(t *testing.T) {
	clk := newClock()
	tab := New(Options{Now: clk.now, TTL: time.Minute})
	key, _ := newKey(t)
	tk, _ := tab.Start(key)
	clk.add(time.Minute)
	if _, err := tab.Adopt(tk.Code, adoptAs("scr_1")); !errors.Is(err, ErrUnknown) {
		t.Errorf("adopt an expired code: got %v, want ErrUnknown", err)
	}
	if st, _, _ := tab.Poll(tk.Poll, accept); st != Gone {
		t.Errorf("poll an expired code: got %v, want gone", st)
	}

	// Adopted in its last second, the device still has a full period.
	tk, _ = tab.Start(key)
	clk.add(59 * time.Second)
	if _, err := tab.Adopt(tk.Code, adoptAs("scr_1")); err != nil {
		t.Fatal(err)
	}
	clk.add(50 * time.Second)
	if st, _, _ := tab.Poll(tk.Poll, accept); st != Adopted {
		t.Errorf("poll 50 s after a last-second adoption: got %v, want adopted", st)
	}
}

func TestFailedAdoptionKeepsCode(t *testing.T) {
	tab := New(Options{})
	key, _ := newKey(t)
	tk, _ := tab.Start(key)
	bad := errors.New("name: is required")
	if _, err := tab.Adopt(tk.Code, func(Device) (Adoption, error) { return Adoption{}, bad }); err != bad {
		t.Fatalf("adopt with a failing step: got %v, want its error", err)
	}
	if _, err := tab.Adopt(tk.Code, adoptAs("scr_1")); err != nil {
		t.Errorf("adopt after a failed attempt: %v", err)
	}
}

func TestStartReplacesSameDevice(t *testing.T) {
	tab := New(Options{})
	key, _ := newKey(t)
	first, _ := tab.Start(key)
	second, _ := tab.Start(key)
	if tab.Len() != 1 {
		t.Errorf("one device asking twice: got %d entries, want 1", tab.Len())
	}
	if _, err := tab.Adopt(first.Code, adoptAs("x")); !errors.Is(err, ErrUnknown) {
		t.Errorf("adopt the replaced code: got %v, want ErrUnknown", err)
	}
	if _, err := tab.Adopt(second.Code, adoptAs("x")); err != nil {
		t.Errorf("adopt the new code: %v", err)
	}
	if _, err := tab.Start("not a key"); !errors.Is(err, ErrBadKey) {
		t.Errorf("start with a bad key: got %v, want ErrBadKey", err)
	}
}

func TestBoundedTable(t *testing.T) {
	clk := newClock()
	tab := New(Options{Now: clk.now, MaxPending: 3, TTL: time.Minute})
	for range 3 {
		k, _ := newKey(t)
		if _, err := tab.Start(k); err != nil {
			t.Fatal(err)
		}
	}
	k, _ := newKey(t)
	if _, err := tab.Start(k); !errors.Is(err, ErrFull) {
		t.Fatalf("start on a full table: got %v, want ErrFull", err)
	}
	// Expired entries make room.
	clk.add(time.Minute)
	if _, err := tab.Start(k); err != nil {
		t.Errorf("start once the others expired: %v", err)
	}
	if tab.Len() != 1 {
		t.Errorf("table after the sweep: got %d, want 1", tab.Len())
	}
}

func TestLimiter(t *testing.T) {
	clk := newClock()
	l := NewLimiter(3, 10*time.Minute, 5, time.Hour, 100, clk.now)
	for range 3 {
		if _, blocked := l.Wait("a"); blocked {
			t.Fatal("blocked before the limit")
		}
		l.Hit("a")
	}
	wait, blocked := l.Wait("a")
	if !blocked || wait != 10*time.Minute {
		t.Fatalf("after 3 hits: got %v %v, want blocked for 10m", wait, blocked)
	}
	if _, blocked := l.Wait("b"); blocked {
		t.Error("another client is blocked by a's guesses")
	}
	// Attempts while blocked do not extend the wait.
	clk.add(9 * time.Minute)
	if wait, _ := l.Wait("a"); wait != time.Minute {
		t.Errorf("after 9 more minutes: got %v, want 1m", wait)
	}
	clk.add(time.Minute)
	if _, blocked := l.Wait("a"); blocked {
		t.Error("still blocked after the window")
	}
	// The global limit: a and b have made 3 + 2 = 5 within the hour.
	l.Hit("b")
	l.Hit("b")
	if wait, blocked := l.Wait("c"); !blocked || wait != 50*time.Minute {
		t.Errorf("a fresh client after 5 guesses in all: got %v %v, want blocked for 50m", wait, blocked)
	}
}

func TestLimiterBounded(t *testing.T) {
	clk := newClock()
	l := NewLimiter(3, time.Minute, 0, 0, 10, clk.now)
	for i := range 50 {
		l.Hit(string(rune('A' + i)))
	}
	if n := l.Keys(); n > 10 {
		t.Errorf("keys after 50 clients: got %d, want at most 10", n)
	}
	clk.add(time.Minute)
	l.Hit("new")
	if n := l.Keys(); n != 1 {
		t.Errorf("keys once the old windows ended: got %d, want 1", n)
	}
}

func TestGuessLimiterDefaults(t *testing.T) {
	clk := newClock()
	l := GuessLimiter(Options{Now: clk.now})
	for range DefaultGuessesPerClient {
		l.Hit("10.0.0.1")
	}
	if wait, blocked := l.Wait("10.0.0.1"); !blocked || wait != DefaultGuessWindow {
		t.Errorf("after %d wrong codes: got %v %v, want blocked for %v", DefaultGuessesPerClient, wait, blocked, DefaultGuessWindow)
	}
}
