package sim

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestClock(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 23, 12, 0, 42, 0, time.FixedZone("CET", 3600))
	c := NewClock(start, time.Minute)
	want := time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)
	if got := c.Now(); !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("Now = %s, want %s (UTC, to the minute)", got, want)
	}
	if err := c.Advance(90*time.Second + time.Millisecond); err != nil || !c.Now().Equal(want.Add(time.Minute)) {
		t.Errorf("after 90s: %s, %v; want %s", c.Now(), err, want.Add(time.Minute))
	}
	if err := c.Advance(-time.Second); !errors.Is(err, ErrBackwards) {
		t.Errorf("Advance(-1s) = %v", err)
	}
	if err := c.Set(want); !errors.Is(err, ErrBackwards) {
		t.Errorf("Set into the past = %v", err)
	}
	later := want.Add(48 * time.Hour)
	if err := c.Set(later.Add(59 * time.Second)); err != nil || !c.Now().Equal(later) {
		t.Errorf("Set = %v, Now = %s; want %s", err, c.Now(), later)
	}
	if err := c.Advance(time.Hour); err != nil || !c.Now().Equal(later.Add(time.Hour)) {
		t.Errorf("Advance after Set: %s", c.Now())
	}
}

func TestClockFollowsRealTime(t *testing.T) {
	t.Parallel()
	wall := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	c := NewClock(time.Time{}, 0)
	c.real = func() time.Time { return wall }
	if got := c.Now(); !got.Equal(wall) {
		t.Errorf("Now = %s, want the wall clock %s", got, wall)
	}
	c.Advance(time.Hour)
	wall = wall.Add(time.Minute)
	if got := c.Now(); !got.Equal(wall.Add(time.Hour)) {
		t.Errorf("Now = %s, want the wall clock plus an hour, %s", got, wall.Add(time.Hour))
	}
	if err := c.Set(wall.Add(2 * time.Hour)); err != nil {
		t.Fatal(err)
	}
	wall = wall.Add(time.Minute)
	if got := c.Now(); !got.Equal(wall.Add(2*time.Hour - time.Minute)) {
		t.Errorf("a set clock moved with the wall clock: %s", got)
	}
}

// countingLocker records how often a clock took its guard.
type countingLocker struct {
	mu             sync.Mutex
	locks, unlocks int
}

func (l *countingLocker) Lock()   { l.mu.Lock(); l.locks++ }
func (l *countingLocker) Unlock() { l.unlocks++; l.mu.Unlock() }

func TestClockGuard(t *testing.T) {
	t.Parallel()
	var g countingLocker
	c := NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute)
	c.Guard(&g)
	c.Now()
	c.Advance(time.Hour)
	c.Set(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	c.Advance(-time.Hour) // refused before it locks anything
	if g.locks != 2 || g.unlocks != 2 {
		t.Errorf("guard locked %d and unlocked %d times, want 2 and 2 (Advance and Set, not Now)", g.locks, g.unlocks)
	}
}
