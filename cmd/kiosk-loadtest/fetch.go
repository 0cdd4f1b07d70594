package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"kiosk/playlists"
)

// Limits the player applies too (player/internal/syncer).
const (
	manifestTimeout  = 60 * time.Second
	maxManifestBytes = 32 << 20
	assetTimeout     = 5 * time.Minute
)

// errStale: the server serves another version than the one announced, as
// in the player: not a failure, the notice for the newer one is on its way.
var errStale = errors.New("server serves a different version than announced")

// kindError carries the error kind the report counts it under.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func kinded(kind string, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// errorKind names err for the report's error table.
func errorKind(prefix string, err error) string {
	var ke *kindError
	if errors.As(err, &ke) {
		return prefix + ke.kind
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return prefix + "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, websocket.ErrCloseSent):
		return prefix + "connection closed"
	case isConnRefused(err):
		return prefix + "connection refused"
	case isConnReset(err):
		return prefix + "connection reset"
	}
	return prefix + "other"
}

// manifestInfo is what the tool needs from one manifest version; decoded
// once per version and shared by every screen that fetches it.
type manifestInfo struct {
	version string
	bytes   int
	assets  []playlists.AssetRef
	// publish is the index of the load test's publish this manifest carries
	// (from the marker in the publish item's title), -1 for none.
	publish int
	m       *playlists.Manifest
	raw     []byte // the bytes verified to hash to version

	mu  sync.Mutex
	res playlists.Resolution
	at  time.Time // when res was resolved
}

// rotation returns what plays at now, re-resolving when the last answer
// may have changed (its Until passed).
func (mi *manifestInfo) rotation(now time.Time) []playlists.Entry {
	mi.mu.Lock()
	defer mi.mu.Unlock()
	if mi.at.IsZero() || (!mi.res.Until.IsZero() && !now.Before(mi.res.Until)) {
		mi.res = mi.m.Resolve(now)
		mi.at = now
	}
	return mi.res.Entries
}

// manifestCache decodes each version once.
type manifestCache struct {
	marker *regexp.Regexp // matches this run's publish marker, captures the index

	mu sync.Mutex
	by map[string]*manifestInfo
}

func newManifestCache(runID string) *manifestCache {
	return &manifestCache{
		marker: regexp.MustCompile(regexp.QuoteMeta(publishMarker(runID)) + `(\d+)\b`),
		by:     map[string]*manifestInfo{},
	}
}

// open checks that body hashes to the version it claims (and to want,
// unless want is ""), as the player does, and returns it decoded. Every
// screen receives the same bytes of a version: those equal to the bytes
// already verified are not hashed again, and each version is decoded once,
// which keeps the tool's CPU per screen low while the server's share of
// the machine is measured.
func (c *manifestCache) open(body []byte, want string) (*manifestInfo, error) {
	v := want
	if v == "" {
		v = claimedVersion(body)
	}
	c.mu.Lock()
	mi := c.by[v]
	c.mu.Unlock()
	if mi != nil && bytes.Equal(mi.raw, body) {
		return mi, nil
	}
	got, err := playlists.VerifyManifest(body)
	if err != nil {
		return nil, kinded("hash mismatch", "%w", err)
	}
	if want != "" && got != want {
		return nil, kinded("hash mismatch", "manifest is %s but was sent as %s", got, want)
	}
	return c.get(got, body)
}

// claimedVersion is the version body's first field claims, "" if none.
func claimedVersion(body []byte) string {
	const prefix = `{"version":"`
	if len(body) < len(prefix)+64 || !bytes.HasPrefix(body, []byte(prefix)) {
		return ""
	}
	return string(body[len(prefix) : len(prefix)+64])
}

