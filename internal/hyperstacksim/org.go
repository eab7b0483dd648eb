package hyperstacksim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// Model is the organisation the simulator bills: its resources, its credit,
// its notification thresholds and its clock. Every endpoint is derived from
// it, so the numbers of all endpoints agree. It is safe for concurrent use.
type Model struct {
	mu sync.RWMutex

	seed    uint64
	OrgID   int64
	OrgUUID string
	start   time.Time

	clock *sim.Clock // to the minute; moves under mu

	shapes Shapes // how the HTTP side answers; fixed at New

	resources []*Resource
	byID      map[Family]map[int64]*Resource
	lastID    int64

	initialCredit Nano
	redeemed      Nano
	vouchers      map[string]*voucher
	thresholds    []*threshold
}

type voucher struct {
	id, maxUses, uses int64
	amount            Nano
}

type threshold struct {
	ID         int64
	Hours      int64
	Title      string
	Tooltip    string
	Subscribed bool
}

// ErrNotFound is returned for an unknown resource; the control endpoints
// answer it with 404.
var ErrNotFound = sim.ErrNotFound

// ModelConfig describes the organisation to generate.
type ModelConfig struct {
	Seed int64
	// Start is where the billing history begins (default: the start of the
	// month two months before Now).
	Start time.Time
	// Now fixes the clock; zero follows the real clock.
	Now time.Time
	// Counts is resources per family (default: the small scale).
	Counts map[Family]int
	// ActiveFraction is the share of resources still running now (default 0.2).
	ActiveFraction float64
}

// NewModel generates the organisation for a seed. The same config always
// gives the same organisation.
func NewModel(cfg ModelConfig) *Model {
	m := &Model{
		seed:     uint64(cfg.Seed),
		clock:    sim.NewClock(cfg.Now, time.Minute),
		byID:     map[Family]map[int64]*Resource{},
		vouchers: map[string]*voucher{},
	}
	m.clock.Guard(&m.mu)
	now := m.Now()
	m.start = cfg.Start.UTC()
	if m.start.IsZero() {
		m.start = MonthStart(now).AddDate(0, -2, 0)
	}
	counts := cfg.Counts
	if counts == nil {
		counts = Scales["small"]
	}
	active := cfg.ActiveFraction
	if active == 0 {
		active = 0.2
	}
	rng := rand.New(rand.NewPCG(m.seed, 0x6879706572737461)) // "hypersta"
	m.OrgID = 1000 + rng.Int64N(9000)
	m.OrgUUID = uuid(rng)
	m.lastID = 1000 + rng.Int64N(5000)
	g := &generator{rng: rng, m: m, start: m.start, now: now, active: active}
	g.generate(counts)

	// Enough credit for the history and then some, in whole hundreds.
	spent := m.spendLocked(Window{Start: time.Time{}, End: now})
	m.initialCredit = (spent*5/4/(100*NanoPerDollar) + 5) * 100 * NanoPerDollar
	m.vouchers["WELCOME50"] = &voucher{id: 1 + rng.Int64N(1000), maxUses: 1, amount: 50 * NanoPerDollar}
	for i, h := range []int64{24, 48, 72} {
		m.thresholds = append(m.thresholds, &threshold{
			ID: m.newID(rng), Hours: h, Subscribed: i < 2,
			Title:   fmt.Sprintf("%dhs warning", h),
			Tooltip: fmt.Sprintf("Credit limit warning %d hours before your credit depletes", h),
		})
	}
	return m
}

func (m *Model) newID(rng *rand.Rand) int64 {
	m.lastID += 1 + rng.Int64N(7)
	return m.lastID
}

func (m *Model) add(r *Resource) {
	if m.byID[r.Family] == nil {
		m.byID[r.Family] = map[int64]*Resource{}
	}
	m.byID[r.Family][r.ID] = r
	m.resources = append(m.resources, r)
}

// Now is the simulator's clock, to the minute. It moves only while no one
// holds the model's lock, so a read under the lock sees one time.
func (m *Model) Now() time.Time { return m.clock.Now() }

// Start is where the generated history begins.
func (m *Model) Start() time.Time { return m.start }

// Advance moves the clock forward.
func (m *Model) Advance(d time.Duration) error { return m.clock.Advance(d) }

// Resources returns copies of every resource of a family (all families when
// f is empty), oldest id first.
func (m *Model) Resources(f Family) []Resource {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Resource
	for _, r := range m.resources {
		if f == "" || r.Family == f {
			out = append(out, r.clone())
		}
	}
	slices.SortFunc(out, func(a, b Resource) int { return int(a.ID - b.ID) })
	return out
}

// Resource returns a copy of one resource.
func (m *Model) Resource(f Family, id int64) (Resource, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.byID[f][id]
	if !ok {
		return Resource{}, fmt.Errorf("%s %d: %w", f, id, ErrNotFound)
	}
	return r.clone(), nil
}

