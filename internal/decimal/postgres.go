package decimal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
)

// NumericValue lets pgx write a Decimal to a numeric column exactly.
func (d Decimal) NumericValue() (pgtype.Numeric, error) {
	return pgtype.Numeric{Int: d.coef(), Exp: d.exp, Valid: true}, nil
}

// ScanNumeric lets pgx read a numeric column into a Decimal.
func (d *Decimal) ScanNumeric(n pgtype.Numeric) error {
	if !n.Valid || n.NaN || n.InfinityModifier != 0 {
		return errors.New("decimal: cannot scan NULL, NaN or infinity")
	}
	*d = fromBig(new(big.Int).Set(n.Int), n.Exp)
	return nil
}

// Register makes m write Decimals to numeric parameters and COPY columns in
// PostgreSQL's binary form directly, instead of through pgtype.Numeric,
// whose encoding divides big.Ints; a bulk load spends a noticeable share
// of its time there. Everything else about numeric stays pgx's.
func Register(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "numeric", OID: pgtype.NumericOID, Codec: numericCodec{}})
}

type numericCodec struct{ pgtype.NumericCodec }

func (c numericCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(Decimal); ok && format == pgtype.BinaryFormatCode {
		return binaryPlan{}
	}
	return c.NumericCodec.PlanEncode(m, oid, format, value)
}

type binaryPlan struct{}

func (binaryPlan) Encode(value any, buf []byte) ([]byte, error) {
	return value.(Decimal).AppendBinary(buf)
}

// PostgreSQL's numeric: the sign word of a negative value, and the largest
// display scale.
const (
	numericNegative = 0x4000
	maxDisplayScale = 0x3FFF
)

// AppendBinary appends d in PostgreSQL's binary numeric format: the number
// of base-10,000 digits, the weight (power of 10,000) of the first, the
// sign, the display scale (digits after the point), then the digits.
func (d Decimal) AppendBinary(buf []byte) ([]byte, error) {
	// The coefficient's decimal digits, with zeros appended until the
	// exponent is a multiple of 4, so digits group into base 10,000.
	var scratch [48]byte
	text := d.appendDigits(scratch[:0])
	exp := int(d.exp)
	for exp%4 != 0 {
		text = append(text, '0')
		exp--
	}
	lead := (4 - len(text)%4) % 4 // zeros to prepend to complete the first group
	var groups [12]int16
	digits := groups[:0]
	for end := 4 - lead; end <= len(text); end += 4 {
		var g int16
		for _, c := range text[max(end-4, 0):end] {
			g = g*10 + int16(c-'0')
		}
		digits = append(digits, g)
	}
	weight := len(digits) - 1 + exp/4
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight = 0
	}
	scale := max(0, -int(d.exp))
	if scale > maxDisplayScale || weight > math.MaxInt16 || weight < math.MinInt16 || len(digits) > math.MaxInt16 {
		return nil, fmt.Errorf("decimal: %s does not fit PostgreSQL's numeric", d)
	}
	var sign uint16
	if d.Sign() < 0 {
		sign = numericNegative
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(digits)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(scale))
	for _, g := range digits {
		buf = binary.BigEndian.AppendUint16(buf, uint16(g))
	}
	return buf, nil
}
