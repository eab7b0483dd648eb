package hyperstacksim

import (
	"fmt"
	"testing"
)

// BenchmarkNew measures how long the simulator takes to generate its
// organisation at each scale (its start-up time).
func BenchmarkNew(b *testing.B) {
	for _, scale := range []string{"small", "medium", "large"} {
		b.Run(scale, func(b *testing.B) {
			for b.Loop() {
				New(Config{ModelConfig: ModelConfig{Seed: 1, Now: testNow, Counts: Scales[scale]}})
			}
		})
	}
}

// BenchmarkListPage measures serving one page of the VM history at the large scale.
func BenchmarkListPage(b *testing.B) {
	_, base := newTestSim(b, Config{ModelConfig: ModelConfig{Counts: Scales["large"]}})
	for b.Loop() {
		get(b, fmt.Sprintf("%s/v1/billing/billing/history/virtual-machine?per_page=100&page=3", base))
	}
}
