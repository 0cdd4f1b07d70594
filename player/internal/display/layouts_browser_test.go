package display

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// layoutsProbe measures the shown screen: every visible box inside the
// viewport, the title's size against the screen height, whether the
// phrases that must stay whole sit on one line each (the client rects of
// the text range that spells them all share one line), and the header and
// ticker.
const layoutsProbe = `((phrases) => {
  const W = innerWidth, H = innerHeight;
  const out = {w: W, h: H, outside: [], split: [], missing: []};
  const l = document.querySelector('.layer.visible');
  const vis = e => e && !e.hidden && getComputedStyle(e).display !== 'none';
  const check = (name, e) => {
    if (!vis(e)) return;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.top < -0.5 || r.left < -0.5 || r.bottom > H + 0.5 || r.right > W + 0.5)
      out.outside.push(name + ' ' + JSON.stringify([r.left, r.top, r.right, r.bottom]));
  };
  if (l) {
    out.item = l.dataset.itemId;
    out.fit = l.dataset.fit || '';
    out.pages = Number(l.dataset.pages || 1);
    for (const [name, sel] of [['band', '.band'], ['title', '.title'], ['body', '.body'], ['text', '.text'], ['page', '.page-no']]) check(name, l.querySelector(sel));
    const t = l.querySelector('.title');
    out.title_px = t ? parseFloat(getComputedStyle(t).fontSize) : 0;
    const b = l.querySelector('.body');
    out.body_px = b ? parseFloat(getComputedStyle(b).fontSize) : 0;
    // The title's lines inside the layer: each line box below the band.
    const text = l.querySelector('.text');
    const tr = text && text.getBoundingClientRect();
    if (t && tr && t.getBoundingClientRect().bottom > tr.bottom + 1) out.outside.push('title below its text box');
    for (const p of phrases) {
      let found = false;
      for (const host of [t, b]) {
        if (!host) continue;
        const walker = document.createTreeWalker(host, NodeFilter.SHOW_TEXT);
        const nodes = []; let all = '';
        while (walker.nextNode()) { nodes.push([walker.currentNode, all.length]); all += walker.currentNode.data; }
        const at = all.indexOf(p);
        if (at < 0) continue;
        found = true;
        const pos = i => { for (let k = nodes.length - 1; k >= 0; k--) if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]]; };
        const r = document.createRange();
        const [sn, so] = pos(at); const [en, eo] = pos(at + p.length - 1);
        r.setStart(sn, so); r.setEnd(en, eo + 1);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size !== 1) out.split.push(p + ' on ' + tops.size + ' lines');
      }
      if (!found) out.missing.push(p);
    }
  }
  const hdr = document.getElementById('hdr'), tk = document.getElementById('ticker');
  out.header = vis(hdr); out.ticker = vis(tk);
  if (out.header) { check('header', hdr); out.header_text = hdr.textContent; }
  if (out.ticker) { check('ticker', tk); out.ticker_text = tk.querySelector('.tk-run').textContent; }
  if (l && out.header && l.getBoundingClientRect().top < hdr.getBoundingClientRect().bottom - 0.5) out.outside.push('item under the header');
  if (l && out.ticker && l.getBoundingClientRect().bottom > tk.getBoundingClientRect().top + 0.5) out.outside.push('item under the ticker');
  return JSON.stringify(out);
})`

type layoutsShot struct {
	W, H       float64
	Item, Fit  string
	Pages      int
	TitlePX    float64 `json:"title_px"`
	BodyPX     float64 `json:"body_px"`
	Outside    []string
	Split      []string
	Missing    []string
	Header     bool
	Ticker     bool
	HeaderText string `json:"header_text"`
	TickerText string `json:"ticker_text"`
}

// frameSampler records, on every animation frame, whether some layer (or
// the clock screen) covers the stage opaquely with content in it: a frame
// where none does is a blank frame. It keeps sampling until stopped. A
// timer samples too, every 10 ms: headless Chromium on a loaded machine
// may draw only a few frames a second, and the computed opacity of a
// running transition is its value at the moment asked.
const frameSampler = `(() => {
  window.__frames = 0; window.__blank = 0; window.__items = new Set();
  const covered = () => {
    for (const e of document.querySelectorAll('.layer, #fallback')) {
      const st = getComputedStyle(e);
      if (parseFloat(st.opacity) >= 0.98 && st.display !== 'none' && e.childElementCount > 0) return e.dataset.itemId || 'fallback';
    }
    return '';
  };
  const step = () => {
    window.__frames++;
    const c = covered();
    if (!c) window.__blank++; else window.__items.add(c);
    if (!window.__stop) requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
  const iv = setInterval(() => {
    if (window.__stop) { clearInterval(iv); return; }
    window.__frames++;
    const c = covered();
    if (!c) window.__blank++; else window.__items.add(c);
  }, 10);
  return true;
})()`

