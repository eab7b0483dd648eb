package soracom

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// generator builds a model's account from its seed.
type generator struct {
	m     *Model
	rng   *rand.Rand
	today Day
}

var (
	tagNames     = []string{"sensor", "tracker", "gateway", "meter", "camera"}
	tagLocations = []string{"Tokyo, Japan", "Osaka, Japan", "Seattle, WA", `Warehouse "B", Dock 3`, "Berlin", "Lyon, FR"}
	tagProjects  = []string{"alpha", "beta", "fleet-2026"}
	groupNames   = []string{"Production", "Staging", "Fleet, east", "Lab"}
	meanMBs      = []int64{1, 3, 10, 30, 100, 300}
)

// digits10 maps a serial to ten digits one-to-one: an odd multiplier not
// divisible by 5 is invertible modulo 10^10, so ids never collide.
func digits10(serial int, salt uint64) string {
	const mod = 10_000_000_000
	v := (uint64(serial)*7_919_000_003 + salt%mod) % mod
	return fmt.Sprintf("%010d", v)
}

func (g *generator) sim(serial int) *SIM {
	t := g.m.tariff
	r := g.rng
	p := &t.plans[r.IntN(len(t.plans))]
	s := &SIM{
		Serial:   serial,
		IMSI:     t.imsiPrefix + digits10(serial, g.m.seed),
		SimID:    t.iccidPrefix + "0" + digits10(serial, g.m.seed>>7) + "1",
		Plan:     p.name,
		plan:     p,
		LongTerm: r.IntN(4) == 0,
		SMS:      r.IntN(3) == 0,
		Fast:     r.IntN(3) == 0,
		MeanMB:   meanMBs[r.IntN(len(meanMBs))],
	}
	s.Tags = []Tag{{"name", fmt.Sprintf("%s-%04d", tagNames[r.IntN(len(tagNames))], serial+1)}}
	if r.IntN(2) == 0 {
		s.Tags = append(s.Tags, Tag{"location", tagLocations[r.IntN(len(tagLocations))]})
	}
	if r.IntN(3) == 0 {
		s.Tags = append(s.Tags, Tag{"project", tagProjects[r.IntN(len(tagProjects))]})
	}
	slices.SortFunc(s.Tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	if r.IntN(5) != 0 {
		s.Group = groupNames[r.IntN(len(groupNames))]
	}
	return s
}

// dayBetween draws a day in [a, b).
func (g *generator) dayBetween(a, b Day) Day {
	if b <= a {
		return a
	}
	return a + Day(g.rng.IntN(int(b-a)))
}

func (g *generator) hexID(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[g.rng.IntN(16)]
	}
	return string(b)
}

func (g *generator) generate(sims int) {
	m := g.m
	// Most SIMs were in service from the start; the rest joined later, and
	// some left.
	for i := range sims {
		s := g.sim(i)
		s.Activated = m.start
		if g.rng.IntN(10) < 3 {
			s.Activated = g.dayBetween(m.start, g.today)
		}
		if g.rng.IntN(100) < 8 && s.Activated+1 < g.today {
			s.Terminated = g.dayBetween(s.Activated+1, g.today)
		}
		m.sims = append(m.sims, s)
	}
	// Inventory devices come and go throughout; the VPG only arrives part
	// way through the history, so early months' CSVs have no vpgId column.
	for range max(1, sims/100) {
		m.devices = append(m.devices, Device{ID: "d-" + g.hexID(20), Created: g.dayBetween(m.start, g.today)})
	}
	span := g.today - m.start
	vpgFrom := m.start + span*2/5
	m.vpgs = append(m.vpgs, VPG{
		ID:      fmt.Sprintf("%s-%s-4%s-a%s-%s", g.hexID(8), g.hexID(4), g.hexID(3), g.hexID(3), g.hexID(12)),
		Created: g.dayBetween(vpgFrom, vpgFrom+max(1, span/5)),
	})
	first := m.start.Month()
	for i, amount := range m.tariff.coupons {
		m.coupons = append(m.coupons, Coupon{
			Code:       fmt.Sprintf("CP%s", strings.ToUpper(g.hexID(10))),
			Amount:     amount,
			Registered: first + Month(i),
			Expiry:     first + Month(i) + 11,
		})
	}
}
