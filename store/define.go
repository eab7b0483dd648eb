package store

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Owner is whom a row belongs to: the provider, and the account, the name
// the user gives a source in the config. Every table's key starts with it.
type Owner struct {
	Provider string
	Account  string
}

func (o Owner) String() string { return o.Provider + "/" + o.Account }

// TableOf is a table whose rows are of type R.
type TableOf[R any] struct {
	*Table
	fields []field // R's fields in column order, after provider and account
}

type field struct {
	index int
	ptr   bool         // nullable: nil is NULL
	kind  reflect.Kind // of a non-pointer field
}

// Define declares the table name whose rows are R (see tables.go for the
// tags). It panics on a malformed declaration: tables are declared once, at
// start, by this package.
func Define[R any](name string) *TableOf[R] {
	rt := reflect.TypeFor[R]()
	t := &Table{Name: name, Key: []string{"provider", "account"},
		goTypes: map[string]reflect.Type{"provider": reflect.TypeFor[string](), "account": reflect.TypeFor[string]()}}
	var keyFields, valueFields []field
	for i := range rt.NumField() {
		f := rt.Field(i)
		tag := f.Tag.Get("db")
		if tag == "" {
			panic(fmt.Sprintf("store: %s.%s has no db tag", rt.Name(), f.Name))
		}
		col, opts, _ := strings.Cut(tag, ",")
		fd := field{index: i, ptr: f.Type.Kind() == reflect.Pointer, kind: f.Type.Kind()}
		t.goTypes[col] = f.Type
		if fd.ptr {
			t.goTypes[col] = f.Type.Elem()
		}
		isKey := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "key":
				isKey = true
			case "tracked":
				t.Tracked = append(t.Tracked, col)
			case "keep":
				t.Keep = append(t.Keep, col)
			case "merge":
				t.Merge = append(t.Merge, col)
			default:
				panic(fmt.Sprintf("store: %s.%s: unknown option %q", rt.Name(), f.Name, o))
			}
		}
		if isKey {
			if fd.ptr {
				panic(fmt.Sprintf("store: %s.%s: a key column cannot be nullable", rt.Name(), f.Name))
			}
			t.Key = append(t.Key, col)
			keyFields = append(keyFields, fd)
		} else {
			t.Values = append(t.Values, col)
			valueFields = append(valueFields, fd)
		}
	}
	return &TableOf[R]{Table: t.prepare(), fields: slices.Concat(keyFields, valueFields)}
}

// Rows turns typed rows into the writer's rows: provider and account, then
// the key, then the values. A nil pointer is NULL.
func (t *TableOf[R]) Rows(owner Owner, rows ...R) [][]any {
	out := make([][]any, len(rows))
	n := 2 + len(t.fields)
	cells := make([]any, len(rows)*n) // one allocation for every row's cells
	provider, account := any(owner.Provider), any(owner.Account)
	// Rows of one response repeat their ids (a graph's family and
	// resource, its bucket size): a value equal to the row before's
	// shares its boxed copy, as the decoders did before rows were typed.
	prev := make([]any, len(t.fields))
	for i := range rows {
		row := cells[i*n : (i+1)*n : (i+1)*n]
		row[0], row[1] = provider, account
		v := reflect.ValueOf(&rows[i]).Elem()
		for j, f := range t.fields {
			fv := v.Field(f.index)
			switch {
			case f.ptr && fv.IsNil():
				continue // row[j+2] stays nil
			case f.ptr:
				// The value, not the pointer: pgx plans encoders by the
				// value's type, and a *decimal.Decimal missed the direct
				// numeric encoder (see decimal.Register).
				row[j+2] = fv.Elem().Interface()
			case f.kind == reflect.String:
				if p, ok := prev[j].(string); !ok || p != fv.String() {
					prev[j] = fv.Interface()
				}
				row[j+2] = prev[j]
			case f.kind == reflect.Int:
				if p, ok := prev[j].(int); !ok || p != int(fv.Int()) {
					prev[j] = fv.Interface()
				}
				row[j+2] = prev[j]
			default:
				row[j+2] = fv.Interface()
			}
		}
		out[i] = row
	}
	return out
}

// GoType is the Go type a column's values have (a nullable column's
// pointer dereferenced), for the test that holds declarations to the schema.
func (t *Table) GoType(column string) reflect.Type { return t.goTypes[column] }

// Write is rows for one table, with the window they are authoritative for
// (nil: they only add and update).
type Write struct {
	Table *Table
	Rows  [][]any
	Scope *Scope
}

// Writes builds a Write of typed rows.
func (t *TableOf[R]) Writes(owner Owner, scope *Scope, rows ...R) Write {
	return Write{Table: t.Table, Rows: t.Rows(owner, rows...), Scope: scope}
}
