package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"
)

// adminTimeout bounds one admin request; an import of 19,000 screens is
// the slowest.
const adminTimeout = 5 * time.Minute

// admin calls the admin API with the admin token and decodes a JSON answer
// into out (when non-nil).
func (r *runner) admin(ctx context.Context, method, path, contentType string, body io.Reader, out any) error {
	ctx, cancel := context.WithTimeout(ctx, adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+r.cfg.AdminToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.adminHTTP.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Code string }
		json.Unmarshal(data, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(data[:min(len(data), 200)]))
		}
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func adminJSON(v any) (string, io.Reader) {
	b, _ := json.Marshal(v)
	return "application/json", bytes.NewReader(b)
}

// createScreens registers cfg.Create screens with one bulk import and
// writes their device tokens to cfg.TokensFile.
func (r *runner) createScreens(ctx context.Context) error {
	stamp := time.Now().UTC().Format("20060102-150405")
	type row struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	rows := make([]row, r.cfg.Create)
	for i := range rows {
		rows[i] = row{Name: fmt.Sprintf("loadtest-%s-%05d", stamp, i), Tags: []string{"loadtest"}}
	}
	var got struct {
		Screens []struct{ ID, Token string } `json:"screens"`
	}
	ct, body := adminJSON(map[string]any{"screens": rows})
	began := time.Now()
	if err := r.admin(ctx, http.MethodPost, "/api/v1/screens/import", ct, body, &got); err != nil {
		return fmt.Errorf("import screens: %w", err)
	}
	took := time.Since(began)
	if len(got.Screens) != r.cfg.Create {
		return fmt.Errorf("import screens: asked for %d, the answer lists %d", r.cfg.Create, len(got.Screens))
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# %d device tokens created by kiosk-loadtest at %s\n", r.cfg.Create, stamp)
	for i, sc := range got.Screens {
		if sc.Token == "" {
			return fmt.Errorf("import screens: screen %d has no token in the answer", i)
		}
		out.WriteString(sc.Token + "\n")
	}
	if err := os.WriteFile(r.cfg.TokensFile, out.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	r.log.Info("screens imported", "count", r.cfg.Create, "took", took.Round(time.Millisecond), "tokens", r.cfg.TokensFile)
	return nil
}

// publishMarker starts the title of the publish item; the number after it
// tells a screen which publish a manifest carries.
func publishMarker(runID string) string { return "kiosk-loadtest " + runID + " publish " }

// itemBody is the notice the publishes edit.
type itemBody struct {
	ID        string `json:"id,omitempty"`
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Asset     string `json:"asset"`
	DurationS int    `json:"duration_s"`
}

// setupContent makes what the publishes change: an image, a notice showing
// it, a playlist of that notice, and a schedule of the playlist for all
// screens. Every publish then edits the notice's title, one write that
// changes every screen's manifest.
func (r *runner) setupContent(ctx context.Context) error {
	img, err := noisePNG(r.cfg.AssetBytes)
	if err != nil {
		return err
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, err := mw.CreateFormFile("file", "kiosk-loadtest-"+r.runID+".png")
	if err != nil {
		return err
	}
	fw.Write(img)
	mw.Close()
	var asset struct{ SHA256 string }
	if err := r.admin(ctx, http.MethodPost, "/api/v1/assets", mw.FormDataContentType(), &mp, &asset); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.item = itemBody{Kind: "notice", Body: "A simulated screen's notice; each publish rewrites its title.", Asset: asset.SHA256, DurationS: r.cfg.ItemS}
	r.item.Title = "kiosk-loadtest " + r.runID + " setup"
	var created struct {
		ID        string
		Changeset string
	}
	ct, body := adminJSON(r.item)
	if err := r.admin(ctx, http.MethodPost, "/api/v1/items", ct, body, &created); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if created.Changeset != "" {
		return fmt.Errorf("setup: the token's writes wait for review (change set %s); use an admin token, whose writes publish at once", created.Changeset)
	}
	r.item.ID = created.ID
	ct, body = adminJSON(map[string]any{"name": "kiosk-loadtest " + r.runID, "items": []string{created.ID}})
	var pl struct{ ID string }
	if err := r.admin(ctx, http.MethodPost, "/api/v1/playlists", ct, body, &pl); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	ct, body = adminJSON(map[string]any{"playlist": pl.ID, "target": map[string]any{"all": true}})
	if err := r.admin(ctx, http.MethodPost, "/api/v1/schedules", ct, body, nil); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.log.Info("content set up", "item", created.ID, "playlist", pl.ID, "asset", asset.SHA256, "asset_bytes", len(img))
	return nil
}

// publish makes publish k (0-based): the notice's title names it.
func (r *runner) publish(ctx context.Context, k int) {
	p := r.rec.pubs[k]
	it := r.item
	it.Title = fmt.Sprintf("%s%d", publishMarker(r.runID), k)
	ct, body := adminJSON(it)
	began := time.Now()
	p.t0.Store(began.UnixNano())
	var ans struct{ Changeset string }
	err := r.admin(ctx, http.MethodPut, "/api/v1/items/"+it.ID, ct, body, &ans)
	p.writeNS = int64(time.Since(began))
	switch {
	case err != nil:
		p.err = err.Error()
	case ans.Changeset != "":
		p.err = "the write went to change set " + ans.Changeset + " instead of publishing"
	}
	if p.err != "" {
		r.rec.fail("publish: write failed")
		r.log.Warn("publish failed", "publish", k+1, "error", p.err)
	}
}

// noisePNG encodes random pixels, which PNG cannot compress: about size
// bytes of a real image the server accepts.
func noisePNG(size int) ([]byte, error) {
	side := max(int(math.Sqrt(float64(size)/4)), 8)
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	rnd := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i := range img.Pix {
		img.Pix[i] = byte(rnd.Uint32())
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
