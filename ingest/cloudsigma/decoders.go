package cloudsigma

import (
	"cmp"
	"encoding/json"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/internal/jsontree"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// ErrMalformed marks a body the decoders cannot trust.
var ErrMalformed = jsontree.ErrMalformed

// nullable are the fields the API sends as null: a ledger entry's burst
// fields when it is not a burst, and the balance's credit limit on a
// prepaid account.
var nullable = map[string]bool{"billing_cycle": true, "interval": true, "human_interval": true, "credit_limit": true}

// errorEnvelope reads the API's [{error_type, error_message, error_point}].
func errorEnvelope(body []byte) (reason, message string) {
	var e []struct {
		Type    string `json:"error_type"`
		Message string `json:"error_message"`
		Point   string `json:"error_point"`
	}
	if json.Unmarshal(body, &e) != nil || len(e) == 0 {
		return "", strings.TrimSpace(store.Clip(string(body), 200))
	}
	msg := e[0].Message
	if e[0].Point != "" {
		msg += " (" + e[0].Point + ")"
	}
	return e[0].Type, msg
}

// decoding bounds the pages decoded at once to the cores. A page's tree
// is several times its body: without it, the pages fetched while others
// decode (a ledger window's are fetched at once) pile up as trees.
var decoding = make(chan struct{}, runtime.GOMAXPROCS(0))

// decodeSlot waits for a core to decode a page on; call done after.
func decodeSlot() (done func()) {
	decoding <- struct{}{}
	return func() { <-decoding }
}

// list is one page of a {meta, objects} answer.
type list struct {
	objects []jsontree.Object
	total   int
	root    jsontree.Object
	r       *jsontree.Reader
}

func openList(body []byte) (list, error) {
	root, err := jsontree.ParseObject(body)
	if err != nil {
		return list{}, err
	}
	r := &jsontree.Reader{Nullable: nullable}
	meta := r.Obj(root.Get("meta"), "meta")
	total, _ := r.Int(meta, "meta", "total_count", false)
	items := r.Arr(root.Get("objects"), "objects")
	objs := make([]jsontree.Object, len(items))
	for i, it := range items {
		var ok bool
		if objs[i], ok = it.(jsontree.Object); !ok {
			r.Obj(it, objectPath(i)) // the path is made for the error only
		}
	}
	return list{objects: objs, total: total, root: root, r: r}, r.Err
}

func objectPath(i int) string { return "objects[" + strconv.Itoa(i) + "]" }

// dec reads an amount the API sends as a string ("0.00014583333333333333")
// or, in a few places, as a number.
func dec(r *jsontree.Reader, o jsontree.Object, path, key string, required bool) *decimal.Decimal {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	default:
		r.Fail(path+"."+key, "want a decimal, got %s", jsontree.Kind(v))
		return nil
	}
	d, err := decimal.Parse(s)
	if err != nil {
		r.Fail(path+"."+key, "%v", err)
		return nil
	}
	return &d
}

// entry is a ledger entry as the chain proof needs it, with its row.
type entry struct {
	row          store.CloudSigmaLedgerEntry
	initial, end decimal.Decimal
	amount       decimal.Decimal
}

// decodeLedger reads one page of /ledger/.
func decodeLedger(body []byte, currency string) ([]entry, int, error) {
	l, err := openList(body)
	if err != nil {
		return nil, 0, err
	}
	r := l.r
	out := make([]entry, 0, len(l.objects))
	for i, o := range l.objects {
		p := objectPath(i)
		id := r.ID(o, p, "id", true)
		t := r.Time(o, p, "time", true)
		amount, initial, end := dec(r, o, p, "amount", true), dec(r, o, p, "initial", true), dec(r, o, p, "end", true)
		reason := r.Str(o, p, "reason", true)
		if r.Err != nil {
			return nil, 0, r.Err
		}
		row := store.CloudSigmaLedgerEntry{EntryID: *id, Time: *t, PollTime: r.Time(o, p, "poll_time", false),
			Amount: amount, InitialBalance: initial, EndBalance: end, Reason: *reason,
			ResourceAmount: dec(r, o, p, "resource_amount", false)}
		if currency != "" {
			row.Currency = &currency
		}
		if c, ok := r.Int(o, p, "billing_cycle", false); ok {
			c64 := int64(c)
			row.BillingCycle = &c64
		}
		if s, ok := r.Int(o, p, "interval", false); ok {
			row.IntervalSeconds = &s
		}
		row.Kind, row.Resource, row.Reference = parseReason(*reason, amount.Sign())
		out = append(out, entry{row: row, initial: *initial, end: *end, amount: *amount})
	}
	return out, l.total, r.Err
}

var (
	subscriptionReason = regexp.MustCompile(`^Subscription: [0-9.]+ \S+ of (\S+) for .* - (\S+)$`)
	creditReason       = regexp.MustCompile(`^(Payment|Promotional credit|Refund)\b.*? - (\S+)$`)
)

