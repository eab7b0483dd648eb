package store

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"strings"
	"text/template"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// WritePath says which form of the writer's statements a store uses.
//
// The plain form is the fastest on one PostgreSQL server: it deletes a
// batch's stale rows with a LATERAL subquery per window and deletes them by
// ctid, which Citus cannot plan ("Offset clause is currently unsupported
// when a lateral subquery references … local tables", and without the
// OFFSET, "Recursively planned distributed modifications with ctid on
// where clause are not supported"). The citus form is valid on both: the
// windows and the staged keys are read through MATERIALIZED CTEs (Citus
// ships them to the workers as intermediate results; a temporary table
// cannot be read by a worker), the windows are joined to the table the
// plain way, and every statement names the batch's account, the
// distribution column, so it is routed to one shard.
type WritePath string

const (
	// WritePathAuto is citus when the citus extension is installed, plain
	// otherwise.
	WritePathAuto  WritePath = "auto"
	WritePathPlain WritePath = "plain"
	WritePathCitus WritePath = "citus"
)

// ParseWritePath reads auto, plain or citus; empty is auto.
func ParseWritePath(s string) (WritePath, error) {
	switch p := WritePath(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return WritePathAuto, nil
	case WritePathAuto, WritePathPlain, WritePathCitus:
		return p, nil
	}
	return "", fmt.Errorf("write path %q: want auto, plain or citus", s)
}

// citusVersion is the installed citus extension's version, "" without it.
func citusVersion(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (string, error) {
	var v string
	err := db.QueryRow(ctx, `SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'citus'), '')`).Scan(&v)
	if err != nil {
		return "", fmt.Errorf("look for the citus extension: %w", err)
	}
	return v, nil
}

// chooseWritePath resolves auto and says why, for the log line at start.
func chooseWritePath(ctx context.Context, pool *pgxpool.Pool, want WritePath) (path WritePath, citus, reason string, err error) {
	if want == "" {
		want = WritePathAuto
	}
	citus, err = citusVersion(ctx, pool)
	if err != nil {
		return "", "", "", err
	}
	switch {
	case want != WritePathAuto:
		return want, citus, "set by INGEST_WRITE_PATH", nil
	case citus != "":
		return WritePathCitus, citus, "the citus extension is installed", nil
	}
	return WritePathPlain, citus, "no citus extension", nil
}

// WritePath is the form of statements this store writes with.
func (s *Store) WritePath() WritePath { return s.writePath }

//go:embed citus/*.tmpl
var citusFS embed.FS

var citusSQL = template.Must(template.ParseFS(citusFS, "citus/*.tmpl"))

// citusStatement is what the templates of citus/delete.sql.tmpl are given.
type citusStatement struct {
	Target, Keys, TargetKeys, Stage string
	Cond                            string // one window
	Scopes, ScopeCols, Match        string // many windows
	Owner                           bool
}

// prepareCitus keeps what every statement of the citus path names.
func (t *Table) prepareCitus() {
	t.citus = citusStatement{
		Target:     quote(t.Name),
		Keys:       quoteAll(t.Key, ""),
		TargetKeys: quoteAll(t.Key, "t."),
		Stage:      pgx.Identifier{"stage_" + strings.ReplaceAll(t.Name, ".", "_")}.Sanitize(),
	}
}

func render(name string, data any) string {
	var b bytes.Buffer
	if err := citusSQL.ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Sprintf("store: render %s: %v", name, err)) // the templates are fixed; a test renders each
	}
	return b.String()
}

// citusDeleteOne is deleteOne's statement on the citus path: the staged
// keys are read through a MATERIALIZED CTE.
func (t *Table) citusDeleteOne(cond string) (with, del string) {
	st := t.citus
	st.Cond = cond
	return render("one_with", st), render("one_delete", st)
}

// citusDeleteMany is deleteMany's statement on the citus path: the windows
// and the staged keys are read through MATERIALIZED CTEs and joined to the
// table the plain way (no LATERAL, no ctid). When every window has one
// owner, it is named as $2 and $3 so that Citus routes the DELETE to that
// account's shard.
func (t *Table) citusDeleteMany(scopeTable string, scopeCols, conds []string, scopes []*Scope, runID int64) (with, del string, args []any) {
	st := t.citus
	st.Scopes, st.ScopeCols, st.Match = scopeTable, quoteAll(scopeCols, ""), strings.Join(conds, " AND ")
	args = []any{runID}
	owner := scopes[0].Owner
	st.Owner = true
	for _, s := range scopes[1:] {
		st.Owner = st.Owner && s.Owner == owner
	}
	if st.Owner {
		args = append(args, owner.Provider, owner.Account)
	}
	return render("many_with", st), render("many_delete", st), args
}

// singleOwner says whether rows (ordered by key, which starts with provider
// and account) all belong to one account, and which.
func singleOwner(rows [][]any) (Owner, bool) {
	if len(rows) == 0 {
		return Owner{}, false
	}
	first, last := rows[0], rows[len(rows)-1]
	if first[0] != last[0] || first[1] != last[1] {
		return Owner{}, false
	}
	p, ok1 := first[0].(string)
	a, ok2 := first[1].(string)
	return Owner{Provider: p, Account: a}, ok1 && ok2
}
