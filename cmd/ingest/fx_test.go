package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// ecbSample is the ECB's historical file as it comes: newest day first, a
// trailing comma, N/A for currencies not quoted that day.
const ecbSample = `Date,USD,JPY,CYP,CHF,
2026-10-02,1.1710,172.50,N/A,0.9365,
2026-10-01,1.1725,N/A,N/A,0.9370,
`

func TestFXImport(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	file := filepath.Join(t.TempDir(), "eurofxref-hist.csv")
	if err := os.WriteFile(file, []byte(ecbSample), 0o600); err != nil {
		t.Fatal(err)
	}
	fx := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(t.Context(), lifecycle{}, append(append([]string{"fx", "import"}, args...), "--database-url", url), &out, &errOut); err != nil {
			t.Fatalf("fx import %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	if got := fx(file, "--reporting-currency", "EUR"); !strings.Contains(got, "5 rates: 5 new, 0 revised, 0 unchanged") {
		t.Errorf("first import: %q", got)
	}
	// The ECB revises a rate: the second import takes it, the rest is unchanged.
	if err := os.WriteFile(file, []byte(strings.Replace(ecbSample, "1.1725", "1.1726", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := fx(file); !strings.Contains(got, "5 rates: 0 new, 1 revised, 4 unchanged") {
		t.Errorf("second import: %q", got)
	}
	conn := dbtest.Conn(t, url)
	var rows []string
	r, _ := conn.Query(t.Context(), `SELECT currency || ' ' || day || ' ' || to_reporting::numeric(12, 6) FROM reports.fx_rates_v1
		WHERE currency IN ('USD', 'JPY', 'EUR') ORDER BY day, currency`)
	for r.Next() {
		var s string
		r.Scan(&s)
		rows = append(rows, s)
	}
	// 1 USD = 1/1.1726 EUR on Oct 1; JPY has no rate that day: no row.
	want := "EUR 2026-10-01 1.000000,USD 2026-10-01 0.852806,EUR 2026-10-02 1.000000,JPY 2026-10-02 0.005797,USD 2026-10-02 0.853971"
	if strings.Join(rows, ",") != want {
		t.Errorf("fx_rates_v1:\n%s\nwant\n%s", strings.Join(rows, ","), want)
	}

	var out, errOut bytes.Buffer
	if err := os.WriteFile(file, []byte("Date,USD\n2026-10-03,abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), lifecycle{}, []string{"fx", "import", file, "--database-url", url}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a bad rate: %v", err)
	}
}
