package soracom

// Row is one line of the detailed billing CSV.
type Row struct {
	// Day is the usage day of a daily row; Monthly rows (monthly fees, the
	// free tier, discounts, adjustments) carry their Month instead.
	Day     Day
	Month   Month
	Monthly bool

	IMSI, SimID, VpgID, DeviceID string // the ids the row has, "" otherwise
	SIM                          int    // the SIM's serial, -1 when not a SIM's row

	BillItemName string
	Category     string
	UnitPrice    Money
	Quantity     int64
	Amount       Money // UnitPrice × Quantity
}

// Date is the row's date as the CSV writes it: yyyyMMdd, or yyyyMM for a
// monthly row.
func (r *Row) Date() string {
	if r.Monthly {
		return r.Month.String()
	}
	return r.Day.String()
}

// view is how much of a month a set of figures covers: its first Days
// days. A closed month's view is the whole month.
type view struct {
	month Month
	days  int
}

func (v view) end() Day { return v.month.First() + Day(v.days) }

// rowItems are the bill item names, built once per plan so rows share them.
type rowItems struct {
	basic, discount, data string
}

func itemsFor(p *plan) rowItems {
	return rowItems{
		basic:    "Basic charge (" + p.name + ")",
		discount: "Long-term discount (" + p.name + ")",
		data:     "Data traffic charge (" + p.name + ")",
	}
}

const (
	itemSMS        = "SMS charge"
	itemDevice     = "Inventory device charge"
	itemVPG        = "VPG Type-E charge"
	itemFreeTier   = "Free tier (data traffic)"
	itemVolume     = "Volume discount (data traffic)"
	itemAdjustment = "Adjustment for "
)

// usage is one SIM's use on one day, drawn from a hash of the seed, the SIM
// and the day, so it is the same whichever month or window asks.
type usage struct {
	standardMB, fastMB int64
	sms                int64
}

func (m *Model) usageOn(s *SIM, d Day) usage {
	x := mix3(m.seed, uint64(s.Serial), uint64(d))
	var u usage
	if x%10 >= 2 { // two days in ten are idle
		mb := s.MeanMB * int64(25+(x>>8)%151) / 100 // 25% to 175% of the mean
		if mb == 0 {
			mb = 1
		}
		fast := int64(0)
		if s.Fast {
			fast = mb
		}
		if (x>>20)%10 == 0 { // the speed class changed during the day
			part := mb * int64(1+(x>>24)%9) / 10
			if s.Fast {
				fast = mb - part
			} else {
				fast = part
			}
		}
		u.fastMB, u.standardMB = fast, mb-fast
	}
	if s.SMS && (x>>32)%10 < 3 {
		u.sms = 1 + int64((x>>36)%5)
	}
	return u
}

// simDay emits a SIM's rows of one day. A day on which the speed class
// changed has two data rows with the same keys and different unit prices,
// as Soracom's CSV does.
func (m *Model) simDay(s *SIM, it *rowItems, d Day, r *Row, emit func(*Row)) {
	t := m.tariff
	*r = Row{Day: d, IMSI: s.IMSI, SimID: s.SimID, SIM: s.Serial, Category: CategoryAir}
	if s.plan.basic > 0 {
		r.BillItemName, r.UnitPrice, r.Quantity, r.Amount = it.basic, s.plan.basic, 1, s.plan.basic
		emit(r)
		if s.LongTerm {
			off := -s.plan.basic * Money(t.longTermPct) / 100
			r.BillItemName, r.UnitPrice, r.Quantity, r.Amount = it.discount, off, 1, off
			emit(r)
		}
	}
	u := m.usageOn(s, d)
	for _, part := range [2]struct {
		mb    int64
		price Money
	}{{u.standardMB, t.dataStandard}, {u.fastMB, t.dataFast}} {
		if part.mb > 0 {
			r.BillItemName, r.UnitPrice, r.Quantity, r.Amount = it.data, part.price, part.mb, part.price*Money(part.mb)
			emit(r)
		}
	}
	if u.sms > 0 {
		r.BillItemName, r.UnitPrice, r.Quantity, r.Amount = itemSMS, t.sms, u.sms, t.sms*Money(u.sms)
		emit(r)
	}
}

