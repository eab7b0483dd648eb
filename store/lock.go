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

func runLockKey(owner Owner) int64 {
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
	key := runLockKey(owner)
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		conn.Release()
		return nil, fmt.Errorf("take the run lock: %w", err)
	}
	if ok {
		return &RunLock{conn: conn, key: key}, nil
	}
	conn.Release()
	busy := &BusyError{}
	err = s.pool.QueryRow(ctx, `
		SELECT id, started_at, host, pid FROM ingest.runs
		WHERE provider = $1 AND account = $2 AND status = 'running' ORDER BY started_at DESC LIMIT 1`, owner.Provider, owner.Account).
		Scan(&busy.RunID, &busy.StartedAt, &busy.Host, &busy.PID)
	if err != nil && ctx.Err() == nil {
		busy.RunID = 0 // the holder has not recorded its run yet
	}
	return nil, busy
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
