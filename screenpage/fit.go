package screenpage

import (
	"fmt"
	"math"
	"strings"
	"unicode"
)

// The fit estimator predicts, without a browser, how the page will set an
// item's text on a screen: at full size, shrunk, with the body in pages,
// or cut. It mirrors the sizes in web/app.css (every one a multiple of the
// page's unit u = min(1vh, 1.15vw)) and the steps of fit() in web/app.js;
// TestEstimateMatchesChromium in the player's display package holds the
// two together. It is an estimate: glyph widths are averaged (a Chinese
// character is 1 em, a Latin letter or digit about 0.55 em) and the
// browser's line breaking is approximated, so near the edges it may be a
// line off either way.

// Page constants, in u unless named otherwise (web/app.css).
const (
	bandU          = 11.0
	headerU        = 8.0 // body.layout-header --hdr
	tickerU        = 7.0 // body.layout-ticker --tick
	padYU, padXU   = 5.0, 6.0
	mediaPadYU     = 4.0
	mediaPadXU     = 5.0
	gapU           = 3.0
	titleU         = 8.5
	bodyU          = 4.8
	mediaTitleU    = 6.5
	mediaBodyU     = 4.2
	portraitTitleU = 7.5 // with media, portrait
	portraitBodyU  = 4.8
	titleMinU      = 5.0
	mediaTitleMinU = 5.5
	bodyMinU       = 3.2
	titleMarginU   = 3.0
	titleLineH     = 1.45
	bodyLineH      = 1.5
	titleMaxEm     = 16.0
	bodyMaxEm      = 22.0
	// TitleFloor is the legibility floor of a title as a share of the
	// screen height: from three metres, smaller is hard to read.
	TitleFloor = 0.04
	// minPageLines: fewer body lines than this on a page is cut, not paged.
	minPageLines = 2
	// MinPageSeconds is the least time a page of body text should stay up
	// for a resident to read it.
	MinPageSeconds = 6.0
)

// fitSteps are the scale steps of app.css .fit-1 ... .fit-4 (1 = none).
var fitSteps = []float64{1, 0.88, 0.76, 0.64, 0.5}

// Screen is a screen size in CSS pixels and the layout it shows.
type Screen struct {
	Name   string `json:"orientation"` // landscape or portrait
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Layout string `json:"layout"` // full, header, header_ticker ("" is full)
}

// Landscape and Portrait are the 1080p panels the preview shows.
var (
	Landscape = Screen{Name: "landscape", Width: 1920, Height: 1080}
	Portrait  = Screen{Name: "portrait", Width: 1080, Height: 1920}
)

// Text is what the estimator needs of an item.
type Text struct {
	Title     string
	Body      string
	Media     bool // a picture or video shows beside or above the text
	DurationS int  // the item's time on screen, for paging
}

// Fit statuses.
const (
	FitOK     = "ok"     // fits at full size
	FitShrunk = "shrunk" // fits once shrunk, above the floor
	FitPaged  = "paged"  // the body goes in pages
	FitCut    = "cut"    // text is cut off
)

// Fit is the estimate for one screen.
type Fit struct {
	Screen
	Status      string  `json:"status"`
	TitlePX     float64 `json:"title_px"`
	TitleShare  float64 `json:"title_share"` // of the screen height
	BodyPX      float64 `json:"body_px"`
	TitleLines  int     `json:"title_lines"`
	BodyLines   int     `json:"body_lines"`
	Pages       int     `json:"pages"`
	PageSeconds float64 `json:"page_seconds"`
	// TitleTooLong: even at the floor the title leaves no room (it is cut).
	TitleTooLong bool `json:"title_too_long"`
}

