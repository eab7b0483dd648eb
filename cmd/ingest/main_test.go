package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	url := dbtest.New(t)

	var out bytes.Buffer
	if err := run(ctx, lifecycle{}, []string{"status", "--database-url", url}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "no runs yet") {
		t.Fatalf("status of an empty warehouse:\n%s", out.String())
	}

	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.BeginRun(ctx, store.BeginRunParams{Owner: store.Owner{Provider: "hyperstack", Account: "default"}, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := s.BeginRun(ctx, store.BeginRunParams{Owner: store.Owner{Provider: "hyperstack", Account: "lab"}, Trigger: store.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, failed, store.RunFailed, store.RunCounters{Requests: 1, Errors: 1}, "the API rejected the key for hyperstack/lab (HTTP 401)"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRun(ctx, id, store.RunSucceeded, store.RunCounters{Requests: 321, RowsInserted: 5, RowsUpdated: 4, RowsDeleted: 3}, ""); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, lifecycle{}, []string{"status", "--database-url", url}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nrun 2 failed: the API rejected the key for hyperstack/lab (HTTP 401)\n") {
		t.Errorf("status does not say why run 2 failed:\n%s", out.String())
	}
	var row string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "1 ") {
			row = l
		}
	}
	last := strings.Fields(row)
	if strings.Contains(out.String(), "ENDPOINT FAMILY") {
		t.Errorf("freshness shown with no payloads:\n%s", out.String())
	}
	if len(last) < 10 || last[1] != "hyperstack/default" || last[2] != "manual" || last[3] != "succeeded" || last[7] != "321" || last[8] != "5/4/3" {
		t.Fatalf("status row = %q\n%s", last, out.String())
	}
}

func TestStatusRefusesOldSchema(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	err := run(t.Context(), lifecycle{}, []string{"status", "--database-url", dbtest.NewEmpty(t)}, &out, &out)
	if !errors.Is(err, store.ErrSchemaOutdated) || !strings.Contains(err.Error(), "migrate up") {
		t.Fatalf("status on an unmigrated database = %v", err)
	}
}

func resultWith(status store.RunStatus) ingest.Result {
	return ingest.Result{RunID: 1, Status: status}
}

func TestFormatProgress(t *testing.T) {
	p := ingest.Progress{Source: "hyperstack/acme-prod", Month: "2026-10", MonthIndex: 2, Months: 3, ListsDone: 11, ListsTotal: 11,
		UnitsDone: 50, UnitsTotal: 150, Requests: 320, Rows: 4000, RateLimited: 2, Elapsed: 40 * time.Second,
		MonthElapsed: 10 * time.Second, PerMonth: 30 * time.Second}
	// This month: 20s more at its pace; then one month at the pace of the first.
	want := "hyperstack/acme-prod 2026-10 (month 2/3): lists 11/11, resources 50/150, 320 requests, 4000 rows, 2 rate-limited, ETA 50s"
	if got := formatProgress(p); got != want {
		t.Errorf("formatProgress = %q, want %q", got, want)
	}
	// Before its first unit, a month is estimated from the requests its
	// units need at the source's pace: 100 units × 3 requests at 600 a
	// minute is 30s; the next month as long as this one will have been.
	p.UnitsDone, p.UnitsTotal, p.RequestsPerUnit, p.Rate, p.PerMonth, p.MonthElapsed = 0, 100, 3, 600, 0, 2*time.Second
	if got := formatProgress(p); !strings.HasSuffix(got, "ETA 1m2s") {
		t.Errorf("before the first unit: %q", got)
	}
	p.UnitsTotal = 0
	if got := formatProgress(p); !strings.HasSuffix(got, "ETA estimating") {
		t.Errorf("before the lists: %q", got)
	}
}
