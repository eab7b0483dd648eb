package hyperstacksim

import (
	"slices"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

// Family is a kind of billed resource, named as in the API's paths.
type Family string

const (
	FamilyVM         Family = "virtual-machine"
	FamilyVolume     Family = "volume"
	FamilySnapshot   Family = "snapshot"
	FamilyBucket     Family = "bucket"
	FamilyCluster    Family = "cluster"
	FamilyContract   Family = "contract"
	FamilyFineTuning Family = "fine_tuning"
	FamilyServerless Family = "serverless_inference"
	FamilyModelEval  Family = "model_evaluation"
	FamilyDataSynth  Family = "data_synthesis"
	FamilyImageGen   Family = "image_generation"
)

// Families lists every family in the order the API documents them.
var Families = []Family{
	FamilyVM, FamilyVolume, FamilySnapshot, FamilyBucket, FamilyCluster, FamilyContract,
	FamilyFineTuning, FamilyServerless, FamilyModelEval, FamilyDataSynth, FamilyImageGen,
}

// TokenBased reports whether a family is billed per token rather than per minute.
func (f Family) TokenBased() bool {
	switch f {
	case FamilyServerless, FamilyModelEval, FamilyDataSynth, FamilyImageGen:
		return true
	}
	return false
}

// VM states and what they bill, after the provider's rules: a SHUTOFF VM
// keeps billing all its resources, a HIBERNATED one only its storage.
const (
	StateActive     = "ACTIVE"
	StateShutoff    = "SHUTOFF"
	StateHibernated = "HIBERNATED"
	StateInUse      = "IN-USE"
	StateAvailable  = "AVAILABLE"
)

// Sub-resource kinds of a VM.
var SubResourceKinds = []string{"gpu", "cpu", "ram", "disk", "ephemeral", "publicip"}

// Component is one separately priced part of a usage-billed resource: a VM's
// gpu, cpu, ram, disk, ephemeral disk and public IP; a cluster's nodes; or
// the single "base" part of any other resource.
type Component struct {
	Kind       string
	ID         int64  // cluster nodes only
	Name       string // cluster nodes only
	ListPerMin Nano   // list price per minute
}

// StateChange is the moment a resource entered a state.
type StateChange struct {
	At    time.Time
	State string
}

// Restatement is a late correction: from From to To the resource's incurred
// cost is Percent percent of what it was.
type Restatement struct {
	From, To time.Time
	Percent  int64
}

// Resource is one billed thing of the organisation.
type Resource struct {
	Family      Family
	ID          int64 // infrahub_id
	UUID        string
	Name        string
	Environment string
	Created     time.Time
	Terminated  time.Time // zero while it exists; may lie in the future (contracts)
	DiscountPct int64
	ContractID  int64 // VMs running on a contract

	Components []Component
	States     []StateChange // VMs and volumes; the first is at Created

	// Token-billed services.
	BaseModel, BaseModelDisplay, LoraAdapter string
	InPrice, OutPrice                        Nano // list price per token
	InTokensPerHour, OutTokensPerHour        int64

	SubresourceType   string // volumes and snapshots
	SubresourceAmount int64
	GPUType           string // contracts

	Restatements []Restatement
}

// Alive reports whether the resource exists at t.
func (r *Resource) Alive(t time.Time) bool {
	return !t.Before(r.Created) && (r.Terminated.IsZero() || t.Before(r.Terminated))
}

// overlaps reports whether the resource existed at some time in [a, b).
func (r *Resource) overlaps(w Window) bool {
	return r.Created.Before(w.End) && (r.Terminated.IsZero() || r.Terminated.After(w.Start))
}

// StateAt returns the state in force at t ("" for resources without states).
func (r *Resource) StateAt(t time.Time) string {
	s := ""
	for _, c := range r.States {
		if c.At.After(t) {
			break
		}
		s = c.State
	}
	return s
}

// billed reports whether a component is charged in a state.
func billed(state, kind string) bool {
	if state == StateHibernated {
		return kind == "disk"
	}
	return true
}

// incurredPerMin is a component's discounted price per minute.
func (r *Resource) incurredPerMin(c Component) Nano {
	return c.ListPerMin * Nano(100-r.DiscountPct) / 100
}

// piece is a stretch of time in which a resource's rates are constant.
type piece struct {
	From, To time.Time
	State    string
	Percent  int64 // restatement in force, 100 when none
}

func (p piece) minutes() int64 { return int64(p.To.Sub(p.From) / time.Minute) }

// pieces cuts the part of w in which the resource existed into stretches of
// constant state and restatement.
func (r *Resource) pieces(w Window) []piece {
	from, to := w.Start, w.End
	if r.Created.After(from) {
		from = r.Created
	}
	if !r.Terminated.IsZero() && r.Terminated.Before(to) {
		to = r.Terminated
	}
	if !from.Before(to) {
		return nil
	}
	cuts := []time.Time{from, to}
	for _, s := range r.States {
		if s.At.After(from) && s.At.Before(to) {
			cuts = append(cuts, s.At)
		}
	}
	for _, rs := range r.Restatements {
		for _, t := range []time.Time{rs.From, rs.To} {
			if t.After(from) && t.Before(to) {
				cuts = append(cuts, t)
			}
		}
	}
	slices.SortFunc(cuts, func(a, b time.Time) int { return a.Compare(b) })
	cuts = slices.Compact(cuts)
	out := make([]piece, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		p := piece{From: cuts[i], To: cuts[i+1], State: r.StateAt(cuts[i]), Percent: r.percentAt(cuts[i])}
		if n := len(out); n > 0 && out[n-1].State == p.State && out[n-1].Percent == p.Percent {
			out[n-1].To = p.To
			continue
		}
		out = append(out, p)
	}
	return out
}

// percentAt is the restatement in force at t; the newest one wins.
func (r *Resource) percentAt(t time.Time) int64 {
	pct := int64(100)
	for _, rs := range r.Restatements {
		if !t.Before(rs.From) && t.Before(rs.To) {
			pct = rs.Percent
		}
	}
	return pct
}

// ComponentCost is what one component cost in a window.
type ComponentCost struct {
	Component
	Incurred, NonDiscounted Nano
}

// Cost is what a resource cost in a window, and how long it was billed.
type Cost struct {
	Incurred, NonDiscounted Nano
	Minutes                 int64            // minutes the resource existed in the window
	StateMinutes            map[string]int64 // VMs: minutes per state
	InTokens, OutTokens     int64
	InIncurred, OutIncurred Nano
	InNonDisc, OutNonDisc   Nano
	Components              []ComponentCost
}

// rateIn returns a piece's incurred and list price per minute over all of
// the resource's components.
func (r *Resource) rateIn(p piece) (incurred, list Nano) {
	for _, c := range r.Components {
		if billed(p.State, c.Kind) {
			incurred += r.incurredPerMin(c) * Nano(p.Percent) / 100
			list += c.ListPerMin
		}
	}
	return incurred, list
}

// CostIn computes what the resource cost in w. The model is exact: cost is a
// whole number of Nano per minute (or per token), so the costs of the parts
// of a window add up to the cost of the whole.
func (r *Resource) CostIn(w Window) Cost {
	var c Cost
	if r.Family.TokenBased() {
		r.tokenCost(w, &c)
		for _, p := range r.pieces(w) {
			c.Minutes += p.minutes()
		}
		return c
	}
	c.Components = make([]ComponentCost, len(r.Components))
	for i, comp := range r.Components {
		c.Components[i].Component = comp
	}
	for _, p := range r.pieces(w) {
		m := p.minutes()
		c.Minutes += m
		if len(r.States) > 0 {
			if c.StateMinutes == nil {
				c.StateMinutes = map[string]int64{}
			}
			c.StateMinutes[p.State] += m
		}
		for i, comp := range r.Components {
			if !billed(p.State, comp.Kind) {
				continue
			}
			inc := r.incurredPerMin(comp) * Nano(p.Percent) / 100 * Nano(m)
			list := comp.ListPerMin * Nano(m)
			c.Components[i].Incurred += inc
			c.Components[i].NonDiscounted += list
			c.Incurred += inc
			c.NonDiscounted += list
		}
	}
	return c
}

// PricePerHour is the resource's incurred and list price per hour at t (in
// its state at t), or at the end of its life when it no longer exists.
func (r *Resource) PricePerHour(t time.Time) (incurred, list Nano) {
	if !r.Terminated.IsZero() && !t.Before(r.Terminated) {
		t = r.Terminated.Add(-time.Minute)
	}
	if t.Before(r.Created) {
		t = r.Created
	}
	if r.Family.TokenBased() {
		return 0, 0
	}
	inc, list := r.rateIn(piece{State: r.StateAt(t), Percent: r.percentAt(t)})
	return inc * 60, list * 60
}

// tokenEvent is one hour's token usage of a token-billed service, booked at
// one minute of that hour.
type tokenEvent struct {
	At      time.Time
	In, Out int64
}

// tokenEvents lists the usage of a token-billed service in w. The counts come
// from a hash of the seed, the resource and the hour, so they are the same
// whatever window asks for them.
func (r *Resource) tokenEvents(seed uint64, w Window) []tokenEvent {
	var out []tokenEvent
	for _, p := range r.pieces(w) {
		for h := p.From.Truncate(time.Hour); h.Before(p.To); h = h.Add(time.Hour) {
			x := sim.Mix(seed, uint64(r.ID), uint64(h.Unix()))
			at := h.Add(time.Duration(x%60) * time.Minute)
			if at.Before(p.From) || !at.Before(p.To) {
				continue
			}
			if (x>>8)%10 < 3 { // idle hours
				continue
			}
			scale := 50 + int64((x>>16)%101) // 50..150 percent of the mean
			out = append(out, tokenEvent{At: at, In: r.InTokensPerHour * scale / 100, Out: r.OutTokensPerHour * scale / 100})
		}
	}
	return out
}

// tokenCost adds up a token-billed service's usage and cost in w.
func (r *Resource) tokenCost(w Window, c *Cost) {
	for _, e := range r.tokenEvents(r.seed(), w) {
		pct := Nano(r.percentAt(e.At))
		inUnit := r.InPrice * Nano(100-r.DiscountPct) / 100
		outUnit := r.OutPrice * Nano(100-r.DiscountPct) / 100
		in := inUnit * Nano(e.In) * pct / 100
		out := outUnit * Nano(e.Out) * pct / 100
		c.InTokens += e.In
		c.OutTokens += e.Out
		c.InIncurred += in
		c.OutIncurred += out
		c.InNonDisc += r.InPrice * Nano(e.In)
		c.OutNonDisc += r.OutPrice * Nano(e.Out)
	}
	c.Incurred = c.InIncurred + c.OutIncurred
	c.NonDiscounted = c.InNonDisc + c.OutNonDisc
}

// seed is derived from the resource's UUID, which the model generates from
// its own seed; it keeps token counts stable without a back pointer.
func (r *Resource) seed() uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(r.UUID); i++ {
		h ^= uint64(r.UUID[i])
		h *= 1099511628211
	}
	return h
}
