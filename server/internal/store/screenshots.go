package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"kiosk/assets"
)

// Screenshots are kept as plain files, the latest one per screen, in
// DATA/screenshots/<screen id>.jpg|.png. They are disposable diagnostics, so
// they live beside the database rather than in it: a 1 MB image per screen
// would only bloat the bbolt file, which never shrinks.
const screenshotDir = "screenshots"

// DefaultMaxScreenshotBytes bounds one uploaded screenshot.
const DefaultMaxScreenshotBytes = 5 << 20

var screenIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var screenshotExt = map[string]string{
	assets.MIMEJPEG: ".jpg",
	assets.MIMEPNG:  ".png",
}

// Screenshot describes the latest image a screen uploaded.
type Screenshot struct {
	ScreenID string    `json:"screen_id"`
	MIME     string    `json:"mime"`
	Size     int64     `json:"size"`
	TakenAt  time.Time `json:"taken_at"` // when the server received it
}

func (s *Store) screenshotPath(screenID, ext string) (string, error) {
	if !screenIDPattern.MatchString(screenID) {
		return "", NotFoundError{Kind: "screen", ID: screenID}
	}
	return filepath.Join(s.dir, screenshotDir, screenID+ext), nil
}

// PutScreenshot stores r (at most limit bytes, a JPEG or PNG by its own
// bytes) as screenID's latest screenshot, replacing the previous one
// atomically: a reader sees the old image or the new one, never half.
func (s *Store) PutScreenshot(screenID string, r io.Reader, limit int64) (Screenshot, error) {
	if limit <= 0 {
		limit = DefaultMaxScreenshotBytes
	}
	if _, err := s.GetScreen(screenID); err != nil {
		return Screenshot{}, err
	}
	head := make([]byte, assets.SniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Screenshot{}, fmt.Errorf("read screenshot: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Screenshot{}, fmt.Errorf("%w: empty screenshot", assets.ErrUnsupported)
	}
	mime, err := assets.Sniff(head)
	if err != nil {
		return Screenshot{}, err
	}
	ext, ok := screenshotExt[mime]
	if !ok {
		return Screenshot{}, fmt.Errorf("%w: screenshots must be JPEG or PNG, got %s", assets.ErrUnsupported, mime)
	}
	final, err := s.screenshotPath(screenID, ext)
	if err != nil {
		return Screenshot{}, err
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Screenshot{}, s.blobErr("store screenshot", err)
	}
	tmp, err := os.CreateTemp(dir, screenID+".*.tmp")
	if err != nil {
		return Screenshot{}, s.blobErr("store screenshot", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	size, err := io.Copy(s.diskWriter(tmp), io.LimitReader(io.MultiReader(bytes.NewReader(head), r), limit+1))
	if err == nil && size > limit {
		err = TooLargeError{Limit: limit}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return Screenshot{}, err
		}
		return Screenshot{}, s.blobErr("store screenshot", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Screenshot{}, s.blobErr("store screenshot", err)
	}
	_ = s.noteWrite(writeBlob, "", nil)
	// A screen that switched from PNG to JPEG must not leave the older
	// image to be served instead.
	for m, other := range screenshotExt {
		if m != mime {
			if p, err := s.screenshotPath(screenID, other); err == nil {
				_ = os.Remove(p)
			}
		}
	}
	st, err := os.Stat(final)
	if err != nil {
		return Screenshot{}, fmt.Errorf("store screenshot: %w", err)
	}
	return Screenshot{ScreenID: screenID, MIME: mime, Size: size, TakenAt: st.ModTime().UTC()}, nil
}

// OpenScreenshot opens screenID's latest screenshot. Not having one is a
// NotFoundError.
func (s *Store) OpenScreenshot(screenID string) (*os.File, Screenshot, error) {
	for mime, ext := range screenshotExt {
		p, err := s.screenshotPath(screenID, ext)
		if err != nil {
			return nil, Screenshot{}, err
		}
		f, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, Screenshot{}, fmt.Errorf("open screenshot: %w", err)
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, Screenshot{}, fmt.Errorf("open screenshot: %w", err)
		}
		return f, Screenshot{ScreenID: screenID, MIME: mime, Size: st.Size(), TakenAt: st.ModTime().UTC()}, nil
	}
	return nil, Screenshot{}, NotFoundError{Kind: "screenshot of screen", ID: screenID}
}

// DeleteScreenshot removes screenID's screenshot, if any (screen deleted).
func (s *Store) DeleteScreenshot(screenID string) error {
	for _, ext := range screenshotExt {
		p, err := s.screenshotPath(screenID, ext)
		if err != nil {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
