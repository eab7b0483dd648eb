package store_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// BenchmarkScopedReload compares the write paths where they differ: a
// re-load of 1,000,000 datapoints (1,000 resources × 1,000 hours) in
// batches of 20 resources, each batch authoritative for its resources'
// windows (WriteMany with 20 scopes), as the crawler's writer does, one
// resource's last hour gone in every batch (deleted in the first round;
// later rounds find nothing to delete). The table's statistics are fresh
// (VACUUM ANALYZE after the first load). Each path has its own
// database; rounds alternate between them. It writes
// ../bench/results/write_path_scoped_reload.json.
func BenchmarkScopedReload(b *testing.B) {
	const n, perBatch, rounds = 1_000_000, 20, 3
	ctx := context.Background()
	rows := benchRows(n, false)
	paths := []store.WritePath{store.WritePathPlain, store.WritePathCitus}
	stores := map[store.WritePath]*store.Store{}
	for _, p := range paths {
		s, err := store.Open(ctx, dbtest.New(b), store.Options{WritePath: p})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
		stores[p] = s
	}
	scope := func(vm string) *store.Scope {
		return &store.Scope{Owner: testOwner, Equal: map[string]any{"family": "virtual-machine", "resource_id": vm, "bucket_seconds": 3600},
			RangeColumn: "bucket_start", From: day0, To: day0.Add(1000 * time.Hour)}
	}
	reload := func(s *store.Store) (time.Duration, int64) {
		began := time.Now()
		var deleted int64
		for first := 0; first < n; first += perBatch * 1000 {
			batch := rows[first : first+perBatch*1000]
			// The batch's first resource lost its last hour.
			batch = append(batch[:999:999], batch[1000:]...)
			var scopes []*store.Scope
			for r := range perBatch {
				scopes = append(scopes, scope(batch[min(r*1000, len(batch)-1)][3].(string)))
			}
			res, err := s.WriteBatch(ctx, 0, func(ctx context.Context, bt *store.Batch) error {
				return bt.WriteMany(ctx, store.CostDatapoints.Table, batch, scopes)
			})
			if err != nil {
				b.Fatal(err)
			}
			deleted += res.Deleted
		}
		return time.Since(began), deleted
	}
	type side struct {
		RowsPerSecond []float64 `json:"rows_per_second_by_round"`
		Median        float64   `json:"rows_per_second"`
	}
	result := struct {
		Rows      int                `json:"rows"`
		Batch     int                `json:"resources_per_batch"`
		Paths     map[string]*side   `json:"paths"`
		Ratios    []float64          `json:"citus_vs_plain_rate_by_round"`
		Ratio     float64            `json:"citus_vs_plain_rate"`
		DeletedBy map[string][]int64 `json:"deleted_by_round"`
	}{Rows: n, Batch: perBatch, Paths: map[string]*side{}, DeletedBy: map[string][]int64{}}
	for b.Loop() {
		for _, p := range paths {
			s := stores[p]
			s.Pool().Exec(ctx, "TRUNCATE billing.cost_datapoints, billing.restatements")
			if _, err := s.WriteBatch(ctx, 0, func(ctx context.Context, bt *store.Batch) error {
				return bt.Write(ctx, store.CostDatapoints.Table, rows, nil)
			}); err != nil {
				b.Fatal(err)
			}
			s.Pool().Exec(ctx, "VACUUM ANALYZE billing.cost_datapoints")
			result.Paths[string(p)] = &side{}
		}
		for range rounds {
			rate := map[store.WritePath]float64{}
			for _, p := range paths {
				took, deleted := reload(stores[p])
				rate[p] = float64(n) / took.Seconds()
				result.Paths[string(p)].RowsPerSecond = append(result.Paths[string(p)].RowsPerSecond, rate[p])
				result.DeletedBy[string(p)] = append(result.DeletedBy[string(p)], deleted)
			}
			result.Ratios = append(result.Ratios, rate[store.WritePathCitus]/rate[store.WritePathPlain])
		}
	}
	for _, p := range paths {
		result.Paths[string(p)].Median = medianOf(result.Paths[string(p)].RowsPerSecond)
	}
	result.Ratio = medianOf(result.Ratios)
	b.ReportMetric(result.Paths["plain"].Median, "plain_rows/s")
	b.ReportMetric(result.Paths["citus"].Median, "citus_rows/s")
	b.ReportMetric(result.Ratio, "citus/plain_rate")
	b.ReportMetric(0, "ns/op")
	out, _ := json.MarshalIndent(result, "", "  ")
	if err := os.WriteFile(filepath.Join("..", "bench", "results", "write_path_scoped_reload.json"), append(out, '\n'), 0o644); err != nil {
		b.Fatal(err)
	}
}

func medianOf(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}
