package soracom

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestConsistency checks, from the CSV as a client parses it, every sum
// the API promises: Σ rows of a day = that day's daily amount, Σ rows = Σ
// bill items = the bill's pre-tax total, bill = pre-tax − coupons + tax,
// and the SIM summary is the CSV's top 100 SIMs. Both coverages, closed
// and preliminary months.
func TestConsistency(t *testing.T) {
	t.Parallel()
	for _, cov := range []Coverage{CoverageJapan, CoverageGlobal} {
		t.Run(string(cov), func(t *testing.T) {
			t.Parallel()
			m := newTestModel(t, ModelConfig{Coverage: cov, SIMs: 300})
			var negative, monthly, repeated, quoted int
			for _, mo := range m.Months() {
				var buf bytes.Buffer
				if err := m.WriteCSV(&buf, mo); err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(buf.Bytes(), []byte(`"Tokyo, Japan"`)) {
					quoted++
				}
				f := parseCSV(t, buf.Bytes())
				perDay := map[string]Money{}
				perSIM := map[string]Money{}
				keys := map[string]int{}
				var total Money
				for _, row := range f.rows {
					price, qty, amount := mustMoney(t, f.get(row, "unitPrice")), mustInt(t, f.get(row, "quantity")), mustMoney(t, f.get(row, "amount"))
					if price*Money(qty) != amount {
						t.Fatalf("%s: %v: amount is not unitPrice × quantity", mo, row)
					}
					date := f.get(row, "date")
					switch len(date) {
					case 8:
						if !strings.HasPrefix(date, mo.String()) {
							t.Fatalf("%s: row dated %s", mo, date)
						}
						perDay[date] += amount
					case 6:
						if date != mo.String() {
							t.Fatalf("%s: monthly row dated %s", mo, date)
						}
						monthly++
					default:
						t.Fatalf("%s: date %q", mo, date)
					}
					if amount < 0 {
						negative++
					}
					if id := f.get(row, "simId"); id != "" {
						perSIM[id] += amount
					}
					keys[strings.Join([]string{f.get(row, "imsi"), f.get(row, "simId"), f.get(row, "vpgId"), f.get(row, "deviceId"), date, f.get(row, "billItemName")}, "|")]++
					total += amount
				}
				for _, n := range keys {
					if n > 1 {
						repeated++
					}
				}

				daily := m.ExpectedDaily(mo)
				if len(daily) == 0 {
					t.Fatalf("%s: no days", mo)
				}
				for _, d := range daily {
					if perDay[d.Day.String()] != d.Amount {
						t.Errorf("%s: CSV rows of %s sum to %s, daily says %s", mo, d.Day, perDay[d.Day.String()], d.Amount)
					}
					delete(perDay, d.Day.String())
				}
				if len(perDay) > 0 {
					t.Errorf("%s: CSV days missing from daily: %v", mo, perDay)
				}

				var items Money
				for _, it := range m.ExpectedBillItems(mo) {
					items += it.Amount
				}
				b := m.ExpectedBill(mo)
				if items != total || b.PreTax != total {
					t.Errorf("%s: CSV %s, bill items %s, bill pre-tax %s", mo, total, items, b.PreTax)
				}
				if b.Amount != total.floorTo(m.tariff.minor)-b.Coupon+b.Tax || b.Amount%m.tariff.minor != 0 {
					t.Errorf("%s: bill %+v does not add up", mo, b)
				}
				if b.Rows != int64(len(f.rows)) {
					t.Errorf("%s: bill says %d rows, CSV has %d", mo, b.Rows, len(f.rows))
				}

				var fromCSV []SIMCost
				for id, a := range perSIM {
					fromCSV = append(fromCSV, SIMCost{SimID: id, Amount: a})
				}
				slices.SortFunc(fromCSV, func(x, y SIMCost) int {
					if x.Amount != y.Amount {
						return int(y.Amount - x.Amount)
					}
					return strings.Compare(x.SimID, y.SimID)
				})
				top := m.ExpectedTopSIMs(mo)
				if len(top) != 100 || !slices.Equal(top, fromCSV[:100]) {
					t.Errorf("%s: SIM summary is not the CSV's top 100:\n%v\n%v", mo, top[:3], fromCSV[:3])
				}
			}
			if negative == 0 || monthly == 0 || repeated == 0 || quoted == 0 {
				t.Errorf("the CSVs lack Soracom's features: %d negative, %d monthly, %d repeated keys, %d quoted",
					negative, monthly, repeated, quoted)
			}
		})
	}
}

// TestTaxAndCoupons pins the bill arithmetic: coupons first, then tax on
// the rest, in whole minor units.
func TestTaxAndCoupons(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{})
	first := m.Months()[0]
	b := m.ExpectedBill(first)
	if b.Coupon != 5_000*Micro {
		t.Fatalf("first month's coupon = %s, want the whole welcome coupon 5000", b.Coupon)
	}
	if want := ((b.Billed - b.Coupon) / 10).floorTo(Micro); b.Tax != want || b.Tax == 0 {
		t.Errorf("tax = %s, want %s", b.Tax, want)
	}
	g := newTestModel(t, ModelConfig{Coverage: CoverageGlobal})
	if b := g.ExpectedBill(first); b.Tax != 0 || b.Amount%10_000 != 0 {
		t.Errorf("global bill %+v: want no tax, whole cents", b)
	}
	var used Money
	for _, c := range m.CouponBalances() {
		used += c.Amount - c.Balance
	}
	var applied Money
	for _, mo := range m.Months() {
		if m.State(mo) == StateClosed {
			applied += m.ExpectedBill(mo).Coupon
		}
	}
	if used != applied || used == 0 {
		t.Errorf("coupon balances used %s, closed bills applied %s", used, applied)
	}
}

// TestCSVColumns checks the id columns appear only in months that use them:
// the VPG arrives part way through the history.
func TestCSVColumns(t *testing.T) {
	t.Parallel()
	m := newTestModel(t, ModelConfig{})
	months := m.Months()
	first, last := m.CSVHeader(months[0]), m.CSVHeader(months[len(months)-2])
	if slices.Contains(first, "vpgId") || !slices.Contains(last, "vpgId") {
		t.Errorf("vpgId column: first month %v, last closed month %v", first, last)
	}
	want := []string{"imsi", "simId"}
	if !slices.Equal(first[:2], want) || first[len(first)-1] != "group" || !slices.Contains(first, "tags.name") {
		t.Errorf("header %v", first)
	}
}

// TestDeterminism: the same seed gives the same account and files; another
// seed does not.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	csvOf := func(seed int64) []byte {
		m := newTestModel(t, ModelConfig{Seed: seed})
		var buf bytes.Buffer
		if err := m.WriteCSV(&buf, m.Months()[1]); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b, c := csvOf(7), csvOf(7), csvOf(8)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote different CSVs")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds wrote the same CSV")
	}
}
