package dashboard_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/simwarehouse"
)

// chromium finds the browser; `make test` installs Debian's chromium where
// it is missing, so a missing one fails the test rather than skipping it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium found: run `make test` (it installs Debian's chromium package) or install one")
	return ""
}

// browser starts headless Chromium with the flags this sandbox needs: no
// network of its own, a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1100, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancel3)
	return ctx
}

// TestDashboardInChromium serves the page over a backfilled warehouse and
// loads it in a real browser: no error, every chart drawn at a size, and
// the figures printed are the views' values.
func TestDashboardInChromium(t *testing.T) {
	t.Parallel()
	url := simwarehouse.Backfilled(t)
	srv := httptest.NewServer(dashboard.Handler(pool(t, url), slog.New(slog.DiscardHandler), 30*time.Second))
	defer srv.Close()
	ctx := browser(t)

	var mu sync.Mutex
	var problems []string
	listening := chromedp.Listen(ctx, func(ev any) { // starts the browser and its tab
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+e.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				problems = append(problems, "console."+string(e.Type))
			}
		}
	})
	if listening != nil {
		t.Fatal(listening)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady("body")); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	type size struct{ Width, Height float64 }
	sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]size](`[...document.querySelectorAll("svg.chart")].map(s => { const r = s.getBoundingClientRect(); return {Width: r.width, Height: r.height}; })`))
	if err != nil {
		t.Fatal(err)
	}
	figures, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("[data-key]")].map(e => [e.dataset.key, e.textContent.trim()]))`))
	if err != nil {
		t.Fatal(err)
	}
	// Self-contained: the page fetched nothing after itself.
	fetched, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(e => e.initiatorType + " " + e.name)`))
	if err != nil || len(fetched) != 0 {
		t.Errorf("the page fetched %d resources: %q (%v)", len(fetched), fetched, err)
	}
	mu.Lock()
	if len(problems) > 0 {
		t.Errorf("the page had errors: %v", problems)
	}
	mu.Unlock()
	if !strings.Contains(title, "Costs, November 2026") {
		t.Errorf("title %q", title)
	}
	// A month-to-date chart, a daily chart, a top-resources chart, a credit chart.
	if len(sizes) < 4 {
		t.Errorf("%d charts, want at least 4", len(sizes))
	}
	for i, s := range sizes {
		if s.Width < 300 || s.Height < 100 {
			t.Errorf("chart %d is drawn at %vx%v", i, s.Width, s.Height)
		}
	}

	// The views, read directly, rounded to the cent as the page prints.
	conn := dbtest.Conn(t, url)
	want := map[string]string{}
	for _, q := range []struct{ key, sql string }{
		{"mtd/hyperstack/default/USD/billed", `SELECT billed_to_date::text FROM reports.month_to_date_v2 WHERE billing_month = '2026-11-01'`},
		{"mtd/hyperstack/default/USD/forecast", `SELECT forecast_month_end::text FROM reports.month_to_date_v2 WHERE billing_month = '2026-11-01'`},
		{"mtd/hyperstack/default/USD/previous", `SELECT previous_month_total::text FROM reports.month_to_date_v2 WHERE billing_month = '2026-11-01'`},
		{"top/USD/total", `SELECT sum(billed_cost)::text FROM reports.top_resources_v2 WHERE billing_month = '2026-11-01'`},
		{"daily/USD/total", `SELECT sum(amortized_cost)::text FROM reports.daily_cost_v2 WHERE day > '2026-11-23'::date - 60 AND day <= '2026-11-23'`},
	} {
		var v string
		if err := conn.QueryRow(t.Context(), q.sql).Scan(&v); err != nil {
			t.Fatalf("%s: %v", q.key, err)
		}
		want[q.key] = dashboard.MoneyOf(v).Text("USD")
	}
	var credit, days string
	if err := conn.QueryRow(t.Context(), `SELECT credit::text, days_left::text FROM reports.credit_runway_v2 ORDER BY observed_at DESC LIMIT 1`).Scan(&credit, &days); err != nil {
		t.Fatal(err)
	}
	want["credit/hyperstack/default/credit"] = dashboard.MoneyOf(credit).Text("USD") + " USD"
	want["credit/hyperstack/default/days"] = days
	for k, v := range want {
		if figures[k] != v {
			t.Errorf("the browser shows %s = %q, the view %q", k, figures[k], v)
		}
	}
	top := 0
	for k := range figures {
		if strings.HasPrefix(k, "top/USD/default/") {
			top++
		}
	}
	if top != dashboard.TopN {
		t.Errorf("%d top resources shown, want %d", top, dashboard.TopN)
	}
	t.Logf("%d charts, %d figures checked", len(sizes), len(want))
}
