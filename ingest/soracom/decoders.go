package soracom

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/jsontree"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// ErrMalformed marks a body the decoders cannot trust.
var ErrMalformed = jsontree.ErrMalformed

// fetched is one response with what it was fetched for.
type fetched struct {
	ep       *Endpoint
	owner    store.Owner
	month    time.Time // the billing month of a per-month endpoint (its first day, UTC)
	closed   bool      // daily and CSV: the month was closed when fetched
	observed time.Time // when it was fetched
	loc      *time.Location
	body     []byte
}

// decoded is what a decoder makes of a response.
type decoded struct {
	writes []store.Write
	bills  []store.SoracomBill // bill endpoints: what they said, for the crawl
}

// errorEnvelope reads Soracom's {code, message}.
func errorEnvelope(body []byte) (reason, message string) {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", strings.TrimSpace(store.Clip(string(body), 200))
	}
	return e.Code, e.Message
}

// parseMonth reads yyyyMM as the month's first day.
func parseMonth(s string) (time.Time, error) {
	t, err := time.Parse("200601", s)
	if err != nil || len(s) != 6 {
		return time.Time{}, fmt.Errorf("%w: month %q is not yyyyMM", ErrMalformed, s)
	}
	return t, nil
}

func monthLabel(t time.Time) string { return t.Format("200601") }

// monthOf reads a required yyyyMM field.
func monthOf(r *jsontree.Reader, o jsontree.Object, path, key string) time.Time {
	s := r.Str(o, path, key, true)
	if s == nil {
		return time.Time{}
	}
	m, err := parseMonth(*s)
	if err != nil {
		r.Fail(path+"."+key, "%v", err)
	}
	return m
}

// bill reads a MonthlyBill object.
func bill(r *jsontree.Reader, o jsontree.Object, path string) store.SoracomBill {
	b := store.SoracomBill{BillingMonth: monthOf(r, o, path, "yearMonth"),
		AppliedCouponAmount: r.Num(o, path, "appliedCouponAmount", false), Currency: r.Str(o, path, "currency", false),
		State: r.Str(o, path, "state", true), PaymentStatus: r.Str(o, path, "paymentStatus", false),
		PaymentTransactionID: r.ID(o, path, "paymentTransactionId", false)}
	if a := r.Num(o, path, "amount", true); a != nil {
		b.Amount = *a
	}
	if b.State != nil && *b.State != "temporary" && *b.State != "closed" {
		r.Fail(path+".state", "unknown state %q", *b.State)
	}
	if b.State != nil && *b.State == "closed" {
		b.FinalAmount = &b.Amount
	}
	return b
}

// decodeBill reads GET /bills/{yyyyMM}.
func decodeBill(f *fetched) (decoded, error) {
	o, err := jsontree.ParseObject(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	b := bill(r, o, "bill")
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.SoracomBills.Writes(f.owner, nil, b)}, bills: []store.SoracomBill{b}}, nil
}

// decodeBillList reads GET /bills: the closed months.
func decodeBillList(f *fetched) (decoded, error) {
	o, err := jsontree.ParseObject(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	var out []store.SoracomBill
	for i, item := range r.Arr(o.Get("billList"), "billList") {
		path := fmt.Sprintf("billList[%d]", i)
		out = append(out, bill(r, r.Obj(item, path), path))
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.SoracomBills.Writes(f.owner, nil, out...)}, bills: out}, nil
}

// decodeLatest reads GET /bills/latest: the current month's preliminary
// amount and how far it is evaluated. The current month is the one of the
// fetch in the coverage's time zone (lastEvaluatedTime lags it, and may
// still be in the month before).
func decodeLatest(f *fetched) (decoded, error) {
	o, err := jsontree.ParseObject(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	b := store.SoracomBill{BillingMonth: billingMonth(f.observed, f.loc), Currency: r.Str(o, "latest", "currency", false)}
	if a := r.Num(o, "latest", "amount", true); a != nil {
		b.Amount = *a
	}
	if s := r.Str(o, "latest", "lastEvaluatedTime", false); s != nil {
		t, err := time.ParseInLocation("20060102150405", *s, f.loc)
		if err != nil {
			r.Fail("latest.lastEvaluatedTime", "not yyyyMMddHHmmss: %q", *s)
		}
		t = t.UTC()
		b.LastEvaluatedAt = &t
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.SoracomBills.Writes(f.owner, nil, b)}}, nil
}

