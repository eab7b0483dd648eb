package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Config tunes the engine.
type Config struct {
	// Concurrency bounds each source's requests in flight (default 8).
	Concurrency int
	// Lookback is how far into the previous billing month an incremental
	// run still re-fetches it, for late corrections (default 72h).
	Lookback time.Duration
	// FullRefreshEvery re-fetches a unit that looks unchanged once this
	// long has passed (default 24h).
	FullRefreshEvery time.Duration
	// HeartbeatEvery is how often a run proves it is alive (default 15s).
	HeartbeatEvery time.Duration
	// Parallel is how many sources run at once (default 4).
	Parallel int
	// MaxRunDuration cancels a run still going after this long, so a
	// stuck run cannot hold its lock forever (0: no limit).
	MaxRunDuration time.Duration
	// Now is the APIs' clock (default time.Now).
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
}

// Mode says which billing months a run fetches.
type Mode struct {
	// Backfill fetches every month from Since to Until (inclusive), oldest
	// first, skipping months an earlier backfill finished. Otherwise the run
	// is incremental: the current month, and the previous one during the
	// first Lookback of a month.
	Backfill     bool
	Since, Until time.Time
	// Refetch makes a backfill fetch months an earlier backfill finished
	// (to pick up corrections older than the lookback). Unchanged units
	// are still skipped by their fingerprints.
	Refetch bool
	// Drain, when closed, stops the run from starting new units; those in
	// flight finish, and the run ends cancelled. (Cancelling the context
	// instead stops everything at once.)
	Drain <-chan struct{}
	// NotBefore, when set, skips a source one of whose scheduled runs
	// started at or after it (ErrAlreadyRan): replicas of serve ticking
	// together run each source once per tick, whoever gets to it first.
	NotBefore time.Time
}

// challengedRefusals is how many refusals of credentials that answer
// challenges (Digest) stop a source: one can be a race of nonces.
const challengedRefusals = 3

// ErrAlreadyRan says a source was skipped because it ran since
// Mode.NotBefore.
var ErrAlreadyRan = errors.New("already ran this tick")

// Crawler is the engine: it runs sources, one run per source at a time
// across every process that shares the warehouse.
type Crawler struct {
	cfg     Config
	store   *store.Store
	mu      sync.Mutex
	current map[store.Owner]*Run
}

// NewCrawler builds the engine.
func NewCrawler(cfg Config, s *store.Store) *Crawler {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = 72 * time.Hour
	}
	if cfg.FullRefreshEvery == 0 {
		cfg.FullRefreshEvery = 24 * time.Hour
	}
	if cfg.HeartbeatEvery == 0 {
		cfg.HeartbeatEvery = 15 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NopMetrics{}
	}
	return &Crawler{cfg: cfg, store: s, current: map[store.Owner]*Run{}}
}

// Tuning is a source's own settings, beside the command's; zero values
// take the command's.
type Tuning struct {
	Concurrency int
	Lookback    time.Duration
}

// tuned is implemented by sources with settings of their own.
type tuned interface{ Tuning() Tuning }

// Result is how a run ended.
type Result struct {
	Owner    store.Owner
	RunID    int64
	Status   store.RunStatus
	Counters store.RunCounters
	Skipped  int64 // units that were unchanged
	Summary  string
	Trigger  store.Trigger
	// Undecoded counts the stored bodies a reprocess found still
	// undecodable, as they were when fetched: information, not errors.
	Undecoded int64
}

