package soracom

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// The detailed billing CSV: a byte-order mark, a header whose id columns
// (imsi, simId, vpgId, deviceId) appear only when the month used them,
// then date (yyyyMMdd, or yyyyMM on monthly rows), billItemName,
// unitPrice, quantity, amount, one tags.<key> column per SIM tag key and
// the group. Rows come day by day, monthly rows last. Rows sharing every
// key column (a SIM whose speed class changed during a day has two data
// rows) are summed.

// chunk is the CSV's rows of one day, or its monthly rows, summed by key.
type chunk struct {
	day     time.Time // the day, or the month's first day for monthly rows
	monthly bool
	items   []store.SoracomBillItem
}

// csvColumns are the positions of a header's columns, -1 when absent.
type csvColumns struct {
	imsi, simID, vpgID, deviceID, date, item, unitPrice, quantity, amount, group int
	tags                                                                         []int
	tagKeys                                                                      []string
}

func readHeader(h []string) (csvColumns, error) {
	c := csvColumns{imsi: -1, simID: -1, vpgID: -1, deviceID: -1, date: -1, item: -1, unitPrice: -1, quantity: -1, amount: -1, group: -1}
	for i, name := range h {
		switch name {
		case "imsi":
			c.imsi = i
		case "simId":
			c.simID = i
		case "vpgId":
			c.vpgID = i
		case "deviceId":
			c.deviceID = i
		case "date":
			c.date = i
		case "billItemName":
			c.item = i
		case "unitPrice":
			c.unitPrice = i
		case "quantity":
			c.quantity = i
		case "amount":
			c.amount = i
		case "group":
			c.group = i
		default:
			if k, ok := strings.CutPrefix(name, "tags."); ok {
				c.tags, c.tagKeys = append(c.tags, i), append(c.tagKeys, k)
			}
		}
	}
	for name, i := range map[string]int{"date": c.date, "billItemName": c.item, "quantity": c.quantity, "amount": c.amount} {
		if i < 0 {
			return c, fmt.Errorf("%w: the CSV header has no %s column: %q", ErrMalformed, name, h)
		}
	}
	return c, nil
}

// simInfo is what the CSV says of a SIM: the same on every row of it.
type simInfo struct {
	id    string
	imsi  *string
	tags  map[string]any
	group *string
}

// itemName is a bill item's name and the month it corrects, if any.
type itemName struct {
	name     string
	corrects *time.Time
}

// maxNumbers bounds the cache of decimal texts: a month repeats a few
// hundred prices, quantities and amounts in hundreds of thousands of rows.
const maxNumbers = 1 << 16

// csvParser turns a month's CSV into bill items, a chunk at a time. The
// values rows repeat (SIM ids, item names, numbers, tags) are read once
// and shared by every row that has them: a month's rows then hold no copy
// of the file's text.
type csvParser struct {
	month   time.Time
	closed  bool
	cols    csvColumns
	sims    map[string]*simInfo
	vpgs    map[string]string
	devices map[string]string
	names   map[string]*itemName
	numbers map[string]decimal.Decimal
	prices  map[string]*decimal.Decimal
	date    []byte // the last row's date, and what it read as
	day     time.Time
	monthly bool
	// resources are every SIM, VPG and device the CSV names, in order.
	resources []store.Resource
}

