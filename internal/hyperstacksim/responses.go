package hyperstacksim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// obj is a JSON object under construction. Values are strings, bools,
// json.Number (exact decimals), nested objs or slices.
type obj = map[string]any

// apiError is a response in the API's error envelope.
type apiError struct {
	status  int
	reason  string
	message string
}

func (e *apiError) Error() string { return e.message }

func (e apiError) body() obj {
	return obj{"status": false, "message": e.message, "error_reason": e.reason}
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "bad_request", fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{http.StatusNotFound, "not_found", fmt.Sprintf(format, args...)}
}

// timestamp formats t as the API does: ISO 8601 UTC.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// seconds is a usage time: the live API's example numbers are seconds.
func seconds(minutes int64) json.Number { return intJSON(minutes * 60) }

// statusAt is how the API labels a resource's status at t.
func (r *Resource) statusAt(t time.Time) string {
	ended := !r.Terminated.IsZero() && !t.Before(r.Terminated)
	switch r.Family {
	case FamilyVM, FamilyVolume:
		if ended {
			return "DELETED"
		}
		return r.StateAt(t)
	case FamilySnapshot:
		if ended {
			return "DELETED"
		}
		return "SUCCESS"
	case FamilyContract:
		if ended {
			return "EXPIRED"
		}
		return "ACTIVE"
	case FamilyFineTuning:
		if ended {
			return "COMPLETED"
		}
		return "RUNNING"
	case FamilyImageGen:
		return "" // the live API sends an empty status for image generation
	}
	if ended {
		return "DELETED"
	}
	return "ACTIVE"
}

// asOf is the last minute of a window: prices are read there, while the
// resource still existed. Statuses are read at the window's end, so a
// resource terminated at that instant shows as such.
func asOf(w Window) time.Time {
	if w.End.After(w.Start) {
		return w.End.Add(-time.Minute)
	}
	return w.End
}

// listAttributes are the attributes a history list shows.
func (r *Resource) listAttributes(w Window) obj {
	a := obj{"infrahub_id": intJSON(r.ID), "resource_name": r.Name, "status": r.statusAt(w.End)}
	switch {
	case r.Family.TokenBased():
		a["base_model"], a["base_model_display_name"], a["lora_adapter"] = r.BaseModel, r.BaseModelDisplay, r.LoraAdapter
	case r.Family == FamilyFineTuning:
		a["id"] = r.UUID
		a["base_model"], a["base_model_display_name"], a["lora_adapter"] = r.BaseModel, r.BaseModelDisplay, r.LoraAdapter
	case r.Family == FamilyContract:
		a["id"] = r.UUID
		a["description"], a["gpu_type"] = r.Name, r.GPUType
		a["start_date"], a["end_date"] = timestamp(r.Created), timestamp(r.Terminated)
	default:
		a["id"] = r.UUID
		if r.ContractID != 0 {
			a["contract_id"] = intJSON(r.ContractID)
		}
	}
	return a
}

// detailAttributes are the attributes a per-resource endpoint shows.
func (r *Resource) detailAttributes(w Window) obj {
	a := obj{"id": r.UUID, "infrahub_id": intJSON(r.ID), "resource_name": r.Name, "status": r.statusAt(w.End)}
	switch {
	case r.Family.TokenBased() || r.Family == FamilyFineTuning:
		a["base_model"], a["base_model_display_name"], a["lora_adapter"] = r.BaseModel, r.BaseModelDisplay, r.LoraAdapter
	case r.Family == FamilyVolume || r.Family == FamilySnapshot:
		a["subresource_type"], a["subresource_amount"] = r.SubresourceType, intJSON(r.SubresourceAmount)
	case r.Family == FamilyVM && r.ContractID != 0:
		a["contract_id"] = intJSON(r.ContractID)
	}
	return a
}

// usageMetrics are the metrics of a minute-billed resource in a window.
func (r *Resource) usageMetrics(w Window, c Cost) obj {
	inc, list := r.PricePerHour(asOf(w))
	m := obj{
		"incurred_bill":                 c.Incurred.JSON(),
		"non_discounted_bill":           c.NonDiscounted.JSON(),
		"price_per_hour":                inc.JSON(),
		"non_discounted_price_per_hour": list.JSON(),
		"usage_time":                    seconds(c.Minutes),
	}
	if r.Family == FamilyBucket {
		m["size"] = intJSON(r.SubresourceAmount)
	}
	return m
}