// Estimate sets t on s the way the page would.
func Estimate(t Text, s Screen) Fit {
	W, H := float64(s.Width), float64(s.Height)
	u := math.Min(H/100, 1.15*W/100)
	f := Fit{Screen: s, Status: FitOK, Pages: 1}
	if f.Layout == "" {
		f.Layout = "full"
	}
	top := 0.0
	switch f.Layout {
	case "header":
		top = headerU * u
	case "header_ticker":
		top = (headerU + tickerU) * u
	}
	portrait := W/H <= 1
	wide := W/H >= 1.5
	hasBody := strings.TrimSpace(t.Body) != ""

	titleSize, bodySize, titleMin := titleU*u, bodyU*u, math.Max(titleMinU*u, TitleFloor*H)
	padY, padX := padYU*u, padXU*u
	contentH := H - top - bandU*u
	textW := W - 2*padX
	textH := contentH - 2*padY
	if t.Media {
		titleSize, bodySize, titleMin = mediaTitleU*u, mediaBodyU*u, math.Max(mediaTitleMinU*u, TitleFloor*H)
		padY, padX = mediaPadYU*u, mediaPadXU*u
		textW = W - 2*padX
		inner := contentH - 2*padY
		switch {
		case portrait:
			titleSize, bodySize = portraitTitleU*u, portraitBodyU*u
			textH = math.Min(0.45*H, inner*0.6)
		case wide && hasBody:
			// Beside the picture: a column 9/25 of the width, full height.
			textW = (textW - 5*u) * 9 / 25
			textH = inner
		default:
			textH = math.Min(0.30*H, inner*0.6)
		}
	}
	bodyMin := bodyMinU * u

	measure := func(scale float64) (tpx, bpx, th, bh float64, tl, bl int) {
		tpx = math.Max(titleMin, titleSize*scale)
		bpx = math.Max(bodyMin, bodySize*scale)
		tl = lines(strings.Join(strings.Fields(t.Title), " "), math.Min(textW, titleMaxEm*tpx)/tpx, false)
		th = float64(tl)*tpx*titleLineH + titleMarginU*u
		if hasBody {
			bl = lines(t.Body, math.Min(textW, bodyMaxEm*bpx)/bpx, true)
			bh = float64(bl) * bpx * bodyLineH
		}
		return
	}
	for i, scale := range fitSteps {
		tpx, bpx, th, bh, tl, bl := measure(scale)
		f.TitlePX, f.BodyPX, f.TitleLines, f.BodyLines = round1(tpx), round1(bpx), tl, bl
		if th+bh <= textH+1 {
			if i > 0 {
				f.Status = FitShrunk
			}
			f.finish(u, t)
			return f
		}
	}
	// At the floor and still too long.
	tpx, bpx, th, _, _, bl := measure(fitSteps[len(fitSteps)-1])
	room := textH - th
	perPage := int(math.Floor(room / (bpx * bodyLineH)))
	switch {
	case hasBody && perPage >= minPageLines:
		f.Status = FitPaged
		f.Pages = (bl + perPage - 1) / perPage
	default:
		f.Status = FitCut
		f.TitleTooLong = th > textH-minPageLines*bpx*bodyLineH || !hasBody
		_ = tpx
	}
	f.finish(u, t)
	return f
}

