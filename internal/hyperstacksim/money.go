package hyperstacksim

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Nano is an amount of US dollars in units of 1e-9. The model computes every
// cost as an integer number of Nano, so sums agree exactly however a window is
// cut into buckets, and the JSON carries exact decimals.
type Nano int64

// NanoPerDollar is the number of Nano in one dollar.
const NanoPerDollar = 1_000_000_000

// String formats n as a plain decimal with no trailing zeros: 0.003483871.
func (n Nano) String() string {
	neg := n < 0
	if neg {
		n = -n
	}
	whole, frac := int64(n)/NanoPerDollar, int64(n)%NanoPerDollar
	s := strconv.FormatInt(whole, 10)
	if frac != 0 {
		f := strconv.FormatInt(frac+NanoPerDollar, 10)[1:] // zero-padded to 9 digits
		s += "." + strings.TrimRight(f, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

// JSON returns n as an exact JSON number.
func (n Nano) JSON() json.Number { return json.Number(n.String()) }

// ParseNano reads a decimal dollar amount with at most nine decimals.
func ParseNano(s string) (Nano, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 9 {
		return 0, false
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return 0, false
		}
	}
	n := Nano(w*NanoPerDollar + f)
	if neg {
		n = -n
	}
	return n, true
}

// hours formats a number of minutes as hours with up to six decimals.
func hours(minutes int64) json.Number {
	micro := minutes * 1_000_000 / 60
	s := strconv.FormatInt(micro/1_000_000, 10)
	if f := micro % 1_000_000; f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(f+1_000_000, 10)[1:], "0")
	}
	return json.Number(s)
}

func intJSON(v int64) json.Number { return json.Number(strconv.FormatInt(v, 10)) }
