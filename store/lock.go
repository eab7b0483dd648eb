package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrBusy is returned when another process holds the run lock.
var ErrBusy = errors.New("another run holds the lock")

// BusyError says which run holds the lock, and since when.
type BusyError struct {
	RunID     int64
	StartedAt time.Time
	Host      string
	PID       int
}

func (e *BusyError) Error() string {
	if e.RunID == 0 {
		return "another process holds the run lock"
	}
	return fmt.Sprintf("run %d holds the lock since %s (host %s, pid %d)", e.RunID, e.StartedAt.UTC().Format(time.RFC3339), e.Host, e.PID)
}

func (e *BusyError) Unwrap() error { return ErrBusy }

// RunLock is the single-flight lock of an account's runs: a session-level
// advisory lock held on a dedicated connection for the whole run. If the
// process dies, the connection closes and the lock is free.
type RunLock struct {
	conn *pgxpool.Conn
	key  int64
}

// RunLockKey is the advisory lock key of an account's runs (pg_locks shows
// it as classid, the high half, and objid, the low half).
func RunLockKey(owner Owner) int64 {
	h := fnv.New64a()
	h.Write([]byte("billing-warehouse run " + owner.Provider + "\x00" + owner.Account))
	return int64(h.Sum64())
}

// TryRunLock takes the run lock, or returns a *BusyError naming the run
// that holds it.
func (s *Store) TryRunLock(ctx context.Context, owner Owner) (*RunLock, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, ConnectError(s.pool.Config().ConnConfig.Config, err)
	}
	key := RunLockKey(owner)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("take the run lock: %w", err)
	}
	if ok {
		return &RunLock{conn: conn, key: key}, nil
	}
	conn.Release()
	return nil, s.lockHolder(ctx, owner, key)
}

// ForeignLockError says the run lock is held by a session that is not an
// ingest run: its role may not record runs (a read-only login), or it
// holds the lock without recording one. Nothing will run until it lets
// go, so it is a failure to report, never a quiet skip.
type ForeignLockError struct {
	PID         int
	User        string
	Address     string // empty unless this role may see it (pg_read_all_stats)
	Application string
	Reason      string
}

func (e *ForeignLockError) Error() string {
	addr := e.Address
	if addr == "" {
		addr = "address not visible to this role"
	}
	return fmt.Sprintf("the run lock is held by a session that is not an ingest run (%s): user %q, %s, application %q, backend pid %d; end it with pg_terminate_backend(%d)",
		e.Reason, e.User, addr, e.Application, e.PID, e.PID)
}

// lockHolderQuery finds the session holding a bigint advisory lock: its
// key is split into classid (high half) and objid (low half), objsubid 1.
const lockHolderQuery = `
SELECT a.pid, coalesce(a.usename::text, ''), coalesce(host(a.client_addr) || ':' || a.client_port, ''), coalesce(a.application_name, ''),
       coalesce(has_table_privilege(a.usesysid, 'ingest.runs', 'INSERT'), false)
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid AND l.objsubid = 1`

// holderGrace is how long a holder that may record runs has to record its
// own: it takes the lock first and records the run right after.
const holderGrace = 2 * time.Second

// lockHolder explains why the run lock could not be taken: a *BusyError
// naming the ingest run that holds it, or a *ForeignLockError when the
// holder is not one.
func (s *Store) lockHolder(ctx context.Context, owner Owner, key int64) error {
	busy := &BusyError{}
	running := func() bool {
		err := s.pool.QueryRow(ctx, `
			SELECT id, started_at, host, pid FROM ingest.runs
			WHERE provider = $1 AND account = $2 AND status = 'running' ORDER BY started_at DESC LIMIT 1`, owner.Provider, owner.Account).
			Scan(&busy.RunID, &busy.StartedAt, &busy.Host, &busy.PID)
		if err != nil {
			busy.RunID = 0
		}
		return err == nil
	}
	holder := func() (*ForeignLockError, bool) {
		var h ForeignLockError
		var mayRecord bool
		hi, lo := int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)
		err := s.pool.QueryRow(ctx, lockHolderQuery, hi, lo).Scan(&h.PID, &h.User, &h.Address, &h.Application, &mayRecord)
		if err != nil {
			return nil, false // gone meanwhile, or not visible: nothing to accuse
		}
		if !mayRecord {
			h.Reason = "its role may not record runs"
			return &h, true
		}
		return &h, false
	}
	h, foreign := holder()
	if foreign {
		return h
	}
	if running() || h == nil {
		return busy
	}
	// A role that may record runs, and no run recorded yet: a run that
	// just took the lock records itself at once; a session that does not
	// is not one.
	select {
	case <-ctx.Done():
		return busy
	case <-time.After(holderGrace):
	}
	if running() {
		return busy
	}
	if again, _ := holder(); again != nil && again.PID == h.PID {
		again.Reason = fmt.Sprintf("it has recorded no run in %s", holderGrace)
		return again
	}
	return busy
}

// Release frees the lock and its connection.
func (l *RunLock) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", l.key); err != nil {
		// The session's lock dies with its connection: close it.
		l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}

// Alive checks that the lock's connection still works; when it does not,
// the lock is lost and the run must stop.
func (l *RunLock) Alive(ctx context.Context) error {
	_, err := l.conn.Exec(ctx, "SELECT 1")
	return err
}
