// Package simwarehouse gives tests a warehouse backfilled from the
// Hyperstack simulator in-process, as sql/reports' tests build theirs.
package simwarehouse

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// Now is the simulated clock of the backfilled warehouse.
var Now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Backfilled returns the URL of a fresh database holding the simulator's
// history (seed 3, account "default") up to Now.
func Backfilled(t testing.TB) string {
	t.Helper()
	sim := hyperstacksim.New(hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 3, Now: Now}, APIKey: "k", RateLimit: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	source, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": "k"}}, ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	url := dbtest.New(t)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := ingest.NewCrawler(ingest.Config{Now: sim.Model.Now}, s)
	res, err := c.Run(t.Context(), source, store.TriggerBackfill, ingest.Mode{Backfill: true, Since: sim.Model.Start()})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("backfill: %v %s", err, res.Status)
	}
	return url
}
