package cloudsigma

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

const (
	// ledgerLimit is the ledger's page size.
	ledgerLimit = 500
	// settle is how far behind the clock the ledger is walked. Entries
	// only join the chain at its end, so a window that ended in the past
	// never changes; the margin allows for the API's clock and for entries
	// written a moment after their time.
	settle = 5 * time.Minute
	// walks is how often a window whose chain breaks is walked.
	walks = 3
)

// apiTime writes a filter value as the API reads it.
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// days splits [from, to) at UTC midnights.
func days(from, to time.Time) []store.Window {
	var out []store.Window
	for d := from; d.Before(to); {
		next := d.Truncate(24 * time.Hour).Add(24 * time.Hour)
		out = append(out, store.Window{Start: d, End: earlier(next, to)})
		d = next
	}
	return out
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// window is one day of the ledger as fetched: its entries in chain order,
// or why not.
type window struct {
	w       store.Window
	skip    bool // fetched before and settled since: not fetched again
	entries []entry
	raws    [][]any
	err     error
	done    chan struct{}
}

func (wd *window) label() string { return wd.w.Start.Format("2006-01-02") }

// errStopped marks windows never fetched because the run stopped.
var errStopped = errors.New("the run stopped")

// ledgerMonth walks a month's ledger by day windows, many at a time, and
// proves it complete: inside a window each entry's initial is the
// previous entry's end and end = initial − amount; each window's first
// initial is the end of the window before (or, for the first fetched, of
// the last entry before it, asked of the API); the month's last end is
// the initial of the first entry after it, or, when there is none, the
// balance. A window that breaks the chain is a unit error: it is not
// stored, and the next run fetches it again. Windows go to the writer in
// order, as their links are proved.
func (s *Source) ledgerMonth(ctx context.Context, r *ingest.Run, m store.Window) {
	end := earlier(m.End, r.Now().Add(-settle))
	if !end.After(m.Start) {
		return
	}
	ws := days(m.Start, end)
	wins := make([]*window, len(ws))
	for i, w := range ws {
		wins[i] = &window{w: w, done: make(chan struct{})}
		// A whole day fetched before is settled: skipped unless the
		// engine's full refresh is due.
		wins[i].skip = r.Unchanged(ledgerUnit(w), ledgerPrint(w))
	}
	r.UnitsPlanned(len(ws))
	ahead := make(chan struct{}, r.Concurrency()) // windows fetched but not yet linked
	go func() {
		for _, wd := range wins {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
			}
			if wd.skip || ctx.Err() != nil || r.Draining() {
				if !wd.skip {
					wd.err = errStopped
				}
				close(wd.done)
				continue
			}
			go func() {
				defer close(wd.done)
				wd.entries, wd.raws, wd.err = s.walkWindow(ctx, r, wd.w)
			}()
		}
	}()

	var prev decimal.Decimal
	known := false // prev is the end of the entry before the next window
	for _, wd := range wins {
		<-wd.done
		select {
		case <-ahead:
		default:
		}
		r.UnitDone()
		switch {
		case wd.skip:
			known = false
			continue
		case errors.Is(wd.err, errStopped):
			return
		case wd.err != nil:
			r.Fail(ctx, "ledger", wd.label(), wd.err)
			r.KeepRaw(ctx, wd.raws)
			known = false
			continue
		}
		if !known {
			var err error
			if prev, err = s.endBefore(ctx, r, wd.w.Start); err != nil {
				r.Fail(ctx, "ledger", wd.label(), fmt.Errorf("the entry before the window: %w", err))
				continue
			}
			known = true
		}
		if len(wd.entries) > 0 {
			first, last := wd.entries[0], wd.entries[len(wd.entries)-1]
			if !first.initial.Equal(prev) {
				r.Fail(ctx, "ledger", wd.label(), fmt.Errorf("the chain breaks before entry %s: its initial is %s, the entry before ends at %s",
					first.row.EntryID, first.initial, prev))
				r.KeepRaw(ctx, wd.raws)
				prev = last.end
				continue
			}
			prev = last.end
		}
		rows := make([]store.CloudSigmaLedgerEntry, len(wd.entries))
		for i, e := range wd.entries {
			rows[i] = e.row
		}
		wd.entries = nil
		r.Submit(ctx, ingest.Unit{Endpoint: "ledger", ResourceID: wd.label(), Raws: wd.raws,
			Writes: []store.Write{store.CloudSigmaLedgerEntries.Writes(s.owner,
				&store.Scope{Owner: s.owner, RangeColumn: "time", From: wd.w.Start, To: wd.w.End}, rows...)},
			State: &ingest.UnitState{Key: ledgerUnit(wd.w), Fingerprint: ledgerPrint(wd.w)}})
	}
	if known && ctx.Err() == nil {
		if err := s.checkEnd(ctx, r, end, prev); err != nil {
			r.Fail(ctx, "ledger", m.Start.Format("2006-01"), err)
		}
	}
}

