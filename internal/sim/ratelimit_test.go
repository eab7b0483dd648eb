package sim

import (
	"sync"
	"testing"
	"time"
)

// fakeWall is a wall clock a test moves by hand.
type fakeWall struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeWall) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeWall) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	wall := &fakeWall{t: time.Date(2026, 11, 23, 9, 30, 15, 0, time.UTC)}
	l := NewLimiter(3, time.Minute, wall.now)
	want := []Quota{
		{Allowed: true, Limit: 3, Remaining: 2, Reset: 45 * time.Second},
		{Allowed: true, Limit: 3, Remaining: 1, Reset: 45 * time.Second},
		{Allowed: true, Limit: 3, Remaining: 0, Reset: 45 * time.Second},
		{Allowed: false, Limit: 3, Remaining: 0, Reset: 45 * time.Second},
	}
	for i, w := range want {
		if got := l.Take("10.0.0.1"); got != w {
			t.Errorf("request %d: %+v, want %+v", i+1, got, w)
		}
	}
	if got := l.Take("10.0.0.2"); !got.Allowed || got.Remaining != 2 {
		t.Errorf("another key shares the first's count: %+v", got)
	}
	wall.set(time.Date(2026, 11, 23, 9, 30, 59, 500_000_000, time.UTC))
	if got := l.Take("10.0.0.1"); got.Allowed || got.Reset != 500*time.Millisecond {
		t.Errorf("late in the same minute: %+v, want refused with 500ms to go", got)
	}
	wall.set(time.Date(2026, 11, 23, 9, 31, 0, 0, time.UTC))
	if got := l.Take("10.0.0.1"); !got.Allowed || got.Remaining != 2 || got.Reset != time.Minute {
		t.Errorf("a new minute: %+v, want a fresh window", got)
	}
	l.SetLimit(0)
	for range 10 {
		if got := l.Take("10.0.0.1"); got != (Quota{Allowed: true}) {
			t.Fatalf("no limit: %+v", got)
		}
	}
	if l.Limit() != 0 {
		t.Errorf("Limit = %d", l.Limit())
	}

	hourly := NewLimiter(1, time.Hour, wall.now)
	hourly.Take("k")
	if got := hourly.Take("k"); got.Allowed || got.Reset != 29*time.Minute {
		t.Errorf("an hourly window at 9:31: %+v, want refused until 10:00", got)
	}
}
