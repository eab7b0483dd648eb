package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

func TestRunLedger(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := t.Context()

	window := store.Window{
		Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
		End:   time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
	}
	id, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerBackfill, Window: window})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != store.RunRunning || run.Trigger != store.TriggerBackfill || run.Owner != testOwner ||
		run.Window != window || run.FinishedAt != nil || run.PID == 0 {
		t.Fatalf("new run = %+v", run)
	}

	progress := store.RunCounters{Requests: 10, Retries: 1, RowsInserted: 100}
	if err := s.Heartbeat(ctx, id, progress); err != nil {
		t.Fatal(err)
	}
	run, _ = s.Run(ctx, id)
	if run.Counters != progress || run.HeartbeatAt.Before(run.StartedAt) {
		t.Fatalf("after heartbeat: %+v", run)
	}

	final := store.RunCounters{Requests: 42, Retries: 3, RateLimited: 2, RowsInserted: 1000, RowsUpdated: 7, RowsDeleted: 1, Errors: 1}
	if err := s.FinishRun(ctx, id, store.RunPartial, final, "GET /billing/billing/history/volume/7: 500 after 5 attempts"); err != nil {
		t.Fatal(err)
	}
	run, _ = s.Run(ctx, id)
	if run.Status != store.RunPartial || run.Counters != final || run.FinishedAt == nil ||
		!strings.Contains(run.ErrorSummary, "volume/7") {
		t.Fatalf("finished run = %+v", run)
	}

	// A finished run cannot be heartbeated or finished again.
	if err := s.Heartbeat(ctx, id, final); !errors.Is(err, store.ErrRunNotRunning) {
		t.Fatalf("heartbeat after finish = %v, want ErrRunNotRunning", err)
	}
	if err := s.FinishRun(ctx, id, store.RunSucceeded, final, ""); !errors.Is(err, store.ErrRunNotRunning) {
		t.Fatalf("second finish = %v, want ErrRunNotRunning", err)
	}
	if err := s.FinishRun(ctx, id, store.RunRunning, final, ""); err == nil {
		t.Fatal("finishing with status running was accepted")
	}

	runs, err := s.RecentRuns(ctx, 5)
	if err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Fatalf("RecentRuns = %+v, %v", runs, err)
	}
}

// TestAbandonedRun simulates a process that died mid-run: its heartbeat goes
// stale, and the next run to start marks it abandoned, leaving a live run alone.
func TestAbandonedRun(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := t.Context()

	dead, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerSchedule})
	if err != nil {
		t.Fatal(err)
	}
	alive, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	// The dead process's last heartbeat was ten minutes ago.
	if _, err := s.Pool().Exec(ctx, "UPDATE ingest.runs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1", dead); err != nil {
		t.Fatal(err)
	}

	next, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerSchedule, StaleAfter: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}

	got, _ := s.Run(ctx, dead)
	if got.Status != store.RunAbandoned || got.FinishedAt == nil || !strings.Contains(got.ErrorSummary, "no heartbeat since") {
		t.Fatalf("dead run = %+v, want abandoned", got)
	}
	for _, id := range []int64{alive, next} {
		if got, _ := s.Run(ctx, id); got.Status != store.RunRunning {
			t.Fatalf("run %d = %s, want running", id, got.Status)
		}
	}
	// The dead process, should it wake up, learns it lost its run.
	if err := s.Heartbeat(ctx, dead, store.RunCounters{}); !errors.Is(err, store.ErrRunNotRunning) {
		t.Fatalf("heartbeat of abandoned run = %v, want ErrRunNotRunning", err)
	}
}

// TestClipKeepsTextStorable: a cut never splits a character, and what
// PostgreSQL refuses in a text (invalid UTF-8, NUL) never reaches it.
func TestClipKeepsTextStorable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"abcd", "abcd"},
		{"ab€", "ab…"},   // € is 3 bytes from byte 2: cut before it
		{"abc€", "abc…"}, // cut at 4 falls inside €
		{"€€", "€…"},     // 6 bytes, cut at 4: one €
		{"a\xffb", "a\uFFFDb"[:4] + "…"},
		{"a\x00b", "a\uFFFDb"[:4] + "…"},
	} {
		got := store.Clip(c.in, 4)
		if got != c.want {
			t.Errorf("Clip(%q, 4) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := store.Clip("a\x00\xffb", 100); got != "a\uFFFD\uFFFDb" {
		t.Errorf("Clip of a NUL and a stray byte = %q", got)
	}
}

// TestFinishRunStoresAnyText: a run's summary with a stray byte and a NUL
// (an API's error text, cut anywhere) is recorded, not refused; an error
// retrying cannot fix is not reported as a lost connection (Crawler.finish
// retries only those; TestDatabaseOutage has the lost connection).
func TestFinishRunStoresAnyText(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	ctx := t.Context()
	id, err := s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	if err != nil {
		t.Fatal(err)
	}
	summary := strings.Repeat("é", 3000) + "\x00\xff"
	if err := s.FinishRun(ctx, id, store.RunFailed, store.RunCounters{}, summary); err != nil {
		t.Fatalf("finish with an unstorable summary: %v", err)
	}
	run, _ := s.Run(ctx, id)
	if run.Status != store.RunFailed || !strings.HasSuffix(run.ErrorSummary, "é…") {
		t.Fatalf("run = %s, summary ends %q", run.Status, run.ErrorSummary[len(run.ErrorSummary)-10:])
	}
	if err := s.RecordRunError(ctx, id, store.RunError{Endpoint: "x", Message: "bad\x00byte\xff"}); err != nil {
		t.Fatalf("record an error with a NUL: %v", err)
	}

	id, _ = s.BeginRun(ctx, store.BeginRunParams{Owner: testOwner, Trigger: store.TriggerManual})
	err = s.FinishRun(ctx, id, "bogus", store.RunCounters{}, "")
	if err == nil || errors.Is(err, store.ErrConnectionLost) {
		t.Fatalf("a check violation: %v, want an error that is not a lost connection", err)
	}
}
