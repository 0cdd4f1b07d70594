package display

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"kiosk/playlists"
)

// layoutProbe measures the page as a resident three metres away sees it.
// Sizes are in u, the page's own text unit (app.css --u): 1vh on a
// landscape screen, 1.15vw on a portrait one.
const layoutProbe = `(() => {
  const u = Math.min(innerHeight, 1.15 * innerWidth) / 100;
  const box = e => { if (!e) return null; const r = e.getBoundingClientRect();
    return {top: r.top / u, bottom: r.bottom / u, left: r.left / u, right: r.right / u, width: r.width / u, height: r.height / u}; };
  const px = e => e ? parseFloat(getComputedStyle(e).fontSize) / u : 0;
  const l = document.querySelector('.layer.visible');
  const c = l && l.querySelector('.content');
  const t = l && l.querySelector('.text');
  const title = l && l.querySelector('.title');
  const body = l && l.querySelector('.body');
  const img = l && l.querySelector('.media img');
  const band = l && l.querySelector('.band');
  return JSON.stringify({
    vw: innerWidth / u, vh: innerHeight / u,
    title_size: px(title), body_size: px(body), band_size: px(band),
    title: box(title), body: box(body), text: box(t), band: box(band), img: box(img),
    content_top: c ? box(c).top + parseFloat(getComputedStyle(c).paddingTop) / u : 0,
    content_bottom: c ? box(c).bottom - parseFloat(getComputedStyle(c).paddingBottom) / u : 0,
    overflow: t ? t.scrollHeight - t.clientHeight : 0,
    clamped: !!(c && c.classList.contains('clamped')),
    clock: box(document.getElementById('fb-clock')),
    date: box(document.getElementById('fb-date')),
  });
})()`

type rect struct{ Top, Bottom, Left, Right, Width, Height float64 }

type layout struct {
	VW, VH                  float64
	TitleSize               float64 `json:"title_size"`
	BodySize                float64 `json:"body_size"`
	BandSize                float64 `json:"band_size"`
	Title, Body, Text, Band *rect
	Img, Clock, Date        *rect
	ContentTop              float64 `json:"content_top"`
	ContentBottom           float64 `json:"content_bottom"`
	Overflow                float64
	Clamped                 bool
}

// inside reports whether r lies within the viewport, with half a unit of
// slack for rounding.
func (l layout) inside(r *rect) bool {
	return r != nil && r.Top >= -0.5 && r.Left >= -0.5 && r.Bottom <= l.VH+0.5 && r.Right <= l.VW+0.5
}

// longNotice is about 200 characters, the longest a district notice runs.
const longNotice = "为进一步做好辖区防汛工作，保障居民生命财产安全，街道办事处定于本月十五日至二十日开展地下车库、" +
	"低洼院落及老旧小区排水设施专项检查。检查期间，请各位居民配合工作人员入户查看阳台、" +
	"厨房及卫生间排水情况，及时清理堆放在楼道和地下空间的杂物。如发现积水、渗漏或电路隐患，" +
	"请立即拨打社区服务热线 12345 或到社区服务中心一楼窗口登记，我们将在二十四小时内安排专人上门处理。"

