package store

import (
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// DataQuality is one value a provider sent that is stored exactly but is
// implausible (a negative bill or usage time), or one the crawler had to
// infer because the response left it out. Keyed by where it was seen, so a
// re-run that sees it again adds nothing; RunID is the run that last saw
// it (nil when rebuilt from raw payloads, which keeps the stored one).
type DataQuality struct {
	Endpoint   string           `db:"endpoint,key"`
	ResourceID string           `db:"resource_id,key"`
	Field      string           `db:"field,key"`
	Period     time.Time        `db:"period,key"`
	Value      *decimal.Decimal `db:"value"`
	Note       string           `db:"note"`
	RunID      *int64           `db:"run_id,keep"`
}

// DataQualities is billing.data_quality.
var DataQualities = Define[DataQuality]("billing.data_quality")
