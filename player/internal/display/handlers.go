package display

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"kiosk/playlists"
	"kiosk/screenpage"
)

// pageCSP: the kiosk page may not be framed by anything on the device.
var pageCSP = screenpage.CSP("'none'")

// maxAliveBytes bounds the page's liveness report.
const maxAliveBytes = 4 << 10

func (s *Server) handlePage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	f, _ := screenpage.Lookup(screenpage.Index)
	screenpage.Serve(w, r, f)
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := screenpage.Static(r.PathValue("file"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	screenpage.Serve(w, r, f)
}

// handleMedia serves an asset of the current manifest from the cache. Only
// assets the manifest lists are served, with the type the manifest (and so
// the server's sniffing) gave them, never a guess from the bytes.
func (s *Server) handleMedia(w http.ResponseWriter, r *http.Request) {
	sha := r.PathValue("sha256")
	if !playlists.IsSHA256Hex(sha) {
		http.Error(w, "not a sha256", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	var (
		ref playlists.AssetRef
		ok  bool
	)
	if s.m != nil {
		ref, ok = s.m.Asset(sha)
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "asset not in the current manifest", http.StatusNotFound)
		return
	}
	if mediaType(ref.MIME) == "" {
		// The page only ever asks for pictures and video (view); anything
		// else would be served from the page's own origin, where a document
		// type could run script.
		http.Error(w, "asset is not an image or video", http.StatusNotFound)
		return
	}
	if s.media == nil {
		http.Error(w, "no media source", http.StatusNotFound)
		return
	}
	rs, err := s.media.OpenAsset(sha)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("asset of the current manifest is missing from the cache", "sha256", sha, "error", err)
			http.Error(w, "asset not cached", http.StatusNotFound)
			return
		}
		s.log.Error("open cached asset", "sha256", sha, "error", err)
		http.Error(w, "cannot read asset", http.StatusInternalServerError)
		return
	}
	if c, ok := rs.(io.Closer); ok {
		defer c.Close()
	}
	h := w.Header()
	h.Set("Content-Type", ref.MIME)
	h.Set("ETag", `"`+sha+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	// Opened on its own, the asset is an inert document that runs nothing.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; sandbox")
	// Content-addressed: the bytes behind this URL never change.
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	http.ServeContent(w, r, "", time.Time{}, rs)
}

// aliveReport is what the page posts every few seconds.
type aliveReport struct {
	Item string `json:"item"` // the item id on screen; "" on the fallback screen
	Key  string `json:"key"`  // the show key the page displays
}

func (s *Server) handleAlive(w http.ResponseWriter, r *http.Request) {
	var rep aliveReport
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAliveBytes))
	if err != nil {
		http.Error(w, "report too large", http.StatusRequestEntityTooLarge)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &rep); err != nil {
			http.Error(w, "invalid report: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	s.aliveAt = time.Now()
	s.pageItem = rep.Item
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// pageOnly refuses state-changing requests that a browser sends from any
// page but the kiosk page itself: the page's own fetches carry its origin
// (Sec-Fetch-Site: same-origin), while a page elsewhere on the device, a
// file:// page (Origin: null) or another local port is cross-origin. Tools
// that send neither header (curl, the tests) pass: they are not a page's
// victims.
func pageOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			if msg := crossOrigin(r); msg != "" {
				http.Error(w, msg, http.StatusForbidden)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// crossOrigin says why r comes from another origin, or "" if it does not.
func crossOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "", "same-origin", "none":
	default:
		return "cross-origin request refused (Sec-Fetch-Site: " + site + "): only the kiosk page may send this"
	}
	// The page is served over plain HTTP on the address the browser used.
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, "http://"+r.Host) {
		return "cross-origin request refused (Origin is not this page's): only the kiosk page may send this"
	}
	return ""
}