func ledgerUnit(w store.Window) string  { return "ledger/" + w.Start.Format("2006-01-02") }
func ledgerPrint(w store.Window) string { return "until " + w.End.UTC().Format(time.RFC3339) }

// walkWindow fetches a window's entries and checks their chain; a window
// whose chain breaks (a page that shifted as it was read) is walked again.
func (s *Source) walkWindow(ctx context.Context, r *ingest.Run, w store.Window) ([]entry, [][]any, error) {
	var err error
	var raws [][]any
	for walk := 1; walk <= walks; walk++ {
		var entries []entry
		entries, raws, err = s.fetchWindow(ctx, r, w)
		if err != nil {
			return nil, raws, err
		}
		if err = chain(entries); err == nil {
			return entries, raws, nil
		}
		r.Logger().InfoContext(ctx, "the ledger's chain breaks inside a window; walking it again", "endpoint", "ledger",
			"resource_id", w.Start.Format("2006-01-02"), "attempt", walk, "err", err)
	}
	return nil, raws, fmt.Errorf("after %d walks: %w", walks, err)
}

// fetchWindow fetches a window's pages: the first, then (total_count is
// exact for a window in the past) the rest at once, then more while the
// last is full. Entries are de-duplicated by id, in page order.
func (s *Source) fetchWindow(ctx context.Context, r *ingest.Run, w store.Window) ([]entry, [][]any, error) {
	cur := s.currencyNow()
	type page struct {
		entries []entry
		raw     []any
		err     error
	}
	get := func(offset int) page {
		q := url.Values{"time__gte": {apiTime(w.Start)}, "time__lt": {apiTime(w.End)}, "order_by": {"time"},
			"limit": {strconv.Itoa(ledgerLimit)}, "offset": {strconv.Itoa(offset)}}
		resp, err := r.Fetch(ctx, "ledger", ingest.Request{Path: "/ledger/", Query: q, Label: "ledger"}, w)
		if err != nil {
			return page{err: fmt.Errorf("offset %d: %w", offset, err)}
		}
		done := decodeSlot()
		es, _, err := decodeLedger(resp.Body, cur)
		done()
		if err != nil {
			err = fmt.Errorf("offset %d: %w", offset, err)
		}
		return page{entries: es, raw: resp.Raw, err: err}
	}
	q := url.Values{"time__gte": {apiTime(w.Start)}, "time__lt": {apiTime(w.End)}, "order_by": {"time"},
		"limit": {strconv.Itoa(ledgerLimit)}, "offset": {"0"}}
	resp, err := r.Fetch(ctx, "ledger", ingest.Request{Path: "/ledger/", Query: q, Label: "ledger"}, w)
	if err != nil {
		return nil, nil, fmt.Errorf("offset 0: %w", err)
	}
	done := decodeSlot()
	es, total, err := decodeLedger(resp.Body, cur)
	done()
	if err != nil {
		return nil, [][]any{resp.Raw}, fmt.Errorf("offset 0: %w", err)
	}
	pages := []page{{entries: es, raw: resp.Raw}}
	if len(es) == ledgerLimit && total > ledgerLimit {
		rest := make([]page, (total-1)/ledgerLimit)
		var wg sync.WaitGroup
		for i := range rest {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rest[i] = get((i + 1) * ledgerLimit)
			}()
		}
		wg.Wait()
		pages = append(pages, rest...)
	}
	for len(pages[len(pages)-1].entries) == ledgerLimit && pages[len(pages)-1].err == nil {
		pages = append(pages, get(len(pages)*ledgerLimit)) // total_count trails the newest hour
	}
	var out []entry
	var raws [][]any
	seen := map[string]bool{}
	for _, p := range pages {
		if p.raw != nil {
			raws = append(raws, p.raw)
		}
		if p.err != nil {
			return nil, raws, p.err
		}
		for _, e := range p.entries {
			if !seen[e.row.EntryID] {
				seen[e.row.EntryID] = true
				out = append(out, e)
			}
		}
	}
	return out, raws, nil
}

