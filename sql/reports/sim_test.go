package reports_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/hyperstacksim"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// loaded is a warehouse backfilled from a simulator.
type loaded struct {
	sim     *hyperstacksim.Sim
	url     string
	conn    *pgx.Conn
	crawler *ingest.Crawler
	source  ingest.Source
}

func backfilled(t *testing.T) *loaded {
	t.Helper()
	sim := hyperstacksim.New(hyperstacksim.Config{ModelConfig: hyperstacksim.ModelConfig{Seed: 3,
		Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}, APIKey: "k", RateLimit: -1})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	source, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": "k"}}, ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000}})
	if err != nil {
		t.Fatal(err)
	}
	url := dbtest.New(t)
	s, err := store.Open(t.Context(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	c := ingest.NewCrawler(ingest.Config{Now: sim.Model.Now}, s)
	res, err := c.Run(t.Context(), source, store.TriggerBackfill, ingest.Mode{Backfill: true, Since: sim.Model.Start()})
	if err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("backfill: %v %s", err, res.Status)
	}
	return &loaded{sim: sim, url: url, conn: dbtest.Conn(t, url), crawler: c, source: source}
}

func scalar(t *testing.T, conn *pgx.Conn, sql string, args ...any) decimal.Decimal {
	t.Helper()
	var d decimal.Decimal
	if err := conn.QueryRow(t.Context(), sql, args...).Scan(&d); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return d
}

func modelTotal(sim *hyperstacksim.Sim, w hyperstacksim.Window) decimal.Decimal {
	var total hyperstacksim.Nano
	for _, c := range sim.Model.FamilyCosts(w) {
		total += c
	}
	return decimal.MustParse(total.String())
}

// TestReportsOnSimulatorData checks report totals against the simulator's
// model, the reconciliation, FOCUS's sums, and a restatement end to end.
func TestReportsOnSimulatorData(t *testing.T) {
	t.Parallel()
	l := backfilled(t)
	m := l.sim.Model
	now := m.Now()
	for mon := hyperstacksim.MonthStart(m.Start()); mon.Before(now); mon = mon.AddDate(0, 1, 0) {
		w := hyperstacksim.Window{Start: mon, End: mon.AddDate(0, 1, 0)}
		if w.End.After(now) {
			w.End = now
		}
		want := modelTotal(l.sim, w)
		for name, sql := range map[string]string{
			"resource_month_cost_v1": `SELECT sum(incurred_bill) FROM reports.resource_month_cost_v1 WHERE billing_month = $1`,
			"month_to_date_v1":       `SELECT incurred_to_date FROM reports.month_to_date_v1 WHERE billing_month = $1`,
			"focus_v1":               `SELECT sum("BilledCost") FROM reports.focus_v1 WHERE "BillingPeriodStart" = $1`,
			"top_resources_v1":       `SELECT sum(incurred_bill) FROM reports.top_resources_v1 WHERE billing_month = $1`,
			"account_month_cost_v1":  `SELECT billed_cost FROM reports.account_month_cost_v1 WHERE billing_month = $1`,
			"month_to_date_v2":       `SELECT billed_to_date FROM reports.month_to_date_v2 WHERE billing_month = $1`,
			"top_resources_v2":       `SELECT sum(billed_cost) FROM reports.top_resources_v2 WHERE billing_month = $1`,
			// Commitments and image generation spread over their days: the days add up to the month.
			"daily_cost_v2": `SELECT sum(amortized_cost) FROM reports.daily_cost_v2 WHERE day >= $1 AND day < $1::date + interval '1 month'`,
			"focus_v2":      `SELECT sum("BilledCost") FROM reports.focus_v2 WHERE "ChargePeriodStart" >= $1 AND "ChargePeriodStart" < $1::date + interval '1 month'`,
		} {
			if got := scalar(t, l.conn, sql, mon); !got.Equal(want) {
				t.Errorf("%s %s: %s, model %s", name, mon.Format("2006-01"), got, want)
			}
		}
	}
	var off int
	l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.reconciliation_v1 WHERE difference <> 0`).Scan(&off)
	if off != 0 {
		t.Errorf("%d reconciliation rows differ on simulator data", off)
	}
	l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.reconciliation_v2 WHERE NOT within_tolerance OR currency <> 'USD'`).Scan(&off)
	if off != 0 {
		t.Errorf("%d reconciliation_v2 rows are off on simulator data", off)
	}

	// Restate two hours of a VM's current month at 25%: after the next run
	// the restatements report lists exactly that correction.
	var vm hyperstacksim.Resource
	for _, r := range m.Resources(hyperstacksim.FamilyVM) {
		if r.Alive(now) {
			vm = r
			break
		}
	}
	month := hyperstacksim.Window{Start: hyperstacksim.MonthStart(now), End: now}
	before, _ := m.CostIn(vm.Family, vm.ID, month)
	from := now.Truncate(24 * time.Hour).Add(-30 * time.Hour)
	if err := m.Restate(vm.Family, vm.ID, from, from.Add(2*time.Hour), 25); err != nil {
		t.Fatal(err)
	}
	after, _ := m.CostIn(vm.Family, vm.ID, month)
	if res, err := l.crawler.Run(t.Context(), l.source, store.TriggerSchedule, ingest.Mode{}); err != nil || res.Status != store.RunSucceeded {
		t.Fatalf("run after the restatement: %v %s", err, res.Status)
	}
	// The restated day had ended when the backfill looked: its daily bucket's
	// change is a correction. The open month's summary grew by as much: an
	// accrual, which restatements_v1 leaves out.
	delta := scalar(t, l.conn, `SELECT coalesce(sum(delta), 0) FROM reports.restatements_v1 r
		WHERE table_name = 'billing.cost_datapoints' AND measure = 'incurred_bill' AND resource_id = $1
		  AND EXISTS (SELECT 1 FROM billing.restatements b WHERE b.id IS NOT NULL AND b.observed_at = r.observed_at
		              AND b.row_key->>'bucket_seconds' = '86400' AND b.row_key->>'bucket_start' = r.period)`, fmt.Sprint(vm.ID))
	if want := decimal.MustParse((after.Incurred - before.Incurred).String()); !delta.Equal(want) || delta.Sign() == 0 {
		t.Errorf("restatements_v1 shows a correction of %s, the model %s", delta, want)
	}
	var accruals, monthCorrections int
	l.conn.QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE kind = 'accrual'), count(*) FILTER (WHERE kind = 'correction')
		FROM billing.restatements WHERE table_name = 'billing.resource_month_costs'`).Scan(&accruals, &monthCorrections)
	if accruals == 0 || monthCorrections != 0 {
		t.Errorf("the open month's summaries: %d accruals, %d corrections; want some and none", accruals, monthCorrections)
	}
	l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.reconciliation_v1 WHERE difference <> 0`).Scan(&off)
	if off != 0 {
		t.Errorf("after the restatement %d reconciliation rows differ", off)
	}
	var corrections int
	l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.focus_v1 WHERE "ChargeClass" = 'Correction' AND "ResourceId" = $1`, fmt.Sprint(vm.ID)).Scan(&corrections)
	if corrections == 0 {
		t.Error("focus_v1 does not mark the restated charges as corrections")
	}
}

// TestFocusColumns checks every mandatory FOCUS 1.2 column: present, of
// the spec's type, and never NULL where the spec forbids it.
func TestFocusColumns(t *testing.T) {
	t.Parallel()
	l := backfilled(t)
	types := map[string]string{}
	rows, _ := l.conn.Query(t.Context(), `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'reports' AND table_name = 'focus_v1'`)
	for rows.Next() {
		var n, ty string
		rows.Scan(&n, &ty)
		types[n] = ty
	}
	decimalCol, dateCol, stringCol := "numeric", "timestamp with time zone", "text"
	mandatory := map[string]struct {
		typ      string
		nullable string // "" never NULL; otherwise a condition under which NULL is allowed
	}{
		"BilledCost": {decimalCol, ""}, "ContractedCost": {decimalCol, ""}, "EffectiveCost": {decimalCol, ""}, "ListCost": {decimalCol, ""},
		"PricingQuantity": {decimalCol, `"ChargeCategory" NOT IN ('Usage', 'Purchase')`}, "PricingUnit": {stringCol, `"PricingQuantity" IS NULL`},
		"BillingAccountId": {stringCol, ""}, "BillingAccountName": {stringCol, "true"}, "BillingCurrency": {stringCol, ""},
		"BillingPeriodStart": {dateCol, ""}, "BillingPeriodEnd": {dateCol, ""}, "ChargeCategory": {stringCol, ""},
		"ChargeClass": {stringCol, "true"}, "ChargeDescription": {stringCol, ""}, "ChargePeriodStart": {dateCol, ""},
		"ChargePeriodEnd": {dateCol, ""}, "InvoiceIssuerName": {stringCol, ""}, "ProviderName": {stringCol, ""},
		"PublisherName": {stringCol, ""}, "ServiceCategory": {stringCol, ""}, "ServiceName": {stringCol, ""},
	}
	for col, rule := range mandatory {
		if types[col] != rule.typ {
			t.Errorf("%s: type %q, want %q", col, types[col], rule.typ)
			continue
		}
		cond := fmt.Sprintf(`%s IS NULL`, pgx.Identifier{col}.Sanitize())
		if rule.nullable != "" {
			cond += " AND NOT (" + rule.nullable + ")"
		}
		var n int
		l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.focus_v1 WHERE `+cond).Scan(&n)
		if n > 0 {
			t.Errorf("%s is NULL in %d rows where FOCUS forbids it", col, n)
		}
	}
	for _, col := range []string{"ResourceId", "ResourceName", "ResourceType", "ConsumedQuantity", "ConsumedUnit", "ListUnitPrice", "ContractedUnitPrice", "SkuId", "SkuPriceId", "SkuMeter", "SkuPriceDetails"} {
		if types[col] == "" {
			t.Errorf("conditional column %s is missing", col)
		}
	}
	for col := range types {
		if _, ok := mandatory[col]; !ok && !strings.HasPrefix(col, "x_") && types[col] != "" &&
			!strings.Contains("ResourceId ResourceName ResourceType ConsumedQuantity ConsumedUnit ListUnitPrice ContractedUnitPrice SkuId SkuPriceId SkuMeter SkuPriceDetails", col) {
			t.Errorf("column %s is neither FOCUS nor x_-prefixed", col)
		}
	}
	var bad int
	l.conn.QueryRow(t.Context(), `SELECT count(*) FROM reports.focus_v1 WHERE "ChargeCategory" NOT IN ('Usage', 'Purchase', 'Tax', 'Credit', 'Adjustment')
		OR "ServiceCategory" NOT IN ('AI and Machine Learning', 'Compute', 'Storage') OR "ChargePeriodEnd" <= "ChargePeriodStart"
		OR "ChargePeriodStart" < "BillingPeriodStart" OR "ChargePeriodEnd" > "BillingPeriodEnd" OR "BilledCost" <> "EffectiveCost"`).Scan(&bad)
	if bad != 0 {
		t.Errorf("%d rows break FOCUS value rules", bad)
	}
	total := scalar(t, l.conn, `SELECT sum("BilledCost") FROM reports.focus_v1`)
	if want := scalar(t, l.conn, `SELECT sum(incurred_bill) FROM billing.resource_month_costs`); !total.Equal(want) || total.Sign() <= 0 {
		t.Errorf("FOCUS BilledCost adds up to %s, the warehouse to %s", total, want)
	}
}

