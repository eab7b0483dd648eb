package sim

import (
	"sync"
	"time"
)

// Limiter is a fixed-window rate limit per key, as the billing APIs apply
// it: at most Limit requests per key in each calendar window (a minute
// from :00 to :59 for Hyperstack); past that, every request gets 429 until
// the window ends. The key is the simulator's choice: the client's IP, or
// IP and path. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	limit  int // <= 0: unlimited
	window time.Duration
	clock  func() time.Time
	start  time.Time // of the current window
	counts map[string]int
}

// NewLimiter returns a limiter of limit requests per window (<= 0: none)
// counted by clock (nil: time.Now).
func NewLimiter(limit int, window time.Duration, clock func() time.Time) *Limiter {
	if clock == nil {
		clock = time.Now
	}
	return &Limiter{limit: limit, window: window, clock: clock}
}

// Quota is what a limiter decided for one request, with the numbers a
// simulator writes into its rate-limit headers.
type Quota struct {
	Allowed   bool
	Limit     int           // requests per window; 0 when there is no limit
	Remaining int           // requests left in this window after this one
	Reset     time.Duration // until the window ends
}

// Take counts a request of key and reports whether it is within the limit.
func (l *Limiter) Take(key string) Quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit <= 0 {
		return Quota{Allowed: true}
	}
	now := l.clock()
	start := now.Truncate(l.window)
	if !start.Equal(l.start) {
		l.start = start
		l.counts = map[string]int{}
	}
	l.counts[key]++
	n := l.counts[key]
	return Quota{
		Allowed:   n <= l.limit,
		Limit:     l.limit,
		Remaining: max(0, l.limit-n),
		Reset:     start.Add(l.window).Sub(now),
	}
}

// SetLimit changes the limit (<= 0: none) from the next request on.
func (l *Limiter) SetLimit(limit int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.limit = limit
}

// Limit returns the limit per window (<= 0: none).
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}
