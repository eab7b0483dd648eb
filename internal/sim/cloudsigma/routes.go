package cloudsigma

import (
	"embed"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/sim"
)

//go:embed schemas/*.json
var schemaFS embed.FS

// endpoint is one resource of the API: its list handler and the file of
// its schema (GET /{name}/schema/).
type endpoint struct {
	name    string
	handler func(*Sim, *sim.Request) (any, error)
	schema  string
}

// endpoints is the API's catalogue; the contract test walks it.
var endpoints = []endpoint{
	{"balance", (*Sim).balance, "response_balance_schema.json"},
	{"pricing", (*Sim).pricing, "response_pricing_schema.json"},
	{"discount", (*Sim).discount, "response_discount_schema.json"},
	{"ledger", (*Sim).ledger, "response_ledger_schema.json"},
	{"usage", (*Sim).usage, "usage_schema.json"},
	{"currentusage", (*Sim).currentUsage, "response_currentusage_schema.json"},
	{"licenses", (*Sim).licenses, "response_licenses_schema.json"},
	{"subscriptions", (*Sim).subscriptions, "subscriptions_schema.json"},
	{"burstusage", (*Sim).burstUsage, "burstusage_schema.json"},
	{"dailyburstusage", (*Sim).dailyBurstUsage, "dailyburstusage_schema.json"},
	{"profile", (*Sim).profile, "profile_schema.json"},
}

// routes registers every endpoint with and without its trailing slash, as
// the live API answers both (the docs' /usage example has none).
func (s *Sim) routes() {
	for _, e := range endpoints {
		h := func(r *sim.Request) (any, error) {
			if r.Fault == FaultConflict {
				return nil, &apiError{503, "concurrency", "Concurrent request on the same resource, please retry.", ""}
			}
			return e.handler(s, r)
		}
		s.Server.Handle("GET "+Prefix+"/"+e.name+"/{$}", h)
		s.Server.Handle("GET "+Prefix+"/"+e.name, h)
		schema := func(r *sim.Request) (any, error) {
			b, err := schemaFS.ReadFile("schemas/" + e.schema)
			if err != nil {
				return nil, err
			}
			var v any
			d := json.NewDecoder(strings.NewReader(string(b)))
			d.UseNumber()
			return v, d.Decode(&v)
		}
		s.Server.Handle("GET "+Prefix+"/"+e.name+"/schema/{$}", schema)
		s.Server.Handle("GET "+Prefix+"/"+e.name+"/schema", schema)
	}
}

func num[T int | int64](n T) json.Number { return json.Number(strconv.FormatInt(int64(n), 10)) }

// apiTime writes a time as the API does: microseconds and "+00:00".
func apiTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00" }

// listBody is the {meta, objects} envelope.
func listBody(q query, total int, objects []any) map[string]any {
	return map[string]any{
		"meta":    map[string]any{"limit": num(q.limit), "offset": num(q.offset), "total_count": num(total)},
		"objects": objects,
	}
}

// shiftPage carries out the unstable-pages fault: the page starts one item
// early or late, as if an item had appeared or vanished before it.
func shiftPage(r *sim.Request, q *query) {
	if r.Fault == sim.FaultUnstablePages {
		q.offset = max(0, q.offset+[]int{1, -1}[r.Draw.Pick(1000, 2)])
	}
}

func (s *Sim) balance(r *sim.Request) (any, error) {
	if _, err := parseQuery(r.Request, 20); err != nil {
		return nil, err
	}
	return map[string]any{"balance": s.Model.Balance().String(), "credit_limit": nil, "currency": s.Model.cfg.Currency}, nil
}

// pricingObjects is the price list: every resource in every currency at
// every level, numbered in that order.
func pricingObjects() []map[string]any {
	var out []map[string]any
	for ri, res := range Resources {
		for _, c := range Currencies {
			for level := 0; level <= maxLevel; level++ {
				out = append(out, map[string]any{
					"currency": c.Code, "id": strconv.Itoa(len(out) + 1), "level": num(level),
					"multiplier": num(res.Multiplier), "price": Price(ri, c.Code, level).String(),
					"resource": res.Name, "unit": res.Unit,
				})
			}
		}
	}
	return out
}