// TestReaderRole logs in as a member of billing_reader: every report can
// be read, nothing else can be read or changed.
func TestReaderRole(t *testing.T) {
	t.Parallel()
	l := backfilled(t)
	user := fmt.Sprintf("bw_reader_%d", time.Now().UnixNano())
	admin := dbtest.Conn(t, dbtest.AdminURL())
	if _, err := admin.Exec(t.Context(), fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'reader-pw' IN ROLE billing_reader`, user)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(t.Context(), "DROP ROLE IF EXISTS "+user) })

	cfg, err := pgx.ParseConfig(l.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = user, "reader-pw"
	reader, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("log in as %s: %v", user, err)
	}
	defer reader.Close(t.Context())

	var views []string
	rows, _ := l.conn.Query(t.Context(), `SELECT table_name FROM information_schema.views WHERE table_schema = 'reports' ORDER BY 1`)
	for rows.Next() {
		var v string
		rows.Scan(&v)
		views = append(views, v)
	}
	if len(views) < 13 {
		t.Fatalf("only %d report views", len(views))
	}
	for _, v := range views {
		var n int
		if err := reader.QueryRow(t.Context(), "SELECT count(*) FROM reports."+pgx.Identifier{v}.Sanitize()).Scan(&n); err != nil {
			t.Errorf("the reader cannot read reports.%s: %v", v, err)
		}
	}
	for _, sql := range []string{
		`SELECT * FROM ingest.raw_payloads LIMIT 1`, `SELECT * FROM ingest.runs LIMIT 1`, `SELECT * FROM billing.resources LIMIT 1`, `SELECT * FROM billing.resource_day_costs LIMIT 1`,
		`INSERT INTO billing.resources (provider, family, resource_id) VALUES ('x', 'y', 'z')`,
		`UPDATE billing.resource_month_costs SET incurred_bill = 0`, `DELETE FROM billing.cost_datapoints`,
		`TRUNCATE billing.cost_datapoints`, `DELETE FROM reports.resource_month_cost_v1`, `TRUNCATE ingest.runs`,
		`CREATE TABLE public.sneaky (id int)`, `CREATE TABLE reports.sneaky (id int)`, `CREATE TABLE billing.sneaky (id int)`,
		`CREATE VIEW reports.sneaky AS SELECT 1`,
		`SELECT * FROM billing.currencies`, `SELECT * FROM billing.fx_rates`, `SELECT * FROM billing.settings`,
		`UPDATE billing.settings SET reporting_currency = 'EUR'`, `INSERT INTO billing.fx_rates VALUES ('USD', '2026-01-01', 1)`,
	} {
		if _, err := reader.Exec(t.Context(), sql); err == nil || !strings.Contains(err.Error(), "permission denied") && !strings.Contains(err.Error(), "cannot") {
			t.Errorf("the reader was allowed (or refused for another reason): %s: %v", sql, err)
		}
	}
}
