package store

import "context"

// UseMerge makes s's writes take one merge whatever the table's size:
// "join" or "probe". Tests run the writer's cases under both.
func UseMerge(s *Store, merge string) {
	s.merge = map[string]mergeChoice{"join": mergeJoin, "probe": mergeProbing}[merge]
}

// StagedRows is how many rows this connection has put in t's stage and
// not yet reported to the statistics: a write of t that adds to it went
// through the merge rather than a fill.
func (b *Batch) StagedRows(ctx context.Context, t *Table) (int64, error) {
	var n int64
	err := b.tx.QueryRow(ctx, `SELECT coalesce((SELECT n_tup_ins FROM pg_stat_xact_all_tables
	                                            WHERE relid = to_regclass('pg_temp.stage_' || replace($1, '.', '_'))), 0)`,
		t.Name).Scan(&n)
	return n, err
}
