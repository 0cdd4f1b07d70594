// Package screenpage owns the page residents see: the kiosk page's HTML,
// script and style, embedded once and served by both binaries. The player
// serves it to the screen's browser from its local cache; the server serves
// the very same bytes inside the admin page's preview, so what an editor
// previews is what a screen renders. It also holds the fit estimator
// (fit.go), which predicts from the page's CSS constants whether an item's
// text fits a screen.
//
// Like playlists and assets, the package imports neither server nor player.
package screenpage

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"time"
)

//go:embed web
var webFS embed.FS

// File is one file of the page with its content type and a content ETag,
// computed once: embedded files have no modification time to revalidate
// against.
type File struct {
	Name string
	Body []byte
	Type string
	ETag string
}

// Index is the page itself; every other file is one of its static parts,
// referred to by the page as static/<name> (relative, so the page works at
// any path: / on a player, /admin/screen/ in the preview).
const Index = "index.html"

var files = load()

func load() map[string]File {
	out := map[string]File{}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		name := path.Base(p)
		out[name] = File{Name: name, Body: b, Type: ctype, ETag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		// The files are compiled in; failing to read them is a build bug.
		panic("screenpage: load embedded files: " + err.Error())
	}
	if _, ok := out[Index]; !ok {
		panic("screenpage: embedded files lack " + Index)
	}
	return out
}

// Lookup returns the named file (a base name such as "app.js").
func Lookup(name string) (File, bool) {
	f, ok := files[name]
	return f, ok
}

// Static returns a static part of the page (never the page itself, which
// needs its own headers).
func Static(name string) (File, bool) {
	if name == Index {
		return File{}, false
	}
	return Lookup(name)
}

// Names lists the files, sorted.
func Names() []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Serve writes f with its type and ETag (a matching If-None-Match gets a
// 304). The caller sets security headers (CSP, framing) first.
func Serve(w http.ResponseWriter, r *http.Request, f File) {
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("ETag", f.ETag)
	// Revalidate every time: after an upgrade the page must pick up the
	// new script at once.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, f.Name, time.Time{}, bytes.NewReader(f.Body))
}

// CSP is the page's Content-Security-Policy with frameAncestors as its
// frame-ancestors source ('none' on a player; 'self' in the preview, which
// the admin page frames). Nothing but this origin: no inline script or
// style, so even if item text ever reached the DOM as markup it could not
// run. blob: and data: are allowed for media only.
func CSP(frameAncestors string) string {
	return "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
		"script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors " + frameAncestors
}
