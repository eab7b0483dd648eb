package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// Trigger says what started a run.
type Trigger string

const (
	TriggerManual    Trigger = "manual"
	TriggerSchedule  Trigger = "schedule"
	TriggerBackfill  Trigger = "backfill"
	TriggerReprocess Trigger = "reprocess"
)

// RunStatus is where a run stands. Every status but RunRunning is final.
type RunStatus string

const (
	RunRunning   RunStatus = "running"
	RunSucceeded RunStatus = "succeeded"
	RunPartial   RunStatus = "partial"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
	RunAbandoned RunStatus = "abandoned"
)

// ErrRunNotRunning is returned when a run that has already ended (or was
// declared abandoned by another process) is heartbeated or finished again.
var ErrRunNotRunning = errors.New("run is no longer running")

// maxErrorSummary bounds the error text kept on a run row; per-unit detail
// belongs in the run's error records.
const maxErrorSummary = 4000

// RunCounters are the figures a run accumulates.
type RunCounters struct {
	Requests     int64 `json:"requests"`
	Retries      int64 `json:"retries"`
	RateLimited  int64 `json:"rate_limited"`
	RowsInserted int64 `json:"rows_inserted"`
	RowsUpdated  int64 `json:"rows_updated"`
	RowsDeleted  int64 `json:"rows_deleted"`
	Errors       int64 `json:"errors"`
}

// Window is the time range a run fetched. A zero bound means unbounded.
type Window struct {
	Start, End time.Time
}

// Run is one row of the ledger.
type Run struct {
	ID           int64
	Owner        Owner
	Trigger      Trigger
	Window       Window
	StartedAt    time.Time
	HeartbeatAt  time.Time
	FinishedAt   *time.Time
	Status       RunStatus
	Counters     RunCounters
	ErrorSummary string
	Host         string
	PID          int
}

// BeginRunParams describe a run about to start.
type BeginRunParams struct {
	Owner   Owner
	Trigger Trigger
	Window  Window
	// StaleAfter is how long a running run may go without a heartbeat
	// before it is declared abandoned. Default 5 minutes.
	StaleAfter time.Duration
	// HoldsLock says the caller holds the owner's run lock, so no other
	// live process has a run of it: every run of the owner still marked
	// running is abandoned, whatever its heartbeat.
	HoldsLock bool
}

const abandonStaleRuns = `
UPDATE ingest.runs
SET status = 'abandoned',
    finished_at = now(),
    error_summary = format('no heartbeat since %s; the process running it died', heartbeat_at)
WHERE status = 'running' AND (heartbeat_at < now() - $1::interval OR $2 AND provider = $3 AND account = $4)`

const insertRun = `
INSERT INTO ingest.runs (provider, account, trigger, window_start, window_end, host, pid)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id`

// BeginRun records a new running run and returns its id. In the same
// transaction it marks runs whose process stopped heartbeating as abandoned.
func (s *Store) BeginRun(ctx context.Context, p BeginRunParams) (int64, error) {
	if p.Owner.Provider == "" || p.Owner.Account == "" {
		return 0, fmt.Errorf("begin run: no provider and account")
	}
	if p.StaleAfter <= 0 {
		p.StaleAfter = 5 * time.Minute
	}
	host, _ := os.Hostname()
	var id int64
	err := withTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, abandonStaleRuns, p.StaleAfter, p.HoldsLock, p.Owner.Provider, p.Owner.Account)
		if err != nil {
			return fmt.Errorf("mark abandoned runs: %w", err)
		}
		if n := tag.RowsAffected(); n > 0 {
			s.logger.WarnContext(ctx, "marked runs abandoned", "count", n)
		}
		return tx.QueryRow(ctx, insertRun, p.Owner.Provider, p.Owner.Account, string(p.Trigger),
			nullTime(p.Window.Start), nullTime(p.Window.End), host, os.Getpid()).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("begin run: %w", err)
	}
	return id, nil
}

const heartbeatRun = `
UPDATE ingest.runs
SET heartbeat_at = now(),
    requests = $2, retries = $3, rate_limited = $4,
    rows_inserted = $5, rows_updated = $6, rows_deleted = $7, errors = $8
WHERE id = $1 AND status = 'running'`

