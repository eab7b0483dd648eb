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
	"github.com/billing-warehouse/billing-warehouse/sql/reports"
)

// versionTable is goose's bookkeeping table for the warehouse schema;
// reportsTable is the report views'.
const (
	versionTable = "goose_db_version"
	reportsTable = "goose_reports_version"
)

// MigrationLockID is the advisory lock key every migrator takes. Advisory
// locks are per database, so migrators of different databases never wait on
// each other.
const MigrationLockID int64 = 4_806_209_116_503_150_117

// Migrator applies the embedded schema migrations, then the report views,
// under a Postgres session lock, so two migrators started at once run one
// after the other. Views depend on tables: every schema rollback takes the
// views down first, and Up puts them back.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider // the schema
	reports  *goose.Provider // the report views
	latest   int64
	logger   *slog.Logger
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

	m, err := newMigrator(db, migrations.FS, reports.FS, logger)
	if err != nil {
		db.Close()
		return nil, err
	}
	return m, nil
}

func newMigrator(db *sql.DB, fsys, reportsFS fs.FS, logger *slog.Logger) (*Migrator, error) {
	gooseLock, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(MigrationLockID),
		lock.WithLockTimeout(1, 600), // poll every second for up to 10 minutes
	)
	if err != nil {
		return nil, err
	}
	locker := announcingLocker{SessionLocker: gooseLock, logger: logger}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithTableName(versionTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	views, err := goose.NewProvider(goose.DialectPostgres, db, reportsFS,
		goose.WithSessionLocker(locker), goose.WithTableName(reportsTable), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("load report views: %w", err)
	}
	sources := provider.ListSources()
	return &Migrator{db: db, provider: provider, reports: views, latest: sources[len(sources)-1].Version, logger: logger}, nil
}

// SchemaVersions lists the versions of the schema migrations, oldest first.
func (m *Migrator) SchemaVersions() []int64 {
	var out []int64
	for _, s := range m.provider.ListSources() {
		out = append(out, s.Version)
	}
	return out
}

// ReportsVersion is the newest report file applied, and the newest known.
func (m *Migrator) ReportsVersion(ctx context.Context) (current, latest int64, err error) {
	current, err = m.reports.GetDBVersion(ctx)
	sources := m.reports.ListSources()
	return current, sources[len(sources)-1].Version, err
}

// viewsDown removes every report view, so the schema under them can change.
func (m *Migrator) viewsDown(ctx context.Context) ([]*goose.MigrationResult, error) {
	if v, err := m.reports.GetDBVersion(ctx); err != nil || v == 0 {
		return nil, err
	}
	return m.reports.DownTo(ctx, 0)
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

// Up applies every pending migration, then every pending report view.
func (m *Migrator) Up(ctx context.Context) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	results, err := m.provider.Up(ctx)
	if err != nil {
		return results, err
	}
	views, err := m.reports.Up(ctx)
	results = append(results, views...)
	if err != nil {
		return results, err
	}
	return results, m.distributeNewTables(ctx)
}

// distributeNewTables distributes, on a warehouse already distributed on
// Citus, the tables migrations have just added (see DistributeCitus).
func (m *Migrator) distributeNewTables(ctx context.Context) error {
	if on, err := m.distributedOnCitus(ctx); err != nil || !on {
		return err
	}
	res, err := m.DistributeCitus(ctx)
	for _, name := range res.Distributed {
		m.logger.InfoContext(ctx, "distributed a new table on account", "table", name)
	}
	return err
}

// Down rolls back the newest applied migration, after the report views.
func (m *Migrator) Down(ctx context.Context) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	results, err := m.viewsDown(ctx)
	if err != nil {
		return results, err
	}
	r, err := m.provider.Down(ctx)
	if r != nil {
		results = append(results, r)
	}
	return results, err
}

// DownTo rolls back the report views and every migration newer than version.
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	results, err := m.viewsDown(ctx)
	if err != nil {
		return results, err
	}
	more, err := m.provider.DownTo(ctx, version)
	return append(results, more...), err
}

// UpTo applies pending migrations up to and including version.
func (m *Migrator) UpTo(ctx context.Context, version int64) ([]*goose.MigrationResult, error) {
	if err := m.checkNotTooNew(ctx); err != nil {
		return nil, err
	}
	return m.provider.UpTo(ctx, version)
}

// Redo rolls back the newest migration and applies it again, with the
// report views.
func (m *Migrator) Redo(ctx context.Context) ([]*goose.MigrationResult, error) {
	results, err := m.Down(ctx)
	if err != nil {
		return results, err
	}
	up, err := m.provider.UpByOne(ctx)
	if err != nil {
		return results, err
	}
	results = append(results, up)
	views, err := m.reports.Up(ctx)
	return append(results, views...), err
}

// Reset rolls back every migration.
func (m *Migrator) Reset(ctx context.Context) ([]*goose.MigrationResult, error) {
	return m.DownTo(ctx, 0)
}

// Status lists every known migration, then every report file, and whether
// each is applied.
func (m *Migrator) Status(ctx context.Context) ([]*goose.MigrationStatus, error) {
	schema, err := m.provider.Status(ctx)
	if err != nil {
		return nil, err
	}
	views, err := m.reports.Status(ctx)
	return append(schema, views...), err
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
		// Name the holder: a session that is not a migrator (a login that
		// kept PUBLIC's advisory-lock functions) makes this wait its timeout.
		var pid int
		var user, addr, app string
		var mayMigrate bool
		if err := conn.QueryRowContext(ctx, lockHolderQuery, hi, lo).Scan(&pid, &user, &addr, &app, &mayMigrate); err == nil {
			l.logger.InfoContext(ctx, "waiting for the migration lock held by another migrator",
				"holder_pid", pid, "holder_user", user, "holder_address", addr, "holder_application", app)
		} else {
			l.logger.InfoContext(ctx, "waiting for the migration lock held by another migrator")
		}
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
