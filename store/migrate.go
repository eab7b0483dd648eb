package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/billing-warehouse/billing-warehouse/migrations"
)

// versionTable is goose's bookkeeping table for the warehouse schema.
const versionTable = "goose_db_version"

// MigrationLockID is the advisory lock key every migrator takes. Advisory
// locks are per database, so migrators of different databases never wait on
// each other.
const MigrationLockID int64 = 4_806_209_116_503_150_117

// Migrator applies the embedded migrations under a Postgres session lock, so
// two migrators started at once run one after the other.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
	latest   int64
}

// NewMigrator opens its own connection to databaseURL. Close releases it.
func NewMigrator(ctx context.Context, databaseURL string, logger *slog.Logger) (*Migrator, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(2)
	pingCtx, cancel := context.WithTimeout(ctx, defaultConnectTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, ConnectError(cfg.ConnConfig.Config, err)
	}

	m, err := newMigrator(db, migrations.FS, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

func newMigrator(db *sql.DB, fsys fs.FS, logger *slog.Logger) (*Migrator, error) {
	gooseLock, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(MigrationLockID),
		lock.WithLockTimeout(1, 600), // poll every second for up to 10 minutes
	)
	if err != nil {
		return nil, err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(announcingLocker{SessionLocker: gooseLock, logger: logger}),
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	sources := provider.ListSources()
	return &Migrator{db: db, provider: provider, latest: sources[len(sources)-1].Version}, nil
}

// Close releases the migrator's connection.
func (m *Migrator) Close() error { return m.db.Close() }

// Latest is the newest migration version this binary carries.
func (m *Migrator) Latest() int64 { return m.latest }

// Version reports the database's current schema version (0 when never
// migrated) and the newest version this binary knows.
func (m *Migrator) Version(ctx context.Context) (current, latest int64, err error) {
	current, err = m.provider.GetDBVersion(ctx)
	if err != nil {
		return 0, m.latest, fmt.Errorf("read schema version: %w", err)
	}
	return current, m.latest, nil
}

// checkNotTooNew refuses to touch a schema migrated by a newer binary.
func (m *Migrator) checkNotTooNew(ctx context.Context) error {
	current, latest, err := m.Version(ctx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade the binary",
			ErrSchemaTooNew, current, latest)
	}
	return nil
}

// Up applies every pending migration.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	return m.provider.Up(ctx)
}

// Down rolls back the newest applied migration.
func (m *Migrator) Down(ctx context.Context) (*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	return m.provider.Down(ctx)
}

// DownTo rolls back every migration newer than version.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	return m.provider.DownTo(ctx, version)
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	return m.provider.UpTo(ctx, version)
}

// Redo rolls back the newest migration and applies it again.
func (m *Migrator) Redo(ctx context.Context) ([]*goose.MigrationResult, error) {
	down, err := m.Down(ctx)
	if err != nil {
		return nil, err
	}
	up, err := m.provider.UpByOne(ctx)
	if err != nil {
		return []*goose.MigrationResult{down}, err
	}
	return []*goose.MigrationResult{down, up}, nil
}

// Reset rolls back every migration.
func (m *Migrator) Reset(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.DownTo(ctx, 0)
}

// Status lists every known migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	return m.provider.Status(ctx)
}

// announcingLocker wraps goose's session locker and says when it has to wait
// for another migrator, so a user watching two deploys race sees why one
// pauses.
type announcingLocker struct {
	lock.SessionLocker
	logger *slog.Logger
}

const migrationLockHeld = `
SELECT EXISTS (
    SELECT 1 FROM pg_locks
    WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1
      AND granted
)`

func (l announcingLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	key := uint64(MigrationLockID)
	hi, lo := int64(key>>32), int64(key&0xffffffff)
	var held bool
	if err := conn.QueryRowContext(ctx, migrationLockHeld, hi, lo).Scan(&held); err != nil {
		return fmt.Errorf("inspect migration lock: %w", err)
	}
	if held {
		l.logger.InfoContext(ctx, "waiting for the migration lock held by another migrator")
	}
	if err := l.SessionLocker.SessionLock(ctx, conn); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("acquire migration lock: %w", err)
	}
	if held {
		l.logger.InfoContext(ctx, "waited for the migration lock; continuing")
	}
	return nil
}