func (r *Resource) clone() Resource {
	c := *r
	c.Components = slices.Clone(r.Components)
	c.States = slices.Clone(r.States)
	c.Restatements = slices.Clone(r.Restatements)
	return c
}

// CostIn is what one resource cost in w, up to now.
func (m *Model) CostIn(f Family, id int64, w Window) (Cost, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.byID[f][id]
	if !ok {
		return Cost{}, fmt.Errorf("%s %d: %w", f, id, ErrNotFound)
	}
	return r.CostIn(w.clip(m.Now())), nil
}

// FamilyCosts is the incurred cost of each family in w, up to now.
func (m *Model) FamilyCosts(w Window) map[Family]Nano {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.familyCostsLocked(w.clip(m.Now()))
}

func (m *Model) familyCostsLocked(w Window) map[Family]Nano {
	out := map[Family]Nano{}
	for _, r := range m.resources {
		if r.overlaps(w) {
			out[r.Family] += r.CostIn(w).Incurred
		}
	}
	return out
}

// spendLocked is everything the organisation incurred in w.
func (m *Model) spendLocked(w Window) Nano {
	var total Nano
	for _, c := range m.familyCostsLocked(w) {
		total += c
	}
	return total
}

// Credit is the balance: the initial credit plus redeemed vouchers minus
// everything spent up to now.
func (m *Model) Credit() Nano {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.creditLocked()
}

func (m *Model) creditLocked() Nano {
	return m.initialCredit + m.redeemed - m.spendLocked(Window{End: m.Now()})
}

// InitialCredit is the credit the organisation started with.
func (m *Model) InitialCredit() Nano { return m.initialCredit }

// NewResource describes a resource created through the control API.
type NewResource struct {
	Family Family `json:"family"`
	Name   string `json:"name"`
}

// CreateResource starts a new resource now, priced like the first of its
// family's price tables, and returns its id.
func (m *Model) CreateResource(nr NewResource) (int64, error) {
	if !slices.Contains(Families, nr.Family) {
		return 0, fmt.Errorf("unknown family %q", nr.Family)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rng := rand.New(rand.NewPCG(m.seed, uint64(m.lastID)))
	now := m.Now()
	g := &generator{rng: rng, m: m, start: now, now: now.Add(24 * time.Hour), active: 1}
	r := g.resource(nr.Family, nil)
	r.Created, r.Terminated = now, time.Time{}
	if nr.Family == FamilyContract {
		r.Terminated = now.Add(90 * 24 * time.Hour)
	}
	if len(r.States) > 0 {
		r.States = r.States[:1]
		r.States[0].At = now
	}
	if nr.Name != "" {
		r.Name = nr.Name
	}
	r.ID = m.newID(rng)
	r.UUID = uuid(rng)
	m.add(r)
	return r.ID, nil
}

// Terminate ends a resource now.
func (m *Model) Terminate(f Family, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, now, err := m.runningLocked(f, id)
	if err != nil {
		return err
	}
	r.Terminated = now
	return nil
}

// runningLocked finds a resource that exists now.
func (m *Model) runningLocked(f Family, id int64) (*Resource, time.Time, error) {
	r, ok := m.byID[f][id]
	if !ok {
		return nil, time.Time{}, fmt.Errorf("%s %d: %w", f, id, ErrNotFound)
	}
	now := m.Now()
	if !r.Alive(now) {
		return nil, time.Time{}, fmt.Errorf("%s %d is not running", f, id)
	}
	return r, now, nil
}

// SetVMState changes a running VM's state from now on.
func (m *Model) SetVMState(id int64, state string) error {
	if !slices.Contains([]string{StateActive, StateShutoff, StateHibernated}, state) {
		return fmt.Errorf("unknown VM state %q", state)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, now, err := m.runningLocked(FamilyVM, id)
	if err != nil {
		return err
	}
	if n := len(r.States); n > 0 && r.States[n-1].At.Equal(now) {
		r.States[n-1].State = state
	} else {
		r.States = append(r.States, StateChange{At: now, State: state})
	}
	return nil
}

// Restate corrects a resource's past cost: from from to to, it becomes
// percent percent of what it was. A later fetch of any window covering that
// time returns the corrected numbers.
func (m *Model) Restate(f Family, id int64, from, to time.Time, percent int64) error {
	if !from.Before(to) || percent < 0 {
		return errors.New("restate needs from < to and a percent >= 0")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byID[f][id]
	if !ok {
		return fmt.Errorf("%s %d: %w", f, id, ErrNotFound)
	}
	r.Restatements = append(r.Restatements, Restatement{From: from.UTC().Truncate(time.Minute), To: to.UTC().Truncate(time.Minute), Percent: percent})
	return nil
}
