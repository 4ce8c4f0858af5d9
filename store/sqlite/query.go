package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/crawler-dev/crawler/store"
)

// Authorizer action codes (sqlite3.h) that mattn/go-sqlite3 does not export.
const sqliteRecursive = 33

// schemaPragmas describe the schema; they may name a table or an index.
var schemaPragmas = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true, "index_list": true, "index_info": true,
	"index_xinfo": true, "foreign_key_list": true,
}

// settingPragmas only report a setting when they are given no value.
var settingPragmas = map[string]bool{
	"cache_size": true, "page_size": true, "page_count": true, "freelist_count": true, "journal_mode": true,
	"user_version": true, "application_id": true, "schema_version": true, "encoding": true, "foreign_keys": true,
	"query_only": true, "busy_timeout": true, "data_version": true, "compile_options": true,
	"function_list": true, "module_list": true, "pragma_list": true, "collation_list": true,
}

// readOnlyAuthorizer guards every connection of the read-only pool, so that
// SQL a user wrote, through crawler query or the service's /query, can read
// the database and compute, nothing else: no ATTACH (which reaches other
// files, and with mode=rwc creates them), no VACUUM INTO (which writes a
// copy anywhere), no writes, no temporary tables, no transactions, no
// pragma that changes the connection. The pragmas that describe the schema
// (PRAGMA table_info(pages), SELECT * FROM pragma_table_info('pages'))
// are allowed, and those that report a setting when given no value.
func readOnlyAuthorizer(op int, arg1, arg2, _ string) int {
	switch op {
	case sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqliteRecursive:
		return sqlite3.SQLITE_OK
	case sqlite3.SQLITE_PRAGMA:
		if schemaPragmas[arg1] || settingPragmas[arg1] && arg2 == "" {
			return sqlite3.SQLITE_OK
		}
	}
	return sqlite3.SQLITE_DENY
}

// userQuery is what a statement a user wrote holds on its connection.
type userQuery struct {
	conn  *sql.Conn
	limit int // the statement's per-value limit; 0 if the pool's own
	cols  int
	pool  int // the connection's limit before the statement's, restored by release
}

// UserQuery runs one SQL statement a user wrote on a connection of the
// read-only pool, whose authorizer refuses anything but reading (see
// readOnlyAuthorizer). When rowBytes is positive, SQLite refuses to load or
// build a string or blob longer than rowBytes divided by the statement's
// number of columns, so no row of values it hands over is larger than
// rowBytes, whatever the statement computes: SELECT hex(randomblob(1e9))
// ends at once with an error instead of taking gigabytes. The caller must
// Close the rows.
func (db *DB) UserQuery(ctx context.Context, query string, rowBytes int) (*store.QueryRows, error) {
	if err := oneStatement(query); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: %w", describe(err))
	}
	q := &userQuery{conn: conn}
	if rowBytes > 0 {
		// The driver computes the first row as it opens the rows, so the
		// limit must be in place before: count the columns first.
		cols, err := columnCount(ctx, conn, query)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("query: %w", describe(err))
		}
		q.cols, q.limit = cols, rowBytes/max(cols, 1)
		if db.maxValue > 0 {
			q.limit = min(q.limit, db.maxValue)
		}
		if q.pool, err = q.setLimit(q.limit); err != nil {
			conn.Close()
			return nil, fmt.Errorf("query: %w", err)
		}
	}
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		err = q.explain(err)
		return nil, errors.Join(fmt.Errorf("query: %w", err), q.release())
	}
	return store.NewQueryRows(rows, q.explain, q.release), nil
}

// columnCount returns the number of columns the statement query returns,
// without running it: the width of its ResultRow instructions in the
// program EXPLAIN shows. A statement that is itself an EXPLAIN returns at
// most eight columns.
func columnCount(ctx context.Context, conn *sql.Conn, query string) (int, error) {
	rows, err := conn.QueryContext(ctx, "EXPLAIN "+query)
	if err != nil {
		// The statement's own error, unless it prepares: then it is an
		// EXPLAIN, which cannot be explained.
		st, perr := conn.PrepareContext(ctx, query)
		if perr != nil {
			return 0, perr
		}
		st.Close()
		return 8, nil
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var addr, p1, p2, p3, p5 sql.NullInt64
		var opcode, p4, comment sql.NullString
		if err := rows.Scan(&addr, &opcode, &p1, &p2, &p3, &p4, &p5, &comment); err != nil {
			return 0, err
		}
		if opcode.String == "ResultRow" {
			n = max(n, int(p2.Int64))
		}
	}
	return n, rows.Err()
}

// oneStatement returns an error if q holds more than one statement: more
// than white space and comments after a semicolon outside quotes and
// comments. An unterminated quote or comment is left for SQLite to report.
func oneStatement(q string) error {
	ended := -1 // the offset of the semicolon that ended the first statement
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				return nil
			}
			i += j
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				return nil
			}
			i += j + 3
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';' && ended >= 0:
		case ended >= 0:
			return fmt.Errorf("one statement only: more SQL follows the semicolon at byte %d", ended)
		case c == ';':
			ended = i
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(q[i+1:], end)
			if j < 0 {
				return nil
			}
			i += j + 1
		}
	}
	return nil
}

// setLimit sets the connection's length limit to n and returns the one it
// had.
func (q *userQuery) setLimit(n int) (prior int, err error) {
	err = q.conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		prior = c.SetLimit(sqlite3.SQLITE_LIMIT_LENGTH, n)
		return nil
	})
	return prior, err
}

// explain explains an error of the statement, its value limit first.
func (q *userQuery) explain(err error) error {
	var se sqlite3.Error
	if q.limit > 0 && errors.As(err, &se) && se.Code == sqlite3.ErrTooBig {
		return fmt.Errorf("a value is longer than the %d bytes each of this statement's %d columns may hold "+
			"(%d bytes per row): select fewer or shorter values, e.g. length(x) or substr(x, 1, 1000) (%w)",
			q.limit, q.cols, q.limit*max(q.cols, 1), err)
	}
	return describe(err)
}

// release returns the connection to the pool with the pool's own limit.
func (q *userQuery) release() error {
	var err error
	if q.limit > 0 {
		_, err = q.setLimit(q.pool)
	}
	return errors.Join(err, q.conn.Close())
}
