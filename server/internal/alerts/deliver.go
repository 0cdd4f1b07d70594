package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"kiosk/server/internal/store"
)

// Webhook request headers.
const (
	HeaderSignature = "X-Kiosk-Signature" // "sha256=" + hex HMAC-SHA256(secret, body)
	HeaderEventID   = "X-Kiosk-Event-Id"  // the alert id: the same on every retry, so receivers can dedupe
	HeaderAttempt   = "X-Kiosk-Delivery-Attempt"
)

// Retry defaults: 6 attempts spaced 1 s, 2 s, 4 s, 8 s, 16 s apart (each
// with up to 20 % jitter, so many alerts to one receiver do not retry in
// lockstep), never more than a minute.
const (
	DefaultAttempts     = 6
	DefaultRetryBase    = time.Second
	DefaultRetryMax     = time.Minute
	DefaultTimeout      = 10 * time.Second
	maxConcurrentPosts  = 4
	maxReceiverBodyRead = 64 << 10
)

// Retry bounds a webhook delivery's attempts.
type Retry struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.Base <= 0 {
		r.Base = DefaultRetryBase
	}
	if r.Max <= 0 {
		r.Max = DefaultRetryMax
	}
	return r
}

// Backoff is the wait after failed attempt n (1-based), without jitter.
func (r Retry) Backoff(n int) time.Duration {
	d := r.Base
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	return min(d, r.Max)
}

// Sign returns the X-Kiosk-Signature value for body: "sha256=" and the hex
// HMAC-SHA256 of the exact body bytes keyed by the webhook's secret.
// Receivers recompute it and compare with hmac.Equal.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, in constant time.
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Event is the JSON body of a webhook POST.
type Event struct {
	ID        string              `json:"id"`
	Kind      string              `json:"kind"`
	Grouped   bool                `json:"grouped"`
	Summary   string              `json:"summary"`
	Screens   []store.AlertScreen `json:"screens"`
	CreatedAt time.Time           `json:"created_at"`
}

// EventOf is the webhook body of alert a.
func EventOf(a store.Alert) Event {
	return Event{ID: a.ID, Kind: a.Kind, Grouped: a.Grouped, Summary: a.Summary, Screens: a.Screens, CreatedAt: a.CreatedAt}
}

