package kioskctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// asset is what the server answers for an upload and lists.
type asset struct {
	SHA256    string    `json:"sha256"`
	Size      int64     `json:"size"`
	MIME      string    `json:"mime"`
	CreatedAt time.Time `json:"created_at"`
}

// stallTimeout ends an upload or download that moves no byte for this long.
const stallTimeout = 60 * time.Second

func runMediaUpload(c *ctl, path string, args []string) error {
	fs := c.flags(path, "FILE...", `Upload images or videos (PNG, JPEG, WebP, GIF, MP4, WebM). Each answer names the
file's sha256, which items refer to as "asset". On a terminal a progress line
(percent and rate) shows on stderr. Uploading the same bytes twice stores them once.`)
	files, err := c.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return usagef("%s: %v", f, errors.Unwrap(err))
		}
		if st.IsDir() {
			return usagef("%s is a directory", f)
		}
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	t := newTable("FILE", "SHA256", "SIZE", "TYPE")
	for i, f := range files {
		raw, a, err := c.upload(cl, f)
		if err != nil {
			if i > 0 && !c.json {
				t.write(c.out) // what did arrive, before the error
			}
			return fmt.Errorf("%s: %w", f, err)
		}
		raws = append(raws, raw)
		t.row(filepath.Base(f), a.SHA256, bytesHuman(a.Size), a.MIME)
	}
	if c.json {
		if len(raws) == 1 {
			return c.printJSON(raws[0])
		}
		all, _ := json.Marshal(raws)
		return c.printJSON(all)
	}
	t.write(c.out)
	return nil
}

// upload streams one file as the multipart field "file", never holding
// it in memory, with a progress line when stderr is a terminal.
func (c *ctl) upload(cl *client, file string) (json.RawMessage, asset, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, asset{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, asset{}, err
	}

	// The envelope is computed first so that Content-Length is known: the
	// server refuses an oversized upload from the header alone.
	boundary := multipart.NewWriter(io.Discard).Boundary()
	var head strings.Builder
	mw := multipart.NewWriter(&head)
	_ = mw.SetBoundary(boundary)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filepath.Base(file)))
	h.Set("Content-Type", "application/octet-stream")
	if _, err := mw.CreatePart(h); err != nil {
		return nil, asset{}, err
	}
	tail := "\r\n--" + boundary + "--\r\n"

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	prog := &progress{total: st.Size(), name: filepath.Base(file), w: c.env.Stderr,
		show: c.env.StderrIsTerminal && !c.json, now: c.env.Now, start: c.env.Now()}
	watch := newStallWatch(cancel)
	defer watch.stop()
	body := io.MultiReader(strings.NewReader(head.String()),
		&countingReader{r: f, onRead: func(n int) { prog.add(n); watch.moved() }},
		strings.NewReader(tail))
	req, err := cl.newRequest(ctx, http.MethodPost, "/assets", body)
	if err != nil {
		return nil, asset{}, err
	}
	req.ContentLength = int64(head.Len()) + st.Size() + int64(len(tail))
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	resp, err := cl.send(req)
	prog.done(err == nil)
	if err != nil {
		if watch.fired() {
			return nil, asset{}, fmt.Errorf("upload stalled: no progress for %s", stallTimeout)
		}
		return nil, asset{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, asset{}, fmt.Errorf("read answer: %w", err)
	}
	var a asset
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, asset{}, fmt.Errorf("decode answer: %w", err)
	}
	return raw, a, nil
}

type countingReader struct {
	r      io.Reader
	onRead func(int)
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	if n > 0 {
		cr.onRead(n)
	}
	return n, err
}

// progress draws "name  42%  3.1 MB/s" on one terminal line.
type progress struct {
	mu          sync.Mutex
	name        string
	total, sent int64
	w           io.Writer
	show        bool
	now         func() time.Time
	start, last time.Time
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent += int64(n)
	if !p.show {
		return
	}
	now := p.now()
	if now.Sub(p.last) < 100*time.Millisecond && p.sent < p.total {
		return
	}
	p.last = now
	fmt.Fprintf(p.w, "\r%s", progressLine(p.name, p.sent, p.total, now.Sub(p.start)))
}

func (p *progress) done(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.show {
		return
	}
	if ok {
		fmt.Fprintf(p.w, "\r%s\n", progressLine(p.name, p.total, p.total, p.now().Sub(p.start)))
	} else {
		fmt.Fprintln(p.w)
	}
}

// progressLine is one progress line: a bar, the percentage and the rate.
func progressLine(name string, sent, total int64, elapsed time.Duration) string {
	pct := 100
	if total > 0 {
		pct = int(sent * 100 / total)
	}
	const barWidth = 24
	filled := pct * barWidth / 100
	bar := strings.Repeat("#", filled) + strings.Repeat(".", barWidth-filled)
	rate := "-"
	if s := elapsed.Seconds(); s > 0 {
		rate = bytesHuman(int64(float64(sent)/s)) + "/s"
	}
	return fmt.Sprintf("%s [%s] %3d%%  %s of %s  %s   ", truncate(name, 30), bar, pct,
		bytesHuman(sent), bytesHuman(total), rate)
}

// stallWatch cancels a transfer that made no progress for stallTimeout.
type stallWatch struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel func()
	hit    bool
}

func newStallWatch(cancel func()) *stallWatch {
	w := &stallWatch{cancel: cancel}
	w.timer = time.AfterFunc(stallTimeout, func() {
		w.mu.Lock()
		w.hit = true
		w.mu.Unlock()
		cancel()
	})
	return w
}

func (w *stallWatch) moved() { w.timer.Reset(stallTimeout) }
func (w *stallWatch) stop()  { w.timer.Stop() }
func (w *stallWatch) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hit
}

func runMediaList(c *ctl, path string, args []string) error {
	fs := c.flags(path, "", "List uploaded media: sha256, size, type and when it was uploaded.")
	if _, err := c.parse(fs, args, 0, 0); err != nil {
		return err
	}
	cl, err := c.apiClient()
	if err != nil {
		return err
	}
	var as []asset
	raw, err := cl.callInto(c.ctx, http.MethodGet, "/assets", nil, &as)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(raw)
	}
	t := newTable("SHA256", "SIZE", "TYPE", "UPLOADED")
	for _, a := range as {
		ts := a.CreatedAt
		t.row(a.SHA256, bytesHuman(a.Size), a.MIME, when(&ts))
	}
	t.write(c.out)
	if len(as) == 0 {
		c.note("no media uploaded yet")
	}
	return nil
}
