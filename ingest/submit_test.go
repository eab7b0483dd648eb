package ingest

import (
	"testing"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// rowsUnit is a unit of n rows.
func rowsUnit(n int) Unit {
	return Unit{Writes: []store.Write{{Rows: make([][]any, n)}}}
}

// TestSubmitHandsOverFullBuffers: the buffer goes to the writer when it
// holds batchUnits units or batchRows rows, whichever comes first, and
// nothing is left behind in it.
func TestSubmitHandsOverFullBuffers(t *testing.T) {
	r := &Run{batches: make(chan batch, 8)}
	ctx := t.Context()

	// Few units with many rows each (a Soracom month's CSV days): the
	// rows fill the buffer long before the units would.
	big := batchRows/2 + 1
	r.Submit(ctx, rowsUnit(big))
	if len(r.batches) != 0 {
		t.Fatalf("one unit of %d rows was handed over; want it kept until the buffer is full", big)
	}
	r.Submit(ctx, rowsUnit(big))
	if len(r.batches) != 1 {
		t.Fatalf("%d batches handed over after %d rows, want 1", len(r.batches), 2*big)
	}
	if b := <-r.batches; len(b.units) != 2 || b.then != nil {
		t.Fatalf("batch = %d units (then set: %v), want the 2 submitted", len(b.units), b.then != nil)
	}
	if len(r.pending) != 0 || r.pendingRows != 0 {
		t.Fatalf("after a hand-over: %d units, %d rows pending, want none", len(r.pending), r.pendingRows)
	}

	// Many small units: handed over at batchUnits.
	for range batchUnits - 1 {
		r.Submit(ctx, rowsUnit(1))
	}
	if len(r.batches) != 0 {
		t.Fatalf("handed over at %d small units, want %d", batchUnits-1, batchUnits)
	}
	r.Submit(ctx, rowsUnit(1))
	if b := <-r.batches; len(b.units) != batchUnits {
		t.Fatalf("batch = %d units, want %d", len(b.units), batchUnits)
	}
}

// TestAfterWrittenRunsInOrder: what afterWritten is given runs after every
// batch handed over before it, and takes the pending units with it.
func TestAfterWrittenRunsInOrder(t *testing.T) {
	r := &Run{batches: make(chan batch, 8)}
	r.Submit(t.Context(), rowsUnit(3))
	ran := false
	r.afterWritten(func() { ran = true })
	b := <-r.batches
	if len(b.units) != 1 || b.then == nil {
		t.Fatalf("batch = %d units (then set: %v), want the pending unit and the function", len(b.units), b.then != nil)
	}
	b.then()
	if !ran || len(r.pending) != 0 {
		t.Fatalf("ran = %v, %d pending; want run and nothing pending", ran, len(r.pending))
	}
}
