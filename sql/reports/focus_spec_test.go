package reports_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
)

// focusSpec is testdata/focus-1.2.json: the FOCUS 1.2 columns and the
// checks of its rules, each with the spec sentence it enforces (copied from
// the shared reference: a clone has no ../shared).
type focusSpec struct {
	Columns []struct {
		ID                string            `json:"id"`
		FeatureLevel      string            `json:"feature_level"`
		DataType          string            `json:"data_type"`
		AllowsNulls       bool              `json:"allows_nulls"`
		DefinedProperties map[string]string `json:"defined_properties"`
	} `json:"columns"`
	Rules []focusRule `json:"rules"`
}

type focusRule struct {
	ID     string `json:"id"`
	Column string `json:"column"`
	Level  string `json:"level"`
	Spec   struct {
		Quote json.RawMessage `json:"quote"`
	} `json:"spec"`
	Check struct {
		Kind            string   `json:"kind"`
		FeatureLevel    string   `json:"feature_level"`
		Criterion       *string  `json:"criterion"`
		DataType        string   `json:"data_type"`
		When            *string  `json:"when"`
		Fail            string   `json:"fail"`
		By              []string `json:"by"`
		Having          string   `json:"having"`
		Requires        []string `json:"requires"`
		Validator       string   `json:"validator"`
		Test            string   `json:"test"`
		NotNullableOnly bool     `json:"not_nullable_only"`
	} `json:"check"`
}

func (r focusRule) quote() string {
	var one string
	if json.Unmarshal(r.Spec.Quote, &one) == nil {
		return one
	}
	var many []string
	json.Unmarshal(r.Spec.Quote, &many)
	return strings.Join(many, " ")
}

// focusCriteria are the spec's conditions that hold for the providers of
// focus_v2: their columns must be present.
var focusCriteria = map[string]bool{
	"COMMITMENT_DISCOUNTS":  true, // Hyperstack contracts
	"USAGE_MEASUREMENT":     true, // usage seconds, tokens
	"PROVISIONED_RESOURCES": true,
	"RESOURCE_TYPES":        true,
	"PRICE_LISTS":           true, // Hyperstack publishes prices
	"LIST_PRICES":           true,
	"TAGS":                  true, // none yet: the column is NULL, later sources fill it
}

// focusTolerance is what "MUST match" allows between a product of unit
// price and quantity and a cost: the spec leaves precision to the provider.
const focusTolerance = "0.000001"

// unitFormat is FOCUS 1.2's Unit Format (attributes/unit_format.md): a unit,
// a plural unit, "<quantity> <plural-units>" or a composite with "/" and a
// time unit. The units are the spec's data size, time and count units.
var unitFormat = regexp.MustCompile(`^(\d+ )?(` +
	`Bits?|Bytes?|[KMGTPE]i?B|[KMGTPE]i?b|Hours?|Minutes?|Seconds?|Days?|Weeks?|Months?|Years?|` +
	`Count|Units?|Requests?|Tokens?|Connections?|Certificates?|Domains?|Cores?|Instances?|Queries|Query|Transactions?|` +
	`GB-Hours|GB-Months|vCPU-Hours)( ?/ ?(Second|Minute|Hour|Day|Week|Month|Year))?$`)

var quotedColumn = regexp.MustCompile(`"([A-Za-z]+)"`)

// TestFocusV2Conformance runs every rule of FOCUS 1.2 that data can decide
// on focus_v2 over the v2 fixture (two accounts and currencies, a contract
// and its amortization, a correction of a closed month) and over a
// warehouse backfilled from the simulator (every family): each subtest is a
// rule, named by its id, and a failure quotes the spec's sentence.
func TestFocusV2Conformance(t *testing.T) {
	t.Parallel()
	t.Run("fixture", func(t *testing.T) {
		t.Parallel()
		conn := dbtest.Conn(t, dbtest.New(t))
		exec(t, conn, v2Fixture)
		checkFocus(t, conn)
	})
	t.Run("sources fixture", func(t *testing.T) {
		t.Parallel()
		conn := dbtest.Conn(t, dbtest.New(t))
		exec(t, conn, sourcesFixture)
		checkFocus(t, conn)
	})
	t.Run("simulator", func(t *testing.T) {
		t.Parallel()
		checkFocus(t, backfilled(t).conn)
	})
}

