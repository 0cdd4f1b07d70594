package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"kiosk/assets"
	"kiosk/player/internal/cache"
	"kiosk/playlists"
)

// errStale means the server already serves another version than the one we
// were asked to fetch. It is not a failure: the notice for that version is
// on its way, and applying a version nobody announced could mean applying an
// older one after a newer.
var errStale = errors.New("server serves a different version than announced")

// want records v as the version this screen should run. A download of any
// other version is cancelled at once so the newest wins, and a pushed
// manifest of another version is dropped.
func (c *Client) want(v string) {
	c.mu.Lock()
	c.wanted = v
	if c.pushed != nil && c.pushed.Version != v {
		c.pushed = nil
	}
	if c.inflight != "" && c.inflight != v && c.inflightCancel != nil {
		c.log.Info("newer version announced during download; switching to it", "abandoned", c.inflight, "version", v)
		c.inflightCancel()
	}
	c.mu.Unlock()
	signal(c.wantSig)
}

// wantPushed records a manifest the server pushed as the version this
// screen should run; update takes it instead of fetching it.
func (c *Client) wantPushed(p *playlists.ManifestPush) {
	c.mu.Lock()
	c.pushed = p
	c.mu.Unlock()
	c.want(p.Version)
}

// fetchLoop is the only goroutine that downloads and applies, so downloads
// never overlap and GC never races a download.
func (c *Client) fetchLoop(ctx context.Context) {
	var retry <-chan time.Time
	attempt := 0
	gcDone := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.wantSig:
		case <-retry:
		}
		retry = nil
		c.mu.Lock()
		want := c.wanted
		c.mu.Unlock()
		// force: a Refetch asked to re-check even the applied version.
		force := c.cmds.refetch.Swap(false)
		if want == "" {
			if force {
				c.refetchDone(errNoVersion)
			}
			continue
		}
		if want == c.cfg.Cache.AppliedVersion() && !force {
			c.mu.Lock()
			if c.pushed != nil && c.pushed.Version == want {
				c.pushed = nil // a repeat of what already plays
			}
			c.mu.Unlock()
			c.setSyncErr(nil)
			c.failures.Store(0)
			attempt = 0
			c.synced()
			if !gcDone {
				// Once per process: drop what an interrupted update or an old
				// version left behind.
				c.gc()
				gcDone = true
			}
			continue
		}

		dctx, cancel := context.WithCancel(ctx)
		c.mu.Lock()
		if c.wanted != want {
			c.mu.Unlock()
			cancel()
			signal(c.wantSig)
			continue
		}
		c.inflight, c.inflightCancel = want, cancel
		// A pushed manifest is used once: if it fails (refused, or an
		// asset did not come), the retry fetches over HTTP.
		push := c.pushed
		c.pushed = nil
		c.mu.Unlock()

		err := c.update(dctx, want, force, push)
		cancel()
		c.mu.Lock()
		c.inflight, c.inflightCancel = "", nil
		superseded := c.wanted != want
		c.mu.Unlock()
		if force {
			if superseded && ctx.Err() == nil {
				c.cmds.refetch.Store(true) // the newer version is forced instead
			} else {
				c.refetchDone(err)
			}
		}

		switch {
		case err == nil:
			attempt = 0
			gcDone = true
			c.synced()
		case ctx.Err() != nil:
			return
		case superseded:
			// want() already signalled; the loop picks up the newer version.
		case errors.Is(err, errStale):
			c.setSyncErr(err)
			c.log.Info("server moved on; waiting for its notice", "announced", want, "error", err)
			retry = time.After(backoff(c.cfg.BackoffMin, c.cfg.BackoffMax, attempt, randFloat))
			attempt++
		default:
			c.failures.Add(1)
			c.setSyncErr(err)
			delay := backoff(c.cfg.BackoffMin, c.cfg.BackoffMax, attempt, randFloat)
			attempt++
			msg := "update failed; old content keeps playing"
			if errors.Is(err, ErrUnauthorized) {
				msg = "update refused by server; old content keeps playing"
			}
			c.log.Error(msg, "version", want, "applied_version", c.cfg.Cache.AppliedVersion(),
				"error", err, "retry_in", delay.Round(time.Millisecond))
			retry = time.After(delay)
		}
	}
}

