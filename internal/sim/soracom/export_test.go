package soracom

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSyncExport(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{})
	c := login(t, base)
	url := at(t, decode(t, mustPost(t, c, "/bills/202604/export")), "url").(string)
	if !strings.HasPrefix(url, base+StoragePrefix) || !strings.Contains(url, "Signature=") {
		t.Fatalf("url %s", url)
	}
	resp, body := send(t, "GET", url, "", nil)
	var want bytes.Buffer
	s.Model.WriteCSV(&want, month(t, "202604"))
	if resp.StatusCode != 200 || !bytes.Equal(body, want.Bytes()) || resp.Header.Get("Content-Type") != "text/csv" {
		t.Fatalf("download: %d %s, %d bytes, want %d", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), want.Len())
	}
	if resp.Header.Get("X-Soracom-Ratelimit-Limit") != "" {
		t.Error("the file host sent Soracom headers")
	}

	// Soracom credentials sent to the file host are refused.
	resp, body = send(t, "GET", url, "", c.headers())
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("<Code>InvalidRequest</Code>")) {
		t.Errorf("with Soracom headers: %d %s", resp.StatusCode, body)
	}
	// A tampered link is refused, an expired one too, in XML.
	resp, body = send(t, "GET", strings.Replace(url, "202604", "202603", 1)+"x", "", nil)
	if resp.StatusCode != 403 || !bytes.Contains(body, []byte("SignatureDoesNotMatch")) {
		t.Errorf("tampered: %d %s", resp.StatusCode, body)
	}
	s.Clock.Advance(time.Hour - time.Second)
	if resp, _ := send(t, "GET", url, "", nil); resp.StatusCode != 200 {
		t.Errorf("a second before expiry: %d", resp.StatusCode)
	}
	s.Clock.Advance(time.Second)
	resp, body = send(t, "GET", url, "", nil)
	if resp.StatusCode != 403 || resp.Header.Get("Content-Type") != "application/xml" ||
		!bytes.HasPrefix(body, []byte("<?xml")) || !bytes.Contains(body, []byte("<Code>AccessDenied</Code><Message>Request has expired</Message>")) {
		t.Errorf("expired: %d %s", resp.StatusCode, body)
	}
	if d := s.Downloads(); d.ByStatus["200"] != 2 || d.ByStatus["403"] != 2 || d.ByStatus["400"] != 1 {
		t.Errorf("downloads %+v", d)
	}
}

// TestAsyncExport: processing, then exported with a link; the latest
// month's file is frozen when it is asked for.
func TestAsyncExport(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{ExportPolls: 2, TokenTTL: 72 * time.Hour})
	c := login(t, base)
	body := mustPost(t, c, "/bills/latest/export?export_mode=async")
	id := at(t, decode(t, body), "exportedFileId").(string)
	if !strings.HasPrefix(id, "fe_") || at(t, decode(t, body), "exportedFilePath") != "//files/exported/"+id {
		t.Fatalf("async answer %s", body)
	}
	may := month(t, "202605")
	var frozen bytes.Buffer
	s.Model.WriteCSV(&frozen, may)
	s.Clock.Advance(48 * time.Hour) // two more days are evaluated
	for _, want := range []string{ExportProcessing, ExportProcessing, ExportExported} {
		if got := at(t, c.get("/files/exported/"+id), "status"); got != want {
			t.Fatalf("poll: %v, want %s", got, want)
		}
	}
	url := at(t, c.get("/files/exported/"+id), "url").(string)
	_, csv := send(t, "GET", url, "", nil)
	if !bytes.Equal(csv, frozen.Bytes()) {
		t.Error("the latest export is not the month as it was when asked for")
	}
	var now bytes.Buffer
	s.Model.WriteCSV(&now, may)
	if bytes.Equal(now.Bytes(), frozen.Bytes()) {
		t.Error("two more days did not change May")
	}
}

// TestExportFaults: a failed job, a stuck one, an expired link.
func TestExportFaults(t *testing.T) {
	t.Parallel()
	s, base := newTestSim(t, Config{StuckFor: 3 * time.Hour})
	c := login(t, base)
	poll := func(id string) string { return at(t, c.get("/files/exported/"+id), "status").(string) }
	start := func() string {
		return at(t, decode(t, mustPost(t, c, "/bills/202603/export?export_mode=async")), "exportedFileId").(string)
	}

	s.Server().SetFaults(faultsOf("export_failed", 1))
	failed := start()
	s.Server().SetFaults(faultsOf("export_stuck", 1))
	stuck := start()
	s.Server().SetFaults(faultsOf("link_expired", 0))
	if got := []string{poll(failed), poll(failed), poll(failed)}; !slices.Equal(got, []string{"processing", "failed", "failed"}) {
		t.Errorf("failed job: %v", got)
	}
	if got := []string{poll(stuck), poll(stuck), poll(stuck)}; !slices.Equal(got, []string{"processing", "processing", "processing"}) {
		t.Errorf("stuck job: %v", got)
	}
	s.Clock.Advance(3 * time.Hour)
	if got := poll(stuck); got != "exported" {
		t.Errorf("stuck job after 3h: %s", got)
	}

	s.Server().SetFaults(faultsOf("link_expired", 1))
	url := at(t, decode(t, mustPost(t, c, "/bills/202603/export?export_mode=sync")), "url").(string)
	resp, body := send(t, "GET", url, "", nil)
	if resp.StatusCode != 403 || !bytes.Contains(body, []byte("Request has expired")) {
		t.Errorf("expired link: %d %s", resp.StatusCode, body)
	}
	st := s.Stats().Faults
	if st["export_failed"] != 1 || st["export_stuck"] != 1 || st["link_expired"] != 1 {
		t.Errorf("fault counts %v", st)
	}
}

