package store

import "context"

// UseMerge makes s's writes take one merge whatever the table's size:
// "join" or "probe". Tests run the writer's cases under both.
func UseMerge(s *Store, merge string) {
	s.merge = map[string]mergeChoice{"join": mergeJoin, "probe": mergeProbing}[merge]
}

// Staged says whether b has staged rows of t: whether a write of it in this
// batch, or an earlier one on the same connection, went through the merge
// rather than a fill.
func (b *Batch) Staged(ctx context.Context, t *Table) (bool, error) {
	var staged bool
	err := b.tx.QueryRow(ctx, "SELECT to_regclass('pg_temp.stage_' || replace($1, '.', '_')) IS NOT NULL", t.Name).Scan(&staged)
	return staged, err
}