// eachDailyRow emits a view's daily rows, day by day: SIMs in serial order,
// then the VPG, then devices. The callback must not keep the *Row.
func (m *Model) eachDailyRow(v view, sims []*SIM, emit func(*Row)) {
	t := m.tariff
	items := make([]rowItems, len(t.plans))
	for i := range t.plans {
		items[i] = itemsFor(&t.plans[i])
	}
	planIndex := func(p *plan) int {
		for i := range t.plans {
			if &t.plans[i] == p {
				return i
			}
		}
		return 0
	}
	simItems := make([]*rowItems, len(sims))
	for i, s := range sims {
		simItems[i] = &items[planIndex(s.plan)]
	}
	var r Row
	for d := v.month.First(); d < v.end(); d++ {
		for i, s := range sims {
			if d < s.Activated || (s.Terminated != 0 && d >= s.Terminated) {
				continue
			}
			m.simDay(s, simItems[i], d, &r, emit)
		}
		for _, g := range m.vpgs {
			if d >= g.Created {
				r = Row{Day: d, VpgID: g.ID, SIM: -1, Category: CategoryVPG, BillItemName: itemVPG,
					UnitPrice: t.vpgHour, Quantity: 24, Amount: t.vpgHour * 24}
				emit(&r)
			}
		}
		for _, dev := range m.devices {
			if d >= dev.Created {
				r = Row{Day: d, DeviceID: dev.ID, SIM: -1, Category: CategoryInventory, BillItemName: itemDevice,
					UnitPrice: t.device, Quantity: 1, Amount: t.device}
				emit(&r)
			}
		}
	}
}

// monthlyRows are a view's rows dated by month: monthly plan fees, the free
// tier and the volume discount (both negative, from the month's data use)
// and the adjustments issued in the month.
func (m *Model) monthlyRows(v view, sims []*SIM, corrections []Correction, dataMB int64, data Money) []Row {
	t := m.tariff
	if v.days == 0 {
		return nil
	}
	var out []Row
	first, end := v.month.First(), v.end()
	for _, s := range sims {
		if s.plan.monthly == 0 || s.Activated >= end || (s.Terminated != 0 && s.Terminated <= first) {
			continue
		}
		out = append(out, Row{Month: v.month, Monthly: true, IMSI: s.IMSI, SimID: s.SimID, SIM: s.Serial,
			Category: CategoryAir, BillItemName: "Monthly fee (" + s.Plan + ")",
			UnitPrice: s.plan.monthly, Quantity: 1, Amount: s.plan.monthly})
	}
	if free := min(dataMB, t.freeMB); free > 0 {
		out = append(out, Row{Month: v.month, Monthly: true, SIM: -1, Category: CategoryAir, BillItemName: itemFreeTier,
			UnitPrice: -t.dataStandard, Quantity: free, Amount: -t.dataStandard * Money(free)})
	}
	if data >= t.volumeFrom {
		off := -(data * Money(t.volumePct) / 100).floorTo(t.minor)
		out = append(out, Row{Month: v.month, Monthly: true, SIM: -1, Category: CategoryAir, BillItemName: itemVolume,
			UnitPrice: off, Quantity: 1, Amount: off})
	}
	for _, c := range corrections {
		if c.Issued < first || c.Issued >= end {
			continue
		}
		r := Row{Month: v.month, Monthly: true, SIM: -1, Category: CategoryAdjustment,
			BillItemName: itemAdjustment + c.Target.String(), UnitPrice: c.Amount, Quantity: 1, Amount: c.Amount}
		if c.SIM >= 0 {
			s := sims[c.SIM]
			r.IMSI, r.SimID, r.SIM = s.IMSI, s.SimID, s.Serial
		}
		out = append(out, r)
	}
	return out
}

// mix3 is a stateless 64-bit hash of three words (splitmix64 rounds).
func mix3(a, b, c uint64) uint64 {
	h := a*0x9e3779b97f4a7c15 ^ b
	h = fmix(h)*0xbf58476d1ce4e5b9 ^ c
	return fmix(h)
}

func fmix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
