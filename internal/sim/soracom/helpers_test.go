package soracom

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"
	"time"
)

// testNow is the fixed clock of most tests: the 20th, so February to April
// are closed and May is preliminary.
var testNow = time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func newTestModel(t testing.TB, cfg ModelConfig) *Model {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock(testNow)
	}
	if cfg.Seed == 0 {
		cfg.Seed = 42
	}
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func month(t testing.TB, s string) Month {
	t.Helper()
	mo, err := ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return mo
}

// csvFile is a parsed detailed billing CSV.
type csvFile struct {
	header []string
	col    map[string]int
	rows   [][]string
}

// parseCSV reads a CSV as a client would, with encoding/csv, after checking
// and dropping the byte-order mark.
func parseCSV(t testing.TB, b []byte) csvFile {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		t.Fatalf("no byte-order mark: %.40q", b)
	}
	recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	f := csvFile{header: recs[0], col: map[string]int{}, rows: recs[1:]}
	for i, h := range f.header {
		f.col[h] = i
	}
	return f
}

func (f csvFile) get(row []string, col string) string {
	i, ok := f.col[col]
	if !ok {
		return ""
	}
	return row[i]
}

func mustMoney(t testing.TB, s string) Money {
	t.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustInt(t testing.TB, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
