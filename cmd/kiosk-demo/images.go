package main

// The demo draws its own illustrations with the standard library so that it
// ships no downloaded media and needs no fonts: flat pictures made of
// gradients, circles, rectangles, polygons and thick lines. Every picture is
// a pure function of its name, so two runs upload byte-identical PNGs and the
// server deduplicates them by hash.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
)

// Size of every demo illustration: 16:9, the shape of a lobby screen.
const (
	imageWidth  = 1280
	imageHeight = 720
)

// illustrations maps the image keys used in content.go to their painters.
var illustrations = map[string]func(*canvas){
	"shield":        paintShield,
	"traffic-light": paintTrafficLight,
	"water-drop":    paintWaterDrop,
	"flame":         paintFlame,
	"scales":        paintScales,
	"clinic":        paintClinic,
	"helmet":        paintHelmet,
}

// illustrationNames returns the keys of illustrations in a stable order.
func illustrationNames() []string {
	names := make([]string, 0, len(illustrations))
	for name := range illustrations {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// renderIllustration paints the named picture and encodes it as PNG.
func renderIllustration(name string) ([]byte, error) {
	paint, ok := illustrations[name]
	if !ok {
		return nil, fmt.Errorf("no illustration named %q", name)
	}
	c := newCanvas(imageWidth, imageHeight)
	paint(c)
	var buf bytes.Buffer
	// The image is opaque, so the encoder writes 8-bit RGB without alpha;
	// BestSpeed keeps start-up quick and the files are still small because
	// flat colours compress well.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, c.img); err != nil {
		return nil, fmt.Errorf("encode illustration %q: %w", name, err)
	}
	return buf.Bytes(), nil
}

// --- a tiny anti-aliased rasteriser -------------------------------------

// shape is a region of the plane in pixel coordinates.
type shape interface {
	contains(x, y float64) bool
	// box bounds the region; pixels outside it are never tested.
	box() (x0, y0, x1, y1 float64)
}

type circle struct{ cx, cy, r float64 }

func (c circle) contains(x, y float64) bool {
	dx, dy := x-c.cx, y-c.cy
	return dx*dx+dy*dy <= c.r*c.r
}
func (c circle) box() (float64, float64, float64, float64) {
	return c.cx - c.r, c.cy - c.r, c.cx + c.r, c.cy + c.r
}

type ellipse struct{ cx, cy, rx, ry float64 }

func (e ellipse) contains(x, y float64) bool {
	dx, dy := (x-e.cx)/e.rx, (y-e.cy)/e.ry
	return dx*dx+dy*dy <= 1
}
func (e ellipse) box() (float64, float64, float64, float64) {
	return e.cx - e.rx, e.cy - e.ry, e.cx + e.rx, e.cy + e.ry
}

// rect is an axis-aligned rectangle with optionally rounded corners.
type rect struct{ x0, y0, x1, y1, r float64 }

func (q rect) contains(x, y float64) bool {
	if x < q.x0 || x > q.x1 || y < q.y0 || y > q.y1 {
		return false
	}
	if q.r <= 0 {
		return true
	}
	// Inside the rectangle shrunk by r, or within r of it.
	cx := math.Max(q.x0+q.r, math.Min(x, q.x1-q.r))
	cy := math.Max(q.y0+q.r, math.Min(y, q.y1-q.r))
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= q.r*q.r
}
func (q rect) box() (float64, float64, float64, float64) { return q.x0, q.y0, q.x1, q.y1 }

// line is a segment drawn with width w and round caps (a capsule).
type line struct{ ax, ay, bx, by, w float64 }

func (l line) contains(x, y float64) bool {
	vx, vy := l.bx-l.ax, l.by-l.ay
	t := 0.0
	if n := vx*vx + vy*vy; n > 0 {
		t = math.Max(0, math.Min(1, ((x-l.ax)*vx+(y-l.ay)*vy)/n))
	}
	dx, dy := x-(l.ax+t*vx), y-(l.ay+t*vy)
	return dx*dx+dy*dy <= l.w*l.w/4
}
func (l line) box() (float64, float64, float64, float64) {
	h := l.w / 2
	return math.Min(l.ax, l.bx) - h, math.Min(l.ay, l.by) - h, math.Max(l.ax, l.bx) + h, math.Max(l.ay, l.by) + h
}

// polygon is filled with the even-odd rule.
type polygon []point

type point struct{ x, y float64 }

func (p polygon) contains(x, y float64) bool {
	in := false
	for i, j := 0, len(p)-1; i < len(p); j, i = i, i+1 {
		a, b := p[i], p[j]
		if (a.y > y) != (b.y > y) && x < (b.x-a.x)*(y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}
func (p polygon) box() (float64, float64, float64, float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		x0, y0, x1, y1 = math.Min(x0, v.x), math.Min(y0, v.y), math.Max(x1, v.x), math.Max(y1, v.y)
	}
	return x0, y0, x1, y1
}

// union, minus and intersect combine shapes.
type union []shape

func (u union) contains(x, y float64) bool {
	for _, s := range u {
		if s.contains(x, y) {
			return true
		}
	}
	return false
}
func (u union) box() (float64, float64, float64, float64) {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, s := range u {
		a, b, c, d := s.box()
		x0, y0, x1, y1 = math.Min(x0, a), math.Min(y0, b), math.Max(x1, c), math.Max(y1, d)
	}
	return x0, y0, x1, y1
}

type minus struct{ a, b shape }

func (m minus) contains(x, y float64) bool                { return m.a.contains(x, y) && !m.b.contains(x, y) }
func (m minus) box() (float64, float64, float64, float64) { return m.a.box() }

type intersect struct{ a, b shape }

func (m intersect) contains(x, y float64) bool { return m.a.contains(x, y) && m.b.contains(x, y) }
func (m intersect) box() (float64, float64, float64, float64) {
	a0, a1, a2, a3 := m.a.box()
	b0, b1, b2, b3 := m.b.box()
	return math.Max(a0, b0), math.Max(a1, b1), math.Min(a2, b2), math.Min(a3, b3)
}

// drop is a tear shape: a circle with a pointed top at height tip above
// its centre (tip > r).
func drop(cx, cy, r, tip float64) shape {
	// The sides are tangent to the circle: the tangent points sit at angle
	// phi from the vertical where cos(phi) = r/tip.
	phi := math.Acos(r / tip)
	return union{
		circle{cx, cy, r},
		polygon{{cx, cy - tip}, {cx + r*math.Sin(phi), cy - r*math.Cos(phi)}, {cx - r*math.Sin(phi), cy - r*math.Cos(phi)}},
	}
}

// canvas is an opaque RGBA image painted shape by shape.
type canvas struct{ img *image.RGBA }

func newCanvas(w, h int) *canvas {
	return &canvas{img: image.NewRGBA(image.Rect(0, 0, w, h))}
}

// gradient fills the whole canvas from top-left colour a to bottom-right b.
func (c *canvas) gradient(a, b color.RGBA) {
	bnd := c.img.Bounds()
	w, h := float64(bnd.Dx()), float64(bnd.Dy())
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			// Project onto the diagonal so the gradient runs corner to corner.
			t := (float64(x)/w*0.6 + float64(y)/h*0.4)
			c.img.SetRGBA(x, y, mix(a, b, t))
		}
	}
}

