package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Reprocess rebuilds the warehouse tables from the retained raw payloads,
// without calling the API: the newest body of every endpoint and query is
// decoded again and written, oldest first. Use it after a decoder fix, or
// to rebuild a lost table.
func Reprocess(ctx context.Context, s *store.Store, logger *slog.Logger) (Result, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
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
	var c store.RunCounters
	var summary []string
	fail := func(endpoint, params string, err error) error {
		c.Errors++
		if len(summary) < 5 {
			summary = append(summary, fmt.Sprintf("%s %s: %v", endpoint, params, err))
		}
		logger.WarnContext(ctx, "payload not reprocessed", "endpoint", endpoint, "params", params, "err", err)
		return s.RecordRunError(ctx, id, store.RunError{Endpoint: endpoint, Message: err.Error()})
	}
	// Payloads are replayed in batches, oldest first: one transaction per
	// batch, one COPY and merge per table.
	var pending []write
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		tables, err := s.WriteBatchTables(ctx, id, func(ctx context.Context, b *store.Batch) error {
			return writeGrouped(ctx, b, pending)
		})
		pending = nil
		if err != nil {
			return err
		}
		for _, r := range tables {
			c.RowsInserted += r.Inserted
			c.RowsUpdated += r.Updated
			c.RowsDeleted += r.Deleted
		}
		return nil
	}
	rows := 0
	err = s.EachRawPayload(ctx, Provider, func(p store.RawPayload) error {
		d, err := replay(p)
		if err != nil {
			return fail(p.Endpoint, p.Params, err)
		}
		pending = append(pending, d.writes...)
		for _, w := range d.writes {
			rows += len(w.rows)
		}
		if rows >= 20000 {
			rows = 0
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
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

// replay decodes a stored payload as the crawler did when it fetched it.
func replay(p store.RawPayload) (decoded, error) {
	ep := endpoint(p.Endpoint)
	if ep == nil {
		return decoded{}, fmt.Errorf("no endpoint named %q in this version's catalog", p.Endpoint)
	}
	zr, err := gzip.NewReader(bytes.NewReader(p.BodyGzip))
	if err != nil {
		return decoded{}, fmt.Errorf("decompress: %w", err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		return decoded{}, fmt.Errorf("decompress: %w", err)
	}
	f := &fetched{ep: ep, observed: p.FetchedAt.UTC(), body: body}
	if p.WindowStart != nil && p.WindowEnd != nil {
		f.window = store.Window{Start: p.WindowStart.UTC(), End: p.WindowEnd.UTC()}
		f.current = !f.window.End.Before(f.observed)
	}
	if ep.Param != "" {
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
