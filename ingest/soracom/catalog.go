package soracom

import (
	"net/http"
	"strings"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Endpoint is one row of the catalog: a path of the API, how it is decoded
// and what it writes. Export, poll and auth answers carry secrets (a
// signed link, a token): they are never kept as raw payloads and have no
// decoder for replay.
type Endpoint struct {
	Name    string // in the ledger and the raw payloads
	Method  string
	Path    string // as in the spec, {param} included
	Decode  func(*fetched) (decoded, error)
	Targets []*store.Table
	// Secret answers are read once and dropped.
	Secret bool
}

var bills = []*store.Table{store.SoracomBills.Table}

// Catalog lists every endpoint the source calls. TestCatalogCoversSpec
// holds it to the spec subset.
var Catalog = []*Endpoint{
	{Name: "auth", Method: http.MethodPost, Path: "/auth", Secret: true},
	{Name: "bills", Method: http.MethodGet, Path: "/bills", Decode: decodeBillList, Targets: bills},
	{Name: "bills/latest", Method: http.MethodGet, Path: "/bills/latest", Decode: decodeLatest, Targets: bills},
	{Name: "bills/month", Method: http.MethodGet, Path: "/bills/{yyyyMM}", Decode: decodeBill, Targets: bills},
	{Name: "bills/daily", Method: http.MethodGet, Path: "/bills/{yyyyMM}/daily", Decode: decodeDaily,
		Targets: []*store.Table{store.SoracomDailyBills.Table}},
	{Name: "summaries/bill_items", Method: http.MethodGet, Path: "/bills/summaries/bill_items", Decode: decodeSummaries,
		Targets: []*store.Table{store.SoracomSummaries.Table}},
	{Name: "summaries/sims", Method: http.MethodGet, Path: "/bills/summaries/sims", Decode: decodeSummaries,
		Targets: []*store.Table{store.SoracomSummaries.Table}},
	{Name: "coupons", Method: http.MethodGet, Path: "/coupons", Decode: decodeCoupons,
		Targets: []*store.Table{store.SoracomCoupons.Table}},
	{Name: "export", Method: http.MethodPost, Path: "/bills/{yyyyMM}/export", Secret: true},
	{Name: "export/latest", Method: http.MethodPost, Path: "/bills/latest/export", Secret: true},
	{Name: "exported", Method: http.MethodGet, Path: "/files/exported/{exported_file_id}", Secret: true},
	// The detailed CSV, from the signed link an export hands out; stored
	// as csv/yyyyMM (a preliminary month) or csv/yyyyMM/closed.
	{Name: "csv", Method: http.MethodGet, Path: "(download)", Decode: decodeCSV,
		Targets: []*store.Table{store.SoracomBillItems.Table, store.Resources.Table}},
}

// NotInSpec are catalog paths the spec subset lacks, with why they are
// called anyway.
var NotInSpec = map[string]string{
	"/coupons":   "the coupon balances; Soracom's API has it, the billing subset does not",
	"(download)": "the signed link of an export, on the file host",
}

// Excluded are the spec's paths the source does not call, with why.
var Excluded = map[string]string{
	"/auth/logout": "the token expires by itself; a logout would only cost a request",
}

// endpoint finds a catalog entry by the name it is stored under: daily
// and CSV names carry the month's state (and, for CSVs, the month).
func endpoint(stored string) *Endpoint {
	name := stored
	switch {
	case strings.HasPrefix(stored, "csv/"):
		name = "csv"
	case stored == "bills/daily/closed":
		name = "bills/daily"
	}
	for _, e := range Catalog {
		if e.Name == name && !e.Secret {
			return e
		}
	}
	return nil
}

// rateKey is the limit a request counts against: Soracom limits each API
// path, its parameters aside (/bills/202603 and /bills/202604 share one).
func rateKey(method, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case len(s) == 6 && isDigits(s):
			segs[i] = "{yyyyMM}"
		case i > 0 && segs[i-1] == "exported":
			segs[i] = "{exported_file_id}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
