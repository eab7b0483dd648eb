package ingest

import (
	"context"
	"sync"
	"time"
)

// Clock is the time source of the pacer and of backoff waits. Tests use a
// simulated one so pacing over minutes runs in milliseconds.
type Clock interface {
	Now() time.Time
	// SleepUntil waits until t or until ctx ends; it reports whether it
	// reached t.
	SleepUntil(ctx context.Context, t time.Time) bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pacer spaces every request of a run evenly under the rate limit and holds
// them all while the API says it is over the limit. One pacer is shared by
// all workers, so adding workers never adds speed past the limit.
type pacer struct {
	mu          sync.Mutex
	clock       Clock
	interval    time.Duration
	next        time.Time
	pausedUntil time.Time
}

func newPacer(clock Clock, perMinute int) *pacer {
	p := &pacer{clock: clock}
	if perMinute > 0 {
		p.interval = time.Minute / time.Duration(perMinute)
	}
	return p
}

// wait blocks until the caller may send a request, and says how long that was.
func (p *pacer) wait(ctx context.Context) (time.Duration, error) {
	p.mu.Lock()
	now := p.clock.Now()
	slot := now
	if p.next.After(slot) {
		slot = p.next
	}
	if p.pausedUntil.After(slot) {
		slot = p.pausedUntil
	}
	p.next = slot.Add(p.interval)
	waited := slot.Sub(now)
	p.mu.Unlock()
	if !p.clock.SleepUntil(ctx, slot) {
		return waited, ctx.Err()
	}
	return waited, nil
}

// pause holds every request until t: after a 429, the whole limit window
// has to pass, or a 429 storm turns into a retry storm.
func (p *pacer) pause(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.pausedUntil) {
		p.pausedUntil = t
	}
}
