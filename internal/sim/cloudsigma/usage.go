package cloudsigma

import (
	"sort"
	"time"
)

// ResourceUse is one resource's use in one cycle, as /currentusage/ reports
// it: what the account used, what its subscriptions cover, and the rest,
// which bursts.
type ResourceUse struct {
	Using      int64
	Subscribed int64
	Burst      int64
}

// cycleUse sums cycle k's use per resource.
func (m *Model) cycleUse(k int64) []ResourceUse {
	out := make([]ResourceUse, len(Resources))
	var groups []burst
	groups, m.led.uses = m.cycleGroups(k, m.led.uses)
	for _, g := range groups {
		out[g.resource].Using += g.used
	}
	m.led.subscribed = m.subscribedAt(CycleStart(k), m.led.subscribed)
	for r, s := range m.led.subscribed {
		out[r].Subscribed = s
	}
	m.bursts(k, func(b burst) { out[b.resource].Burst += b.amount })
	return out
}

// lastPolledCycle is the newest cycle whose usage has been polled.
func (m *Model) lastPolledCycle(now time.Time) int64 {
	k := CycleOf(now)
	if m.pollTime(k) > now.UnixMicro() {
		k--
	}
	return k
}

// CurrentUsage is what /currentusage/ reports now: the use of the newest
// polled cycle, per resource name.
func (m *Model) CurrentUsage() map[string]ResourceUse {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	use := m.cycleUse(m.lastPolledCycle(m.nowLocked()))
	out := make(map[string]ResourceUse, len(Resources))
	for r, u := range use {
		out[Resources[r].Name] = u
	}
	return out
}

// UsageRow is one row of /usage/: one object's use of one resource at one poll.
type UsageRow struct {
	PollTime time.Time
	Resource string
	UUID     string
	Amount   int64
	Seconds  int64 // for how much of the cycle; /usage/ does not send it
}

// usageCycles returns the cycles whose poll time is in (gt, lt).
func (m *Model) usageCycles(gt, lt time.Time) (first, last int64) {
	first, last = CycleOf(gt)-1, CycleOf(lt)+1
	for m.pollTime(first) <= gt.UnixMicro() {
		first++
	}
	for m.pollTime(last) >= lt.UnixMicro() {
		last--
	}
	return max(first, CycleOf(m.start)), min(last, m.lastPolledCycle(m.nowLocked()))
}

// usageRows calls visit for the rows of the polls in (gt, lt), oldest
// first, until it returns false.
func (m *Model) usageRows(gt, lt time.Time, visit func(UsageRow) bool) {
	first, last := m.usageCycles(gt, lt)
	for k := first; k <= last; k++ {
		poll := time.UnixMicro(m.pollTime(k)).UTC()
		m.led.uses = m.led.uses[:0]
		for _, s := range m.servers {
			m.led.uses = s.uses(cycleStartUnix(k), m.led.uses)
		}
		for _, u := range m.led.uses {
			if !visit(UsageRow{poll, Resources[u.resource].Name, u.uuid, u.amount, u.secs}) {
				return
			}
		}
	}
}

// Usage returns the /usage/ rows of the polls in (gt, lt), oldest first.
func (m *Model) Usage(gt, lt time.Time) []UsageRow {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	var out []UsageRow
	m.usageRows(gt, lt, func(r UsageRow) bool { out = append(out, r); return true })
	return out
}

// UsageBucket sums one resource's use over the cycles polled in a bucket
// (an hour or a day), as a warehouse would roll the ledger and /usage/ up.
type UsageBucket struct {
	Start      time.Time
	Resource   string
	UnitSecs   int64 // Σ amount × seconds of every use
	BurstSecs  int64 // Σ burst amount × seconds
	Cost       Money // Σ ledger amounts of the bursts
	BurstCount int   // ledger burst entries
}

// UsagePerHour sums use per resource for each hour in [from, to) by poll
// time, over the cycles that have ended (a cycle's bursts enter the ledger
// about 167 seconds after it starts).
func (m *Model) UsagePerHour(from, to time.Time) []UsageBucket {
	return m.usagePer(from, to, func(t time.Time) time.Time { return t.Truncate(time.Hour) })
}

// UsagePerDay sums use per resource for each UTC day in [from, to) by poll time.
func (m *Model) UsagePerDay(from, to time.Time) []UsageBucket {
	return m.usagePer(from, to, func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	})
}

func (m *Model) usagePer(from, to time.Time, bucket func(time.Time) time.Time) []UsageBucket {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	type key struct {
		start time.Time
		res   int
	}
	sums := map[key]*UsageBucket{}
	get := func(t time.Time, res int) *UsageBucket {
		k := key{bucket(t), res}
		if sums[k] == nil {
			sums[k] = &UsageBucket{Start: k.start, Resource: Resources[res].Name}
		}
		return sums[k]
	}
	// Only cycles whose bursts are in the chain: those that have ended.
	first, last := m.usageCycles(from.Add(-time.Microsecond), to)
	last = min(last, CycleOf(m.nowLocked())-1)
	for k := first; k <= last; k++ {
		poll := time.UnixMicro(m.pollTime(k)).UTC()
		var groups []burst
		groups, m.led.uses = m.cycleGroups(k, m.led.uses)
		for _, g := range groups {
			get(poll, g.resource).UnitSecs += g.used * g.secs
		}
		m.bursts(k, func(b burst) {
			u := get(poll, b.resource)
			u.BurstSecs += b.amount * b.secs
			u.Cost = u.Cost.Add(b.cost)
			u.BurstCount++
		})
	}
	out := make([]UsageBucket, 0, len(sums))
	for _, u := range sums {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Start.Equal(out[j].Start) {
			return out[i].Start.Before(out[j].Start)
		}
		return out[i].Resource < out[j].Resource
	})
	return out
}