func (s *Sim) pricing(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 0, filterNames("level", "in")...)
	if err != nil {
		return nil, err
	}
	levels, err := q.intFilters("level")
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	var objs []any
	for _, o := range pricingObjects() {
		if l, _ := o["level"].(json.Number).Int64(); levels.has(l) {
			objs = append(objs, o)
		}
	}
	lo, hi := q.window(len(objs))
	body := listBody(q, len(objs), append([]any{}, objs[lo:hi]...))
	// current applies to this cycle; next is computed now and applies to
	// the next one.
	k := CycleOf(s.Model.Now())
	cur, next := map[string]any{}, map[string]any{}
	for ri, res := range Resources {
		cur[res.Name] = num(s.Model.Level(ri, k))
		next[res.Name] = num(s.Model.Level(ri, k+1))
	}
	body["current"], body["next"] = cur, next
	return body, nil
}

func (s *Sim) discount(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 0)
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	var objs []any
	for _, p := range Periods[1:] {
		objs = append(objs, map[string]any{"period": p.Period, "value": p.Value})
	}
	lo, hi := q.window(len(objs))
	return listBody(q, len(objs), objs[lo:hi]), nil
}

func (s *Sim) licenses(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20)
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	var objs []any
	for _, l := range Licenses {
		objs = append(objs, map[string]any{
			"burstable": l.Burstable, "long_name": l.LongName, "name": l.Name,
			"resource_uri": Prefix + "/licenses/" + strconv.Itoa(l.ID) + "/", "type": l.Type, "user_metric": l.UserMetric,
		})
	}
	lo, hi := q.window(len(objs))
	return listBody(q, len(objs), objs[lo:hi]), nil
}

var ledgerFilters = append(append(filterNames("time"), filterNames("billing_cycle", "in")...), "order_by")

// ledger lists transactions, newest first unless order_by=time. Filters:
// time (exact, __gt, __gte, __lt, __lte) and billing_cycle (exact, __in,
// comparisons; commas OR). total_count is the count as of the start of
// the clock's hour: a cached count, behind by the entries since.
func (s *Sim) ledger(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20, ledgerFilters...)
	if err != nil {
		return nil, err
	}
	tr, err := q.timeFilters("time", everything, false)
	if err != nil {
		return nil, err
	}
	cycles, err := q.intFilters("billing_cycle")
	if err != nil {
		return nil, err
	}
	asc := false
	switch o := q.vals.Get("order_by"); o {
	case "", "-time":
	case "time":
		asc = true
	default:
		return nil, badParam("order_by", "cannot order by %q; allowed: time, -time", o)
	}
	shiftPage(r, &q)

	m := s.Model
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	sel := m.led.selectEntries(tr, cycles)
	cutoff := m.led.searchTime(m.nowLocked().Truncate(time.Hour).UnixMicro() + 1)
	lo, hi := q.window(sel.len())
	objs := make([]any, 0, hi-lo)
	for p := lo; p < hi; p++ {
		i := sel.at(p)
		if !asc {
			i = sel.at(sel.len() - 1 - p)
		}
		objs = append(objs, ledgerObject(m.led.export(m, i)))
	}
	return listBody(q, sel.countBelow(cutoff), objs), nil
}

func ledgerObject(e LedgerEntry) map[string]any {
	o := map[string]any{
		"amount": e.Amount.String(), "billing_cycle": nil, "end": e.End.String(), "human_interval": nil,
		"id": e.ID, "initial": e.Initial.String(), "interval": nil, "poll_time": apiTime(e.PollTime),
		"reason": e.Reason, "resource_amount": e.ResourceAmount, "time": apiTime(e.Time),
	}
	if e.Kind == "burst" {
		o["billing_cycle"], o["interval"], o["human_interval"] = num(e.BillingCycle), num(e.Interval), e.HumanInterval
	}
	return o
}

// selection is a set of chain indexes: a range, or a list when a
// billing_cycle filter picked entries out of one.
type selection struct {
	lo, hi int
	list   []int // nil: the range
}

func (s selection) len() int {
	if s.list != nil {
		return len(s.list)
	}
	return s.hi - s.lo
}

func (s selection) at(p int) int {
	if s.list != nil {
		return s.list[p]
	}
	return s.lo + p
}

// countBelow counts the selected indexes below i.
func (s selection) countBelow(i int) int {
	if s.list != nil {
		return sort.SearchInts(s.list, i)
	}
	return max(0, min(s.hi, i)-s.lo)
}

