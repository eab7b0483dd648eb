package cloudsigma

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestParseReason(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		reason, kind, resource, reference string
		sign                              int
	}{
		{"Burst: 4.50 GB of dssd for 5 minutes at 2014-06-05 09:06", "burst", "dssd", "", 1},
		{"Burst: 12.00 GHz of cpu for 2 minutes at 2014-06-05 08:31", "burst", "cpu", "", 1},
		{"Burst: 4.00 core of msft_p73_04837_core for 5 minutes at 2026-03-18 11:56", "licence", "msft_p73_04837_core", "", 1},
		{"Subscription: 4.00 GHz of cpu for 1 month - 3f1c9a2e-0000-4000-8000-000000000001", "subscription", "cpu", "3f1c9a2e-0000-4000-8000-000000000001", 1},
		{"Payment through card - 9b0e4c6a-1111-4000-8000-000000000002", "payment", "", "9b0e4c6a-1111-4000-8000-000000000002", -1},
		{"Promotional credit - WELCOME25", "promotion", "", "WELCOME25", -1},
		{"Refund of subscription - 3f1c9a2e", "refund", "", "3f1c9a2e", -1},
		{"Refund", "refund", "", "", -1},
		{"Something new", "other", "", "", 1},
	} {
		kind, res, ref := parseReason(c.reason, c.sign)
		if kind != c.kind || deref(res) != c.resource || deref(ref) != c.reference {
			t.Errorf("%q: got %s %q %q, want %s %q %q", c.reason, kind, deref(res), deref(ref), c.kind, c.resource, c.reference)
		}
	}
}

// TestBurstResource holds the hand-written reader to the regexp it
// replaced.
func TestBurstResource(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^Burst: [0-9.]+ \S+ of (\S+) for `)
	for _, r := range []string{
		"Burst: 4.50 GB of dssd for 5 minutes at 2014-06-05 09:06", "Burst: 126.00 core of msft_p73_04837_core for 5 minutes",
		"Burst: 4.50 GB of dssd for", "Burst: 4.50 GB of dssd", "Burst:  4.50 GB of dssd for 5", "Burst: 4.5x GB of dssd for 5",
		"Burst: . GB of dssd for 5", "Burst: 4.50  GB of dssd for 5", "Burst: 4.50 GB  of dssd for 5", "Burst: 4.50 GB of  dssd for 5",
		"Burst: 4.50 GB of dssd  for 5", "Burst: 4.50\tGB of dssd for 5", "Burst: 4.50 G\tB of dssd for 5", "Burst: 4.50 GB of ds\rsd for 5",
		"Burst: 4.50 GB of dssd\tfor 5", "Burst: 4.50 GB of dssd for ", "Burst: 4.50 GB of of dssd for 5", "Burst: 4.50 GB of é for 5",
		"burst: 4.50 GB of dssd for 5", " Burst: 4.50 GB of dssd for 5", "Burst: 4.50 GB ofdssd for 5", "Burst: 4.50 GB of dssd forever",
		"Burst: ", "", "Subscription: 4.00 GHz of cpu for 1 month - x",
	} {
		got, ok := burstResource(r)
		m := re.FindStringSubmatch(r)
		if ok != (m != nil) || ok && got != m[1] {
			t.Errorf("%q: got %q %v, the regexp %q", r, got, ok, m)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestCatalogCoversAPI fails when an endpoint of the API (a schema the
// simulator serves, copied from the docs' dumps) is neither in the catalog
// nor excluded with a reason.
func TestCatalogCoversAPI(t *testing.T) {
	t.Parallel()
	files, err := os.ReadDir("../../internal/sim/cloudsigma/schemas")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("only %d schemas", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(f.Name(), "response_"), "_schema.json")
		if endpoint(name) == nil && Excluded[name] == "" {
			t.Errorf("the API's /%s/ is neither in the catalog nor excluded with a reason", name)
		}
	}
	for _, ep := range Catalog {
		if len(ep.Tables) == 0 || ep.Path != "/"+ep.Name+"/" {
			t.Errorf("catalog entry %s: no tables, or a path that is not its name", ep.Name)
		}
	}
}

func TestDecodeLedgerDump(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("../../internal/sim/cloudsigma/testdata/json/response_ledger_list.json")
	if err != nil {
		t.Fatal(err)
	}
	entries, total, err := decodeLedger(body, "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if total != 98203 || len(entries) == 0 || *entries[0].row.Currency != "EUR" || entries[0].row.Kind != "burst" {
		t.Fatalf("total %d, %d entries, first %+v", total, len(entries), entries[0].row)
	}
	// The dump is newest first: reversed, it is a chain.
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	if err := chain(entries); err != nil {
		t.Fatalf("the docs' ledger is not a chain: %v", err)
	}
}
