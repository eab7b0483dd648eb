package store

// The warehouse tables, as the bulk writer sees them. Rows are given in Key
// then Values order.
var (
	Resources = (&Table{
		Name:   "billing.resources",
		Key:    []string{"provider", "family", "resource_id"},
		Values: []string{"name", "status", "contract_id", "base_model", "lora_adapter", "created_at", "terminated_at", "attributes"},
		Keep:   []string{"name", "status", "contract_id", "base_model", "lora_adapter", "created_at", "terminated_at"},
		Merge:  []string{"attributes"},
	}).prepare()

	ResourceMonthCosts = (&Table{
		Name: "billing.resource_month_costs",
		Key:  []string{"provider", "family", "resource_id", "billing_month"},
		Values: []string{"status", "incurred_bill", "non_discounted_bill", "price_per_hour", "non_discounted_price_per_hour",
			"usage_seconds", "usage_active_seconds", "usage_shutoff_seconds", "usage_hibernated_seconds",
			"input_tokens", "output_tokens", "input_tokens_bill", "output_tokens_bill",
			"input_tokens_non_discounted_bill", "output_tokens_non_discounted_bill"},
		Tracked: []string{"incurred_bill", "non_discounted_bill", "usage_seconds", "input_tokens", "output_tokens"},
	}).prepare()

	CostDatapoints = (&Table{
		Name:    "billing.cost_datapoints",
		Key:     []string{"provider", "family", "resource_id", "bucket_seconds", "bucket_start"},
		Values:  []string{"incurred_bill", "input_tokens", "output_tokens", "total_tokens"},
		Tracked: []string{"incurred_bill", "input_tokens", "output_tokens"},
	}).prepare()

	VMSubresourceCosts = (&Table{
		Name:    "billing.vm_subresource_costs",
		Key:     []string{"provider", "vm_id", "billing_month", "subresource"},
		Values:  []string{"incurred_bill", "non_discounted_bill"},
		Tracked: []string{"incurred_bill"},
	}).prepare()

	VMSubresourceDatapoints = (&Table{
		Name:    "billing.vm_subresource_datapoints",
		Key:     []string{"provider", "vm_id", "subresource", "bucket_seconds", "bucket_start"},
		Values:  []string{"incurred_bill"},
		Tracked: []string{"incurred_bill"},
	}).prepare()

	ClusterNodeCosts = (&Table{
		Name:    "billing.cluster_node_costs",
		Key:     []string{"provider", "cluster_id", "node_id", "billing_month"},
		Values:  []string{"node_name", "incurred_bill", "price_per_hour", "usage_seconds"},
		Tracked: []string{"incurred_bill", "usage_seconds"},
	}).prepare()

	BillingEvents = (&Table{
		Name:    "billing.billing_events",
		Key:     []string{"provider", "family", "resource_id", "event_start"},
		Values:  []string{"event", "duration_hours", "price_per_hour", "total_cost"},
		Tracked: []string{"total_cost", "duration_hours"},
	}).prepare()

	OrgMonthCosts = (&Table{
		Name: "billing.org_month_costs",
		Key:  []string{"provider", "billing_month"},
		Values: []string{"incurred_bill", "non_discounted_bill", "vm_cost", "volume_cost", "contract_cost",
			"snapshot_cost", "bucket_cost", "ais_token_cost", "ais_workload_cost"},
		Tracked: []string{"incurred_bill", "non_discounted_bill"},
	}).prepare()

	OrgCostDatapoints = (&Table{
		Name:    "billing.org_cost_datapoints",
		Key:     []string{"provider", "bucket_seconds", "bucket_start"},
		Values:  []string{"incurred_bill"},
		Tracked: []string{"incurred_bill"},
	}).prepare()

	UsageSnapshots = (&Table{
		Name: "billing.usage_snapshots",
		Key:  []string{"provider", "observed_on", "resource_type", "resource_id"},
		Values: []string{"name", "active", "bill_per_minute", "create_time", "terminate_time",
			"total_up_minutes", "total_bill", "exclude_billing"},
	}).prepare()

	LastDayCosts = (&Table{
		Name:    "billing.last_day_costs",
		Key:     []string{"provider", "day"},
		Values:  []string{"instances_cost", "volumes_cost", "clusters_cost", "total_cost"},
		Tracked: []string{"total_cost"},
	}).prepare()

	CreditObservations = (&Table{
		Name:   "billing.credit_observations",
		Key:    []string{"provider", "observed_hour"},
		Values: []string{"credit", "threshold", "can_create_instance"},
	}).prepare()

	ThresholdObservations = (&Table{
		Name:   "billing.threshold_observations",
		Key:    []string{"provider", "observed_on", "threshold_id"},
		Values: []string{"threshold_hours", "title", "tooltip", "subscribed"},
	}).prepare()
)

// WarehouseTables lists every billing table the crawler writes.
var WarehouseTables = []*Table{
	Resources, ResourceMonthCosts, CostDatapoints, VMSubresourceCosts, VMSubresourceDatapoints, ClusterNodeCosts,
	BillingEvents, OrgMonthCosts, OrgCostDatapoints, UsageSnapshots, LastDayCosts, CreditObservations, ThresholdObservations,
}

// Ingest bookkeeping, written in the same transactions as the data it
// describes.
var (
	// RawPayloads keeps each distinct body once per endpoint and query; a
	// body fetched again only moves its fetched_at and run_id.
	RawPayloads = (&Table{
		Name:   "ingest.raw_payloads",
		Key:    []string{"provider", "endpoint", "params", "content_sha256"},
		Values: []string{"window_start", "window_end", "run_id", "status_code", "fetched_at", "body_gzip"},
	}).prepare()

	FetchState = (&Table{
		Name:   "ingest.fetch_state",
		Key:    []string{"provider", "unit"},
		Values: []string{"fingerprint", "fetched_at", "full_refresh_at", "run_id"},
	}).prepare()
)
