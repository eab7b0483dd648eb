package cloudsigma

import "github.com/billing-warehouse/billing-warehouse/store"

// Endpoint is one row of the catalog: what the crawl fetches, how, and
// what it writes.
type Endpoint struct {
	Name   string // in the ledger and the raw payloads
	Path   string // under the API URL
	Walk   string // snapshot: once a run, all pages; ledger: time windows, chain-proved; usage: day windows
	Limit  int    // page size
	Tables []*store.Table
}

// Catalog lists every endpoint the warehouse ingests. TestCatalogCoversAPI
// holds it, with Excluded, to the simulator's schema files.
var Catalog = []Endpoint{
	{Name: "balance", Path: "/balance/", Walk: "snapshot", Tables: []*store.Table{store.CreditObservations.Table}},
	{Name: "pricing", Path: "/pricing/", Walk: "snapshot", Limit: 500, Tables: []*store.Table{store.CloudSigmaPrices.Table, store.CloudSigmaBurstLevels.Table}},
	{Name: "discount", Path: "/discount/", Walk: "snapshot", Limit: 100, Tables: []*store.Table{store.CloudSigmaDiscounts.Table}},
	{Name: "licenses", Path: "/licenses/", Walk: "snapshot", Limit: 100, Tables: []*store.Table{store.CloudSigmaLicences.Table}},
	{Name: "subscriptions", Path: "/subscriptions/", Walk: "snapshot", Limit: 100, Tables: []*store.Table{store.CloudSigmaSubscriptions.Table}},
	{Name: "ledger", Path: "/ledger/", Walk: "ledger", Limit: ledgerLimit, Tables: []*store.Table{store.CloudSigmaLedgerEntries.Table}},
	{Name: "usage", Path: "/usage/", Walk: "usage", Limit: usageLimit, Tables: []*store.Table{store.CloudSigmaUsages.Table}},
}

// Excluded are the API's billing endpoints the warehouse does not ingest.
var Excluded = map[string]string{
	"currentusage":    "what runs in the newest cycle; /usage/ has every cycle's samples",
	"burstusage":      "every burst is a ledger entry, with its resource, amount, interval and cost",
	"dailyburstusage": "sums of the ledger's bursts per day, which the warehouse computes itself",
	"profile":         "personal data (name, e-mail); the currency comes from /balance/, the location from the config",
}

// ledgerAnchor is the ledger queried for the entries around a month, to
// link its chain to the rest: stored, never decoded into rows.
const ledgerAnchor = "ledger/anchor"

func endpoint(name string) *Endpoint {
	for i := range Catalog {
		if Catalog[i].Name == name {
			return &Catalog[i]
		}
	}
	return nil
}
