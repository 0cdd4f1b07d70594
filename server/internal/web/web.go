// Package web owns the admin page served at /admin/, for technicians (fleet,
// commands, urgent notices), editors and reviewers (items, playlists,
// schedules, change-set review) and admins (users, audit): a small
// single-page app of static HTML, CSS and plain JavaScript modules embedded
// in the binary. The files hold no data and need no credentials; the page
// signs people in through the JSON API under /api/v1 (a session cookie, or
// a bearer token kept in sessionStorage), which does all the authorisation.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"kiosk/screenpage"
)

// Prefix is where the admin page lives.
const Prefix = "/admin/"

// CSP is the Content-Security-Policy of every /admin response. The page
// renders names and titles that anyone who can create content wrote, so
// no inline script or style runs even if markup slipped through; data
// comes only from this origin, screenshots and media thumbnails arrive as
// blob: URLs (an <img> or <video> cannot send the bearer token), and no
// other site may frame the page (clickjacking the command buttons).
// form-action 'none' means a sign-in form submitted without its script
// can never put the token into a URL.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'"

//go:embed static
var staticFS embed.FS

// ScreenPrefix (under Prefix) serves the screen page itself, the very
// files a player serves to its screen (package screenpage), so the admin
// page's preview frames what residents see: /admin/screen/?preview is the
// page, /admin/screen/static/<file> its script and style. The page there
// opens no event stream; the admin page posts it what to render.
const ScreenPrefix = "screen/"

// serveScreen serves the screen page under ScreenPrefix. Its CSP is the
// player's, except that this origin (the admin page) may frame it.
func serveScreen(w http.ResponseWriter, r *http.Request, rest string) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", screenpage.CSP("'self'"))
	hdr.Set("X-Frame-Options", "SAMEORIGIN")
	var f screenpage.File
	ok := false
	switch {
	case rest == "":
		f, ok = screenpage.Lookup(screenpage.Index)
	case strings.HasPrefix(rest, "static/"):
		f, ok = screenpage.Static(strings.TrimPrefix(rest, "static/"))
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	screenpage.Serve(w, r, f)
}

// file is one embedded file, read once at start-up with its validator.
type file struct {
	name  string
	data  []byte
	ctype string
	etag  string
}

// Handler serves the admin page: /admin redirects to /admin/, /admin/ is
// the app, /admin/<file> its assets, anything else under /admin is 404.
// Only GET and HEAD are allowed. Every answer carries the CSP and nosniff.
func Handler() http.Handler {
	files, err := load(staticFS)
	if err != nil {
		// The files are compiled in; failing here is a broken build.
		panic(err)
	}
	return &handler{files: files}
}

func load(fsys fs.FS) (map[string]file, error) {
	files := map[string]file{}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			return fmt.Errorf("web: no content type for embedded file %s", p)
		}
		sum := sha256.Sum256(data)
		files[name] = file{name: name, data: data, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load embedded files: %w", err)
	}
	if _, ok := files["index.html"]; !ok {
		return nil, fmt.Errorf("web: embedded files lack index.html")
	}
	return files, nil
}

type handler struct {
	files map[string]file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY") // for browsers that ignore frame-ancestors
	hdr.Set("Referrer-Policy", "no-referrer")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(p, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if rest, ok := strings.CutPrefix(name, ScreenPrefix); ok {
		serveScreen(w, r, rest)
		return
	}
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok || name == "index.html" && p != Prefix {
		// /admin/index.html is not a second address for the page: one URL
		// keeps relative asset paths and bookmarks simple.
		http.NotFound(w, r)
		return
	}
	hdr.Set("Content-Type", f.ctype)
	hdr.Set("ETag", f.etag)
	// no-cache revalidates on every load (a 304 when unchanged), so a
	// server upgrade reaches technicians without a hard refresh.
	hdr.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.data))
}