// billingMonth is the month t falls in, in the coverage's time zone, as
// its first day.
func billingMonth(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// decodeDaily reads GET /bills/{yyyyMM}/daily. The month's days are
// authoritative: a day it no longer lists is deleted.
func decodeDaily(f *fetched) (decoded, error) {
	o, err := jsontree.ParseObject(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	var rows []store.SoracomDailyBill
	for i, item := range r.Arr(o.Get("billList"), "billList") {
		path := fmt.Sprintf("billList[%d]", i)
		it := r.Obj(item, path)
		d := store.SoracomDailyBill{BillingMonth: f.month, Currency: r.Str(it, path, "currency", false)}
		if s := r.Str(it, path, "date", true); s != nil {
			day, err := time.Parse("20060102", *s)
			if err != nil || monthLabel(day) != monthLabel(f.month) {
				r.Fail(path+".date", "not a day of %s: %q", monthLabel(f.month), *s)
			}
			d.Day = day
		}
		if a := r.Num(it, path, "amount", true); a != nil {
			d.Amount = *a
		}
		if f.closed {
			d.FinalAmount = &d.Amount
		}
		rows = append(rows, d)
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	scope := &store.Scope{Owner: f.owner, Equal: map[string]any{"billing_month": f.month}}
	return decoded{writes: []store.Write{store.SoracomDailyBills.Writes(f.owner, scope, rows...)}}, nil
}

// decodeSummaries reads GET /bills/summaries/bill_items or /sims: each
// month's breakdown is authoritative for that month.
func decodeSummaries(f *fetched) (decoded, error) {
	root, err := jsontree.Parse(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	breakdown, itemKey := "bill_item", "billItemName"
	if f.ep.Name == "summaries/sims" {
		breakdown, itemKey = "sim", "simId"
	}
	var out decoded
	for i, m := range r.Arr(root, "summaries") {
		path := fmt.Sprintf("summaries[%d]", i)
		mo := r.Obj(m, path)
		month := monthOf(r, mo, path, "yearMonth")
		currency := r.Str(mo, path, "currency", false)
		var updated *time.Time
		if n := r.Num(mo, path, "updatedTime", false); n != nil {
			if secs, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
				t := time.Unix(secs, 0).UTC()
				updated = &t
			} else {
				r.Fail(path+".updatedTime", "not a Unix time: %s", n)
			}
		}
		var rows []store.SoracomSummary
		for j, c := range r.Arr(mo.Get("costBreakdownList"), path+".costBreakdownList") {
			cp := fmt.Sprintf("%s.costBreakdownList[%d]", path, j)
			co := r.Obj(c, cp)
			s := store.SoracomSummary{BillingMonth: month, Breakdown: breakdown, Currency: currency, UpdatedAt: updated}
			if id := r.ID(co, cp, itemKey, true); id != nil {
				s.Item = *id
			}
			if a := r.Num(co, cp, "amount", true); a != nil {
				s.Amount = *a
			}
			s.Category = r.Str(co, cp, "billItemCategory", false)
			rows = append(rows, s)
		}
		if r.Err != nil {
			return decoded{}, r.Err
		}
		scope := &store.Scope{Owner: f.owner, Equal: map[string]any{"billing_month": month, "breakdown": breakdown}}
		out.writes = append(out.writes, store.SoracomSummaries.Writes(f.owner, scope, rows...))
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return out, nil
}

// decodeCoupons reads GET /coupons: every coupon and its balance now.
func decodeCoupons(f *fetched) (decoded, error) {
	o, err := jsontree.ParseObject(f.body)
	if err != nil {
		return decoded{}, err
	}
	r := &jsontree.Reader{}
	var rows []store.SoracomCoupon
	for i, item := range r.Arr(o.Get("couponList"), "couponList") {
		path := fmt.Sprintf("couponList[%d]", i)
		it := r.Obj(item, path)
		c := store.SoracomCoupon{Amount: r.Num(it, path, "amount", false), Balance: r.Num(it, path, "balance", false)}
		if id := r.ID(it, path, "couponCode", true); id != nil {
			c.CouponCode = *id
		}
		if s := r.Str(it, path, "expiryYearMonth", false); s != nil {
			if m, err := parseMonth(*s); err == nil {
				c.ExpiryMonth = &m
			} else {
				r.Fail(path+".expiryYearMonth", "%v", err)
			}
		}
		rows = append(rows, c)
	}
	if r.Err != nil {
		return decoded{}, r.Err
	}
	return decoded{writes: []store.Write{store.SoracomCoupons.Writes(f.owner, nil, rows...)}}, nil
}

// zero is the decimal 0, for sums.
var zero = decimal.FromInt(0)
