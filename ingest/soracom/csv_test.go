package soracom

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/ingest"
	simsoracom "github.com/billing-warehouse/billing-warehouse/internal/sim/soracom"
	"github.com/billing-warehouse/billing-warehouse/store"
)

var april = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

const header = "\ufeffimsi,simId,date,billItemName,unitPrice,quantity,amount,tags.name,group\r\n"

func TestParseCSVSumsAKeyWithinItsDay(t *testing.T) {
	t.Parallel()
	body := header +
		"4401,s1,20260401,Data,0.3,2,0.6,a,G\r\n" +
		"4401,s1,20260401,Data,0.2,5,1.0,a,G\r\n" +
		"4401,s1,20260402,Data,0.3,1,0.3,a,G\r\n" +
		",,202604,Free tier,-0.2,500,-100,,\r\n"
	var chunks []chunk
	res, err := parseCSV(strings.NewReader(body), april, true, func(c chunk) error { chunks = append(chunks, c); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || len(chunks[0].items) != 1 || len(chunks[1].items) != 1 || !chunks[2].monthly {
		t.Fatalf("chunks %+v", chunks)
	}
	it := chunks[0].items[0]
	if it.Quantity.String() != "7" || it.Amount.String() != "1.6" || it.UnitPrice != nil || it.FinalAmount == nil || it.FinalAmount.String() != "1.6" {
		t.Errorf("summed item: quantity %s amount %s unit price %v final %v", it.Quantity, it.Amount, it.UnitPrice, it.FinalAmount)
	}
	if it.Tags["name"] != "a" || *it.SIMGroup != "G" || *it.IMSI != "4401" {
		t.Errorf("SIM columns: %v %v %v", it.Tags, *it.SIMGroup, *it.IMSI)
	}
	if len(res) != 1 || res[0].ResourceID != "s1" {
		t.Errorf("resources %+v", res)
	}
}

// A chunk is authoritative for its day: a day whose rows come in two
// places cannot be written as two chunks.
func TestParseCSVRefusesADaySplitInTwo(t *testing.T) {
	t.Parallel()
	body := header +
		"4401,s1,20260401,Data,0.3,2,0.6,a,G\r\n" +
		"4401,s1,20260402,Data,0.3,1,0.3,a,G\r\n" +
		"4402,s2,20260401,Data,0.3,1,0.3,,\r\n"
	_, err := parseCSV(strings.NewReader(body), april, true, func(chunk) error { return nil })
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("err %v, want ErrMalformed", err)
	}
}

// BenchmarkParseCSV parses a closed month of the benchmark's 10,000-SIM
// account and builds the writer's rows, as a crawl does.
func BenchmarkParseCSV(b *testing.B) {
	m, err := simsoracom.NewModel(simsoracom.ModelConfig{SIMs: 10_000, Seed: 1, Clock: func() time.Time { return time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC) }})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteCSV(&buf, simsoracom.MonthOf(2026, time.April)); err != nil {
		b.Fatal(err)
	}
	owner := store.Owner{Provider: Name, Account: "bench"}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows = 0
		_, err := parseCSV(bytes.NewReader(buf.Bytes()), april, true, func(c chunk) error {
			rows += len(chunkWrite(owner, april, c).Rows)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows), "rows")
}

// ReplayEach hands over the writes Replay returns, in the same order, and
// stops at emit's first error.
func TestReplayEachMatchesReplay(t *testing.T) {
	t.Parallel()
	m, err := simsoracom.NewModel(simsoracom.ModelConfig{SIMs: 40, Seed: 3, Clock: func() time.Time { return time.Date(2026, 5, 20, 3, 30, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.WriteCSV(&buf, simsoracom.MonthOf(2026, time.April)); err != nil {
		t.Fatal(err)
	}
	s := &Source{owner: store.Owner{Provider: Name, Account: "replay"}, loc: time.UTC}
	p := ingest.Payload{Endpoint: "csv/202604/closed", Params: "(download)", Body: buf.Bytes()}
	if !s.Streams(p.Endpoint) || s.Streams("bills/daily/closed") {
		t.Fatal("Streams: want the CSV only")
	}
	whole, err := s.Replay(p)
	if err != nil {
		t.Fatal(err)
	}
	var streamed []store.Write
	if err := s.ReplayEach(p, bytes.NewReader(buf.Bytes()), func(w store.Write) error { streamed = append(streamed, w); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(whole) < 30 || !reflect.DeepEqual(streamed, whole) {
		t.Fatalf("ReplayEach handed over %d writes, Replay returned %d; want the same, a day at a time", len(streamed), len(whole))
	}
	stop := errors.New("stop")
	calls := 0
	err = s.ReplayEach(p, bytes.NewReader(buf.Bytes()), func(store.Write) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("after emit's error: %v, %d calls; want it returned after 2", err, calls)
	}
}
