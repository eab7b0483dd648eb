package dashboard

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// The charts are SVG strings drawn here, with every value axis starting at
// zero (bars are lengths), ticks at round numbers labelled with their unit,
// a title and a legend inside the picture, so a chart copied out of the
// page still says what it shows.

// palette is Tableau 10: distinguishable, and readable in grey.
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

const (
	chartWidth = 960
	fontFamily = `font-family="DejaVu Sans, Verdana, sans-serif"`
)

// Series is one stacked layer of a bar chart.
type Series struct {
	Name    string
	Color   string
	Hatched bool // drawn striped: amortized, not billed on the day
	Values  []float64
}

// BarChart is a vertical stacked bar chart over consecutive days.
type BarChart struct {
	ID, Title, Unit string // Unit labels the value axis, e.g. "USD per day"
	Days            []time.Time
	Series          []Series
	Note            string // shown when there is nothing to draw
}

// scale picks round ticks from lo (≤ 0) to hi (≥ 0) so that lo and hi fit:
// about five steps of 1, 2, 2.5 or 5 times a power of ten.
func scale(lo, hi float64) (min, max, step float64) {
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	span := hi - lo
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 0, 1, 0.2
	}
	raw := span / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	min = math.Floor(lo/step) * step
	max = math.Ceil(hi/step) * step
	if max == min {
		max = min + step
	}
	return min, max, step
}

// tick prints a tick value with as many decimals as the step needs.
func tick(v, step float64) string {
	dec := 0
	for dec < 6 {
		scaled := step * math.Pow(10, float64(dec))
		if math.Abs(scaled-math.Round(scaled)) < 1e-6*scaled {
			break
		}
		dec++
	}
	if math.Abs(v) < step/1e6 {
		v = 0
	}
	return group(fmt.Sprintf("%.*f", dec, v))
}

func esc(s string) string { return html.EscapeString(s) }

// svgOpen starts a chart: its size, accessible title and the title line.
func svgOpen(b *strings.Builder, id, title string, height int) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" role="img" aria-labelledby="%s-title" width="%d" height="%d" viewBox="0 0 %d %d" %s font-size="12">`,
		esc(id), esc(id), chartWidth, height, chartWidth, height, fontFamily)
	fmt.Fprintf(b, `<title id="%s-title">%s</title>`, esc(id), esc(title))
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#fff"/>`, chartWidth, height)
	fmt.Fprintf(b, `<text x="12" y="22" font-size="15" font-weight="bold" fill="#222">%s</text>`, esc(title))
}

// hatch defines the stripes of an amortized layer in its service's colour.
func hatch(b *strings.Builder, id, color string) {
	fmt.Fprintf(b, `<defs><pattern id="%s" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">`+
		`<rect width="6" height="6" fill="#fff"/><rect width="3" height="6" fill="%s"/></pattern></defs>`, esc(id), color)
}

func fill(chartID string, i int, s Series) string {
	if s.Hatched {
		return fmt.Sprintf("url(#%s-h%d)", chartID, i)
	}
	return s.Color
}

