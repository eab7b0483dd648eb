package soracom

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// The detailed billing CSV as Soracom writes it: UTF-8 with a byte-order
// mark; the id columns only when the month has rows with them; the date as
// yyyyMMdd, or yyyyMM on monthly rows; the amounts as plain decimals,
// negative on discounts and the free tier; then a column per SIM tag key
// used in the month ("tags.<key>") and the SIM's group. Fields are quoted
// only when they must be (RFC 4180), lines end in CRLF.

const bom = "\ufeff"

// CSVHeader returns the header columns of a month's CSV now.
func (m *Model) CSVHeader(mo Month) []string {
	return csvHeader(m.aggregate(m.viewOf(mo)))
}

func csvHeader(a *aggregate) []string {
	var h []string
	if a.hasSIM {
		h = append(h, "imsi", "simId")
	}
	if a.hasVPG {
		h = append(h, "vpgId")
	}
	if a.hasDevice {
		h = append(h, "deviceId")
	}
	h = append(h, "date", "billItemName", "unitPrice", "quantity", "amount")
	for _, k := range a.tagKeys {
		h = append(h, "tags."+k)
	}
	return append(h, "group")
}

// WriteCSV writes a month's detailed billing CSV as it is now.
func (m *Model) WriteCSV(w io.Writer, mo Month) error {
	return m.writeCSV(w, m.aggregate(m.viewOf(mo)))
}

func (m *Model) writeCSV(w io.Writer, a *aggregate) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := []byte(bom)
	for i, h := range csvHeader(a) {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendField(line, h)
	}
	line = append(line, '\r', '\n')
	if _, err := bw.Write(line); err != nil {
		return err
	}

	// A SIM's tag and group columns are the same on all its rows.
	tails := make([][]byte, len(a.sims))
	for i, s := range a.sims {
		if !a.seen[i] {
			continue
		}
		var t []byte
		for _, k := range a.tagKeys {
			t = append(t, ',')
			for _, tag := range s.Tags {
				if tag.Key == k {
					t = appendField(t, tag.Value)
				}
			}
		}
		t = append(t, ',')
		tails[i] = appendField(t, s.Group)
	}
	empty := []byte(strings.Repeat(",", len(a.tagKeys)+1))

	var err error
	lastDay, date := Day(-1), []byte(nil) // rows come day by day
	m.eachRow(a, func(r *Row) {
		if err != nil {
			return
		}
		line = line[:0]
		if a.hasSIM {
			line = append(line, r.IMSI...)
			line = append(line, ',')
			line = append(line, r.SimID...)
			line = append(line, ',')
		}
		if a.hasVPG {
			line = append(append(line, r.VpgID...), ',')
		}
		if a.hasDevice {
			line = append(append(line, r.DeviceID...), ',')
		}
		if r.Monthly {
			line = r.Month.appendTo(line)
		} else {
			if r.Day != lastDay {
				lastDay, date = r.Day, r.Day.appendTo(date[:0])
			}
			line = append(line, date...)
		}
		line = append(line, ',')
		line = appendField(line, r.BillItemName)
		line = append(line, ',')
		line = r.UnitPrice.appendTo(line)
		line = append(line, ',')
		line = strconv.AppendInt(line, r.Quantity, 10)
		line = append(line, ',')
		line = r.Amount.appendTo(line)
		if r.SIM >= 0 {
			line = append(line, tails[r.SIM]...)
		} else {
			line = append(line, empty...)
		}
		line = append(line, '\r', '\n')
		_, err = bw.Write(line)
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// appendField appends a CSV field, quoted when it holds a comma, a quote
// or a line break.
func appendField(b []byte, s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}
