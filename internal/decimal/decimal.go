// Package decimal holds exact decimal numbers as the billing API sends them:
// JSON number text, with or without an exponent, never through a float.
package decimal

import (
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"
)

// Decimal is an exact decimal: Coef × 10^Exp. The zero value is 0.
type Decimal struct {
	coef big.Int
	exp  int32
}

// ErrSyntax is returned for text that is not a JSON number.
var ErrSyntax = errors.New("not a decimal number")

// maxExponent bounds exponents so hostile input cannot ask for a
// billion-digit number.
const maxExponent = 1000

// Parse reads a JSON number: an optional minus, digits with an optional
// fraction, an optional exponent. "1.4799118041992184e-11" is exact.
func Parse(s string) (Decimal, error) {
	var d Decimal
	if s == "" {
		return d, fmt.Errorf("%w: empty", ErrSyntax)
	}
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	whole, frac, hasDot := strings.Cut(mant, ".")
	if whole == "" || hasDot && frac == "" || !digits(whole) || !digits(frac) {
		return d, fmt.Errorf("%w: %q", ErrSyntax, s)
	}
	exp := -int64(len(frac))
	if hasExp {
		expText = strings.TrimPrefix(expText, "+")
		eneg := strings.HasPrefix(expText, "-")
		expText = strings.TrimPrefix(expText, "-")
		if expText == "" || !digits(expText) || len(expText) > 4 {
			return d, fmt.Errorf("%w: %q", ErrSyntax, s)
		}
		var e int64
		fmt.Sscan(expText, &e)
		if eneg {
			e = -e
		}
		exp += e
	}
	if exp > maxExponent || exp < -maxExponent {
		return d, fmt.Errorf("%w: exponent out of range in %q", ErrSyntax, s)
	}
	d.coef.SetString(whole+frac, 10)
	if neg {
		d.coef.Neg(&d.coef)
	}
	d.exp = int32(exp)
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
	var d Decimal
	d.coef.SetInt64(i)
	return d.normal()
}

// normal strips trailing zeros from the coefficient, so equal numbers have
// equal representations.
func (d Decimal) normal() Decimal {
	var out Decimal
	out.coef.Set(&d.coef)
	out.exp = d.exp
	if out.coef.Sign() == 0 {
		out.exp = 0
		return out
	}
	ten := big.NewInt(10)
	var q, r big.Int
	for {
		q.QuoRem(&out.coef, ten, &r)
		if r.Sign() != 0 {
			return out
		}
		out.coef.Set(&q)
		out.exp++
	}
}

// String formats d in plain notation: 0.000000000014799118041992184.
func (d Decimal) String() string {
	s := d.coef.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	switch {
	case d.exp >= 0:
		s += strings.Repeat("0", int(d.exp))
	case int(-d.exp) < len(s):
		s = s[:len(s)+int(d.exp)] + "." + s[len(s)+int(d.exp):]
	default:
		s = "0." + strings.Repeat("0", int(-d.exp)-len(s)) + s
	}
	if neg {
		s = "-" + s
	}
	return s
}

// Equal reports whether two decimals are the same number.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// Cmp compares two decimals.
func (d Decimal) Cmp(o Decimal) int {
	a, b, _ := align(d, o)
	return a.Cmp(b)
}

// Add returns d + o.
func (d Decimal) Add(o Decimal) Decimal {
	a, b, exp := align(d, o)
	var out Decimal
	out.coef.Add(a, b)
	out.exp = exp
	return out.normal()
}

// Sign is -1, 0 or 1.
func (d Decimal) Sign() int { return d.coef.Sign() }

func align(a, b Decimal) (*big.Int, *big.Int, int32) {
	exp := min(a.exp, b.exp)
	return scaled(a, exp), scaled(b, exp), exp
}

func scaled(d Decimal, exp int32) *big.Int {
	out := new(big.Int).Set(&d.coef)
	if d.exp > exp {
		out.Mul(out, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.exp-exp)), nil))
	}
	return out
}

// NumericValue lets pgx write a Decimal to a numeric column exactly,
// including in binary COPY.
func (d Decimal) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: new(big.Int).Set(&d.coef), Exp: d.exp, Valid: true}, nil
}

// ScanNumeric lets pgx read a numeric column into a Decimal.
func (d *Decimal) ScanNumeric(n pgtype.Numeric) error {
	if !n.Valid || n.NaN || n.InfinityModifier != 0 {
		return errors.New("decimal: cannot scan NULL, NaN or infinity")
	}
	var out Decimal
	out.coef.Set(n.Int)
	out.exp = n.Exp
	*d = out.normal()
	return nil
}

// MarshalJSON writes d as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) { return []byte(d.String()), nil }