// tokenMetrics are the metrics of a token-billed service in a window.
// Image generation has no input tokens; the live API sends nulls there,
// which the simulator leaves out unless its null fault is on.
func (r *Resource) tokenMetrics(c Cost) obj {
	m := obj{
		"incurred_bill":                     c.Incurred.JSON(),
		"non_discounted_bill":               c.NonDiscounted.JSON(),
		"output_tokens":                     intJSON(c.OutTokens),
		"output_tokens_incurred_bill":       c.OutIncurred.JSON(),
		"output_tokens_non_discounted_bill": c.OutNonDisc.JSON(),
	}
	if r.Family != FamilyImageGen {
		m["input_tokens"] = intJSON(c.InTokens)
		m["input_tokens_incurred_bill"] = c.InIncurred.JSON()
		m["input_tokens_non_discounted_bill"] = c.InNonDisc.JSON()
	}
	return m
}

func (r *Resource) metrics(w Window, c Cost) obj {
	if r.Family.TokenBased() {
		return r.tokenMetrics(c)
	}
	return r.usageMetrics(w, c)
}

// page is a request's pagination.
type page struct {
	number, perPage int
	shift           int // unstable-pagination fault: +1 an item appeared before this page, -1 one vanished
}

// MaxPerPage is the default cap of per_page (Shapes.MaxPerPage).
const MaxPerPage = 100

// DefaultPerPage is the page size when per_page is absent.
const DefaultPerPage = 10

func pageFromQuery(q map[string][]string, maxPerPage int) (page, *apiError) {
	p := page{number: 1, perPage: DefaultPerPage}
	for name, dst := range map[string]*int{"page": &p.number, "per_page": &p.perPage} {
		if v := first(q, name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return page{}, badRequest("%s must be a positive integer", name)
			}
			*dst = n
		}
	}
	if maxPerPage <= 0 {
		maxPerPage = MaxPerPage
	}
	p.perPage = min(p.perPage, maxPerPage)
	return p, nil
}

