// Package store is everything that talks to PostgreSQL: the connection pool,
// schema migrations and version checks, the run ledger and the warehouse writes.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billing-warehouse/billing-warehouse/internal/decimal"
)

// Sentinel errors callers branch on.
var (
	// ErrBadDatabaseURL means the connection string could not be parsed.
	ErrBadDatabaseURL = errors.New("invalid database URL")
	// ErrSchemaOutdated means the database has not been migrated to the
	// version this binary needs.
	ErrSchemaOutdated = errors.New("database schema is out of date")
	// ErrSchemaTooNew means the database was migrated by a newer binary.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrConnectionLost wraps a write that failed because the database went
	// away (a restart, a crash, the network): nothing more will succeed
	// until it is back.
	ErrConnectionLost = errors.New("lost the database connection")
)

// connectionLost reports whether err means the database went away rather
// than that a statement failed.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions; 57P01-03 a server shutting
		// down, crashed or starting.
		return strings.HasPrefix(pgErr.Code, "08") || slices.Contains([]string{"57P01", "57P02", "57P03"}, pgErr.Code)
	}
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr) ||
		pgconn.SafeToRetry(err) || // e.g. "conn closed": nothing was sent
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// defaultConnectTimeout bounds a connection attempt whose URL names no
// connect_timeout, so an unreachable host fails instead of hanging.
const defaultConnectTimeout = 10 * time.Second

// Store is the warehouse's handle on PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	target string // user@host:port/db, safe to print
	growth growth // rows written since the planner measured each table
	// writePath is the form of the writer's statements; citus is the
	// installed citus extension's version ("" without it).
	writePath WritePath
	citus     string
	merge     mergeChoice // tests force one merge; zero: by size
	// merged names the tables (and accounts, see mergedKey) where a write
	// without windows met a stored key: they are merged from then on (see
	// Batch.fill).
	merged sync.Map
}

// Options tunes Open. The zero value is a sane default.
type Options struct {
	// MaxConns caps the pool. Default 10.
	MaxConns int32
	// Logger receives the store's own messages. Default: discard.
	Logger *slog.Logger
	// WritePath chooses the writer's statements (see WritePath). Default:
	// auto, citus when the citus extension is installed.
	WritePath WritePath
}

// ParseURL parses a PostgreSQL connection string into a pool config. Its
// errors never contain the password.
func ParseURL(databaseURL string) (*pgxpool.Config, error) {
	if strings.TrimSpace(databaseURL) == "" {
		return nil, fmt.Errorf("%w: empty (set DATABASE_URL or --database-url)", ErrBadDatabaseURL)
	}
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts passwords in its parse errors, but the error also
		// quotes the whole string; name the problem without echoing input.
		return nil, fmt.Errorf("%w: %s", ErrBadDatabaseURL, parseProblem(err))
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "billing-warehouse"
	}
	// The warehouse stores UTC; make sure the session agrees, whatever the
	// server's default is.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	return cfg, nil
}

// parseProblem extracts pgx's reason from a parse error, dropping the quoted
// connection string.
func parseProblem(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

// Target describes where a config points, without credentials.
func Target(cfg *pgconn.Config) string {
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// Open connects to PostgreSQL and pings it.
func Open(ctx context.Context, databaseURL string, opts Options) (*Store, error) {
	cfg, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 10
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		decimal.Register(conn.TypeMap())
		return nil
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, ConnectError(cfg.ConnConfig.Config, err)
	}
	s := &Store{pool: pool, logger: logger, target: Target(&cfg.ConnConfig.Config)}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	path, citus, reason, err := chooseWritePath(ctx, pool, opts.WritePath)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.writePath, s.citus = path, citus
	logger.InfoContext(ctx, "write path chosen", "write_path", string(path), "reason", reason, "citus", citus)
	return s, nil
}

// ConnectError turns a connection failure into one line that names the
// target and the cause, without the password.
func ConnectError(cfg pgconn.Config, err error) error {
	msg := err.Error()
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		cause := errors.Unwrap(ce)
		// With sslmode=prefer or several hosts, pgx joins one error per
		// attempt; the last attempt's reason is the one that matters.
		if joined, ok := cause.(interface{ Unwrap() []error }); ok {
			if attempts := joined.Unwrap(); len(attempts) > 0 {
				cause = attempts[len(attempts)-1]
			}
		}
		msg = cause.Error()
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "xxxxx")
		msg = strings.ReplaceAll(msg, url.QueryEscape(cfg.Password), "xxxxx")
	}
	return fmt.Errorf("cannot connect to database %s: %s", Target(&cfg), msg)
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, defaultConnectTimeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return ConnectError(s.pool.Config().ConnConfig.Config, err)
	}
	return nil
}

// Pool exposes the pool to the packages that build on the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Target describes the database the store is connected to, without credentials.
func (s *Store) Target() string { return s.target }

// Close closes every connection.
func (s *Store) Close() { s.pool.Close() }

// withTx runs fn in a transaction and commits it if fn returns nil. The
// rollback uses a context that outlives cancellation of ctx, so a cancelled
// run never leaves a transaction open on a pooled connection.
func withTx(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, fn func(pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if err != nil {
			rbCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			_ = tx.Rollback(rbCtx)
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// EnsureDatabase creates the database databaseURL names if it does not exist
// yet, connecting to the server's maintenance database to do so. It reports
// whether it created one.
func EnsureDatabase(ctx context.Context, databaseURL string) (bool, error) {
	cfg, err := ParseURL(databaseURL)
	if err != nil {
		return false, err
	}
	target := cfg.ConnConfig.Config
	maint := cfg.ConnConfig.Copy()
	maint.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, maint)
	if err != nil {
		return false, ConnectError(maint.Config, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, target.Database).Scan(&exists); err != nil {
		return false, fmt.Errorf("look up database %s: %w", target.Database, err)
	}
	if exists {
		return false, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{target.Database}.Sanitize()); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by someone else
			return false, nil
		}
		return false, fmt.Errorf("create database %s: %w", target.Database, err)
	}
	return true, nil
}