// Run is one run of one source: what the source calls to fetch, write and
// report, and the state the engine keeps for it.
type Run struct {
	c           *Crawler
	src         Source
	owner       store.Owner
	id          int64
	now         time.Time
	lock        *store.RunLock
	logger      *slog.Logger
	concurrency int
	lookback    time.Duration
	states      map[string]store.UnitState
	refetch     bool // backfill --refetch

	inserted, updated, deleted, errs, skipped, committed atomic.Int64
	lost                                                 atomic.Bool        // the database, or the lock's connection, went away
	rejected                                             atomic.Bool        // the API refused the source's credentials
	refusals                                             atomic.Int64       // refusals of challenge-answering credentials
	overtime                                             atomic.Bool        // ran past Config.MaxRunDuration
	undecoded                                            atomic.Int64       // reprocess: bodies that never decoded
	stop                                                 context.CancelFunc // ends the run
	pendingMu                                            sync.Mutex
	pending                                              []Unit      // fetched units not yet written
	pendingRows                                          int         // their rows and raw payloads
	dayCostsMissed                                       atomic.Bool // a month's day costs were not rewritten
	dayCostsCovered                                      bool        // every month's were, as it was written
	batches                                              chan batch  // to the writer, in order
	listsDone, listsTotal, unitsDone, unitsTotal         atomic.Int64
	slots                                                chan struct{} // one per request in flight
	began                                                time.Time
	drain                                                <-chan struct{}
	progressMu                                           sync.Mutex
	atMonth                                              string
	monthIndex, months                                   int
	monthStarted                                         time.Time
	monthsTook                                           time.Duration // the months finished, together
	monthsDone                                           int
	unitsEver, requestsInUnits                           int64    // for requests per unit
	base                                                 [3]int64 // client counters at the start
	summaryMu                                            sync.Mutex
	summary                                              []string
}

// Progress reports where each running source stands, in a stable order.
func (c *Crawler) Progress() []Progress {
	c.mu.Lock()
	runs := make([]*Run, 0, len(c.current))
	for _, r := range c.current {
		runs = append(runs, r)
	}
	c.mu.Unlock()
	out := make([]Progress, 0, len(runs))
	for _, r := range runs {
		cnt := r.counters()
		p := Progress{
			Source: r.owner.String(), ListsDone: r.listsDone.Load(), ListsTotal: r.listsTotal.Load(),
			UnitsDone: r.unitsDone.Load(), UnitsTotal: r.unitsTotal.Load(),
			Requests: cnt.Requests, Rows: cnt.RowsInserted + cnt.RowsUpdated + cnt.RowsDeleted,
			RateLimited: cnt.RateLimited, Elapsed: time.Since(r.began),
		}
		if cl := r.src.Client(); cl != nil {
			p.Rate = cl.Rate()
		}
		r.progressMu.Lock()
		p.Month, p.MonthIndex, p.Months, p.MonthElapsed = r.atMonth, r.monthIndex, r.months, time.Since(r.monthStarted)
		if r.monthsDone > 0 {
			p.PerMonth = r.monthsTook / time.Duration(r.monthsDone)
		}
		if r.unitsEver > 0 {
			p.RequestsPerUnit = float64(r.requestsInUnits) / float64(r.unitsEver)
			p.UnitsPerMonth = float64(r.unitsEver) / float64(r.monthsDone)
		}
		r.progressMu.Unlock()
		out = append(out, p)
	}
	sortProgress(out)
	return out
}

