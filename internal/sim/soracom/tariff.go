package soracom

import "time"

// Coverage is a Soracom coverage: Japan bills in yen, global in dollars.
// The two are separate accounts' bill streams; a simulator serves one.
type Coverage string

const (
	CoverageJapan  Coverage = "jp"
	CoverageGlobal Coverage = "g"
)

// plan is a SIM subscription's price list.
type plan struct {
	name    string
	basic   Money // per day, 0 when the plan has a monthly fee instead
	monthly Money // per month
}

// tariff is a coverage's price list. The prices are the simulator's, in the
// shape of Soracom's published ones; they are chosen so every row amount is
// a whole number of Money.
type tariff struct {
	currency     string
	minor        Money // the currency's smallest unit on an invoice
	loc          *time.Location
	taxPercent   int64
	plans        []plan
	dataStandard Money // per MB, speed class standard
	dataFast     Money // per MB, speed class fast
	sms          Money // per message
	device       Money // per Inventory device per day
	vpgHour      Money // per VPG per hour
	longTermPct  int64 // discount on the basic charge of long-term SIMs
	freeMB       int64 // data free tier per account per month
	volumeFrom   Money // data charge above which the volume discount applies
	volumePct    int64
	coupons      []Money
	imsiPrefix   string
	iccidPrefix  string
}

var jst = time.FixedZone("JST", 9*60*60)

var tariffs = map[Coverage]*tariff{
	CoverageJapan: {
		currency: "JPY", minor: Micro, loc: jst, taxPercent: 10,
		plans: []plan{
			{name: "plan-D", basic: 10 * Micro},
			{name: "plan-K", basic: 15 * Micro},
			{name: "plan-KM1", monthly: 880 * Micro},
		},
		dataStandard: Micro / 5, dataFast: 3 * Micro / 10, sms: 3 * Micro, device: 4 * Micro,
		vpgHour: 40 * Micro, longTermPct: 20, freeMB: 500, volumeFrom: 50_000 * Micro, volumePct: 5,
		coupons:    []Money{5_000 * Micro, 2_000 * Micro},
		imsiPrefix: "44010", iccidPrefix: "8981100",
	},
	CoverageGlobal: {
		currency: "USD", minor: Micro / 100, loc: time.UTC, taxPercent: 0,
		plans: []plan{
			{name: "plan01s", basic: 60_000},
			{name: "planP1", basic: 100_000},
			{name: "planX3", monthly: 3 * Micro},
		},
		dataStandard: 2_000, dataFast: 3_000, sms: 50_000, device: 40_000,
		vpgHour: 400_000, longTermPct: 20, freeMB: 500, volumeFrom: 500 * Micro, volumePct: 5,
		coupons:    []Money{50 * Micro, 20 * Micro},
		imsiPrefix: "29505", iccidPrefix: "8942310",
	},
}

// Bill item categories, as the bill-item summary groups them.
const (
	CategoryAir        = "Air"
	CategoryInventory  = "Inventory"
	CategoryVPG        = "Canal/Gate"
	CategoryAdjustment = "Adjustment"
)
