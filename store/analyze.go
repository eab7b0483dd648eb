package store

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
)

// A bulk load (a first backfill, a reprocess after a truncate) grows tables
// from nothing within minutes. Autovacuum analyzes a table at most once a
// minute; until it does, the planner plans the writer's statements for the
// table it last measured, often an empty one, and plans made for a tiny
// table (scan it whole for every scope, pick any index) cost the real
// table's size on every batch. So the writer analyzes a table itself
// whenever its own inserts have doubled the table since it was measured.
const analyzeMinRows = 10000

// growth counts, per table, the rows this process inserted since the
// planner last measured the table.
type growth struct {
	mu     sync.Mutex
	tables map[string]*tableGrowth
}

type tableGrowth struct {
	measured int64 // rows the table had when last measured
	inserted int64 // rows inserted since
}

// keepStatistics analyzes the key columns of the tables a committed batch
// has doubled. It is an optimisation: a failure is logged, never returned.
func (s *Store) keepStatistics(ctx context.Context, b *Batch) {
	for name, r := range b.Result {
		if r.Inserted == 0 || !s.grown(ctx, name, r.Inserted) {
			continue
		}
		if _, err := s.pool.Exec(ctx, b.tables[name].analyze); err != nil {
			s.logger.WarnContext(ctx, "could not analyze a table after a bulk write", "table", name, "err", err)
		}
	}
}

// grown adds inserted rows to a table's count and says whether the table
// is due to be measured again; if so, it counts as measured from now.
func (s *Store) grown(ctx context.Context, name string, inserted int64) bool {
	g := s.growthOf(ctx, s.pool, name)
	s.growth.mu.Lock()
	defer s.growth.mu.Unlock()
	g.inserted += inserted
	if g.inserted < max(analyzeMinRows, g.measured) {
		return false
	}
	g.measured, g.inserted = g.measured+g.inserted, 0
	return true
}

// plannedRows is how many rows the planner believes a table holds, as
// last measured (by this process, or before it started). A batch asks it
// inside its transaction, so the first reading goes through that (q):
// another connection from the pool might never come.
func (s *Store) plannedRows(ctx context.Context, q rowQuerier, name string) int64 {
	g := s.growthOf(ctx, q, name)
	s.growth.mu.Lock()
	defer s.growth.mu.Unlock()
	return g.measured
}

// growthOf is a table's count, read from the planner through q the first
// time. The reading is done without growth.mu held: a pool's connections
// may all be in transactions whose writers wait for growth.mu, and a
// query that waited for one of them while holding it would never end.
func (s *Store) growthOf(ctx context.Context, q rowQuerier, name string) *tableGrowth {
	s.growth.mu.Lock()
	g := s.growth.tables[name]
	s.growth.mu.Unlock()
	if g != nil {
		return g
	}
	g = &tableGrowth{}
	if rows, err := s.plannerRows(ctx, q, name); err == nil && rows > 0 {
		g.measured = int64(rows)
	} else if err != nil {
		s.logger.WarnContext(ctx, "could not read what the planner believes a table holds", "table", name, "err", err)
	}
	s.growth.mu.Lock()
	defer s.growth.mu.Unlock()
	if s.growth.tables == nil {
		s.growth.tables = map[string]*tableGrowth{}
	}
	if first := s.growth.tables[name]; first != nil {
		return first // read at the same time by another writer
	}
	s.growth.tables[name] = g
	return g
}

// plannerRows is what the planner believes a table holds: its reltuples
// (-1 when never measured). On a Citus coordinator a distributed table is
// an empty shell whose reltuples stays 0 whatever its shards hold; there
// it is the sum of its shards' reltuples, which the workers keep (ANALYZE
// on the coordinator is propagated to them).
func (s *Store) plannerRows(ctx context.Context, q rowQuerier, name string) (float64, error) {
	var rows float64
	err := q.QueryRow(ctx, plannerRowsSQL(s.citus != ""), name).Scan(&rows)
	return rows, err
}

func plannerRowsSQL(citus bool) string {
	if !citus {
		return "SELECT reltuples FROM pg_class WHERE oid = $1::regclass"
	}
	return shardRows
}

// shardRows sums the shards' reltuples of a distributed table, and is
// reltuples for any other table.
const shardRows = `
SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = $1::regclass AND partmethod <> 'n')
    THEN (SELECT coalesce(sum(greatest(result::float8, 0)), 0)
          FROM run_command_on_shards($1::regclass, $$SELECT reltuples FROM pg_class WHERE oid = '%s'::regclass$$))
    ELSE (SELECT reltuples FROM pg_class WHERE oid = $1::regclass)::float8
END`

// rowQuerier is a pool, a connection or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