// fill paints s in col at the given opacity (0..1), anti-aliased.
func (c *canvas) fill(s shape, col color.RGBA, opacity float64) {
	bx0, by0, bx1, by1 := s.box()
	bnd := c.img.Bounds()
	x0 := max(bnd.Min.X, int(math.Floor(bx0)))
	y0 := max(bnd.Min.Y, int(math.Floor(by0)))
	x1 := min(bnd.Max.X, int(math.Ceil(bx1))+1)
	y1 := min(bnd.Max.Y, int(math.Ceil(by1))+1)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			cov := coverage(s, float64(x), float64(y))
			if cov == 0 {
				continue
			}
			c.img.SetRGBA(x, y, mix(c.img.RGBAAt(x, y), col, cov*opacity))
		}
	}
}

// coverage estimates how much of pixel (x, y) s covers. Four samples decide
// the common case of a pixel wholly inside or outside; only edge pixels pay
// for a 4x4 grid.
func coverage(s shape, x, y float64) float64 {
	n := 0
	for _, o := range [4][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
		if s.contains(x+o[0], y+o[1]) {
			n++
		}
	}
	if n == 0 || n == 4 {
		return float64(n) / 4
	}
	n = 0
	for i := range 4 {
		for j := range 4 {
			if s.contains(x+(float64(i)+0.5)/4, y+(float64(j)+0.5)/4) {
				n++
			}
		}
	}
	return float64(n) / 16
}

