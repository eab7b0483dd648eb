package hyperstack_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestWrongKeyStopsTheSource: the first 401 stops the source's run, failed,
// with one clear cause, instead of every request being made and refused.
func TestWrongKeyStopsTheSource(t *testing.T) {
	t.Parallel()
	sim := hyperstacksim.New(hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 11, Now: simNow,
		Counts: hyperstacksim.Scales["medium"]}, APIKey: apiKey, RateLimit: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	src, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": "not-" + apiKey}},
		ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	s := dbtest.NewStore(t)
	res, err := ingest.NewCrawler(ingest.Config{Now: sim.Model.Now, Concurrency: 4}, s).Run(t.Context(), src, store.TriggerBackfill,
		ingest.Mode{Backfill: true, Since: sim.Model.Start()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunFailed || res.Summary != "the API rejected the key for hyperstack/default (HTTP 401)" {
		t.Errorf("run %s: %q", res.Status, res.Summary)
	}
	// The point-in-time endpoints go out together (4 at a time); nothing
	// after the first refusal.
	if res.Counters.Requests > 4 || res.Counters.Errors != 1 {
		t.Errorf("%d requests, %d errors after a refused key; want at most 4 and 1", res.Counters.Requests, res.Counters.Errors)
	}
	errs, _ := s.RunErrors(t.Context(), res.RunID)
	if len(errs) != 1 || errs[0].HTTPStatus != 401 || !strings.Contains(errs[0].Message, "HTTP 401") {
		t.Errorf("the ledger's errors: %+v", errs)
	}
}
