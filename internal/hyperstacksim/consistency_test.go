package hyperstacksim

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// consistencyWindows are windows of every shape: hourly and daily buckets,
// partial hours, a closed month, one reaching into the future.
func consistencyWindows(now time.Time) map[string]Window {
	month := MonthStart(now)
	return map[string]Window{
		"current cycle":     {month, now},
		"previous month":    {month.AddDate(0, -1, 0), month},
		"two days, ragged":  {now.Add(-47*time.Hour - 13*time.Minute), now.Add(-2 * time.Minute)},
		"three months":      {month.AddDate(0, -2, 0), now},
		"into the future":   {now.Add(-6 * time.Hour), now.Add(6 * time.Hour)},
		"one hour":          {now.Add(-3 * time.Hour).Truncate(time.Hour), now.Add(-2 * time.Hour).Truncate(time.Hour)},
		"before the oldest": {month.AddDate(-1, 0, 0), month.AddDate(-1, 0, 7)},
	}
}

// listed returns every resource a list endpoint shows for a window, by id,
// with its incurred bill.
func listed(t *testing.T, base string, f Family, w Window) map[int64]Nano {
	t.Helper()
	out := map[int64]Nano{}
	for page := 1; ; page++ {
		body := getJSON(t, fmt.Sprintf("%s/v1/billing/billing/history/%s?%s&per_page=100&page=%d", base, f, q(w), page))
		payload := at(t, body, shapes[f].listKey)
		for _, item := range at(t, payload, "billing_history").([]any) {
			out[integer(t, at(t, item, "attributes", "infrahub_id"))] = money(t, at(t, item, "metrics", "incurred_bill"))
		}
		if f == FamilyContract || page >= int(integer(t, at(t, payload, "pagination", "pages"))) {
			return out
		}
	}
}

func sumGraph(t *testing.T, points any) (Nano, map[string]Nano) {
	t.Helper()
	var total Nano
	by := map[string]Nano{}
	for _, p := range points.([]any) {
		v := money(t, at(t, p, "value"))
		total += v
		by[at(t, p, "datetime").(string)] += v
	}
	return total, by
}

// TestConsistency checks, for several windows, that the endpoints agree:
// a resource's summary equals the sum of its graph buckets and of its list
// entry; the organisation's total is the sum over resources and over its
// own graph; a VM's sub-resources add up to the VM in total and per bucket;
// billing events tile the time the resource existed and add up to its bill.
func TestConsistency(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{ModelConfig: ModelConfig{Counts: Scales["small"]}})
	now := sim.Model.Now()

	for name, w := range consistencyWindows(now) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var orgTotal Nano
			for _, f := range Families {
				for id, fromList := range listed(t, base, f, w) {
					want, err := sim.Model.CostIn(f, id, w)
					if err != nil {
						t.Fatal(err)
					}
					if fromList != want.Incurred {
						t.Errorf("%s %d: list says %s, model %s", f, id, fromList, want.Incurred)
					}
					orgTotal += fromList
					if f == FamilyContract {
						continue
					}
					checkResource(t, base, f, id, w, fromList)
				}
			}

			org := getJSON(t, base+"/v1/billing/billing/history?graph=true&"+q(w))
			metrics := at(t, org, "billing_history", "billing_history", 0, "metrics")
			if got := money(t, at(t, metrics, "incurred_bill")); got != orgTotal {
				t.Errorf("organisation total %s, sum over resources %s", got, orgTotal)
			}
			var split Nano
			for _, k := range []string{"vm_cost", "volume_cost", "contract_cost", "snapshot_cost", "bucket_cost", "ais_token_cost", "ais_workload_cost"} {
				split += money(t, at(t, metrics, k))
			}
			if split != orgTotal {
				t.Errorf("organisation cost split adds up to %s, total %s", split, orgTotal)
			}
			if got, _ := sumGraph(t, at(t, metrics, "incurred_bill_graph")); got != orgTotal {
				t.Errorf("organisation graph adds up to %s, total %s", got, orgTotal)
			}
		})
	}
}

