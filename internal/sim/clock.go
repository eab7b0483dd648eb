package sim

import (
	"errors"
	"sync"
	"time"
)

// Clock is a simulator's billing clock, the "now" its model bills up to:
// fixed at a start (--now) or following real time, moved on by Advance or
// Set. It reads to a resolution (Hyperstack bills by the minute). It is
// safe for concurrent use. The rate limit counts by the wall clock
// (Config.WallClock), never by this one.
type Clock struct {
	mu         sync.Mutex
	guard      sync.Locker      // held while the clock moves; nil: none
	fixed      time.Time        // zero: follow real
	real       func() time.Time // the wall clock when not fixed
	offset     time.Duration    // added by Advance
	resolution time.Duration
}

// NewClock returns a clock fixed at start, or following real time when
// start is zero, that reads truncated to resolution (0: exact).
func NewClock(start time.Time, resolution time.Duration) *Clock {
	c := &Clock{real: time.Now, resolution: resolution}
	if !start.IsZero() {
		c.fixed = start.UTC().Truncate(resolution)
	}
	return c
}

// Guard makes Advance and Set hold l while they move the clock, so a model
// that reads Now several times under its own lock (l's read side) sees one
// time throughout. Call it before the clock is shared.
func (c *Clock) Guard(l sync.Locker) { c.guard = l }

func (c *Clock) lock() {
	if c.guard != nil {
		c.guard.Lock()
	}
	c.mu.Lock()
}

func (c *Clock) unlock() {
	c.mu.Unlock()
	if c.guard != nil {
		c.guard.Unlock()
	}
}

// ErrBackwards is Advance's and Set's answer to a move into the past.
var ErrBackwards = errors.New("the clock only moves forward")

// Now is the current simulated time, UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	base := c.fixed
	if base.IsZero() {
		base = c.real().UTC()
	}
	return base.Add(c.offset).Truncate(c.resolution)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) error {
	if d < 0 {
		return ErrBackwards
	}
	c.lock()
	defer c.unlock()
	c.offset += d
	return nil
}

// Set fixes the clock at t, which must not be before now. A clock that
// followed real time stands still from then on.
func (c *Clock) Set(t time.Time) error {
	c.lock()
	defer c.unlock()
	t = t.UTC().Truncate(c.resolution)
	if t.Before(c.nowLocked()) {
		return ErrBackwards
	}
	c.fixed, c.offset = t, 0
	return nil
}