// parseCSV reads a month's CSV and hands emit its chunks in the file's
// order; it returns the resources the file names. A chunk's items are
// its own: emit may keep them.
func parseCSV(src io.Reader, month time.Time, closed bool, emit func(chunk) error) ([]store.Resource, error) {
	rr := newRecords(src)
	if bom, _ := rr.src.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		rr.src.Discard(3)
	}
	header, err := rr.read()
	if err != nil || header == nil {
		return nil, fmt.Errorf("%w: CSV header: %v", ErrMalformed, cmp.Or(err, io.EOF))
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = string(h)
	}
	p := &csvParser{month: month, closed: closed, sims: map[string]*simInfo{}, vpgs: map[string]string{}, devices: map[string]string{},
		names: map[string]*itemName{}, numbers: map[string]decimal.Decimal{}, prices: map[string]*decimal.Decimal{}}
	if p.cols, err = readHeader(names); err != nil {
		return nil, err
	}
	var cur chunk
	index := map[[3]string]int{} // family, id, item: position in cur.items
	type part struct {
		day     time.Time
		monthly bool
	}
	emitted := map[part]bool{} // days (and the monthly rows) already emitted
	flush := func() error {
		if len(cur.items) == 0 {
			return nil
		}
		if p.closed {
			for i := range cur.items {
				cur.items[i].FinalAmount = &cur.items[i].Amount // the rows copy the value
			}
		}
		emitted[part{cur.day, cur.monthly}] = true
		err := emit(cur)
		cur = chunk{items: make([]store.SoracomBillItem, 0, cap(cur.items))}
		clear(index)
		return err
	}
	for {
		rec, err := rr.read()
		if err != nil {
			return nil, fmt.Errorf("%w: CSV %v", ErrMalformed, err)
		}
		if rec == nil {
			break
		}
		if len(rec) != len(names) {
			return nil, fmt.Errorf("%w: CSV line %d: %d fields, the header has %d", ErrMalformed, rr.line, len(rec), len(names))
		}
		it, err := p.row(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: CSV line %d: %v", ErrMalformed, rr.line, err)
		}
		if len(cur.items) > 0 && (!it.ChargeDate.Equal(cur.day) || it.Monthly != cur.monthly) {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		if len(cur.items) == 0 && emitted[part{it.ChargeDate, it.Monthly}] {
			// A chunk is authoritative for its day: a day in two places
			// would have its second part delete its first.
			return nil, fmt.Errorf("%w: CSV line %d: the rows of %s are not together", ErrMalformed, rr.line, rec[p.cols.date])
		}
		cur.day, cur.monthly = it.ChargeDate, it.Monthly
		k := [3]string{it.Family, it.ResourceID, it.BillItemName}
		if i, dup := index[k]; dup {
			sum := &cur.items[i]
			sum.Quantity = sum.Quantity.Add(it.Quantity)
			sum.Amount = sum.Amount.Add(it.Amount)
			if sum.UnitPrice != nil && (it.UnitPrice == nil || !sum.UnitPrice.Equal(*it.UnitPrice)) {
				sum.UnitPrice = nil // summed over several prices: none is the row's
			}
			continue
		}
		index[k] = len(cur.items)
		cur.items = append(cur.items, it)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return p.resources, nil
}

// row reads one CSV record. Nothing it returns points into rec.
func (p *csvParser) row(rec [][]byte) (store.SoracomBillItem, error) {
	get := func(i int) []byte {
		if i < 0 {
			return nil
		}
		return rec[i]
	}
	it := store.SoracomBillItem{BillingMonth: p.month}
	if err := p.readDate(rec[p.cols.date]); err != nil {
		return it, err
	}
	it.ChargeDate, it.Monthly = p.day, p.monthly
	name := p.name(rec[p.cols.item])
	it.BillItemName, it.CorrectsMonth = name.name, name.corrects
	var err error
	if it.Quantity, err = p.number(rec[p.cols.quantity]); err != nil {
		return it, fmt.Errorf("quantity: %v", err)
	}
	if it.Amount, err = p.number(rec[p.cols.amount]); err != nil {
		return it, fmt.Errorf("amount: %v", err)
	}
	if b := get(p.cols.unitPrice); len(b) > 0 {
		if it.UnitPrice, err = p.price(b); err != nil {
			return it, fmt.Errorf("unitPrice: %v", err)
		}
	}
	switch {
	case len(get(p.cols.simID)) > 0:
		s := p.sim(rec)
		it.Family, it.ResourceID = "sim", s.id
		it.IMSI, it.Tags, it.SIMGroup = s.imsi, s.tags, s.group
	case len(get(p.cols.vpgID)) > 0:
		it.Family, it.ResourceID = "vpg", p.other("vpg", p.vpgs, rec[p.cols.vpgID])
	case len(get(p.cols.deviceID)) > 0:
		it.Family, it.ResourceID = "device", p.other("device", p.devices, rec[p.cols.deviceID])
	default:
		it.Family = "account" // free tier, volume discount, account adjustments
	}
	return it, nil
}

// readDate reads a row's date into p.day and p.monthly. Rows come day by
// day: a date like the row before's is not read again.
func (p *csvParser) readDate(b []byte) error {
	if p.date != nil && bytes.Equal(b, p.date) {
		return nil
	}
	date := string(b)
	switch len(date) {
	case 8:
		d, err := time.Parse("20060102", date)
		if err != nil || d.Year() != p.month.Year() || d.Month() != p.month.Month() {
			return fmt.Errorf("date %q is not a day of %s", date, monthLabel(p.month))
		}
		p.day, p.monthly = d, false
	case 6:
		if date != monthLabel(p.month) {
			return fmt.Errorf("monthly row of %q in the CSV of %s", date, monthLabel(p.month))
		}
		p.day, p.monthly = p.month, true
	default:
		return fmt.Errorf("date %q is neither yyyyMMdd nor yyyyMM", date)
	}
	p.date = append(p.date[:0], b...)
	return nil
}

// name is a bill item's name, read once.
func (p *csvParser) name(b []byte) *itemName {
	if n, ok := p.names[string(b)]; ok {
		return n
	}
	n := &itemName{name: string(b)}
	if m, ok := strings.CutPrefix(n.name, "Adjustment for "); ok {
		if t, err := parseMonth(m); err == nil {
			n.corrects = &t
		}
	}
	p.names[n.name] = n
	return n
}

// number reads a decimal, each distinct text once (up to maxNumbers).
func (p *csvParser) number(b []byte) (decimal.Decimal, error) {
	if d, ok := p.numbers[string(b)]; ok {
		return d, nil
	}
	d, err := decimal.Parse(string(b))
	if err == nil && len(p.numbers) < maxNumbers {
		p.numbers[string(b)] = d
	}
	return d, err
}

// price is a unit price, shared by the rows that have it (a Decimal is
// immutable).
func (p *csvParser) price(b []byte) (*decimal.Decimal, error) {
	if d, ok := p.prices[string(b)]; ok {
		return d, nil
	}
	d, err := decimal.Parse(string(b))
	if err != nil {
		return nil, err
	}
	if len(p.prices) < maxNumbers {
		p.prices[string(b)] = &d
	}
	return &d, nil
}

// sim is a row's SIM: its id, imsi, tags and group, read from its first
// row and shared by its other rows (the columns repeat them).
func (p *csvParser) sim(rec [][]byte) *simInfo {
	if s, ok := p.sims[string(rec[p.cols.simID])]; ok {
		return s
	}
	text := func(i int) *string {
		if i < 0 || len(rec[i]) == 0 {
			return nil
		}
		v := string(rec[i])
		return &v
	}
	s := &simInfo{id: string(rec[p.cols.simID]), imsi: text(p.cols.imsi), group: text(p.cols.group), tags: map[string]any{}}
	for i, col := range p.cols.tags {
		if len(rec[col]) > 0 {
			s.tags[p.cols.tagKeys[i]] = string(rec[col])
		}
	}
	p.sims[s.id] = s
	res := store.Resource{Family: "sim", ResourceID: s.id, Attributes: map[string]any{"tags": s.tags}}
	if s.imsi != nil {
		res.Attributes["imsi"] = *s.imsi
	}
	if s.group != nil {
		res.Attributes["group"] = *s.group
	}
	p.resources = append(p.resources, res)
	return s
}

// other is a VPG's or a device's id, read once.
func (p *csvParser) other(family string, ids map[string]string, b []byte) string {
	if id, ok := ids[string(b)]; ok {
		return id
	}
	id := string(b)
	ids[id] = id
	p.resources = append(p.resources, store.Resource{Family: family, ResourceID: id, Attributes: map[string]any{}})
	return id
}

// chunkWrite is a chunk's rows, authoritative for its day (or for the
// month's monthly rows).
func chunkWrite(owner store.Owner, month time.Time, c chunk) store.Write {
	scope := &store.Scope{Owner: owner, Equal: map[string]any{"billing_month": month, "monthly": c.monthly}}
	if !c.monthly {
		scope.RangeColumn, scope.From, scope.To = "charge_date", c.day, c.day.AddDate(0, 0, 1)
	}
	return store.SoracomBillItems.Writes(owner, scope, c.items...)
}

// decodeCSV decodes a whole stored CSV, for replay.
func decodeCSV(f *fetched) (decoded, error) {
	var out decoded
	err := replayCSV(f, bytes.NewReader(f.body), func(w store.Write) error {
		out.writes = append(out.writes, w)
		return nil
	})
	if err != nil {
		return decoded{}, err
	}
	return out, nil
}

// replayCSV hands emit a stored CSV's writes as it reads them from body:
// each day's rows (and the month's monthly ones), then the resources it
// names.
func replayCSV(f *fetched, body io.Reader, emit func(store.Write) error) error {
	res, err := parseCSV(body, f.month, f.closed, func(c chunk) error {
		return emit(chunkWrite(f.owner, f.month, c))
	})
	if err != nil {
		return err
	}
	return emit(store.Resources.Writes(f.owner, nil, res...))
}
