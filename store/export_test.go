package store

// UseMerge makes s's writes take one merge whatever the table's size:
// "join" or "probe". Tests run the writer's cases under both.
func UseMerge(s *Store, merge string) {
	s.merge = map[string]mergeChoice{"join": mergeJoin, "probe": mergeProbing}[merge]
}