func checkFocus(t *testing.T, conn *pgx.Conn) {
	raw, err := os.ReadFile("testdata/focus-1.2.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec focusSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	const view = "reports.focus_v2"

	types := map[string]string{}
	var order []string
	rows, err := conn.Query(t.Context(), `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'reports' AND table_name = 'focus_v2' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n, ty string
		rows.Scan(&n, &ty)
		types[n] = ty
		order = append(order, n)
	}
	focusColumns := map[string]bool{}
	for _, c := range spec.Columns {
		focusColumns[c.ID] = true
	}
	count := func(t *testing.T, sql string) int {
		t.Helper()
		var n int
		if err := conn.QueryRow(t.Context(), sql).Scan(&n); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return n
	}
	present := func(cols ...string) bool {
		for _, c := range cols {
			if types[c] == "" {
				return false
			}
		}
		return true
	}
	referenced := func(exprs ...string) []string {
		var cols []string
		for _, e := range exprs {
			for _, m := range quotedColumn.FindAllStringSubmatch(e, -1) {
				cols = append(cols, m[1])
			}
		}
		return cols
	}
	if n := count(t, "SELECT count(*) FROM "+view); n < 10 {
		t.Fatalf("focus_v2 has only %d rows", n)
	}

	sqlType := map[string]string{"String": "text", "Decimal": "numeric", "Date/Time": "timestamp with time zone", "JSON": "jsonb"}
	checked := 0
	for _, r := range spec.Rules {
		r := r
		c := r.Check
		t.Run(r.ID, func(t *testing.T) {
			fail := func(format string, args ...any) {
				t.Helper()
				t.Errorf("%s %s: %q: %s", r.Level, r.ID, r.quote(), fmt.Sprintf(format, args...))
			}
			q := func(col string) string { return pgx.Identifier{col}.Sanitize() }
			switch c.Kind {
			case "presence":
				need := c.FeatureLevel == "Mandatory" || c.Criterion != nil && focusCriteria[*c.Criterion] && c.FeatureLevel == "Conditional"
				if !need {
					t.Skipf("not required of these providers (%s, %s)", c.FeatureLevel, deref(c.Criterion))
				}
				if types[r.Column] == "" {
					fail("column %s is missing", r.Column)
				}
			case "type":
				if !present(r.Column) {
					t.Skip("column absent")
				}
				if types[r.Column] != sqlType[c.DataType] {
					fail("%s is %s, want %s", r.Column, types[r.Column], sqlType[c.DataType])
				}
			case "row":
				when := "true"
				if c.When != nil {
					when = *c.When
				}
				when = strings.ReplaceAll(when, "{src}", view)
				failExpr := strings.NewReplacer("{tol}", focusTolerance, "{src}", view).Replace(c.Fail)
				if cols := referenced(when, failExpr); !present(cols...) {
					t.Skipf("columns absent: %v", cols)
				}
				if n := count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE (%s) AND (%s)", view, when, failExpr)); n > 0 {
					fail("%d rows where %s AND %s", n, when, failExpr)
				}
			case "group":
				when := "true"
				if c.When != nil {
					when = *c.When
				}
				when = strings.ReplaceAll(when, "{src}", view)
				having := strings.NewReplacer("{tol}", focusTolerance, "{src}", view).Replace(c.Having)
				if cols := referenced(append([]string{when, having}, c.By...)...); !present(append(cols, c.Requires...)...) {
					t.Skipf("columns absent: %v", cols)
				}
				var by []string
				for _, b := range c.By {
					by = append(by, q(b))
				}
				if n := count(t, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s GROUP BY %s HAVING %s) g",
					view, when, strings.Join(by, ", "), having)); n > 0 {
					fail("%d groups where %s", n, having)
				}
			case "values":
				if !present(r.Column) {
					t.Skip("column absent")
				}
				col := q(r.Column)
				switch c.Validator {
				case "iso4217":
					// National currencies: three letters, not the X codes of funds, metals and tests.
					if n := count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s !~ '^[A-WYZ][A-Z]{2}$'", view, col)); n > 0 {
						fail("%d rows", n)
					}
				case "unit_format":
					rows, _ := conn.Query(t.Context(), fmt.Sprintf("SELECT DISTINCT %s FROM %s WHERE %s IS NOT NULL", col, view, col))
					units, err := pgx.CollectRows(rows, pgx.RowTo[string])
					if err != nil {
						t.Fatal(err)
					}
					for _, u := range units {
						if !unitFormat.MatchString(u) {
							fail("%q is not in Unit Format", u)
						}
					}
				case "key_value":
					if n := count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s IS NOT NULL AND jsonb_typeof(%s) <> 'object'", view, col, col)); n > 0 {
						fail("%d rows are not JSON objects", n)
					}
				case "sku_price_details":
					var known []string
					for _, sc := range spec.Columns {
						if sc.ID == r.Column {
							for k := range sc.DefinedProperties {
								known = append(known, k)
							}
						}
					}
					rows, _ := conn.Query(t.Context(), fmt.Sprintf("SELECT DISTINCT jsonb_object_keys(%s) FROM %s WHERE jsonb_typeof(%s) = 'object'", col, view, col))
					keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
					if err != nil {
						t.Fatal(err)
					}
					for _, k := range keys {
						if !strings.HasPrefix(k, "x_") && !slices.Contains(known, k) {
							fail("property %q", k)
						}
					}
				default:
					t.Fatalf("unknown validator %q", c.Validator)
				}
			case "datetime":
				if !present(r.Column) {
					t.Skip("column absent")
				}
				if types[r.Column] != "timestamp with time zone" {
					fail("%s is %s", r.Column, types[r.Column])
				} else if n := count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s <> date_trunc('second', %s)", view, q(r.Column), q(r.Column))); n > 0 {
					fail("%d values are not whole seconds", n)
				}
			case "strings":
				for _, sc := range spec.Columns {
					if sc.DataType != "String" || !present(sc.ID) || c.NotNullableOnly && sc.AllowsNulls {
						continue
					}
					test := fmt.Sprintf("%s = ''", q(sc.ID))
					if c.Test == "blank" {
						test = fmt.Sprintf("trim(%s) = ''", q(sc.ID))
					}
					if n := count(t, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", view, test)); n > 0 {
						fail("%s: %d rows", sc.ID, n)
					}
				}
			case "custom_columns":
				for _, col := range order {
					if !focusColumns[col] && !strings.HasPrefix(col, "x_") {
						fail("column %s", col)
					}
				}
			case "column_order":
				seenCustom := false
				for _, col := range order {
					if !focusColumns[col] {
						seenCustom = true
					} else if seenCustom {
						fail("FOCUS column %s after a custom one", col)
					}
				}
			default:
				t.Fatalf("unknown check kind %q", c.Kind)
			}
			checked++
		})
	}
	t.Logf("%d of %d FOCUS 1.2 rules checked (the others concern columns focus_v2 does not have)", checked, len(spec.Rules))
}

func deref(s *string) string {
	if s == nil {
		return "always"
	}
	return *s
}