// lifecycle is every run's life, crawl and reprocess alike: the source's
// run lock, the ledger row, the heartbeat, the outcome and its record.
// body does the work.
func (c *Crawler) lifecycle(ctx context.Context, src Source, trigger store.Trigger, window store.Window, mode Mode,
	body func(ctx context.Context, r *Run) error) (Result, error) {
	owner := src.Owner()
	now := c.cfg.Now().UTC().Truncate(time.Second)
	lock, err := c.store.TryRunLock(ctx, owner)
	var busy *store.BusyError
	if errors.As(err, &busy) && busy.RunID != 0 && c.cfg.MaxRunDuration > 0 && time.Since(busy.StartedAt) > c.cfg.MaxRunDuration+time.Minute {
		// Its own limit should have ended it: a stuck holder is a failure
		// to report, not a run to wait for quietly.
		return Result{Owner: owner}, fmt.Errorf("%s, longer than the maximum run duration (%s): the holder is stuck", busy.Error(), c.cfg.MaxRunDuration)
	}
	if err != nil {
		return Result{Owner: owner}, err
	}
	defer lock.Release()
	if !mode.NotBefore.IsZero() {
		last, err := c.store.LastScheduledStart(ctx, owner)
		if err != nil {
			return Result{Owner: owner}, err
		}
		if !last.Before(mode.NotBefore) {
			return Result{Owner: owner}, fmt.Errorf("%w: %s started a run at %s", ErrAlreadyRan, owner, last.UTC().Format(time.RFC3339))
		}
	}
	drain := mode.Drain
	if err := c.store.SeeAccount(ctx, src.Info()); err != nil {
		return Result{Owner: owner}, err
	}
	id, err := c.store.BeginRun(ctx, store.BeginRunParams{Owner: owner, Trigger: trigger, Window: window, HoldsLock: true})
	if err != nil {
		return Result{Owner: owner}, err
	}
	r := &Run{c: c, src: src, owner: owner, id: id, now: now, lock: lock,
		logger: c.cfg.Logger.With("run_id", id, "source", owner.String()), began: time.Now(), drain: drain,
		concurrency: c.cfg.Concurrency, lookback: c.cfg.Lookback}
	if t, ok := src.(tuned); ok {
		if n := t.Tuning().Concurrency; n > 0 {
			r.concurrency = n
		}
		if l := t.Tuning().Lookback; l > 0 {
			r.lookback = l
		}
	}
	r.slots = make(chan struct{}, r.concurrency)
	c.mu.Lock()
	c.current[owner] = r
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.current, owner)
		c.mu.Unlock()
	}()
	if cl := src.Client(); cl != nil {
		r.base[0], r.base[1], r.base[2] = cl.Counters()
	}
	r.logger.InfoContext(ctx, "run started", "trigger", trigger)

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.stop = cancel
	heartbeatDone := make(chan struct{})
	go r.heartbeat(runCtx, heartbeatDone)
	if d := c.cfg.MaxRunDuration; d > 0 {
		limit := time.AfterFunc(d, func() {
			r.overtime.Store(true)
			r.logger.ErrorContext(ctx, "the run exceeded the maximum run duration; cancelling it", "max_run_duration", d)
			cancel()
		})
		defer limit.Stop()
	}

	fatal := body(runCtx, r)
	if fatal == nil {
		r.refreshDayCosts(runCtx)
	}
	cancel()
	<-heartbeatDone

	status := store.RunSucceeded
	switch {
	case r.lost.Load() || r.rejected.Load():
		status = store.RunFailed
	case r.overtime.Load():
		status = store.RunCancelled
		r.cause(fmt.Sprintf("cancelled: still running after the maximum run duration (%s)", c.cfg.MaxRunDuration))
	case ctx.Err() != nil || r.Draining():
		status = store.RunCancelled
	case fatal != nil:
		status = store.RunFailed
		r.cause(fatal.Error())
	case r.errs.Load() > 0 && r.committed.Load() == 0:
		status = store.RunFailed // nothing at all worked
	case r.errs.Load() > 0:
		status = store.RunPartial
	}
	res := Result{Owner: owner, RunID: id, Status: status, Counters: r.counters(), Skipped: r.skipped.Load(), Summary: strings.Join(r.summary, "; "),
		Trigger: trigger, Undecoded: r.undecoded.Load()}
	if err := c.finish(ctx, id, status, res); err != nil {
		return res, fmt.Errorf("record the end of run %d: %w", id, err)
	}
	c.cfg.Metrics.RunFinished(owner, string(status), time.Since(r.began), time.Now())
	r.logger.InfoContext(ctx, "run finished", "status", status, "requests", res.Counters.Requests,
		"inserted", res.Counters.RowsInserted, "updated", res.Counters.RowsUpdated, "deleted", res.Counters.RowsDeleted,
		"errors", res.Counters.Errors, "skipped", res.Skipped)
	return res, nil
}