func first(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// matches implements the list endpoints' search: by name or by id.
func (r *Resource) matches(search string) bool {
	if search == "" {
		return true
	}
	if strings.Contains(strings.ToLower(r.Name), strings.ToLower(search)) {
		return true
	}
	return search == strconv.FormatInt(r.ID, 10) || strings.EqualFold(search, r.UUID)
}

// list serves GET /billing/billing/history/{family}: every resource of the
// family that existed in the window, newest first, one page of them.
func (m *Model) list(f Family, w Window, search string, p page, paged bool) obj {
	now := m.Now()
	cw := w.clip(now)
	var all []*Resource
	for _, r := range m.resources {
		if r.Family == f && r.overlaps(cw) && r.matches(search) {
			all = append(all, r)
		}
	}
	slices.SortFunc(all, func(a, b *Resource) int { return int(b.ID - a.ID) })
	total := len(all)

	items := all
	if paged {
		from := (p.number-1)*p.perPage - p.shift
		if p.number == 1 {
			from = 0
		}
		from = max(0, min(from, total))
		to := min(from+p.perPage, total)
		items = all[from:to]
		total += p.shift
	}
	rows := make([]any, 0, len(items))
	for _, r := range items {
		rows = append(rows, obj{"attributes": r.listAttributes(cw), "metrics": r.metrics(cw, r.CostIn(cw))})
	}

	shape := shapes[f]
	payload := obj{"org_id": intJSON(m.OrgID), "billing_history": rows, "total_count": intJSON(int64(total))}
	if paged {
		pages := max(1, (total+p.perPage-1)/p.perPage)
		payload["pagination"] = obj{
			"page": intJSON(int64(p.number)), "per_page": intJSON(int64(p.perPage)),
			"pages": intJSON(int64(pages)), "total_count": intJSON(int64(total)),
		}
		if f == FamilyVolume { // as in the docs' example, the outer count is the page's
			payload["total_count"] = intJSON(int64(len(rows)))
		}
	}
	msg := fmt.Sprintf("Billing History for %s Retrieved Successfully.", shape.label)
	if total == 0 {
		msg = fmt.Sprintf("No %s data found for %s - %s ", f, w.Start.Format(DateLayout), w.End.Format(DateLayout))
		if m.shapes.NoData {
			return obj{"status": false, "message": msg}
		}
	}
	return obj{"success": true, "message": msg, shape.listKey: payload}
}

// detail serves GET /billing/billing/history/{family}/{id}.
func (m *Model) detail(r *Resource, w Window) obj {
	cw := w.clip(m.Now())
	c := r.CostIn(cw)
	shape := shapes[r.Family]
	msg := fmt.Sprintf("Biling Details for the %s Retrieved Successfully.", shape.label)
	item := obj{"attributes": r.detailAttributes(cw), "metrics": r.metrics(cw, c)}
	switch r.Family {
	case FamilyVM:
		mt := item["metrics"].(obj)
		for _, s := range []string{StateActive, StateShutoff, StateHibernated} {
			mt["usage_time_"+s] = seconds(c.StateMinutes[s])
		}
	case FamilyBucket: // a single object, not a list
		return obj{"status": true, "message": msg, shape.detailKey: item}
	case FamilyCluster:
		nodes := make([]any, 0, len(r.Components))
		for _, n := range c.Components {
			inc := r.incurredPerMin(n.Component) * 60
			nodes = append(nodes, obj{
				"attributes": obj{"id": strconv.FormatInt(n.ID, 10), "infrahub_id": intJSON(n.ID), "resource_name": n.Name, "status": r.statusAt(cw.End)},
				"metrics":    obj{"incurred_bill": n.Incurred.JSON(), "price_per_hour": inc.JSON(), "usage_time": seconds(c.Minutes)},
			})
		}
		item["nodes"] = nodes
		return obj{"status": true, "message": msg, shape.detailKey: item}
	}
	payload := obj{"org_id": intJSON(m.OrgID), "billing_history": []any{item}, "total_count": intJSON(1)}
	return obj{"status": true, "message": msg, shape.detailKey: payload}
}

// datapoint is one graph bucket.
func datapoint(t time.Time, v json.Number, layout string) obj {
	return obj{"datetime": t.UTC().Format(layout), "value": v}
}

// graph serves GET /billing/billing/history/{family}/{id}/graph: the cost in
// each bucket of the window in which the resource existed.
func (m *Model) graph(r *Resource, w Window) obj {
	cw := w.clip(m.Now())
	g := w.Granularity()
	var costs, ins, outs, totals []any
	var total Cost
	layout := "2006-01-02T15:04:05Z"
	if r.Family == FamilyImageGen {
		layout = time.DateTime // the live API's image-generation graph has no T and no zone
	}
	for _, b := range cw.Buckets(g) {
		if !r.overlaps(b) {
			continue
		}
		c := r.CostIn(b)
		total.Incurred += c.Incurred
		total.InTokens += c.InTokens
		total.OutTokens += c.OutTokens
		at := b.Start.Truncate(g)
		costs = append(costs, datapoint(at, c.Incurred.JSON(), layout))
		ins = append(ins, datapoint(at, intJSON(c.InTokens), layout))
		outs = append(outs, datapoint(at, intJSON(c.OutTokens), layout))
		totals = append(totals, datapoint(at, intJSON(c.InTokens+c.OutTokens), layout))
	}
	metrics := obj{}
	switch {
	case r.Family == FamilyImageGen:
		metrics["output_tokens"], metrics["output_tokens_graph"], metrics["total_tokens_graph"] = intJSON(total.OutTokens), nonNil(outs), nonNil(totals)
	case r.Family.TokenBased():
		metrics["incurred_bill"], metrics["incurred_bill_graph"] = total.Incurred.JSON(), nonNil(costs)
		metrics["input_tokens"], metrics["input_tokens_graph"] = intJSON(total.InTokens), nonNil(ins)
		metrics["output_tokens"], metrics["output_tokens_graph"] = intJSON(total.OutTokens), nonNil(outs)
		metrics["total_tokens_graph"] = nonNil(totals)
	default:
		metrics["incurred_bill"], metrics["incurred_bill_graph"] = total.Incurred.JSON(), nonNil(costs)
	}
	shape := shapes[r.Family]
	payload := obj{
		"org_id":          intJSON(m.OrgID),
		"billing_history": []any{obj{"attributes": r.detailAttributes(cw), "metrics": metrics}},
		"total_count":     intJSON(1),
		"granularity":     intJSON(int64(g / time.Second)),
	}
	if shape.graphKey == "" {
		// Both specs answer the bucket chart with the payload itself, no
		// envelope; the docs have no example to say otherwise.
		return payload
	}
	msg := fmt.Sprintf("Biling Details Hourly Cost datapoints for the %s Retrieved Successfully.", shape.label)
	return obj{"status": true, "message": msg, shape.graphKey: payload}
}

func nonNil(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

// events serves the VM and volume billing-events endpoints: one event per
// stretch of constant state and price in the window. They tile the part of
// the window in which the resource existed, and their costs add up to its bill.
func (m *Model) events(r *Resource, w Window) obj {
	cw := w.clip(m.Now())
	out := []any{}
	for _, p := range r.pieces(cw) {
		inc, _ := r.rateIn(p)
		out = append(out, obj{
			"start":          timestamp(p.From),
			"event":          p.State,
			"event_duration": hours(p.minutes()),
			"price_per_hour": (inc * 60).JSON(),
			"total_cost":     (inc * Nano(p.minutes())).JSON(),
		})
	}
	label := strings.ReplaceAll(string(r.Family), "-", "_")
	return obj{
		"status":                 true,
		"message":                fmt.Sprintf("%s %d Billing Events History Retrieved Successfully.", label, r.ID),
		"billing_events_history": out,
	}
}

// subResources serves a VM's sub-resource costs, with or without graphs.
func (m *Model) subResources(r *Resource, w Window, graph bool) obj {
	cw := w.clip(m.Now())
	c := r.CostIn(cw)
	metrics := obj{}
	for _, cc := range c.Components {
		metrics[cc.Kind+"_incurred_bill"] = cc.Incurred.JSON()
		metrics[cc.Kind+"_non_discounted_bill"] = cc.NonDiscounted.JSON()
	}
	payload := obj{"org_id": intJSON(m.OrgID), "total_count": intJSON(1)}
	msg := "Billing Details  for the Virtual Machine Sub Resource Retrieved Successfully."
	if graph {
		g := w.Granularity()
		series := map[string][]any{}
		for _, b := range cw.Buckets(g) {
			if !r.overlaps(b) {
				continue
			}
			bc := r.CostIn(b)
			for _, cc := range bc.Components {
				series[cc.Kind] = append(series[cc.Kind], datapoint(b.Start.Truncate(g), cc.Incurred.JSON(), "2006-01-02T15:04:05Z"))
			}
		}
		for _, k := range SubResourceKinds {
			metrics[k+"_incurred_bill_graph"] = nonNil(series[k])
		}
		payload["granularity"] = intJSON(int64(g / time.Second))
		msg = "Billing Details Sub-Resources Historical Cost datapoints for the Virtual Machine Sub Resource Retrieved Successfully."
	}
	attrs := obj{"id": r.UUID, "infrahub_id": intJSON(r.ID), "resource_name": r.Name}
	payload["billing_history"] = []any{obj{"attributes": attrs, "metrics": metrics}}
	return obj{"status": true, "message": msg, "sub_resources_costs": payload}
}

// orgMetrics splits a window's organisation cost the way the API does.
func (m *Model) orgMetrics(w Window) obj {
	var incurred, nonDisc Nano
	by := map[string]Nano{}
	for _, r := range m.resources {
		if !r.overlaps(w) {
			continue
		}
		c := r.CostIn(w)
		incurred += c.Incurred
		nonDisc += c.NonDiscounted
		by[orgBucket(r.Family)] += c.Incurred
	}
	mt := obj{"incurred_bill": incurred.JSON(), "non_discounted_bill": nonDisc.JSON()}
	for _, k := range []string{"vm_cost", "volume_cost", "contract_cost", "snapshot_cost", "bucket_cost", "ais_token_cost", "ais_workload_cost"} {
		mt[k] = by[k].JSON()
	}
	return mt
}

// orgBucket is where a family's cost goes in the organisation's history.
// Clusters are VMs to the organisation history.
func orgBucket(f Family) string {
	switch f {
	case FamilyVM, FamilyCluster:
		return "vm_cost"
	case FamilyVolume:
		return "volume_cost"
	case FamilyContract:
		return "contract_cost"
	case FamilySnapshot:
		return "snapshot_cost"
	case FamilyBucket:
		return "bucket_cost"
	case FamilyFineTuning:
		return "ais_workload_cost"
	}
	return "ais_token_cost"
}

// orgHistory serves GET /billing/billing/history, with graph=true adding the
// organisation's cost per bucket.
func (m *Model) orgHistory(w Window, graph bool) obj {
	cw := w.clip(m.Now())
	metrics := m.orgMetrics(cw)
	payload := obj{"org_id": intJSON(m.OrgID), "total_count": intJSON(1)}
	if graph {
		g := w.Granularity()
		points := []any{}
		for _, b := range cw.Buckets(g) {
			var sum Nano
			for _, r := range m.resources {
				if r.overlaps(b) {
					sum += r.CostIn(b).Incurred
				}
			}
			points = append(points, datapoint(b.Start.Truncate(g), sum.JSON(), "2006-01-02T15:04:05Z"))
		}
		metrics["incurred_bill_graph"] = points
		if !m.shapes.OrgGraphNoGranularity {
			payload["granularity"] = intJSON(int64(g / time.Second))
		}
	}
	payload["billing_history"] = []any{obj{"attributes": obj{"id": m.OrgUUID}, "metrics": metrics}}
	return obj{"status": true, "message": "Biling History Retrieved Successfully.", "billing_history": payload}
}

// usage serves GET /billing/billing/usage: VMs and volumes, running ones or
// (deleted=true) terminated ones, with their lifetime totals.
func (m *Model) usage(deleted bool, environment string) obj {
	now := m.Now()
	data := []any{}
	for _, r := range m.resources {
		if r.Family != FamilyVM && r.Family != FamilyVolume || r.Created.After(now) {
			continue
		}
		alive := r.Alive(now)
		if alive == deleted || environment != "" && r.Environment != environment {
			continue
		}
		life := Window{Start: r.Created, End: now}
		c := r.CostIn(life)
		kind := "vm"
		if r.Family == FamilyVolume {
			kind = "volume"
		}
		row := obj{
			"resource_id": intJSON(r.ID), "resource_type": kind, "name": r.Name,
			"organization_id": intJSON(m.OrgID), "create_time": timestamp(r.Created),
			"total_up_time": intJSON(c.Minutes), "total_bill": c.Incurred.JSON(),
			"active": alive, "exclude_billing": false,
		}
		if alive {
			inc, _ := r.PricePerHour(now)
			row["bill_per_minute"] = (inc / 60).JSON()
		} else {
			row["terminate_time"] = timestamp(r.Terminated)
		}
		data = append(data, row)
	}
	return obj{"status": true, "message": "Successful", "data": data}
}

// LastDay is the previous UTC day.
func LastDay(now time.Time) Window {
	today := now.UTC().Truncate(24 * time.Hour)
	return Window{Start: today.Add(-24 * time.Hour), End: today}
}

// lastDayCost serves GET /billing/billing/last-day-cost: yesterday's cost of
// VMs, volumes and clusters, and of everything.
func (m *Model) lastDayCost() obj {
	costs := m.familyCostsLocked(LastDay(m.Now()))
	var total Nano
	for _, c := range costs {
		total += c
	}
	return obj{"status": true, "message": "Successful", "data": obj{
		"instances_cost": costs[FamilyVM].JSON(),
		"volumes_cost":   costs[FamilyVolume].JSON(),
		"clusters_cost":  costs[FamilyCluster].JSON(),
		"total_cost":     total.JSON(),
	}}
}

func (m *Model) credit() obj {
	c := m.creditLocked()
	return obj{"status": true, "message": "Success", "data": obj{
		"credit": c.JSON(), "threshold": intJSON(0), "can_create_instance": c > 0,
	}}
}

func (t *threshold) json() obj {
	return obj{
		"id": intJSON(t.ID), "threshold": intJSON(t.Hours), "interface_title": t.Title,
		"interface_tooltip": t.Tooltip, "subscribed": t.Subscribed,
	}
}

func (m *Model) thresholdList() obj {
	out := make([]any, 0, len(m.thresholds))
	for _, t := range m.thresholds {
		out = append(out, t.json())
	}
	return obj{"status": true, "message": "Retrieving organization thresholds successful", "thresholds": out}
}
