package ingest

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"runtime"
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
}

// Reprocess rebuilds a source's warehouse tables from its retained raw
// payloads, without calling the API: the newest body of every endpoint and
// query, and every body of the point-in-time endpoints (see
// store.EachRawPayload), is decoded again and written, oldest first.
// Bodies that never decoded (kept from failed units) are tried when no
// decoded body of their query is newer; those that still fail are counted
// in Result.Undecoded, not as errors: retrying them cannot help. Use
// it after a decoder fix, or to rebuild a lost table. It is a run like any
// other: the source's lock, a ledger row, a heartbeat.
func (c *Crawler) Reprocess(ctx context.Context, src Source, cfg ReprocessConfig) (Result, error) {
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = batchRows
	}
	return c.lifecycle(ctx, src, store.TriggerReprocess, store.Window{}, Mode{}, func(ctx context.Context, r *Run) error {
		rp := &reprocessor{r: r, s: c.store, batchRows: cfg.BatchRows}
		if err := rp.run(ctx); err != nil {
			return err
		}
		return r.replayDone(ctx)
	})
}

// replayDone writes what a source rolls up across the payloads a reprocess
// replayed, once all are (CloudSigma's usage days need every page of the
// day): a source may say ReplayDone() []store.Write.
func (r *Run) replayDone(ctx context.Context) error {
	d, ok := r.src.(interface{ ReplayDone() []store.Write })
	if !ok || ctx.Err() != nil || r.Draining() {
		return nil
	}
	if writes := d.ReplayDone(); len(writes) > 0 {
		return r.Commit(ctx, Unit{Endpoint: "replay", Writes: writes})
	}
	return nil
}

// reprocessor replays the raw payloads of one source.
type reprocessor struct {
	r         *Run
	s         *store.Store
	batchRows int
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
	lanes := map[*store.Table]chan []store.Write{}
	for _, t := range store.WarehouseTables {
		lane := make(chan []store.Write)
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
func (rp *reprocessor) decode(ctx context.Context, lanes map[*store.Table]chan []store.Write) error {
	pending := map[*store.Table][]store.Write{}
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
	// take hands the writers a payload's write, and the fullest table's
	// pending rows when too many wait.
	take := func(w store.Write) {
		pending[w.Table] = append(pending[w.Table], w)
		rows[w.Table] += len(w.Rows)
		total += len(w.Rows)
		if rows[w.Table] >= rp.batchRows {
			send(w.Table)
		}
		if total >= 3*rp.batchRows {
			send(fullest())
		}
	}
	// settle records a payload's error: a body that failed when fetched
	// too is information, not a failure of this reprocess (ingest status
	// counts them).
	settle := func(p store.RawPayload, err error) {
		switch {
		case err != nil && !p.Decoded:
			rp.r.undecoded.Add(1)
			rp.r.logger.InfoContext(ctx, "a stored body that never decoded still does not", "endpoint", p.Endpoint, "params", p.Params, "err", err)
		case err != nil:
			rp.r.Fail(ctx, p.Endpoint, p.Params, err)
		}
	}
	streamer, _ := rp.r.src.(ReplayStreamer)
	decoders := func() *stream.Stream { return stream.New().WithMaxGoroutines(runtime.GOMAXPROCS(0)) }
	decoded := decoders()
	var volatile string
	if v, ok := rp.r.src.(interface{ VolatileParams() string }); ok {
		volatile = v.VolatileParams()
	}
	err := rp.s.EachRawPayload(ctx, rp.r.owner, volatile, func(p store.RawPayload) error {
		if streamer != nil && p.Decoded && streamer.Streams(p.Endpoint) {
			// A large payload (a month's CSV) is decoded alone, its writes
			// handed over as they come, after every payload before it.
			decoded.Wait()
			decoded = decoders()
			if failed != nil {
				return ctx.Err()
			}
			err := rp.replayEach(p, streamer, func(w store.Write) error {
				take(w)
				return cmp.Or(failed, ctx.Err())
			})
			if failed == nil && ctx.Err() == nil {
				settle(p, err)
			}
			return ctx.Err()
		}
		decoded.Go(func() stream.Callback {
			writes, err := rp.replay(p)
			return func() {
				if failed != nil {
					return
				}
				if settle(p, err); err != nil {
					return
				}
				for _, w := range writes {
					take(w)
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

// write commits one table's batch once a writer's slot is free.
func (rp *reprocessor) write(ctx context.Context, slots chan struct{}, batch []store.Write) error {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-slots }()
	tables, err := rp.s.WriteBatchTables(ctx, rp.r.id, func(ctx context.Context, b *store.Batch) error {
		return writeGrouped(ctx, b, batch)
	})
	if err != nil {
		return err
	}
	rp.r.count(tables)
	rp.r.committed.Add(1)
	return nil
}

// bodies are buffers for decompressed payloads: decoding copies what it
// keeps, so a buffer is reused as soon as its payload is decoded.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// replay decodes a stored payload as the source did when it fetched it.
func (rp *reprocessor) replay(p store.RawPayload) ([]store.Write, error) {
	body := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(body)
	if err := decompress(body, p.BodyGzip); err != nil {
		return nil, err
	}
	return rp.r.src.Replay(payload(p, body.Bytes()))
}

// payload is a stored payload as a source replays it.
func payload(p store.RawPayload, body []byte) Payload {
	pl := Payload{Endpoint: p.Endpoint, Params: p.Params, Observed: p.FetchedAt.UTC(), Body: body}
	if p.WindowStart != nil && p.WindowEnd != nil {
		pl.Window = store.Window{Start: p.WindowStart.UTC(), End: p.WindowEnd.UTC()}
	}
	return pl
}

// replayEach decodes a stored payload as a stream, handing emit its
// writes: the body is read through gzip as it is decoded, never whole.
func (rp *reprocessor) replayEach(p store.RawPayload, s ReplayStreamer, emit func(store.Write) error) error {
	zr, err := openGzip(p.BodyGzip)
	if err != nil {
		return err
	}
	defer gzipReaders.Put(zr)
	return s.ReplayEach(payload(p, nil), zr, emit)
}
