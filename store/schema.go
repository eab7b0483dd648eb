package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/billing-warehouse/billing-warehouse/migrations"
)

// RequiredSchemaVersion is the newest migration embedded in this binary: the
// version the worker needs before it will run.
var RequiredSchemaVersion = sync.OnceValue(func() int64 {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		panic(fmt.Sprintf("read embedded migrations: %v", err))
	}
	var latest int64
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		if !ok || path.Ext(e.Name()) != ".sql" {
			continue
		}
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("migration %s: version prefix is not a number", e.Name()))
		}
		latest = max(latest, v)
	}
	return latest
})

// SchemaVersion returns the database's applied schema version; 0 when it has
// never been migrated.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var exists bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass('public.`+versionTable+`') IS NOT NULL`).Scan(&exists)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int64
	err = s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM public.`+versionTable+` WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// CheckSchema returns ErrSchemaOutdated or ErrSchemaTooNew, with a message
// telling the user what to do, unless the database is at exactly the version
// this binary was built for. The worker never migrates by itself.
func (s *Store) CheckSchema(ctx context.Context) error {
	have, err := s.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	want := RequiredSchemaVersion()
	switch {
	case have < want:
		return fmt.Errorf("%w: database %s is at version %d, this binary needs %d; run `migrate up` first",
			ErrSchemaOutdated, s.target, have, want)
	case have > want:
		return fmt.Errorf("%w: database %s is at version %d, this binary knows up to %d; upgrade the binary",
			ErrSchemaTooNew, s.target, have, want)
	}
	return nil
}
