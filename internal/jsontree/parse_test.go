package jsontree

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// stdJSON decodes as the decoders did before Parse: encoding/json with
// UseNumber, one value and nothing after it.
func stdJSON(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return v, nil
}

// sameAsStd fails t unless Parse and encoding/json agree on body: both
// reject it, or both read the same values.
func sameAsStd(t *testing.T, body string) {
	t.Helper()
	got, err := Parse([]byte(body))
	want, stdErr := stdJSON([]byte(body))
	switch {
	case err != nil && stdErr != nil:
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: an error that is not ErrMalformed: %v", body, err)
		}
	case err != nil:
		t.Fatalf("%q: Parse rejects it (%v); encoding/json reads %#v", body, err, want)
	case stdErr != nil:
		t.Fatalf("%q: Parse reads %#v; encoding/json rejects it (%v)", body, Plain(got), stdErr)
	case !reflect.DeepEqual(Plain(got), want):
		t.Fatalf("%q: Parse reads %#v, encoding/json %#v", body, Plain(got), want)
	}
}

var jsonCases = []string{
	`{}`, `[]`, `null`, `true`, `false`, `0`, `-0`, `1.5e-11`, `-12.0E+3`, ` {"a" : [1, "x", null, true, {"b": {}}] } `,
	`{"a": 1, "a": 2}`, `"\u00e9\ud83d\ude00\u0041\n\t\"\\\/\b\f\r"`, `"\ud800"`, `"\udc00x"`, `"\ud800\u0041"`,
	`"\ud800\ud800\udc00"`, "\"caf\xc3\xa9\"", "\"bad \xff byte\"", "\"\xed\xa0\x80\"", `"\u12"`, `"\x"`, "\"a\nb\"",
	`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `tru`, `nul`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{1: 2}`, `[1 2]`,
	`{"a": 1}}`, `{"a": 1} x`, ``, `   `, `"unterminated`, `[`, `{"a":`, "\xef\xbb\xbf{}", `{"a":"b"}` + "\x00",
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
}

func TestParseJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, body := range jsonCases {
		sameAsStd(t, body)
	}
	v, err := Parse([]byte(`{"point": {"datetime": "2026-11-01 00:00:00", "value": 0.30000000000000004}}`))
	if err != nil {
		t.Fatal(err)
	}
	point := v.(Object).Get("point").(Object)
	if point.Get("value") != json.Number("0.30000000000000004") || point.Get("datetime") != "2026-11-01 00:00:00" || point.Get("missing") != nil {
		t.Fatalf("point = %#v", point)
	}
}

// FuzzParseJSON: Parse accepts exactly what encoding/json accepts and
// reads the same values.
func FuzzParseJSON(f *testing.F) {
	for _, body := range jsonCases[:len(jsonCases)-2] {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) { sameAsStd(t, body) })
}
