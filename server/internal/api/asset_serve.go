package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// assetCacheControl: content-addressed, the bytes behind a hash never
// change.
const assetCacheControl = "private, max-age=31536000, immutable"

// assetCSP keeps media from ever running as a page of this origin.
const assetCSP = "default-src 'none'; sandbox"

// serveAsset sends a blob with the type sniffed at upload. The metadata
// comes from the store's in-memory index, so a revalidation (304) touches
// neither bbolt nor the disk once the asset is known; only a GET that
// sends bytes opens the blob, and the bytes go by sendfile. Media is
// served so that a browser can never treat it as a page of this origin:
// nosniff and a sandboxing CSP, whatever the bytes contain.
func (h *handler) serveAsset(c echo.Context, sha string) error {
	sha = strings.ToLower(sha)
	a, err := h.store.AssetMeta(sha)
	if err != nil {
		return err
	}
	etag := `"` + a.SHA256 + `"`
	if notModified(c.Request(), etag, a.CreatedAt) {
		return assetNotModified(c, etag)
	}
	f, err := h.store.OpenBlob(sha)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderContentType, a.MIME)
	hdr.Set("ETag", etag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", assetCSP)
	hdr.Set("Cache-Control", assetCacheControl)
	serveFile(c, a.CreatedAt, &blobReader{f: f, size: a.Size})
	return nil
}

// assetNotModified is the 304 for a blob the client holds: the headers
// http.ServeContent would send on one (it drops Last-Modified when there
// is an ETag), without opening the file.
func assetNotModified(c echo.Context, etag string) error {
	hdr := c.Response().Header()
	hdr.Set("ETag", etag)
	hdr.Set("Cache-Control", assetCacheControl)
	return c.NoContent(http.StatusNotModified)
}

// notModified reports whether a GET or HEAD of content with etag and
// modtime is answered 304 under RFC 9110's order of preconditions, the
// one http.ServeContent follows. Requests with If-Match or
// If-Unmodified-Since are left to ServeContent (they are rare, and it
// answers them fully); so are other methods.
func notModified(r *http.Request, etag string, modtime time.Time) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Header.Get("If-Match") != "" || r.Header.Get("If-Unmodified-Since") != "" {
		return false
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modtime.IsZero() || modtime.Equal(time.Unix(0, 0)) {
		return false
	}
	t, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	// HTTP dates have whole seconds.
	return !modtime.Truncate(time.Second).After(t)
}

// serveFile is http.ServeContent (ranges, multi-range, 416, conditional
// requests) over f, writing through sendfileWriter so that the bytes go
// from the page cache to the socket by sendfile(2) instead of through a
// user-space buffer.
func serveFile(c echo.Context, modtime time.Time, content io.ReadSeeker) {
	http.ServeContent(sendfileWriter{c.Response()}, c.Request(), "", modtime, content)
}

// blobReader is an open blob of known size (the store's metadata) for
// ServeContent, which seeks to the end to learn the size and back before
// every answer: here those seeks cost no system call. The file's own
// offset is moved only when bytes are read from another place than where
// it stands (a Range), just before they are read.
type blobReader struct {
	f    *os.File
	size int64
	pos  int64 // where ServeContent has seeked to
	fpos int64 // the file's offset in the kernel
}

func (b *blobReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.size
	default:
		return 0, errors.New("blob seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("blob seek: negative position")
	}
	b.pos = offset
	return offset, nil
}

// sync moves the file's offset to pos.
func (b *blobReader) sync() error {
	if b.pos == b.fpos {
		return nil
	}
	if _, err := b.f.Seek(b.pos, io.SeekStart); err != nil {
		return err
	}
	b.fpos = b.pos
	return nil
}

func (b *blobReader) Read(p []byte) (int, error) {
	if err := b.sync(); err != nil {
		return 0, err
	}
	n, err := b.f.Read(p)
	b.pos += int64(n)
	b.fpos = b.pos
	return n, err
}

// fileSource is what to hand the connection's ReadFrom for src: when src
// is ServeContent's io.LimitedReader over a blobReader, the same limit
// over the *os.File itself at the right offset, since sendfile is used
// only for a file; done accounts for the n bytes sent. Anything else
// (a multi-range answer's pipe) goes as it is.
func fileSource(src io.Reader) (r io.Reader, done func(n int64), err error) {
	lr, ok := src.(*io.LimitedReader)
	if !ok {
		return src, func(int64) {}, nil
	}
	b, ok := lr.R.(*blobReader)
	if !ok {
		return src, func(int64) {}, nil
	}
	if err := b.sync(); err != nil {
		return nil, nil, err
	}
	inner := &io.LimitedReader{R: b.f, N: lr.N}
	return inner, func(n int64) {
		b.pos += n
		b.fpos = b.pos
		lr.N = inner.N
	}, nil
}

// sendfileWriter is echo's response with the io.ReaderFrom of the writer
// underneath. echo.Response has no ReadFrom, so io.Copy into it copies
// through a fresh 32 KiB buffer; net/http's own response hands an
// *os.File (alone or in an io.LimitedReader, as ServeContent passes it)
// to the TCP connection's sendfile. echo's bookkeeping stays right:
// Status and Committed through WriteHeader, Size counted here, so the
// metrics and access log see what was sent.
type sendfileWriter struct{ *echo.Response }

func (w sendfileWriter) ReadFrom(src io.Reader) (int64, error) {
	r := w.Response
	rf, ok := r.Writer.(io.ReaderFrom)
	if !ok {
		return io.Copy(r, src) // a writer without ReadFrom (httptest's recorder)
	}
	src, done, err := fileSource(src)
	if err != nil {
		return 0, err
	}
	if !r.Committed {
		if r.Status == 0 {
			r.Status = http.StatusOK
		}
		r.WriteHeader(r.Status)
	}
	n, err := rf.ReadFrom(src)
	done(n)
	r.Size += n
	return n, err
}