// parseReason reads what a ledger entry is for from its reason: a burst of
// a resource (a licence when the resource is one: msft_…), a
// subscription's purchase, a payment, a refund, a promotion. sign is the
// amount's: a credit the reason does not explain is "other".
func parseReason(reason string, sign int) (kind string, resource, reference *string) {
	if res, ok := burstResource(reason); ok {
		kind = "burst"
		if strings.HasPrefix(res, "msft_") {
			kind = "licence"
		}
		return kind, &res, nil
	}
	if m := subscriptionReason.FindStringSubmatch(reason); m != nil {
		return "subscription", &m[1], &m[2]
	}
	if m := creditReason.FindStringSubmatch(reason); m != nil {
		kind = map[string]string{"Payment": "payment", "Promotional credit": "promotion", "Refund": "refund"}[m[1]]
		return kind, nil, &m[2]
	}
	switch {
	case strings.HasPrefix(reason, "Refund"):
		return "refund", nil, nil
	case strings.HasPrefix(reason, "Payment"):
		return "payment", nil, nil
	}
	return "other", nil, nil
}

// burstResource is burstReason's match, read without the regexp: nearly
// every entry is a burst, and the regexp was a tenth of decoding a page.
func burstResource(reason string) (string, bool) {
	rest, ok := strings.CutPrefix(reason, "Burst: ")
	if !ok {
		return "", false
	}
	amount, rest := token(rest)
	if amount == "" || strings.Trim(amount, "0123456789.") != "" {
		return "", false
	}
	unit, rest := token(strings.TrimPrefix(rest, " "))
	if unit == "" || len(rest) == 0 || rest[0] != ' ' {
		return "", false
	}
	if rest, ok = strings.CutPrefix(rest, " of "); !ok {
		return "", false
	}
	res, rest := token(rest)
	if res == "" || !strings.HasPrefix(rest, " for ") {
		return "", false
	}
	return res, true
}

// token splits s at its first white space as \S+ sees it.
func token(s string) (tok, rest string) {
	i := strings.IndexAny(s, " \t\n\f\r")
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i:]
}

// decodeBalance reads /balance/: the balance, the credit limit (null for a
// prepaid account), the currency.
func decodeBalance(body []byte, observed time.Time) (store.CreditObservation, decimal.Decimal, string, error) {
	root, err := jsontree.ParseObject(body)
	if err != nil {
		return store.CreditObservation{}, decimal.Decimal{}, "", err
	}
	r := &jsontree.Reader{Nullable: nullable}
	bal := dec(r, root, "", "balance", true)
	limit := dec(r, root, "", "credit_limit", false)
	cur := r.Str(root, "", "currency", true)
	if r.Err != nil {
		return store.CreditObservation{}, decimal.Decimal{}, "", r.Err
	}
	return store.CreditObservation{ObservedHour: observed.UTC().Truncate(time.Hour), Credit: bal, Threshold: limit}, *bal, *cur, nil
}

// usageSample is one row of /usage/.
type usageSample struct {
	poll     time.Time
	resource string
	uuid     string
	amount   decimal.Decimal
}

func decodeUsage(body []byte) ([]usageSample, error) {
	l, err := openList(body)
	if err != nil {
		return nil, err
	}
	r := l.r
	out := make([]usageSample, 0, len(l.objects))
	for i, o := range l.objects {
		p := objectPath(i)
		t := r.Time(o, p, "poll_time", true)
		res := r.Str(o, p, "resource", true)
		uuid := r.Str(o, p, "uuid", true)
		amount := dec(r, o, p, "amount", true)
		if r.Err != nil {
			return nil, r.Err
		}
		out = append(out, usageSample{poll: *t, resource: *res, uuid: *uuid, amount: *amount})
	}
	return out, nil
}

// roller sums samples per resource and hour, and per resource and UTC
// day, as they come: a day of a large account is a quarter of a million
// samples, which are not kept.
type roller struct {
	sums  map[rollKey]*rollSum
	order []rollKey
}

type rollKey struct {
	res    string
	secs   int
	bucket time.Time
}

type rollSum struct {
	units   decimal.Decimal
	samples int
	objects map[string]struct{}
}

func (r *roller) add(samples []usageSample) {
	if r.sums == nil {
		r.sums = map[rollKey]*rollSum{}
	}
	for _, s := range samples {
		for _, k := range [2]rollKey{{s.resource, 3600, s.poll.Truncate(time.Hour)}, {s.resource, 86400, s.poll.Truncate(24 * time.Hour)}} {
			x := r.sums[k]
			if x == nil {
				x = &rollSum{objects: map[string]struct{}{}}
				k.res = strings.Clone(k.res)
				r.sums[k] = x
				r.order = append(r.order, k)
			}
			x.units = x.units.Add(s.amount)
			x.samples++
			if _, ok := x.objects[s.uuid]; !ok {
				x.objects[strings.Clone(s.uuid)] = struct{}{}
			}
		}
	}
}

func (r *roller) rows() []store.CloudSigmaUsage {
	// Hours are added as they come, in any order: rows go in key order.
	slices.SortFunc(r.order, func(a, b rollKey) int {
		return cmp.Or(cmp.Compare(a.secs, b.secs), a.bucket.Compare(b.bucket), strings.Compare(a.res, b.res))
	})
	out := make([]store.CloudSigmaUsage, 0, len(r.order))
	for _, k := range r.order {
		x := r.sums[k]
		out = append(out, store.CloudSigmaUsage{Resource: k.res, BucketSeconds: k.secs, BucketStart: k.bucket,
			UnitSamples: x.units, Samples: x.samples, Objects: len(x.objects)})
	}
	return out
}

