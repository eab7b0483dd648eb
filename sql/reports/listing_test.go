package reports_test

import (
	"slices"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestReportListing: `ingest report list` and `show` (store.Reports and
// store.Report) list the v2 views beside v1 and filter each on its date.
func TestReportListing(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	exec(t, dbtest.Conn(t, url), v2Fixture)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	infos, err := s.Reports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range infos {
		names = append(names, r.Name)
		if r.Description == "" {
			t.Errorf("%s has no description", r.Name)
		}
	}
	oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"month_to_date_v1", "focus_v1", "account_month_cost_v1", "daily_cost_v2", "month_to_date_v2", "top_resources_v2",
		"cost_anomalies_v2", "credit_runway_v2", "restatements_v2", "reconciliation_v2", "focus_v2", "fx_rates_v1", "resource_day_cost_v2"} {
		if !slices.Contains(names, name) {
			t.Errorf("report list lacks %s", name)
			continue
		}
		if _, _, err := s.Report(t.Context(), store.ReportQuery{Name: name, Since: oct, Until: oct.AddDate(0, 1, 0), Limit: 5}); err != nil {
			t.Errorf("report show %s --month 2026-10: %v", name, err)
		}
	}
}
