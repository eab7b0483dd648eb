package cloudsigma

import (
	"fmt"
	"math/big"
	"math/bits"
	"strings"
)

// Money is an exact amount with the API's 20 fraction digits: a signed
// 128-bit count of 10^-20 units. The ledger of a year holds half a million
// of them, so they live in two words rather than a big.Int each; a balance
// of 10^17 still fits.
type Money struct {
	hi int64
	lo uint64
}

// Scale is the number of fraction digits the API sends.
const Scale = 20

var scaleInt = new(big.Int).Exp(big.NewInt(10), big.NewInt(Scale), nil)

func (m Money) Add(o Money) Money {
	lo, carry := bits.Add64(m.lo, o.lo, 0)
	hi := m.hi + o.hi + int64(carry)
	return Money{hi, lo}
}

func (m Money) Neg() Money {
	lo, borrow := bits.Sub64(0, m.lo, 0)
	return Money{-m.hi - int64(borrow), lo}
}

func (m Money) Sub(o Money) Money { return m.Add(o.Neg()) }

// MulInt multiplies by a whole number.
func (m Money) MulInt(n int64) Money { return moneyFromBig(new(big.Int).Mul(m.Big(), big.NewInt(n))) }

// Cmp compares two amounts.
func (m Money) Cmp(o Money) int { return m.Sub(o).Sign() }

// Sign is -1, 0 or +1.
func (m Money) Sign() int {
	switch {
	case m.hi < 0:
		return -1
	case m.hi == 0 && m.lo == 0:
		return 0
	}
	return 1
}

// Big returns the amount in units of 10^-20.
func (m Money) Big() *big.Int {
	neg := m.hi < 0
	if neg {
		m = m.Neg()
	}
	b := new(big.Int).SetUint64(uint64(m.hi))
	b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(m.lo))
	if neg {
		b.Neg(b)
	}
	return b
}

// moneyFromBig converts a count of 10^-20 units; it panics past 127 bits,
// which no model reaches.
func moneyFromBig(b *big.Int) Money {
	if b.BitLen() > 126 {
		panic(fmt.Sprintf("cloudsigma: amount %s out of range", b))
	}
	var m Money
	if words := b.Bits(); len(words) > 0 {
		m.lo = uint64(words[0])
		if len(words) > 1 {
			m.hi = int64(words[1])
		}
	}
	if b.Sign() < 0 {
		m = m.Neg()
	}
	return m
}

// String renders the amount as the API does: always 20 fraction digits,
// and zero as Python's Decimal prints it, "0E-20".
func (m Money) String() string {
	if m.Sign() == 0 {
		return "0E-20"
	}
	b := m.Big()
	neg := b.Sign() < 0
	digits := new(big.Int).Abs(b).String()
	if len(digits) <= Scale {
		digits = strings.Repeat("0", Scale+1-len(digits)) + digits
	}
	s := digits[:len(digits)-Scale] + "." + digits[len(digits)-Scale:]
	if neg {
		s = "-" + s
	}
	return s
}

// ParseMoney reads a decimal with at most 20 fraction digits ("12.5",
// "-0.00014583333333333333", "0E-20").
func ParseMoney(s string) (Money, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return Money{}, fmt.Errorf("not a decimal: %q", s)
	}
	r.Mul(r, new(big.Rat).SetInt(scaleInt))
	if !r.IsInt() {
		return Money{}, fmt.Errorf("more than %d fraction digits: %q", Scale, s)
	}
	return moneyFromBig(r.Num()), nil
}

// MustMoney is ParseMoney for constants.
func MustMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// roundRat rounds an exact rational to 20 fraction digits, half to even,
// as Python's Decimal.quantize does by default.
func roundRat(r *big.Rat) Money {
	num := new(big.Int).Mul(r.Num(), scaleInt)
	return moneyFromBig(divRound(num, r.Denom()))
}

// divRound is num/den rounded half to even; den > 0.
func divRound(num, den *big.Int) *big.Int {
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() == 0 {
		return q
	}
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	switch c := twice.Cmp(den); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// moneyFromFloat renders a float64 the way the live API stores card
// payments: the binary value's exact expansion, rounded to 20 digits, so
// 55.45 becomes 55.45000000000000284217.
func moneyFromFloat(f float64) Money {
	r, _ := new(big.Float).SetFloat64(f).Rat(nil)
	return roundRat(r)
}