// legend draws the series' swatches in rows from y; it returns the height used.
func legend(b *strings.Builder, chartID string, series []Series, x0, y int) int {
	x, rows := x0, 1
	for i, s := range series {
		w := 28 + 7*len([]rune(s.Name))
		if x+w > chartWidth-10 && x > x0 {
			x, y, rows = x0, y+18, rows+1
		}
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="14" height="12" fill="%s" stroke="%s"/>`, x, y-10, fill(chartID, i, s), s.Color)
		fmt.Fprintf(b, `<text x="%d" y="%d" fill="#222">%s</text>`, x+19, y, esc(s.Name))
		x += w
	}
	return rows * 18
}

// SVG draws the chart. Positive values stack up from zero, negative ones
// (a refund, a correction) down from it.
func (c BarChart) SVG() string {
	var b strings.Builder
	legendRows := 1 + len(c.Series)/7
	height := 300 + 18*legendRows
	svgOpen(&b, c.ID, c.Title, height)
	for i, s := range c.Series {
		if s.Hatched {
			hatch(&b, fmt.Sprintf("%s-h%d", c.ID, i), s.Color)
		}
	}
	const left, right, top, plotH = 90, 16, 44, 200
	plotW := chartWidth - left - right
	lo, hi := 0.0, 0.0
	for d := range c.Days {
		var pos, neg float64
		for _, s := range c.Series {
			if v := s.Values[d]; v > 0 {
				pos += v
			} else {
				neg += v
			}
		}
		lo, hi = math.Min(lo, neg), math.Max(hi, pos)
	}
	min, max, step := scale(lo, hi)
	y := func(v float64) float64 { return top + plotH*(max-v)/(max-min) }
	// Value axis: gridlines, ticks, unit.
	for v := min; v <= max+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, left, left+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#444">%s</text>`, left-6, y(v)+4, tick(v, step))
	}
	fmt.Fprintf(&b, `<text transform="translate(16 %d) rotate(-90)" text-anchor="middle" fill="#444">%s</text>`, top+plotH/2, esc(c.Unit))
	n := max0(len(c.Days))
	slot := float64(plotW) / float64(n)
	barW := math.Max(1, slot*0.8)
	for d, day := range c.Days {
		x := float64(left) + slot*float64(d) + (slot-barW)/2
		pos, neg := 0.0, 0.0
		for i, s := range c.Series {
			v := s.Values[d]
			if v == 0 {
				continue
			}
			var y0, y1 float64
			if v > 0 {
				y0, y1 = y(pos+v), y(pos)
				pos += v
			} else {
				y0, y1 = y(neg), y(neg+v)
				neg += v
			}
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`,
				x, y0, barW, math.Max(y1-y0, 0.5), fill(c.ID, i, s), day.Format("2 Jan 2006"), esc(s.Name), tick(v, 0.01))
		}
	}
	// The zero line and the day axis.
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#222"/>`, left, left+plotW, y(0), y(0))
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#222"/>`, left, left, top, top+plotH)
	every := int(math.Ceil(float64(len(c.Days)) / 12))
	for d, day := range c.Days {
		if d%every != 0 {
			continue
		}
		x := float64(left) + slot*(float64(d)+0.5)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#222"/>`, x, x, top+plotH, top+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>`, x, top+plotH+18, day.Format("2 Jan"))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#444">day (UTC)</text>`, left+plotW/2, top+plotH+36)
	if c.Note != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#888" font-size="14">%s</text>`, left+plotW/2, top+plotH/2, esc(c.Note))
	}
	legend(&b, c.ID, c.Series, left, top+plotH+60)
	b.WriteString(`</svg>`)
	return b.String()
}

