package hyperstack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/jsontree"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// fetched is one response with what it was fetched for.
type fetched struct {
	ep       *Endpoint
	owner    store.Owner
	id       string       // the resource id in the path, if any
	window   store.Window // zero for point-in-time endpoints
	observed time.Time    // when it was fetched
	current  bool         // the window reaches now, so statuses are current
	body     []byte
	runID    *int64 // the run fetching it; nil when replayed
	replay   bool   // decoded by reprocess, not by a crawl
	quality  []store.DataQuality
}

// flag records a value that is stored as sent but cannot be right: a
// negative amount or usage. Analysts see it in reports.data_quality_v1
// instead of finding it in a sum.
func (f *fetched) flag(resource, field string, period time.Time, v *decimal.Decimal) {
	if v != nil && v.Sign() < 0 {
		f.quality = append(f.quality, store.DataQuality{Endpoint: f.ep.Name, ResourceID: resource, Field: field,
			Period: period, Value: v, Note: "negative", RunID: f.runID})
	}
}

// decode runs the endpoint's decoder and adds what it flagged.
func decode(f *fetched) (decoded, error) {
	d, err := f.ep.Decode(f)
	if err != nil {
		return decoded{}, err
	}
	if len(f.quality) > 0 {
		d.writes = append(d.writes, store.DataQualities.Writes(f.owner, nil, f.quality...))
	}
	return d, nil
}

// orEmpty turns the API's "no data" answer into an empty result.
func orEmpty(err error) (decoded, error) {
	if errors.Is(err, errNoData) {
		return decoded{}, nil
	}
	return decoded{}, err
}

// listEntry is one resource a list names, with a fingerprint of what the
// list says about it (when that is unchanged, so is the resource) and the
// month's cost the list reports for it, which its unit stores first so that
// the detail refines it and a detail that answers 404 does not lose it.
type listEntry struct {
	id          string
	fingerprint string
	cost        *store.ResourceMonthCost
}

// decoded is what a decoder makes of a response.
type decoded struct {
	writes  []store.Write
	entries []listEntry // lists only
	total   int         // lists: the count the API reports
	pages   int         // lists: the page count the API reports
	page    int         // lists: the page the API says it answered
	paged   bool        // lists: the response carries pagination
	// lifetimes are the VMs and volumes the usage endpoint names, with
	// when they ran (usage only).
	lifetimes []lifetime
}

// lifetime is when a resource the usage endpoint names existed.
type lifetime struct {
	family, id string
	life       store.Window // End zero: still running
}

func month(t time.Time) time.Time { return ingest.Month(t) }

// open parses a response and finds its payload, with a reader for it.
func open(f *fetched) (any, *jsontree.Reader, error) {
	root, err := jsontree.ParseObject(f.body)
	if err != nil {
		return nil, nil, err
	}
	p, err := payload(root, f.ep.Keys...)
	if err != nil {
		return nil, nil, err
	}
	return p, &jsontree.Reader{Nullable: documentedNull}, nil
}

