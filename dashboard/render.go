package dashboard

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"money": func(m Money, cur string) string { return m.Text(cur) },
	"pct": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%+.2f %%", *p)
	},
	"days": func(p *float64) string {
		if p == nil {
			return "– (nothing spent)"
		}
		return fmt.Sprintf("%.2f", *p)
	},
	"date": func(t time.Time) string { return t.Format("2006-01-02") },
	"dateP": func(t *time.Time) string {
		if t == nil {
			return "–"
		}
		return t.Format("2006-01-02")
	},
	"stamp": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"lag":   lagText,
	"month": func(t time.Time) string { return t.Format("January 2006") },
	"ym":    func(t time.Time) string { return t.Format("2006-01") },
	"svg":   func(s string) template.HTML { return template.HTML(s) }, // drawn and escaped by svg.go
	"key":   func(parts ...string) string { return strings.Join(parts, "/") },
	"ptr":   func(t time.Time) *time.Time { return &t },
	"deref": func(p *float64) float64 { return *p },
}).Parse(pageHTML))

// Options say how the page is delivered.
type Options struct {
	// Static leaves out the filter form: a file or an e-mail has no server
	// to send it to.
	Static bool
	// Now stamps the page; zero: time.Now.
	Now time.Time
}

// view is what the template sees.
type view struct {
	*Data
	Options
	Generated  string
	Days       int
	MTDCharts  []template.HTML
	DailyCards []chartCard
	TopCards   []topCard
	Credit     []creditCard
	Sources    []sourceHealth
}

type chartCard struct {
	Currency string
	SVG      template.HTML
	Total    Money
}

type topCard struct {
	Top
	SVG        template.HTML
	More       int
	MoreAmount Money
}

type creditCard struct {
	Runway
	SVG template.HTML
}

type sourceHealth struct {
	Provider, Account, Status string
	Families, Fresh           int
	Oldest                    *time.Time
	MaxLag                    *float64
	Errors                    []Health
}

// Render writes the page.
func Render(w io.Writer, d *Data, o Options) error {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	v := view{Data: d, Options: o, Generated: o.Now.UTC().Format("2006-01-02 15:04 UTC"), Days: Days}
	for i, m := range d.MTD {
		v.MTDCharts = append(v.MTDCharts, template.HTML(mtdChart(fmt.Sprintf("mtd-%d", i), m).SVG()))
	}
	for i, dc := range d.Daily {
		c, total := dailyChart(fmt.Sprintf("daily-%d", i), dc, d.Until)
		v.DailyCards = append(v.DailyCards, chartCard{Currency: dc.Currency, SVG: template.HTML(c.SVG()), Total: total})
	}
	for i, t := range d.Top {
		card := topCard{Top: t, SVG: template.HTML(topChart(fmt.Sprintf("top-%d", i), t).SVG()), More: t.Resources - len(t.Rows), MoreAmount: t.Total}
		for _, r := range t.Rows {
			card.MoreAmount = card.MoreAmount.Sub(r.Billed)
		}
		v.TopCards = append(v.TopCards, card)
	}
	for i, r := range d.Runway {
		v.Credit = append(v.Credit, creditCard{Runway: r, SVG: template.HTML(creditChart(fmt.Sprintf("credit-%d", i), r, d).SVG())})
	}
	v.Sources = summarize(d.Health)
	return page.Execute(w, v)
}

func mtdChart(id string, m MonthToDate) HBarChart {
	c := HBarChart{ID: id, Unit: m.Currency,
		Title: fmt.Sprintf("%s · %s — %s, %s", m.Provider, m.Account, m.Month.Format("January 2006"), m.Currency)}
	add := func(label string, v Money, color string, hatched bool) {
		if v.Valid() {
			c.Bars = append(c.Bars, HBar{Label: label, Value: v.Float(), Text: v.Text(m.Currency) + " " + m.Currency, Color: color, Hatched: hatched})
		} else {
			c.Bars = append(c.Bars, HBar{Label: label, Text: "no data", Color: "#bab0ac"})
		}
	}
	add(fmt.Sprintf("Billed to date (%.1f of %g days)", m.DaysElapsed, m.MonthDays), m.BilledToDate, palette[0], false)
	if !m.Closed {
		add("Forecast for the month", m.Forecast, palette[0], true)
	}
	add("Previous month, same days", m.PreviousSamePeriod, "#9c9c9c", false)
	add("Previous month, whole", m.PreviousTotal, "#9c9c9c", true)
	return c
}

