// Package pairing owns pending pairing requests: a player without a device
// token asks for a code, shows it on its screen, and polls with a secret
// poll id until a technician adopts the code. The table lives in memory
// only (a code outlives no restart, and players simply ask again), is
// bounded, and hands each adoption out exactly once.
//
// A code grants nothing by itself: knowing it (it is on a public screen)
// lets a signed-in person with the right role bind the device to a screen.
// The device credential goes only to the poller holding the poll id and
// the private key it sent. Guessing codes is throttled (Limiter).
package pairing

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"kiosk/playlists"
)

// Alphabet holds the characters codes are made of: upper-case letters and
// digits without the look-alikes a technician misreads from three metres
// or mistypes: no 0, O, 1 or I at all, and of the pairs 2/Z, 5/S, 8/B and
// U/V only the letter Z, S, B and U (Normalize maps the others to them).
// 28 symbols, 8 of them: about 38 bits.
const Alphabet = "ABCDEFGHJKLMNPQRSTUWXYZ34679"

// CodeLen is the length of a code; it shows as two groups of four.
const CodeLen = 8

// Defaults for Options fields left zero.
const (
	DefaultTTL        = 10 * time.Minute
	DefaultMaxPending = 5000 // about 1 MB
	// DefaultPendingPerClient bounds the codes one client (address, or
	// IPv6 /48) holds at once, so filling the table takes hundreds of
	// addresses rather than a handful.
	DefaultPendingPerClient = 10
	DefaultPollEvery        = 3 * time.Second

	// DefaultGuessesPerClient wrong codes from one client address within
	// DefaultGuessWindow, or DefaultGuessesGlobal from everyone within
	// DefaultGlobalWindow, make further adoptions wait (429).
	DefaultGuessesPerClient = 10
	DefaultGuessWindow      = 10 * time.Minute
	DefaultGuessesGlobal    = 200
	DefaultGlobalWindow     = time.Hour
	// DefaultStartsPerClient code requests from one address within
	// DefaultStartWindow: a compound's screens behind one NAT all fit.
	DefaultStartsPerClient = 60
	DefaultStartWindow     = 10 * time.Minute
	// DefaultMaxClients bounds each limiter's per-address table.
	DefaultMaxClients = 10_000
)

// Errors the API maps to statuses.
var (
	// ErrUnknown: no pending request has this code, or it expired, or it
	// was adopted already. Callers do not tell these apart, so a guesser
	// learns nothing.
	ErrUnknown = errors.New("pairing code unknown or expired")
	// ErrFull: too many requests are pending; the device retries later.
	ErrFull = errors.New("too many pending pairing requests")
	// ErrBadKey: the device's public key is not a base64 Ed25519 key.
	ErrBadKey = errors.New("public_key is not a base64 Ed25519 public key")
)

// Options configures a Table and the API's limiters.
type Options struct {
	TTL        time.Duration // how long a code is valid; DefaultTTL
	MaxPending int           // bound on the table; DefaultMaxPending
	// PendingPerClient bounds one client's pending codes; DefaultPendingPerClient.
	PendingPerClient int
	PollEvery        time.Duration // what devices are told; DefaultPollEvery

	GuessesPerClient int
	GuessWindow      time.Duration
	GuessesGlobal    int
	GlobalWindow     time.Duration
	StartsPerClient  int
	StartWindow      time.Duration
	MaxClients       int

	// Now is real time (expiry, throttles), time.Now by default; tests
	// move it.
	Now func() time.Time
}

// WithDefaults fills zero fields.
func (o Options) WithDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&o.TTL, DefaultTTL)
	def(&o.MaxPending, DefaultMaxPending)
	def(&o.PendingPerClient, DefaultPendingPerClient)
	defD(&o.PollEvery, DefaultPollEvery)
	def(&o.GuessesPerClient, DefaultGuessesPerClient)
	defD(&o.GuessWindow, DefaultGuessWindow)
	def(&o.GuessesGlobal, DefaultGuessesGlobal)
	defD(&o.GlobalWindow, DefaultGlobalWindow)
	def(&o.StartsPerClient, DefaultStartsPerClient)
	defD(&o.StartWindow, DefaultStartWindow)
	def(&o.MaxClients, DefaultMaxClients)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Device is what a pending request knows of the player that made it.
type Device struct {
	Key       ed25519.PublicKey
	KeyID     string // playlists.KeyID of Key
	CreatedAt time.Time
}

// Adoption is what the device receives on its next poll.
type Adoption = playlists.PairAdopted

// Ticket is what the device is told when it asks for a code.
type Ticket struct {
	Code      string
	Poll      string
	ExpiresAt time.Time
}

// Status is where a poll stands.
type Status int

const (
	Pending Status = iota // not adopted yet
	Adopted               // adopted: this poll carries the credential
	Gone                  // expired, delivered already, replaced or never known
)

type request struct {
	client  string // who asked, for the per-client bound
	code    string
	poll    string
	dev     Device
	expires time.Time
	adopted *Adoption
}

// Table holds the pending requests. It is safe for concurrent use.
type Table struct {
	opts Options

	mu     sync.Mutex
	byCode map[string]*request
	byPoll map[string]*request
	byKey  map[string]*request // one request per device key
}

// New returns an empty table.
func New(opts Options) *Table {
	return &Table{
		opts:   opts.WithDefaults(),
		byCode: map[string]*request{},
		byPoll: map[string]*request{},
		byKey:  map[string]*request{},
	}
}

// PollEvery is how often devices should poll.
func (t *Table) PollEvery() time.Duration { return t.opts.PollEvery }

// Len is how many requests the table holds.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byCode)
}