func (l *ledger) selectEntries(tr timeRange, cycles intSet) selection {
	lo, hi := l.searchTime(tr.lo), l.searchTime(tr.hi)
	if !cycles.any {
		return selection{lo: lo, hi: max(lo, hi)}
	}
	// A cycle's entries lie inside its five minutes.
	clo, chi := cycles.bounds()
	if clo > math.MinInt32 {
		lo = max(lo, l.searchTime(cycleStartUnix(clo)*1e6))
	}
	if chi < math.MaxInt32 {
		hi = min(hi, l.searchTime(cycleStartUnix(chi+1)*1e6))
	}
	sel := selection{list: []int{}}
	for i := lo; i < hi; i++ {
		if e := &l.entries[i]; e.kind == kindBurst && cycles.has(int64(e.cycle)) {
			sel.list = append(sel.list, i)
		}
	}
	return sel
}

// usage lists /usage/'s rows, oldest first as the docs' example is, within
// (poll_time_gt, poll_time_lt); without them, the whole history. Its
// total_count is always 0, as in the docs' example.
func (s *Sim) usage(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20, "poll_time_gt", "poll_time_lt", "poll_time__gt", "poll_time__lt", "poll_time__gte", "poll_time__lte")
	if err != nil {
		return nil, err
	}
	tr, err := q.timeFilters("poll_time", everything, true)
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	m := s.Model
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	gt := time.UnixMicro(max(tr.lo, m.start.UnixMicro()) - 1).UTC()
	lt := time.UnixMicro(min(tr.hi, m.nowLocked().UnixMicro()+1)).UTC()
	objs := []any{}
	skip := q.offset
	if gt.Before(lt) {
		m.usageRows(gt, lt, func(u UsageRow) bool {
			if skip > 0 {
				skip--
				return true
			}
			objs = append(objs, map[string]any{"amount": strconv.FormatInt(u.Amount, 10), "poll_time": apiTime(u.PollTime), "resource": u.Resource, "uuid": u.UUID})
			return q.limit == 0 || len(objs) < q.limit
		})
	}
	return listBody(q, 0, objs), nil
}

func (s *Sim) currentUsage(r *sim.Request) (any, error) {
	if _, err := parseQuery(r.Request, 20); err != nil {
		return nil, err
	}
	use := s.Model.CurrentUsage()
	u := map[string]any{}
	for name, x := range use {
		u[name] = map[string]any{"burst": num(x.Burst), "subscribed": num(x.Subscribed), "using": num(x.Using)}
	}
	return map[string]any{
		"balance": map[string]any{"balance": s.Model.Balance().String(), "currency": s.Model.cfg.Currency},
		"usage":   u,
	}, nil
}

// subscriptions lists every subscription bought, newest first. Filters:
// resource and status (commas OR).
func (s *Sim) subscriptions(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20, "resource", "status")
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	now := s.Model.Now()
	subs := s.Model.Subscriptions()
	var objs []any
	for i := len(subs) - 1; i >= 0; i-- {
		sub := subs[i]
		if !matchAny(q, "resource", sub.Resource) || !matchAny(q, "status", sub.Status(now)) {
			continue
		}
		objs = append(objs, map[string]any{
			"id": strconv.Itoa(sub.ID), "uuid": sub.UUID, "resource": sub.Resource, "amount": strconv.FormatInt(sub.Amount, 10),
			"price": sub.Price.String(), "start_time": apiTime(sub.Start), "end_time": apiTime(sub.End),
			"period": sub.Period, "status": sub.Status(now), "auto_renew": sub.AutoRenew, "free_tier": false,
			"discount_amount": sub.DiscountAmount.String(), "discount_percent": sub.DiscountPct,
			"resource_uri": Prefix + "/subscriptions/" + strconv.Itoa(sub.ID) + "/",
		})
	}
	lo, hi := q.window(len(objs))
	return listBody(q, len(objs), append([]any{}, objs[lo:hi]...)), nil
}

func matchAny(q query, name, v string) bool {
	vs, ok := q.vals[name]
	if !ok {
		return true
	}
	for _, want := range strings.Split(vs[len(vs)-1], ",") {
		if want == v {
			return true
		}
	}
	return false
}