// get returns the decoded manifest of body, whose hash was verified to be
// version.
func (c *manifestCache) get(version string, body []byte) (*manifestInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mi, ok := c.by[version]; ok {
		return mi, nil
	}
	m := new(playlists.Manifest)
	if err := json.Unmarshal(body, m); err != nil {
		return nil, kinded("manifest undecodable", "decode manifest %s: %w", version, err)
	}
	for _, a := range m.Assets {
		if !playlists.IsSHA256Hex(a.SHA256) || a.Size < 0 {
			return nil, kinded("manifest bad asset", "manifest %s: bad asset reference %q (size %d)", version, a.SHA256, a.Size)
		}
	}
	mi := &manifestInfo{version: version, bytes: len(body), assets: m.Assets, publish: -1, m: m, raw: body}
	for _, it := range m.Items {
		if sub := c.marker.FindStringSubmatch(it.Title); sub != nil {
			if k, err := strconv.Atoi(sub[1]); err == nil && k > mi.publish {
				mi.publish = k
			}
		}
	}
	c.by[version] = mi
	return mi, nil
}

// publishOf is the publish index version carries, -1 when no screen
// fetched it (or it carries none of this run's).
func (c *manifestCache) publishOf(version string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mi, ok := c.by[version]; ok {
		return mi.publish
	}
	return -1
}

// fetched is one manifest as a screen received it.
type fetched struct {
	info   *manifestInfo
	serial uint64
	signed bool
}

