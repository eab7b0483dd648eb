package bench

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// writePathRounds is how many reprocesses each write path gets, alternating
// so that both see the same drift of the machine's speed.
const writePathRounds = 3

// BenchmarkWritePath compares the two forms of the writer's statements
// (INGEST_WRITE_PATH plain and citus) on plain PostgreSQL, in the same run:
// two DB-bound backfills of the same organisation with each (plain, citus,
// citus, plain), then rounds of reprocess of the emptied warehouse,
// alternating. Only the deletion of
// stale rows differs between them.
func BenchmarkWritePath(b *testing.B) {
	type side struct {
		BackfillSeconds  float64   `json:"backfill_seconds_mean"`
		BackfillByRound  []float64 `json:"backfill_seconds_by_round"`
		BackfillRowsS    float64   `json:"backfill_rows_per_second"`
		ReprocessRowsS   float64   `json:"reprocess_rows_per_second"`
		ReprocessByRound []float64 `json:"reprocess_rows_per_second_by_round"`
		Status           string    `json:"backfill_status"`
	}
	var result struct {
		Resources      int              `json:"resources"`
		Rows           int64            `json:"reprocess_rows"`
		Paths          map[string]*side `json:"paths"`
		BackfillRatio  float64          `json:"citus_vs_plain_backfill_time"`
		ReprocessRatio float64          `json:"citus_vs_plain_reprocess_rate"`
		RoundRatios    []float64        `json:"citus_vs_plain_reprocess_rate_by_round"`
	}
	paths := []string{"plain", "citus"}
	for b.Loop() {
		result.Paths = map[string]*side{}
		s := startSim(b, quarterLarge*4, "2026-09-01T00:00:00Z", 0, -1)
		// Backfills in the order plain, citus, citus, plain: a drift of
		// the machine's speed weighs on both alike.
		dbs := map[string]string{}
		for _, p := range paths {
			result.Paths[p] = &side{}
		}
		for _, p := range []string{"plain", "citus", "citus", "plain"} {
			dbs[p] = dbtest.New(b)
			m := ingestWith(b, s, dbs[p], 10_000_000, []string{"INGEST_WRITE_PATH=" + p}, "backfill", "--since", "2026-09")
			sd := result.Paths[p]
			sd.BackfillByRound = append(sd.BackfillByRound, m.WallSeconds)
			sd.BackfillSeconds += m.WallSeconds / 2
			sd.BackfillRowsS = float64(m.Rows) / sd.BackfillSeconds
			if sd.Status == "" || m.Status != "succeeded" {
				sd.Status = m.Status
			}
		}
		for range writePathRounds {
			rates := map[string]float64{}
			for _, p := range paths {
				emptyWarehouse(b, dbs[p])
				re := ingestWith(b, s, dbs[p], 10_000_000, []string{"INGEST_WRITE_PATH=" + p}, "reprocess")
				rates[p] = float64(re.Rows) / re.Wall.Seconds()
				result.Paths[p].ReprocessByRound = append(result.Paths[p].ReprocessByRound, rates[p])
				result.Rows = re.Rows
			}
			result.RoundRatios = append(result.RoundRatios, rates["citus"]/rates["plain"])
		}
		for _, p := range paths {
			result.Paths[p].ReprocessRowsS = median(result.Paths[p].ReprocessByRound)
		}
		result.Resources = 3765
		result.BackfillRatio = result.Paths["citus"].BackfillSeconds / result.Paths["plain"].BackfillSeconds
		result.ReprocessRatio = median(result.RoundRatios)
		b.ReportMetric(result.BackfillRatio, "citus/plain_backfill_time")
		b.ReportMetric(result.ReprocessRatio, "citus/plain_reprocess_rate")
	}
	save(b, "write_path_end_to_end", result)
}
