package decimal

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"0":                      "0",
		"-0":                     "0",
		"12":                     "12",
		"0.003483871":            "0.003483871",
		"1.4799118041992184e-11": "0.000000000014799118041992184",
		"1e3":                    "1000",
		"2.50E+2":                "250",
		"-0.000161290333333":     "-0.000161290333333",
		"0.30000000000000004":    "0.30000000000000004",
		"1.500":                  "1.5",
		"120":                    "120",
		// the ledger's 20-digit amounts: zeros trimmed as text, signs of long ones
		"469291.07500000000000000000": "469291.075",
		"-55.45000000000000284217":    "-55.45000000000000284217",
		"12345678901234567890000":     "12345678901234567890000",
		"-0.00000000000000000000":     "0",
	} {
		d, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if got := d.String(); got != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "-", ".5", "5.", "1e", "1e+", "abc", "1.2.3", "0x10", " 1", "1e99999", "NaN", "Infinity", "1e-5000"} {
		if _, err := Parse(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", bad, err)
		}
	}
}

func TestArithmetic(t *testing.T) {
	a, b := MustParse("0.1"), MustParse("0.2")
	if got := a.Add(b); !got.Equal(MustParse("0.3")) || got.String() != "0.3" {
		t.Errorf("0.1 + 0.2 = %s", got)
	}
	if MustParse("1.50").Cmp(MustParse("1.5")) != 0 || MustParse("2").Cmp(MustParse("10")) != -1 {
		t.Error("Cmp")
	}
	// a chain's step: initial + amount = end, with coefficients past int64
	initial, amount := MustParse("469291.07502821435786823786"), MustParse("0.00908310000000000000")
	end := MustParse("469291.08411131435786823786")
	if sum := initial.Add(amount); sum.Cmp(end) != 0 || end.Cmp(initial) != 1 || initial.Cmp(end) != -1 || sum.String() != end.String() {
		t.Errorf("%s + %s = %s, want %s", initial, amount, sum, end)
	}
	n, _ := MustParse("-12.345").NumericValue()
	if n.Int.Cmp(big.NewInt(-12345)) != 0 || n.Exp != -3 {
		t.Errorf("NumericValue = %v e%d", n.Int, n.Exp)
	}
	var back Decimal
	if err := back.ScanNumeric(n); err != nil || back.String() != "-12.345" {
		t.Errorf("ScanNumeric = %s, %v", back, err)
	}
	if b, _ := json.Marshal(MustParse("1e-3")); string(b) != "0.001" {
		t.Errorf("MarshalJSON = %s", b)
	}
}

// FuzzParse: no input panics; whatever parses prints as a number that
// parses back to the same value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-2e-3", "1.4799118041992184e-11", "9999999999999999999999", "1e1000",
		"999999999999999999", "-1000000000000000000", "-9223372036854775808", "0.000123456789012345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(d.String())
		if err != nil || !back.Equal(d) {
			t.Fatalf("%q -> %s -> %v, %v", s, d, back, err)
		}
		if !json.Valid([]byte(d.String())) {
			t.Fatalf("%q -> %s is not a JSON number", s, d)
		}
		// Exact, whether the coefficient took an int64 or a big.Int.
		want, ok := new(big.Rat).SetString(s)
		if got, _ := new(big.Rat).SetString(d.String()); ok && got.Cmp(want) != 0 {
			t.Fatalf("%q parsed as %s", s, d)
		}
		b, err := d.AppendBinary(nil)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if back := readBinary(t, b); !back.Equal(d) {
			t.Fatalf("%q -> %x reads back as %s", s, b, back)
		}
	})
}

// readBinary decodes PostgreSQL's binary numeric with pgx's own decoder.
func readBinary(t *testing.T, b []byte) Decimal {
	t.Helper()
	var n pgtype.Numeric
	if err := pgtype.NewMap().Scan(pgtype.NumericOID, pgtype.BinaryFormatCode, b, &n); err != nil {
		t.Fatalf("pgx cannot read %x: %v", b, err)
	}
	var d Decimal
	if err := d.ScanNumeric(n); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAppendBinary(t *testing.T) {
	for in, want := range map[string]string{
		// ndigits, weight, sign, dscale, then base-10,000 digits
		"0":          "0000 0000 0000 0000",
		"1":          "0001 0000 0000 0000 0001",
		"12.345":     "0002 0000 0000 0003 000c 0d7a",
		"-0.0001":    "0001 ffff 4000 0004 0001",
		"10000":      "0001 0001 0000 0000 0001",
		"1.5e-11":    "0001 fffd 0000 000c 000f",
		"123456789":  "0003 0002 0000 0000 0001 0929 1a85",
		"0.00001234": "0001 fffe 0000 0008 04d2",
	} {
		got, err := MustParse(in).AppendBinary(nil)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if hex := spaced(got); hex != want {
			t.Errorf("%s = %s, want %s", in, hex, want)
		}
		if back := readBinary(t, got); !back.Equal(MustParse(in)) {
			t.Errorf("%s reads back as %s", in, back)
		}
	}
}

func spaced(b []byte) string {
	var s []string
	for i := 0; i+1 < len(b); i += 2 {
		s = append(s, fmt.Sprintf("%02x%02x", b[i], b[i+1]))
	}
	return strings.Join(s, " ")
}

// FuzzAddCmp: Add and Cmp, whose int64 fast path covers most amounts,
// agree with exact rational arithmetic, at the edges of an int64 too.
func FuzzAddCmp(f *testing.F) {
	f.Add(int64(1), int8(-1), int64(2), int8(-1))
	f.Add(int64(math.MaxInt64), int8(0), int64(1), int8(0))
	f.Add(int64(-math.MaxInt64), int8(0), int64(-1), int8(0))
	f.Add(int64(-1<<62), int8(0), int64(-1<<62), int8(0))
	f.Add(int64(922337203685477580), int8(1), int64(7), int8(0))
	f.Add(int64(123456789), int8(-18), int64(-5), int8(3))
	f.Fuzz(func(t *testing.T, ca int64, ea int8, cb int64, eb int8) {
		a, b := fromBig(big.NewInt(ca), int32(ea)), fromBig(big.NewInt(cb), int32(eb))
		ra, rb := rat(a), rat(b)
		sum := a.Add(b)
		if want := new(big.Rat).Add(ra, rb); rat(sum).Cmp(want) != 0 {
			t.Fatalf("%s + %s = %s, want %s", a, b, sum, want.RatString())
		}
		if sum.large == nil && sum.small == math.MinInt64 {
			t.Fatalf("%s + %s keeps MinInt64 in small", a, b)
		}
		if n := sum.normal(); (n.large == nil) != (sum.large == nil) || n.small != sum.small || n.exp != sum.exp ||
			n.large != nil && n.large.Cmp(sum.large) != 0 {
			t.Fatalf("%s + %s = %+v, not in normal form", a, b, sum)
		}
		if got, want := a.Cmp(b), ra.Cmp(rb); got != want {
			t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
	})
}

// rat is d as an exact rational.
func rat(d Decimal) *big.Rat {
	r := new(big.Rat).SetInt(d.coef())
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs32(d.exp))), nil))
	if d.exp >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func abs32(e int32) int32 {
	if e < 0 {
		return -e
	}
	return e
}
