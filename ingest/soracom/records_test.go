package soracom

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

// readAll is every record of a CSV as records reads it, with a buffer
// of 16 bytes (the least bufio allows: records longer than the buffer)
// or of the default size.
func readAll(body string, small bool) ([][]string, error) {
	rr := newRecords(strings.NewReader(body))
	if small {
		rr = newRecordsSize(strings.NewReader(body), 16)
	}
	var out [][]string
	for {
		rec, err := rr.read()
		if err != nil || rec == nil {
			return out, err
		}
		fields := make([]string, len(rec))
		for i, f := range rec {
			fields[i] = string(f)
		}
		out = append(out, fields)
	}
}

// stdlib is every record as encoding/csv reads it, any field count.
func stdlib(body string) ([][]string, error) {
	cr := csv.NewReader(strings.NewReader(body))
	cr.FieldsPerRecord = -1
	var out [][]string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func TestRecordsReadAsEncodingCSV(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"a,b,c\r\n1,2,3\r\n",
		"a,b,c\n1,2,3",
		"a,b\r\n\r\n1,2\r\n\n",
		`x,"Warehouse ""B"", Dock 3",y` + "\r\n",
		`"",a,""` + "\r\n" + `,,` + "\r\n",
		"a,\"two\r\nlines\",c\r\nd,e,f\r\n",
		"a,\"three\nlines\n\",c\n",
		"a,b,\r\n,\r\n",
		`"a""",b` + "\n",
		"a long first field,\"a long quoted field, \"\"quoted\"\"\r\non two lines\",z\r\n",
	} {
		want, err := stdlib(body)
		if err != nil {
			t.Fatalf("%q: encoding/csv: %v", body, err)
		}
		for _, small := range []bool{false, true} {
			got, err := readAll(body, small)
			if err != nil {
				t.Errorf("%q (small buffer %v): %v", body, small, err)
				continue
			}
			if !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("%q (small buffer %v):\n got %q\nwant %q", body, small, got, want)
			}
		}
	}
}

func TestRecordsRefuseWhatEncodingCSVRefuses(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"a,b\"c\n",
		"a,\"b\"c\n",
		"a,\"unterminated\n",
		"a,\"unterminated",
	} {
		if _, err := stdlib(body); err == nil {
			t.Fatalf("%q: encoding/csv reads it", body)
		}
		if got, err := readAll(body, true); err == nil {
			t.Errorf("%q: read as %q, want an error", body, got)
		}
	}
}

func FuzzRecords(f *testing.F) {
	f.Add("a,b,c\r\n1,\"2\"\"\",3\r\n")
	f.Add("a,\"x\ny\",\n")
	f.Fuzz(func(t *testing.T, body string) {
		want, werr := stdlib(body)
		got, gerr := readAll(body, true)
		if werr != nil {
			if gerr == nil {
				t.Errorf("%q: read as %q; encoding/csv says %v", body, got, werr)
			}
			return
		}
		if gerr != nil {
			t.Fatalf("%q: %v; encoding/csv reads %q", body, gerr, want)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%q:\n got %q\nwant %q", body, got, want)
		}
	})
}
