package store

import (
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// CloudSigma's tables (migrations/00007_cloudsigma.sql). Its balance goes to
// CreditObservations, as every source's does.

// CloudSigmaLedgerEntry is one entry of an account's ledger, with the
// balance chain around it and what its reason names.
type CloudSigmaLedgerEntry struct {
	EntryID         string           `db:"entry_id,key"`
	Time            time.Time        `db:"time"`
	PollTime        *time.Time       `db:"poll_time"`
	Amount          *decimal.Decimal `db:"amount,tracked"`
	InitialBalance  *decimal.Decimal `db:"initial_balance,tracked"`
	EndBalance      *decimal.Decimal `db:"end_balance,tracked"`
	Currency        *string          `db:"currency,keep"`
	Kind            string           `db:"kind"`
	Resource        *string          `db:"resource"`
	ResourceAmount  *decimal.Decimal `db:"resource_amount"`
	BillingCycle    *int64           `db:"billing_cycle"`
	IntervalSeconds *int             `db:"interval_seconds"`
	Reference       *string          `db:"reference"`
	Reason          string           `db:"reason"`
}

// CloudSigmaUsage is /usage/'s samples of one resource summed over an hour
// or a day.
type CloudSigmaUsage struct {
	Resource      string          `db:"resource,key"`
	BucketSeconds int             `db:"bucket_seconds,key"`
	BucketStart   time.Time       `db:"bucket_start,key"`
	UnitSamples   decimal.Decimal `db:"unit_samples,tracked"`
	Samples       int             `db:"samples"`
	Objects       int             `db:"objects"`
}

// CloudSigmaSubscription is a commitment: an amount of a resource bought
// for a period.
type CloudSigmaSubscription struct {
	SubscriptionID  string           `db:"subscription_id,key"`
	UUID            *string          `db:"uuid"`
	Resource        string           `db:"resource"`
	Amount          decimal.Decimal  `db:"amount"`
	Price           decimal.Decimal  `db:"price,tracked"`
	Currency        *string          `db:"currency,keep"`
	Period          *string          `db:"period"`
	StartTime       time.Time        `db:"start_time"`
	EndTime         time.Time        `db:"end_time"`
	Status          *string          `db:"status"`
	AutoRenew       *bool            `db:"auto_renew"`
	FreeTier        *bool            `db:"free_tier"`
	DiscountAmount  *decimal.Decimal `db:"discount_amount"`
	DiscountPercent *decimal.Decimal `db:"discount_percent"`
}

// CloudSigmaPrice is one line of the price list.
type CloudSigmaPrice struct {
	Resource   string           `db:"resource,key"`
	Currency   string           `db:"currency,key"`
	Level      int              `db:"level,key"`
	Price      decimal.Decimal  `db:"price,tracked"`
	Unit       *string          `db:"unit"`
	Multiplier *decimal.Decimal `db:"multiplier"`
}

// CloudSigmaBurstLevel is a resource's burst level in one billing cycle.
type CloudSigmaBurstLevel struct {
	Resource   string    `db:"resource,key"`
	CycleStart time.Time `db:"cycle_start,key"`
	Level      int       `db:"level"`
}

// CloudSigmaDiscount is the discount of a subscription period.
type CloudSigmaDiscount struct {
	Period string          `db:"period,key"`
	Value  decimal.Decimal `db:"value"`
}

// CloudSigmaLicence is a licence the cloud bills for.
type CloudSigmaLicence struct {
	Name       string  `db:"name,key"`
	LongName   *string `db:"long_name"`
	Type       *string `db:"type"`
	UserMetric *string `db:"user_metric"`
	Burstable  *bool   `db:"burstable"`
}

var (
	CloudSigmaLedgerEntries = Define[CloudSigmaLedgerEntry]("billing.cloudsigma_ledger_entries")
	CloudSigmaUsages        = Define[CloudSigmaUsage]("billing.cloudsigma_usage")
	CloudSigmaSubscriptions = Define[CloudSigmaSubscription]("billing.cloudsigma_subscriptions")
	CloudSigmaPrices        = Define[CloudSigmaPrice]("billing.cloudsigma_prices")
	CloudSigmaBurstLevels   = Define[CloudSigmaBurstLevel]("billing.cloudsigma_burst_levels")
	CloudSigmaDiscounts     = Define[CloudSigmaDiscount]("billing.cloudsigma_discounts")
	CloudSigmaLicences      = Define[CloudSigmaLicence]("billing.cloudsigma_licences")
)

// cloudSigmaTables are CloudSigma's part of WarehouseTables.
var cloudSigmaTables = []*Table{
	CloudSigmaLedgerEntries.Table, CloudSigmaUsages.Table, CloudSigmaSubscriptions.Table, CloudSigmaPrices.Table,
	CloudSigmaBurstLevels.Table, CloudSigmaDiscounts.Table, CloudSigmaLicences.Table,
}

// Appended here rather than listed in tables.go, so sources added in
// parallel do not edit the same lines.
func init() { WarehouseTables = append(WarehouseTables, cloudSigmaTables...) }
