package soracom

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Model is the account the simulator bills: its SIMs, devices and VPG, its
// coupons and late corrections, and the clock its months open and close by.
// Every endpoint and the CSV are derived from it, so they agree exactly. It
// is safe for concurrent use.
//
// The model is append-only after it is built, and whatever is added (a
// SIM, a correction) takes effect from the day it is added, a day no bill
// has covered yet. So what a month shows depends only on the month and how
// many of its days have been evaluated, and those figures are computed once
// and cached.
type Model struct {
	seed       uint64
	coverage   Coverage
	tariff     *tariff
	start      Day
	closeDelay int
	latestLag  time.Duration
	clock      func() time.Time
	operatorID string

	mu          sync.RWMutex
	sims        []*SIM
	devices     []Device
	vpgs        []VPG
	coupons     []Coupon
	corrections []Correction
	rng         *rand.Rand // for SIMs added later

	cache aggCache
}

// SIM is one subscriber: a SIM card with its plan, tags and group.
type SIM struct {
	Serial     int // position in the model, 0-based
	IMSI       string
	SimID      string
	Plan       string
	Tags       []Tag // sorted by key
	Group      string
	Activated  Day // first billed day
	Terminated Day // first day no longer billed; 0 while it is in service
	LongTerm   bool
	SMS        bool
	Fast       bool  // speed class on most days
	MeanMB     int64 // data per active day, on average

	plan *plan
}

// Tag is one of a SIM's tags.
type Tag struct{ Key, Value string }

// Device is a SORACOM Inventory device, billed per day.
type Device struct {
	ID      string
	Created Day
}

// VPG is a virtual private gateway, billed per hour.
type VPG struct {
	ID      string
	Created Day
}

// Coupon is a prepaid credit the account applies to its bills, oldest
// expiry first, from its registration month to its expiry month.
type Coupon struct {
	Code       string
	Amount     Money
	Registered Month
	Expiry     Month
}

// Correction is a late correction of a closed month. Soracom never rewrites
// a closed bill: the correction is a row of the month in which it is issued.
type Correction struct {
	Target Month // the closed month it corrects
	Issued Day   // the day it was issued; its row belongs to that month
	SIM    int   // serial of the SIM it concerns, -1 for the account
	Amount Money // negative for a credit
}

// ModelConfig describes the account to generate.
type ModelConfig struct {
	Seed     int64
	Coverage Coverage // default jp
	SIMs     int      // default 50
	// Start is the account's first day (default: the first day of the month
	// three months before the clock's month).
	Start time.Time
	// CloseDelay is how many business days after its end a month closes:
	// 0 means the default 2, negative means it closes as it ends.
	CloseDelay int
	// LatestLag is how far behind the clock the preliminary figures are
	// evaluated (default 2h; negative: no lag).
	LatestLag time.Duration
	// Clock is the billing clock (default time.Now).
	Clock func() time.Time
}

// DefaultCloseDelay is Soracom's "finalized by the second business day".
const DefaultCloseDelay = 2

// ErrNotFound is returned for an unknown month, SIM or file.
var ErrNotFound = errors.New("not found")

