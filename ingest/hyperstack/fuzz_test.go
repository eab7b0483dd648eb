package hyperstack

import (
	"errors"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// FuzzDecoders feeds arbitrary bodies to every decoder of the catalog: none
// may panic, and a body they reject must be reported as ErrMalformed.
func FuzzDecoders(f *testing.F) {
	for _, seed := range []string{
		`{"status": true, "message": "ok", "billing_history_vm": {"billing_history": [{"attributes": {"infrahub_id": 7, "resource_name": "a"}, "metrics": {"incurred_bill": 1.5}}], "pagination": {"page": 1, "pages": 1}}}`,
		`{"status": true, "billing_history_vm_details": {"billing_history": [{"attributes": {"id": "x"}, "metrics": {"incurred_bill": "1"}}], "granularity": 3600}}`,
		`{"status": true, "billing_events_history": [{"start": "2026-01-01T00:00:00Z", "event": "ACTIVE", "total_cost": 1e-3}]}`,
		`{"status": true, "data": [{"resource_id": 1, "resource_type": "vm", "create_time": "2026-01-01 00:00:00"}]}`,
		`{"status": true, "thresholds": [{"id": 1, "threshold": null}]}`,
		`{"status": false, "message": "boom"}`,
		`{"a": [`, `[]`, `null`, `{"data": {"credit": 12345678901234567890e-5}}`,
	} {
		f.Add(seed)
	}
	w := store.Window{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	f.Fuzz(func(t *testing.T, body string) {
		for _, ep := range Catalog {
			d, err := ep.Decode(&fetched{ep: ep, owner: store.Owner{Provider: Name, Account: "default"}, id: "42", window: w, observed: w.End, current: true, body: []byte(body)})
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("%s: an error that is not ErrMalformed: %v", ep.Name, err)
				}
				continue
			}
			for _, wr := range d.writes {
				cols := len(wr.Table.Key) + len(wr.Table.Values)
				for _, row := range wr.Rows {
					if len(row) != cols {
						t.Fatalf("%s: a row of %s has %d values, the table %d columns", ep.Name, wr.Table.Name, len(row), cols)
					}
					for i := range wr.Table.Key {
						if row[i] == nil {
							t.Fatalf("%s: a row of %s has a NULL key column %s", ep.Name, wr.Table.Name, wr.Table.Key[i])
						}
					}
				}
			}
		}
	})
}
