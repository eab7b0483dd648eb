package ingest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"sync"
)

// Raw payloads are kept gzipped. A gzip writer or reader carries hundreds
// of kilobytes of state; one per payload made compression the largest
// allocation of a crawl, so they are pooled.
var (
	gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}
	gzipReaders sync.Pool
)

// compress gzips a response body.
func compress(body []byte) []byte {
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	zw.Reset(&buf)
	zw.Write(body) // a bytes.Buffer does not fail
	zw.Close()
	return buf.Bytes()
}

// decompress reads a body compress made.
func decompress(gz []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(gz))
	} else {
		err = zr.Reset(bytes.NewReader(gz))
	}
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	defer gzipReaders.Put(zr)
	body, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return body, nil
}
