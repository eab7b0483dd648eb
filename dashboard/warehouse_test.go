package dashboard_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// simNow is the simulated clock of the backfilled warehouse.
var simNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// backfilled returns the URL of a warehouse backfilled from the simulator
// (seed 3, from its start to simNow), as sql/reports' tests build it.
func backfilled(t *testing.T) string {
	t.Helper()
	sim := hyperstacksim.New(hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 3, Now: simNow}, APIKey: "k", RateLimit: -1})
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

func pool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	p, err := pgxpool.New(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}
