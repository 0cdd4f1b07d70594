package pairing

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kiosk/playlists"
)

// fakeServer is the pairing part of a server: codes that expire after ttl,
// a poll that checks the signature and the signed time, and adopt.
type fakeServer struct {
	t   *testing.T
	ttl time.Duration

	mu      sync.Mutex
	n       int
	key     ed25519.PublicKey
	poll    string
	expires time.Time
	adopted bool
	starts  int
	polls   int
	down    int // answer this many requests with 503 first
	skewed  int // polls refused for their time
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down > 0 {
		f.down--
		http.Error(w, `{"error":"down"}`, http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == playlists.PathDevicePair:
		var req playlists.PairStart
		json.NewDecoder(r.Body).Decode(&req)
		key, err := playlists.DecodeKey(req.PublicKey)
		if err != nil {
			http.Error(w, `{"error":"bad key"}`, http.StatusBadRequest)
			return
		}
		f.starts++
		f.n++
		f.key, f.poll, f.expires, f.adopted = key, fmt.Sprintf("poll-%d", f.n), time.Now().Add(f.ttl), false
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(playlists.PairTicket{Code: fmt.Sprintf("CODE%04d", f.n), Poll: f.poll, ExpiresAt: f.expires, PollEveryS: 1})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, playlists.PathDevicePair+"/"):
		f.polls++
		poll := strings.TrimPrefix(r.URL.Path, playlists.PathDevicePair+"/")
		if poll != f.poll || time.Now().After(f.expires) {
			http.Error(w, `{"error":"gone"}`, http.StatusGone)
			return
		}
		ts, _ := strconv.ParseInt(r.Header.Get(playlists.HeaderPairTime), 10, 64)
		sig, _ := base64.StdEncoding.DecodeString(r.Header.Get(playlists.HeaderPairSignature))
		if d := time.Since(time.Unix(ts, 0)); d > time.Minute || d < -time.Minute {
			f.skewed++
			http.Error(w, `{"error":"skew"}`, http.StatusUnauthorized)
			return
		}
		if !ed25519.Verify(f.key, playlists.PairProofMessage(poll, ts), sig) {
			f.t.Errorf("poll signature does not verify")
			http.Error(w, `{"error":"proof"}`, http.StatusUnauthorized)
			return
		}
		if !f.adopted {
			w.WriteHeader(http.StatusAccepted)
			json.NewEncoder(w).Encode(playlists.PairPending{State: playlists.PairStatePending})
			return
		}
		json.NewEncoder(w).Encode(playlists.PairAdopted{ScreenID: "scr_1", ScreenName: "大厅", Token: "kdt_tok", ServerKey: "c2Vy"})
		f.poll = ""
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeServer) adopt() {
	f.mu.Lock()
	f.adopted = true
	f.mu.Unlock()
}

func (f *fakeServer) stats() (starts, polls, skewed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts, f.polls, f.skewed
}

func testKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// run starts Run and returns the codes it shows and its outcome.
func run(t *testing.T, f *fakeServer, now func() time.Time) (codes chan Code, done chan error, result *playlists.PairAdopted, cancel context.CancelFunc) {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	codes = make(chan Code, 16)
	done = make(chan error, 1)
	result = new(playlists.PairAdopted)
	go func() {
		a, err := Run(ctx, Config{
			Server: srv.URL + "/", Key: testKey(t), OnCode: func(c Code) { codes <- c },
			PollEvery: 50 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, Now: now,
		})
		*result = a
		done <- err
	}()
	return codes, done, result, cancel
}

func nextCode(t *testing.T, codes chan Code) Code {
	t.Helper()
	select {
	case c := <-codes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no code shown within 10 s")
	}
	return Code{}
}

func TestPairsAfterAdoption(t *testing.T) {
	// The screen's own clock is decades off (no RTC battery): the signed
	// time comes from the server's Date header.
	f := &fakeServer{t: t, ttl: time.Minute, down: 2}
	codes, done, result, _ := run(t, f, func() time.Time { return time.Now().Add(-30 * 365 * 24 * time.Hour) })
	c := nextCode(t, codes)
	if c.Code != "CODE0001" || c.ExpiresAt.IsZero() {
		t.Fatalf("code: got %+v, want the server's", c)
	}
	time.Sleep(200 * time.Millisecond) // a few pending polls
	f.adopt()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not paired within 10 s of adoption")
	}
	if result.Token != "kdt_tok" || result.ScreenID != "scr_1" || result.ServerKey != "c2Vy" {
		t.Errorf("credential: got %+v", result)
	}
	if _, polls, skewed := f.stats(); polls < 2 || skewed != 0 {
		t.Errorf("polls: got %d (%d refused for their time), want several, none refused", polls, skewed)
	}
}

func TestNewCodeWhenExpired(t *testing.T) {
	f := &fakeServer{t: t, ttl: 300 * time.Millisecond}
	codes, done, _, cancel := run(t, f, nil)
	first := nextCode(t, codes)
	// The expired code is taken down, then a new one goes up.
	if c := nextCode(t, codes); c.Code != "" {
		t.Fatalf("after expiry: got %+v, want the zero Code first", c)
	}
	second := nextCode(t, codes)
	if second.Code == first.Code || second.Code == "" {
		t.Errorf("codes: got %q then %q, want a new one", first.Code, second.Code)
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("Run returned nil after its context ended, want the context's error")
	}
}
