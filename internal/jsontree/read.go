package jsontree

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// ErrMalformed marks a body the decoders cannot trust: broken JSON, a value
// of the wrong type, a required value missing or null.
var ErrMalformed = errors.New("malformed response")

// ParseObject parses a body that must be one JSON object.
func ParseObject(body []byte) (Object, error) {
	root, err := Parse(body)
	if err != nil {
		return nil, err
	}
	o, ok := root.(Object)
	if !ok {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	return o, nil
}

// Reader reads fields strictly by type. The first problem is kept in Err,
// with its path; later reads return zero values.
type Reader struct {
	Err error
	// Nullable are the keys an API is documented to send as null. A null
	// anywhere else is a broken response, so the unit is fetched again
	// rather than stored with a hole.
	Nullable map[string]bool
}

// Fail records a problem at path, unless one is recorded already.
func (r *Reader) Fail(path, format string, args ...any) {
	if r.Err == nil {
		r.Err = fmt.Errorf("%w: %s: %s", ErrMalformed, path, fmt.Sprintf(format, args...))
	}
}

// Obj reads an object.
func (r *Reader) Obj(v any, path string) Object {
	o, ok := v.(Object)
	if !ok {
		r.Fail(path, "want an object, got %s", Kind(v))
		return Object{}
	}
	return o
}

// Arr reads an array.
func (r *Reader) Arr(v any, path string) []any {
	a, ok := v.([]any)
	if !ok {
		r.Fail(path, "want an array, got %s", Kind(v))
		return nil
	}
	return a
}

// Kind names a value's JSON type, for messages.
func Kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// Field returns o's value of key and whether it should be read: absent
// fields and documented nulls are not (and not an error unless required).
func (r *Reader) Field(o Object, path, key string, required bool) (any, bool) {
	v, present := o.Lookup(key)
	switch {
	case !present && required:
		r.Fail(path+"."+key, "missing")
	case present && v == nil && (required || !r.Nullable[key]):
		r.Fail(path+"."+key, "null where a value is expected")
	case present && v != nil:
		return v, true
	}
	return nil, false
}

// Num reads a number as an exact decimal, or nil.
func (r *Reader) Num(o Object, path, key string, required bool) *decimal.Decimal {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		r.Fail(path+"."+key, "want a number, got %s", Kind(v))
		return nil
	}
	d, err := decimal.Parse(string(n))
	if err != nil {
		r.Fail(path+"."+key, "%v", err)
		return nil
	}
	return &d
}

// Int reads a count (a JSON integer) and whether it was there.
func (r *Reader) Int(o Object, path, key string, required bool) (int, bool) {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return 0, false
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil {
		r.Fail(path+"."+key, "want an integer, got %s", Kind(v))
		return 0, false
	}
	return int(i), true
}

// Str reads a string, or nil.
func (r *Reader) Str(o Object, path, key string, required bool) *string {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		r.Fail(path+"."+key, "want a string, got %s", Kind(v))
		return nil
	}
	s = strings.Clone(s) // a row must not keep the whole body alive
	return &s
}

// ID reads an identifier, an integer or a string, as text, or nil.
func (r *Reader) ID(o Object, path, key string, required bool) *string {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err != nil {
			r.Fail(path+"."+key, "want an integer id, got %s", x)
			return nil
		}
		s = strings.Clone(x.String())
	case string:
		if x == "" && required {
			r.Fail(path+"."+key, "empty id")
		}
		s = strings.Clone(x)
	default:
		r.Fail(path+"."+key, "want an id, got %s", Kind(v))
		return nil
	}
	return &s
}

// Bool reads a boolean, or nil.
func (r *Reader) Bool(o Object, path, key string) *bool {
	v, ok := r.Field(o, path, key, false)
	if !ok {
		return nil
	}
	b, isBool := v.(bool)
	if !isBool {
		r.Fail(path+"."+key, "want a boolean, got %s", Kind(v))
		return nil
	}
	return &b
}

// timeLayouts are the forms timestamps come in; zone-less ones are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00"}

// Time reads a time, or nil.
func (r *Reader) Time(o Object, path, key string, required bool) *time.Time {
	v, ok := r.Field(o, path, key, required)
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		r.Fail(path+"."+key, "want a time, got %s", Kind(v))
		return nil
	}
	t, err := ParseTime(s)
	if err != nil {
		r.Fail(path+"."+key, "%v", err)
		return nil
	}
	return &t
}

// ParseTime reads a time in any of the forms APIs send, as UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}