// burstUsage lists the ledger's bursts, newest first, with their level and
// price; time filters as /ledger/'s.
func (s *Sim) burstUsage(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20, filterNames("time")...)
	if err != nil {
		return nil, err
	}
	tr, err := q.timeFilters("time", everything, false)
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	m := s.Model
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncLocked()
	sel := m.led.selectEntries(tr, intSet{})
	var idx []int
	for p := sel.len() - 1; p >= 0; p-- {
		if i := sel.at(p); m.led.entries[i].kind == kindBurst {
			idx = append(idx, i)
		}
	}
	lo, hi := q.window(len(idx))
	objs := make([]any, 0, hi-lo)
	for _, i := range idx[lo:hi] {
		e := m.led.export(m, i)
		objs = append(objs, map[string]any{
			"id": e.ID, "billing_cycle": num(e.BillingCycle), "resource": e.Resource, "amount": e.ResourceAmount,
			"interval": num(e.Interval), "level": num(e.Level), "price": e.Amount.String(),
			"poll_time": apiTime(e.PollTime), "time": apiTime(e.Time),
		})
	}
	return listBody(q, len(idx), objs), nil
}

// dailyBurstUsage sums the bursts per UTC day (of their poll time) and
// resource, newest day first; date filters, the last 30 days by default.
// Days are compared by their midnight, so date__gt=2026-03-01 starts on
// the 2nd and date__lte=2026-03-01 ends with the 1st.
func (s *Sim) dailyBurstUsage(r *sim.Request) (any, error) {
	q, err := parseQuery(r.Request, 20, filterNames("date")...)
	if err != nil {
		return nil, err
	}
	m := s.Model
	now := m.Now()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	def := timeRange{today.AddDate(0, 0, -30).UnixMicro(), everything.hi}
	if len(q.vals["date"])+len(q.vals["date__exact"])+len(q.vals["date__gt"])+len(q.vals["date__gte"])+len(q.vals["date__lt"])+len(q.vals["date__lte"]) > 0 {
		def = everything
	}
	tr, err := q.timeFilters("date", def, false)
	if err != nil {
		return nil, err
	}
	shiftPage(r, &q)
	type key struct {
		day string
		res string
	}
	sums := map[key]*[3]any{}
	m.mu.Lock()
	m.syncLocked()
	from := m.led.searchTime(tr.lo - 86400e6) // bursts are dated by poll time, a few minutes before their time
	to := m.led.searchTime(min(tr.hi, math.MaxInt64-86400e6) + 86400e6)
	for i := from; i < to; i++ {
		e := &m.led.entries[i]
		if e.kind != kindBurst {
			continue
		}
		poll := m.pollTime(int64(e.cycle))
		day := time.UnixMicro(poll).UTC().Truncate(24 * time.Hour)
		if day.UnixMicro() < tr.lo || day.UnixMicro() >= tr.hi {
			continue
		}
		k := key{day.Format("2006-01-02"), Resources[e.resource].Name}
		if sums[k] == nil {
			sums[k] = &[3]any{int64(0), Money{}, 0}
		}
		sums[k][0] = sums[k][0].(int64) + e.resAmount*int64(e.interval)
		sums[k][1] = sums[k][1].(Money).Add(e.amount)
		sums[k][2] = sums[k][2].(int) + 1
	}
	m.mu.Unlock()
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].day != keys[j].day {
			return keys[i].day > keys[j].day
		}
		return keys[i].res < keys[j].res
	})
	lo, hi := q.window(len(keys))
	objs := make([]any, 0, hi-lo)
	for _, k := range keys[lo:hi] {
		v := sums[k]
		objs = append(objs, map[string]any{
			"date": k.day, "resource": k.res, "amount": strconv.FormatInt(v[0].(int64), 10),
			"price": v[1].(Money).String(), "entries": num(v[2].(int)),
		})
	}
	return listBody(q, len(keys), objs), nil
}

func (s *Sim) profile(r *sim.Request) (any, error) {
	if _, err := parseQuery(r.Request, 20); err != nil {
		return nil, err
	}
	c := s.Model.cfg
	return map[string]any{
		"uuid": uuidFrom(s.Model.seed, 0x9f0), "email": c.User, "first_name": "Sim", "last_name": "Account",
		"company": "Billing Warehouse Simulations", "currency": c.Currency, "location": c.Location,
		"resource_uri": Prefix + "/profile/",
	}, nil
}