// TestStorageListener serves the files from a second listener.
func TestStorageListener(t *testing.T) {
	t.Parallel()
	storage := httptest.NewUnstartedServer(nil)
	storage.Start()
	t.Cleanup(storage.Close)
	s, base := newTestSim(t, Config{StorageURL: storage.URL})
	storage.Config.Handler = s.Storage()
	c := login(t, base)
	url := at(t, decode(t, mustPost(t, c, "/bills/202604/export")), "url").(string)
	if !strings.HasPrefix(url, storage.URL+StoragePrefix) {
		t.Fatalf("url %s", url)
	}
	if resp, _ := send(t, "GET", url, "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("download: %d", resp.StatusCode)
	}
}

// TestHTTPConsistency checks the sums as a crawler would see them: from
// the downloaded CSVs, /daily, both summaries and the bills, closed months
// and the latest.
func TestHTTPConsistency(t *testing.T) {
	t.Parallel()
	for _, cov := range []Coverage{CoverageJapan, CoverageGlobal} {
		t.Run(string(cov), func(t *testing.T) {
			t.Parallel()
			s, base := newTestSim(t, Config{Model: ModelConfig{Coverage: cov, SIMs: 250}})
			c := login(t, base)
			items := summaryByMonth(t, c.get("/bills/summaries/bill_items"))
			sims := summaryByMonth(t, c.get("/bills/summaries/sims"))
			months := map[string]string{"202603": "/bills/202603/export", "202604": "/bills/202604/export", "202605": "/bills/latest/export"}
			for ym, export := range months {
				_, csvBody := send(t, "GET", at(t, decode(t, mustPost(t, c, export)), "url").(string), "", nil)
				f := parseCSV(t, csvBody)
				perDay, perSIM := map[string]Money{}, map[string]Money{}
				var total Money
				for _, row := range f.rows {
					a := mustMoney(t, f.get(row, "amount"))
					total += a
					if d := f.get(row, "date"); len(d) == 8 {
						perDay[d] += a
					}
					if id := f.get(row, "simId"); id != "" {
						perSIM[id] += a
					}
				}
				for _, d := range at(t, c.get("/bills/"+ym+"/daily"), "billList").([]any) {
					date := at(t, d, "date").(string)
					if got := jsonMoney(t, at(t, d, "amount")); got != perDay[date] {
						t.Errorf("%s: daily %s, CSV %s", date, got, perDay[date])
					}
					if at(t, d, "currency") != s.Model.Currency() {
						t.Errorf("currency %v", at(t, d, "currency"))
					}
				}
				var itemSum Money
				for _, it := range items[ym] {
					itemSum += jsonMoney(t, at(t, it, "amount"))
				}
				if itemSum != total {
					t.Errorf("%s: bill items %s, CSV %s", ym, itemSum, total)
				}
				if len(sims[ym]) != 100 {
					t.Errorf("%s: %d SIMs in the summary", ym, len(sims[ym]))
				}
				for i, e := range sims[ym] {
					id := at(t, e, "simId").(string)
					if jsonMoney(t, at(t, e, "amount")) != perSIM[id] {
						t.Errorf("%s: SIM %s summary %v, CSV %s", ym, id, at(t, e, "amount"), perSIM[id])
					}
					if i > 0 && jsonMoney(t, at(t, e, "amount")) > jsonMoney(t, at(t, sims[ym][i-1], "amount")) {
						t.Errorf("%s: SIM summary not sorted", ym)
					}
				}
				bill := c.get("/bills/" + ym)
				amount, coupon := jsonMoney(t, at(t, bill, "amount")), jsonMoney(t, at(t, bill, "appliedCouponAmount"))
				billed := total.floorTo(s.Model.tariff.minor)
				tax := ((billed - coupon) * Money(s.Model.tariff.taxPercent) / 100).floorTo(s.Model.tariff.minor)
				if amount != billed-coupon+tax {
					t.Errorf("%s: bill %s, want %s − %s + %s", ym, amount, billed, coupon, tax)
				}
				if ym == "202605" {
					if latest := jsonMoney(t, at(t, c.get("/bills/latest"), "amount")); latest != amount {
						t.Errorf("latest %s, current month's bill %s", latest, amount)
					}
				}
			}
		})
	}
}

func summaryByMonth(t testing.TB, v any) map[string][]any {
	out := map[string][]any{}
	for _, m := range v.([]any) {
		out[at(t, m, "yearMonth").(string)] = at(t, m, "costBreakdownList").([]any)
	}
	return out
}
