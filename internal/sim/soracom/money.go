package soracom

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in millionths of the bill's currency (yen or dollars).
// Every price in the model is a whole number of them and every quantity a
// whole number, so a row's amount (unit price × quantity) is exact and all
// sums agree to the last digit. Soracom's amounts are JSON numbers that can
// carry fractions even in yen (¥0.2 per MB); six decimals hold them all.
type Money int64

// Micro is the number of Money in one yen or dollar.
const Micro = 1_000_000

// String formats m as a plain decimal without trailing zeros: 7.4, -2, 0.002.
func (m Money) String() string {
	return string(m.appendTo(nil))
}

func (m Money) appendTo(b []byte) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = uint64(-m)
	}
	b = strconv.AppendUint(b, u/Micro, 10)
	frac := u % Micro
	if frac == 0 {
		return b
	}
	var digits [6]byte
	for i := 5; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 6
	for digits[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, digits[:n]...)
}

// JSON returns m as an exact JSON number.
func (m Money) JSON() json.Number { return json.Number(m.String()) }

// ParseMoney reads a decimal amount with at most six decimals, as the
// simulator writes them.
func ParseMoney(s string) (Money, error) {
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" || len(frac) > 6 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("amount %q: not a decimal with at most six places", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q: %w", s, err)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("amount %q: %w", s, err)
		}
	}
	m := Money(w*Micro + f)
	if neg {
		m = -m
	}
	return m, nil
}

// floorTo rounds m down to a multiple of unit (a currency's minor unit).
func (m Money) floorTo(unit Money) Money {
	r := m % unit
	if r < 0 {
		r += unit
	}
	return m - r
}
