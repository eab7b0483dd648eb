package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Provider is this source's value of every provider column.
const Provider = "hyperstack"

// fetched is one response with what it was fetched for.
type fetched struct {
	ep       *Endpoint
	id       string       // the resource id in the path, if any
	window   store.Window // zero for point-in-time endpoints
	observed time.Time    // when it was fetched
	current  bool         // the window reaches now, so statuses are current
	body     []byte
}

// write is rows for one table, with the window they are authoritative for.
type write struct {
	table *store.Table
	rows  [][]any
	scope *store.Scope
}

// listEntry is one resource a list names, with a fingerprint of what the
// list says about it: when that is unchanged, so is the resource.
type listEntry struct {
	id          string
	fingerprint string
}

// decoded is what a decoder makes of a response.
type decoded struct {
	writes  []write
	entries []listEntry // lists only
	total   int         // lists: the count the API reports
	pages   int         // lists: the page count the API reports
}

func month(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

func resourceRow(family, id string, name, status, contractID, baseModel, lora, created, terminated any, attrs map[string]any) []any {
	return []any{Provider, family, id, name, status, contractID, baseModel, lora, created, terminated, attrs}
}

// open parses a response and finds its payload, with a reader for it.
func open(f *fetched) (any, *reader, error) {
	root, err := parseBody(f.body)
	if err != nil {
		return nil, nil, err
	}
	p, err := payload(root, f.ep.Keys...)
	if err != nil {
		return nil, nil, err
	}
	return p, &reader{}, nil
}

// decodeList reads one page of a history list.
func decodeList(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	o := r.obj(p, "payload")
	items := r.arr(o.get("billing_history"), "payload.billing_history")
	var out decoded
	out.total, _ = r.integer(o, "payload", "total_count", false)
	if pg, ok := o.get("pagination").(jsonObj); ok {
		out.pages, _ = r.integer(pg, "payload.pagination", "pages", false)
		if t, ok := r.integer(pg, "payload.pagination", "total_count", false); ok {
			out.total = t // the outer count may count the page only
		}
	}
	family := f.ep.Family
	var resources, costs [][]any
	for i, item := range items {
		path := fmt.Sprintf("payload.billing_history[%d]", i)
		it := r.obj(item, path)
		a := r.obj(it.get("attributes"), path+".attributes")
		m := r.obj(it.get("metrics"), path+".metrics")
		id := r.id(a, path+".attributes", "infrahub_id", true)
		if r.err != nil {
			return decoded{}, r.err
		}
		var status any
		if f.current {
			status = r.str(a, path+".attributes", "status", false)
		}
		attrs := map[string]any{}
		if uuid := r.str(a, path+".attributes", "id", false); uuid != nil {
			attrs["uuid"] = uuid
		}
		var created, terminated any
		if family == "contract" {
			attrs["description"] = r.str(a, path+".attributes", "description", false)
			attrs["gpu_type"] = r.str(a, path+".attributes", "gpu_type", false)
			created = r.timestamp(a, path+".attributes", "start_date", false)
			terminated = r.timestamp(a, path+".attributes", "end_date", false)
			costs = append(costs, monthCostRow(f, r, family, id.(string), r.str(a, path+".attributes", "status", false), m, path+".metrics"))
		}
		if d := r.str(a, path+".attributes", "base_model_display_name", false); d != nil {
			attrs["base_model_display_name"] = d
		}
		resources = append(resources, resourceRow(family, id.(string),
			r.str(a, path+".attributes", "resource_name", false), status,
			r.id(a, path+".attributes", "contract_id", false),
			r.str(a, path+".attributes", "base_model", false), r.str(a, path+".attributes", "lora_adapter", false),
			created, terminated, attrs))
		out.entries = append(out.entries, listEntry{id: id.(string), fingerprint: fingerprint(it)})
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	out.writes = append(out.writes, write{table: store.Resources, rows: resources})
	if len(costs) > 0 {
		out.writes = append(out.writes, write{table: store.ResourceMonthCosts, rows: costs})
	}
	return out, nil
}

// fingerprint hashes a list item canonically (encoding/json sorts map keys).
func fingerprint(v any) string {
	b, _ := json.Marshal(plain(v))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// monthCostRow is one row of billing.resource_month_costs from a metrics object.
func monthCostRow(f *fetched, r *reader, family, id string, status any, m jsonObj, path string) []any {
	return []any{Provider, family, id, month(f.window.Start), status,
		r.num(m, path, "incurred_bill", true), r.num(m, path, "non_discounted_bill", false),
		r.num(m, path, "price_per_hour", false), r.num(m, path, "non_discounted_price_per_hour", false),
		r.num(m, path, "usage_time", false), r.num(m, path, "usage_time_ACTIVE", false),
		r.num(m, path, "usage_time_SHUTOFF", false), r.num(m, path, "usage_time_HIBERNATED", false),
		r.num(m, path, "input_tokens", false), r.num(m, path, "output_tokens", false),
		r.num(m, path, "input_tokens_incurred_bill", false), r.num(m, path, "output_tokens_incurred_bill", false),
		r.num(m, path, "input_tokens_non_discounted_bill", false), r.num(m, path, "output_tokens_non_discounted_bill", false),
	}
}

// item returns the one resource of a per-resource payload: the first of its
// billing_history, or (buckets, clusters) the payload itself. nil when the
// window holds no data for it.
func item(r *reader, p any) (jsonObj, string) {
	o := r.obj(p, "payload")
	if hist, ok := o.lookup("billing_history"); ok {
		items := r.arr(hist, "payload.billing_history")
		if len(items) == 0 {
			return nil, ""
		}
		return r.obj(items[0], "payload.billing_history[0]"), "payload.billing_history[0]"
	}
	return o, "payload"
}

// decodeDetail reads GET /billing/billing/history/{family}/{id}.
func decodeDetail(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	it, path := item(r, p)
	if it == nil {
		return decoded{}, r.err
	}
	a := r.obj(it.get("attributes"), path+".attributes")
	m := r.obj(it.get("metrics"), path+".metrics")
	status := r.str(a, path+".attributes", "status", false)
	attrs := map[string]any{}
	for _, k := range []string{"subresource_type", "base_model_display_name"} {
		if v := r.str(a, path+".attributes", k, false); v != nil {
			attrs[k] = v
		}
	}
	if v := r.num(a, path+".attributes", "subresource_amount", false); v != nil {
		attrs["subresource_amount"] = v
	}
	var current any
	if f.current {
		current = status
	}
	out := decoded{writes: []write{
		{table: store.Resources, rows: [][]any{resourceRow(f.ep.Family, f.id,
			r.str(a, path+".attributes", "resource_name", false), current, r.id(a, path+".attributes", "contract_id", false),
			r.str(a, path+".attributes", "base_model", false), r.str(a, path+".attributes", "lora_adapter", false),
			nil, nil, attrs)}},
		{table: store.ResourceMonthCosts, rows: [][]any{monthCostRow(f, r, f.ep.Family, f.id, status, m, path+".metrics")}},
	}}
	if nodes, ok := it.lookup("nodes"); ok {
		var rows [][]any
		for i, n := range r.arr(nodes, path+".nodes") {
			np := fmt.Sprintf("%s.nodes[%d]", path, i)
			no := r.obj(n, np)
			na := r.obj(no.get("attributes"), np+".attributes")
			nm := r.obj(no.get("metrics"), np+".metrics")
			rows = append(rows, []any{Provider, f.id, r.id(na, np+".attributes", "infrahub_id", true), month(f.window.Start),
				r.str(na, np+".attributes", "resource_name", false), r.num(nm, np+".metrics", "incurred_bill", true),
				r.num(nm, np+".metrics", "price_per_hour", false), r.num(nm, np+".metrics", "usage_time", false)})
		}
		out.writes = append(out.writes, write{table: store.ClusterNodeCosts, rows: rows,
			scope: &store.Scope{Equal: map[string]any{"provider": Provider, "cluster_id": f.id, "billing_month": month(f.window.Start)}}})
	}
	return out, r.err
}

// point is one datapoint of a graph series.
type point struct {
	at    time.Time
	value any // a decimal.Decimal
}

// points reads a graph series in the order the response gives it. A graph
// has thousands of points, so a point's path is spelled out only for the
// error of one that is broken.
func points(r *reader, v any, path string) []point {
	items := r.arr(v, path)
	out := make([]point, 0, len(items))
	var pr reader
	for i, item := range items {
		o, _ := item.(jsonObj)
		t := pr.timestamp(o, "", "datetime", true)
		val := pr.num(o, "", "value", true)
		if pr.err != nil {
			// Read it again with its path, for the error.
			pp := fmt.Sprintf("%s[%d]", path, i)
			o := r.obj(item, pp)
			r.timestamp(o, pp, "datetime", true)
			r.num(o, pp, "value", true)
			return nil
		}
		out = append(out, point{t.(time.Time), val})
	}
	return out
}

// graphScope is the part of a graph table a graph response is authoritative
// for: its granularity's buckets that start inside the window.
func graphScope(equal map[string]any, seconds int, w store.Window) *store.Scope {
	equal["bucket_seconds"] = seconds
	return &store.Scope{Equal: equal, RangeColumn: "bucket_start", From: w.Start, To: w.End}
}

func granularity(r *reader, o jsonObj, path string) int {
	n, ok := r.integer(o, path, "granularity", true)
	if ok && n <= 0 {
		r.fail(path+".granularity", "want a positive number of seconds, got %d", n)
	}
	return n
}

// graphSeries are the series of a resource's graph, in their columns' order.
var graphSeries = []string{"incurred_bill", "input_tokens", "output_tokens", "total_tokens"}

// decodeGraph reads GET /billing/billing/history/{family}/{id}/graph.
func decodeGraph(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	seconds := granularity(r, r.obj(p, "payload"), "payload")
	it, path := item(r, p)
	var rows [][]any
	if it != nil {
		m := r.obj(it.get("metrics"), path+".metrics")
		// One row per bucket, with a column per series. Boxed once, not per row.
		family, id, secs := any(f.ep.Family), any(f.id), any(seconds)
		var at map[time.Time][]any // a bucket's row, once a second series is read
		for i, k := range graphSeries {
			v, ok := m.lookup(k + "_graph")
			if !ok {
				continue
			}
			if at == nil && len(rows) > 0 {
				at = make(map[time.Time][]any, len(rows))
				for _, row := range rows {
					at[row[4].(time.Time)] = row
				}
			}
			for _, pt := range points(r, v, path+".metrics."+k+"_graph") {
				row := at[pt.at]
				if row == nil {
					row = []any{Provider, family, id, secs, pt.at, nil, nil, nil, nil}
					rows = append(rows, row)
					if at != nil {
						at[pt.at] = row
					}
				}
				row[5+i] = pt.value
			}
		}
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	return decoded{writes: []write{{table: store.CostDatapoints, rows: rows,
		scope: graphScope(map[string]any{"provider": Provider, "family": f.ep.Family, "resource_id": f.id}, seconds, f.window)}}}, nil
}

// decodeEvents reads a VM's or volume's billing events.
func decodeEvents(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	var rows [][]any
	for i, e := range r.arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.obj(e, path)
		rows = append(rows, []any{Provider, f.ep.Family, f.id, r.timestamp(o, path, "start", true), r.str(o, path, "event", true),
			r.num(o, path, "event_duration", false), r.num(o, path, "price_per_hour", false), r.num(o, path, "total_cost", true)})
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	return decoded{writes: []write{{table: store.BillingEvents, rows: rows, scope: &store.Scope{
		Equal:       map[string]any{"provider": Provider, "family": f.ep.Family, "resource_id": f.id},
		RangeColumn: "event_start", From: f.window.Start, To: f.window.End,
	}}}}, nil
}

var subresources = []string{"gpu", "cpu", "ram", "disk", "ephemeral", "publicip"}

// decodeSubResources reads a VM's sub-resource costs, with or without graphs.
func decodeSubResources(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	graph := f.ep.Kind == KindSubResourceGraph
	seconds := 0
	if graph {
		seconds = granularity(r, r.obj(p, "payload"), "payload")
	}
	it, path := item(r, p)
	var rows [][]any
	if it != nil {
		m := r.obj(it.get("metrics"), path+".metrics")
		id, secs := any(f.id), any(seconds) // boxed once, not per row
		for _, k := range subresources {
			if graph {
				v, ok := m.lookup(k + "_incurred_bill_graph")
				if !ok {
					continue
				}
				sub := any(k)
				for _, pt := range points(r, v, path+".metrics."+k+"_incurred_bill_graph") {
					rows = append(rows, []any{Provider, id, sub, secs, pt.at, pt.value})
				}
				continue
			}
			if inc := r.num(m, path+".metrics", k+"_incurred_bill", false); inc != nil {
				rows = append(rows, []any{Provider, f.id, month(f.window.Start), k, inc, r.num(m, path+".metrics", k+"_non_discounted_bill", false)})
			}
		}
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	if graph {
		return decoded{writes: []write{{table: store.VMSubresourceDatapoints, rows: rows,
			scope: graphScope(map[string]any{"provider": Provider, "vm_id": f.id}, seconds, f.window)}}}, nil
	}
	return decoded{writes: []write{{table: store.VMSubresourceCosts, rows: rows,
		scope: &store.Scope{Equal: map[string]any{"provider": Provider, "vm_id": f.id, "billing_month": month(f.window.Start)}}}}}, nil
}

var orgMeasures = []string{"incurred_bill", "non_discounted_bill", "vm_cost", "volume_cost", "contract_cost",
	"snapshot_cost", "bucket_cost", "ais_token_cost", "ais_workload_cost"}

// decodeOrg reads the organisation's history for a month, with or without its graph.
func decodeOrg(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	graph := f.ep.Kind == KindOrgGraph
	seconds := 0
	if graph {
		seconds = granularity(r, r.obj(p, "payload"), "payload")
	}
	it, path := item(r, p)
	var out decoded
	if it != nil {
		m := r.obj(it.get("metrics"), path+".metrics")
		if graph {
			var rows [][]any
			for _, pt := range points(r, m.get("incurred_bill_graph"), path+".metrics.incurred_bill_graph") {
				rows = append(rows, []any{Provider, seconds, pt.at, pt.value})
			}
			out.writes = append(out.writes, write{table: store.OrgCostDatapoints, rows: rows,
				scope: graphScope(map[string]any{"provider": Provider}, seconds, f.window)})
		} else {
			row := []any{Provider, month(f.window.Start)}
			for i, k := range orgMeasures {
				row = append(row, r.num(m, path+".metrics", k, i == 0))
			}
			out.writes = append(out.writes, write{table: store.OrgMonthCosts, rows: [][]any{row}})
		}
	}
	return out, r.err
}

// decodeUsage reads the usage snapshot of running or deleted VMs and volumes.
func decodeUsage(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	day := f.observed.UTC().Truncate(24 * time.Hour)
	var snaps, resources [][]any
	families := map[string]string{"vm": "virtual-machine", "volume": "volume"}
	for i, e := range r.arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.obj(e, path)
		id := r.id(o, path, "resource_id", true)
		kind, _ := r.str(o, path, "resource_type", true).(string)
		name := r.str(o, path, "name", false)
		created, terminated := r.timestamp(o, path, "create_time", false), r.timestamp(o, path, "terminate_time", false)
		snaps = append(snaps, []any{Provider, day, kind, id, name, r.boolean(o, path, "active"), r.num(o, path, "bill_per_minute", false),
			created, terminated, r.num(o, path, "total_up_time", false), r.num(o, path, "total_bill", false), r.boolean(o, path, "exclude_billing")})
		if fam, ok := families[kind]; ok && id != nil {
			resources = append(resources, resourceRow(fam, id.(string), name, nil, nil, nil, nil, created, terminated, map[string]any{}))
		}
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	active := f.ep.Query.Get("deleted") != "true"
	return decoded{writes: []write{
		{table: store.UsageSnapshots, rows: snaps, scope: &store.Scope{Equal: map[string]any{"provider": Provider, "observed_on": day, "active": active}}},
		{table: store.Resources, rows: resources},
	}}, nil
}

// decodeLastDay reads yesterday's cost.
func decodeLastDay(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	o := r.obj(p, "payload")
	day := f.observed.UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	row := []any{Provider, day, r.num(o, "payload", "instances_cost", false), r.num(o, "payload", "volumes_cost", false),
		r.num(o, "payload", "clusters_cost", false), r.num(o, "payload", "total_cost", true)}
	return decoded{writes: []write{{table: store.LastDayCosts, rows: [][]any{row}}}}, r.err
}

// decodeCredit reads the credit balance.
func decodeCredit(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	o := r.obj(p, "payload")
	row := []any{Provider, f.observed.UTC().Truncate(time.Hour), r.num(o, "payload", "credit", true),
		r.num(o, "payload", "threshold", false), r.boolean(o, "payload", "can_create_instance")}
	return decoded{writes: []write{{table: store.CreditObservations, rows: [][]any{row}}}}, r.err
}

// decodeThresholds reads the notification thresholds.
func decodeThresholds(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return decoded{}, err
	}
	day := f.observed.UTC().Truncate(24 * time.Hour)
	var rows [][]any
	for i, e := range r.arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.obj(e, path)
		rows = append(rows, []any{Provider, day, r.id(o, path, "id", true), r.num(o, path, "threshold", false),
			r.str(o, path, "interface_title", false), r.str(o, path, "interface_tooltip", false), r.boolean(o, path, "subscribed")})
	}
	if r.err != nil {
		return decoded{}, r.err
	}
	return decoded{writes: []write{{table: store.ThresholdObservations, rows: rows,
		scope: &store.Scope{Equal: map[string]any{"provider": Provider, "observed_on": day}}}}}, nil
}
