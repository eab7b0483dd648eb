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

// Pacer spaces every request evenly under a rate limit and holds them all
// while the API says it is over the limit. One pacer is shared by all
// workers of a source (and by the sources of a provider whose limit is per
// IP), so adding workers never adds speed past the limit.
type Pacer struct {
	mu          sync.Mutex
	clock       Clock
	interval    time.Duration
	next        time.Time
	pausedUntil time.Time
}

// NewPacer paces perMinute requests a minute by clock.
func NewPacer(clock Clock, perMinute int) *Pacer {
	p := &Pacer{clock: clock}
	if perMinute > 0 {
		p.interval = time.Minute / time.Duration(perMinute)
	}
	return p
}

// wait blocks until the caller may send a request, and says how long that was.
func (p *Pacer) wait(ctx context.Context) (time.Duration, error) {
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
func (p *Pacer) pause(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.pausedUntil) {
		p.pausedUntil = t
	}
}