// stateView is GET /state: what a technician or a test wants to know about
// this screen at a glance.
type stateView struct {
	Online         bool       `json:"online"`
	AppliedVersion string     `json:"applied_version"`
	DisplayVersion string     `json:"display_version"` // the manifest the display plays from
	Fallback       bool       `json:"fallback"`
	CurrentItem    string     `json:"current_item"`
	CurrentTitle   string     `json:"current_title"`
	CurrentKind    string     `json:"current_kind"`
	CurrentSince   *time.Time `json:"current_since"`
	CurrentUntil   *time.Time `json:"current_until"`
	NextItem       string     `json:"next_item"`
	ScreenID       string     `json:"screen_id"`
	ScreenName     string     `json:"screen_name"`
	ClockOffsetMS  int64      `json:"clock_offset_ms"`
	LastSyncError  string     `json:"last_sync_error"`
	CacheBytes     int64      `json:"cache_bytes"`
	PageAlive      bool       `json:"page_alive"`
	PageItem       string     `json:"page_item"` // what the page last said it shows
	// IdentifyUntil is when the identify overlay ends; null when not up.
	IdentifyUntil *time.Time `json:"identify_until"`
	// Urgent is the id of the urgent notice covering the screen, "" when
	// none; current_item is that id too while it is up. UrgentActive
	// counts the notices in force (they rotate).
	Urgent       string    `json:"urgent"`
	UrgentActive int       `json:"urgent_active"`
	Now          time.Time `json:"now"` // server-corrected clock
	// PairingCode is the code shown while the player waits to be paired
	// ("" once paired), valid until PairingExpiresAt (server clock).
	PairingCode      string     `json:"pairing_code"`
	PairingExpiresAt *time.Time `json:"pairing_expires_at"`
	// SafeMode is true while the manifest puts the screen on the neutral
	// slate (safe mode), since SafeModeSince.
	SafeMode      bool       `json:"safe_mode"`
	SafeModeSince *time.Time `json:"safe_mode_since"`
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	st := s.syncStatus()
	alive := s.PageAlive()
	s.mu.Lock()
	v := stateView{
		Online:         st.Online,
		AppliedVersion: st.AppliedVersion,
		Fallback:       !s.curOK,
		ScreenID:       st.ScreenID,
		ScreenName:     st.ScreenName,
		ClockOffsetMS:  st.ClockOffset.Milliseconds(),
		LastSyncError:  st.LastSyncError,
		CacheBytes:     st.CacheBytes,
		PageAlive:      alive,
		PageItem:       s.pageItem,
		Now:            s.now(),
	}
	if u := s.identifyUntilLocked(); !u.IsZero() {
		v.IdentifyUntil = &u
	}
	v.PairingCode, v.PairingExpiresAt = s.pairingState()
	if s.m != nil {
		v.DisplayVersion = s.m.Version
		if sm := s.m.SafeMode; sm != nil {
			since := sm.Since
			v.SafeMode, v.SafeModeSince = true, &since
		}
	}
	if v.AppliedVersion == "" {
		// Without a sync status (tests, or before the core reports) the
		// version on screen is the best answer.
		v.AppliedVersion = v.DisplayVersion
	}
	if s.curOK {
		since, until := s.since, s.switchAt
		v.CurrentItem = s.cur.Item.ID
		v.CurrentTitle = s.cur.Item.Title
		v.CurrentKind = string(s.cur.Item.Kind)
		v.CurrentSince = &since
		if !until.IsZero() {
			v.CurrentUntil = &until
		}
	}
	if s.nextOK {
		v.NextItem = s.next.Item.ID
	}
	if e, since, ok := s.urgentCurrent(); ok {
		v.Urgent, v.UrgentActive = e.Item.ID, len(s.urgent.list)
		v.Fallback = false
		v.CurrentItem, v.CurrentTitle, v.CurrentKind = e.Item.ID, e.Item.Title, string(e.Item.Kind)
		v.CurrentSince, v.CurrentUntil = &since, nil
		if at := s.urgent.at; !at.IsZero() {
			v.CurrentUntil = &at
		}
	}
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		s.log.Debug("write state", "error", err)
	}
}