// checkResource compares one resource's detail, graph and, for VMs and
// volumes, sub-resources and billing events with its list entry.
func checkResource(t *testing.T, base string, f Family, id int64, w Window, want Nano) {
	t.Helper()
	one := fmt.Sprintf("%s/v1/billing/billing/history/%s/%d?%s", base, f, id, q(w))
	detail := getJSON(t, one)
	var fromDetail Nano
	switch f {
	case FamilyBucket, FamilyCluster:
		fromDetail = money(t, at(t, detail, shapes[f].detailKey, "metrics", "incurred_bill"))
	default:
		fromDetail = money(t, at(t, detail, shapes[f].detailKey, "billing_history", 0, "metrics", "incurred_bill"))
	}
	if fromDetail != want {
		t.Errorf("%s %d: detail %s, list %s", f, id, fromDetail, want)
	}
	if f == FamilyCluster {
		var nodes Nano
		for _, n := range at(t, detail, shapes[f].detailKey, "nodes").([]any) {
			nodes += money(t, at(t, n, "metrics", "incurred_bill"))
		}
		if nodes != want {
			t.Errorf("cluster %d: nodes add up to %s, cluster %s", id, nodes, want)
		}
	}

	graph := getJSON(t, fmt.Sprintf("%s/v1/billing/billing/history/%s/%d/graph?%s", base, f, id, q(w)))
	if k := shapes[f].graphKey; k != "" {
		graph = at(t, graph, k).(map[string]any)
	}
	gm := at(t, graph, "billing_history", 0, "metrics")
	if f != FamilyImageGen { // its graph has token counts only, as the live API's
		total, _ := sumGraph(t, at(t, gm, "incurred_bill_graph"))
		if total != want || money(t, at(t, gm, "incurred_bill")) != want {
			t.Errorf("%s %d: graph adds up to %s (says %s), detail %s", f, id, total, at(t, gm, "incurred_bill"), want)
		}
	}
	gran := integer(t, at(t, graph, "granularity"))
	if want := int64(w.Granularity() / time.Second); gran != want {
		t.Errorf("%s %d: granularity %d, want %d", f, id, gran, want)
	}

	switch f {
	case FamilyVM:
		sub := getJSON(t, fmt.Sprintf("%s/v1/billing/billing/virtual-machine/%d/sub-resource/graph?%s", base, id, q(w)))
		sm := at(t, sub, "sub_resources_costs", "billing_history", 0, "metrics")
		_, vmBuckets := sumGraph(t, at(t, gm, "incurred_bill_graph"))
		var parts Nano
		partBuckets := map[string]Nano{}
		for _, k := range SubResourceKinds {
			parts += money(t, at(t, sm, k+"_incurred_bill"))
			_, by := sumGraph(t, at(t, sm, k+"_incurred_bill_graph"))
			for dt, v := range by {
				partBuckets[dt] += v
			}
		}
		if parts != want {
			t.Errorf("VM %d: sub-resources add up to %s, VM %s", id, parts, want)
		}
		for dt, v := range vmBuckets {
			if partBuckets[dt] != v {
				t.Errorf("VM %d at %s: sub-resources %s, VM %s", id, dt, partBuckets[dt], v)
			}
		}
		checkEvents(t, base, "virtual-machine", id, w, want)
	case FamilyVolume:
		checkEvents(t, base, "volume", id, w, want)
	}
}

// checkEvents checks that billing events tile the part of the window the
// resource existed in, in order and without gaps, and add up to its bill.
func checkEvents(t *testing.T, base, path string, id int64, w Window, want Nano) {
	t.Helper()
	body := getJSON(t, fmt.Sprintf("%s/v1/billing/billing/%s/%d/billing-events?%s", base, path, id, q(w)))
	events := at(t, body, "billing_events_history").([]any)
	var total Nano
	var next time.Time
	for i, e := range events {
		start, err := time.Parse(time.RFC3339, at(t, e, "start").(string))
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && !start.Equal(next) {
			t.Errorf("%s %d: event %d starts at %s, the previous one ended at %s", path, id, i, start, next)
		}
		dur, err := at(t, e, "event_duration").(interface{ Float64() (float64, error) }).Float64()
		if err != nil {
			t.Fatal(err)
		}
		next = start.Add(time.Duration(dur * float64(time.Hour))).Round(time.Minute)
		total += money(t, at(t, e, "total_cost"))
	}
	if total != want {
		t.Errorf("%s %d: events add up to %s, bill %s", path, id, total, want)
	}
}

