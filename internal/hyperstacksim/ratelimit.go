package hyperstacksim

import (
	"sync"
	"time"
)

// rateLimiter mimics the live API: at most perMinute requests per client in
// each calendar minute; past that, every request gets 429 until the minute
// ends.
type rateLimiter struct {
	mu        sync.Mutex
	perMinute int // <= 0: unlimited
	clock     func() time.Time
	minute    time.Time
	counts    map[string]int
}

// allow counts a request and reports whether it is within the limit, and
// if not, how long until the window resets.
func (l *rateLimiter) allow(client string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perMinute <= 0 {
		return true, 0
	}
	now := l.clock()
	minute := now.Truncate(time.Minute)
	if !minute.Equal(l.minute) {
		l.minute = minute
		l.counts = map[string]int{}
	}
	l.counts[client]++
	if l.counts[client] > l.perMinute {
		return false, minute.Add(time.Minute).Sub(now)
	}
	return true, 0
}

func (l *rateLimiter) set(perMinute int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perMinute = perMinute
}

func (l *rateLimiter) limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.perMinute
}