// mix blends a towards b by t in 0..1; the result is opaque.
func mix(a, b color.RGBA, t float64) color.RGBA {
	t = math.Max(0, math.Min(1, t))
	f := func(p, q uint8) uint8 { return uint8(math.Round(float64(p) + (float64(q)-float64(p))*t)) }
	return color.RGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), 255}
}

func rgb(hex uint32) color.RGBA {
	return color.RGBA{uint8(hex >> 16), uint8(hex >> 8), uint8(hex), 255}
}

var (
	white = rgb(0xffffff)
	ink   = rgb(0x1f2937)
)

// backdrop paints the shared frame of every picture: a gradient, a few large
// soft circles for depth, and a pale floor ellipse the subject stands on.
func backdrop(c *canvas, a, b color.RGBA) {
	c.gradient(a, b)
	c.fill(circle{1130, 110, 260}, white, 0.08)
	c.fill(circle{140, 640, 220}, white, 0.07)
	c.fill(circle{1040, 700, 140}, white, 0.06)
	c.fill(ellipse{640, 620, 330, 40}, rgb(0x000000), 0.12)
}

// --- the pictures -------------------------------------------------------

// paintShield: anti-fraud — a shield with a tick.
func paintShield(c *canvas) {
	backdrop(c, rgb(0x1e3a8a), rgb(0x3b82f6))
	shieldOutline := func(cx, top, w, h float64) polygon {
		// Flat top, straight sides for 40% of the height, then two curves
		// meeting in a point at the bottom.
		var p polygon
		p = append(p, point{cx - w/2, top}, point{cx + w/2, top})
		side := top + h*0.4
		p = append(p, point{cx + w/2, side})
		for i := 1; i <= 24; i++ {
			t := float64(i) / 24
			p = append(p, point{cx + w/2*math.Cos(t*math.Pi/2), side + (h*0.6)*math.Sin(t*math.Pi/2)})
		}
		for i := 23; i >= 0; i-- {
			t := float64(i) / 24
			p = append(p, point{cx - w/2*math.Cos(t*math.Pi/2), side + (h*0.6)*math.Sin(t*math.Pi/2)})
		}
		return p
	}
	c.fill(shieldOutline(640, 130, 380, 470), white, 1)
	c.fill(shieldOutline(640, 160, 320, 410), rgb(0x2563eb), 1)
	c.fill(line{555, 360, 620, 430, 46}, white, 1)
	c.fill(line{620, 430, 740, 285, 46}, white, 1)
}

// paintTrafficLight: road safety — a traffic light over a zebra crossing.
func paintTrafficLight(c *canvas) {
	backdrop(c, rgb(0x0f766e), rgb(0x5eead4))
	for i := range 7 {
		x := 330 + float64(i)*90
		c.fill(rect{x, 560, x + 55, 660, 6}, white, 0.85)
	}
	c.fill(rect{625, 420, 655, 600, 0}, ink, 1)
	c.fill(rect{545, 80, 735, 440, 40}, ink, 1)
	c.fill(circle{640, 150, 50}, rgb(0x7f1d1d), 1)
	c.fill(circle{640, 260, 50}, rgb(0x78350f), 1)
	c.fill(circle{640, 370, 50}, rgb(0x22c55e), 1)
	c.fill(circle{625, 355, 14}, white, 0.5)
}

