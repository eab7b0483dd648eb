package dashboard

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestScale(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lo, hi         float64
		min, max, step float64
	}{
		{0, 0, 0, 1, 0.2},         // nothing: a unit axis, not a division by zero
		{0, 326, 0, 400, 100},     // 65.2 a step rounds up to 100
		{0, 1640.4, 0, 2000, 500}, // 328 -> 500
		{0, 0.07, 0, 0.08, 0.02},  // small amounts
		{-2, 10, -2.5, 10, 2.5},   // a negative day reaches below zero
		{5, 10, 0, 10, 2},         // never a baseline above zero
		{0, 45015, 0, 50000, 10000},
	} {
		min, max, step := scale(c.lo, c.hi)
		if !near(min, c.min) || !near(max, c.max) || !near(step, c.step) {
			t.Errorf("scale(%g, %g) = %g, %g, %g; want %g, %g, %g", c.lo, c.hi, min, max, step, c.min, c.max, c.step)
		}
	}
	if got := tick(2500, 500); got != "2,500" {
		t.Errorf("tick = %q", got)
	}
	if got := tick(0.04, 0.02); got != "0.04" {
		t.Errorf("tick = %q", got)
	}
	if got := tick(7.5, 2.5); got != "7.5" {
		t.Errorf("tick = %q", got)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

var (
	rectRe  = regexp.MustCompile(`<rect x="([0-9.]+)" y="([0-9.]+)" width="([0-9.]+)" height="([0-9.]+)" fill="[^"]+"(?: stroke="[^"]+")?><title>([^<]*)</title>`)
	yTickRe = regexp.MustCompile(`<text x="84" y="([0-9.]+)" text-anchor="end" fill="#444">([^<]*)</text>`)
)

func num(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestBarChartAxis: bars stand on the zero tick, their heights are in
// proportion to their values, and the axis says its unit.
func TestBarChartAxis(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	c := BarChart{ID: "c", Title: "Daily cost", Unit: "USD per day", Days: []time.Time{day, day.AddDate(0, 0, 1)},
		Series: []Series{{Name: "vm", Color: "#111", Values: []float64{100, 30}}, {Name: "contract (amortized)", Color: "#111", Hatched: true, Values: []float64{50, 0}}}}
	svg := c.SVG()
	ticks := yTickRe.FindAllStringSubmatch(svg, -1)
	if len(ticks) == 0 || ticks[0][2] != "0" {
		t.Fatalf("the lowest tick is not 0: %v", ticks)
	}
	zeroY := num(t, ticks[0][1]) - 4
	var heights []float64
	for _, m := range rectRe.FindAllStringSubmatch(svg, -1) {
		if y, h := num(t, m[2]), num(t, m[4]); !near(round1(y+h), round1(zeroY)) && !strings.Contains(m[5], "contract") {
			t.Errorf("bar %s does not stand on zero: bottom %.1f, zero %.1f", m[5], y+h, zeroY)
		}
		heights = append(heights, num(t, m[4]))
	}
	if len(heights) != 3 {
		t.Fatalf("%d bars, want 3", len(heights))
	}
	// The first day stacks 150, so the axis ends at 150 (steps of 50): of
	// 200 px, 100 takes 133.3, 50 takes 66.7, 30 takes 40.
	for i, want := range []float64{133.33, 66.67, 40} {
		if d := heights[i] - want; d > 0.1 || d < -0.1 {
			t.Errorf("bar %d is %.1f px, want %.1f", i, heights[i], want)
		}
	}
	for _, s := range []string{">USD per day<", ">day (UTC)<", ">Daily cost<", "url(#c-h1)", ">contract (amortized)<", ">1 Oct<"} {
		if !strings.Contains(svg, s) {
			t.Errorf("the chart lacks %q", s)
		}
	}
}

func round1(f float64) float64 { return float64(int(f*10+0.5)) / 10 }

// TestHBarChartProportional: horizontal bars start at the zero tick and
// their lengths keep the values' ratio.
func TestHBarChartProportional(t *testing.T) {
	t.Parallel()
	c := HBarChart{ID: "h", Title: "Top", Unit: "USD", Bars: []HBar{{Label: "train", Value: 171, Text: "171.00", Color: "#111"}, {Label: "reserved", Value: 155, Text: "155.00", Color: "#111"}}}
	svg := c.SVG()
	ms := rectRe.FindAllStringSubmatch(svg, -1)
	if len(ms) != 2 {
		t.Fatalf("%d bars", len(ms))
	}
	if ms[0][1] != ms[1][1] || !strings.Contains(svg, `<text x="`+ms[0][1]+`" y="`) {
		t.Errorf("the bars do not start at the same zero tick: %s %s", ms[0][1], ms[1][1])
	}
	if r := num(t, ms[0][3]) / num(t, ms[1][3]); r < 171.0/155-0.005 || r > 171.0/155+0.005 {
		t.Errorf("bar ratio %.4f, want %.4f", r, 171.0/155)
	}
	if !strings.Contains(svg, ">USD<") {
		t.Error("no unit on the axis")
	}
}

// TestEmptyAndSingleDay: no data draws an axis and a note, not NaN.
func TestEmptyAndSingleDay(t *testing.T) {
	t.Parallel()
	until := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	c, _ := dailyChart("d", Daily{Currency: "USD"}, until)
	svg := c.SVG()
	if strings.Contains(svg, "NaN") || !strings.Contains(svg, "no cost in these days") {
		t.Errorf("empty chart: %s", svg)
	}
	c, total := dailyChart("d", Daily{Currency: "USD", Rows: []DailyRow{{Day: until, Service: "vm", Billed: MoneyOf("3.5"), Amortized: MoneyOf("3.5")}}}, until)
	if svg := c.SVG(); strings.Contains(svg, "NaN") || len(c.Series) != 1 || c.Series[0].Values[Days-1] != 3.5 || total.Text("USD") != "3.50" {
		t.Errorf("single day: %+v %s", c.Series, total.Text("USD"))
	}
	line := LineChart{ID: "l", Title: "Credit", Unit: "USD", From: until, To: until}
	if svg := line.SVG(); strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Errorf("empty line chart: %s", svg)
	}
}

func TestMoneyText(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, cur, want string }{
		{"1234567.125", "USD", "1,234,567.13"}, {"-0.004", "USD", "0.00"}, {"-2", "USD", "-2.00"},
		{"1640.4", "JPY", "1,640"}, {"3390.5", "JPY", "3,391"}, {"999.995", "EUR", "1,000.00"},
	} {
		if got := MoneyOf(c.in).Text(c.cur); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.in, c.cur, got, c.want)
		}
	}
	if (Money{}).Text("USD") != "–" {
		t.Error("NULL")
	}
}
