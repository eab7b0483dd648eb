package ingest

import "context"

// FetchedState is the fingerprint the unit key had when it was last
// fetched, however long ago: for a source whose units, once final, never
// change (a closed billing month), which Unchanged would fetch again after
// FullRefreshEvery.
func (r *Run) FetchedState(key string) (fingerprint string, ok bool) {
	st, ok := r.states[key]
	return st.Fingerprint, ok
}

// Refetch reports whether the run is a backfill asked to fetch again what
// earlier runs finished (backfill --refetch).
func (r *Run) Refetch() bool { return r.refetch }

// RealClock is the wall clock, for sources that wait (an export to be
// ready) on the client's clock when it is not set.
var RealClock Clock = realClock{}

// RefreshAccount records the source's Info again, once the run learned
// more of the account (an id its API gives only after logging in).
func (r *Run) RefreshAccount(ctx context.Context) error {
	return r.c.store.SeeAccount(ctx, r.src.Info())
}
