// Package decimal holds exact decimal numbers as the billing API sends them:
// JSON number text, with or without an exponent, never through a float.
package decimal

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Decimal is an exact decimal: coefficient × 10^exp. The zero value is 0.
// Coefficients of up to 18 digits, which is every amount the billing API
// sends, live in an int64; only longer ones take a big.Int. A Decimal is
// immutable, so copies may share the big.Int.
type Decimal struct {
	small int64    // the coefficient, when large is nil
	large *big.Int // the coefficient, when it does not fit in small
	exp   int32
}

// ErrSyntax is returned for text that is not a JSON number.
var ErrSyntax = errors.New("not a decimal number")

// maxExponent bounds exponents so hostile input cannot ask for a
// billion-digit number.
const maxExponent = 1000

// smallDigits is how many digits always fit in an int64.
const smallDigits = 18

// Parse reads a JSON number: an optional minus, digits with an optional
// fraction, an optional exponent. "1.4799118041992184e-11" is exact.
func Parse(s string) (Decimal, error) {
	if s == "" {
		return Decimal{}, fmt.Errorf("%w: empty", ErrSyntax)
	}
	mant, expText, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, expText, hasExp = s[:i], s[i+1:], true
	}
	neg := strings.HasPrefix(mant, "-")
	if neg {
		mant = mant[1:]
	}
	whole, frac, hasDot := strings.Cut(mant, ".")
	if whole == "" || hasDot && frac == "" || !digits(whole) || !digits(frac) {
		return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	exp := -int64(len(frac))
	if hasExp {
		eneg := strings.HasPrefix(expText, "-")
		if eneg || strings.HasPrefix(expText, "+") {
			expText = expText[1:]
		}
		if expText == "" || !digits(expText) || len(expText) > 4 {
			return Decimal{}, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		e, _ := strconv.ParseInt(expText, 10, 64)
		if eneg {
			e = -e
		}
		exp += e
	}
	if exp > maxExponent || exp < -maxExponent {
		return Decimal{}, fmt.Errorf("%w: exponent out of range in %q", ErrSyntax, s)
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		frac = strings.TrimLeft(frac, "0")
	}
	// Trailing zeros go from the text, not from the coefficient: the
	// ledger's 20-digit amounts end in zeros as often as not, and dividing
	// a big.Int by ten for each was most of the cost of reading one.
	if trimmed := strings.TrimRight(frac, "0"); len(trimmed) < len(frac) {
		exp += int64(len(frac) - len(trimmed))
		frac = trimmed
	}
	if frac == "" {
		trimmed := strings.TrimRight(whole, "0")
		exp += int64(len(whole) - len(trimmed))
		whole = trimmed
	}
	d := Decimal{exp: int32(exp)}
	if len(whole)+len(frac) <= smallDigits {
		for _, part := range [2]string{whole, frac} {
			for i := 0; i < len(part); i++ {
				d.small = d.small*10 + int64(part[i]-'0')
			}
		}
		if neg {
			d.small = -d.small
		}
		if d.small == 0 {
			return Decimal{}, nil
		}
		return d, nil
	}
	// No trailing zero is left: normal has only to move a coefficient that
	// fits into small.
	d.large, _ = new(big.Int).SetString(whole+frac, 10)
	if neg {
		d.large.Neg(d.large)
	}
	return d.normal(), nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MustParse is Parse for constants in tests and tables.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// FromInt is an integer as a Decimal.
func FromInt(i int64) Decimal {
	return fromBig(big.NewInt(i), 0)
}

// fromBig is coef × 10^exp, normalized; it takes coef over.
func fromBig(coef *big.Int, exp int32) Decimal {
	d := Decimal{large: coef, exp: exp}
	return d.normal()
}

// normal strips trailing zeros from the coefficient, so equal numbers have
// equal representations, and keeps a coefficient that fits in small there.
func (d Decimal) normal() Decimal {
	if d.large != nil {
		if d.large.IsInt64() && d.large.Int64() != math.MinInt64 {
			d = Decimal{small: d.large.Int64(), exp: d.exp}
		} else {
			ten := big.NewInt(10)
			q, r := new(big.Int), new(big.Int)
			coef := new(big.Int).Set(d.large)
			for {
				q.QuoRem(coef, ten, r)
				if r.Sign() != 0 {
					break
				}
				coef.Set(q)
				d.exp++
			}
			if coef.IsInt64() && coef.Int64() != math.MinInt64 {
				return Decimal{small: coef.Int64(), exp: d.exp}
			}
			return Decimal{large: coef, exp: d.exp}
		}
	}
	if d.small == 0 {
		return Decimal{}
	}
	for d.small%10 == 0 {
		d.small /= 10
		d.exp++
	}
	return d
}

// coef is the coefficient as a new big.Int.
func (d Decimal) coef() *big.Int {
	if d.large != nil {
		return new(big.Int).Set(d.large)
	}
	return big.NewInt(d.small)
}

// appendDigits appends the coefficient's absolute value in decimal.
func (d Decimal) appendDigits(buf []byte) []byte {
	if d.large != nil {
		out := d.large.Append(buf, 10)
		if d.large.Sign() < 0 { // drop the minus sign Append wrote
			out = append(out[:len(buf)], out[len(buf)+1:]...)
		}
		return out
	}
	u := uint64(d.small)
	if d.small < 0 {
		u = uint64(-d.small) // never MinInt64: normal keeps it in large
	}
	return strconv.AppendUint(buf, u, 10)
}

// String formats d in plain notation: 0.000000000014799118041992184.
func (d Decimal) String() string {
	var buf [24]byte
	s := string(d.appendDigits(buf[:0]))
	switch {
	case d.exp >= 0:
		s += strings.Repeat("0", int(d.exp))
	case int(-d.exp) < len(s):
		s = s[:len(s)+int(d.exp)] + "." + s[len(s)+int(d.exp):]
	default:
		s = "0." + strings.Repeat("0", int(-d.exp)-len(s)) + s
	}
	if d.Sign() < 0 {
		s = "-" + s
	}
	return s
}

// Equal reports whether two decimals are the same number.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// Cmp compares two decimals.
func (d Decimal) Cmp(o Decimal) int {
	if a, b, _, ok := alignSmall(d, o); ok {
		return cmp.Compare(a, b)
	}
	if d.large != nil && o.large != nil && d.exp == o.exp {
		return d.large.Cmp(o.large)
	}
	a, b, _ := align(d, o)
	return a.Cmp(b)
}

// Add returns d + o.
func (d Decimal) Add(o Decimal) Decimal {
	if a, b, exp, ok := alignSmall(d, o); ok {
		if sum := a + b; (sum > a) == (b > 0) && sum != math.MinInt64 { // no overflow
			return Decimal{small: sum, exp: exp}.normal()
		}
	}
	a, b, exp := align(d, o)
	return fromBig(a.Add(a, b), exp)
}

// pow10 holds the powers of ten an int64 can hold.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// alignSmall is align for coefficients that stay in an int64 once brought
// to the smaller exponent, as the amounts of a ledger chain do; ok is
// false when they do not, and big.Int does it.
func alignSmall(a, b Decimal) (x, y int64, exp int32, ok bool) {
	if a.large != nil || b.large != nil {
		return 0, 0, 0, false
	}
	exp = min(a.exp, b.exp)
	x, okA := scaleSmall(a.small, a.exp-exp)
	y, okB := scaleSmall(b.small, b.exp-exp)
	return x, y, exp, okA && okB
}

// scaleSmall is c × 10^n, when it fits.
func scaleSmall(c int64, n int32) (int64, bool) {
	if n == 0 || c == 0 {
		return c, true
	}
	if int(n) >= len(pow10) {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(abs(c)), uint64(pow10[n]))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if c < 0 {
		return -int64(lo), true
	}
	return int64(lo), true
}

func abs(c int64) int64 {
	if c < 0 {
		return -c // never MinInt64: normal keeps it in large
	}
	return c
}

// Sign is -1, 0 or 1.
func (d Decimal) Sign() int {
	if d.large != nil {
		return d.large.Sign()
	}
	switch {
	case d.small < 0:
		return -1
	case d.small > 0:
		return 1
	}
	return 0
}

func align(a, b Decimal) (*big.Int, *big.Int, int32) {
	exp := min(a.exp, b.exp)
	return scaled(a, exp), scaled(b, exp), exp
}

func scaled(d Decimal, exp int32) *big.Int {
	out := d.coef()
	if n := d.exp - exp; n > 0 {
		out.Mul(out, bigPow10(n))
	}
	return out
}

// bigPow10s are the powers of ten up to 10^63, which the ledger's amounts
// are aligned by, made once: computing one for every sum cost more than
// the sum.
var bigPow10s = func() (p [64]*big.Int) {
	p[0] = big.NewInt(1)
	for i := 1; i < len(p); i++ {
		p[i] = new(big.Int).Mul(p[i-1], big.NewInt(10))
	}
	return p
}()

// bigPow10 is 10^n (n > 0); the caller must not change it.
func bigPow10(n int32) *big.Int {
	if int(n) < len(bigPow10s) {
		return bigPow10s[n]
	}
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// MarshalJSON writes d as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }
