package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestRestatementKind: a change to a period that had ended when the
// account's previous run looked is a correction; growth of a period that
// was still running then is an accrual.
func TestRestatementKind(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := t.Context()
	// Each run looks at the clock of its window's end: 10:30, 12:30, 13:30 on Oct 1.
	at := func(h, m int) time.Time { return day0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	begin := func(end time.Time) int64 {
		id, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerSchedule, Window: store.Window{Start: day0, End: end}})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.FinishRun(ctx, id, store.RunSucceeded, store.RunCounters{}, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	month := func(v string) [][]any {
		return store.ResourceMonthCosts.Rows(testOwner, store.ResourceMonthCost{Family: "virtual-machine", ResourceID: "vm-1",
			BillingMonth: day0, IncurredBill: new(decimal.MustParse(v))})
	}
	// Buckets 9:00 (ended before the first run) and 11:00 (running then).
	buckets := func(v9, v11 string) [][]any { return [][]any{point("vm-1", 9, v9), point("vm-1", 11, v11)} }

	r1 := begin(at(10, 30))
	write(t, s, r1, store.CostDatapoints.Table, buckets("1", "0.5"), nil)
	write(t, s, r1, store.ResourceMonthCosts.Table, month("1.5"), nil)
	r2 := begin(at(12, 30))
	write(t, s, r2, store.CostDatapoints.Table, buckets("0.9", "1"), nil)
	write(t, s, r2, store.ResourceMonthCosts.Table, month("1.9"), nil)
	r3 := begin(at(13, 30))
	write(t, s, r3, store.CostDatapoints.Table, buckets("0.9", "0.8"), nil)

	rows, err := s.Pool().Query(ctx, `SELECT format('%s %s %s->%s %s', table_name, coalesce(to_char((row_key->>'bucket_start')::timestamptz, 'HH24:MI'), 'month'),
		old_value, new_value, kind) FROM billing.restatements ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"billing.cost_datapoints 09:00 1->0.9 correction", // ended 10:00, before run 1 looked at 10:30
		"billing.cost_datapoints 11:00 0.5->1 accrual",    // ran to 12:00, after 10:30
		"billing.resource_month_costs month 1.5->1.9 accrual",
		"billing.cost_datapoints 11:00 1->0.8 correction", // ended 12:00, before run 2 looked at 12:30
	}
	if !slices.Equal(got, want) {
		t.Errorf("restatements:\n%s\nwant\n%s", fmt.Sprint(got), fmt.Sprint(want))
	}
}
