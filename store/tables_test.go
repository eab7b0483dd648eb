package store_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/dbtest"
	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
	"github.com/billing-warehouse/billing-warehouse/store"
)

// TestTablesMatchSchema holds every table declaration to the migrated
// schema: its key is the primary key, in order; every declared column
// exists with a type its Go values can be written to; every column without
// a default is declared.
func TestTablesMatchSchema(t *testing.T) {
	t.Parallel()
	s := dbtest.NewStore(t)
	compatible := map[reflect.Type][]string{
		reflect.TypeFor[string]():          {"text"},
		reflect.TypeFor[time.Time]():       {"timestamp with time zone", "date"},
		reflect.TypeFor[int]():             {"integer", "bigint"},
		reflect.TypeFor[int64]():           {"bigint"},
		reflect.TypeFor[bool]():            {"boolean"},
		reflect.TypeFor[decimal.Decimal](): {"numeric"},
		reflect.TypeFor[map[string]any]():  {"jsonb"},
		reflect.TypeFor[[]byte]():          {"bytea"},
	}
	tables := append(slices.Clone(store.WarehouseTables), store.RawPayloads.Table, store.FetchState.Table)
	for _, table := range tables {
		t.Run(table.Name, func(t *testing.T) {
			rows, err := s.Pool().Query(t.Context(), `
				SELECT a.attname, format_type(a.atttypid, NULL), a.attnotnull, a.atthasdef OR a.attidentity <> '',
				       coalesce(array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0)
				FROM pg_attribute a
				LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
				WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`, table.Name)
			if err != nil {
				t.Fatal(err)
			}
			type column struct {
				typ               string
				notNull, default_ bool
				pkPos             int
			}
			cols := map[string]column{}
			var pk []string
			for rows.Next() {
				var name string
				var c column
				if err := rows.Scan(&name, &c.typ, &c.notNull, &c.default_, &c.pkPos); err != nil {
					t.Fatal(err)
				}
				cols[name] = c
			}
			if rows.Err() != nil {
				t.Fatal(rows.Err())
			}
			pk = make([]string, len(cols))
			n := 0
			for name, c := range cols {
				if c.pkPos > 0 {
					pk[c.pkPos-1] = name
					n++
				}
			}
			pk = pk[:n]
			key := table.Key
			if table == store.RawPayloads.Table {
				// Its primary key is a surrogate id; the declared key is
				// the unique content index.
				pk = []string{"id"}
				key = []string{"id"}
			}
			if !slices.Equal(key, pk) {
				t.Errorf("key %v, primary key %v", key, pk)
			}
			declared := append(slices.Clone(table.Key), table.Values...)
			for _, name := range declared {
				c, ok := cols[name]
				if !ok {
					t.Errorf("column %s is declared but not in the table", name)
					continue
				}
				goType := table.GoType(name)
				if !slices.Contains(compatible[goType], c.typ) {
					t.Errorf("column %s: Go %v cannot be written to %s", name, goType, c.typ)
				}
			}
			for name, c := range cols {
				if !slices.Contains(declared, name) && c.notNull && !c.default_ {
					t.Errorf("column %s (NOT NULL, no default) is not declared", name)
				}
			}
		})
	}
}