// TestOrgConsistency checks the organisation-level endpoints against each
// other: the credit is the initial credit minus everything spent; usage
// totals are the lifetime costs; the last day's cost matches the history.
func TestOrgConsistency(t *testing.T) {
	t.Parallel()
	sim, base := newTestSim(t, Config{})
	now := sim.Model.Now()
	ever := Window{Start: sim.Model.Start().AddDate(-1, 0, 0), End: now}

	history := getJSON(t, base+"/v1/billing/billing/history?"+q(ever))
	spent := money(t, at(t, history, "billing_history", "billing_history", 0, "metrics", "incurred_bill"))
	credit := money(t, at(t, getJSON(t, base+"/v1/billing/user-credit/credit"), "data", "credit"))
	if spent <= 0 || credit != sim.Model.InitialCredit()-spent {
		t.Errorf("credit %s, initial %s, spent %s", credit, sim.Model.InitialCredit(), spent)
	}

	// Usage: every VM and volume, running or deleted, with its lifetime bill.
	lifetime := map[string]Nano{}
	for _, deleted := range []string{"false", "true"} {
		for _, row := range at(t, getJSON(t, base+"/v1/billing/billing/usage?deleted="+deleted), "data").([]any) {
			kind := at(t, row, "resource_type").(string)
			lifetime[kind] += money(t, at(t, row, "total_bill"))
			_, hasRate := row.(map[string]any)["bill_per_minute"]
			if active := at(t, row, "active").(bool); active != (deleted == "false") || active != hasRate {
				t.Errorf("usage row %v: active/deleted/bill_per_minute disagree", row)
			}
		}
	}
	costs := sim.Model.FamilyCosts(ever)
	if lifetime["vm"] != costs[FamilyVM] || lifetime["volume"] != costs[FamilyVolume] {
		t.Errorf("usage totals vm %s volume %s, history vm %s volume %s", lifetime["vm"], lifetime["volume"], costs[FamilyVM], costs[FamilyVolume])
	}

	day := LastDay(now)
	last := at(t, getJSON(t, base+"/v1/billing/billing/last-day-cost"), "data")
	dayHistory := getJSON(t, base+"/v1/billing/billing/history?"+q(day))
	dm := at(t, dayHistory, "billing_history", "billing_history", 0, "metrics")
	if money(t, at(t, last, "total_cost")) != money(t, at(t, dm, "incurred_bill")) {
		t.Errorf("last-day total %s, history for %s %s", at(t, last, "total_cost"), day.Start, at(t, dm, "incurred_bill"))
	}
	dayCosts := sim.Model.FamilyCosts(day)
	for key, f := range map[string]Family{"instances_cost": FamilyVM, "volumes_cost": FamilyVolume, "clusters_cost": FamilyCluster} {
		if got := money(t, at(t, last, key)); got != dayCosts[f] {
			t.Errorf("last-day %s %s, model %s", key, got, dayCosts[f])
		}
	}
}

// TestDeterministic checks that a seed always gives the same organisation
// and the same answers, and another seed another one.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	_, a := newTestSim(t, Config{})
	_, b := newTestSim(t, Config{})
	_, c := newTestSim(t, Config{ModelConfig: ModelConfig{Seed: 7}})
	w := q(Window{Start: MonthStart(testNow).AddDate(0, -2, 0), End: testNow})
	for _, path := range []string{
		"/v1/billing/billing/history?graph=true&" + w,
		"/v1/billing/billing/history/virtual-machine?per_page=100&" + w,
		"/v1/billing/billing/history/serverless_inference?" + w,
		"/v1/billing/billing/usage?deleted=true",
		"/v1/billing/user-credit/credit",
	} {
		_, x := get(t, a+path)
		_, y := get(t, b+path)
		_, z := get(t, c+path)
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two simulators with the same seed", path)
		}
		if bytes.Equal(x, z) {
			t.Errorf("%s is the same for seeds 42 and 7", path)
		}
	}
}
