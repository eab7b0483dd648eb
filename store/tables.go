package store

import (
	"slices"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// The warehouse tables, each declared by the Go type of its rows. A field's
// `db` tag names its column; the options say which columns are the key
// (after provider and account, which every table starts with) and how a
// write treats a value: tracked money or usage (a change is a
// restatement), keep (a NULL does not erase a stored value), merge (jsonb
// objects accumulate). Pointer fields are nullable columns.
// TestTablesMatchSchema holds every declaration to the migrated schema.

// Resource is every billed thing: its latest known name, status, attributes.
type Resource struct {
	Family       string         `db:"family,key"`
	ResourceID   string         `db:"resource_id,key"`
	Name         *string        `db:"name,keep"`
	Status       *string        `db:"status,keep"`
	ContractID   *string        `db:"contract_id,keep"`
	BaseModel    *string        `db:"base_model,keep"`
	LoraAdapter  *string        `db:"lora_adapter,keep"`
	CreatedAt    *time.Time     `db:"created_at,keep"`
	TerminatedAt *time.Time     `db:"terminated_at,keep"`
	Attributes   map[string]any `db:"attributes,merge"`
}

// ResourceMonthCost is what a resource cost in one billing month. The VM
// state split and the size keep a stored value against a NULL: a list entry
// carries neither, and one folded or replayed after its resource's detail
// must not erase what the detail said.
type ResourceMonthCost struct {
	Family                        string           `db:"family,key"`
	ResourceID                    string           `db:"resource_id,key"`
	BillingMonth                  time.Time        `db:"billing_month,key"`
	Status                        *string          `db:"status"`
	IncurredBill                  *decimal.Decimal `db:"incurred_bill,tracked"`
	NonDiscountedBill             *decimal.Decimal `db:"non_discounted_bill,tracked"`
	PricePerHour                  *decimal.Decimal `db:"price_per_hour"`
	NonDiscountedPricePerHour     *decimal.Decimal `db:"non_discounted_price_per_hour"`
	UsageSeconds                  *decimal.Decimal `db:"usage_seconds,tracked"`
	UsageActiveSeconds            *decimal.Decimal `db:"usage_active_seconds,keep"`
	UsageShutoffSeconds           *decimal.Decimal `db:"usage_shutoff_seconds,keep"`
	UsageHibernatedSeconds        *decimal.Decimal `db:"usage_hibernated_seconds,keep"`
	InputTokens                   *decimal.Decimal `db:"input_tokens,tracked"`
	OutputTokens                  *decimal.Decimal `db:"output_tokens,tracked"`
	InputTokensBill               *decimal.Decimal `db:"input_tokens_bill"`
	OutputTokensBill              *decimal.Decimal `db:"output_tokens_bill"`
	InputTokensNonDiscountedBill  *decimal.Decimal `db:"input_tokens_non_discounted_bill"`
	OutputTokensNonDiscountedBill *decimal.Decimal `db:"output_tokens_non_discounted_bill"`
	Size                          *decimal.Decimal `db:"size,keep"`
}

// CostDatapoint is a resource's cost (and tokens) in one graph bucket.
type CostDatapoint struct {
	Family        string           `db:"family,key"`
	ResourceID    string           `db:"resource_id,key"`
	BucketSeconds int              `db:"bucket_seconds,key"`
	BucketStart   time.Time        `db:"bucket_start,key"`
	IncurredBill  *decimal.Decimal `db:"incurred_bill,tracked"`
	InputTokens   *decimal.Decimal `db:"input_tokens,tracked"`
	OutputTokens  *decimal.Decimal `db:"output_tokens,tracked"`
	TotalTokens   *decimal.Decimal `db:"total_tokens"`
}

// VMSubresourceCost is what one part of a VM (gpu, cpu, ram…) cost in a month.
type VMSubresourceCost struct {
	VMID              string           `db:"vm_id,key"`
	BillingMonth      time.Time        `db:"billing_month,key"`
	Subresource       string           `db:"subresource,key"`
	IncurredBill      *decimal.Decimal `db:"incurred_bill,tracked"`
	NonDiscountedBill *decimal.Decimal `db:"non_discounted_bill"`
}

// VMSubresourceDatapoint is one part of a VM's cost in one graph bucket.
type VMSubresourceDatapoint struct {
	VMID          string           `db:"vm_id,key"`
	Subresource   string           `db:"subresource,key"`
	BucketSeconds int              `db:"bucket_seconds,key"`
	BucketStart   time.Time        `db:"bucket_start,key"`
	IncurredBill  *decimal.Decimal `db:"incurred_bill,tracked"`
}

// ClusterNodeCost is a cluster node's cost in a month.
type ClusterNodeCost struct {
	ClusterID    string           `db:"cluster_id,key"`
	NodeID       string           `db:"node_id,key"`
	BillingMonth time.Time        `db:"billing_month,key"`
	NodeName     *string          `db:"node_name"`
	IncurredBill *decimal.Decimal `db:"incurred_bill,tracked"`
	PricePerHour *decimal.Decimal `db:"price_per_hour"`
	UsageSeconds *decimal.Decimal `db:"usage_seconds,tracked"`
}

// BillingEvent is a stretch of constant state and price of a VM or volume.
type BillingEvent struct {
	Family        string           `db:"family,key"`
	ResourceID    string           `db:"resource_id,key"`
	EventStart    time.Time        `db:"event_start,key"`
	Event         string           `db:"event"`
	DurationHours *decimal.Decimal `db:"duration_hours,tracked"`
	PricePerHour  *decimal.Decimal `db:"price_per_hour"`
	TotalCost     *decimal.Decimal `db:"total_cost,tracked"`
}

// OrgMonthCost is the organisation's own history of one billing month.
type OrgMonthCost struct {
	BillingMonth      time.Time        `db:"billing_month,key"`
	IncurredBill      *decimal.Decimal `db:"incurred_bill,tracked"`
	NonDiscountedBill *decimal.Decimal `db:"non_discounted_bill,tracked"`
	VMCost            *decimal.Decimal `db:"vm_cost"`
	VolumeCost        *decimal.Decimal `db:"volume_cost"`
	ContractCost      *decimal.Decimal `db:"contract_cost"`
	SnapshotCost      *decimal.Decimal `db:"snapshot_cost"`
	BucketCost        *decimal.Decimal `db:"bucket_cost"`
	AISTokenCost      *decimal.Decimal `db:"ais_token_cost"`
	AISWorkloadCost   *decimal.Decimal `db:"ais_workload_cost"`
}

// OrgCostDatapoint is the organisation's cost in one graph bucket.
type OrgCostDatapoint struct {
	BucketSeconds int              `db:"bucket_seconds,key"`
	BucketStart   time.Time        `db:"bucket_start,key"`
	IncurredBill  *decimal.Decimal `db:"incurred_bill,tracked"`
}

// UsageSnapshot is a running or deleted resource as the usage endpoint saw
// it on one day.
type UsageSnapshot struct {
	ObservedOn     time.Time        `db:"observed_on,key"`
	ResourceType   string           `db:"resource_type,key"`
	ResourceID     string           `db:"resource_id,key"`
	Name           *string          `db:"name"`
	Active         *bool            `db:"active"`
	BillPerMinute  *decimal.Decimal `db:"bill_per_minute"`
	CreateTime     *time.Time       `db:"create_time"`
	TerminateTime  *time.Time       `db:"terminate_time"`
	TotalUpMinutes *decimal.Decimal `db:"total_up_minutes"`
	TotalBill      *decimal.Decimal `db:"total_bill"`
	ExcludeBilling *bool            `db:"exclude_billing"`
}

// LastDayCost is yesterday's cost as the API summarises it.
type LastDayCost struct {
	Day           time.Time        `db:"day,key"`
	InstancesCost *decimal.Decimal `db:"instances_cost"`
	VolumesCost   *decimal.Decimal `db:"volumes_cost"`
	ClustersCost  *decimal.Decimal `db:"clusters_cost"`
	TotalCost     *decimal.Decimal `db:"total_cost,tracked"`
}

// CreditObservation is the credit balance seen in one hour.
type CreditObservation struct {
	ObservedHour      time.Time        `db:"observed_hour,key"`
	Credit            *decimal.Decimal `db:"credit"`
	Threshold         *decimal.Decimal `db:"threshold"`
	CanCreateInstance *bool            `db:"can_create_instance"`
}

// ThresholdObservation is a notification threshold seen on one day.
type ThresholdObservation struct {
	ObservedOn     time.Time        `db:"observed_on,key"`
	ThresholdID    string           `db:"threshold_id,key"`
	ThresholdHours *decimal.Decimal `db:"threshold_hours"`
	Title          *string          `db:"title"`
	Tooltip        *string          `db:"tooltip"`
	Subscribed     *bool            `db:"subscribed"`
}

var (
	Resources               = Define[Resource]("billing.resources")
	ResourceMonthCosts      = Define[ResourceMonthCost]("billing.resource_month_costs")
	CostDatapoints          = Define[CostDatapoint]("billing.cost_datapoints")
	VMSubresourceCosts      = Define[VMSubresourceCost]("billing.vm_subresource_costs")
	VMSubresourceDatapoints = Define[VMSubresourceDatapoint]("billing.vm_subresource_datapoints")
	ClusterNodeCosts        = Define[ClusterNodeCost]("billing.cluster_node_costs")
	BillingEvents           = Define[BillingEvent]("billing.billing_events")
	OrgMonthCosts           = Define[OrgMonthCost]("billing.org_month_costs")
	OrgCostDatapoints       = Define[OrgCostDatapoint]("billing.org_cost_datapoints")
	UsageSnapshots          = Define[UsageSnapshot]("billing.usage_snapshots")
	LastDayCosts            = Define[LastDayCost]("billing.last_day_costs")
	CreditObservations      = Define[CreditObservation]("billing.credit_observations")
	ThresholdObservations   = Define[ThresholdObservation]("billing.threshold_observations")
)

// WarehouseTables lists every billing table the crawler writes.
var WarehouseTables = append([]*Table{
	Resources.Table, ResourceMonthCosts.Table, CostDatapoints.Table, VMSubresourceCosts.Table, VMSubresourceDatapoints.Table,
	ClusterNodeCosts.Table, BillingEvents.Table, OrgMonthCosts.Table, OrgCostDatapoints.Table, UsageSnapshots.Table,
	LastDayCosts.Table, CreditObservations.Table, ThresholdObservations.Table, DataQualities.Table,
}, soracomTables...)

// RawPayload rows keep each distinct body once per endpoint and query; a
// body fetched again only moves its fetched_at and run_id.
type RawPayloadRow struct {
	Endpoint      string     `db:"endpoint,key"`
	Params        string     `db:"params,key"`
	ContentSHA256 []byte     `db:"content_sha256,key"`
	WindowStart   *time.Time `db:"window_start"`
	WindowEnd     *time.Time `db:"window_end"`
	RunID         int64      `db:"run_id"`
	StatusCode    int        `db:"status_code"`
	FetchedAt     time.Time  `db:"fetched_at"`
	BodyGzip      []byte     `db:"body_gzip"`
	// DecodedAt is when the body was decoded and written with its unit;
	// nil for the body of a failed unit, kept for whoever investigates
	// (a later nil never erases an earlier time).
	DecodedAt *time.Time `db:"decoded_at,keep"`
}

// FetchStateRow is when a unit was last fetched and what it looked like.
type FetchStateRow struct {
	Unit          string    `db:"unit,key"`
	Fingerprint   string    `db:"fingerprint"`
	FetchedAt     time.Time `db:"fetched_at"`
	FullRefreshAt time.Time `db:"full_refresh_at"`
	RunID         int64     `db:"run_id"`
}

// Undecoded is a copy of a raw payload row marked as not decoded: the body
// of a unit that failed, which freshness and reprocess do not count.
func Undecoded(raw []any) []any {
	out := slices.Clone(raw)
	out[decodedAtColumn] = nil
	return out
}

var decodedAtColumn = slices.Index(RawPayloads.columns(), "decoded_at")

// Ingest bookkeeping, written in the same transactions as the data it
// describes.
var (
	RawPayloads = Define[RawPayloadRow]("ingest.raw_payloads")
	FetchState  = Define[FetchStateRow]("ingest.fetch_state")
)