// update fetches version want (or takes it from push, when the server
// pushed it), verifies every byte, commits it and switches.
func (c *Client) update(ctx context.Context, want string, force bool, push *playlists.ManifestPush) error {
	began := time.Now()
	var (
		m      *playlists.Manifest
		body   []byte
		serial uint64
		err    error
	)
	if push != nil && push.Version == want {
		m, body, serial, err = c.pushedManifest(push)
	} else {
		push = nil
		m, body, serial, err = c.fetchManifest(ctx, force)
	}
	if errors.Is(err, errRejected) {
		c.setRejected(err)
	}
	if err != nil {
		return err
	}
	if m == nil { // 304: the server's current version is the applied one
		return fmt.Errorf("%w: announced %s, server still has the applied %s", errStale, want, c.cfg.Cache.AppliedVersion())
	}
	if m.Version != want {
		return fmt.Errorf("%w: announced %s, manifest is %s", errStale, want, m.Version)
	}
	var fetched int
	var bytes int64
	for _, a := range m.Assets {
		if c.cfg.Cache.Has(a.SHA256) {
			continue
		}
		if err := c.fetchAsset(ctx, a); err != nil {
			return err
		}
		fetched++
		bytes += a.Size
	}
	if _, err := c.cfg.Cache.ApplySigned(body, serial); err != nil {
		return err
	}
	c.setRejected(nil)
	if c.cfg.OnApply != nil {
		c.cfg.OnApply(m)
	}
	c.failures.Store(0)
	c.setSyncErr(nil)
	signal(c.appliedSig)
	c.log.Info("applied new version", "version", m.Version, "items", len(m.Items), "pushed", push != nil,
		"assets_fetched", fetched, "bytes_fetched", bytes, "took", time.Since(began).Round(time.Millisecond))
	c.gc()
	return nil
}

// synced tells OnSynced that the applied manifest is the server's.
func (c *Client) synced() {
	if c.cfg.OnSynced != nil {
		c.cfg.OnSynced()
	}
}

func (c *Client) gc() {
	res, err := c.cfg.Cache.GC()
	if err != nil {
		c.log.Warn("cache cleanup failed", "error", err)
		return
	}
	if res.Assets > 0 {
		c.log.Info("removed unused assets", "assets", res.Assets, "bytes", res.Bytes)
	}
}

func (c *Client) newRequest(ctx context.Context, path string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	req.Header.Set("User-Agent", "kiosk-player/"+c.cfg.PlayerVersion)
	return req, nil
}

// fetchManifest returns the server's current manifest and its bytes as
// served, or nil when it is the applied one (304). The bytes must hash to
// the version they claim (playlists.VerifyManifest).
func (c *Client) fetchManifest(ctx context.Context, force bool) (*playlists.Manifest, []byte, uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, manifestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, pathManifest)
	if err != nil {
		return nil, nil, 0, err
	}
	if v := c.cfg.Cache.AppliedVersion(); v != "" && !force {
		req.Header.Set("If-None-Match", `"`+v+`"`)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch manifest: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return nil, nil, 0, nil
	default:
		return nil, nil, 0, fmt.Errorf("fetch manifest: %w", statusError(resp))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch manifest: %w", err)
	}
	if len(body) > maxManifestBytes {
		return nil, nil, 0, fmt.Errorf("fetch manifest: larger than %d bytes", maxManifestBytes)
	}
	m, serial, err := c.openManifest(body, "", func() (uint64, error) { return c.checkSignature(resp, body) })
	if err != nil {
		return nil, nil, 0, fmt.Errorf("fetch manifest: %w", err)
	}
	return m, body, serial, nil
}

// pushedManifest is fetchManifest for a manifest the server pushed in a
// "manifest" frame: the same checks, the batch signature instead of the
// headers.
func (c *Client) pushedManifest(p *playlists.ManifestPush) (*playlists.Manifest, []byte, uint64, error) {
	body := []byte(p.Body)
	m, serial, err := c.openManifest(body, p.Version, func() (uint64, error) { return c.checkPush(p) })
	if err != nil {
		return nil, nil, 0, fmt.Errorf("pushed manifest: %w", err)
	}
	return m, body, serial, nil
}

// openManifest checks body, however it came, and decodes it: the bytes
// hash to the version they claim (and to version, if given), check judges
// the signature and returns the serial, and every asset reference is sane.
func (c *Client) openManifest(body []byte, version string, check func() (uint64, error)) (*playlists.Manifest, uint64, error) {
	got, err := playlists.VerifyManifest(body)
	if err != nil {
		return nil, 0, err
	}
	if version != "" && got != version {
		return nil, 0, fmt.Errorf("%w: content is %s but was sent as %s", playlists.ErrManifestMismatch, got, version)
	}
	serial, err := check()
	if err != nil {
		return nil, 0, err
	}
	m := new(playlists.Manifest)
	if err := json.Unmarshal(body, m); err != nil {
		return nil, 0, err
	}
	for _, a := range m.Assets {
		// The sha becomes a URL path and a cache key; refuse anything else.
		if !playlists.IsSHA256Hex(a.SHA256) || a.Size < 0 {
			return nil, 0, fmt.Errorf("manifest %s: bad asset reference %q (size %d)", m.Version, a.SHA256, a.Size)
		}
	}
	return m, serial, nil
}

