// Package ingesttest holds what the sources' system tests share: a clock
// that jumps instead of sleeping, and a fingerprint of the warehouse's row
// versions.
package ingesttest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billing-warehouse/billing-warehouse/store"
)

// Clock is a shared clock that jumps instead of sleeping: a simulator's
// rate limit and the client's pacer and backoff both read it, so minutes
// of pacing run in milliseconds, faithfully ordered.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// SleepUntil moves the clock to t (if later) at once.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) bool {
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return ctx.Err() == nil
}

// WarehouseVersions fingerprints every billing table: row count and the
// sum of row version ids. An identical re-run leaves it unchanged.
func WarehouseVersions(t *testing.T, s *store.Store) string {
	t.Helper()
	var parts []string
	for _, tbl := range store.WarehouseTables {
		var v string
		err := s.Pool().QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM %s`, tbl.Name)).Scan(&v)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, tbl.Name+"="+v)
	}
	return strings.Join(parts, " ")
}
