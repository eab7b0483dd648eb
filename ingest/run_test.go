package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// stuck is a source whose snapshot never ends by itself: an API that
// answers a request in a day, say.
type stuck struct{ owner store.Owner }

func (s stuck) Owner() store.Owner      { return s.owner }
func (s stuck) Info() store.AccountInfo { return store.AccountInfo{Owner: s.owner} }
func (s stuck) Client() *ingest.Client  { return nil }
func (s stuck) Snapshot(ctx context.Context, r *ingest.Run) {
	<-ctx.Done()
}
func (s stuck) Month(context.Context, *ingest.Run, store.Window) {}
func (s stuck) Replay(ingest.Payload) ([]store.Write, error)     { return nil, nil }

// TestMaxRunDuration: a run still going after the maximum duration is
// cancelled, recorded as such with why, and frees its lock.
func TestMaxRunDuration(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	c := ingest.NewCrawler(ingest.Config{MaxRunDuration: 300 * time.Millisecond}, s)
	src := stuck{owner: store.Owner{Provider: "test", Account: "stuck"}}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	res, err := c.Run(ctx, src, store.TriggerManual, ingest.Mode{})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run outlived its maximum duration")
	}
	run, err := s.Run(ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunCancelled || !strings.Contains(run.ErrorSummary, "maximum run duration") {
		t.Fatalf("run = %s %q, want cancelled for its duration", run.Status, run.ErrorSummary)
	}
	lock, err := s.TryRunLock(ctx, src.owner)
	if err != nil {
		t.Fatalf("the lock after the run: %v", err)
	}
	lock.Release()
}
