package hyperstack

import (
	"os"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestUsageTimes: the usage endpoint's times come with a Z in the 2026
// docs' example and without a zone in the older page's; both are UTC.
func TestUsageTimes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		file    string
		created time.Time
	}{
		{"testdata/docs_usage.json", time.Date(2026, 5, 6, 15, 18, 42, 0, time.UTC)},
		{"testdata/docs_usage_2023.json", time.Date(2023, 8, 23, 15, 36, 10, 0, time.UTC)},
	} {
		body, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		f := &fetched{ep: endpoint("usage/deleted"), owner: store.Owner{Provider: Name, Account: "default"}, observed: c.created, body: body}
		d, err := decode(f)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(d.lifetimes) != 1 || !d.lifetimes[0].life.Start.Equal(c.created) || d.lifetimes[0].life.Start.Location() != time.UTC {
			t.Errorf("%s: lifetimes %+v, want a start of %s", c.file, d.lifetimes, c.created)
		}
	}
}
