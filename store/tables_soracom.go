package store

import (
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// The Soracom tables (migrations/00005_soracom.sql). Each money figure is
// there twice: Amount, the latest, and FinalAmount, set once the month
// closed and the only one tracked, so that a preliminary month's growth is
// not a restatement and a closed month's change is.

// SoracomBill is a month's bill: /bills, /bills/{yyyyMM}, /bills/latest.
type SoracomBill struct {
	BillingMonth         time.Time        `db:"billing_month,key"`
	Amount               decimal.Decimal  `db:"amount"`
	AppliedCouponAmount  *decimal.Decimal `db:"applied_coupon_amount,keep"`
	Currency             *string          `db:"currency,keep"`
	State                *string          `db:"state,keep"`
	PaymentStatus        *string          `db:"payment_status,keep"`
	PaymentTransactionID *string          `db:"payment_transaction_id,keep"`
	LastEvaluatedAt      *time.Time       `db:"last_evaluated_at,keep"`
	FinalAmount          *decimal.Decimal `db:"final_amount,tracked,keep"`
}

// SoracomDailyBill is one day's total of a month: /bills/{yyyyMM}/daily.
type SoracomDailyBill struct {
	BillingMonth time.Time        `db:"billing_month,key"`
	Day          time.Time        `db:"day,key"`
	Amount       decimal.Decimal  `db:"amount"`
	Currency     *string          `db:"currency"`
	FinalAmount  *decimal.Decimal `db:"final_amount,tracked"`
}

// SoracomBillItem is one key of the detailed billing CSV, its rows summed.
type SoracomBillItem struct {
	BillingMonth  time.Time        `db:"billing_month,key"`
	ChargeDate    time.Time        `db:"charge_date,key"`
	Family        string           `db:"family,key"`
	ResourceID    string           `db:"resource_id,key"`
	BillItemName  string           `db:"bill_item_name,key"`
	Monthly       bool             `db:"monthly,key"` // last: the writer compares bools slowly
	IMSI          *string          `db:"imsi"`
	UnitPrice     *decimal.Decimal `db:"unit_price"`
	Quantity      decimal.Decimal  `db:"quantity"`
	Amount        decimal.Decimal  `db:"amount"`
	FinalAmount   *decimal.Decimal `db:"final_amount,tracked"`
	Tags          map[string]any   `db:"tags"`
	SIMGroup      *string          `db:"sim_group"`
	CorrectsMonth *time.Time       `db:"corrects_month"`
}

// SoracomSummary is one line of a month's cost summary, by bill item or by SIM.
type SoracomSummary struct {
	BillingMonth time.Time       `db:"billing_month,key"`
	Breakdown    string          `db:"breakdown,key"`
	Item         string          `db:"item,key"`
	Category     *string         `db:"category"`
	Amount       decimal.Decimal `db:"amount"`
	Currency     *string         `db:"currency"`
	UpdatedAt    *time.Time      `db:"updated_at"`
}

// SoracomCoupon is a coupon and its balance as last seen. (Keyed by the
// day it was seen, an unchanged balance would only come back from
// reprocess on its last day: a body is stored once.)
type SoracomCoupon struct {
	CouponCode  string           `db:"coupon_code,key"`
	Amount      *decimal.Decimal `db:"amount"`
	Balance     *decimal.Decimal `db:"balance"`
	ExpiryMonth *time.Time       `db:"expiry_month"`
}

var (
	SoracomBills      = Define[SoracomBill]("billing.soracom_bills")
	SoracomDailyBills = Define[SoracomDailyBill]("billing.soracom_daily_bills")
	SoracomBillItems  = Define[SoracomBillItem]("billing.soracom_bill_items")
	SoracomSummaries  = Define[SoracomSummary]("billing.soracom_summaries")
	SoracomCoupons    = Define[SoracomCoupon]("billing.soracom_coupons")
)

// soracomTables are the Soracom source's tables, in WarehouseTables.
var soracomTables = []*Table{
	SoracomBills.Table, SoracomDailyBills.Table, SoracomBillItems.Table, SoracomSummaries.Table, SoracomCoupons.Table,
}