// TestLayoutInChromium renders a short text item, a long notice, an image
// item and the clock on a landscape and a portrait 1080p screen and checks
// what makes them legible from a distance: large type, at most about 22
// characters a line, short text centred below the band, a long notice
// fitted on screen, a large picture with its title beside or under it,
// and nothing outside the screen.
func TestLayoutInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chrome := chromiumPath(t)
	pic := testPNG(t) // 16:9
	picRef := assetRef(pic, "image/png")

	short := item("short", playlists.KindNotice, 600)
	short.Title = "社区卫生服务站周六照常开放"
	short.Body = "开放时间：上午 8:00 至 11:30。\n请携带医保卡。"
	long := item("long", playlists.KindNotice, 600)
	long.Title = "关于开展汛期排水设施专项检查的通知"
	long.Body = longNotice
	img := item("img", playlists.KindPSA, 600)
	img.Title = "防范电信诈骗，守护您的钱袋子"
	img.Body = "陌生来电要求转账，先挂断再核实。\n全国反诈专线 96110。"
	img.Asset = picRef.SHA256

	s := New(Options{Media: memMedia{picRef.SHA256: pic}, Logger: quietLogger(), DistrictName: "东湖街道"})
	startRun(t, s)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	ctx := newBrowser(t, chrome)

	measure := func(t *testing.T, w, h int64, m *playlists.Manifest, ready string) layout {
		t.Helper()
		s.SetManifest(m)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, h), chromedp.Navigate(srv.URL+"/")); err != nil {
			t.Fatalf("open the kiosk page at %dx%d: %v", w, h, err)
		}
		waitJS(t, ctx, ready, ready)
		raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](layoutProbe))
		if err != nil {
			t.Fatalf("measure the page: %v", err)
		}
		var l layout
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("decode the measurements %s: %v", raw, err)
		}
		return l
	}
	shows := func(id string) string {
		return fmt.Sprintf(`(() => { const l = document.querySelector('.layer.visible');
			const im = l && l.querySelector('.media img');
			return l !== null && l.dataset.itemId === %q && (im === null || im.complete); })()`, id)
	}

	for _, vp := range []struct {
		name      string
		w, h      int64
		landscape bool
	}{
		{"landscape", 1920, 1080, true},
		{"portrait", 1080, 1920, false},
	} {
		t.Run(vp.name+"/short text", func(t *testing.T) {
			l := measure(t, vp.w, vp.h, rotationManifest(short), shows("short"))
			if l.TitleSize < 7 || l.TitleSize > 9.5 {
				t.Errorf("title %.1fu, want 7 to 9.5", l.TitleSize)
			}
			if l.BodySize < 4.5 {
				t.Errorf("body %.1fu, want at least 4.5", l.BodySize)
			}
			if l.BandSize < 5 {
				t.Errorf("kind band text %.1fu, want at least 5", l.BandSize)
			}
			if l.Body == nil {
				t.Fatal("no body on screen")
			}
			if chars := l.Body.Width / l.BodySize; chars > 22.5 {
				t.Errorf("body lines %.1f characters wide, want at most 22", chars)
			}
			// Centred below the band: the space above the text and below it
			// differ by little.
			if l.Title == nil || l.Body == nil {
				t.Fatalf("title %v, body %v: want both on screen", l.Title, l.Body)
			}
			above, below := l.Title.Top-l.ContentTop, l.ContentBottom-l.Body.Bottom
			if above < 5 || diff(above, below) > 3 {
				t.Errorf("%.1fu above the text and %.1fu below it, want it centred vertically", above, below)
			}
			left, right := l.Text.Left, l.VW-l.Text.Right
			if diff(left, right) > 3 {
				t.Errorf("%.1fu left of the text and %.1fu right of it, want it centred horizontally", left, right)
			}
			for name, r := range map[string]*rect{"title": l.Title, "body": l.Body} {
				if !l.inside(r) {
					t.Errorf("%s at %+v, want inside the %.0fx%.0fu screen", name, r, l.VW, l.VH)
				}
			}
		})

		t.Run(vp.name+"/long notice", func(t *testing.T) {
			l := measure(t, vp.w, vp.h, rotationManifest(long), shows("long"))
			if l.Overflow > 1 || l.Clamped {
				t.Errorf("a 200-character notice overflows by %.0fpx (clamped %v), want it shrunk to fit", l.Overflow, l.Clamped)
			}
			if l.BodySize < 3.2 {
				t.Errorf("body %.1fu, want at least the 3.2u floor", l.BodySize)
			}
			if l.Body == nil {
				t.Fatal("no body on screen")
			}
			if chars := l.Body.Width / l.BodySize; chars > 22.5 {
				t.Errorf("body lines %.1f characters wide, want at most 22", chars)
			}
			if !l.inside(l.Body) {
				t.Errorf("body at %+v, want inside the %.0fx%.0fu screen", l.Body, l.VW, l.VH)
			}
		})

		t.Run(vp.name+"/image with body", func(t *testing.T) {
			m := rotationManifest(img)
			m.Assets = []playlists.AssetRef{picRef}
			m.Seal()
			l := measure(t, vp.w, vp.h, m, shows("img"))
			if l.Img == nil || l.Title == nil || l.Body == nil {
				t.Fatalf("image %v, title %v, body %v: want all three", l.Img, l.Title, l.Body)
			}
			if l.TitleSize < 5.5 {
				t.Errorf("title %.1fu, want at least 5.5", l.TitleSize)
			}
			if vp.landscape {
				// Beside the picture, which keeps most of the height.
				if l.Img.Height < 0.55*l.VH {
					t.Errorf("image %.1fu tall on a %.1fu screen, want at least 55%%", l.Img.Height, l.VH)
				}
				if l.Text.Left < l.Img.Right {
					t.Errorf("text starts at %.1fu, image ends at %.1fu: want the text beside the image", l.Text.Left, l.Img.Right)
				}
			} else {
				if l.Img.Width < 0.85*l.VW {
					t.Errorf("image %.1fu wide on a %.1fu screen, want at least 85%%", l.Img.Width, l.VW)
				}
				if l.Title.Top < l.Img.Bottom {
					t.Errorf("title starts at %.1fu, image ends at %.1fu: want the title under the image", l.Title.Top, l.Img.Bottom)
				}
			}
			for name, r := range map[string]*rect{"image": l.Img, "title": l.Title, "body": l.Body} {
				if !l.inside(r) {
					t.Errorf("%s at %+v, want inside the %.0fx%.0fu screen", name, r, l.VW, l.VH)
				}
			}
		})

		t.Run(vp.name+"/clock", func(t *testing.T) {
			l := measure(t, vp.w, vp.h, nil, `document.getElementById('fallback').classList.contains('visible') &&
				/^\d\d:\d\d$/.test(document.getElementById('fb-clock').textContent)`)
			for name, r := range map[string]*rect{"clock": l.Clock, "date": l.Date} {
				if !l.inside(r) {
					t.Errorf("%s at %+v, want inside the %.0fx%.0fu screen", name, r, l.VW, l.VH)
				}
			}
			if l.Date != nil && l.Date.Height > 10 {
				t.Errorf("date %.1fu tall, want one line", l.Date.Height)
			}
		})
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}