// TestLayoutsInChromium: every layout at 1920x1080 and 1080x1920 keeps all
// boxes on screen and the title at 4 % of the screen height or more, does
// not split "3 号楼", "12 月 5 日" or "法律援助工作站" across lines, shows
// the header and the ticker as chosen, pages a body too long for the
// screen, shows no blank frame while items change, and gives way to an
// urgent notice, which covers every layout.
func TestLayoutsInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	phrases := []string{"3 号楼", "12 月 5 日", "法律援助工作站", "社区服务中心"}

	water := item("water", playlists.KindNotice, 2)
	water.Title = "3 号楼 12 月 5 日停水，法律援助工作站照常开放"
	water.Body = "因管道检修，3 号楼 12 月 5 日 8:00 至 17:00 停水，请提前储水。\n法律援助工作站当天照常开放，地址：社区服务中心二楼。"
	story := item("story", playlists.KindLegalStory, 2)
	story.Title = "每月一法：法律援助工作站为您解答邻里纠纷"
	story.Body = strings.Repeat(longNotice, 3) // far too long for one screen: paged
	clinic := item("clinic", playlists.KindNotice, 2)
	clinic.Title = "社区卫生服务站周六照常开放"
	clinic.Body = "开放时间：上午 8:00 至 11:30。"

	s := New(Options{Logger: quietLogger(), DistrictName: "东湖街道",
		Status: func() SyncStatus { return SyncStatus{ScreenName: "3 号楼大堂"} }})
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	var ctx context.Context // one browser per subtest: each gets its own deadline

	build := func(layout string, items ...playlists.Item) *playlists.Manifest {
		m := rotationManifest(items...)
		if layout != playlists.LayoutFull {
			m.Layout, m.Header = layout, "阳光小区"
		}
		m.Seal()
		return m
	}
	probe := func(t *testing.T) layoutsShot {
		t.Helper()
		ph, _ := json.Marshal(phrases)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](layoutsProbe+"("+string(ph)+")"))
		if err != nil {
			t.Fatalf("measure the page: %v", err)
		}
		var sh layoutsShot
		if err := json.Unmarshal([]byte(raw), &sh); err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		return sh
	}
	shows := func(id string) string {
		return fmt.Sprintf(`(() => { const l = document.querySelector('.layer.visible');
			return l !== null && l.dataset.itemId === %q && !document.querySelector('.layer.behind'); })()`, id)
	}
	// shot saves the screen when KIOSK_SCREENSHOT is set: into that
	// directory, or else beside that path prefix, as the e2e tests do.
	shot := func(t *testing.T, name string) {
		base := os.Getenv("KIOSK_SCREENSHOT")
		if base == "" {
			return
		}
		file := base + ".screen-" + name + ".png"
		if fi, err := os.Stat(base); err == nil && fi.IsDir() {
			file = filepath.Join(base, "screen-"+name+".png")
		}
		time.Sleep(time.Second) // past the crossfade and a page's smooth scroll
		buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		if err := os.WriteFile(file, buf, 0o644); err != nil {
			t.Logf("screenshot %s: %v", name, err)
		}
	}

	for _, vp := range []struct {
		name string
		w, h int64
	}{{"landscape", 1920, 1080}, {"portrait", 1080, 1920}} {
		for _, layout := range []string{playlists.LayoutFull, playlists.LayoutHeader, playlists.LayoutHeaderTicker} {
			t.Run(vp.name+"/"+layout, func(t *testing.T) {
				ctx = newBrowser(t, chrome)
				// A long rotation first, to measure each item at rest.
				still := func(it playlists.Item) playlists.Item { it.DurationS = 600; return it }
				s.SetManifest(build(layout, still(water)))
				if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.w, vp.h), chromedp.Navigate(srv.URL+"/")); err != nil {
					t.Fatalf("open the page at %dx%d: %v", vp.w, vp.h, err)
				}
				waitJS(t, ctx, "the water notice", shows("water"))
				sh := probe(t)
				checkShot(t, sh, layout)
				if sh.Fit == "cut" {
					t.Errorf("the water notice was cut, want it to fit")
				}
				if len(sh.Missing) > 0 {
					t.Errorf("phrases not found on screen: %v", sh.Missing)
				}
				if layout == playlists.LayoutHeaderTicker && !strings.Contains(sh.TickerText, water.Title) {
					t.Errorf("ticker says %q, want the notice's title", sh.TickerText)
				}
				shot(t, vp.name+"-"+layout)

				// The story pages within its 9 s: a page every 3 s or so.
				paged := story
				paged.DurationS = 9
				s.SetManifest(build(layout, paged, still(clinic)))
				waitJS(t, ctx, "the long story", shows("story"))
				sh = probe(t)
				checkShot(t, sh, layout)
				if sh.Fit != "paged" || sh.Pages < 2 {
					t.Errorf("a %d-character body: fit %q in %d pages, want it paged", len([]rune(story.Body)), sh.Fit, sh.Pages)
				}
				if sh.BodyPX < 3.2*min(sh.H, 1.15*sh.W)/100-0.5 {
					t.Errorf("paged body at %.1fpx, want the 3.2u floor or more", sh.BodyPX)
				}
				if layout == playlists.LayoutHeaderTicker && (strings.Contains(sh.TickerText, story.Title) || !strings.Contains(sh.TickerText, clinic.Title)) {
					t.Errorf("ticker says %q, want the notices' titles only", sh.TickerText)
				}
				waitJS(t, ctx, "the story's second page", `(() => { const n = document.querySelector('.layer.visible .page-no');
					return n !== null && /^2 \/ \d+$/.test(n.textContent); })()`)
				shot(t, vp.name+"-"+layout+"-paged")

				// Items of 2 s: sample every frame across three changes.
				if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](frameSampler)); err != nil {
					t.Fatalf("start the frame sampler: %v", err)
				}
				s.SetManifest(build(layout, water, story, clinic))
				waitJS(t, ctx, "three items through the frame sampler", `window.__items.has('water') && window.__items.has('story') && window.__items.has('clinic')`)
				raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { window.__stop = true; return JSON.stringify([window.__frames, window.__blank]); })()`))
				if err != nil {
					t.Fatalf("read the frame sampler: %v", err)
				}
				var fr [2]int
				_ = json.Unmarshal([]byte(raw), &fr)
				if fr[0] < 30 || fr[1] != 0 {
					t.Errorf("%d frames sampled, %d blank; want some frames and none blank", fr[0], fr[1])
				}

				// An urgent notice covers the layout, header and ticker too.
				now := time.Now()
				m := build(layout, still(water))
				u := notice("u-"+layout, now, now.Add(time.Hour))
				u.Title = "燃气泄漏，3 号楼请立即撤离"
				u.Body = longNotice + "\n" + longNotice // long: shrunk or paged, never cut
				m.Urgent = []playlists.Urgent{u}
				m.Seal()
				s.SetManifest(m)
				waitJS(t, ctx, "the urgent notice over the layout", `(() => {
					const b = document.getElementById('urgent');
					if (!b || !b.classList.contains('visible')) return false;
					const r = b.getBoundingClientRect();
					const top = document.elementFromPoint(innerWidth / 2, 2), bottom = document.elementFromPoint(innerWidth / 2, innerHeight - 2);
					return r.width === innerWidth && r.height === innerHeight && b.contains(top) && b.contains(bottom); })()`)
				raw, err = chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const b = document.getElementById('urgent');
					const ti = b.querySelector('.title');
					const outside = [...b.querySelectorAll('.band, .title, .body, .u-until')].filter((e) => { const r = e.getBoundingClientRect();
						return r.top < -0.5 || r.left < -0.5 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5; }).length;
					return JSON.stringify({fit: b.dataset.fit || '', title_share: parseFloat(getComputedStyle(ti).fontSize) / innerHeight, outside}); })()`))
				if err != nil {
					t.Fatalf("measure the urgent notice: %v", err)
				}
				var ur struct {
					Fit        string
					TitleShare float64 `json:"title_share"`
					Outside    int
				}
				if err := json.Unmarshal([]byte(raw), &ur); err != nil {
					t.Fatalf("decode %s: %v", raw, err)
				}
				if ur.Fit == "cut" || ur.Fit == "" || ur.TitleShare < 0.04 || ur.Outside != 0 {
					t.Errorf("urgent notice with a long body: fit %q, title %.1f%% of the height, %d boxes off screen; want it fitted or paged, the title at 4%% or more, all on screen (%s)", ur.Fit, 100*ur.TitleShare, ur.Outside, raw)
				}
				shot(t, vp.name+"-"+layout+"-urgent")
			})
		}
	}
}

