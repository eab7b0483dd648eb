package cloudsigma

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/conc/pool"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const (
	// usageLimit is /usage/'s first page size (the docs' example asks
	// for 1500), until the run knows how many samples a poll has.
	usageLimit = 1500
	// usageMaxLimit bounds a page: about 1.3 MB of JSON.
	usageMaxLimit = 10000
	// pollEvery is how often usage is polled: once a billing cycle.
	pollEvery = cycleLength
)

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
	// A day at a time: its hours are fetched at once, and more pages in
	// flight would only wait for a core to decode them, in memory.
	for _, w := range days(from, end) {
		key, print := "usage/"+w.Start.Format("2006-01-02"), ledgerPrint(w)
		if r.Unchanged(key, print) {
			continue
		}
		if r.Draining() || ctx.Err() != nil {
			return
		}
		sums, raws, err := s.usageDay(ctx, r, w)
		if err != nil {
			r.Fail(ctx, "usage", w.Start.Format("2006-01-02"), err)
			r.KeepRaw(ctx, raws)
			continue
		}
		day := w.Start.Truncate(24 * time.Hour)
		r.Submit(ctx, ingest.Unit{Endpoint: "usage", ResourceID: w.Start.Format("2006-01-02"), Raws: raws,
			Writes: []store.Write{store.CloudSigmaUsages.Writes(s.owner,
				&store.Scope{Owner: s.owner, RangeColumn: "bucket_start", From: day, To: day.Add(24 * time.Hour)}, sums.rows()...)},
			State: &ingest.UnitState{Key: key, Fingerprint: print}})
	}
}

// usageDay fetches a day's samples in walks of whole hours, at once: one
// walk by poll time is a chain of requests, each waiting for the one
// before. A walk is as many hours as one page holds: a small account's
// day is one walk, a 200-server account's an hour each. While the size of
// a poll is unknown, the first hour goes alone to tell it.
func (s *Source) usageDay(ctx context.Context, r *ingest.Run, w store.Window) (*roller, [][]any, error) {
	out := &roller{}
	var mu sync.Mutex
	add := func(samples []usageSample) {
		mu.Lock()
		out.add(samples)
		mu.Unlock()
	}
	// Once a walk fails, the day is fetched again by the next run: the
	// other walks start no request, but those on the wire are answered
	// (cancelled, the API would have served them unseen).
	var failed atomic.Bool
	var first [][]any
	from := w.Start
	if s.pollSize.Load() == 0 {
		hour := store.Window{Start: from, End: earlier(from.Truncate(time.Hour).Add(time.Hour), w.End)}
		var err error
		if first, err = s.usageWindow(ctx, r, hour, w, &failed, add); err != nil {
			return out, first, err
		}
		from = hour.End
	}
	span := time.Hour
	if per := int(s.pollSize.Load()); per > 0 {
		span = time.Duration(max(1, usageMaxLimit/per/12-1)) * time.Hour
	}
	var walks []store.Window
	for h := from; h.Before(w.End); {
		next := h.Truncate(time.Hour).Add(span)
		walks = append(walks, store.Window{Start: h, End: earlier(next, w.End)})
		h = next
	}
	raws := make([][][]any, len(walks)+1)
	raws[0] = first
	p := pool.New().WithErrors().WithFirstError().WithMaxGoroutines(r.Concurrency())
	for i, h := range walks {
		p.Go(func() error {
			var err error
			if raws[i+1], err = s.usageWindow(ctx, r, h, w, &failed, add); err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	err := p.Wait()
	return out, slices.Concat(raws...), err
}

// usageWindow fetches the samples of the polls in w and hands them to
// add. /usage/'s total_count is always 0, and its pages are offsets into a
// list that grows, so it is walked by poll time instead: each page starts
// at the newest poll of the page before, whose samples (perhaps cut off by
// the page's end) are dropped there and read whole here. A page asks for
// as many samples as the polls left should have, by the size of a poll
// seen so far; a poll larger than a page doubles the page. unit is the
// day the payloads are stored under.
func (s *Source) usageWindow(ctx context.Context, r *ingest.Run, w, unit store.Window, failed *atomic.Bool, add func([]usageSample)) ([][]any, error) {
	var raws [][]any
	from, limit := w.Start, s.usageLimit(w.Start, w.End)
	for {
		if failed.Load() {
			return raws, errDayFailed
		}
		q := url.Values{"poll_time__gte": {apiTime(from)}, "poll_time__lt": {apiTime(w.End)}, "limit": {strconv.Itoa(limit)}}
		resp, err := r.Fetch(ctx, "usage", ingest.Request{Path: "/usage/", Query: q, Label: "usage"}, unit)
		if err != nil {
			return raws, fmt.Errorf("from %s: %w", apiTime(from), err)
		}
		raws = append(raws, resp.Raw)
		done := decodeSlot()
		page, err := decodeUsage(resp.Body)
		if err != nil {
			done()
			return raws, fmt.Errorf("from %s: %w", apiTime(from), err)
		}
		n := whole(page, limit)
		s.learnPoll(page[:n])
		add(page[:n])
		done()
		if n == len(page) {
			return raws, nil
		}
		if n == 0 {
			if limit >= 64*usageLimit {
				return raws, fmt.Errorf("one poll at %s has more than %d samples", apiTime(page[0].poll), limit)
			}
			limit *= 2
			continue
		}
		from = page[n].poll
		limit = max(limit, s.usageLimit(from, w.End))
	}
}

// errDayFailed ends the walks of a day's other hours once one failed.
var errDayFailed = errors.New("another hour of the day failed")

// whole is how many of a page's samples belong to polls it holds whole:
// all of a short page's, or those before the newest poll of a full one.
func whole(page []usageSample, limit int) int {
	n := len(page)
	if n < limit {
		return n
	}
	last := page[n-1].poll
	for n > 0 && page[n-1].poll.Equal(last) {
		n--
	}
	return n
}

// learnPoll keeps the size of the largest poll seen whole.
func (s *Source) learnPoll(samples []usageSample) {
	for i := 0; i < len(samples); {
		j := i
		for j < len(samples) && samples[j].poll.Equal(samples[i].poll) {
			j++
		}
		for {
			old := s.pollSize.Load()
			if int64(j-i) <= old || s.pollSize.CompareAndSwap(old, int64(j-i)) {
				break
			}
		}
		i = j
	}
}

// usageLimit is a page size that should hold every poll in [from, to)
// with one poll to spare, so that the page is short and the walk ends.
func (s *Source) usageLimit(from, to time.Time) int {
	per := int(s.pollSize.Load())
	if per == 0 {
		return usageLimit
	}
	polls := int(to.Sub(from)/pollEvery) + 2
	return min(max(per*polls, usageLimit), usageMaxLimit)
}
