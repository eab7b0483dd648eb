package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"strings"
	"sync"

	"github.com/sourcegraph/conc/pool"
	"github.com/sourcegraph/conc/stream"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// ReprocessConfig tunes Reprocess. The zero value is a sane default.
type ReprocessConfig struct {
	// BatchRows is about how many rows of one table a transaction writes
	// (default 20,000).
	BatchRows int
	Logger    *slog.Logger
}

// Reprocess rebuilds the warehouse tables from the retained raw payloads,
// without calling the API: the newest body of every endpoint and query,
// and every body of the point-in-time endpoints (see
// store.EachRawPayload), is decoded again and written, oldest first. Use it
// after a decoder fix, or to rebuild a lost table.
func Reprocess(ctx context.Context, s *store.Store, cfg ReprocessConfig) (Result, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = batchRows
	}
	lock, err := s.TryRunLock(ctx, Provider)
	if err != nil {
		return Result{}, err
	}
	defer lock.Release()
	id, err := s.BeginRun(ctx, store.BeginRunParams{Provider: Provider, Trigger: store.TriggerReprocess, HoldsLock: true})
	if err != nil {
		return Result{}, err
	}
	rp := &reprocessor{s: s, runID: id, logger: logger, batchRows: cfg.BatchRows}
	err = rp.run(ctx)
	c := store.RunCounters{Errors: rp.errors, RowsInserted: rp.written.Inserted, RowsUpdated: rp.written.Updated, RowsDeleted: rp.written.Deleted}
	summary := rp.summary
	status := store.RunSucceeded
	switch {
	case ctx.Err() != nil:
		status = store.RunCancelled
	case err != nil:
		status = store.RunFailed
		summary = append(summary, err.Error())
	case c.Errors > 0:
		status = store.RunPartial
	}
	res := Result{RunID: id, Status: status, Counters: c, Summary: strings.Join(summary, "; ")}
	if ferr := s.FinishRun(context.WithoutCancel(ctx), id, status, c, res.Summary); ferr != nil {
		return res, ferr
	}
	return res, nil
}

// reprocessor replays the raw payloads of one run.
type reprocessor struct {
	s         *store.Store
	runID     int64
	logger    *slog.Logger
	batchRows int

	// Owned by the goroutine that takes decoded payloads in order.
	errors  int64
	summary []string

	mu      sync.Mutex // guards written, shared by the table writers
	written store.WriteResult
}

// reprocessWriters is how many tables are written at once. Decoded rows
// waiting for them are bounded to a few batches.
const reprocessWriters = 2

// run decodes payloads on every core and writes what they hold as it
// comes: one writer per table, so each table's rows keep the payloads'
// order and the newest payload has the last word on a row, and at most
// reprocessWriters transactions at a time. A transaction writes about
// rp.batchRows rows of one table with one COPY and one merge.
func (rp *reprocessor) run(ctx context.Context) error {
	p := pool.New().WithContext(ctx).WithCancelOnError().WithFirstError()
	slots := make(chan struct{}, reprocessWriters)
	lanes := map[*store.Table]chan []write{}
	for _, t := range store.WarehouseTables {
		lane := make(chan []write)
		lanes[t] = lane
		p.Go(func(ctx context.Context) error {
			for batch := range lane {
				if err := rp.write(ctx, slots, batch); err != nil {
					return err
				}
			}
			return nil
		})
	}
	p.Go(func(ctx context.Context) error {
		defer func() {
			for _, lane := range lanes {
				close(lane)
			}
		}()
		return rp.decode(ctx, lanes)
	})
	return p.Wait()
}

