package store_test

import (
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// BenchmarkRows converts a graph's worth of typed rows (one resource, 744
// hourly buckets) into the writer's rows.
func BenchmarkRows(b *testing.B) {
	v := decimal.MustParse("0.123456789")
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]store.CostDatapoint, 744)
	for i := range rows {
		rows[i] = store.CostDatapoint{Family: "virtual-machine", ResourceID: "4242", BucketSeconds: 3600,
			BucketStart: start.Add(time.Duration(i) * time.Hour), IncurredBill: &v}
	}
	owner := store.Owner{Provider: "hyperstack", Account: "default"}
	b.ReportAllocs()
	for b.Loop() {
		store.CostDatapoints.Rows(owner, rows...)
	}
}
