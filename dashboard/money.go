package dashboard

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Money is an exact amount as a view returned it: printed rounded to the
// currency's minor unit the way PostgreSQL's round() does, drawn as a
// float. The zero value is NULL.
type Money struct {
	r *big.Rat
}

// ScanNumeric lets pgx scan a numeric column into a Money.
func (m *Money) ScanNumeric(n pgtype.Numeric) error {
	if !n.Valid {
		m.r = nil
		return nil
	}
	if n.NaN || n.InfinityModifier != pgtype.Finite {
		return fmt.Errorf("dashboard: amount %v is not a number", n)
	}
	r := new(big.Rat).SetInt(n.Int)
	exp := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n.Exp))), nil)
	if n.Exp >= 0 {
		r.Mul(r, new(big.Rat).SetInt(exp))
	} else {
		r.Quo(r, new(big.Rat).SetInt(exp))
	}
	m.r = r
	return nil
}

func abs(i int32) int32 {
	if i < 0 {
		return -i
	}
	return i
}

// MoneyOf parses a decimal string; tests build fixtures with it.
func MoneyOf(s string) Money {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("dashboard: not a decimal: " + s)
	}
	return Money{r}
}

// Valid is false for NULL.
func (m Money) Valid() bool { return m.r != nil }

// Float is the amount for drawing; 0 for NULL.
func (m Money) Float() float64 {
	if m.r == nil {
		return 0
	}
	f, _ := m.r.Float64()
	return f
}

// Add sums two amounts; NULL counts as 0 unless both are NULL.
func (m Money) Add(o Money) Money {
	switch {
	case m.r == nil:
		return o
	case o.r == nil:
		return m
	}
	return Money{new(big.Rat).Add(m.r, o.r)}
}

// Sub subtracts o; NULL counts as 0 unless both are NULL.
func (m Money) Sub(o Money) Money {
	if o.r == nil {
		return m
	}
	return m.Add(Money{new(big.Rat).Neg(o.r)})
}

// minorUnits are the currencies whose minor unit is not a hundredth
// (ISO 4217); the rest print two decimals.
var minorUnits = map[string]int{"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}

func decimals(currency string) int {
	if d, ok := minorUnits[currency]; ok {
		return d
	}
	return 2
}

// Text prints the amount rounded half away from zero to the currency's
// minor unit, with thousands separators: "12,345.68". NULL prints "–".
func (m Money) Text(currency string) string {
	if m.r == nil {
		return "–"
	}
	return group(m.r.FloatString(decimals(currency)))
}

// group adds thousands separators to a FloatString (which rounds halves
// away from zero, as PostgreSQL's round(numeric) does).
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.,") != "" {
		out = "-" + out
	}
	return out
}