// Heartbeat proves the run's process is alive and saves its progress so far.
// It returns ErrRunNotRunning if the run was meanwhile declared abandoned:
// the caller should stop, since another process may have taken over.
func (s *Store) Heartbeat(ctx context.Context, runID int64, c RunCounters) error {
	tag, err := s.pool.Exec(ctx, heartbeatRun, runID,
		c.Requests, c.Retries, c.RateLimited, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, c.Errors)
	if err != nil {
		return fmt.Errorf("heartbeat run %d: %w", runID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("heartbeat run %d: %w", runID, ErrRunNotRunning)
	}
	return nil
}

const finishRun = `
UPDATE ingest.runs
SET status = $2, finished_at = now(), heartbeat_at = now(),
    requests = $3, retries = $4, rate_limited = $5,
    rows_inserted = $6, rows_updated = $7, rows_deleted = $8, errors = $9,
    error_summary = $10
WHERE id = $1 AND status = 'running'`

// FinishRun records how a run ended. errSummary may be empty.
func (s *Store) FinishRun(ctx context.Context, runID int64, status RunStatus, c RunCounters, errSummary string) error {
	if status == RunRunning || status == "" {
		return fmt.Errorf("finish run %d: %q is not a final status", runID, status)
	}
	var summary *string
	if errSummary != "" {
		errSummary = Clip(errSummary, maxErrorSummary)
		summary = &errSummary
	}
	tag, err := s.pool.Exec(ctx, finishRun, runID, string(status),
		c.Requests, c.Retries, c.RateLimited, c.RowsInserted, c.RowsUpdated, c.RowsDeleted, c.Errors, summary)
	if err != nil {
		if connectionLost(err) {
			return fmt.Errorf("finish run %d: %w: %w", runID, ErrConnectionLost, err)
		}
		return fmt.Errorf("finish run %d: %w", runID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("finish run %d: %w", runID, ErrRunNotRunning)
	}
	return nil
}

const selectRuns = `
SELECT id, provider, account, trigger, window_start, window_end, started_at, heartbeat_at, finished_at,
       status, requests, retries, rate_limited, rows_inserted, rows_updated, rows_deleted, errors,
       coalesce(error_summary, ''), host, pid
FROM ingest.runs`

// Run returns one run.
func (s *Store) Run(ctx context.Context, runID int64) (Run, error) {
	rows, err := s.pool.Query(ctx, selectRuns+` WHERE id = $1`, runID)
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", runID, err)
	}
	run, err := pgx.CollectExactlyOneRow(rows, scanRun)
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", runID, err)
	}
	return run, nil
}

// RecentRuns returns the newest runs first.
func (s *Store) RecentRuns(ctx context.Context, limit int) ([]Run, error) {
	rows, err := s.pool.Query(ctx, selectRuns+` ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	return runs, nil
}

func scanRun(row pgx.CollectableRow) (Run, error) {
	var r Run
	var start, end *time.Time
	err := row.Scan(&r.ID, &r.Owner.Provider, &r.Owner.Account, &r.Trigger, &start, &end, &r.StartedAt, &r.HeartbeatAt, &r.FinishedAt,
		&r.Status, &r.Counters.Requests, &r.Counters.Retries, &r.Counters.RateLimited,
		&r.Counters.RowsInserted, &r.Counters.RowsUpdated, &r.Counters.RowsDeleted, &r.Counters.Errors,
		&r.ErrorSummary, &r.Host, &r.PID)
	if start != nil {
		r.Window.Start = start.UTC()
	}
	if end != nil {
		r.Window.End = end.UTC()
	}
	r.StartedAt, r.HeartbeatAt = r.StartedAt.UTC(), r.HeartbeatAt.UTC()
	if r.FinishedAt != nil {
		t := r.FinishedAt.UTC()
		r.FinishedAt = &t
	}
	return r, err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// LastScheduledStart is when the owner's newest scheduled run started
// (zero for none).
func (s *Store) LastScheduledStart(ctx context.Context, owner Owner) (time.Time, error) {
	var t *time.Time
	err := s.pool.QueryRow(ctx, `SELECT max(started_at) FROM ingest.runs WHERE provider = $1 AND account = $2 AND trigger = 'schedule'`,
		owner.Provider, owner.Account).Scan(&t)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the last run of %s: %w", owner, err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}
