package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what the shared SQL of Reader needs to know about the engine
// behind its *sql.DB: the placeholder style and the few functions whose
// names differ. Everything else Reader runs is SQL that SQLite and
// PostgreSQL both accept, over the same tables and columns (times as
// integer unix milliseconds, flags read as booleans).
type Dialect struct {
	// Dollar says parameters are written $1, $2 ... (PostgreSQL); Reader's
	// queries are written with ? (SQLite) and rewritten for it.
	Dollar bool
	// Greatest is the SQL of the larger of two values: max(a, b) in
	// SQLite, greatest(a, b) in PostgreSQL.
	Greatest func(a, b string) string
	// JSONKeys is a FROM item listing, as alias.key, the keys of the JSON
	// object x: json_each(x) AS alias in SQLite, jsonb_object_keys(x) AS
	// alias(key) in PostgreSQL.
	JSONKeys func(x, alias string) string
	// Position is the SQL of the position of needle in the text hay,
	// from 1, or 0 when it is not there: instr(hay, needle) in SQLite,
	// strpos(hay, needle) in PostgreSQL.
	Position func(hay, needle string) string
	// HasTable is a query of one ? parameter, a table's name, that
	// returns one row: 1 when the table exists, else 0 (tables the
	// crawler creates and drops as a setting asks, such as link_targets).
	HasTable string
	// Describe turns the driver's errors into ones a user can act on; nil
	// keeps them as they are.
	Describe func(error) error
	// Now is the SQL of the database's time in unix milliseconds, the
	// clock host leases and heartbeats are written in.
	Now string
	// MainText is the SQL of the main text of the page_data row d; empty
	// means d.main_text. SQLite keeps it compressed and decompresses it
	// with a function of its own.
	MainText string
}

// mainText is the SQL of the main text of the page_data row d.
func (d Dialect) mainText() string {
	if d.MainText == "" {
		return "d.main_text"
	}
	return d.MainText
}

// Reader answers the read-only questions about a crawl database: status,
// totals, report, explain, host list, export, stored pages. It reads
// through a pool that never blocks the crawl (for SQLite, read-only
// connections beside the single writer). It is safe for concurrent use.
//
// Every store embeds one, so its methods are the store's.
type Reader struct {
	db *sql.DB
	d  Dialect
}

// NewReader returns the read side of a crawl database over the pool db.
func NewReader(db *sql.DB, d Dialect) *Reader { return &Reader{db: db, d: d} }

// SQL returns the read-only pool, for statements of one engine's own
// (tests, benchmarks). Write them for that engine, or pass them through
// Rebind.
func (r *Reader) SQL() *sql.DB { return r.db }

// Rebind rewrites a statement written with ? placeholders in the dialect's
// style.
func (r *Reader) Rebind(query string) string {
	if !r.d.Dollar {
		return query
	}
	return dollars(query)
}

// describe explains a driver error in the dialect's terms.
func (r *Reader) describe(err error) error {
	if err == nil || r.d.Describe == nil {
		return err
	}
	return r.d.Describe(err)
}

func (r *Reader) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.db.QueryContext(ctx, r.Rebind(query), args...)
}

func (r *Reader) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.db.QueryRowContext(ctx, r.Rebind(query), args...)
}

// dollars numbers the ? placeholders of query as $1, $2 ..., leaving
// question marks inside quotes and -- comments alone.
func dollars(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		end := i + 1 // the end of what is copied as it is
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'' || c == '"':
			end = len(query)
			if j := strings.IndexByte(query[i+1:], c); j >= 0 {
				end = i + 1 + j + 1
			}
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			end = len(query)
			if j := strings.IndexByte(query[i:], '\n'); j >= 0 {
				end = i + j
			}
		}
		b.WriteString(query[i:end])
		i = end
	}
	return b.String()
}
