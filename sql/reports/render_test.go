package reports_test

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// render prints a value the way the expectations are written.
func render(v any) string {
	switch x := v.(type) {
	case nil:
		return "<nil>"
	case pgtype.Numeric:
		var d decimal.Decimal
		if err := d.ScanNumeric(x); err != nil {
			return "<bad numeric>"
		}
		return d.String()
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Location() == time.UTC {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format(time.RFC3339)
	}
	return fmt.Sprint(v)
}
