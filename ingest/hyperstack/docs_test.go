package hyperstack_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	"github.com/billing-warehouse/billing-warehouse/ingest/hyperstack"
	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// docsNow is just after the docs' examples were taken (their windows end
// 2026-05-07T15:34).
var docsNow = time.Date(2026, 5, 7, 16, 0, 0, 0, time.UTC)

// docsAPI serves the provider docs' own example bodies for every path, as a
// new user trying the crawler against them would: the same body whatever
// the id or page. Paths with no 200 example answer the docs' "no data"
// envelope; the bucket detail and graph answer 404, as the docs' bucket
// does (the list names it and bills it, the detail does not know it).
type docsAPI struct {
	t     *testing.T
	mu    sync.Mutex
	pages map[string][]string // list path → pages asked for
}

func (d *docsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/v1/billing/")
	path = strings.TrimPrefix(path, "billing/")
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if p != "" && strings.Trim(p, "0123456789") == "" {
			parts[i] = map[string]string{"virtual-machine": "vm_id", "volume": "volume_id", "snapshot": "snapshot_id",
				"bucket": "bucket_id", "image_generation": "resource_id"}[parts[i-1]]
		}
	}
	name := strings.Join(parts, "_")
	if page := r.URL.Query().Get("page"); page != "" {
		d.mu.Lock()
		d.pages[name] = append(d.pages[name], page)
		d.mu.Unlock()
	}
	if strings.HasPrefix(name, "history_bucket_bucket_id") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"status": false, "message": "bucket not found", "error_reason": "not_found"}`))
		return
	}
	body, err := os.ReadFile("testdata/docs_" + name + ".json")
	if os.IsNotExist(err) {
		body, err = os.ReadFile("testdata/docs_nodata_cluster.json")
		if strings.Contains(name, "data_synthesis") {
			body, err = os.ReadFile("testdata/docs_nodata_data_synthesis.json")
		}
	}
	if err != nil {
		d.t.Errorf("%s: %v", name, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// docsRun crawls May 2026 from the docs' examples.
func docsRun(t *testing.T) (*docsAPI, *store.Store, ingest.Result) {
	t.Helper()
	api := &docsAPI{t: t, pages: map[string][]string{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	source, err := hyperstack.New(ingest.SourceConfig{Provider: hyperstack.Name, Account: "default",
		Settings: map[string]string{"api_url": srv.URL + "/v1", "api_key": apiKey}},
		ingest.Deps{Client: ingest.ClientConfig{RatePerMinute: 1_000_000, BackoffBase: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	s := dbtest.NewStore(t)
	crawler := ingest.NewCrawler(ingest.Config{Now: func() time.Time { return docsNow }}, s)
	may := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	res, err := crawler.Run(t.Context(), source, store.TriggerBackfill, ingest.Mode{Backfill: true, Since: may, Until: may})
	if err != nil {
		t.Fatal(err)
	}
	return api, s, res
}

// TestDocsExamples crawls the docs' example bodies and checks, point by
// point, what the live API's looser shapes must come to.
func TestDocsExamples(t *testing.T) {
	t.Parallel()
	api, s, res := docsRun(t)
	errs, err := s.RunErrors(t.Context(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	byEndpoint := map[string]string{}
	for _, e := range errs {
		byEndpoint[e.Endpoint] = e.Message
	}

	t.Run("paging follows the response's pagination", func(t *testing.T) {
		// The VM list answers per_page 10, page 1 of 4, with 3 items: a
		// short page that is not the last.
		if got := strings.Join(api.pages["history_virtual-machine"], ","); got != "1,2,3,4" {
			t.Errorf("VM list pages asked: %q, want 1,2,3,4", got)
		}
		// Served the same body for every page, it finds 3 of the 37 it
		// reports, and says how many walks it made.
		if msg := byEndpoint["virtual-machine/list"]; !strings.Contains(msg, "reports 37 resources but paging found 3 in 1 walk") {
			t.Errorf("VM list error: %q", msg)
		}
		// The volume list's outer total counts the page (10) and its
		// pagination the list (17): 2 pages.
		if got := strings.Join(api.pages["history_volume"], ","); got != "1,2" {
			t.Errorf("volume list pages asked: %q, want 1,2", got)
		}
	})

	t.Run("no data is an empty list", func(t *testing.T) {
		for _, ep := range []string{"cluster/list", "fine_tuning/list", "data_synthesis/list", "model_evaluation/list", "serverless_inference/list", "contract/list"} {
			if msg, failed := byEndpoint[ep]; failed {
				t.Errorf("%s: %s", ep, msg)
			}
		}
	})

	t.Run("a 404 detail keeps the list's figures", func(t *testing.T) {
		var incurred, usage, size string
		err := s.Pool().QueryRow(t.Context(), `SELECT incurred_bill::text, usage_seconds::text, size::text
			FROM billing.resource_month_costs WHERE family = 'bucket' AND resource_id = '7613' AND billing_month = '2026-05-01'`).Scan(&incurred, &usage, &size)
		if err != nil {
			t.Fatalf("the bucket the list bills has no month cost: %v", err)
		}
		if incurred != "0.000000000014799118041992184" || usage != "1680" || size != "0.00000762939453125" {
			t.Errorf("bucket 7613: incurred %s, usage %s, size %s", incurred, usage, size)
		}
		if _, failed := byEndpoint["bucket/detail"]; failed {
			t.Error("the bucket's 404 detail is a ledger error")
		}
	})

	t.Run("negative values are stored exactly and flagged", func(t *testing.T) {
		var active string
		err := s.Pool().QueryRow(t.Context(), `SELECT usage_active_seconds::text FROM billing.resource_month_costs
			WHERE family = 'virtual-machine' AND resource_id = '5341' AND billing_month = '2026-05-01'`).Scan(&active)
		if err != nil || active != "-12" {
			t.Errorf("VM 5341's usage_time_ACTIVE: %q (%v), want -12", active, err)
		}
		want := map[string]string{
			"virtual-machine/detail 5341 usage_time_ACTIVE":              "-12",
			"virtual-machine/sub-resource 5341 disk_non_discounted_bill": "-0.000161290333333",
			"virtual-machine/detail 7613 usage_time_ACTIVE":              "-12",
			"virtual-machine/sub-resource 3287 disk_non_discounted_bill": "-0.000161290333333",
		}
		got := map[string]string{}
		rows, err := s.Pool().Query(t.Context(), `SELECT endpoint || ' ' || resource_id || ' ' || field, value::text, run_id
			FROM reports.data_quality_v1 WHERE note = 'negative'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k, v string
			var run *int64
			if err := rows.Scan(&k, &v, &run); err != nil {
				t.Fatal(err)
			}
			got[k] = v
			if run == nil || *run != res.RunID {
				t.Errorf("%s: run %v, want %d", k, run, res.RunID)
			}
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("data quality %s: %q, want %s (have %v)", k, got[k], v, got)
			}
		}
		var subs string
		if err := s.Pool().QueryRow(t.Context(), `SELECT non_discounted_bill::text FROM billing.vm_subresource_costs
			WHERE vm_id = '5341' AND subresource = 'disk'`).Scan(&subs); err != nil || subs != "-0.000161290333333" {
			t.Errorf("disk non-discounted bill %q (%v)", subs, err)
		}
	})

	t.Run("an organisation graph without granularity", func(t *testing.T) {
		if msg, failed := byEndpoint["org/graph"]; failed {
			t.Fatalf("org/graph: %s", msg)
		}
		// 2026-05-01 to 05-07T16:00 is over three days, and the example
		// has no datapoints to say otherwise: daily, by the window rule.
		var note, value string
		err := s.Pool().QueryRow(t.Context(), `SELECT note, value::text FROM billing.data_quality
			WHERE endpoint = 'org/graph' AND field = 'granularity'`).Scan(&note, &value)
		if err != nil || value != "86400" || !strings.Contains(note, "window rule") {
			t.Errorf("org graph granularity: %q %q (%v)", value, note, err)
		}
	})

	t.Run("the usage endpoint's times, with a zone", func(t *testing.T) {
		var created time.Time
		if err := s.Pool().QueryRow(t.Context(), `SELECT create_time FROM billing.usage_snapshots WHERE resource_id = '5341'`).Scan(&created); err != nil ||
			!created.Equal(time.Date(2026, 5, 6, 15, 18, 42, 0, time.UTC)) {
			t.Errorf("create_time %v (%v)", created, err)
		}
	})

	// Besides the lists' counts (one body served for every page cannot
	// hold 37 VMs, and the snapshot example says 13 of its 3), nothing fails.
	for ep, msg := range byEndpoint {
		if !strings.HasSuffix(ep, "/list") || !strings.Contains(msg, "but paging found") {
			t.Errorf("%s: %s", ep, msg)
		}
	}
}
