// Package reports holds the versioned report views, one goose SQL file per
// view version. cmd/migrate installs them after the schema, tracked in their
// own version table. A published view never changes its columns or meaning:
// a change is a new name_vN+1 file beside the old one.
package reports

import "embed"

// FS holds every report file.
//
//go:embed *.sql
var FS embed.FS
