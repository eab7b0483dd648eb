package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// dashboardFixture: one account, October 2026 at 171.00 USD.
const dashboardFixture = `
INSERT INTO ingest.runs (provider, account, trigger, status, window_start, window_end, started_at, finished_at) VALUES
  ('hyperstack', 'default', 'schedule', 'succeeded', '2026-10-01 00:00Z', '2026-10-16 12:00Z', '2026-10-16 12:00Z', '2026-10-16 12:05Z');
INSERT INTO billing.resources (provider, account, family, resource_id, name) VALUES ('hyperstack', 'default', 'virtual-machine', 'v1', 'train');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill) VALUES
  ('hyperstack', 'default', 'virtual-machine', 'v1', '2026-10-01', 171, 200);`

// TestReportHTML: report html writes the page as one file, without the
// filter form, with nothing fetched from elsewhere.
func TestReportHTML(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	if _, err := dbtest.Conn(t, url).Exec(t.Context(), dashboardFixture); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(t.Context(), lifecycle{}, []string{"report", "html", "--month", "2026-10", "--account", "default", "--database-url", url}, &out, &errOut); err != nil {
		t.Fatalf("report html: %v\n%s", err, errOut.String())
	}
	page := out.String()
	for _, s := range []string{"<!doctype html>", "Costs, October 2026", "Account default", `data-key="mtd/hyperstack/default/USD/billed">171.00<`, "<svg"} {
		if !strings.Contains(page, s) {
			t.Errorf("report html lacks %q", s)
		}
	}
	for _, s := range []string{"<form", "<script", "src=", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), s) {
			t.Errorf("report html is not self-contained: it has %q", s)
		}
	}
	err := run(t.Context(), lifecycle{}, []string{"report", "html", "--month", "October", "--database-url", url}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Errorf("a bad --month: %v", err)
	}
}

// TestServeDashboard: serve answers / and /dashboard with the page, and
// its filters as query parameters.
func TestServeDashboard(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	if _, err := dbtest.Conn(t, url).Exec(t.Context(), dashboardFixture); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(endpoints(s, prometheus.NewRegistry(), slog.New(slog.DiscardHandler)))
	defer srv.Close()
	for _, c := range []struct {
		path, want string
		code       int
	}{
		{"/", `data-key="mtd/hyperstack/default/USD/billed">171.00<`, 200},
		{"/dashboard?account=default&month=2026-10", `<option selected>default</option>`, 200},
		{"/dashboard?month=2026-09", "No costs for September 2026 yet", 200},
		{"/dashboard?month=9", "month wants YYYY-MM", 400},
		{"/nothing", "404", 404},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(body), c.want) {
			t.Errorf("GET %s: %d, want %d with %q", c.path, resp.StatusCode, c.code, c.want)
		}
	}
}