// checkShot holds what every screen must: boxes on screen, the title at
// 4 % of the screen height or more, phrases whole, header and ticker as the
// layout says.
func checkShot(t *testing.T, sh layoutsShot, layout string) {
	t.Helper()
	if len(sh.Outside) > 0 {
		t.Errorf("%s: boxes outside the %gx%g screen: %v", sh.Item, sh.W, sh.H, sh.Outside)
	}
	if sh.TitlePX < 0.04*sh.H-0.5 {
		t.Errorf("%s: title %.1fpx on a %gpx tall screen (%.1f%%), want at least 4%%", sh.Item, sh.TitlePX, sh.H, 100*sh.TitlePX/sh.H)
	}
	if len(sh.Split) > 0 {
		t.Errorf("%s: split across lines: %v", sh.Item, sh.Split)
	}
	if want := layout != playlists.LayoutFull; sh.Header != want {
		t.Errorf("%s: header shown %v, want %v", sh.Item, sh.Header, want)
	}
	if sh.Header && (!strings.Contains(sh.HeaderText, "阳光小区") || !strings.Contains(sh.HeaderText, ":")) {
		t.Errorf("%s: header says %q, want the compound's name and the time", sh.Item, sh.HeaderText)
	}
	if want := layout == playlists.LayoutHeaderTicker; sh.Ticker != want {
		t.Errorf("%s: ticker shown %v, want %v", sh.Item, sh.Ticker, want)
	}
}
