package soracom

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// records reads a CSV's records (RFC 4180: fields quoted when they hold a
// comma, a quote or a line break, quotes doubled) from a stream: a month's
// CSV is tens of megabytes, and it is read from its stored gzip, never
// held whole. A record's fields are slices of the reader's buffer, or of
// a scratch buffer, valid until the next read: the parser copies what it
// keeps (once per distinct value, see csvParser), so hundreds of
// thousands of rows cost no allocation per cell. (encoding/csv allocates
// every record's text, and the caller must copy each field it keeps.)
type records struct {
	src     *bufio.Reader
	line    int    // of the record last read, from 1
	next    int    // the line after it
	long    []byte // a record longer than src's buffer, or of several lines
	fields  [][]byte
	scratch []byte
	bounds  []int // quoted fields' [start, end) in scratch
}

func newRecords(src io.Reader) *records { return newRecordsSize(src, 64<<10) }

func newRecordsSize(src io.Reader, buffer int) *records {
	return &records{src: bufio.NewReaderSize(src, buffer)}
}

var errBareQuote = errors.New(`bare " in an unquoted field`)

// read returns the next record's fields, or nil at the end. Empty lines
// are skipped, as encoding/csv does.
func (r *records) read() ([][]byte, error) {
	for {
		r.line = r.next + 1
		rec, lines, err := r.cut()
		r.next += lines
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", r.line, err)
		}
		if len(rec) == 0 {
			continue
		}
		if err := r.split(rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", r.line, err)
		}
		return r.fields, nil
	}
}

// cut reads the next record, its line end dropped: a line, or several
// when a quoted field holds line breaks. It returns io.EOF at the end.
func (r *records) cut() (rec []byte, lines int, err error) {
	r.long = r.long[:0]
	quotes := 0
	for {
		b, err := r.src.ReadSlice('\n')
		quotes += bytes.Count(b, []byte{'"'})
		if errors.Is(err, bufio.ErrBufferFull) {
			r.long = append(r.long, b...) // the line goes on
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, lines, err
		}
		if errors.Is(err, io.EOF) && len(b) == 0 && len(r.long) == 0 {
			return nil, lines, io.EOF
		}
		lines++
		inQuotes := quotes%2 == 1
		if len(r.long) > 0 || inQuotes {
			r.long = append(r.long, b...) // b is only good until the next read
			rec = r.long
		} else {
			rec = b
		}
		if !inQuotes {
			break
		}
		if err != nil {
			return nil, lines, errors.New("a quoted field runs to the end of the file")
		}
	}
	rec = bytes.TrimSuffix(rec, []byte{'\n'})
	return bytes.TrimSuffix(rec, []byte{'\r'}), lines, nil
}

// split cuts a record into its fields.
func (r *records) split(rec []byte) error {
	r.fields, r.scratch, r.bounds = r.fields[:0], r.scratch[:0], r.bounds[:0]
	quoted := 0 // how many fields point into scratch, filled in at the end
	for {
		if len(rec) == 0 || rec[0] != '"' {
			i := bytes.IndexByte(rec, ',')
			f := rec
			if i >= 0 {
				f = rec[:i]
			}
			if bytes.IndexByte(f, '"') >= 0 {
				return errBareQuote
			}
			r.fields = append(r.fields, f)
			if i < 0 {
				break
			}
			rec = rec[i+1:]
			continue
		}
		// A quoted field: up to a quote not doubled.
		start := len(r.scratch)
		i := 1
		for {
			j := bytes.IndexByte(rec[i:], '"')
			if j < 0 {
				return errors.New(`a quoted field does not end`)
			}
			r.scratch = appendFolded(r.scratch, rec[i:i+j])
			i += j + 1
			if i < len(rec) && rec[i] == '"' {
				r.scratch = append(r.scratch, '"')
				i++
				continue
			}
			break
		}
		r.bounds = append(r.bounds, start, len(r.scratch))
		r.fields = append(r.fields, nil) // scratch may still move
		quoted++
		if i == len(rec) {
			break
		}
		if rec[i] != ',' {
			return errors.New(`extraneous text after a quoted field`)
		}
		rec = rec[i+1:] // a record ending in a comma: an empty field follows
	}
	if quoted > 0 {
		k := 0
		for i, f := range r.fields {
			if f == nil && k < len(r.bounds) {
				r.fields[i] = r.scratch[r.bounds[k]:r.bounds[k+1]:r.bounds[k+1]]
				k += 2
			}
		}
	}
	return nil
}

// appendFolded appends a quoted field's text with its \r\n line breaks
// read as \n, as encoding/csv reads them.
func appendFolded(dst, b []byte) []byte {
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return append(dst, b...)
		}
		dst = append(dst, b[:i]...)
		b = b[i+1:]
	}
}
