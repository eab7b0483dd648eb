package ingest

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Run performs one crawl of a source and records it in the ledger. When
// another process runs the source, it returns a *store.BusyError.
func (c *Crawler) Run(ctx context.Context, src Source, trigger store.Trigger, mode Mode) (Result, error) {
	now := c.cfg.Now().UTC().Truncate(time.Second)
	months := c.months(src, mode, now)
	if len(months) == 0 {
		return Result{Owner: src.Owner()}, fmt.Errorf("%w: no billing month between %s and %s", ErrConfig, mode.Since.Format("2006-01"), mode.Until.Format("2006-01"))
	}
	window := store.Window{Start: months[0], End: earlier(months[len(months)-1].AddDate(0, 1, 0), now)}
	return c.lifecycle(ctx, src, trigger, window, mode, func(ctx context.Context, r *Run) error {
		r.logger.InfoContext(ctx, "crawling", "months", len(months), "from", months[0].Format("2006-01"))
		return r.crawl(ctx, mode, months)
	})
}

// Outcome is one source's part of RunAll.
type Outcome struct {
	Result Result
	Err    error // a *store.BusyError when another process runs the source
}

// RunAll runs several sources, cfg.Parallel at a time, each under its own
// lock, ledger row and pacer. Outcomes are in the sources' order.
func (c *Crawler) RunAll(ctx context.Context, srcs []Source, trigger store.Trigger, mode Mode) []Outcome {
	out := make([]Outcome, len(srcs))
	p := pool.New().WithMaxGoroutines(c.cfg.Parallel)
	for i, src := range srcs {
		p.Go(func() {
			res, err := c.Run(ctx, src, trigger, mode)
			res.Owner = src.Owner()
			out[i] = Outcome{Result: res, Err: err}
		})
	}
	p.Wait()
	return out
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Month is the calendar month (UTC) t falls in.
func Month(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

// months lists the billing months a run fetches, oldest first.
func (c *Crawler) months(src Source, mode Mode, now time.Time) []time.Time {
	cur := Month(now)
	if !mode.Backfill {
		lookback := c.cfg.Lookback
		if t, ok := src.(tuned); ok && t.Tuning().Lookback > 0 {
			lookback = t.Tuning().Lookback
		}
		if now.Sub(cur) < lookback {
			return []time.Time{cur.AddDate(0, -1, 0), cur}
		}
		return []time.Time{cur}
	}
	until := cur
	if !mode.Until.IsZero() && Month(mode.Until).Before(cur) {
		until = Month(mode.Until)
	}
	var out []time.Time
	for m := Month(mode.Since); !m.After(until); m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// crawl fetches the source's point-in-time endpoints, then every month.
func (r *Run) crawl(ctx context.Context, mode Mode, months []time.Time) error {
	var err error
	if r.states, err = r.c.store.FetchStates(ctx, r.owner, ""); err != nil {
		return err
	}
	r.refetch = mode.Backfill && mode.Refetch
	done := map[time.Time]bool{}
	if mode.Backfill && !mode.Refetch {
		if done, err = r.c.store.BackfillDone(ctx, r.owner); err != nil {
			return err
		}
	}
	// One batch waits while one is written and the next fills: a second
	// waiting batch held CloudSigma's year 50 MiB higher (269 MiB peak)
	// and sped nothing up, the API-bound crawls' writer being ahead.
	r.batches = make(chan batch, 1)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		r.writer(ctx)
	}()
	// Each month's days are rewritten once the writer has written it, by a
	// refresher of their own, while the writer goes on with the next
	// month: on a Soracom backfill the refresh of a month's 250,000
	// resource-days took as long as writing its rows. The refresher takes
	// months in order (a month's baselines read the days before it) and
	// never holds the writer up: its queue has room for every month.
	refreshes := make(chan store.Window, len(months))
	refresherDone := make(chan struct{})
	go func() {
		defer close(refresherDone)
		for w := range refreshes {
			r.refreshMonthDayCosts(ctx, w)
		}
	}()
	stopRefresher := sync.OnceFunc(func() {
		close(refreshes)
		<-refresherDone
	})
	defer stopRefresher()
	defer func() {
		close(r.batches)
		<-writerDone
	}()

	r.src.Snapshot(ctx, r)
	r.flushPending(ctx)

	var todo []time.Time
	for _, m := range months {
		closed := !m.AddDate(0, 1, 0).After(r.now)
		if done[m] && closed {
			r.logger.InfoContext(ctx, "month already backfilled", "month", m.Format("2006-01"))
			continue
		}
		todo = append(todo, m)
	}
	// A month is marked backfilled once the writer has written all of it,
	// while the next month is already being fetched: requests do not wait
	// for the month's last batch to commit. Errors are counted run-wide, so
	// an error of the next month keeps this one unmarked too: it is
	// fetched again, never skipped with a hole. (A failed refresh of this
	// month's day costs, which runs after the marking, counts against the
	// month being fetched then; the run's closing refresh repairs the
	// days either way.)
	var markErr error
	var markMu sync.Mutex
	fetched := 0
	for i, m := range todo {
		if ctx.Err() != nil || r.Draining() {
			break
		}
		closed := !m.AddDate(0, 1, 0).After(r.now)
		before := r.errs.Load()
		w := store.Window{Start: m, End: earlier(m.AddDate(0, 1, 0), r.now)}
		r.logger.InfoContext(ctx, "fetching month", "month", m.Format("2006-01"), "end", w.End)
		r.startMonth(m.Format("2006-01"), i+1, len(todo))
		requests := r.counters().Requests
		r.src.Month(ctx, r, w)
		r.endMonth(requests)
		r.afterWritten(func() {
			refreshes <- w
			if !mode.Backfill || !closed || r.errs.Load() != before || ctx.Err() != nil || r.Draining() {
				return
			}
			if err := r.c.store.MarkBackfillDone(ctx, r.owner, m, r.id); err != nil {
				markMu.Lock()
				markErr = cmp.Or(markErr, err)
				markMu.Unlock()
			}
		})
		fetched++
	}
	r.flushPending(ctx)
	stopRefresher()
	// Every month's days were rewritten as it was written, unless the run
	// stopped early or a month's rewrite was missed.
	r.dayCostsCovered = len(todo) > 0 && fetched == len(todo) && !r.dayCostsMissed.Load()
	markMu.Lock()
	defer markMu.Unlock()
	return markErr
}

// Fetched is one response, with its raw payload row.
type Fetched struct {
	*Response
	Raw []any // a row of ingest.raw_payloads
}

// Fetch sends one request of the source, at most Concurrency in flight,
// and prepares the raw payload row of its answer. endpoint names it in the
// ledger and the raw payloads; w is the window it is for (zero for none).
func (r *Run) Fetch(ctx context.Context, endpoint string, q Request, w store.Window) (*Fetched, error) {
	resp, err := r.send(ctx, q)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(resp.Body)
	return &Fetched{Response: resp, Raw: r.rawRow(endpoint, q, w, resp.Status, compress(resp.Body), sum[:])}, nil
}

// Download is Fetch of a body too large to hold (a month's billing CSV,
// tens of megabytes): it is gzipped as it arrives, and the caller reads
// it from the raw payload row returned, whose body_gzip it is.
func (r *Run) Download(ctx context.Context, endpoint string, q Request, w store.Window) ([]any, error) {
	sink := newGzipSink()
	q.Sink = sink
	resp, err := r.send(ctx, q)
	gz, sum := sink.done()
	if err != nil {
		return nil, err
	}
	return r.rawRow(endpoint, q, w, resp.Status, gz, sum), nil
}

// send sends q once one of the run's Concurrency request slots is free.
func (r *Run) send(ctx context.Context, q Request) (*Response, error) {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.slots }()
	return r.src.Client().Do(ctx, q)
}

// rawRow is the raw payload row of a response to q: its status, gzipped
// body and the body's SHA-256.
func (r *Run) rawRow(endpoint string, q Request, w store.Window, status int, gz, sum []byte) []any {
	params := q.Path
	if q.URL != "" {
		params = "(download)" // a signed link is a secret: never stored
	}
	if len(q.Query) > 0 {
		params += "?" + q.Query.Encode()
	}
	// Decoded unless the unit fails: KeepRaw clears it.
	row := store.RawPayloadRow{Endpoint: endpoint, Params: params, ContentSHA256: sum, RunID: r.id,
		StatusCode: status, FetchedAt: r.now, BodyGzip: gz, DecodedAt: &r.now}
	if !w.Start.IsZero() {
		row.WindowStart, row.WindowEnd = &w.Start, &w.End
	}
	return store.RawPayloads.Rows(r.owner, row)[0]
}

// Unit is one unit of work's writes: all of it is committed, or none.
type Unit struct {
	// Endpoint and ResourceID name the unit in the ledger should it fail.
	Endpoint, ResourceID string
	Writes               []store.Write
	Raws                 [][]any // from Fetched.Raw
	// State, when set, records that the unit was fetched and what it
	// looked like, for Unchanged.
	State *UnitState
}

// UnitState is what a unit looked like when fetched.
type UnitState struct {
	Key, Fingerprint string
}

func (u Unit) size() int {
	n := len(u.Raws)
	for _, w := range u.Writes {
		n += len(w.Rows)
	}
	return n
}

func (r *Run) stateRow(s *UnitState) []any {
	return store.FetchState.Rows(r.owner, store.FetchStateRow{Unit: s.Key, Fingerprint: s.Fingerprint,
		FetchedAt: r.now, FullRefreshAt: r.now, RunID: r.id})[0]
}

// Commit writes one unit now, in one transaction, and counts the
// warehouse rows it changed.
func (r *Run) Commit(ctx context.Context, u Unit) error {
	tables, err := r.c.store.WriteBatchTables(ctx, r.id, func(ctx context.Context, b *store.Batch) error {
		if err := writeGrouped(ctx, b, u.Writes); err != nil {
			return err
		}
		if raws := slices.DeleteFunc(slices.Clone(u.Raws), func(row []any) bool { return row == nil }); len(raws) > 0 {
			if err := b.Write(ctx, store.RawPayloads.Table, raws, nil); err != nil {
				return err
			}
		}
		if u.State != nil {
			return b.Write(ctx, store.FetchState.Table, [][]any{r.stateRow(u.State)}, nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.count(tables)
	if len(u.Writes) > 0 {
		r.committed.Add(1)
	}
	return nil
}

// KeepRaw keeps the bodies of a failed unit, for whoever investigates,
// marked as not decoded: they do not make their endpoint look fresh, and
// reprocess does not count on them.
func (r *Run) KeepRaw(ctx context.Context, raws [][]any) {
	raws = slices.DeleteFunc(slices.Clone(raws), func(row []any) bool { return row == nil })
	if len(raws) == 0 || ctx.Err() != nil {
		return
	}
	for i, row := range raws {
		raws[i] = store.Undecoded(row)
	}
	if err := r.Commit(ctx, Unit{Raws: raws}); err != nil {
		r.logger.WarnContext(ctx, "could not keep the raw payloads of a failed unit", "err", err)
	}
}

// writeGrouped writes the rows of many units with one COPY and one merge
// per table, in the order the tables first appear, each unit's scope
// applied to its own window.
func writeGrouped(ctx context.Context, b *store.Batch, writes []store.Write) error {
	type tableRows struct {
		rows   [][]any
		scopes []*store.Scope
	}
	var order []*store.Table
	byTable := map[*store.Table]*tableRows{}
	for _, w := range writes {
		tr := byTable[w.Table]
		if tr == nil {
			tr = &tableRows{}
			byTable[w.Table] = tr
			order = append(order, w.Table)
		}
		tr.rows = append(tr.rows, w.Rows...)
		if w.Scope != nil {
			tr.scopes = append(tr.scopes, w.Scope)
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
func (r *Run) count(tables map[string]store.WriteResult) {
	for name, res := range tables {
		if strings.HasPrefix(name, "ingest.") {
			continue // bookkeeping, not warehouse rows
		}
		r.inserted.Add(res.Inserted)
		r.updated.Add(res.Updated)
		r.deleted.Add(res.Deleted)
		r.c.cfg.Metrics.RowsWritten(r.owner, name, "inserted", res.Inserted)
		r.c.cfg.Metrics.RowsWritten(r.owner, name, "updated", res.Updated)
		r.c.cfg.Metrics.RowsWritten(r.owner, name, "deleted", res.Deleted)
	}
}

// Units are written in batches: one transaction per batch, one COPY and one
// merge per table, which is what makes a large backfill fast. A unit is
// still all or nothing: its rows, raw payloads and fetch state share the
// batch's transaction.
const (
	batchUnits = 64
	batchRows  = 20000
)

// Submit queues a unit for the writer; a full buffer goes to the writer,
// so workers keep fetching while a batch is written. The writer's queue is
// short: when writing falls behind, workers wait, and memory stays
// bounded. Everything submitted is written before the run ends.
func (r *Run) Submit(ctx context.Context, u Unit) {
	r.pendingMu.Lock()
	r.pending = append(r.pending, u)
	r.pendingRows += u.size()
	var full []Unit
	if len(r.pending) >= batchUnits || r.pendingRows >= batchRows {
		full = r.takePendingLocked()
	}
	r.pendingMu.Unlock()
	if full != nil {
		r.batches <- batch{units: full}
	}
}

// batch is what the writer is handed: units to write in one transaction,
// then, when set, a function to run once they and everything handed over
// before them are written.
type batch struct {
	units []Unit
	then  func()
}

// afterWritten hands what is pending to the writer and has it run then
// once all of it, and everything before it, is written. It does not wait.
func (r *Run) afterWritten(then func()) {
	r.pendingMu.Lock()
	units := r.takePendingLocked()
	r.pendingMu.Unlock()
	r.batches <- batch{units: units, then: then}
}

// flushPending writes what is pending and waits until everything handed
// to the writer is written.
func (r *Run) flushPending(ctx context.Context) {
	written := make(chan struct{})
	r.afterWritten(func() { close(written) })
	<-written
}

// writer writes batches, in the order they were handed over, until the
// channel closes.
func (r *Run) writer(ctx context.Context) {
	for b := range r.batches {
		r.flush(ctx, b.units)
		if b.then != nil {
			b.then()
		}
	}
}

// takePendingLocked empties the buffer; pendingMu is held.
func (r *Run) takePendingLocked() []Unit {
	units := r.pending
	r.pending, r.pendingRows = nil, 0
	return units
}

// flush writes a batch of units in one transaction; if it fails, every
// unit of it is recorded as failed and fetched again by the next run.
func (r *Run) flush(ctx context.Context, units []Unit) {
	if len(units) == 0 {
		return
	}
	var writes []store.Write
	var raws, states [][]any
	for _, u := range units {
		writes = append(writes, u.Writes...)
		raws = append(raws, u.Raws...)
		if u.State != nil {
			states = append(states, r.stateRow(u.State))
		}
	}
	tables, err := r.c.store.WriteBatchTables(ctx, r.id, func(ctx context.Context, b *store.Batch) error {
		if err := writeGrouped(ctx, b, writes); err != nil {
			return err
		}
		if err := b.Write(ctx, store.RawPayloads.Table, raws, nil); err != nil {
			return err
		}
		if len(states) == 0 {
			return nil
		}
		return b.Write(ctx, store.FetchState.Table, states, nil)
	})
	if err != nil {
		for _, u := range units {
			r.Fail(ctx, u.Endpoint, u.ResourceID, err)
		}
		return
	}
	r.count(tables)
	r.committed.Add(int64(len(units)))
}
