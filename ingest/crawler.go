package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Config tunes a crawl.
type Config struct {
	// Concurrency bounds the requests in flight (default 8).
	Concurrency int
	// Lookback is how far into the previous billing month an incremental
	// run still re-fetches it, for late corrections (default 72h).
	Lookback time.Duration
	// FullRefreshEvery re-fetches a resource whose list entry looks
	// unchanged once this long has passed (default 24h).
	FullRefreshEvery time.Duration
	// HeartbeatEvery is how often the run proves it is alive (default 15s).
	HeartbeatEvery time.Duration
	// PerPage is the page size of list walks (default 100, the API's cap).
	PerPage int
	// Now is the API's clock (default time.Now).
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
	// (to pick up corrections older than the lookback). Unchanged resources
	// are still skipped by their list fingerprints.
	Refetch bool
	// Drain, when closed, stops the run from starting new units; those in
	// flight finish, and the run ends cancelled. (Cancelling the context
	// instead stops everything at once.)
	Drain <-chan struct{}
}

// Crawler copies the billing API into the warehouse.
type Crawler struct {
	cfg     Config
	client  *Client
	store   *store.Store
	current atomic.Pointer[run]
}

// NewCrawler builds a crawler.
func NewCrawler(cfg Config, client *Client, s *store.Store) *Crawler {
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
	if cfg.PerPage == 0 {
		cfg.PerPage = 100
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
	return &Crawler{cfg: cfg, client: client, store: s}
}

// Progress reports where the current run stands; zero between runs.
func (c *Crawler) Progress() Progress {
	r := c.current.Load()
	if r == nil {
		return Progress{}
	}
	cnt := r.counters()
	r.progressMu.Lock()
	atMonth := r.atMonth
	r.progressMu.Unlock()
	return Progress{
		Month: atMonth, ListsDone: r.listsDone.Load(), ListsTotal: r.listsTotal.Load(),
		UnitsDone: r.unitsDone.Load(), UnitsTotal: r.unitsTotal.Load(),
		Requests: cnt.Requests, Rows: cnt.RowsInserted + cnt.RowsUpdated + cnt.RowsDeleted,
		RateLimited: cnt.RateLimited, Elapsed: time.Since(r.began),
	}
}

// Result is how a run ended.
type Result struct {
	RunID    int64
	Status   store.RunStatus
	Counters store.RunCounters
	Skipped  int64 // units whose list entry was unchanged
	Summary  string
}

// run is the state of one run.
type run struct {
	c       *Crawler
	id      int64
	now     time.Time
	lock    *store.RunLock
	logger  *slog.Logger
	states  map[string]store.UnitState
	usage   map[string]map[string]store.Window // family → id → lifetime, from the usage endpoint
	usageMu sync.Mutex

	inserted, updated, deleted, errs, skipped, committed atomic.Int64
	lost                                                 atomic.Bool        // the database, or the lock's connection, went away
	stop                                                 context.CancelFunc // ends the run
	pendingMu                                            sync.Mutex
	pending                                              []unitRows      // fetched units not yet written
	batches                                              chan []unitRows // full batches, to the writer
	writing                                              sync.WaitGroup  // batches handed to the writer and not yet written
	listsDone, listsTotal, unitsDone, unitsTotal         atomic.Int64
	slots                                                chan struct{} // one per request in flight
	began                                                time.Time
	drain                                                <-chan struct{}
	progressMu                                           sync.Mutex
	atMonth                                              string
	base                                                 [3]int64 // client counters at the start
	summaryMu                                            sync.Mutex
	summary                                              []string
}

// Run performs one run and records it in the ledger.
func (c *Crawler) Run(ctx context.Context, trigger store.Trigger, mode Mode) (Result, error) {
	now := c.cfg.Now().UTC().Truncate(time.Second)
	months := c.months(mode, now)
	if len(months) == 0 {
		return Result{}, fmt.Errorf("%w: no billing month between %s and %s", ErrConfig, mode.Since.Format("2006-01"), mode.Until.Format("2006-01"))
	}
	window := store.Window{Start: months[0], End: earlier(months[len(months)-1].AddDate(0, 1, 0), now)}
	lock, err := c.store.TryRunLock(ctx, Provider)
	if err != nil {
		return Result{}, err
	}
	defer lock.Release()
	id, err := c.store.BeginRun(ctx, store.BeginRunParams{Provider: Provider, Trigger: trigger, Window: window, HoldsLock: true})
	if err != nil {
		return Result{}, err
	}
	r := &run{c: c, id: id, now: now, lock: lock, logger: c.cfg.Logger.With("run_id", id), usage: map[string]map[string]store.Window{},
		began: time.Now(), drain: mode.Drain, slots: make(chan struct{}, c.cfg.Concurrency)}
	c.current.Store(r)
	defer c.current.Store(nil)
	r.base[0], r.base[1], r.base[2] = c.client.Counters()
	r.logger.InfoContext(ctx, "run started", "trigger", trigger, "months", len(months), "from", months[0].Format("2006-01"))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.stop = cancel
	heartbeatDone := make(chan struct{})
	go r.heartbeat(runCtx, heartbeatDone)

	fatal := r.crawl(runCtx, mode, months)
	cancel()
	<-heartbeatDone

	status := store.RunSucceeded
	switch {
	case r.lost.Load():
		status = store.RunFailed
	case ctx.Err() != nil || r.draining():
		status = store.RunCancelled
	case fatal != nil:
		status = store.RunFailed
		r.cause(fatal.Error())
	case r.errs.Load() > 0 && r.committed.Load() == 0:
		status = store.RunFailed // nothing at all worked
	case r.errs.Load() > 0:
		status = store.RunPartial
	}
	res := Result{RunID: id, Status: status, Counters: r.counters(), Skipped: r.skipped.Load(), Summary: strings.Join(r.summary, "; ")}
	if err := c.finish(ctx, id, status, res); err != nil {
		return res, fmt.Errorf("record the end of run %d: %w", id, err)
	}
	c.cfg.Metrics.RunFinished(string(status), time.Since(r.began), time.Now())
	r.logger.InfoContext(ctx, "run finished", "status", status, "requests", res.Counters.Requests,
		"inserted", res.Counters.RowsInserted, "updated", res.Counters.RowsUpdated, "deleted", res.Counters.RowsDeleted,
		"errors", res.Counters.Errors, "skipped", res.Skipped)
	return res, nil
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// finish records how a run ended, retrying for a while: a database outage
// should not leave the run looking as if it were still going.
func (c *Crawler) finish(ctx context.Context, id int64, status store.RunStatus, res Result) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	wait := 250 * time.Millisecond
	for {
		err := c.store.FinishRun(ctx, id, status, res.Counters, res.Summary)
		if err == nil || errors.Is(err, store.ErrRunNotRunning) {
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

// months lists the billing months a run fetches, oldest first.
func (c *Crawler) months(mode Mode, now time.Time) []time.Time {
	cur := month(now)
	if !mode.Backfill {
		if now.Sub(cur) < c.cfg.Lookback {
			return []time.Time{cur.AddDate(0, -1, 0), cur}
		}
		return []time.Time{cur}
	}
	until := cur
	if !mode.Until.IsZero() && month(mode.Until).Before(cur) {
		until = month(mode.Until)
	}
	var out []time.Time
	for m := month(mode.Since); !m.After(until); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

func (r *run) counters() store.RunCounters {
	req, ret, lim := r.c.client.Counters()
	return store.RunCounters{
		Requests: req - r.base[0], Retries: ret - r.base[1], RateLimited: lim - r.base[2],
		RowsInserted: r.inserted.Load(), RowsUpdated: r.updated.Load(), RowsDeleted: r.deleted.Load(), Errors: r.errs.Load(),
	}
}

// heartbeat saves progress regularly; if another process declared the run
// abandoned, it stops the run.
func (r *run) heartbeat(ctx context.Context, done chan<- struct{}) {
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

// draining reports whether the run was asked to stop starting new units.
func (r *run) draining() bool {
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
func (r *run) note(msg string) {
	r.summaryMu.Lock()
	defer r.summaryMu.Unlock()
	if len(r.summary) < 5 {
		r.summary = append(r.summary, msg)
	}
}

// cause puts what ended the run first in its error summary.
func (r *run) cause(msg string) {
	r.summaryMu.Lock()
	defer r.summaryMu.Unlock()
	r.summary = append([]string{msg}, r.summary...)
	if len(r.summary) > 5 {
		r.summary = r.summary[:5]
	}
}

// loseDatabase stops the run, failed, the first time the database (or the
// run lock's connection) is found gone, with why as its cause.
func (r *run) loseDatabase(ctx context.Context, why string) {
	if !r.lost.Swap(true) {
		r.logger.ErrorContext(ctx, "lost the database; stopping", "cause", why)
		r.cause(why)
	}
	r.stop()
}

// fail records a failed unit: counted, logged, kept in the ledger. When
// the database has gone away, no unit can succeed: the run stops, failed,
// with that as its cause, and the next run fetches what this one did not.
func (r *run) fail(ctx context.Context, ep *Endpoint, resourceID string, err error) {
	if ctx.Err() != nil {
		return // cancelled, not failed
	}
	if errors.Is(err, store.ErrConnectionLost) {
		r.loseDatabase(ctx, err.Error())
		return
	}
	r.errs.Add(1)
	e := store.RunError{Endpoint: ep.Name, ResourceID: resourceID, Message: err.Error()}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		e.HTTPStatus, e.Attempts = apiErr.Status, apiErr.Attempts
	}
	r.logger.WarnContext(ctx, "unit failed", "endpoint", ep.Name, "resource_id", resourceID, "err", err)
	r.note(fmt.Sprintf("%s %s: %v", ep.Name, resourceID, err))
	if rerr := r.c.store.RecordRunError(context.WithoutCancel(ctx), r.id, e); rerr != nil {
		r.logger.ErrorContext(ctx, "could not record a unit's failure", "err", rerr)
	}
}

// crawl fetches the point-in-time endpoints, then every month.
func (r *run) crawl(ctx context.Context, mode Mode, months []time.Time) error {
	var err error
	if r.states, err = r.c.store.FetchStates(ctx, Provider, ""); err != nil {
		return err
	}
	done := map[time.Time]bool{}
	if mode.Backfill && !mode.Refetch {
		if done, err = r.c.store.BackfillDone(ctx, Provider); err != nil {
			return err
		}
	}
	r.batches = make(chan []unitRows, 2)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		r.writer(ctx)
	}()
	defer func() {
		close(r.batches)
		<-writerDone
	}()

	p := pool.New().WithMaxGoroutines(r.c.cfg.Concurrency)
	for _, ep := range Catalog {
		if ep.Kind == KindUsage || ep.Kind == KindLastDay || ep.Kind == KindCredit || ep.Kind == KindThresholds {
			p.Go(func() { r.simple(ctx, ep, store.Window{}) })
		}
	}
	p.Wait()

	for _, m := range months {
		if ctx.Err() != nil || r.draining() {
			return nil
		}
		closed := !m.AddDate(0, 1, 0).After(r.now)
		if done[m] && closed {
			r.logger.InfoContext(ctx, "month already backfilled", "month", m.Format("2006-01"))
			continue
		}
		before := r.errs.Load()
		r.month(ctx, m)
		if mode.Backfill && closed && r.errs.Load() == before && ctx.Err() == nil && !r.draining() {
			if err := r.c.store.MarkBackfillDone(ctx, Provider, m, r.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// month fetches one billing month: the lists, the organisation's history,
// then every resource the lists (or the usage) name.
func (r *run) month(ctx context.Context, m time.Time) {
	w := store.Window{Start: m, End: earlier(m.AddDate(0, 1, 0), r.now)}
	r.logger.InfoContext(ctx, "fetching month", "month", m.Format("2006-01"), "end", w.End)
	r.progressMu.Lock()
	r.atMonth = m.Format("2006-01")
	r.progressMu.Unlock()
	r.listsDone.Store(0)
	r.listsTotal.Store(0)
	// Requests in flight are bounded by r.slots, not by these pools: a
	// family's units start as soon as its list is in, while other lists
	// are still paging, and there are more unit workers than slots, so a
	// slot does not idle while a worker decodes or waits for the writer.
	units := pool.New().WithMaxGoroutines(2 * r.c.cfg.Concurrency)
	lists := pool.New()
	for _, ep := range Catalog {
		switch ep.Kind {
		case KindList:
			r.listsTotal.Add(1)
			lists.Go(func() {
				es, ok := r.list(ctx, ep, w)
				r.listsDone.Add(1)
				if !ok || ep.Family == "contract" {
					return // contracts have no per-resource endpoints
				}
				es = append(es, r.missedByList(ep.Family, es, w)...)
				r.unitsTotal.Add(int64(len(es)))
				for _, e := range es {
					units.Go(func() {
						defer r.unitsDone.Add(1)
						if !r.draining() {
							r.unit(ctx, ep.Family, e, w)
						}
					})
				}
			})
		case KindOrg, KindOrgGraph:
			lists.Go(func() { r.simple(ctx, ep, w) })
		}
	}
	lists.Wait()
	units.Wait()
	r.toWriter(ctx, r.takePending(0))
	r.writing.Wait() // the month is written before the next starts
}

// missedByList returns the VMs and volumes the usage endpoint knows to have
// existed in w that the list did not name.
func (r *run) missedByList(family string, listed []listEntry, w store.Window) []listEntry {
	r.usageMu.Lock()
	defer r.usageMu.Unlock()
	var out []listEntry
	for id, life := range r.usage[family] {
		overlaps := life.Start.Before(w.End) && (life.End.IsZero() || life.End.After(w.Start))
		if overlaps && !slices.ContainsFunc(listed, func(e listEntry) bool { return e.id == id }) {
			out = append(out, listEntry{id: id, fingerprint: "usage:" + life.Start.String() + life.End.String()})
		}
	}
	return out
}

// request is one fetch of the crawl, with what it was for.
type request struct {
	ep     *Endpoint
	id     string
	window store.Window
	page   int
}

func (q request) path() string {
	if q.ep.Param == "" {
		return q.ep.Path
	}
	return strings.Replace(q.ep.Path, "{"+q.ep.Param+"}", url.PathEscape(q.id), 1)
}

func (r *run) query(q request) url.Values {
	v := url.Values{}
	for k, vs := range q.ep.Query {
		v[k] = vs
	}
	if q.ep.Windowed {
		v.Set("start_date", q.window.Start.UTC().Format("2006-01-02T15:04:05"))
		v.Set("end_date", q.window.End.UTC().Format("2006-01-02T15:04:05"))
	}
	if q.ep.Paged {
		v.Set("page", fmt.Sprint(q.page))
		v.Set("per_page", fmt.Sprint(r.c.cfg.PerPage))
	}
	return v
}

// fetch gets one response and decodes it. It returns the raw payload row
// whenever a body arrived, even if decoding failed.
func (r *run) fetch(ctx context.Context, q request) (decoded, []any, error) {
	query := r.query(q)
	label := q.ep.Family
	if label == "" {
		label = q.ep.Name
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return decoded{}, nil, ctx.Err()
	}
	resp, err := r.c.client.Get(ctx, label, q.path(), query)
	<-r.slots
	if err != nil {
		return decoded{}, nil, err
	}
	f := &fetched{ep: q.ep, id: q.id, window: q.window, observed: r.now, current: !q.window.End.Before(r.now), body: resp.Body}
	raw := rawRow(q, query, f, r.id, resp.Status)
	d, err := q.ep.Decode(f)
	if err != nil {
		return decoded{}, raw, err
	}
	return d, raw, nil
}

// rawRow is a row of ingest.raw_payloads.
func rawRow(q request, query url.Values, f *fetched, runID int64, status int) []any {
	sum := sha256.Sum256(f.body)
	var start, end any
	if !q.window.Start.IsZero() {
		start, end = q.window.Start, q.window.End
	}
	return []any{Provider, q.ep.Name, q.path() + "?" + query.Encode(), sum[:], start, end, runID, status, f.observed, compress(f.body)}
}

// commit writes a unit's rows, raw payloads and bookkeeping in one
// transaction, and counts the warehouse rows it changed.
func (r *run) commit(ctx context.Context, writes []write, raws [][]any, state []any) error {
	tables, err := r.c.store.WriteBatchTables(ctx, r.id, func(ctx context.Context, b *store.Batch) error {
		for _, w := range writes {
			if err := b.Write(ctx, w.table, w.rows, w.scope); err != nil {
				return err
			}
		}
		if len(raws) > 0 {
			if err := b.Write(ctx, store.RawPayloads, raws, nil); err != nil {
				return err
			}
		}
		if state != nil {
			if err := b.Write(ctx, store.FetchState, [][]any{state}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.count(tables)
	if len(writes) > 0 {
		r.committed.Add(1)
	}
	return nil
}

// writeGrouped writes the rows of many units with one COPY and one merge
// per table, in the order the tables first appear, each unit's scope
// applied to its own window.
func writeGrouped(ctx context.Context, b *store.Batch, writes []write) error {
	type tableRows struct {
		rows   [][]any
		scopes []*store.Scope
	}
	var order []*store.Table
	byTable := map[*store.Table]*tableRows{}
	for _, w := range writes {
		tr := byTable[w.table]
		if tr == nil {
			tr = &tableRows{}
			byTable[w.table] = tr
			order = append(order, w.table)
		}
		tr.rows = append(tr.rows, w.rows...)
		if w.scope != nil {
			tr.scopes = append(tr.scopes, w.scope)
		}
	}
	for _, t := range order {
		if err := b.WriteMany(ctx, t, byTable[t].rows, byTable[t].scopes); err != nil {
			return err
		}
	}
	return nil
}

// count adds a batch's warehouse writes to the run's counters and metrics.
func (r *run) count(tables map[string]store.WriteResult) {
	for name, res := range tables {
		if strings.HasPrefix(name, "ingest.") {
			continue // bookkeeping, not warehouse rows
		}
		r.inserted.Add(res.Inserted)
		r.updated.Add(res.Updated)
		r.deleted.Add(res.Deleted)
		r.c.cfg.Metrics.RowsWritten(name, "inserted", res.Inserted)
		r.c.cfg.Metrics.RowsWritten(name, "updated", res.Updated)
		r.c.cfg.Metrics.RowsWritten(name, "deleted", res.Deleted)
	}
}

// saveRaw keeps the bodies of a failed unit, for whoever investigates.
// Requests that failed without a body have no row.
func (r *run) saveRaw(ctx context.Context, raws [][]any) {
	raws = slices.DeleteFunc(raws, func(row []any) bool { return row == nil })
	if len(raws) == 0 || ctx.Err() != nil {
		return
	}
	if err := r.commit(ctx, nil, raws, nil); err != nil {
		r.logger.WarnContext(ctx, "could not keep the raw payloads of a failed unit", "err", err)
	}
}

// simple fetches an endpoint with no discovery behind it and stores it.
func (r *run) simple(ctx context.Context, ep *Endpoint, w store.Window) {
	d, raw, err := r.fetch(ctx, request{ep: ep, window: w})
	if err != nil {
		r.fail(ctx, ep, "", err)
		r.saveRaw(ctx, [][]any{raw})
		return
	}
	if ep.Kind == KindUsage {
		r.rememberUsage(d)
	}
	if err := r.commit(ctx, d.writes, [][]any{raw}, nil); err != nil {
		r.fail(ctx, ep, "", err)
	}
}

// rememberUsage keeps the lifetimes of the VMs and volumes the usage
// endpoint names, for missedByList.
func (r *run) rememberUsage(d decoded) {
	r.usageMu.Lock()
	defer r.usageMu.Unlock()
	for _, w := range d.writes {
		if w.table != store.Resources {
			continue
		}
		for _, row := range w.rows {
			family, id := row[1].(string), row[2].(string)
			var life store.Window
			life.Start, _ = row[8].(time.Time)
			life.End, _ = row[9].(time.Time)
			if r.usage[family] == nil {
				r.usage[family] = map[string]store.Window{}
			}
			r.usage[family][id] = life
		}
	}
}

// list walks every page of a family's history for w and stores what the
// list says. Items are de-duplicated by id; when the reported total changes
// between pages (the live API pages over live state), the list is walked
// once more and the union is kept.
func (r *run) list(ctx context.Context, ep *Endpoint, w store.Window) ([]listEntry, bool) {
	seen := map[string]listEntry{}
	var order []string
	var writes []write
	var raws [][]any
	reported := -1
	for walk := 1; walk <= 2; walk++ {
		stable := true
		first := -1
		for page := 1; ; page++ {
			d, raw, err := r.fetch(ctx, request{ep: ep, window: w, page: page})
			if raw != nil {
				raws = append(raws, raw)
			}
			if err != nil {
				r.fail(ctx, ep, "", fmt.Errorf("page %d: %w", page, err))
				r.saveRaw(ctx, raws)
				return nil, false
			}
			writes = append(writes, d.writes...)
			for _, e := range d.entries {
				if _, dup := seen[e.id]; !dup {
					order = append(order, e.id)
				}
				seen[e.id] = e
			}
			if first < 0 {
				first = d.total
			} else if d.total != first {
				stable = false
			}
			if !ep.Paged || page >= d.pages || len(d.entries) < r.c.cfg.PerPage {
				break
			}
		}
		reported = first
		if stable {
			break
		}
		r.logger.InfoContext(ctx, "list changed while paging; walking it again", "endpoint", ep.Name)
	}
	if err := r.commit(ctx, writes, raws, nil); err != nil {
		r.fail(ctx, ep, "", err)
		return nil, false
	}
	if len(seen) < reported {
		r.fail(ctx, ep, "", fmt.Errorf("the list reports %d resources but paging found %d, twice", reported, len(seen)))
	}
	ids := make([]string, 0, len(order))
	out := make([]listEntry, 0, len(order))
	for _, id := range order {
		ids = append(ids, id)
		out = append(out, seen[id])
	}
	if err := r.c.store.RecordSightings(ctx, Provider, ep.Family, ids, r.id, r.now); err != nil && ctx.Err() == nil {
		r.logger.WarnContext(ctx, "could not record sightings", "err", err)
	}
	return out, true
}

// unitEndpoints are the per-resource endpoints of a family.
func unitEndpoints(family string) []*Endpoint {
	var out []*Endpoint
	for _, ep := range Catalog {
		if ep.Family == family && ep.Param != "" {
			out = append(out, ep)
		}
	}
	return out
}

// unit fetches everything about one resource for one month and stores it
// in one transaction, unless the list says nothing changed since the last
// fetch (and that fetch is recent enough).
func (r *run) unit(ctx context.Context, family string, e listEntry, w store.Window) {
	key := fmt.Sprintf("%s/%s/%s", family, e.id, w.Start.Format("2006-01"))
	if st, ok := r.states[key]; ok && st.Fingerprint == e.fingerprint && r.now.Sub(st.FetchedAt) < r.c.cfg.FullRefreshEvery {
		r.skipped.Add(1)
		return
	}
	var writes []write
	var raws [][]any
	for _, ep := range unitEndpoints(family) {
		d, raw, err := r.fetch(ctx, request{ep: ep, id: e.id, window: w})
		if raw != nil {
			raws = append(raws, raw)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.NotFound() {
			r.logger.InfoContext(ctx, "resource gone", "endpoint", ep.Name, "resource_id", e.id)
			return
		}
		if err != nil {
			r.fail(ctx, ep, e.id, err)
			r.saveRaw(ctx, raws)
			return
		}
		writes = append(writes, d.writes...)
	}
	r.addPending(ctx, unitRows{ep: unitEndpoints(family)[0], id: e.id, writes: writes, raws: raws,
		state: []any{Provider, key, e.fingerprint, r.now, r.now, r.id}})
}

// unitRows is one fetched unit waiting to be written.
type unitRows struct {
	ep     *Endpoint
	id     string
	writes []write
	raws   [][]any
	state  []any
}

func (u unitRows) size() int {
	n := len(u.raws)
	for _, w := range u.writes {
		n += len(w.rows)
	}
	return n
}

// Units are written in batches: one transaction per batch, one COPY and one
// merge per table, which is what makes a large backfill fast. A unit is
// still all or nothing: its rows, raw payloads and fetch state share the
// batch's transaction.
const (
	batchUnits = 64
	batchRows  = 20000
)

// addPending queues a unit; a full buffer goes to the writer, so workers
// keep fetching while a batch is written. The writer's queue is short:
// when writing falls behind, workers wait, and memory stays bounded.
func (r *run) addPending(ctx context.Context, u unitRows) {
	r.pendingMu.Lock()
	r.pending = append(r.pending, u)
	full := len(r.pending) >= batchUnits
	if !full {
		rows := 0
		for _, p := range r.pending {
			rows += p.size()
		}
		full = rows >= batchRows
	}
	r.pendingMu.Unlock()
	if full {
		r.toWriter(ctx, r.takePending(batchUnits))
	}
}

// toWriter hands a batch to the writer goroutine.
func (r *run) toWriter(ctx context.Context, units []unitRows) {
	if len(units) == 0 {
		return
	}
	r.writing.Add(1)
	r.batches <- units
}

// writer writes batches until the channel closes.
func (r *run) writer(ctx context.Context) {
	for units := range r.batches {
		r.flush(ctx, units)
		r.writing.Done()
	}
}

// takePending empties the buffer if it holds at least min units.
func (r *run) takePending(min int) []unitRows {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	if len(r.pending) == 0 || len(r.pending) < min {
		return nil
	}
	units := r.pending
	r.pending = nil
	return units
}

// flush writes a batch of units in one transaction; if it fails, every
// unit of it is recorded as failed and fetched again by the next run.
func (r *run) flush(ctx context.Context, units []unitRows) {
	if len(units) == 0 {
		return
	}
	var writes []write
	var raws, states [][]any
	for _, u := range units {
		writes = append(writes, u.writes...)
		raws = append(raws, u.raws...)
		states = append(states, u.state)
	}
	tables, err := r.c.store.WriteBatchTables(ctx, r.id, func(ctx context.Context, b *store.Batch) error {
		if err := writeGrouped(ctx, b, writes); err != nil {
			return err
		}
		if err := b.Write(ctx, store.RawPayloads, raws, nil); err != nil {
			return err
		}
		return b.Write(ctx, store.FetchState, states, nil)
	})
	if err != nil {
		for _, u := range units {
			r.fail(ctx, u.ep, u.id, err)
		}
		return
	}
	r.count(tables)
	r.committed.Add(int64(len(units)))
}
