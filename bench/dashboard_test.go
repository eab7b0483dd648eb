package bench

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billing-warehouse/billing-warehouse/dashboard"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// dashboardRounds is how many times the page is drawn once the warehouse
// is built; the figure is their median (the first, with cold caches and
// plans, is reported apart).
const dashboardRounds = 15

// BenchmarkDashboard backfills the large scale (4x a quarter of it: 3,765
// resources) from Sep 1 to the simulator's Nov 23, then times reading the
// views and drawing the page, as serve's / does, for every account: the
// default page (the newest month with data, which follows the wall clock:
// the run's window ends now) and November's, the simulator's last full
// month of data.
func BenchmarkDashboard(b *testing.B) {
	var result struct {
		Resources     int       `json:"resources_multiple_of_large"`
		WarehouseRows int64     `json:"warehouse_rows"`
		FirstMS       float64   `json:"first_render_ms"`
		MedianMS      float64   `json:"median_render_ms"`
		MaxMS         float64   `json:"max_render_ms"`
		RoundsMS      []float64 `json:"rounds_ms"`
		PageBytes     int       `json:"page_bytes"`
		TargetMS      float64   `json:"target_ms"`
		// The page of ?month=2026-11, drawn in the same rounds.
		MonthFirstMS  float64 `json:"november_first_render_ms"`
		MonthMedianMS float64 `json:"november_median_render_ms"`
		MonthMaxMS    float64 `json:"november_max_render_ms"`
		MonthBytes    int     `json:"november_page_bytes"`
	}
	draw := func(b *testing.B, pool *pgxpool.Pool, f dashboard.Filter) (float64, int) {
		began := time.Now()
		d, err := dashboard.Load(b.Context(), pool, f)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if err := dashboard.Render(&buf, d, dashboard.Options{}); err != nil {
			b.Fatal(err)
		}
		return float64(time.Since(began).Microseconds()) / 1000, buf.Len()
	}
	november := dashboard.Filter{Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	for b.Loop() {
		s := startSim(b, 4*quarterLarge, "2026-09-01T00:00:00Z", 0, -1)
		db := dbtest.New(b)
		m := ingest(b, s, db, 10_000_000, "backfill", "--since", "2026-09")
		result.WarehouseRows = m.Rows
		pool, err := pgxpool.New(b.Context(), db)
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		var times, monthTimes []float64
		for i := range dashboardRounds + 1 {
			ms, size := draw(b, pool, dashboard.Filter{})
			monthMS, monthSize := draw(b, pool, november)
			result.PageBytes, result.MonthBytes = size, monthSize
			if i == 0 {
				result.FirstMS, result.MonthFirstMS = ms, monthMS
				continue
			}
			times = append(times, ms)
			monthTimes = append(monthTimes, monthMS)
		}
		result.MonthMedianMS = median(monthTimes)
		result.MonthMaxMS = slices.Max(monthTimes)
		result.Resources = 1
		result.RoundsMS = times
		result.MedianMS = median(times)
		result.MaxMS = slices.Max(times)
		result.TargetMS = 200
		b.ReportMetric(result.MedianMS, "ms/page")
		b.ReportMetric(result.MonthMedianMS, "ms/november_page")
	}
	save(b, "dashboard", result)
}