// NewModel generates the account for a seed. The same config always gives
// the same account.
func NewModel(cfg ModelConfig) (*Model, error) {
	if cfg.Coverage == "" {
		cfg.Coverage = CoverageJapan
	}
	t, ok := tariffs[cfg.Coverage]
	if !ok {
		return nil, fmt.Errorf("coverage %q: want jp or g", cfg.Coverage)
	}
	if cfg.SIMs == 0 {
		cfg.SIMs = 50
	}
	if cfg.SIMs < 0 {
		return nil, fmt.Errorf("%d SIMs", cfg.SIMs)
	}
	switch {
	case cfg.CloseDelay == 0:
		cfg.CloseDelay = DefaultCloseDelay
	case cfg.CloseDelay < 0:
		cfg.CloseDelay = 0
	}
	switch {
	case cfg.LatestLag == 0:
		cfg.LatestLag = 2 * time.Hour
	case cfg.LatestLag < 0:
		cfg.LatestLag = 0
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	m := &Model{
		seed: uint64(cfg.Seed), coverage: cfg.Coverage, tariff: t,
		closeDelay: cfg.CloseDelay, latestLag: cfg.LatestLag, clock: cfg.Clock,
	}
	today := dayOf(m.Now(), t.loc)
	if cfg.Start.IsZero() {
		m.start = (today.Month() - 3).First()
	} else {
		m.start = dayOf(cfg.Start, t.loc)
	}
	if m.start >= today {
		return nil, fmt.Errorf("start %s is not before the clock's day %s", m.start, today)
	}
	m.rng = rand.New(rand.NewPCG(m.seed, 0x736f7261636f6d)) // "soracom"
	m.operatorID = fmt.Sprintf("OP%010d", m.rng.Int64N(1e10))
	g := generator{m: m, rng: m.rng, today: today}
	g.generate(cfg.SIMs)
	return m, nil
}

// Now is the billing clock.
func (m *Model) Now() time.Time { return m.clock().UTC() }

// Coverage is the coverage the model bills in.
func (m *Model) Coverage() Coverage { return m.coverage }

// Currency is the bills' currency: JPY or USD.
func (m *Model) Currency() string { return m.tariff.currency }

// Location is the time zone days and months are cut in.
func (m *Model) Location() *time.Location { return m.tariff.loc }

// OperatorID is the account's operator id.
func (m *Model) OperatorID() string { return m.operatorID }

// StartDay is the account's first day.
func (m *Model) StartDay() Day { return m.start }

// SIMs returns a copy of the account's SIMs.
func (m *Model) SIMs() []SIM {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]SIM, len(m.sims))
	for i, s := range m.sims {
		out[i] = *s
		out[i].Tags = slices.Clone(s.Tags)
	}
	return out
}

// Coupons returns the account's coupons.
func (m *Model) Coupons() []Coupon {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.coupons)
}

// Corrections returns the late corrections issued so far.
func (m *Model) Corrections() []Correction {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.corrections)
}

// today is the clock's day.
func (m *Model) today() Day { return dayOf(m.Now(), m.tariff.loc) }

// AddSIMs adds n SIMs in service from today, generated from the seed and
// the number already added, and returns them.
func (m *Model) AddSIMs(n int) ([]SIM, error) {
	if n <= 0 || n > 100_000 {
		return nil, fmt.Errorf("add %d SIMs: want 1 to 100000", n)
	}
	m.mu.Lock()
	g := generator{m: m, rng: m.rng, today: m.today()}
	first := len(m.sims)
	for range n {
		s := g.sim(len(m.sims))
		s.Activated = g.today
		m.sims = append(m.sims, s)
	}
	m.mu.Unlock()
	return m.SIMs()[first:], nil
}

// Correct issues a late correction of a closed month: amount (negative for
// a credit) on the SIM with simID, or on the account when simID is empty.
// It appears in the month in which it is issued, from today's evaluation on.
func (m *Model) Correct(target Month, simID string, amount Money) (Correction, error) {
	if st := m.State(target); st != StateClosed {
		return Correction{}, fmt.Errorf("month %s is %s: only a closed month can be corrected", target, st)
	}
	if amount == 0 || amount%m.tariff.minor != 0 {
		return Correction{}, fmt.Errorf("amount %s: want a non-zero multiple of %s", amount, m.tariff.minor)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := Correction{Target: target, Issued: m.today(), SIM: -1, Amount: amount}
	if simID != "" {
		i := slices.IndexFunc(m.sims, func(s *SIM) bool { return s.SimID == simID })
		if i < 0 {
			return Correction{}, fmt.Errorf("SIM %s: %w", simID, ErrNotFound)
		}
		c.SIM = i
	}
	m.corrections = append(m.corrections, c)
	return c, nil
}
