package soracom

import (
	"bytes"
	"encoding/csv"
	"errors"
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
	imsi  *string
	tags  map[string]any
	group *string
}

// csvParser turns a month's CSV into bill items, a chunk at a time.
type csvParser struct {
	month  time.Time
	closed bool
	cols   csvColumns
	sims   map[string]*simInfo
	// resources are every SIM, VPG and device the CSV names, in order.
	resources []store.Resource
	seen      map[[2]string]bool
}

// parseCSV reads a month's CSV and hands emit its chunks in the file's
// order; it returns the resources the file names.
func parseCSV(body []byte, month time.Time, closed bool, emit func(chunk) error) ([]store.Resource, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(body))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%w: CSV header: %v", ErrMalformed, err)
	}
	p := &csvParser{month: month, closed: closed, sims: map[string]*simInfo{}, seen: map[[2]string]bool{}}
	if p.cols, err = readHeader(header); err != nil {
		return nil, err
	}
	cr.FieldsPerRecord = len(header)
	var cur chunk
	index := map[[3]string]int{} // family, id, item: position in cur.items
	flush := func() error {
		if len(cur.items) == 0 {
			return nil
		}
		err := emit(cur)
		cur = chunk{}
		clear(index)
		return err
	}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: CSV: %v", ErrMalformed, err)
		}
		it, err := p.row(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: CSV line %d: %v", ErrMalformed, line, err)
		}
		if len(cur.items) > 0 && (!it.ChargeDate.Equal(cur.day) || it.Monthly != cur.monthly) {
			if err := flush(); err != nil {
				return nil, err
			}
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
			if sum.FinalAmount != nil {
				sum.FinalAmount = &sum.Amount
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

// row reads one CSV record.
func (p *csvParser) row(rec []string) (store.SoracomBillItem, error) {
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return rec[i]
	}
	it := store.SoracomBillItem{BillingMonth: p.month, BillItemName: rec[p.cols.item]}
	switch date := rec[p.cols.date]; len(date) {
	case 8:
		d, err := time.Parse("20060102", date)
		if err != nil || d.Year() != p.month.Year() || d.Month() != p.month.Month() {
			return it, fmt.Errorf("date %q is not a day of %s", date, monthLabel(p.month))
		}
		it.ChargeDate = d
	case 6:
		if date != monthLabel(p.month) {
			return it, fmt.Errorf("monthly row of %q in the CSV of %s", date, monthLabel(p.month))
		}
		it.ChargeDate, it.Monthly = p.month, true
	default:
		return it, fmt.Errorf("date %q is neither yyyyMMdd nor yyyyMM", date)
	}
	var err error
	if it.Quantity, err = decimal.Parse(rec[p.cols.quantity]); err != nil {
		return it, fmt.Errorf("quantity: %v", err)
	}
	if it.Amount, err = decimal.Parse(rec[p.cols.amount]); err != nil {
		return it, fmt.Errorf("amount: %v", err)
	}
	if s := get(p.cols.unitPrice); s != "" {
		u, err := decimal.Parse(s)
		if err != nil {
			return it, fmt.Errorf("unitPrice: %v", err)
		}
		it.UnitPrice = &u
	}
	if p.closed {
		it.FinalAmount = &it.Amount
	}
	if m, ok := strings.CutPrefix(it.BillItemName, "Adjustment for "); ok {
		if t, err := parseMonth(m); err == nil {
			it.CorrectsMonth = &t
		}
	}
	switch {
	case get(p.cols.simID) != "":
		it.Family, it.ResourceID = "sim", get(p.cols.simID)
		s := p.sim(it.ResourceID, rec)
		it.IMSI, it.Tags, it.SIMGroup = s.imsi, s.tags, s.group
	case get(p.cols.vpgID) != "":
		it.Family, it.ResourceID = "vpg", get(p.cols.vpgID)
	case get(p.cols.deviceID) != "":
		it.Family, it.ResourceID = "device", get(p.cols.deviceID)
	default:
		it.Family = "account" // free tier, volume discount, account adjustments
	}
	if it.Family != "account" && !p.seen[[2]string{it.Family, it.ResourceID}] {
		p.seen[[2]string{it.Family, it.ResourceID}] = true
		res := store.Resource{Family: it.Family, ResourceID: it.ResourceID, Attributes: map[string]any{}}
		if it.Family == "sim" {
			s := p.sims[it.ResourceID]
			if s.imsi != nil {
				res.Attributes["imsi"] = *s.imsi
			}
			res.Attributes["tags"] = s.tags
			if s.group != nil {
				res.Attributes["group"] = *s.group
			}
		}
		p.resources = append(p.resources, res)
	}
	return it, nil
}

// sim is a SIM's imsi, tags and group, read from its first row and shared
// by its other rows (the columns repeat them).
func (p *csvParser) sim(id string, rec []string) *simInfo {
	if s, ok := p.sims[id]; ok {
		return s
	}
	s := &simInfo{tags: map[string]any{}}
	if p.cols.imsi >= 0 && rec[p.cols.imsi] != "" {
		v := strings.Clone(rec[p.cols.imsi])
		s.imsi = &v
	}
	for i, col := range p.cols.tags {
		if rec[col] != "" {
			s.tags[p.cols.tagKeys[i]] = strings.Clone(rec[col])
		}
	}
	if p.cols.group >= 0 && rec[p.cols.group] != "" {
		g := strings.Clone(rec[p.cols.group])
		s.group = &g
	}
	p.sims[strings.Clone(id)] = s
	return s
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
	res, err := parseCSV(f.body, f.month, f.closed, func(c chunk) error {
		out.writes = append(out.writes, chunkWrite(f.owner, f.month, c))
		return nil
	})
	if err != nil {
		return decoded{}, err
	}
	out.writes = append(out.writes, store.Resources.Writes(f.owner, nil, res...))
	return out, nil
}