// decodePricing reads a page of /pricing/: the price list, and the burst
// levels of the cycle the clock is in and of the next.
func decodePricing(body []byte, observed time.Time) ([]store.CloudSigmaPrice, []store.CloudSigmaBurstLevel, error) {
	l, err := openList(body)
	if err != nil {
		return nil, nil, err
	}
	r := l.r
	var prices []store.CloudSigmaPrice
	for i, o := range l.objects {
		p := objectPath(i)
		res, cur := r.Str(o, p, "resource", true), r.Str(o, p, "currency", true)
		level, _ := r.Int(o, p, "level", true)
		price := dec(r, o, p, "price", true)
		if r.Err != nil {
			return nil, nil, r.Err
		}
		prices = append(prices, store.CloudSigmaPrice{Resource: *res, Currency: *cur, Level: level, Price: *price,
			Unit: r.Str(o, p, "unit", false), Multiplier: dec(r, o, p, "multiplier", false)})
	}
	var levels []store.CloudSigmaBurstLevel
	cycle := CycleStart(observed)
	for i, name := range []string{"current", "next"} {
		v, ok := l.root.Lookup(name)
		if !ok {
			continue
		}
		o := r.Obj(v, name)
		for _, m := range o {
			level, _ := r.Int(o, name, m.Key, true)
			levels = append(levels, store.CloudSigmaBurstLevel{Resource: strings.Clone(m.Key),
				CycleStart: cycle.Add(time.Duration(i) * cycleLength), Level: level})
		}
	}
	return prices, levels, r.Err
}

func decodeDiscounts(body []byte) ([]store.CloudSigmaDiscount, error) {
	l, err := openList(body)
	if err != nil {
		return nil, err
	}
	r := l.r
	var out []store.CloudSigmaDiscount
	for i, o := range l.objects {
		p := objectPath(i)
		period, value := r.Str(o, p, "period", true), dec(r, o, p, "value", true)
		if r.Err != nil {
			return nil, r.Err
		}
		out = append(out, store.CloudSigmaDiscount{Period: *period, Value: *value})
	}
	return out, nil
}

func decodeLicences(body []byte) ([]store.CloudSigmaLicence, error) {
	l, err := openList(body)
	if err != nil {
		return nil, err
	}
	r := l.r
	var out []store.CloudSigmaLicence
	for i, o := range l.objects {
		p := objectPath(i)
		name := r.Str(o, p, "name", true)
		if r.Err != nil {
			return nil, r.Err
		}
		out = append(out, store.CloudSigmaLicence{Name: *name, LongName: r.Str(o, p, "long_name", false),
			Type: r.Str(o, p, "type", false), UserMetric: r.Str(o, p, "user_metric", false), Burstable: r.Bool(o, p, "burstable")})
	}
	return out, r.Err
}

func decodeSubscriptions(body []byte, currency string) ([]store.CloudSigmaSubscription, error) {
	l, err := openList(body)
	if err != nil {
		return nil, err
	}
	r := l.r
	var out []store.CloudSigmaSubscription
	for i, o := range l.objects {
		p := objectPath(i)
		id, res := r.ID(o, p, "id", true), r.Str(o, p, "resource", true)
		amount, price := dec(r, o, p, "amount", true), dec(r, o, p, "price", true)
		start, end := r.Time(o, p, "start_time", true), r.Time(o, p, "end_time", true)
		if r.Err != nil {
			return nil, r.Err
		}
		s := store.CloudSigmaSubscription{SubscriptionID: *id, UUID: r.Str(o, p, "uuid", false), Resource: *res,
			Amount: *amount, Price: *price, Period: r.Str(o, p, "period", false), StartTime: *start, EndTime: *end,
			Status: r.Str(o, p, "status", false), AutoRenew: r.Bool(o, p, "auto_renew"), FreeTier: r.Bool(o, p, "free_tier"),
			DiscountAmount: dec(r, o, p, "discount_amount", false), DiscountPercent: dec(r, o, p, "discount_percent", false)}
		if currency != "" {
			s.Currency = &currency
		}
		out = append(out, s)
	}
	return out, r.Err
}

// Billing cycles are five minutes long. The docs' ledger example polls
// cycle 105157 at 2014-06-05 09:06:06, which puts cycle 0 at 2013-06-05
// 06:01 UTC: cycles start at minutes 1, 6, 11, … of the hour.
var cycleEpoch = time.Date(2013, 6, 5, 6, 1, 0, 0, time.UTC)

const cycleLength = 5 * time.Minute

// CycleStart is the start of the billing cycle t falls in.
func CycleStart(t time.Time) time.Time {
	d := t.Sub(cycleEpoch)
	k := d / cycleLength
	if d < 0 && d%cycleLength != 0 {
		k--
	}
	return cycleEpoch.Add(k * cycleLength)
}
