package ingest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"sync"
)

// Raw payloads are kept gzipped. A gzip writer or reader carries hundreds
// of kilobytes of state; one per payload made compression the largest
// allocation of a crawl, so they are pooled. They write at BestSpeed: the
// default level clears 640 KiB of match tables for every body, which made
// compressing a crawl's small pages half again as slow, for payloads 3%
// smaller (measured on a benchmark backfill's 5,203 bodies).
var (
	gzipWriters = sync.Pool{New: func() any { zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return zw }}
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

// gzipSink gzips a streamed body as it arrives (see Request.Sink), and
// hashes it, for the raw payload row.
type gzipSink struct {
	buf  bytes.Buffer
	zw   *gzip.Writer
	hash hash.Hash
}

func newGzipSink() *gzipSink {
	s := &gzipSink{zw: gzipWriters.Get().(*gzip.Writer), hash: sha256.New()}
	s.zw.Reset(&s.buf)
	return s
}

func (s *gzipSink) Write(p []byte) (int, error) {
	s.hash.Write(p) // a hash does not fail
	s.zw.Write(p)   // nor does a bytes.Buffer
	return len(p), nil
}

func (s *gzipSink) Reset() {
	s.buf.Reset()
	s.zw.Reset(&s.buf)
	s.hash.Reset()
}

// done returns the gzip of the body and its SHA-256, and puts the writer
// back in the pool: the sink is not used again.
func (s *gzipSink) done() (gz, sum []byte) {
	s.zw.Close()
	gzipWriters.Put(s.zw)
	s.zw = nil
	return s.buf.Bytes(), s.hash.Sum(nil)
}

// maxPresize bounds the buffer decompress sizes from a payload's own
// trailer, which a damaged payload could get wrong.
const maxPresize = 64 << 20

// openGzip is a pooled reader of a body compress made; put it back in
// gzipReaders once read.
func openGzip(gz []byte) (*gzip.Reader, error) {
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
	return zr, nil
}

// decompress reads a body compress made into buf, replacing its contents.
func decompress(buf *bytes.Buffer, gz []byte) error {
	zr, err := openGzip(gz)
	if err != nil {
		return err
	}
	defer gzipReaders.Put(zr)
	buf.Reset()
	// gzip's trailer ends with the body's size: read it into one
	// allocation (ReadFrom wants bytes.MinRead spare to see the end).
	size := binary.LittleEndian.Uint32(gz[len(gz)-4:])
	buf.Grow(int(min(size, maxPresize)) + bytes.MinRead)
	if _, err := buf.ReadFrom(zr); err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	return nil
}