func (f *Fit) finish(u float64, t Text) {
	f.TitleShare = math.Round(f.TitlePX/float64(f.Height)*1000) / 1000
	d := t.DurationS
	if d <= 0 {
		d = 10
	}
	f.PageSeconds = math.Round(float64(d)/float64(f.Pages)*10) / 10
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

// lines counts the lines text takes in a box width ems wide. preWrap keeps
// the text's own line breaks (the body); otherwise they are spaces.
func lines(text string, width float64, preWrap bool) int {
	if width <= 0 {
		return 1 << 20
	}
	// The page keeps runs whole (numbers with units, words, names) and
	// never starts a line with closing punctuation, so its lines come out
	// a little shorter than the box: a 4 % margin covers that on average.
	width *= 0.96
	paras := []string{text}
	if preWrap {
		paras = strings.Split(text, "\n")
	}
	n := 0
	for _, p := range paras {
		n += paraLines(p, width)
	}
	return n
}

// paraLines wraps one paragraph greedily: a line may break after any
// Chinese character or at a space, but not inside a Latin word or number.
func paraLines(p string, width float64) int {
	p = strings.TrimRight(p, " \t")
	if p == "" {
		return 1
	}
	count, line, word := 1, 0.0, 0.0
	flushWord := func() {
		if word == 0 {
			return
		}
		if line+word > width && line > 0 {
			count++
			line = 0
		}
		for word > width { // a word longer than a line breaks anywhere
			count++
			word -= width
		}
		line += word
		word = 0
	}
	for _, r := range p {
		w := runeWidth(r)
		switch {
		case r == ' ' || r == '\t':
			flushWord()
			if line+w <= width {
				line += w
			}
		case wide(r):
			flushWord()
			if line+w > width+0.001 {
				count++
				line = 0
			}
			line += w
		default:
			word += w
		}
	}
	flushWord()
	return count
}

// wide: Chinese, Japanese and Korean characters and full-width forms,
// 1 em each.
func wide(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) ||
		unicode.Is(unicode.Hangul, r) || (r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

func runeWidth(r rune) float64 {
	switch {
	case wide(r):
		return 1
	case r == ' ' || r == '\t':
		return 0.25
	case unicode.IsUpper(r) || r == 'm' || r == 'w':
		return 0.65
	case r == 'i' || r == 'l' || r == 'j' || r == '.' || r == ',' || r == ':' || r == ';' || r == '\'' || r == '!' || r == '|':
		return 0.3
	}
	return 0.55
}

// Warning is a note on an item's text that saving does not refuse: the
// page will show it, but not as the editor may expect.
type Warning struct {
	Code        string `json:"code"`
	Field       string `json:"field"`
	Message     string `json:"message"`
	Orientation string `json:"orientation"`
	Pages       int    `json:"pages,omitempty"`
}

// Warning codes.
const (
	WarnTitleBelowFloor = "title_below_floor" // the title only fits below the floor: cut
	WarnBodyPaged       = "body_paged"        // the body needs several pages
	WarnPagesTooFast    = "body_pages_fast"   // ... each up for less than MinPageSeconds
	WarnTextCut         = "text_cut"          // the body is cut (too little room to page)
)

// Warnings estimates t on both panels (in layout) and says what an editor
// should know before the item goes on screens.
func Warnings(t Text, layout string) ([]Fit, []Warning) {
	fits := []Fit{}
	warns := []Warning{}
	for _, s := range []Screen{Landscape, Portrait} {
		s.Layout = layout
		f := Estimate(t, s)
		fits = append(fits, f)
		size := fmt.Sprintf("%d×%d", s.Width, s.Height)
		switch f.Status {
		case FitPaged:
			warns = append(warns, Warning{Code: WarnBodyPaged, Field: "body", Orientation: s.Name, Pages: f.Pages,
				Message: fmt.Sprintf("on a %s screen the body needs %d pages (estimate)", size, f.Pages)})
			if f.PageSeconds < MinPageSeconds {
				warns = append(warns, Warning{Code: WarnPagesTooFast, Field: "duration_s", Orientation: s.Name, Pages: f.Pages,
					Message: fmt.Sprintf("on a %s screen each page shows only %.1f s; give the item more time", size, f.PageSeconds)})
			}
		case FitCut:
			if f.TitleTooLong {
				warns = append(warns, Warning{Code: WarnTitleBelowFloor, Field: "title", Orientation: s.Name,
					Message: fmt.Sprintf("on a %s screen the title would need to shrink below the legibility floor (%.0f%% of the screen height) and is cut (estimate)", size, TitleFloor*100)})
			} else {
				warns = append(warns, Warning{Code: WarnTextCut, Field: "body", Orientation: s.Name,
					Message: fmt.Sprintf("on a %s screen the body is cut (estimate)", size)})
			}
		}
	}
	return fits, warns
}
