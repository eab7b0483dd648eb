package store_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// dayCostsDiffer counts the rows on which billing.resource_day_costs and
// reports.resource_day_cost_computed_v2 differ, both ways.
const dayCostsDiffer = `
SELECT (SELECT count(*) FROM (
            SELECT provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source FROM billing.resource_day_costs
            EXCEPT ALL SELECT * FROM reports.resource_day_cost_computed_v2) x)
     + (SELECT count(*) FROM (
            SELECT * FROM reports.resource_day_cost_computed_v2
            EXCEPT ALL
            SELECT provider, account, currency, day, resource_family, resource_id, billed_cost, amortized_cost, source FROM billing.resource_day_costs) y)`

// baselinesDiffer counts the rows of billing.resource_day_costs whose kept
// anomaly baseline differs from one worked out afresh over the table.
const baselinesDiffer = `
SELECT count(*)
FROM billing.resource_day_costs t
JOIN (SELECT provider, account, resource_family, resource_id, day,
             avg(billed_cost) OVER w AS baseline, count(billed_cost) OVER w AS history_days
      FROM billing.resource_day_costs
      WINDOW w AS (PARTITION BY provider, account, resource_family, resource_id ORDER BY day
                   RANGE BETWEEN interval '14 days' PRECEDING AND interval '1 day' PRECEDING)) w
     USING (provider, account, resource_family, resource_id, day)
WHERE (t.baseline, t.history_days) IS DISTINCT FROM (w.baseline, w.history_days)`

func TestRefreshDayCosts(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn := dbtest.Conn(t, url)
	ctx := t.Context()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// differ counts the rows that differ from the computed view, and the
	// baselines that differ from the table's days.
	differ := func() int64 {
		t.Helper()
		var n, baselines int64
		if err := conn.QueryRow(ctx, dayCostsDiffer).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, baselinesDiffer).Scan(&baselines); err != nil {
			t.Fatal(err)
		}
		return n + baselines
	}
	rows := func() int64 {
		t.Helper()
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM reports.resource_day_cost_v2`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	run := func(month time.Time, refresh bool) int64 {
		t.Helper()
		id, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerBackfill,
			Window: store.Window{Start: month, End: month.AddDate(0, 1, 0)}})
		if err != nil {
			t.Fatal(err)
		}
		if refresh {
			if err := s.RefreshDayCosts(ctx, testOwner, id, false); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.FinishRun(ctx, id, store.RunSucceeded, store.RunCounters{}, ""); err != nil {
			t.Fatal(err)
		}
		return id
	}
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	oct := sep.AddDate(0, 1, 0)

	// A backfill of September: hourly and daily buckets, and a contract
	// spread over the month.
	exec(`INSERT INTO billing.resources (provider, account, family, resource_id, name, status) VALUES
	        ($1, $2, 'virtual-machine', '1', 'vm-1', 'ACTIVE'), ($1, $2, 'contract', '9', 'c-9', 'ACTIVE')`, testOwner.Provider, testOwner.Account)
	exec(`INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill)
	      SELECT $1, $2, 'virtual-machine', '1', 3600, g, 1.5 FROM generate_series('2026-09-01'::timestamptz, '2026-09-30 23:00Z', '1 hour') g`,
		testOwner.Provider, testOwner.Account)
	exec(`INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill)
	      VALUES ($1, $2, 'contract', '9', '2026-09-01', 300)`, testOwner.Provider, testOwner.Account)
	run(sep, true)
	if n := differ(); n != 0 || rows() != 60 {
		t.Fatalf("after the September backfill: %d rows differ, %d rows, want 0 and 60", n, rows())
	}

	// An October run killed before its refresh (it never happened; the
	// next run's BeginRun declares it abandoned or it ended): the view
	// misses its days until the next run repairs them.
	exec(`INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill)
	      SELECT $1, $2, 'virtual-machine', '1', 86400, g, 30 FROM generate_series('2026-10-01'::timestamptz, '2026-10-31', '1 day') g`,
		testOwner.Provider, testOwner.Account)
	exec(`DELETE FROM billing.cost_datapoints WHERE bucket_start = '2026-10-15'`)
	killed := run(oct, false)
	if n := differ(); n == 0 {
		t.Fatal("the killed run's days are already in the table")
	}
	// The next run covers only November, and repairs September and October.
	next := run(oct.AddDate(0, 1, 0), true)
	if n := differ(); n != 0 {
		t.Fatalf("after the next run's refresh: %d rows differ", n)
	}
	var refreshed int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM ingest.runs WHERE day_costs_refreshed AND id = ANY($1)`, []int64{killed, next}).Scan(&refreshed); err != nil {
		t.Fatal(err)
	}
	if refreshed != 2 {
		t.Fatalf("%d of the killed and the next run are marked refreshed, want 2", refreshed)
	}

	// A second refresh changes nothing, and writes no row.
	before := snapshotDayCosts(t, conn)
	again := run(oct, true)
	if after := snapshotDayCosts(t, conn); after != before {
		t.Fatalf("a second refresh changed the table:\n%s\n%s", before, after)
	}
	var written int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM billing.resource_day_costs WHERE refreshed_run_id = $1`, again).Scan(&written); err != nil {
		t.Fatal(err)
	}
	if written != 0 {
		t.Fatalf("a second refresh wrote %d rows, want none", written)
	}

	// November's first days have a baseline made of October's last. A
	// correction of October's end, refreshed alone, sets them again.
	exec(`INSERT INTO billing.cost_datapoints (provider, account, family, resource_id, bucket_seconds, bucket_start, incurred_bill)
	      SELECT $1, $2, 'virtual-machine', '1', 86400, g, 30 FROM generate_series('2026-11-01'::timestamptz, '2026-11-20', '1 day') g`,
		testOwner.Provider, testOwner.Account)
	run(oct.AddDate(0, 1, 0), true)
	exec(`UPDATE billing.cost_datapoints SET incurred_bill = 90 WHERE bucket_start = '2026-10-31' AND bucket_seconds = 86400`)
	run(oct, true)
	if n := differ(); n != 0 {
		t.Fatalf("after October's correction: %d rows or baselines differ", n)
	}
	var baseline string
	var days int
	if err := conn.QueryRow(ctx, `SELECT baseline::text, history_days FROM billing.resource_day_costs
	    WHERE resource_family = 'virtual-machine' AND day = '2026-11-02'`).Scan(&baseline, &days); err != nil {
		t.Fatal(err)
	}
	// October 19 to November 1: thirteen days of 30 and October 31's 90.
	if want := "34.2857142857142857"; baseline != want || days != 14 {
		t.Fatalf("November 2's baseline is %s over %d days, want %s over 14", baseline, days, want)
	}

	// A day the warehouse no longer has a cost for leaves the table.
	exec(`DELETE FROM billing.cost_datapoints WHERE bucket_start = '2026-11-20'`)
	run(oct.AddDate(0, 1, 0), true)
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM billing.resource_day_costs WHERE day = '2026-11-20'`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if n := differ(); n != 0 || left != 0 {
		t.Fatalf("after November 20 went: %d rows or baselines differ, %d rows of the day left", n, left)
	}
}

func snapshotDayCosts(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var s string
	err := conn.QueryRow(t.Context(), `SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s|%s|%s|%s', provider, account, currency, day, resource_family,
	    resource_id, billed_cost, amortized_cost, source), E'\n' ORDER BY provider, account, resource_family, resource_id, day), '')
	    FROM billing.resource_day_costs`).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
