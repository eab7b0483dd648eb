package soracom

import (
	"cmp"
	"slices"
	"strings"
	"sync"
)

// aggregate is everything the JSON endpoints need of one view of a month,
// from one pass over its rows: the CSV is generated again, row by row, when
// it is downloaded, so the model never holds a month's rows.
type aggregate struct {
	view    view
	total   Money   // Σ rows, before tax and coupons
	daily   []Money // Σ daily rows per day of the view
	items   []ItemCost
	perSIM  []Money // Σ rows per SIM serial
	seen    []bool  // SIMs with a row
	monthly []Row
	rows    int64

	hasSIM, hasVPG, hasDevice bool
	tagKeys                   []string

	sims        []*SIM // the SIMs the view was computed over
	corrections []Correction
}

// ItemCost is one bill item's total in a month.
type ItemCost struct {
	Category, Name string
	Amount         Money
}

// SIMCost is one SIM's total in a month.
type SIMCost struct {
	SimID  string
	Amount Money
}

type aggCache struct {
	mu      sync.Mutex
	entries map[view]*aggEntry
}

type aggEntry struct {
	once sync.Once
	agg  *aggregate
}

// aggregate returns a view's figures, computing them once. Entries for
// partial months are dropped when the cache grows: the clock has moved past
// them.
func (m *Model) aggregate(v view) *aggregate {
	c := &m.cache
	c.mu.Lock()
	if c.entries == nil {
		c.entries = map[view]*aggEntry{}
	}
	e := c.entries[v]
	if e == nil {
		if len(c.entries) > 64 {
			for k := range c.entries {
				if k.days != k.month.Days() {
					delete(c.entries, k)
				}
			}
		}
		e = &aggEntry{}
		c.entries[v] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.agg = m.computeAggregate(v) })
	return e.agg
}

// snapshot returns the SIMs and corrections as they are now. Both only
// grow, so the slices stay valid.
func (m *Model) snapshot() ([]*SIM, []Correction) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.sims[:len(m.sims):len(m.sims)], m.corrections[:len(m.corrections):len(m.corrections)]
}

func (m *Model) computeAggregate(v view) *aggregate {
	sims, corrections := m.snapshot()
	a := &aggregate{
		view: v, daily: make([]Money, v.days), perSIM: make([]Money, len(sims)), seen: make([]bool, len(sims)),
		sims: sims, corrections: corrections,
	}
	byItem := map[string]*ItemCost{}
	var dataMB int64
	var data Money
	first := v.month.First()
	add := func(r *Row) {
		a.rows++
		a.total += r.Amount
		if !r.Monthly {
			a.daily[r.Day-first] += r.Amount
		}
		ic := byItem[r.BillItemName]
		if ic == nil {
			ic = &ItemCost{Category: r.Category, Name: r.BillItemName}
			byItem[r.BillItemName] = ic
		}
		ic.Amount += r.Amount
		if r.SIM >= 0 {
			a.perSIM[r.SIM] += r.Amount
			a.seen[r.SIM] = true
			a.hasSIM = true
		}
		a.hasVPG = a.hasVPG || r.VpgID != ""
		a.hasDevice = a.hasDevice || r.DeviceID != ""
	}
	m.eachDailyRow(v, sims, func(r *Row) {
		add(r)
		if r.Category == CategoryAir && r.Quantity > 0 && strings.HasPrefix(r.BillItemName, "Data traffic") {
			dataMB += r.Quantity
			data += r.Amount
		}
	})
	a.monthly = m.monthlyRows(v, sims, corrections, dataMB, data)
	for i := range a.monthly {
		add(&a.monthly[i])
	}
	for _, ic := range byItem {
		a.items = append(a.items, *ic)
	}
	slices.SortFunc(a.items, func(x, y ItemCost) int {
		if x.Amount != y.Amount {
			return cmp.Compare(y.Amount, x.Amount)
		}
		return strings.Compare(x.Name, y.Name)
	})
	keys := map[string]bool{}
	for i, s := range sims {
		if a.seen[i] {
			for _, t := range s.Tags {
				keys[t.Key] = true
			}
		}
	}
	for k := range keys {
		a.tagKeys = append(a.tagKeys, k)
	}
	slices.Sort(a.tagKeys)
	return a
}

// topSIMs is the SIM summary: the SIMs with rows, by amount, largest first
// (ties by SIM id), at most n.
func (a *aggregate) topSIMs(n int) []SIMCost {
	var out []SIMCost
	for i, s := range a.sims {
		if a.seen[i] {
			out = append(out, SIMCost{SimID: s.SimID, Amount: a.perSIM[i]})
		}
	}
	slices.SortFunc(out, func(x, y SIMCost) int {
		if x.Amount != y.Amount {
			return cmp.Compare(y.Amount, x.Amount)
		}
		return strings.Compare(x.SimID, y.SimID)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