// chain checks that entries form an unbroken stretch of the balance chain.
func chain(entries []entry) error {
	for i, e := range entries {
		if !e.end.Add(e.amount).Equal(e.initial) {
			return fmt.Errorf("entry %s: initial %s − amount %s is not its end %s", e.row.EntryID, e.initial, e.amount, e.end)
		}
		if i > 0 && !entries[i-1].end.Equal(e.initial) {
			return fmt.Errorf("entry %s starts at %s, but entry %s before it ends at %s", e.row.EntryID, e.initial, entries[i-1].row.EntryID, entries[i-1].end)
		}
	}
	return nil
}

// neighbour asks for the one entry next to t: the last before it, or the
// first at or after it. ok is false when there is none.
func (s *Source) neighbour(ctx context.Context, r *ingest.Run, t time.Time, before bool) (entry, bool, error) {
	q := url.Values{"limit": {"1"}}
	if before {
		q.Set("time__lt", apiTime(t))
		q.Set("order_by", "-time")
	} else {
		q.Set("time__gte", apiTime(t))
		q.Set("order_by", "time")
	}
	resp, err := r.Fetch(ctx, ledgerAnchor, ingest.Request{Path: "/ledger/", Query: q, Label: "ledger"}, store.Window{})
	if err != nil {
		return entry{}, false, err
	}
	es, _, err := decodeLedger(resp.Body, "")
	if err == nil {
		err = r.Commit(ctx, ingest.Unit{Endpoint: ledgerAnchor, Raws: [][]any{resp.Raw}})
	}
	if err != nil || len(es) == 0 {
		return entry{}, false, err
	}
	return es[0], true, nil
}

// endBefore is the balance after the last entry before t: zero when the
// ledger starts after t (an account opens with a payment onto nothing).
func (s *Source) endBefore(ctx context.Context, r *ingest.Run, t time.Time) (decimal.Decimal, error) {
	e, ok, err := s.neighbour(ctx, r, t, true)
	if err != nil || !ok {
		return decimal.Decimal{}, err
	}
	return e.end, nil
}

// checkEnd proves nothing is missing at the end of what was walked: the
// first entry after it starts where the walk ended, or, with no entry
// after it, the balance is where the walk ended. The balance was read
// before the walk, and the chain only grows at its end, so either way the
// walk's last end must be on the chain the balance ends.
func (s *Source) checkEnd(ctx context.Context, r *ingest.Run, end time.Time, last decimal.Decimal) error {
	next, ok, err := s.neighbour(ctx, r, end, false)
	if err != nil {
		return fmt.Errorf("the entry after the walk: %w", err)
	}
	if ok {
		if !next.initial.Equal(last) {
			return fmt.Errorf("the chain breaks at the end of the walk: entry %s starts at %s, the walk ends at %s", next.row.EntryID, next.initial, last)
		}
		return nil
	}
	s.mu.Lock()
	bal := s.balance
	s.mu.Unlock()
	if bal != nil && !bal.Equal(last) {
		return fmt.Errorf("the chain ends at %s, but the balance is %s", last, bal)
	}
	return nil
}