// fetchManifest gets the screen's manifest as the player does: with the
// device token, If-None-Match of the applied version (unless force), the
// body's hash checked against its version, and the signature's serial
// checked to grow; the Ed25519 signature itself only with
// -verify-signatures. nil info means 304 (the applied version is current).
func (s *screen) fetchManifest(ctx context.Context, force bool) (fetched, error) {
	var f fetched
	ctx, cancel := context.WithTimeout(ctx, manifestTimeout)
	defer cancel()
	req, err := s.r.newRequest(ctx, http.MethodGet, pathManifest, s.token, nil)
	if err != nil {
		return f, err
	}
	s.mu.Lock()
	applied, appliedSerial, pinned, screenID := s.applied, s.appliedSerial, s.pinnedKey, s.id
	s.mu.Unlock()
	if applied != "" && !force {
		req.Header.Set("If-None-Match", `"`+applied+`"`)
	}
	resp, err := s.r.http.Do(req)
	if err != nil {
		return f, fmt.Errorf("fetch manifest: %w", err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		s.r.rec.count(cManifest304)
		return f, nil
	default:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return f, kinded("HTTP "+strconv.Itoa(resp.StatusCode), "fetch manifest: server answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return f, fmt.Errorf("fetch manifest: %w", err)
	}
	if len(body) > maxManifestBytes {
		return f, kinded("too large", "fetch manifest: larger than %d bytes", maxManifestBytes)
	}
	info, err := s.r.manifests.open(body, "")
	if err != nil {
		return f, fmt.Errorf("fetch manifest: %w", err)
	}
	sig, sigErr := playlists.ParseManifestSignature(resp.Header.Get)
	if sigErr == nil {
		f.signed = true
		f.serial = sig.Serial
		if sig.Serial <= appliedSerial {
			return f, kinded("serial not above applied", "manifest serial %d is not above the applied %d", sig.Serial, appliedSerial)
		}
		if s.r.cfg.VerifySignatures {
			if err := s.verifySignature(resp, sig, pinned, screenID, body); err != nil {
				return f, err
			}
		}
	} else if pinned != "" || appliedSerial > 0 {
		return f, kinded("unsigned", "fetch manifest: %v", sigErr)
	}
	f.info = info
	s.r.rec.count(cManifests)
	return f, nil
}

// openPush takes a manifest pushed in the frame as fetchManifest takes a
// fetched one: the bytes hash to the version the frame names, the batch
// serial grows, and with -verify-signatures the batch proof and signature
// (playlists.VerifyPush) hold for this screen, by the pinned key or, on
// first use, the key the push offers.
func (s *screen) openPush(p *playlists.ManifestPush) (fetched, error) {
	f := fetched{signed: true, serial: p.Sig.Serial}
	s.mu.Lock()
	appliedSerial, pinned, screenID := s.appliedSerial, s.pinnedKey, s.id
	s.mu.Unlock()
	info, err := s.r.manifests.open(p.Body, p.Version)
	if err != nil {
		return f, fmt.Errorf("pushed manifest: %w", err)
	}
	if p.Sig.Serial <= appliedSerial {
		return f, kinded("serial not above applied", "pushed manifest serial %d is not above the applied %d", p.Sig.Serial, appliedSerial)
	}
	if s.r.cfg.VerifySignatures {
		keys := []string{pinned}
		if pinned == "" {
			keys = []string{p.Sig.ServerKey}
		}
		if p.Sig.NextKey != "" {
			keys = append(keys, p.Sig.NextKey)
		}
		pubs := decodeKeys(keys)
		if err := playlists.VerifyPush(pubs, screenID, *p); err != nil {
			return f, kinded("signature refused", "pushed manifest: %v", err)
		}
		s.r.rec.count(cSignatures)
		s.pin(pubs, p.Sig.KeyID)
	}
	f.info = info
	return f, nil
}

func decodeKeys(keys []string) []ed25519.PublicKey {
	var pubs []ed25519.PublicKey
	for _, k := range keys {
		if pub, err := playlists.DecodeKey(k); err == nil {
			pubs = append(pubs, pub)
		}
	}
	return pubs
}

// pin remembers the key of pubs named keyID as the screen's trusted one.
func (s *screen) pin(pubs []ed25519.PublicKey, keyID string) {
	for _, pub := range pubs {
		if playlists.KeyID(pub) == keyID {
			s.mu.Lock()
			s.pinnedKey = playlists.EncodeKey(pub)
			s.mu.Unlock()
		}
	}
}

// verifySignature checks sig as the player does: the key pinned on first
// use (or announced as the next key), bound to this screen's id.
func (s *screen) verifySignature(resp *http.Response, sig playlists.ManifestSignature, pinned, screenID string, body []byte) error {
	keys := []string{pinned}
	if pinned == "" {
		keys = []string{resp.Header.Get(playlists.HeaderServerKey)}
	}
	if sig.NextKey != "" {
		keys = append(keys, sig.NextKey)
	}
	pubs := decodeKeys(keys)
	if err := playlists.VerifyManifestSignature(pubs, screenID, sig, body); err != nil {
		return kinded("signature refused", "%v", err)
	}
	s.r.rec.count(cSignatures)
	s.pin(pubs, sig.KeyID)
	return nil
}

// fetchAsset downloads one asset with the device token and checks its size
// and hash, as the player does before committing it to its cache; the
// bytes are then discarded.
func (s *screen) fetchAsset(ctx context.Context, a playlists.AssetRef) error {
	ctx, cancel := context.WithTimeout(ctx, assetTimeout)
	defer cancel()
	req, err := s.r.newRequest(ctx, http.MethodGet, pathAssets+a.SHA256, s.token, nil)
	if err != nil {
		return err
	}
	resp, err := s.r.http.Do(req)
	if err != nil {
		return fmt.Errorf("fetch asset %s: %w", a.SHA256, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		return kinded("HTTP "+strconv.Itoa(resp.StatusCode), "fetch asset %s: server answered %s", a.SHA256, resp.Status)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(resp.Body, a.Size+1))
	if err != nil {
		return fmt.Errorf("fetch asset %s: %w", a.SHA256, err)
	}
	if n != a.Size {
		return kinded("size mismatch", "fetch asset %s: got %d bytes, manifest says %d", a.SHA256, n, a.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		return kinded("hash mismatch", "fetch asset %s: content hashes to %s", a.SHA256, got)
	}
	s.r.rec.count(cAssets)
	s.r.rec.add(cAssetBytes, n)
	return nil
}