// fetchAsset streams one asset into the cache. There is no total timeout;
// instead a watchdog cancels the download when no byte arrived for
// IdleTimeout, so a slow link can still finish a big video but a dead one
// cannot hang the update. After a network failure the full chunks stay
// staged and the next attempt asks only for the rest (Range).
func (c *Client) fetchAsset(ctx context.Context, a playlists.AssetRef) error {
	w, err := c.cfg.Cache.StageAsset(a)
	if err != nil {
		return err
	}
	keep := false // whether what is staged is worth resuming
	committed := false
	defer func() {
		switch {
		case committed:
		case keep:
			w.Keep()
		default:
			w.Abort()
		}
	}()

	if off := w.Offset(); off < a.Size {
		if err := c.download(ctx, a, w, &keep); err != nil {
			return err
		}
	}
	committed = true // Commit discards the staging itself on failure
	return w.Commit()
}

// download fills w from the server, from w.Offset() on.
func (c *Client) download(ctx context.Context, a playlists.AssetRef, w *cache.AssetWriter, keep *bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	off := w.Offset()
	req, err := c.newRequest(ctx, pathAssets+a.SHA256)
	if err != nil {
		return err
	}
	if off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
		c.log.Info("resuming asset download", "sha256", a.SHA256, "offset", off, "size", a.Size)
	}
	wd := &watchdog{idle: c.cfg.IdleTimeout, cancel: cancel}
	wd.arm()
	defer wd.stop()
	resp, err := c.http.Do(req)
	if err != nil {
		*keep = true
		if wd.fired() {
			return fmt.Errorf("fetch asset %s: no response for %v", a.SHA256, c.cfg.IdleTimeout)
		}
		return fmt.Errorf("fetch asset %s: %w", a.SHA256, err)
	}
	defer resp.Body.Close()
	switch {
	case off > 0 && resp.StatusCode == http.StatusPartialContent:
		if got := resp.Header.Get("Content-Range"); !strings.HasPrefix(got, fmt.Sprintf("bytes %d-", off)) {
			return fmt.Errorf("fetch asset %s: asked for bytes from %d, server sent range %q", a.SHA256, off, got)
		}
	case resp.StatusCode == http.StatusOK:
		if off > 0 {
			// The server ignored Range: take the whole file again.
			if err := w.Restart(); err != nil {
				return err
			}
			off = 0
		}
	case off > 0 && resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		// The staged part does not fit the server's file: drop it (keep
		// stays false) so the next attempt starts from the first byte
		// instead of asking for the same impossible range forever.
		return fmt.Errorf("fetch asset %s: server cannot resume at byte %d; starting over next time", a.SHA256, off)
	default:
		*keep = true
		return fmt.Errorf("fetch asset %s: %w", a.SHA256, statusError(resp))
	}
	if want := a.Size - off; resp.ContentLength >= 0 && resp.ContentLength != want {
		return fmt.Errorf("fetch asset %s: %w: server sends %d bytes, manifest leaves %d", a.SHA256, assets.ErrMismatch, resp.ContentLength, want)
	}
	if _, err := io.Copy(w, &watchedReader{r: resp.Body, wd: wd}); err != nil {
		// Bytes beyond the promised size are a lie, not a network failure:
		// nothing staged can be trusted then.
		*keep = !errors.Is(err, assets.ErrMismatch)
		if wd.fired() {
			return fmt.Errorf("fetch asset %s: stalled, no bytes for %v", a.SHA256, c.cfg.IdleTimeout)
		}
		return fmt.Errorf("fetch asset %s: %w", a.SHA256, err)
	}
	return nil
}

// statusError describes a non-success response, with the server's JSON
// {"error": ...} reason when there is one.
func statusError(resp *http.Response) error {
	if resp.StatusCode == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	var e struct {
		Error string `json:"error"`
	}
	reason := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		reason = e.Error
	}
	if reason == "" {
		return fmt.Errorf("server answered %s", resp.Status)
	}
	return fmt.Errorf("server answered %s: %s", resp.Status, reason)
}

// watchdog cancels a download that made no progress for idle.
type watchdog struct {
	idle   time.Duration
	cancel context.CancelFunc

	mu      sync.Mutex
	t       *time.Timer
	didFire bool
}

func (w *watchdog) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = time.AfterFunc(w.idle, func() {
		w.mu.Lock()
		w.didFire = true
		w.mu.Unlock()
		w.cancel()
	})
}

func (w *watchdog) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.didFire {
		w.t.Reset(w.idle)
	}
}

func (w *watchdog) stop() { w.t.Stop() }

func (w *watchdog) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.didFire
}

type watchedReader struct {
	r  io.Reader
	wd *watchdog
}

func (r *watchedReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.wd.kick()
	}
	return n, err
}