// Start records a new request for the device holding key (base64) and
// returns its code. A device asking again (it restarted, or its code
// expired) replaces its earlier request, so one device holds one entry.
func (t *Table) Start(key string) (Ticket, error) { return t.StartFor(key, "") }

// ErrClientFull refuses a client already holding its share of codes.
var ErrClientFull = errors.New("this client already has the most pending pairing codes allowed")

// StartFor is Start for a request from client (its address; "" counts
// for nobody): one client holds at most PendingPerClient pending codes.
func (t *Table) StartFor(key, client string) (Ticket, error) {
	pub, err := playlists.DecodeKey(key)
	if err != nil {
		return Ticket{}, ErrBadKey
	}
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.byKey[string(pub)]; old != nil && old.adopted == nil {
		t.remove(old)
	}
	if len(t.byCode) >= t.opts.MaxPending {
		t.sweep(now)
		if len(t.byCode) >= t.opts.MaxPending {
			return Ticket{}, ErrFull
		}
	}
	if client != "" {
		n := 0
		for _, r := range t.byCode {
			if r.client == client && r.adopted == nil && now.Before(r.expires) {
				n++
			}
		}
		if n >= t.opts.PendingPerClient {
			return Ticket{}, ErrClientFull
		}
	}
	r := &request{
		client:  client,
		poll:    randomID(),
		dev:     Device{Key: pub, KeyID: playlists.KeyID(pub), CreatedAt: now},
		expires: now.Add(t.opts.TTL),
	}
	for {
		r.code = NewCode()
		if t.byCode[r.code] == nil {
			break
		}
	}
	t.byCode[r.code] = r
	t.byPoll[r.poll] = r
	t.byKey[string(pub)] = r
	return Ticket{Code: r.code, Poll: r.poll, ExpiresAt: r.expires}, nil
}

// Adopt binds the pending request with code to a screen: do creates or
// re-pairs the screen for the device and returns what the device gets.
// do runs under the table's lock, so a code is adopted at most once and
// a concurrent Start cannot replace the request halfway; an error from do
// leaves the request pending. Unknown, expired and adopted codes are all
// ErrUnknown.
func (t *Table) Adopt(code string, do func(Device) (Adoption, error)) (Adoption, error) {
	code, ok := Normalize(code)
	if !ok {
		return Adoption{}, ErrUnknown
	}
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.byCode[code]
	if r == nil || r.adopted != nil {
		return Adoption{}, ErrUnknown
	}
	if !now.Before(r.expires) {
		t.remove(r)
		return Adoption{}, ErrUnknown
	}
	a, err := do(r.dev)
	if err != nil {
		return Adoption{}, err
	}
	r.adopted = &a
	// A code adopted in its last second still gives the device a full
	// period to collect the credential.
	r.expires = now.Add(t.opts.TTL)
	return a, nil
}

// Poll answers the device polling with poll. verify checks the device's
// proof of possession of its key; its error is returned as is, and the
// request stays. An adoption is handed out once and then forgotten.
func (t *Table) Poll(poll string, verify func(ed25519.PublicKey) error) (Status, Adoption, error) {
	now := t.opts.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.byPoll[poll]
	if r == nil {
		return Gone, Adoption{}, nil
	}
	if !now.Before(r.expires) {
		t.remove(r)
		return Gone, Adoption{}, nil
	}
	if err := verify(r.dev.Key); err != nil {
		return Pending, Adoption{}, err
	}
	if r.adopted == nil {
		return Pending, Adoption{}, nil
	}
	t.remove(r)
	return Adopted, *r.adopted, nil
}

// remove drops r from every index. t.mu must be held.
func (t *Table) remove(r *request) {
	delete(t.byCode, r.code)
	delete(t.byPoll, r.poll)
	if t.byKey[string(r.dev.Key)] == r {
		delete(t.byKey, string(r.dev.Key))
	}
}

// sweep drops expired requests. t.mu must be held.
func (t *Table) sweep(now time.Time) {
	for _, r := range t.byCode {
		if !now.Before(r.expires) {
			t.remove(r)
		}
	}
}

// NewCode returns a random code of CodeLen characters from Alphabet.
func NewCode() string {
	var b strings.Builder
	buf := make([]byte, 2*CodeLen)
	for b.Len() < CodeLen {
		if _, err := rand.Read(buf); err != nil {
			panic(fmt.Sprintf("pairing: random code: %v", err))
		}
		for _, c := range buf {
			// Rejection sampling keeps every symbol equally likely.
			if int(c) >= 256/len(Alphabet)*len(Alphabet) {
				continue
			}
			b.WriteByte(Alphabet[int(c)%len(Alphabet)])
			if b.Len() == CodeLen {
				break
			}
		}
	}
	return b.String()
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("pairing: random poll id: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// lookAlikes maps what a technician may type for a symbol the alphabet
// left out to the one it kept.
var lookAlikes = map[rune]rune{'8': 'B', '5': 'S', '2': 'Z', 'V': 'U'}

// Normalize turns what a technician typed into a code: case, spaces and
// dashes do not matter, and a left-out look-alike (8, 5, 2, V) reads as
// the symbol it resembles. ok is false when the result cannot be a code.
func Normalize(s string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t' || r == '\u3000':
			continue
		case lookAlikes[r] != 0:
			r = lookAlikes[r]
		}
		if !strings.ContainsRune(Alphabet, r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != CodeLen {
		return "", false
	}
	return b.String(), true
}

// Format shows a code as two groups of four, as screens display it.
func Format(code string) string {
	if len(code) != CodeLen {
		return code
	}
	return code[:4] + " " + code[4:]
}