// newClient refuses redirects: a webhook URL is registered by an admin, and
// following a redirect would let the receiver point the server anywhere.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// deliver sends alert a to hook until it is accepted (2xx) or the attempts
// run out, recording every attempt on the alert. d is the delivery as
// recorded so far: fresh for a new alert, or part-way through its attempts
// when resumed after a restart, in which case it first waits out the
// backoff that was running. It returns when done or when ctx ends (the
// delivery then stays "pending", to be resumed by the next run).
func (e *Engine) deliver(ctx context.Context, a store.Alert, body []byte, hook store.Webhook, d store.Delivery) {
	log := e.opts.Logger.With("alert", a.ID, "webhook", hook.ID)
	d.Webhook, d.URL, d.Status = hook.ID, hook.URL, store.DeliveryPending
	sig := Sign(hook.Secret, body)
	retry := e.opts.Retry
	if d.Attempts >= retry.Attempts {
		// Only possible when the configured attempts were lowered since.
		log.Warn("webhook delivery failed for good: no attempts left after restart", "attempts", d.Attempts)
		d.Status, d.NextTryAt, d.UpdatedAt = store.DeliveryFailed, time.Time{}, e.opts.Now().UTC()
		e.metrics.deliveries.WithLabelValues("failed").Inc()
		if serr := e.opts.Store.SetDelivery(a.Seq, d); serr != nil {
			log.Error("record webhook delivery", "error", serr)
		}
		return
	}
	if wait := e.resumeWait(d); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	for attempt := d.Attempts + 1; attempt <= retry.Attempts; attempt++ {
		code, err := e.post(ctx, hook.URL, body, a.ID, sig, attempt)
		if ctx.Err() != nil {
			return
		}
		now := e.opts.Now().UTC()
		d.Attempts, d.LastCode, d.UpdatedAt, d.NextTryAt = attempt, code, now, time.Time{}
		d.LastError = ""
		if err != nil {
			d.LastError = err.Error()
		}
		var wait time.Duration
		switch {
		case err == nil:
			d.Status, d.DeliveredAt = store.DeliveryDelivered, now
			e.metrics.deliveries.WithLabelValues("delivered").Inc()
		case attempt == retry.Attempts:
			d.Status = store.DeliveryFailed
			e.metrics.deliveries.WithLabelValues("failed").Inc()
			log.Warn("webhook delivery failed for good", "attempts", attempt, "error", err)
		default:
			wait = retry.Backoff(attempt)
			wait += time.Duration(rand.Int64N(int64(wait)/5 + 1))
			d.NextTryAt = now.Add(wait)
			e.metrics.deliveries.WithLabelValues("retry").Inc()
			log.Info("webhook delivery failed, will retry", "attempt", attempt, "in", wait, "error", err)
		}
		if serr := e.opts.Store.SetDelivery(a.Seq, d); serr != nil {
			log.Error("record webhook delivery", "error", serr)
		}
		if d.Status != store.DeliveryPending {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// resumeWait is how long a resumed delivery still waits before its next
// attempt: until the recorded next try, which may have passed while the
// server was down. It is capped at the longest backoff plus jitter, so a
// clock change between runs cannot park a delivery for long.
func (e *Engine) resumeWait(d store.Delivery) time.Duration {
	if d.Attempts == 0 {
		return 0
	}
	next := d.NextTryAt
	if next.IsZero() {
		next = d.UpdatedAt.Add(e.opts.Retry.Backoff(d.Attempts))
	}
	wait := next.Sub(e.opts.Now())
	return max(0, min(wait, e.opts.Retry.Max+e.opts.Retry.Max/5))
}

// post makes one attempt. Any answer but 2xx is a failure worth retrying:
// a receiver that is down often answers 502/503 from its proxy.
func (e *Engine) post(ctx context.Context, url string, body []byte, id, sig string, attempt int) (int, error) {
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-e.sem }()
	return postOnce(ctx, e.opts.Client, url, body, id, sig, attempt)
}

// wanting is the hooks that take alert a: those subscribed to its kind,
// and for a grouped alert of several kinds, to any kind among its screens.
func wanting(hooks []store.Webhook, a store.Alert) []store.Webhook {
	var out []store.Webhook
	for _, h := range hooks {
		ok := h.Wants(a.Kind)
		if !ok && a.Kind == KindMixed {
			for _, s := range a.Screens {
				if h.Wants(kindOf(s.To)) {
					ok = true
					break
				}
			}
		}
		if ok {
			out = append(out, h)
		}
	}
	return out
}

// KindTest is the kind of a test send's event; receivers can ignore it.
const KindTest = "test"

// TestTimeout bounds a test send: an admin waits for its answer.
const TestTimeout = 5 * time.Second

// NewClient is the HTTP client deliveries use: timeout, no redirects.
func NewClient(timeout time.Duration) *http.Client { return newClient(timeout) }

// SendTest posts one signed test event (kind "test", no screens) to hook
// now, synchronously, and reports how it went. It goes only to the URL the
// admin registered, with the same headers and no-redirect client as real
// deliveries, so it proves the receiver verifies and accepts them.
func SendTest(ctx context.Context, client *http.Client, hook store.Webhook, id string, now time.Time) store.WebhookTest {
	ev := Event{ID: id, Kind: KindTest, Summary: "test delivery from Kiosk: no screen changed state",
		Screens: []store.AlertScreen{}, CreatedAt: now.UTC()}
	res := store.WebhookTest{ID: id, At: now.UTC()}
	body, err := json.Marshal(ev)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	start := time.Now()
	code, err := postOnce(ctx, client, hook.URL, body, id, Sign(hook.Secret, body), 1)
	res.DurationMS = time.Since(start).Milliseconds()
	res.Code = code
	res.OK = err == nil
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

func postOnce(ctx context.Context, client *http.Client, url string, body []byte, id, sig string, attempt int) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kiosk-server")
	req.Header.Set(HeaderSignature, sig)
	req.Header.Set(HeaderEventID, id)
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // drop the `Post "url":` prefix, the URL is on the record already
		}
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxReceiverBodyRead))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

func encodeEvent(a store.Alert) ([]byte, error) {
	return json.Marshal(EventOf(a))
}
