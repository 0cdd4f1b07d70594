package pairing

import (
	"sync"
	"time"
)

// Limiter counts events (wrong codes, code requests) per client and in
// total, each in a fixed window opened by its first event; a key that
// reached its limit waits until its window ends. The window is not
// extended by attempts while waiting, so Retry-After is the truth.
//
// Adopting needs a signed-in person with the fleet.write role, so the
// global limit, which anyone who reaches it can trip for everyone, is in
// the hands of staff only; it caps what a stolen session can guess.
type Limiter struct {
	perKey, global    int // 0: no global limit
	keyWin, globalWin time.Duration
	maxKeys           int
	now               func() time.Time

	mu   sync.Mutex
	keys map[string]*window
	all  window
}

type window struct {
	start time.Time
	n     int
}

// wait is how long w still refuses at now, given limit and its length.
func (w *window) wait(now time.Time, limit int, length time.Duration) (time.Duration, bool) {
	if w.start.IsZero() || w.n < limit {
		return 0, false
	}
	end := w.start.Add(length)
	if !now.Before(end) {
		return 0, false
	}
	return end.Sub(now), true
}

func (w *window) hit(now time.Time, length time.Duration) {
	if w.start.IsZero() || !now.Before(w.start.Add(length)) {
		w.start, w.n = now, 0
	}
	w.n++
}

// NewLimiter allows perKey events per key in keyWin and global events in
// total in globalWin (global 0: no total limit), remembering at most
// maxKeys keys.
func NewLimiter(perKey int, keyWin time.Duration, global int, globalWin time.Duration, maxKeys int, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{
		perKey: perKey, keyWin: keyWin, global: global, globalWin: globalWin,
		maxKeys: max(maxKeys, 1), now: now, keys: map[string]*window{},
	}
}

// GuessLimiter is the limiter for wrong codes that o describes.
func GuessLimiter(o Options) *Limiter {
	o = o.WithDefaults()
	return NewLimiter(o.GuessesPerClient, o.GuessWindow, o.GuessesGlobal, o.GlobalWindow, o.MaxClients, o.Now)
}

// StartLimiter is the limiter for code requests that o describes.
func StartLimiter(o Options) *Limiter {
	o = o.WithDefaults()
	return NewLimiter(o.StartsPerClient, o.StartWindow, 0, 0, o.MaxClients, o.Now)
}

// Wait reports whether key (or everyone) must wait, and how long.
func (l *Limiter) Wait(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var d time.Duration
	blocked := false
	if l.global > 0 {
		d, blocked = l.all.wait(now, l.global, l.globalWin)
	}
	if w := l.keys[key]; w != nil {
		if dk, ok := w.wait(now, l.perKey, l.keyWin); ok {
			d, blocked = max(d, dk), true
		}
	}
	return d, blocked
}

// Hit counts one event for key.
func (l *Limiter) Hit(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.global > 0 {
		l.all.hit(now, l.globalWin)
	}
	w := l.keys[key]
	if w == nil {
		if len(l.keys) >= l.maxKeys {
			l.sweep(now)
		}
		if len(l.keys) >= l.maxKeys {
			// Still full: forget some key. Someone with more addresses
			// than the table holds is bounded by the global limit.
			for k := range l.keys {
				delete(l.keys, k)
				break
			}
		}
		w = &window{}
		l.keys[key] = w
	}
	w.hit(now, l.keyWin)
}

// sweep forgets keys whose window has ended. l.mu must be held.
func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.keys {
		if !now.Before(w.start.Add(l.keyWin)) {
			delete(l.keys, k)
		}
	}
}

// Keys is how many keys the limiter remembers.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