// decodeList reads one page of a history list.
func decodeList(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	o := r.Obj(p, "payload")
	items := r.Arr(o.Get("billing_history"), "payload.billing_history")
	var out decoded
	out.total, _ = r.Int(o, "payload", "total_count", false)
	if pg, ok := o.Get("pagination").(jsontree.Object); ok {
		out.paged = true
		out.pages, _ = r.Int(pg, "payload.pagination", "pages", false)
		out.page, _ = r.Int(pg, "payload.pagination", "page", false)
		if t, ok := r.Int(pg, "payload.pagination", "total_count", false); ok {
			out.total = t // the outer count may count the page only
		}
	}
	family := f.ep.Family
	var resources []store.Resource
	var costs []store.ResourceMonthCost
	for i, item := range items {
		path := fmt.Sprintf("payload.billing_history[%d]", i)
		it := r.Obj(item, path)
		ap, mp := path+".attributes", path+".metrics"
		a := r.Obj(it.Get("attributes"), ap)
		m := r.Obj(it.Get("metrics"), mp)
		id := r.ID(a, ap, "infrahub_id", true)
		if r.Err != nil {
			return decoded{}, r.Err
		}
		res := store.Resource{Family: family, ResourceID: *id, Attributes: map[string]any{},
			Name: r.Str(a, ap, "resource_name", false), ContractID: r.ID(a, ap, "contract_id", false),
			BaseModel: r.Str(a, ap, "base_model", false), LoraAdapter: r.Str(a, ap, "lora_adapter", false)}
		if f.current {
			res.Status = r.Str(a, ap, "status", false)
		}
		if uuid := r.Str(a, ap, "id", false); uuid != nil {
			res.Attributes["uuid"] = *uuid
		}
		if family == "contract" {
			res.Attributes["description"] = deref(r.Str(a, ap, "description", false))
			res.Attributes["gpu_type"] = deref(r.Str(a, ap, "gpu_type", false))
			res.CreatedAt = r.Time(a, ap, "start_date", false)
			res.TerminatedAt = r.Time(a, ap, "end_date", false)
		}
		cost := monthCost(f, r, family, *id, r.Str(a, ap, "status", false), m, mp)
		if d := r.Str(a, ap, "base_model_display_name", false); d != nil {
			res.Attributes["base_model_display_name"] = *d
		}
		resources = append(resources, res)
		e := listEntry{id: *id, fingerprint: fingerprint(it)}
		// A crawl stores a resource's list cost with its unit; contracts
		// have no units, and a replay has no units either.
		if family == "contract" || f.replay {
			costs = append(costs, cost)
		} else {
			e.cost = &cost
		}
		out.entries = append(out.entries, e)
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	out.writes = append(out.writes, store.Resources.Writes(f.owner, nil, resources...))
	if len(costs) > 0 {
		out.writes = append(out.writes, store.ResourceMonthCosts.Writes(f.owner, nil, costs...))
	}
	return out, nil
}

// deref is a string attribute for a jsonb object: null when absent.
func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// fingerprint hashes a list item canonically (encoding/json sorts map keys).
func fingerprint(v any) string {
	b, _ := json.Marshal(jsontree.Plain(v))
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// monthCost is one row of billing.resource_month_costs from a metrics object.
func monthCost(f *fetched, r *jsontree.Reader, family, id string, status *string, m jsontree.Object, path string) store.ResourceMonthCost {
	c := store.ResourceMonthCost{Family: family, ResourceID: id, BillingMonth: month(f.window.Start), Status: status,
		IncurredBill: r.Num(m, path, "incurred_bill", true), NonDiscountedBill: r.Num(m, path, "non_discounted_bill", false),
		PricePerHour: r.Num(m, path, "price_per_hour", false), NonDiscountedPricePerHour: r.Num(m, path, "non_discounted_price_per_hour", false),
		UsageSeconds: r.Num(m, path, "usage_time", false), UsageActiveSeconds: r.Num(m, path, "usage_time_ACTIVE", false),
		UsageShutoffSeconds: r.Num(m, path, "usage_time_SHUTOFF", false), UsageHibernatedSeconds: r.Num(m, path, "usage_time_HIBERNATED", false),
		InputTokens: r.Num(m, path, "input_tokens", false), OutputTokens: r.Num(m, path, "output_tokens", false),
		InputTokensBill: r.Num(m, path, "input_tokens_incurred_bill", false), OutputTokensBill: r.Num(m, path, "output_tokens_incurred_bill", false),
		InputTokensNonDiscountedBill:  r.Num(m, path, "input_tokens_non_discounted_bill", false),
		OutputTokensNonDiscountedBill: r.Num(m, path, "output_tokens_non_discounted_bill", false),
		Size:                          r.Num(m, path, "size", false),
	}
	period := month(f.window.Start)
	for _, v := range []struct {
		field string
		value *decimal.Decimal
	}{{"incurred_bill", c.IncurredBill}, {"non_discounted_bill", c.NonDiscountedBill}, {"price_per_hour", c.PricePerHour},
		{"non_discounted_price_per_hour", c.NonDiscountedPricePerHour}, {"usage_time", c.UsageSeconds},
		{"usage_time_ACTIVE", c.UsageActiveSeconds}, {"usage_time_SHUTOFF", c.UsageShutoffSeconds},
		{"usage_time_HIBERNATED", c.UsageHibernatedSeconds}, {"input_tokens", c.InputTokens}, {"output_tokens", c.OutputTokens},
		{"input_tokens_incurred_bill", c.InputTokensBill}, {"output_tokens_incurred_bill", c.OutputTokensBill},
		{"input_tokens_non_discounted_bill", c.InputTokensNonDiscountedBill},
		{"output_tokens_non_discounted_bill", c.OutputTokensNonDiscountedBill}, {"size", c.Size}} {
		f.flag(id, v.field, period, v.value)
	}
	return c
}

// item returns the one resource of a per-resource payload: the first of its
// billing_history, or (buckets, clusters) the payload itself. nil when the
// window holds no data for it.
func item(r *jsontree.Reader, p any) (jsontree.Object, string) {
	o := r.Obj(p, "payload")
	if hist, ok := o.Lookup("billing_history"); ok {
		items := r.Arr(hist, "payload.billing_history")
		if len(items) == 0 {
			return nil, ""
		}
		return r.Obj(items[0], "payload.billing_history[0]"), "payload.billing_history[0]"
	}
	return o, "payload"
}

// decodeDetail reads GET /billing/billing/history/{family}/{id}.
func decodeDetail(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	it, path := item(r, p)
	if it == nil {
		return decoded{}, r.Err
	}
	ap := path + ".attributes"
	a := r.Obj(it.Get("attributes"), ap)
	m := r.Obj(it.Get("metrics"), path+".metrics")
	status := r.Str(a, ap, "status", false)
	res := store.Resource{Family: f.ep.Family, ResourceID: f.id, Attributes: map[string]any{},
		Name: r.Str(a, ap, "resource_name", false), ContractID: r.ID(a, ap, "contract_id", false),
		BaseModel: r.Str(a, ap, "base_model", false), LoraAdapter: r.Str(a, ap, "lora_adapter", false)}
	for _, k := range []string{"subresource_type", "base_model_display_name"} {
		if v := r.Str(a, ap, k, false); v != nil {
			res.Attributes[k] = *v
		}
	}
	if v := r.Num(a, ap, "subresource_amount", false); v != nil {
		res.Attributes["subresource_amount"] = *v
	}
	if f.current {
		res.Status = status
	}
	out := decoded{writes: []store.Write{
		store.Resources.Writes(f.owner, nil, res),
		store.ResourceMonthCosts.Writes(f.owner, nil, monthCost(f, r, f.ep.Family, f.id, status, m, path+".metrics")),
	}}
	if nodes, ok := it.Lookup("nodes"); ok {
		var rows []store.ClusterNodeCost
		for i, n := range r.Arr(nodes, path+".nodes") {
			np := fmt.Sprintf("%s.nodes[%d]", path, i)
			no := r.Obj(n, np)
			na := r.Obj(no.Get("attributes"), np+".attributes")
			nm := r.Obj(no.Get("metrics"), np+".metrics")
			nodeID := r.ID(na, np+".attributes", "infrahub_id", true)
			if r.Err != nil {
				return decoded{}, r.Err
			}
			row := store.ClusterNodeCost{ClusterID: f.id, NodeID: *nodeID, BillingMonth: month(f.window.Start),
				NodeName: r.Str(na, np+".attributes", "resource_name", false), IncurredBill: r.Num(nm, np+".metrics", "incurred_bill", true),
				PricePerHour: r.Num(nm, np+".metrics", "price_per_hour", false), UsageSeconds: r.Num(nm, np+".metrics", "usage_time", false)}
			f.flag(f.id, "nodes["+*nodeID+"].incurred_bill", row.BillingMonth, row.IncurredBill)
			f.flag(f.id, "nodes["+*nodeID+"].usage_time", row.BillingMonth, row.UsageSeconds)
			rows = append(rows, row)
		}
		out.writes = append(out.writes, store.ClusterNodeCosts.Writes(f.owner,
			&store.Scope{Owner: f.owner, Equal: map[string]any{"cluster_id": f.id, "billing_month": month(f.window.Start)}}, rows...))
	}
	return out, r.Err
}

// point is one datapoint of a graph series.
type point struct {
	at    time.Time
	value *decimal.Decimal
}

// points reads a graph series in the order the response gives it. A graph
// has thousands of points, so a point's path is spelled out only for the
// error of one that is broken.
func points(r *jsontree.Reader, v any, path string) []point {
	items := r.Arr(v, path)
	out := make([]point, 0, len(items))
	var pr jsontree.Reader
	for i, item := range items {
		o, _ := item.(jsontree.Object)
		t := pr.Time(o, "", "datetime", true)
		val := pr.Num(o, "", "value", true)
		if pr.Err != nil {
			// Read it again with its path, for the error.
			pp := fmt.Sprintf("%s[%d]", path, i)
			o := r.Obj(item, pp)
			r.Time(o, pp, "datetime", true)
			r.Num(o, pp, "value", true)
			return nil
		}
		out = append(out, point{*t, val})
	}
	return out
}

// graphScope is the part of a graph table a graph response is authoritative
// for: its granularity's buckets that start inside the window.
func graphScope(owner store.Owner, equal map[string]any, seconds int, w store.Window) *store.Scope {
	equal["bucket_seconds"] = seconds
	return &store.Scope{Owner: owner, Equal: equal, RangeColumn: "bucket_start", From: w.Start, To: w.End}
}

// granularity is a graph's bucket size in seconds, 0 when the response
// leaves it out (neither spec declares it on the organisation's history).
func granularity(r *jsontree.Reader, o jsontree.Object, path string) int {
	n, ok := r.Int(o, path, "granularity", false)
	if ok && n <= 0 {
		r.Fail(path+".granularity", "want a positive number of seconds, got %d", n)
	}
	return n
}

// Bucket sizes of the API's window rule: hourly up to three days, daily beyond.
const (
	hourly = 3600
	daily  = 86400
)

// deriveGranularity is the bucket size of a graph that did not state it:
// the window rule's, unless the datapoints' own spacing contradicts it.
// What it chose, and from what, is recorded as a data-quality note.
func (f *fetched) deriveGranularity(resource string, times []time.Time) int {
	seconds, how := daily, "granularity absent: derived from the window rule (hourly up to three days, daily beyond)"
	if f.window.End.Sub(f.window.Start) <= 72*time.Hour {
		seconds = hourly
	}
	step := 0
	for i := 1; i < len(times); i++ {
		if d := int(times[i].Sub(times[i-1]).Abs() / time.Second); d > 0 && (step == 0 || d < step) {
			step = d
		}
	}
	if step > 0 && step != seconds && (step < seconds || step%seconds != 0) {
		seconds, how = step, "granularity absent: derived from the datapoints' timestamps"
	}
	v := decimal.FromInt(int64(seconds))
	f.quality = append(f.quality, store.DataQuality{Endpoint: f.ep.Name, ResourceID: resource, Field: "granularity",
		Period: month(f.window.Start), Value: &v, Note: how, RunID: f.runID})
	return seconds
}

// decodeGraph reads GET /billing/billing/history/{family}/{id}/graph.
func decodeGraph(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	seconds := granularity(r, r.Obj(p, "payload"), "payload")
	it, path := item(r, p)
	var rows []store.CostDatapoint
	if it != nil {
		m := r.Obj(it.Get("metrics"), path+".metrics")
		// One row per bucket, with a column per series.
		series := []struct {
			key string
			set func(*store.CostDatapoint, *decimal.Decimal)
		}{
			{"incurred_bill", func(d *store.CostDatapoint, v *decimal.Decimal) { d.IncurredBill = v }},
			{"input_tokens", func(d *store.CostDatapoint, v *decimal.Decimal) { d.InputTokens = v }},
			{"output_tokens", func(d *store.CostDatapoint, v *decimal.Decimal) { d.OutputTokens = v }},
			{"total_tokens", func(d *store.CostDatapoint, v *decimal.Decimal) { d.TotalTokens = v }},
		}
		var at map[time.Time]int // a bucket's row, once a second series is read
		for _, s := range series {
			v, ok := m.Lookup(s.key + "_graph")
			if !ok {
				continue
			}
			if at == nil && len(rows) > 0 {
				at = make(map[time.Time]int, len(rows))
				for i, row := range rows {
					at[row.BucketStart] = i
				}
			}
			for _, pt := range points(r, v, path+".metrics."+s.key+"_graph") {
				i, seen := at[pt.at]
				if !seen {
					i = len(rows)
					rows = append(rows, store.CostDatapoint{Family: f.ep.Family, ResourceID: f.id, BucketSeconds: seconds, BucketStart: pt.at})
					if at != nil {
						at[pt.at] = i
					}
				}
				s.set(&rows[i], pt.value)
				if pt.value.Sign() < 0 {
					f.flag(f.id, s.key+"_graph", pt.at, pt.value)
				}
			}
		}
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	if seconds == 0 {
		times := make([]time.Time, len(rows))
		for i := range rows {
			times[i] = rows[i].BucketStart
		}
		seconds = f.deriveGranularity(f.id, times)
		for i := range rows {
			rows[i].BucketSeconds = seconds
		}
	}
	return decoded{writes: []store.Write{store.CostDatapoints.Writes(f.owner,
		graphScope(f.owner, map[string]any{"family": f.ep.Family, "resource_id": f.id}, seconds, f.window), rows...)}}, nil
}

// decodeEvents reads a VM's or volume's billing events.
func decodeEvents(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	var rows []store.BillingEvent
	for i, e := range r.Arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.Obj(e, path)
		start, event := r.Time(o, path, "start", true), r.Str(o, path, "event", true)
		if r.Err != nil {
			return decoded{}, r.Err
		}
		ev := store.BillingEvent{Family: f.ep.Family, ResourceID: f.id, EventStart: *start, Event: *event,
			DurationHours: r.Num(o, path, "event_duration", false), PricePerHour: r.Num(o, path, "price_per_hour", false),
			TotalCost: r.Num(o, path, "total_cost", true)}
		f.flag(f.id, "event_duration", ev.EventStart, ev.DurationHours)
		f.flag(f.id, "total_cost", ev.EventStart, ev.TotalCost)
		rows = append(rows, ev)
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.BillingEvents.Writes(f.owner, &store.Scope{Owner: f.owner,
		Equal:       map[string]any{"family": f.ep.Family, "resource_id": f.id},
		RangeColumn: "event_start", From: f.window.Start, To: f.window.End,
	}, rows...)}}, nil
}

var subresources = []string{"gpu", "cpu", "ram", "disk", "ephemeral", "publicip"}

// decodeSubResources reads a VM's sub-resource costs, with or without graphs.
func decodeSubResources(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	graph := f.ep.Kind == KindSubResourceGraph
	seconds := 0
	if graph {
		seconds = granularity(r, r.Obj(p, "payload"), "payload")
	}
	it, path := item(r, p)
	var points_ []store.VMSubresourceDatapoint
	var costs []store.VMSubresourceCost
	if it != nil {
		m := r.Obj(it.Get("metrics"), path+".metrics")
		for _, k := range subresources {
			if graph {
				v, ok := m.Lookup(k + "_incurred_bill_graph")
				if !ok {
					continue
				}
				for _, pt := range points(r, v, path+".metrics."+k+"_incurred_bill_graph") {
					points_ = append(points_, store.VMSubresourceDatapoint{VMID: f.id, Subresource: k, BucketSeconds: seconds,
						BucketStart: pt.at, IncurredBill: pt.value})
					if pt.value.Sign() < 0 {
						f.flag(f.id, k+"_incurred_bill_graph", pt.at, pt.value)
					}
				}
				continue
			}
			// A sub-resource's non-discounted bill can come without its
			// incurred one (the docs' example has a negative disk one).
			inc := r.Num(m, path+".metrics", k+"_incurred_bill", false)
			list := r.Num(m, path+".metrics", k+"_non_discounted_bill", false)
			if inc != nil {
				costs = append(costs, store.VMSubresourceCost{VMID: f.id, BillingMonth: month(f.window.Start), Subresource: k,
					IncurredBill: inc, NonDiscountedBill: list})
			}
			f.flag(f.id, k+"_incurred_bill", month(f.window.Start), inc)
			f.flag(f.id, k+"_non_discounted_bill", month(f.window.Start), list)
		}
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	if graph && seconds == 0 {
		times := make([]time.Time, 0, len(points_))
		for _, p := range points_ {
			if p.Subresource == points_[0].Subresource {
				times = append(times, p.BucketStart)
			}
		}
		seconds = f.deriveGranularity(f.id, times)
		for i := range points_ {
			points_[i].BucketSeconds = seconds
		}
	}
	if graph {
		return decoded{writes: []store.Write{store.VMSubresourceDatapoints.Writes(f.owner,
			graphScope(f.owner, map[string]any{"vm_id": f.id}, seconds, f.window), points_...)}}, nil
	}
	return decoded{writes: []store.Write{store.VMSubresourceCosts.Writes(f.owner,
		&store.Scope{Owner: f.owner, Equal: map[string]any{"vm_id": f.id, "billing_month": month(f.window.Start)}}, costs...)}}, nil
}

// decodeOrg reads the organisation's history for a month, with or without its graph.
func decodeOrg(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	graph := f.ep.Kind == KindOrgGraph
	seconds := 0
	if graph {
		seconds = granularity(r, r.Obj(p, "payload"), "payload")
	}
	it, path := item(r, p)
	var out decoded
	if it != nil {
		mp := path + ".metrics"
		m := r.Obj(it.Get("metrics"), mp)
		if graph {
			var rows []store.OrgCostDatapoint
			// The docs' example of the history has no graph: none is no points.
			graphPoints, ok := m.Lookup("incurred_bill_graph")
			if !ok {
				graphPoints = []any{}
			}
			for _, pt := range points(r, graphPoints, mp+".incurred_bill_graph") {
				rows = append(rows, store.OrgCostDatapoint{BucketSeconds: seconds, BucketStart: pt.at, IncurredBill: pt.value})
				f.flag("", "incurred_bill_graph", pt.at, pt.value)
			}
			if r.Err != nil {
				return decoded{}, r.Err
			}
			if seconds == 0 {
				times := make([]time.Time, len(rows))
				for i := range rows {
					times[i] = rows[i].BucketStart
				}
				seconds = f.deriveGranularity("", times)
				for i := range rows {
					rows[i].BucketSeconds = seconds
				}
			}
			out.writes = append(out.writes, store.OrgCostDatapoints.Writes(f.owner, graphScope(f.owner, map[string]any{}, seconds, f.window), rows...))
		} else {
			f.flag("", "incurred_bill", month(f.window.Start), r.Num(m, mp, "incurred_bill", false))
			out.writes = append(out.writes, store.OrgMonthCosts.Writes(f.owner, nil, store.OrgMonthCost{BillingMonth: month(f.window.Start),
				IncurredBill: r.Num(m, mp, "incurred_bill", true), NonDiscountedBill: r.Num(m, mp, "non_discounted_bill", false),
				VMCost: r.Num(m, mp, "vm_cost", false), VolumeCost: r.Num(m, mp, "volume_cost", false),
				ContractCost: r.Num(m, mp, "contract_cost", false), SnapshotCost: r.Num(m, mp, "snapshot_cost", false),
				BucketCost: r.Num(m, mp, "bucket_cost", false), AISTokenCost: r.Num(m, mp, "ais_token_cost", false),
				AISWorkloadCost: r.Num(m, mp, "ais_workload_cost", false)}))
		}
	}
	return out, r.Err
}

// decodeUsage reads the usage snapshot of running or deleted VMs and volumes.
func decodeUsage(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	day := f.observed.UTC().Truncate(24 * time.Hour)
	var snaps []store.UsageSnapshot
	var resources []store.Resource
	var out decoded
	families := map[string]string{"vm": "virtual-machine", "volume": "volume"}
	for i, e := range r.Arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.Obj(e, path)
		id := r.ID(o, path, "resource_id", true)
		kind := r.Str(o, path, "resource_type", true)
		if r.Err != nil {
			return decoded{}, r.Err
		}
		name := r.Str(o, path, "name", false)
		created, terminated := r.Time(o, path, "create_time", false), r.Time(o, path, "terminate_time", false)
		snap := store.UsageSnapshot{ObservedOn: day, ResourceType: *kind, ResourceID: *id, Name: name,
			Active: r.Bool(o, path, "active"), BillPerMinute: r.Num(o, path, "bill_per_minute", false),
			CreateTime: created, TerminateTime: terminated, TotalUpMinutes: r.Num(o, path, "total_up_time", false),
			TotalBill: r.Num(o, path, "total_bill", false), ExcludeBilling: r.Bool(o, path, "exclude_billing")}
		f.flag(*id, "total_up_time", day, snap.TotalUpMinutes)
		f.flag(*id, "total_bill", day, snap.TotalBill)
		f.flag(*id, "bill_per_minute", day, snap.BillPerMinute)
		snaps = append(snaps, snap)
		if fam, ok := families[*kind]; ok {
			resources = append(resources, store.Resource{Family: fam, ResourceID: *id, Name: name, CreatedAt: created,
				TerminatedAt: terminated, Attributes: map[string]any{}})
			l := lifetime{family: fam, id: *id}
			if created != nil {
				l.life.Start = *created
			}
			if terminated != nil {
				l.life.End = *terminated
			}
			out.lifetimes = append(out.lifetimes, l)
		}
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	active := f.ep.Query.Get("deleted") != "true"
	out.writes = []store.Write{
		store.UsageSnapshots.Writes(f.owner, &store.Scope{Owner: f.owner, Equal: map[string]any{"observed_on": day, "active": active}}, snaps...),
		store.Resources.Writes(f.owner, nil, resources...),
	}
	return out, nil
}

// decodeLastDay reads yesterday's cost.
func decodeLastDay(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	o := r.Obj(p, "payload")
	day := f.observed.UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	row := store.LastDayCost{Day: day, InstancesCost: r.Num(o, "payload", "instances_cost", false), VolumesCost: r.Num(o, "payload", "volumes_cost", false),
		ClustersCost: r.Num(o, "payload", "clusters_cost", false), TotalCost: r.Num(o, "payload", "total_cost", true)}
	f.flag("", "total_cost", day, row.TotalCost)
	return decoded{writes: []store.Write{store.LastDayCosts.Writes(f.owner, nil, row)}}, r.Err
}

// decodeCredit reads the credit balance.
func decodeCredit(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	o := r.Obj(p, "payload")
	row := store.CreditObservation{ObservedHour: f.observed.UTC().Truncate(time.Hour), Credit: r.Num(o, "payload", "credit", true),
		Threshold: r.Num(o, "payload", "threshold", false), CanCreateInstance: r.Bool(o, "payload", "can_create_instance")}
	return decoded{writes: []store.Write{store.CreditObservations.Writes(f.owner, nil, row)}}, r.Err
}

// decodeThresholds reads the notification thresholds.
func decodeThresholds(f *fetched) (decoded, error) {
	p, r, err := open(f)
	if err != nil {
		return orEmpty(err)
	}
	day := f.observed.UTC().Truncate(24 * time.Hour)
	var rows []store.ThresholdObservation
	for i, e := range r.Arr(p, "payload") {
		path := fmt.Sprintf("payload[%d]", i)
		o := r.Obj(e, path)
		id := r.ID(o, path, "id", true)
		if r.Err != nil {
			return decoded{}, r.Err
		}
		rows = append(rows, store.ThresholdObservation{ObservedOn: day, ThresholdID: *id, ThresholdHours: r.Num(o, path, "threshold", false),
			Title: r.Str(o, path, "interface_title", false), Tooltip: r.Str(o, path, "interface_tooltip", false), Subscribed: r.Bool(o, path, "subscribed")})
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.ThresholdObservations.Writes(f.owner,
		&store.Scope{Owner: f.owner, Equal: map[string]any{"observed_on": day}}, rows...)}}, nil
}
