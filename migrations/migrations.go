// Package migrations holds the warehouse's schema as goose SQL migrations.
//
// Migrations are append-only: a file that has shipped is never edited; a change
// is a new file with the next version number. store.Migrator applies them.
package migrations

import "embed"

// FS holds every migration, named NNNNN_description.sql.
//
//go:embed *.sql
var FS embed.FS
