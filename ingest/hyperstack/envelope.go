package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// ErrMalformed marks a body the decoders cannot trust: broken JSON, a value
// of the wrong type, a required value missing or null.
var ErrMalformed = errors.New("malformed response")

// parseBody decodes a response body, keeping numbers as their exact text.
func parseBody(body []byte) (jsonObj, error) {
	root, err := parseJSON(body)
	if err != nil {
		return nil, err
	}
	o, ok := root.(jsonObj)
	if !ok {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrMalformed)
	}
	return o, nil
}

// errorEnvelope reads the API's {status: false, message, error_reason}.
func errorEnvelope(body []byte) (reason, message string) {
	var e struct {
		Message string `json:"message"`
		Reason  string `json:"error_reason"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", strings.TrimSpace(truncate(string(body), 200))
	}
	return e.Reason, e.Message
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// metaKeys are an envelope's own fields, around the payload.
var metaKeys = []string{"status", "success", "message", "error_reason"}

// payload finds a response's payload. The live API's keys differ from the
// SDK schema's (and reuse each other's), so it takes the first of keys that
// is present, else the one field of the envelope that is not status,
// success or message.
func payload(root jsonObj, keys ...string) (any, error) {
	for _, k := range []string{"status", "success"} {
		if v, ok := root.lookup(k); ok && v == false {
			if msg, _ := root.get("message").(string); msg != "" && !strings.HasPrefix(strings.ToLower(msg), "no ") {
				return nil, fmt.Errorf("%w: the API reported failure: %s", ErrMalformed, msg)
			}
		}
	}
	for _, k := range keys {
		if v, ok := root.lookup(k); ok {
			return v, nil
		}
	}
	var others []string
	for _, m := range root {
		if slices.Contains(metaKeys, m.key) || slices.Contains(others, m.key) {
			continue
		}
		switch root.get(m.key).(type) { // of a repeated key, the last counts
		case jsonObj, []any:
			others = append(others, m.key)
		}
	}
	if len(others) == 1 {
		return root.get(others[0]), nil
	}
	slices.Sort(others)
	return nil, fmt.Errorf("%w: no payload under %v (fields: %v)", ErrMalformed, keys, others)
}

// documentedNull are the fields the live API is documented to send as
// null. A null anywhere else is treated as a broken response, so the unit
// is fetched again rather than stored with a hole.
var documentedNull = map[string]bool{
	"contract_id": true, "terminate_time": true, "bill_per_minute": true,
	"input_tokens": true, "input_tokens_incurred_bill": true, "input_tokens_non_discounted_bill": true,
}

// reader reads fields of decoded JSON strictly by type, collecting the
// first problem with its path.
type reader struct {
	err error
}

func (r *reader) fail(path, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrMalformed, path, fmt.Sprintf(format, args...))
	}
}

func (r *reader) obj(v any, path string) jsonObj {
	o, ok := v.(jsonObj)
	if !ok {
		r.fail(path, "want an object, got %s", kind(v))
		return jsonObj{}
	}
	return o
}

func (r *reader) arr(v any, path string) []any {
	a, ok := v.([]any)
	if !ok {
		r.fail(path, "want an array, got %s", kind(v))
		return nil
	}
	return a
}

func kind(v any) string {
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
	case jsonObj:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// field returns o's value of key and whether it should be read: absent fields and
// documented nulls are nil (and not an error unless required).
func (r *reader) field(o jsonObj, path, key string, required bool) (any, bool) {
	v, present := o.lookup(key)
	switch {
	case !present && required:
		r.fail(path+"."+key, "missing")
	case present && v == nil && (required || !documentedNull[key]):
		r.fail(path+"."+key, "null where a value is expected")
	case present && v != nil:
		return v, true
	}
	return nil, false
}

// num reads a number as an exact decimal, or nil.
func (r *reader) num(o jsonObj, path, key string, required bool) any {
	v, ok := r.field(o, path, key, required)
	if !ok {
		return nil
	}
	n, isNum := v.(json.Number)
	if !isNum {
		r.fail(path+"."+key, "want a number, got %s", kind(v))
		return nil
	}
	d, err := decimal.Parse(string(n))
	if err != nil {
		r.fail(path+"."+key, "%v", err)
		return nil
	}
	return d
}

// integer reads a count (a JSON integer) and whether it was there.
func (r *reader) integer(o jsonObj, path, key string, required bool) (int, bool) {
	v, ok := r.field(o, path, key, required)
	if !ok {
		return 0, false
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil {
		r.fail(path+"."+key, "want an integer, got %s", kind(v))
		return 0, false
	}
	return int(i), true
}

// str reads a string, or nil.
func (r *reader) str(o jsonObj, path, key string, required bool) any {
	v, ok := r.field(o, path, key, required)
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail(path+"."+key, "want a string, got %s", kind(v))
		return nil
	}
	return strings.Clone(s) // a row must not keep the whole body alive
}

// id reads an identifier, an integer or a string, as text.
func (r *reader) id(o jsonObj, path, key string, required bool) any {
	v, ok := r.field(o, path, key, required)
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Int64(); err != nil {
			r.fail(path+"."+key, "want an integer id, got %s", x)
			return nil
		}
		return strings.Clone(x.String())
	case string:
		if x == "" && required {
			r.fail(path+"."+key, "empty id")
		}
		return strings.Clone(x)
	}
	r.fail(path+"."+key, "want an id, got %s", kind(v))
	return nil
}

func (r *reader) boolean(o jsonObj, path, key string) any {
	v, ok := r.field(o, path, key, false)
	if !ok {
		return nil
	}
	b, isBool := v.(bool)
	if !isBool {
		r.fail(path+"."+key, "want a boolean, got %s", kind(v))
		return nil
	}
	return b
}

// timeLayouts are the forms the API's timestamps come in; zone-less ones are UTC.
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00"}

// timestamp reads a time, or nil.
func (r *reader) timestamp(o jsonObj, path, key string, required bool) any {
	v, ok := r.field(o, path, key, required)
	if !ok {
		return nil
	}
	s, isStr := v.(string)
	if !isStr {
		r.fail(path+"."+key, "want a time, got %s", kind(v))
		return nil
	}
	t, err := parseTime(s)
	if err != nil {
		r.fail(path+"."+key, "%v", err)
		return nil
	}
	return t
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}
