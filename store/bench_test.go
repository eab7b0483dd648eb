package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// benchRows is n hourly datapoints spread over n/1000 resources; every
// hundredth value differs when changed is true.
func benchRows(n int, changed bool) [][]any {
	rows := make([][]any, 0, n)
	for i := range n {
		cents := 1000 + i%977
		if changed && i%100 == 0 {
			cents++
		}
		rows = append(rows, []any{
			"hyperstack", "default", "virtual-machine", fmt.Sprintf("vm-%d", i/1000), 3600,
			day0.Add(time.Duration(i%1000) * time.Hour), decimal.MustParse(fmt.Sprintf("%d.%06d", cents, i%1000000)), nil, nil, nil,
		})
	}
	return rows
}

// rowVersionSum fingerprints every row version of the table.
func rowVersionSum(b *testing.B, s *store.Store) string {
	var sum string
	if err := s.Pool().QueryRow(context.Background(), `SELECT count(*)::text || '/' || coalesce(sum(xmin::text::bigint), 0)::text FROM billing.cost_datapoints`).Scan(&sum); err != nil {
		b.Fatal(err)
	}
	return sum
}

// BenchmarkLoadDatapoints loads 1,000,000 datapoints through the warehouse
// writer (a first load, an unchanged re-load, a re-load with 1% changed
// values) and, in the same run, raw COPY of the same rows into an identical
// table. It reports rows/s for each and the ratios the targets are set on.
func BenchmarkLoadDatapoints(b *testing.B) {
	const n = 1_000_000
	s := dbtest.NewStore(b)
	ctx := context.Background()
	if _, err := s.Pool().Exec(ctx, `CREATE TABLE public.copy_target (LIKE billing.cost_datapoints INCLUDING ALL)`); err != nil {
		b.Fatal(err)
	}
	rows, changed := benchRows(n, false), benchRows(n, true)
	cols := append(append([]string{}, store.CostDatapoints.Key...), store.CostDatapoints.Values...)

	timed := func(fn func()) time.Duration {
		began := time.Now()
		fn()
		return time.Since(began)
	}
	load := func(rs [][]any) store.WriteResult {
		res, err := s.WriteBatch(ctx, 0, func(ctx context.Context, batch *store.Batch) error {
			return batch.Write(ctx, store.CostDatapoints.Table, rs, nil)
		})
		if err != nil {
			b.Fatal(err)
		}
		return res
	}
	var copyT, firstT, sameT, changedT time.Duration
	for b.Loop() {
		b.StopTimer()
		for _, tbl := range []string{"public.copy_target", "billing.cost_datapoints", "billing.restatements"} {
			if _, err := s.Pool().Exec(ctx, "TRUNCATE "+tbl); err != nil {
				b.Fatal(err)
			}
		}
		s.Pool().Exec(ctx, "CHECKPOINT")
		b.StartTimer()

		copyT += timed(func() {
			if _, err := s.Pool().CopyFrom(ctx, pgx.Identifier{"public", "copy_target"}, cols, pgx.CopyFromRows(rows)); err != nil {
				b.Fatal(err)
			}
		})
		firstT += timed(func() {
			if res := load(rows); res.Inserted != n {
				b.Fatalf("first load: %+v", res)
			}
		})
		before := rowVersionSum(b, s)
		sameT += timed(func() {
			if res := load(rows); res.Unchanged != n {
				b.Fatalf("unchanged re-load: %+v", res)
			}
		})
		if after := rowVersionSum(b, s); after != before {
			b.Fatalf("the unchanged re-load wrote row versions: %s -> %s", before, after)
		}
		changedT += timed(func() {
			if res := load(changed); res.Updated != n/100 || res.Restated != n/100 {
				b.Fatalf("1%% changed: %+v", res)
			}
		})
	}
	rate := func(d time.Duration) float64 { return float64(n) * float64(b.N) / d.Seconds() }
	b.ReportMetric(rate(copyT), "copy_rows/s")
	b.ReportMetric(rate(firstT), "first_rows/s")
	b.ReportMetric(rate(sameT), "unchanged_rows/s")
	b.ReportMetric(rate(changedT), "changed1pct_rows/s")
	b.ReportMetric(rate(firstT)/rate(copyT), "first/copy_rate")
	b.ReportMetric(sameT.Seconds()/copyT.Seconds(), "unchanged/copy_time")
	b.ReportMetric(0, "ns/op")
}
