package cloudsigma

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// usageLimit is /usage/'s page size (the docs' example asks for 1500).
const usageLimit = 1500

// usageMonth fetches the /usage/ samples of a month's days within
// usage_days and stores each day's rolled up per resource and hour, and
// per resource and day.
func (s *Source) usageMonth(ctx context.Context, r *ingest.Run, m store.Window) {
	end := earlier(m.End, r.Now().Add(-settle))
	from := m.Start
	if h := r.Now().Add(-time.Duration(s.usageDays) * 24 * time.Hour).Truncate(24 * time.Hour); h.After(from) {
		from = h
	}
	if s.usageDays == 0 || !end.After(from) {
		return
	}
	p := pool.New().WithMaxGoroutines(r.Concurrency())
	for _, w := range days(from, end) {
		key, print := "usage/"+w.Start.Format("2006-01-02"), ledgerPrint(w)
		if r.Unchanged(key, print) {
			continue
		}
		p.Go(func() {
			if r.Draining() {
				return
			}
			sums, raws, err := s.usageDay(ctx, r, w)
			if err != nil {
				r.Fail(ctx, "usage", w.Start.Format("2006-01-02"), err)
				r.KeepRaw(ctx, raws)
				return
			}
			day := w.Start.Truncate(24 * time.Hour)
			r.Submit(ctx, ingest.Unit{Endpoint: "usage", ResourceID: w.Start.Format("2006-01-02"), Raws: raws,
				Writes: []store.Write{store.CloudSigmaUsages.Writes(s.owner,
					&store.Scope{Owner: s.owner, RangeColumn: "bucket_start", From: day, To: day.Add(24 * time.Hour)}, sums.rows()...)},
				State: &ingest.UnitState{Key: key, Fingerprint: print}})
		})
	}
	p.Wait()
}

// usageDay fetches a day's samples. /usage/'s total_count is always 0, and
// its pages are offsets into a list that grows, so it is walked by poll
// time instead: each page starts at the newest poll of the page before,
// whose samples (perhaps cut off by the page's end) are dropped there and
// read whole here. A poll larger than a page doubles the page.
func (s *Source) usageDay(ctx context.Context, r *ingest.Run, w store.Window) (*roller, [][]any, error) {
	out := &roller{}
	var raws [][]any
	from, limit := w.Start, usageLimit
	for {
		q := url.Values{"poll_time__gte": {apiTime(from)}, "poll_time__lt": {apiTime(w.End)}, "limit": {strconv.Itoa(limit)}}
		resp, err := r.Fetch(ctx, "usage", ingest.Request{Path: "/usage/", Query: q, Label: "usage"}, w)
		if err != nil {
			return nil, raws, fmt.Errorf("from %s: %w", apiTime(from), err)
		}
		raws = append(raws, resp.Raw)
		page, err := decodeUsage(resp.Body)
		if err != nil {
			return nil, raws, fmt.Errorf("from %s: %w", apiTime(from), err)
		}
		if len(page) < limit {
			out.add(page)
			return out, raws, nil
		}
		last := page[len(page)-1].poll
		n := len(page)
		for n > 0 && page[n-1].poll.Equal(last) {
			n--
		}
		if n == 0 {
			if limit >= 64*usageLimit {
				return nil, raws, fmt.Errorf("one poll at %s has more than %d samples", apiTime(last), limit)
			}
			limit *= 2
			continue
		}
		out.add(page[:n])
		from = last
	}
}