// finish records how a run ended, retrying for a while when the database
// went away: an outage should not leave the run looking as if it were
// still going. Any other error is the statement's own; retrying cannot fix
// it.
func (c *Crawler) finish(ctx context.Context, id int64, status store.RunStatus, res Result) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	wait := 250 * time.Millisecond
	for {
		err := c.store.FinishRun(ctx, id, status, res.Counters, res.Summary)
		if err == nil || !errors.Is(err, store.ErrConnectionLost) {
			return err
		}
		c.cfg.Logger.WarnContext(ctx, "could not record the end of the run yet; retrying", "run_id", id, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func (r *Run) counters() store.RunCounters {
	var req, ret, lim int64
	if cl := r.src.Client(); cl != nil {
		req, ret, lim = cl.Counters()
	}
	return store.RunCounters{
		Requests: req - r.base[0], Retries: ret - r.base[1], RateLimited: lim - r.base[2],
		RowsInserted: r.inserted.Load(), RowsUpdated: r.updated.Load(), RowsDeleted: r.deleted.Load(), Errors: r.errs.Load(),
	}
}

// heartbeat saves progress regularly; if another process declared the run
// abandoned, it stops the run.
func (r *Run) heartbeat(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(r.c.cfg.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.lock.Alive(ctx); err != nil && ctx.Err() == nil {
				r.loseDatabase(ctx, "lost the database connection that holds the run lock: "+err.Error())
				return
			}
			err := r.c.store.Heartbeat(ctx, r.id, r.counters())
			if errors.Is(err, store.ErrRunNotRunning) {
				r.logger.ErrorContext(ctx, "the run was declared abandoned by another process; stopping")
				r.stop()
				return
			}
			if err != nil && ctx.Err() == nil {
				r.logger.WarnContext(ctx, "heartbeat failed", "err", err)
			}
		}
	}
}

// ID is the run's id in the ledger.
func (r *Run) ID() int64 { return r.id }

// Owner is the source's provider and account.
func (r *Run) Owner() store.Owner { return r.owner }

// Now is the run's clock: when it started, to the second.
func (r *Run) Now() time.Time { return r.now }

// Logger logs with the run's id and source.
func (r *Run) Logger() *slog.Logger { return r.logger }

// Concurrency is how many requests the source may have in flight; Fetch
// enforces it, and it sizes a source's worker pools.
func (r *Run) Concurrency() int { return r.concurrency }

// Draining reports whether the run was asked to stop starting new units.
func (r *Run) Draining() bool {
	if r.drain == nil {
		return false
	}
	select {
	case <-r.drain:
		return true
	default:
		return false
	}
}

// note keeps a few failures for the run's error summary.
func (r *Run) note(msg string) {
	r.summaryMu.Lock()
	defer r.summaryMu.Unlock()
	if len(r.summary) < 5 {
		r.summary = append(r.summary, msg)
	}
}

// cause puts what ended the run first in its error summary.
func (r *Run) cause(msg string) {
	r.summaryMu.Lock()
	defer r.summaryMu.Unlock()
	r.summary = append([]string{msg}, r.summary...)
	if len(r.summary) > 5 {
		r.summary = r.summary[:5]
	}
}

// loseDatabase stops the run, failed, the first time the database (or the
// run lock's connection) is found gone, with why as its cause.
func (r *Run) loseDatabase(ctx context.Context, why string) {
	if !r.lost.Swap(true) {
		r.logger.ErrorContext(ctx, "lost the database; stopping", "cause", why)
		r.cause(why)
	}
	r.stop()
}

// Fail records a failed unit: counted, logged, kept in the ledger. When
// the database has gone away, no unit can succeed: the run stops, failed,
// with that as its cause, and the next run fetches what this one did not.
func (r *Run) Fail(ctx context.Context, endpoint, resourceID string, err error) {
	if ctx.Err() != nil {
		return // cancelled, not failed
	}
	if errors.Is(err, store.ErrConnectionLost) {
		r.loseDatabase(ctx, err.Error())
		return
	}
	var apiErr *APIError
	rejected := errors.As(err, &apiErr) && apiErr.Rejected()
	if rejected && apiErr.challenged() && r.refusals.Add(1) < challengedRefusals {
		rejected = false // maybe a race of nonces: a unit error, unless it recurs
	}
	if rejected && r.rejected.Swap(true) {
		return // the run is stopping: the first refusal said it all
	}
	r.errs.Add(1)
	e := store.RunError{Endpoint: endpoint, ResourceID: resourceID, Message: err.Error()}
	if apiErr != nil {
		e.HTTPStatus, e.Attempts = apiErr.Status, apiErr.Attempts
	}
	if rejected {
		// Every other request would be refused too: stop the source now,
		// failed, with that as its cause.
		why := fmt.Sprintf("the API rejected the key for %s (HTTP %d)", r.owner, apiErr.Status)
		r.logger.ErrorContext(ctx, why+"; stopping", "endpoint", endpoint)
		r.cause(why)
		r.stop()
		if rerr := r.c.store.RecordRunError(context.WithoutCancel(ctx), r.id, e); rerr != nil {
			r.logger.ErrorContext(ctx, "could not record a unit's failure", "err", rerr)
		}
		return
	}
	r.logger.WarnContext(ctx, "unit failed", "endpoint", endpoint, "resource_id", resourceID, "err", err)
	where := endpoint
	if resourceID != "" {
		where += " " + resourceID
	}
	r.note(fmt.Sprintf("%s: %v", where, err))
	if rerr := r.c.store.RecordRunError(context.WithoutCancel(ctx), r.id, e); rerr != nil {
		r.logger.ErrorContext(ctx, "could not record a unit's failure", "err", rerr)
	}
}

// Unchanged reports whether a unit can be skipped: its fingerprint is the
// one stored by its last fetch, and that fetch is recent enough. A
// skipped unit is counted.
func (r *Run) Unchanged(key, fingerprint string) bool {
	st, ok := r.states[key]
	if ok && st.Fingerprint == fingerprint && r.now.Sub(st.FetchedAt) < r.c.cfg.FullRefreshEvery {
		r.skipped.Add(1)
		return true
	}
	return false
}

// RecordSightings notes the resources a list named.
func (r *Run) RecordSightings(ctx context.Context, family string, ids []string) {
	if err := r.c.store.RecordSightings(ctx, r.owner, family, ids, r.id, r.now); err != nil && ctx.Err() == nil {
		r.logger.WarnContext(ctx, "could not record sightings", "err", err)
	}
}

// startMonth names the month the progress line shows, the i-th of n; its
// lists and units are counted from zero.
func (r *Run) startMonth(m string, i, n int) {
	r.progressMu.Lock()
	r.atMonth, r.monthIndex, r.months, r.monthStarted = m, i, n, time.Now()
	r.progressMu.Unlock()
	r.listsDone.Store(0)
	r.listsTotal.Store(0)
	r.unitsDone.Store(0)
	r.unitsTotal.Store(0)
}

// endMonth adds a finished month to the pace the ETA is measured by.
func (r *Run) endMonth(requestsBefore int64) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	r.monthsTook += time.Since(r.monthStarted)
	r.monthsDone++
	if units := r.unitsTotal.Load(); units > 0 {
		r.unitsEver += units
		r.requestsInUnits += r.counters().Requests - requestsBefore
	}
}

// Progress counters a source moves: lists to walk and units to fetch.
func (r *Run) ListPlanned()       { r.listsTotal.Add(1) }
func (r *Run) ListDone()          { r.listsDone.Add(1) }
func (r *Run) UnitsPlanned(n int) { r.unitsTotal.Add(int64(n)) }
func (r *Run) UnitDone()          { r.unitsDone.Add(1) }