// paintWaterDrop: a water-cut notice — a drop with a tap above it.
func paintWaterDrop(c *canvas) {
	backdrop(c, rgb(0x0c4a6e), rgb(0x38bdf8))
	c.fill(rect{500, 90, 700, 140, 20}, rgb(0xcbd5e1), 1)
	c.fill(rect{660, 90, 710, 200, 18}, rgb(0xcbd5e1), 1)
	c.fill(rect{590, 60, 610, 95, 0}, rgb(0x94a3b8), 1)
	c.fill(rect{550, 50, 650, 70, 10}, rgb(0x94a3b8), 1)
	c.fill(drop(685, 440, 120, 230), white, 1)
	c.fill(drop(685, 440, 100, 200), rgb(0x0ea5e9), 1)
	c.fill(line{625, 430, 640, 480, 22}, white, 0.7)
}

// paintFlame: fire safety — a flame inside a prohibition ring.
func paintFlame(c *canvas) {
	backdrop(c, rgb(0x7c2d12), rgb(0xf97316))
	c.fill(circle{640, 360, 230}, white, 1)
	c.fill(drop(640, 420, 120, 260), rgb(0xea580c), 1)
	c.fill(drop(640, 450, 70, 160), rgb(0xfacc15), 1)
	c.fill(minus{circle{640, 360, 230}, circle{640, 360, 190}}, rgb(0xdc2626), 1)
	c.fill(intersect{line{505, 225, 775, 495, 40}, circle{640, 360, 200}}, rgb(0xdc2626), 1)
}

// paintScales: law and legal aid — the scales of justice.
func paintScales(c *canvas) {
	backdrop(c, rgb(0x312e81), rgb(0x7c3aed))
	gold, dark := rgb(0xfbbf24), rgb(0xb45309)
	c.fill(rect{520, 560, 760, 600, 16}, gold, 1)
	c.fill(rect{600, 530, 680, 570, 10}, gold, 1)
	c.fill(rect{625, 150, 655, 545, 0}, gold, 1)
	c.fill(circle{640, 135, 32}, gold, 1)
	c.fill(line{400, 200, 880, 200, 26}, gold, 1)
	for _, x := range []float64{420, 860} {
		c.fill(line{x, 200, x - 80, 390, 6}, rgb(0xfde68a), 1)
		c.fill(line{x, 200, x + 80, 390, 6}, rgb(0xfde68a), 1)
		// A pan is the lower half of a flattened circle.
		c.fill(intersect{ellipse{x, 390, 110, 60}, rect{x - 120, 390, x + 120, 460, 0}}, gold, 1)
		c.fill(rect{x - 110, 384, x + 110, 396, 6}, dark, 1)
	}
}

// paintClinic: community clinic — a medical cross on a card with a heart.
func paintClinic(c *canvas) {
	backdrop(c, rgb(0x065f46), rgb(0x34d399))
	c.fill(rect{430, 110, 850, 560, 48}, white, 1)
	c.fill(rect{595, 170, 685, 440, 12}, rgb(0x16a34a), 1)
	c.fill(rect{505, 260, 775, 350, 12}, rgb(0x16a34a), 1)
	// Two circles and a triangle; the rectangle fills the notch between the
	// circles above the triangle.
	heart := union{circle{612, 480, 30}, circle{668, 480, 30}, rect{612, 470, 668, 495, 0}, polygon{{584, 492}, {696, 492}, {640, 548}}}
	c.fill(heart, rgb(0xef4444), 1)
}

// paintHelmet: e-bike safety — a helmet with a visor and strap.
func paintHelmet(c *canvas) {
	backdrop(c, rgb(0x9a3412), rgb(0xfbbf24))
	shell := intersect{ellipse{640, 420, 260, 250}, rect{370, 160, 910, 420, 0}}
	c.fill(shell, rgb(0xfacc15), 1)
	c.fill(intersect{ellipse{640, 420, 200, 190}, rect{430, 200, 850, 420, 0}}, rgb(0xfde047), 1)
	c.fill(rect{360, 400, 920, 450, 22}, ink, 1)
	c.fill(rect{610, 170, 670, 410, 20}, rgb(0xeab308), 1)
	c.fill(line{440, 440, 640, 580, 16}, ink, 1)
	c.fill(line{840, 440, 640, 580, 16}, ink, 1)
	c.fill(rect{615, 560, 665, 600, 8}, rgb(0x475569), 1)
}
