package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

func TestReportCommand(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	conn := dbtest.Conn(t, url)
	_, err := conn.Exec(t.Context(), `
INSERT INTO billing.resources (provider, account, family, resource_id, name, base_model) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', 'train-1', NULL), ('hyperstack', 'default', 'serverless_inference', '3', 'endpoint-3', 'meta/llama');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill, price_per_hour, usage_seconds, input_tokens, output_tokens) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01', 1234.5678, 1300, 1.92, 3600, NULL, NULL),
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-09-01', 99, 99, 1.92, 3600, NULL, NULL),
  ('hyperstack', 'default', 'serverless_inference', '3', '2026-10-01', 0.0123, 0.0123, NULL, 3600, 30000, 10000);`)
	if err != nil {
		t.Fatal(err)
	}
	show := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(t.Context(), lifecycle{}, append(append([]string{"report"}, args...), "--database-url", url), &out, &errOut); err != nil {
			t.Fatalf("report %v: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}

	list := show("list")
	if !strings.Contains(list, "resource_month_cost_v1") || !strings.Contains(list, "focus_v1") || !strings.Contains(list, "What each resource cost") {
		t.Errorf("report list:\n%s", list)
	}

	records, err := csv.NewReader(strings.NewReader(show("show", "resource_month_cost_v1", "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v", err)
	}
	if len(records) != 4 || records[0][0] != "provider" || records[0][1] != "billing_month" {
		t.Fatalf("csv: %q", records)
	}
	if !strings.Contains(strings.Join(records[3], ","), "1234.5678") {
		t.Errorf("csv loses precision: %q", records)
	}

	var objs []map[string]any
	dec := json.NewDecoder(strings.NewReader(show("show", "resource_month_cost_v1", "--month", "2026-10", "--format", "json")))
	dec.UseNumber()
	if err := dec.Decode(&objs); err != nil {
		t.Fatalf("json: %v", err)
	}
	if len(objs) != 2 || objs[0]["billing_month"] != "2026-10-01" {
		t.Fatalf("json for October: %v", objs)
	}

	table := show("show", "ai_usage_v1")
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != 3 || lines[2] != "(1 rows)" {
		t.Fatalf("table:\n%s", table)
	}
	// 0.0123 USD for 40,000 tokens: 0.3075 per million, shown with 6 decimals; money with 2.
	if !strings.Contains(lines[1], "0.307500") || !strings.Contains(lines[1], " 0.01 ") {
		t.Errorf("table does not format money to 2 decimals and per-token costs with more:\n%s", table)
	}
	header, row := lines[0], lines[1]
	if len(header) != len(row) {
		t.Errorf("columns are not aligned:\n%s", table)
	}

	var out, errOut bytes.Buffer
	if err := run(t.Context(), lifecycle{}, []string{"report", "show", "nope_v1", "--database-url", url}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "no report named") {
		t.Errorf("unknown report: %v", err)
	}
	// A near miss gets suggestions.
	err = run(t.Context(), lifecycle{}, []string{"report", "show", "daily_cots", "--database-url", url}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), `no report named "daily_cots"; did you mean daily_cost_v`) {
		t.Errorf("a near miss: %v", err)
	}
	if err := run(t.Context(), lifecycle{}, []string{"report", "show", "x; DROP TABLE billing.resources", "--database-url", url}, &out, &errOut); err == nil {
		t.Error("a name that is no report was accepted")
	}
}

// TestReportCommandLine: flags before and after the name, a name without
// its version, help, and how a table reads.
func TestReportCommandLine(t *testing.T) {
	t.Parallel()
	url := dbtest.New(t)
	conn := dbtest.Conn(t, url)
	if _, err := conn.Exec(t.Context(), `
INSERT INTO billing.resources (provider, account, family, resource_id, name) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', 'train-1'), ('hyperstack', 'default', 'volume', '2', 'data-2');
INSERT INTO billing.resource_month_costs (provider, account, family, resource_id, billing_month, incurred_bill, non_discounted_bill, price_per_hour, usage_seconds) VALUES
  ('hyperstack', 'default', 'virtual-machine', '1', '2026-10-01', 1234.5678, 1300, 1.92, 2678400),
  ('hyperstack', 'default', 'volume', '2', '2026-10-01', -0.001, 0, 0.1, 3600);`); err != nil {
		t.Fatal(err)
	}
	show := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(t.Context(), lifecycle{}, append(append([]string{"report"}, args...), "--database-url", url), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	before, _, err1 := show("show", "--format", "csv", "top_resources_v1")
	after, _, err2 := show("show", "top_resources_v1", "--format", "csv")
	if err1 != nil || err2 != nil || before != after || !strings.HasPrefix(before, "provider,") {
		t.Errorf("flags before and after the name: %v %v\n%s\n%s", err1, err2, before, after)
	}
	newest, _, err := show("show", "resource_month_cost", "--format", "csv")
	if err != nil || newest != func() string { s, _, _ := show("show", "resource_month_cost_v1", "--format", "csv"); return s }() {
		t.Errorf("a name without its version: %v\n%s", err, newest)
	}
	_, help, err := show("show", "--help")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(help, "Usage: ingest report show NAME") || !strings.Contains(help, "-limit N") {
		t.Errorf("report show --help: %v\n%s", err, help)
	}
	_, help, err = show("list", "--help")
	if !errors.Is(err, flag.ErrHelp) || strings.Contains(help, "-limit") || strings.Contains(help, "-format") {
		t.Errorf("report list --help lists flags it does not take: %v\n%s", err, help)
	}

	// Text left, numbers right; money to the cent, never -0.00; seconds
	// and whole numbers without decimals; rates with 6.
	table, _, err := show("show", "resource_month_cost_v1", "--month", "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if len(lines) != 4 || lines[3] != "(2 rows)" {
		t.Fatalf("table:\n%s", table)
	}
	for _, want := range []string{" 1234.57 ", " 744  default\n", " 1.920000 ", " 0.00 ", " 65.43 "} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
	if strings.Contains(table, "-0.00") || strings.Contains(table, "744.00") || strings.Contains(table, "0.001") {
		t.Errorf("the table shows -0.00 or decimals on a count:\n%s", table)
	}
	header := lines[0]
	if !strings.HasPrefix(header, "provider  ") || !strings.Contains(header, "  incurred_bill") {
		t.Errorf("header %q: text columns should start at the left, numbers end at the right", header)
	}
	empty, _, _ := show("show", "resource_month_cost_v1", "--month", "2020-01")
	if empty != "0 rows\n" {
		t.Errorf("an empty result: %q", empty)
	}
	// JSON keys come in the view's column order.
	js, _, _ := show("show", "resource_month_cost_v1", "--month", "2026-10", "--format", "json", "--limit", "1")
	if i, j := strings.Index(js, `"provider"`), strings.Index(js, `"billing_month"`); i < 0 || j < i {
		t.Errorf("json keys out of column order:\n%s", js)
	}
	// Rows wider than the terminal print one field a line.
	var b strings.Builder
	cols := []string{"BillingAccountId", "BilledCost", "ServiceName", "x_Note"}
	rows := [][]any{{"default", nil, strings.Repeat("a very long service name ", 4), "x"}}
	if err := writeTable(&b, cols, rows, 80); err != nil || b.String() !=
		"-[ RECORD 1 ]-\nBillingAccountId | default\nBilledCost       | \nServiceName      | "+rows[0][2].(string)+"\nx_Note           | x\n(1 rows)\n" {
		t.Errorf("a wide row on an 80-column terminal: %v\n%s", err, b.String())
	}
	b.Reset()
	writeTable(&b, cols[:2], [][]any{{"default", nil}}, 80)
	if b.String() != "BillingAccountId  BilledCost\ndefault                     \n(1 rows)\n" {
		t.Errorf("a narrow row: %q", b.String())
	}
}
