package cloudsigma

import (
	"fmt"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// CycleEpoch is the start of billing cycle 0. Cycles are five minutes long
// and numbered from here, which puts the docs' cycle 105157 at 2014-06-05
// 09:06 UTC, where their ledger example polled it.
var CycleEpoch = time.Date(2013, 6, 5, 6, 1, 0, 0, time.UTC)

// ModelConfig is the seeded account's setup.
type ModelConfig struct {
	Seed     int64
	Location string // "zrh" (default)
	Currency string // one of Currencies (default "CHF")
	User     string // the account's e-mail (default "user@example.com")
	Servers  int    // servers generated (default 5); 0 after defaults is not possible, use -1 for none
	// Start is where the account's history begins (default 30 days before
	// Now); it is moved forward to a cycle boundary.
	Start time.Time
	// Now fixes the clock; zero follows the real clock. Clock, when set,
	// is used instead (the Sim shares it with /_sim/clock).
	Now   time.Time
	Clock *sim.Clock
}

// Model is one CloudSigma account at one location: its servers and drives,
// subscriptions, payments and promotions, and the ledger they produce, five
// minutes at a time. Every endpoint is derived from it.
type Model struct {
	cfg   ModelConfig
	seed  uint64
	start time.Time

	mu    sync.Mutex // guards everything below, and the clock's moves
	clock *sim.Clock

	servers []*Server
	subs    []*Subscription
	credits []credit // seeded and added payments and promotions, by time
	promos  []string // promotion codes, by ref

	led ledger
}

// ErrNotFound is returned by controls naming something the model lacks;
// /_sim/ answers it with 404.
var ErrNotFound = sim.ErrNotFound

// NewModel generates an account and its ledger up to the clock's now.
func NewModel(cfg ModelConfig) *Model {
	if cfg.Location == "" {
		cfg.Location = "zrh"
	}
	if cfg.Currency == "" {
		cfg.Currency = "CHF"
	}
	if cfg.User == "" {
		cfg.User = "user@example.com"
	}
	if cfg.Servers == 0 {
		cfg.Servers = 5
	}
	if cfg.Clock == nil {
		cfg.Clock = sim.NewClock(cfg.Now, time.Microsecond)
	}
	if _, ok := currencyFactor(cfg.Currency); !ok {
		panic(fmt.Sprintf("cloudsigma: unknown currency %q", cfg.Currency))
	}
	m := &Model{cfg: cfg, seed: uint64(cfg.Seed), clock: cfg.Clock}
	// The ledger is computed under m.mu up to the clock's now; a clock
	// that moves meanwhile would tear it.
	m.clock.Guard(&m.mu)
	now := m.nowLocked()
	start := cfg.Start
	if start.IsZero() {
		start = now.Add(-30 * 24 * time.Hour)
	}
	m.start = CycleStart(CycleOf(start.Add(cycleLength - 1)))
	if m.start.After(now) {
		m.start = CycleStart(CycleOf(now))
	}
	m.generate(now)
	m.led.init(m)
	m.syncLocked()
	return m
}

// Config returns the configuration the model was built with, defaults filled in.
func (m *Model) Config() ModelConfig { return m.cfg }

// Start is the beginning of the account's history.
func (m *Model) Start() time.Time { return m.start }

// Now is the simulator's clock.
func (m *Model) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nowLocked()
}

func (m *Model) nowLocked() time.Time { return m.clock.Now().Truncate(time.Microsecond) }

// Clock is the model's billing clock.
func (m *Model) Clock() *sim.Clock { return m.clock }

// Advance moves the clock forward; the ledger grows with it when next read.
func (m *Model) Advance(d time.Duration) error { return m.clock.Advance(d) }

// SetNow moves the clock forward to t.
func (m *Model) SetNow(t time.Time) error { return m.clock.Set(t) }

// CycleOf returns the billing cycle a time falls in.
func CycleOf(t time.Time) int64 {
	d := t.Sub(CycleEpoch)
	k := int64(d / cycleLength)
	if d < 0 && d%cycleLength != 0 {
		k--
	}
	return k
}

// CycleStart returns when a billing cycle begins.
func CycleStart(k int64) time.Time { return CycleEpoch.Add(time.Duration(k) * cycleLength) }

func cycleStartUnix(k int64) int64 { return CycleEpoch.Unix() + k*cycleSecs }

// effectiveCycle is the first cycle a control made at now changes: the
// cycle after the current one, whose usage is not yet computed.
func (m *Model) effectiveCycle(now time.Time) int64 {
	return max(CycleOf(now)+1, m.led.nextCycle)
}
