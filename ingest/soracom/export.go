package soracom

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// The detailed CSV comes from an export: POST …/export?export_mode=async
// answers a file id, polled until it is exported with a signed link (or
// failed: then a sync export, which answers the link at once but can time
// out on a large file). The link is a secret while it lives: it is only
// ever in this file's variables, and the download is stored under the
// params "(download)".

// downloadTimeout bounds a CSV download (tens of megabytes for a large account).
const downloadTimeout = 10 * time.Minute

// Poll waits: the first poll after a second, doubling up to pollMax.
const (
	pollFirst = time.Second
	pollMax   = 30 * time.Second
)

// csv exports, downloads and parses a month's CSV, handing the writer its
// rows a day at a time, each day a unit of its own (a large account's
// month is hundreds of thousands of rows; one unit would hold them all
// until written). It returns the raw payload row, stored once, with the
// month's last unit; the resources the file names; and how many parts
// (units) it was written in, each recording partState(run) as its fetch
// state, so that the month is only complete once every part is written.
func (s *Source) csv(ctx context.Context, r *ingest.Run, month time.Time, closed bool, w store.Window) ([]any, []store.Resource, int, error) {
	label := monthLabel(month)
	path := "/bills/latest/export"
	if closed {
		path = "/bills/" + label + "/export"
	}
	ex := &export{s: s, path: path, log: r.Logger()}
	link, err := ex.start(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	name := "csv/" + label
	if closed {
		name += "/closed"
	}
	var raw []any
	for attempt := 1; ; attempt++ {
		raw, err = r.Download(ctx, name, ingest.Request{URL: link, Label: "download", Timeout: downloadTimeout}, w)
		var apiErr *ingest.APIError
		if errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden && attempt < 3 {
			// An expired link: the export gives a fresh one.
			r.Logger().InfoContext(ctx, "download link refused; asking for a fresh one", "month", label, "attempt", attempt)
			if link, err = ex.relink(ctx); err != nil {
				return nil, nil, 0, err
			}
			continue
		}
		if err != nil {
			return nil, nil, 0, fmt.Errorf("download the CSV of %s: %w", label, err)
		}
		break
	}
	// The CSV (tens of megabytes) was gzipped as it arrived, and is read
	// from its raw payload as the writer takes its rows.
	zr, err := gzip.NewReader(bytes.NewReader(raw[bodyGzip].([]byte)))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("the CSV of %s: its raw payload: %w", label, err)
	}
	parts := 0
	tag := partState(r.ID())
	resources, err := parseCSV(zr, month, closed, func(c chunk) error {
		day := c.day.Format("20060102")
		if c.monthly {
			day = label
		}
		r.Submit(ctx, ingest.Unit{Endpoint: name, ResourceID: day, Writes: []store.Write{chunkWrite(s.owner, month, c)},
			State: &ingest.UnitState{Key: partKey(month, parts), Fingerprint: tag}})
		parts++
		return ctx.Err()
	})
	if err != nil {
		r.KeepRaw(ctx, [][]any{raw})
		return nil, nil, 0, fmt.Errorf("the CSV of %s: %w", label, err)
	}
	return raw, resources, parts, nil
}

// bodyGzip is where a raw payload row holds the gzip of its body.
var bodyGzip = slices.Index(slices.Concat(store.RawPayloads.Key, store.RawPayloads.Values), "body_gzip")

// export is one month's export: how to get its link again.
type export struct {
	s      *Source
	log    *slog.Logger
	path   string
	fileID string // async; "" once fallen back to sync
}

// start asks for an async export and waits for its link; a failed export
// falls back to a sync one.
func (e *export) start(ctx context.Context) (string, error) {
	var out struct {
		ExportedFileID string `json:"exportedFileId"`
	}
	if err := e.post(ctx, "async", &out); err != nil {
		return "", err
	}
	if out.ExportedFileID == "" {
		return "", fmt.Errorf("POST %s: %w: no exportedFileId", e.path, ErrMalformed)
	}
	e.fileID = out.ExportedFileID
	link, err := e.poll(ctx)
	if errors.Is(err, errExportFailed) {
		e.log.InfoContext(ctx, "async export failed; exporting in sync mode", "path", e.path)
		e.fileID = ""
		return e.sync(ctx)
	}
	return link, err
}

// relink gets a fresh link: a poll of the async export, or a new sync one.
func (e *export) relink(ctx context.Context) (string, error) {
	if e.fileID != "" {
		return e.poll(ctx)
	}
	return e.sync(ctx)
}

var errExportFailed = errors.New("the export failed")

// poll asks for the export's state, waiting longer between polls, until it
// is exported or failed, or the source's patience is spent. A malformed
// answer is polled again.
func (e *export) poll(ctx context.Context) (string, error) {
	clock := e.s.clock
	deadline := clock.Now().Add(e.s.patience)
	wait := pollFirst
	var last error
	for {
		var out struct {
			Status string `json:"status"`
			URL    string `json:"url"`
		}
		err := e.do(ctx, ingest.Request{Method: http.MethodGet, Path: "/files/exported/" + url.PathEscape(e.fileID), Label: "exported"}, &out)
		switch {
		case err != nil && !errors.Is(err, ErrMalformed):
			return "", err
		case err != nil:
			last = err
		case out.Status == "exported" && out.URL != "":
			return out.URL, nil
		case out.Status == "failed":
			return "", errExportFailed
		case out.Status != "processing":
			last = fmt.Errorf("%w: export status %q", ErrMalformed, out.Status)
		}
		next := clock.Now().Add(wait)
		if next.After(deadline) {
			if last != nil {
				return "", fmt.Errorf("export %s: %w", e.path, last)
			}
			return "", fmt.Errorf("export %s still processing after %s (export_patience); the next run asks again", e.path, e.s.patience)
		}
		if !clock.SleepUntil(ctx, next) {
			return "", ctx.Err()
		}
		wait = min(2*wait, pollMax)
	}
}

// sync asks for a sync export: the link at once.
func (e *export) sync(ctx context.Context) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	if err := e.post(ctx, "sync", &out); err != nil {
		return "", err
	}
	if out.URL == "" {
		return "", fmt.Errorf("POST %s: %w: no url", e.path, ErrMalformed)
	}
	return out.URL, nil
}

func (e *export) post(ctx context.Context, mode string, out any) error {
	return e.do(ctx, ingest.Request{Method: http.MethodPost, Path: e.path, Query: url.Values{"export_mode": {mode}}, Label: "export"}, out)
}

// do sends a request whose answer holds a secret (a link): it is decoded
// and dropped, never stored, never quoted in an error.
func (e *export) do(ctx context.Context, q ingest.Request, out any) error {
	resp, err := call(ctx, e.s.auth, func() (*ingest.Response, error) { return e.s.client.Do(ctx, q) })
	if err != nil {
		return err
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("%s %s: %w: the answer is not the expected JSON", q.Method, q.Path, ErrMalformed)
	}
	return nil
}

// quota reads Soracom's rate-limit headers.
func quota(h http.Header) (ingest.Quota, bool) {
	limit, err1 := strconv.Atoi(h.Get("X-Soracom-Ratelimit-Limit"))
	left, err2 := strconv.Atoi(h.Get("X-Soracom-Ratelimit-Remaining"))
	secs, err3 := strconv.Atoi(h.Get("X-Soracom-Ratelimit-Seconds-Before-Refresh"))
	if err1 != nil || err2 != nil || err3 != nil || limit <= 0 {
		return ingest.Quota{}, false
	}
	return ingest.Quota{Limit: limit, Remaining: left, Refresh: time.Duration(secs) * time.Second}, true
}
