package ingest

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Some APIs keep a rate limit per path (or per any part of a request) and
// say in every response's headers how much of it is left. PathLimits paces
// each such limit by what the headers say, on top of the client's pacer:
// requests counting against a limit are spaced out as its remainder falls,
// and a 429 holds only the requests of that limit until it refreshes,
// leaving the others to go on.
type PathLimits struct {
	// Key names the limit a request counts against ("" for none).
	Key func(q Request) string
	// Quota reads a response's rate-limit headers; ok is false when they
	// are absent.
	Quota func(h http.Header) (q Quota, ok bool)
	// SlowBelow is the share of the limit below which requests are spaced
	// evenly over what is left of the window (default 0.5).
	SlowBelow float64
}

// Quota is what rate-limit headers say of one limit.
type Quota struct {
	Limit, Remaining int
	Refresh          time.Duration // until the window starts again
}

// pathPacer is the state of every limit a client has seen.
type pathPacer struct {
	cfg   PathLimits
	clock Clock
	mu    sync.Mutex
	keys  map[string]*pathState
}

type pathState struct {
	limit, remaining int
	refreshAt        time.Time // the window's end; zero: unknown
	next             time.Time // the earliest slot of the next request
}

func newPathPacer(cfg PathLimits, clock Clock) *pathPacer {
	if cfg.SlowBelow <= 0 {
		cfg.SlowBelow = 0.5
	}
	return &pathPacer{cfg: cfg, clock: clock, keys: map[string]*pathState{}}
}

// wait blocks until a request of key may go, and counts it against what
// is left of the limit.
func (p *pathPacer) wait(ctx context.Context, key string) error {
	if key == "" {
		return nil
	}
	p.mu.Lock()
	st := p.keys[key]
	if st == nil || st.limit <= 0 {
		p.mu.Unlock()
		return nil
	}
	now := p.clock.Now()
	if !st.refreshAt.IsZero() && !now.Before(st.refreshAt) {
		st.remaining, st.refreshAt = st.limit, time.Time{} // a new window
	}
	slot := now
	switch {
	case st.remaining <= 0 && !st.refreshAt.IsZero():
		// Spent: wait for the window to refresh, and start it afresh.
		slot = st.refreshAt
		st.remaining, st.refreshAt = st.limit, time.Time{}
	case !st.refreshAt.IsZero() && float64(st.remaining) < p.cfg.SlowBelow*float64(st.limit):
		// Running low: spread what is left over the rest of the window.
		if st.next.After(slot) {
			slot = st.next
		}
		st.next = slot.Add(st.refreshAt.Sub(now) / time.Duration(st.remaining+1))
	}
	st.remaining--
	p.mu.Unlock()
	if slot.After(now) && !p.clock.SleepUntil(ctx, slot) {
		return ctx.Err()
	}
	return nil
}

// observe reads a response's headers. limited says it was a 429: the
// limit is spent until it refreshes, whatever the headers say is left.
// It reports whether the headers were there.
func (p *pathPacer) observe(key string, h http.Header, limited bool) bool {
	if key == "" {
		return false
	}
	q, ok := p.cfg.Quota(h)
	if !ok {
		return false
	}
	now := p.clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.keys[key]
	if st == nil {
		st = &pathState{remaining: q.Remaining}
		p.keys[key] = st
	}
	refreshAt := now.Add(q.Refresh)
	if st.refreshAt.IsZero() || refreshAt.Sub(st.refreshAt) > time.Second {
		st.remaining = q.Remaining // a new window: its count is the server's
	} else {
		st.remaining = min(st.remaining, q.Remaining) // requests still in flight count too
	}
	st.limit, st.refreshAt = q.Limit, refreshAt
	if limited {
		st.remaining = 0
	}
	return true
}