// dailyChart stacks the days' cost by service: the eight costliest
// services and "other", each billed part solid and its amortized part
// (commitments spread over their days) striped.
func dailyChart(id string, dc Daily, until time.Time) (BarChart, Money) {
	c := BarChart{ID: id, Unit: dc.Currency + " per day",
		Title: fmt.Sprintf("Daily cost, %d days to %s, %s, by service (striped: amortized commitments)", Days, until.Format("2 Jan 2006"), dc.Currency)}
	from := until.AddDate(0, 0, -(Days - 1))
	for d := range Days {
		c.Days = append(c.Days, from.AddDate(0, 0, d))
	}
	totals := map[string]float64{}
	var total Money
	for _, r := range dc.Rows {
		totals[r.Service] += math.Abs(r.Amortized.Float())
		total = total.Add(r.Amortized)
	}
	services := make([]string, 0, len(totals))
	for s := range totals {
		services = append(services, s)
	}
	slices.SortFunc(services, func(a, b string) int {
		if totals[a] != totals[b] {
			if totals[a] > totals[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	const shown = 8
	index := map[string]int{}
	for i, s := range services {
		index[s] = min(i, shown)
	}
	names := services
	if len(services) > shown+1 {
		names = append(slices.Clone(services[:shown]), "other")
	}
	billed := make([][]float64, len(names))
	amort := make([][]float64, len(names))
	for i := range names {
		billed[i], amort[i] = make([]float64, Days), make([]float64, Days)
	}
	for _, r := range dc.Rows {
		d := int(r.Day.Sub(from).Hours() / 24)
		if d < 0 || d >= Days {
			continue
		}
		i := min(index[r.Service], len(names)-1)
		billed[i][d] += r.Billed.Float()
		amort[i][d] += r.Amortized.Float() - r.Billed.Float()
	}
	for i, name := range names {
		color := palette[i%len(palette)]
		if name == "other" {
			color = palette[len(palette)-1]
		}
		if nonzero(billed[i]) {
			c.Series = append(c.Series, Series{Name: name, Color: color, Values: billed[i]})
		}
		if nonzero(amort[i]) {
			c.Series = append(c.Series, Series{Name: name + " (amortized)", Color: color, Hatched: true, Values: amort[i]})
		}
	}
	if len(c.Series) == 0 {
		c.Note = "no cost in these days"
	}
	return c, total
}

func nonzero(xs []float64) bool {
	return slices.ContainsFunc(xs, func(x float64) bool { return math.Abs(x) > 1e-12 })
}

func topChart(id string, t Top) HBarChart {
	c := HBarChart{ID: id, Unit: t.Currency, Title: fmt.Sprintf("Top %d resources of the month, %s", min(10, len(t.Rows)), t.Currency)}
	for _, r := range t.Rows[:min(10, len(t.Rows))] {
		c.Bars = append(c.Bars, HBar{Label: resourceLabel(r), Value: r.Billed.Float(), Text: r.Billed.Text(t.Currency) + " " + t.Currency, Color: palette[0]})
	}
	return c
}

func resourceLabel(r TopRow) string {
	name := r.Name
	if name == "" {
		name = r.ResourceID
	}
	return fmt.Sprintf("%s %s (%s)", r.Family, name, r.Account)
}

func creditChart(id string, r Runway, d *Data) LineChart {
	c := LineChart{ID: id, Unit: r.Currency, Title: fmt.Sprintf("Credit of %s · %s, %s", r.Provider, r.Account, r.Currency),
		From: d.Month.AddDate(0, 1, -Days), To: d.Month.AddDate(0, 1, 0), ZeroAt: r.RunsOutOn}
	for _, p := range r.History {
		c.Times = append(c.Times, p.At)
		c.Values = append(c.Values, p.Credit.Float())
	}
	if r.RunsOutOn != nil && r.RunsOutOn.After(c.To) && !r.RunsOutOn.After(c.To.AddDate(0, 0, Days)) {
		c.To = *r.RunsOutOn
	}
	return c
}

// summarize rolls the endpoint families up per source.
func summarize(hs []Health) []sourceHealth {
	var out []sourceHealth
	for _, h := range hs {
		n := len(out)
		if n == 0 || out[n-1].Provider != h.Provider || out[n-1].Account != h.Account {
			out = append(out, sourceHealth{Provider: h.Provider, Account: h.Account, Status: h.LastRunStatus})
			n++
		}
		s := &out[n-1]
		s.Families++
		if h.LastSuccess != nil {
			s.Fresh++
			if s.Oldest == nil || h.LastSuccess.Before(*s.Oldest) {
				s.Oldest = h.LastSuccess
			}
		}
		if h.LagSeconds != nil && (s.MaxLag == nil || *h.LagSeconds > *s.MaxLag) {
			s.MaxLag = h.LagSeconds
		}
		if h.LastError != "" {
			s.Errors = append(s.Errors, h)
		}
	}
	return out
}

func lagText(p *float64) string {
	if p == nil {
		return "–"
	}
	d := time.Duration(*p * float64(time.Second)).Round(time.Minute)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
