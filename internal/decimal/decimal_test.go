package decimal

import (
	"encoding/json"
	"errors"
	"math/big"
	"testing"
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
	for _, s := range []string{"0", "1.5", "-2e-3", "1.4799118041992184e-11", "9999999999999999999999", "1e1000"} {
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
	})
}
