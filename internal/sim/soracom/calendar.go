package soracom

import (
	"fmt"
	"strconv"
	"time"
)

// Day is a calendar date in the coverage's time zone, as days since
// 1970-01-01. The model bills day by day; a Day is also the key of every
// per-day hash, so usage does not depend on which window asks for it.
type Day int32

func dayOf(t time.Time, loc *time.Location) Day {
	y, m, d := t.In(loc).Date()
	return civilDay(y, m, d)
}

func civilDay(y int, m time.Month, d int) Day {
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// Date returns the day's year, month and day of month.
func (d Day) Date() (int, time.Month, int) {
	return time.Unix(int64(d)*86400, 0).UTC().Date()
}

// Start is the first instant of the day in loc.
func (d Day) Start(loc *time.Location) time.Time {
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// Weekday is the day's day of the week.
func (d Day) Weekday() time.Weekday { return time.Weekday((int64(d) + 4) % 7) } // 1970-01-01 was a Thursday

// Month is the month the day is in.
func (d Day) Month() Month {
	y, m, _ := d.Date()
	return MonthOf(y, m)
}

// String is the CSV's daily date, yyyyMMdd.
func (d Day) String() string { return string(d.appendTo(nil)) }

func (d Day) appendTo(b []byte) []byte {
	y, m, dd := d.Date()
	b = appendPadded(b, y, 4)
	b = appendPadded(b, int(m), 2)
	return appendPadded(b, dd, 2)
}

// appendPadded appends v (not negative) in decimal, zero-padded to width.
func appendPadded(b []byte, v, width int) []byte {
	var digits [20]byte
	i := len(digits)
	for v > 0 || i > len(digits)-width {
		i--
		digits[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, digits[i:]...)
}

// Month is a calendar month, as year*12 + month-1.
type Month int32

// MonthOf returns the month of a year.
func MonthOf(y int, m time.Month) Month { return Month(y*12 + int(m) - 1) }

// ParseMonth reads the API's yyyyMM.
func ParseMonth(s string) (Month, error) {
	if len(s) != 6 {
		return 0, fmt.Errorf("month %q: want yyyyMM", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[4:])
	if err1 != nil || err2 != nil || m < 1 || m > 12 || y < 1970 {
		return 0, fmt.Errorf("month %q: want yyyyMM", s)
	}
	return MonthOf(y, time.Month(m)), nil
}

// Year and Mon split the month.
func (m Month) Year() int       { return int(m) / 12 }
func (m Month) Mon() time.Month { return time.Month(int(m)%12 + 1) }
func (m Month) First() Day      { return civilDay(m.Year(), m.Mon(), 1) }
func (m Month) Next() Month     { return m + 1 }
func (m Month) End() Day        { return (m + 1).First() } // exclusive
func (m Month) Days() int       { return int(m.End() - m.First()) }
func (m Month) String() string  { return string(m.appendTo(nil)) }
func (m Month) appendTo(b []byte) []byte {
	return appendPadded(appendPadded(b, m.Year(), 4), int(m.Mon()), 2)
}

// closesOn is the day a month's bill is final: the day after the delay-th
// business day (Monday to Friday; holidays are not modelled) of the next
// month. A delay of 0 closes the month as it ends.
func closesOn(m Month, delay int) Day {
	d := m.End()
	for n := 0; n < delay; d++ {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n++
		}
	}
	return d
}
