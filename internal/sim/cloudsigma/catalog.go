package cloudsigma

import (
	"fmt"
	"math/big"
)

// Resource is one billed resource of the price list ("cpu", "dssd", …).
type Resource struct {
	Name       string
	Unit       string // the price's unit, as /pricing/ writes it
	Multiplier int64  // turns a price per Unit into a price per usage unit per second
	Display    string // how a ledger reason names the amount ("GB", "GHz")
	DisplayDiv int64  // usage units per Display unit
	BaseUSD    string // the subscription (level 0) price in USD per Unit
	Burstable  bool
}

const (
	gib         = int64(1) << 30
	monthSecs   = int64(30 * 24 * 3600) // the price list's month: 2,592,000 s
	maxLevel    = 5                     // burst levels are 1..maxLevel; 0 is the subscription price
	cycleSecs   = 300
	cycleLength = cycleSecs * 1e9
)

// Resources is the price list, in a fixed order; a resource's index is its
// id inside the model. It holds the resources the docs' /currentusage/ and
// /pricing/ examples name that a server of the model can use, plus a few
// that the model prices but never uses.
var Resources = []Resource{
	{"cpu", "GHz/month", 1000 * monthSecs, "GHz", 1000, "5.00", true},
	{"mem", "GB/month", gib * monthSecs, "GB", gib, "5.00", true},
	{"intel_cpu", "GHz/month", 1000 * monthSecs, "GHz", 1000, "5.50", true},
	{"intel_mem", "GB/month", gib * monthSecs, "GB", gib, "5.20", true},
	{"amd_cpu", "GHz/month", 1000 * monthSecs, "GHz", 1000, "4.50", true},
	{"amd_mem", "GB/month", gib * monthSecs, "GB", gib, "4.80", true},
	{"dssd", "GB/month", gib * monthSecs, "GB", gib, "0.14", true},
	{"ssd", "GB/month", gib * monthSecs, "GB", gib, "0.20", true},
	{"ip", "IP/month", monthSecs, "IP", 1, "4.00", true},
	{"vlan", "VLAN/month", monthSecs, "VLAN", 1, "8.00", true},
	{"msft_p73_04837_core", "core/month", monthSecs, "core", 1, "3.00", true},
	{"msft_7jq_00341", "core/month", monthSecs, "core", 1, "180.00", false},
	{"msft_7nq_00302", "core/month", monthSecs, "core", 1, "45.00", false},
	{"msft_tfa_00523", "core/month", monthSecs, "core", 1, "12.00", false},
	{"tx", "GB", gib, "GB", gib, "0.05", true},
	{"sms", "SMS", 1, "SMS", 1, "0.10", true},
	{"sparc_t4_cpu", "GHz/month", 1000 * monthSecs, "GHz", 1000, "9.00", true},
	{"sparc_t4_mem", "GB/month", gib * monthSecs, "GB", gib, "8.00", true},
	{"vlan_ecx", "VLAN/month", monthSecs, "VLAN", 1, "30.00", true},
	{"zadara", "GB/month", gib * monthSecs, "GB", gib, "0.30", true},
}

// Resource ids the model's servers use.
const (
	resCPU = iota
	resMem
	resIntelCPU
	resIntelMem
	resAMDCPU
	resAMDMem
	resDSSD
	resSSD
	resIP
	resVLAN
	resWindows
)

// ResourceIndex returns a resource's id, or -1.
func ResourceIndex(name string) int {
	for i, r := range Resources {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// Currencies are those the price list carries, with what one USD of the
// list costs in each.
var Currencies = []struct {
	Code   string
	Factor string
}{{"USD", "1"}, {"EUR", "0.75"}, {"GBP", "0.65"}, {"CHF", "0.95"}}

// currencyFactor returns the factor of a currency, or false.
func currencyFactor(code string) (*big.Rat, bool) {
	for _, c := range Currencies {
		if c.Code == code {
			r, _ := new(big.Rat).SetString(c.Factor)
			return r, true
		}
	}
	return nil, false
}

// Price is the price of a resource per its Unit at a burst level (0 is the
// subscription price): the USD base × the currency's factor × (level + 1),
// so level 1 is twice the subscription price, as the docs' dssd prices are
// (0.14 and 0.28 USD).
func Price(resource int, currency string, level int) Money {
	f, ok := currencyFactor(currency)
	if !ok {
		panic(fmt.Sprintf("cloudsigma: unknown currency %q", currency))
	}
	base, _ := new(big.Rat).SetString(Resources[resource].BaseUSD)
	base.Mul(base, f)
	base.Mul(base, new(big.Rat).SetInt64(int64(level+1)))
	return roundRat(base)
}

// Discount is a subscription period's discount, as /discount/ lists them.
type Discount struct {
	Period string
	Months int
	Value  string // a fraction with 10 digits
}

// Periods are the subscription periods one can buy, with their discounts;
// "1 month" has none and /discount/ does not list it.
var Periods = []Discount{
	{"1 month", 1, "0.0000000000"},
	{"3 months", 3, "0.0300000000"},
	{"6 months", 6, "0.1000000000"},
	{"1 year", 12, "0.2500000000"},
	{"2 years", 24, "0.3500000000"},
	{"3 years", 36, "0.4500000000"},
}

func periodByName(name string) (Discount, bool) {
	for _, p := range Periods {
		if p.Period == name {
			return p, true
		}
	}
	return Discount{}, false
}

// License is one entry of /licenses/, as the docs list them.
type License struct {
	ID         int
	Name       string
	LongName   string
	Type       string
	UserMetric string
	Burstable  bool
}

var Licenses = []License{
	{13, "msft_7jq_00341", "SQL Server Enterprise Edition", "instance", "smp", false},
	{14, "msft_7nq_00302", "SQL Server Standard Edition", "instance", "smp", false},
	{12, "msft_p73_04837_core", "Windows Server", "instance", "smp", true},
	{15, "msft_tfa_00523", "SQL Server Web", "instance", "smp", false},
}
