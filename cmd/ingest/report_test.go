package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
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
	if len(lines) != 2 {
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
	if err := run(t.Context(), lifecycle{}, []string{"report", "show", "x; DROP TABLE billing.resources", "--database-url", url}, &out, &errOut); err == nil {
		t.Error("a name that is no report was accepted")
	}
}