func max0(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// HBar is one bar of a horizontal bar chart.
type HBar struct {
	Label   string
	Value   float64
	Text    string // the value as printed
	Color   string
	Hatched bool // an estimate, not an amount charged
}

// HBarChart is horizontal bars from a common zero, one per row.
type HBarChart struct {
	ID, Title, Unit string
	Bars            []HBar
	Note            string
}

// SVG draws the chart; labels longer than the label column are cut, with
// the whole label in the bar's tooltip.
func (c HBarChart) SVG() string {
	var b strings.Builder
	const rowH, top, labelW, textW = 26, 40, 250, 120
	height := top + rowH*max0(len(c.Bars)) + 44
	svgOpen(&b, c.ID, c.Title, height)
	for i, bar := range c.Bars {
		if bar.Hatched {
			hatch(&b, fmt.Sprintf("%s-h%d", c.ID, i), bar.Color)
		}
	}
	left := labelW + 10
	plotW := chartWidth - left - textW
	lo, hi := 0.0, 0.0
	for _, bar := range c.Bars {
		lo, hi = math.Min(lo, bar.Value), math.Max(hi, bar.Value)
	}
	min, max, step := scale(lo, hi)
	x := func(v float64) float64 { return float64(left) + float64(plotW)*(v-min)/(max-min) }
	bottom := top + rowH*max0(len(c.Bars))
	for v := min; v <= max+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#e3e3e3"/>`, x(v), x(v), top, bottom)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>`, x(v), bottom+16, tick(v, step))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#444">%s</text>`, left+plotW/2, bottom+34, esc(c.Unit))
	for i, bar := range c.Bars {
		yy := top + rowH*i
		label := bar.Label
		if r := []rune(label); len(r) > 36 {
			label = string(r[:35]) + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#222">%s<title>%s</title></text>`, labelW, yy+17, esc(label), esc(bar.Label))
		x0, x1 := x(math.Min(0, bar.Value)), x(math.Max(0, bar.Value))
		f := bar.Color
		if bar.Hatched {
			f = fmt.Sprintf("url(#%s-h%d)", c.ID, i)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="%s"><title>%s: %s</title></rect>`,
			x0, yy+5, math.Max(x1-x0, 0.5), rowH-10, f, bar.Color, esc(bar.Label), esc(bar.Text))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#222">%s</text>`, x1+6, yy+17, esc(bar.Text))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#222"/>`, x(0), x(0), top, bottom)
	if c.Note != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#888" font-size="14">%s</text>`, left+plotW/2, top+rowH/2+5, esc(c.Note))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// LineChart is one value over time from a zero-based axis, with an
// optional dashed projection to zero (the credit running out).
type LineChart struct {
	ID, Title, Unit string
	Times           []time.Time
	Values          []float64
	ZeroAt          *time.Time // where the projection reaches zero
	From, To        time.Time  // the time axis
}

// SVG draws the chart.
func (c LineChart) SVG() string {
	var b strings.Builder
	const left, right, top, plotH = 90, 16, 44, 160
	height := top + plotH + 60
	svgOpen(&b, c.ID, c.Title, height)
	plotW := chartWidth - left - right
	hi := 0.0
	for _, v := range c.Values {
		hi = math.Max(hi, v)
	}
	min, max, step := scale(0, hi)
	from, to := c.From, c.To
	if !to.After(from) {
		to = from.Add(24 * time.Hour)
	}
	x := func(t time.Time) float64 {
		return float64(left) + float64(plotW)*float64(t.Sub(from))/float64(to.Sub(from))
	}
	y := func(v float64) float64 { return top + plotH*(max-v)/(max-min) }
	for v := min; v <= max+step/2; v += step {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, left, left+plotW, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="#444">%s</text>`, left-6, y(v)+4, tick(v, step))
	}
	fmt.Fprintf(&b, `<text transform="translate(16 %d) rotate(-90)" text-anchor="middle" fill="#444">%s</text>`, top+plotH/2, esc(c.Unit))
	days := int(to.Sub(from).Hours()/24) + 1
	every := max0(int(math.Ceil(float64(days) / 10)))
	for d := 0; d < days; d += every {
		t := from.AddDate(0, 0, d)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="#222"/>`, x(t), x(t), top+plotH, top+plotH+4)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s</text>`, x(t), top+plotH+18, t.Format("2 Jan"))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#444">day (UTC)</text>`, left+plotW/2, top+plotH+36)
	if len(c.Values) > 0 {
		var pts []string
		for i, t := range c.Times {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(t), y(c.Values[i])))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(pts, " "), palette[0])
		last := len(c.Values) - 1
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(c.Times[last]), y(c.Values[last]), palette[0])
		if c.ZeroAt != nil && !c.ZeroAt.After(to) {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="6 4"><title>projected at the last 7 days' rate</title></line>`,
				x(c.Times[last]), y(c.Values[last]), x(*c.ZeroAt), y(0), palette[2])
		}
	} else {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#888" font-size="14">no credit observed in these days</text>`, left+plotW/2, top+plotH/2)
	}
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#222"/>`, left, left+plotW, y(0), y(0))
	fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#222"/>`, left, left, top, top+plotH)
	b.WriteString(`</svg>`)
	return b.String()
}