// decode reads the payloads and sends their writes, table by table, to
// the tables' writers.
func (rp *reprocessor) decode(ctx context.Context, lanes map[*store.Table]chan []write) error {
	pending := map[*store.Table][]write{}
	rows := map[*store.Table]int{}
	total := 0
	var failed error // set in order; read after the stream is done
	send := func(t *store.Table) {
		if len(pending[t]) == 0 || failed != nil {
			return
		}
		lane := lanes[t]
		if lane == nil {
			failed = fmt.Errorf("reprocess writes no table %s", t.Name)
			return
		}
		select {
		case lane <- pending[t]:
		case <-ctx.Done():
			failed = ctx.Err()
		}
		total -= rows[t]
		pending[t], rows[t] = nil, 0
	}
	fullest := func() *store.Table {
		var most *store.Table
		for t, n := range rows {
			if most == nil || n > rows[most] {
				most = t
			}
		}
		return most
	}
	decoded := stream.New().WithMaxGoroutines(runtime.GOMAXPROCS(0))
	err := rp.s.EachRawPayload(ctx, Provider, func(p store.RawPayload) error {
		decoded.Go(func() stream.Callback {
			d, err := replay(p)
			return func() {
				if failed != nil {
					return
				}
				if err != nil {
					failed = rp.fail(ctx, p, err)
					return
				}
				for _, w := range d.writes {
					pending[w.table] = append(pending[w.table], w)
					rows[w.table] += len(w.rows)
					total += len(w.rows)
					if rows[w.table] >= rp.batchRows {
						send(w.table)
					}
				}
				// Bound what waits in memory: the fullest table goes.
				if total >= 3*rp.batchRows {
					send(fullest())
				}
			}
		})
		return ctx.Err()
	})
	decoded.Wait()
	for _, t := range store.WarehouseTables {
		send(t)
	}
	if err != nil {
		return err
	}
	return failed
}

// fail records a payload that could not be decoded; the run goes on.
func (rp *reprocessor) fail(ctx context.Context, p store.RawPayload, err error) error {
	rp.errors++
	if len(rp.summary) < 5 {
		rp.summary = append(rp.summary, fmt.Sprintf("%s %s: %v", p.Endpoint, p.Params, err))
	}
	rp.logger.WarnContext(ctx, "payload not reprocessed", "endpoint", p.Endpoint, "params", p.Params, "err", err)
	return rp.s.RecordRunError(ctx, rp.runID, store.RunError{Endpoint: p.Endpoint, Message: err.Error()})
}

// write commits one table's batch once a writer's slot is free.
func (rp *reprocessor) write(ctx context.Context, slots chan struct{}, batch []write) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-slots }()
	tables, err := rp.s.WriteBatchTables(ctx, rp.runID, func(ctx context.Context, b *store.Batch) error {
		return writeGrouped(ctx, b, batch)
	})
	if err != nil {
		return err
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, r := range tables {
		rp.written.Inserted += r.Inserted
		rp.written.Updated += r.Updated
		rp.written.Deleted += r.Deleted
	}
	return nil
}

// bodies are buffers for decompressed payloads: decoding copies what it
// keeps, so a buffer is reused as soon as its payload is decoded.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// replay decodes a stored payload as the crawler did when it fetched it.
func replay(p store.RawPayload) (decoded, error) {
	ep := endpoint(p.Endpoint)
	if ep == nil {
		return decoded{}, fmt.Errorf("no endpoint named %q in this version's catalog", p.Endpoint)
	}
	body := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(body)
	if err := decompress(body, p.BodyGzip); err != nil {
		return decoded{}, err
	}
	f := &fetched{ep: ep, observed: p.FetchedAt.UTC(), body: body.Bytes()}
	if p.WindowStart != nil && p.WindowEnd != nil {
		f.window = store.Window{Start: p.WindowStart.UTC(), End: p.WindowEnd.UTC()}
		f.current = !f.window.End.Before(f.observed)
	}
	if ep.Param != "" {
		var err error
		if f.id, err = pathParam(ep.Path, p.Params); err != nil {
			return decoded{}, err
		}
	}
	return ep.Decode(f)
}

// pathParam finds the value of a path's {param} in a fetched path.
func pathParam(pattern, params string) (string, error) {
	path, _, _ := strings.Cut(params, "?")
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return "", fmt.Errorf("%q does not match %s", path, pattern)
	}
	for i, seg := range want {
		if strings.HasPrefix(seg, "{") {
			return url.PathUnescape(got[i])
		}
	}
	return "", fmt.Errorf("%s has no parameter", pattern)
}
