package hyperstack

import (
	"net/url"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Kind is what an endpoint returns, and so how it is walked and decoded.
type Kind int

const (
	KindList             Kind = iota // a family's history list: discovery
	KindDetail                       // one resource's summary for a window
	KindGraph                        // one resource's cost per bucket
	KindEvents                       // a VM's or volume's state changes
	KindSubResources                 // a VM's cost per sub-resource
	KindSubResourceGraph             // … per bucket
	KindOrg                          // the organisation's history
	KindOrgGraph                     // … per bucket
	KindUsage                        // running or deleted VMs and volumes, now
	KindLastDay                      // yesterday's cost
	KindCredit                       // the credit balance, now
	KindThresholds                   // notification thresholds, now
)

// Endpoint is one row of the catalog: everything the generic crawler needs
// to fetch, decode and store one endpoint.
type Endpoint struct {
	Name     string     // stable name, in the ledger and the raw payloads
	Path     string     // as in the spec, {param} included
	Param    string     // the path parameter, if any
	Family   string     // the resource family, for per-family endpoints
	Kind     Kind       //
	Paged    bool       // takes page and per_page
	Windowed bool       // takes start_date and end_date (a billing month)
	Query    url.Values // fixed query parameters
	Keys     []string   // where the payload is, in the order to look
	Decode   func(*fetched) (decoded, error)
	Targets  []*store.Table // what it writes, for the reader of this table
}

// Families are the resource families, in the order the crawler lists them.
var Families = []string{"virtual-machine", "volume", "snapshot", "bucket", "cluster", "contract",
	"fine_tuning", "serverless_inference", "model_evaluation", "data_synthesis", "image_generation"}

// familyParams is each family's path parameter in the spec.
var familyParams = map[string]string{
	"virtual-machine": "vm_id", "volume": "volume_id", "snapshot": "snapshot_id", "bucket": "bucket_id",
	"cluster": "cluster_id", "fine_tuning": "resource_id", "serverless_inference": "resource_id",
	"model_evaluation": "resource_id", "data_synthesis": "resource_id", "image_generation": "resource_id",
}

// payloadKeys are the keys each family's payloads come under: the live API's
// first, then the SDK schema's. The decoders also accept a lone unknown key.
var payloadKeys = map[string][3][]string{ // list, detail, graph
	"virtual-machine":      {{"billing_history_vm"}, {"billing_history_vm_details"}, {"billing_history_vm_details"}},
	"volume":               {{"billing_history_volume"}, {"billing_history_volume_details"}, {"billing_history_volume_details", "billing_history_snapshot_details"}},
	"snapshot":             {{"billing_history_snapshot", "billing_history_volume"}, {"billing_history_snapshot_details", "billing_history_volume_details"}, {"billing_history_snapshot_details"}},
	"bucket":               {{"billing_history_bucket"}, {"billing_history_bucket_details"}, {"billing_history_bucket_details"}},
	"cluster":              {{"billing_history_cluster"}, {"billing_history_cluster_details"}, {"billing_history_cluster_details"}},
	"contract":             {{"billing_history_contract"}, nil, nil},
	"fine_tuning":          {{"billing_history_fine_tuning"}, {"billing_history_fine_tuning_details", "billing_history_volume_details"}, {"billing_history_fine_tuning_details", "billing_history_snapshot_details"}},
	"serverless_inference": {{"billing_history_serverless_inference"}, {"billing_history_serverless_inference_details"}, {"billing_history_serverless_inference_details"}},
	"model_evaluation":     {{"billing_history_model_evaluation", "billing_history_serverless_inference"}, {"billing_history_model_evaluation_details", "billing_history_model_evalutation_details"}, {"billing_history_model_evaluation_details", "billing_history_model_evalutation_details"}},
	"data_synthesis":       {{"billing_history_data_synthesis", "billing_history_serverless_inference"}, {"billing_history_data_synthesis_details"}, {"billing_history_data_synthesis_details"}},
	"image_generation":     {{"billing_history_image_generation", "billing_history_serverless_inference"}, {"billing_history_image_generation_details"}, {"billing_history_image_generation_details"}},
}

// Catalog lists every endpoint the warehouse ingests. A test checks it
// against the spec: every GET path is here or in Excluded.
var Catalog = buildCatalog()

// Excluded are the spec's GET paths the warehouse does not ingest, with why.
// (The spec's PUT and POST operations change state; the crawler only reads.)
var Excluded = map[string]string{}

func buildCatalog() []*Endpoint {
	const history = "/billing/billing/history"
	monthly := []*store.Table{store.ResourceMonthCosts.Table}
	var c []*Endpoint
	for _, f := range Families {
		keys := payloadKeys[f]
		targets := []*store.Table{store.Resources.Table}
		if f == "contract" {
			targets = append(targets, monthly...)
		}
		c = append(c, &Endpoint{Name: f + "/list", Path: history + "/" + f, Family: f, Kind: KindList,
			Paged: f != "contract", Windowed: true, Keys: keys[0], Decode: decodeList, Targets: targets})
		if f == "contract" {
			continue
		}
		p := familyParams[f]
		one := history + "/" + f + "/{" + p + "}"
		c = append(c,
			&Endpoint{Name: f + "/detail", Path: one, Param: p, Family: f, Kind: KindDetail, Windowed: true, Keys: keys[1],
				Decode: decodeDetail, Targets: []*store.Table{store.Resources.Table, store.ResourceMonthCosts.Table, store.ClusterNodeCosts.Table}},
			&Endpoint{Name: f + "/graph", Path: one + "/graph", Param: p, Family: f, Kind: KindGraph, Windowed: true, Keys: keys[2],
				Decode: decodeGraph, Targets: []*store.Table{store.CostDatapoints.Table}},
		)
	}
	c = append(c,
		&Endpoint{Name: "virtual-machine/events", Path: "/billing/billing/virtual-machine/{vm_id}/billing-events", Param: "vm_id",
			Family: "virtual-machine", Kind: KindEvents, Windowed: true, Keys: []string{"billing_events_history"},
			Decode: decodeEvents, Targets: []*store.Table{store.BillingEvents.Table}},
		&Endpoint{Name: "volume/events", Path: "/billing/billing/volume/{volume_id}/billing-events", Param: "volume_id",
			Family: "volume", Kind: KindEvents, Windowed: true, Keys: []string{"billing_events_history"},
			Decode: decodeEvents, Targets: []*store.Table{store.BillingEvents.Table}},
		&Endpoint{Name: "virtual-machine/sub-resource", Path: "/billing/billing/virtual-machine/{vm_id}/sub-resource", Param: "vm_id",
			Family: "virtual-machine", Kind: KindSubResources, Windowed: true, Keys: []string{"sub_resources_costs"},
			Decode: decodeSubResources, Targets: []*store.Table{store.VMSubresourceCosts.Table}},
		&Endpoint{Name: "virtual-machine/sub-resource-graph", Path: "/billing/billing/virtual-machine/{vm_id}/sub-resource/graph", Param: "vm_id",
			Family: "virtual-machine", Kind: KindSubResourceGraph, Windowed: true, Keys: []string{"sub_resources_costs"},
			Decode: decodeSubResources, Targets: []*store.Table{store.VMSubresourceDatapoints.Table}},
		&Endpoint{Name: "org/history", Path: history, Kind: KindOrg, Windowed: true, Keys: []string{"billing_history"},
			Decode: decodeOrg, Targets: []*store.Table{store.OrgMonthCosts.Table}},
		&Endpoint{Name: "org/graph", Path: history, Kind: KindOrgGraph, Windowed: true, Query: url.Values{"graph": {"true"}},
			Keys: []string{"billing_history"}, Decode: decodeOrg, Targets: []*store.Table{store.OrgCostDatapoints.Table}},
		&Endpoint{Name: "usage/active", Path: "/billing/billing/usage", Kind: KindUsage, Query: url.Values{"deleted": {"false"}},
			Keys: []string{"data"}, Decode: decodeUsage, Targets: []*store.Table{store.UsageSnapshots.Table, store.Resources.Table}},
		&Endpoint{Name: "usage/deleted", Path: "/billing/billing/usage", Kind: KindUsage, Query: url.Values{"deleted": {"true"}},
			Keys: []string{"data"}, Decode: decodeUsage, Targets: []*store.Table{store.UsageSnapshots.Table, store.Resources.Table}},
		&Endpoint{Name: "last-day-cost", Path: "/billing/billing/last-day-cost", Kind: KindLastDay, Keys: []string{"data"},
			Decode: decodeLastDay, Targets: []*store.Table{store.LastDayCosts.Table}},
		&Endpoint{Name: "credit", Path: "/billing/user-credit/credit", Kind: KindCredit, Keys: []string{"data"},
			Decode: decodeCredit, Targets: []*store.Table{store.CreditObservations.Table}},
		&Endpoint{Name: "thresholds", Path: "/billing/billing/threshold", Kind: KindThresholds, Keys: []string{"thresholds"},
			Decode: decodeThresholds, Targets: []*store.Table{store.ThresholdObservations.Table}},
	)
	return c
}

// endpoint finds a catalog entry by name.
func endpoint(name string) *Endpoint {
	for _, e := range Catalog {
		if e.Name == name {
			return e
		}
	}
	return nil
}
