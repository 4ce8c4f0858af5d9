package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/crawler-dev/crawler/store"
)

// QueryTimeout is the statement_timeout of a statement a user wrote.
const QueryTimeout = 5 * time.Minute

// readVerbs are the statements a user may run: those that only read.
var readVerbs = map[string]bool{"select": true, "with": true, "values": true, "table": true, "explain": true, "show": true}

// UserQuery runs one SQL statement a user wrote, in a read-only
// transaction with a statement_timeout, on a connection of the reader
// pool (whose sessions are read-only by default too). Only statements
// that read are accepted (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW):
// not COPY, which can write files on the server. PostgreSQL runs one
// statement per call: a second one is refused. When rowBytes is
// positive, a row longer than rowBytes is refused as it arrives, before
// it is held in memory, and the statement ends with an error. The caller
// must Close the rows.
func (db *DB) UserQuery(ctx context.Context, query string, rowBytes int) (*store.QueryRows, error) {
	if verb := firstWord(query); !readVerbs[verb] {
		return nil, fmt.Errorf("query: statement refused: queries may only read the crawl (SELECT, WITH, VALUES, TABLE, "+
			"EXPLAIN or SHOW), not %s", strings.ToUpper(verb))
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: %w", describe(err))
	}
	if db.maxRow > 0 && (rowBytes <= 0 || rowBytes > db.maxRow) {
		rowBytes = db.maxRow
	}
	q := &userQuery{conn: conn, limit: rowBytes, pool: db.maxRow}
	if rowBytes > 0 {
		if err := q.setLimit(rowBytes); err != nil {
			conn.Close()
			return nil, fmt.Errorf("query: %w", err)
		}
	}
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("query: %w", describe(err)), q.release())
	}
	q.tx = tx
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d`, QueryTimeout.Milliseconds())); err != nil {
		return nil, errors.Join(fmt.Errorf("query: %w", describe(err)), q.release())
	}
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("query: %w", q.explain(err)), q.release())
	}
	return store.NewQueryRows(rows, q.explain, q.release), nil
}

// firstWord returns the first word of a statement, lowercase, after white
// space and comments.
func firstWord(q string) string {
	for {
		q = strings.TrimLeft(q, " \t\r\n\f(")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return ""
			}
			q = q[i+1:]
			continue
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return ""
			}
			q = q[i+2:]
			continue
		}
		end := strings.IndexFunc(q, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_')
		})
		if end < 0 {
			end = len(q)
		}
		return strings.ToLower(q[:end])
	}
}

// errBadConn has database/sql discard a connection.
var errBadConn = driver.ErrBadConn

// userQuery is what a statement a user wrote holds: its connection and
// read-only transaction.
type userQuery struct {
	conn  *sql.Conn
	tx    *sql.Tx
	limit int
	pool  int // the pool's own row limit, restored by release
}

// setLimit makes the connection refuse a message (a row) longer than n
// bytes.
func (q *userQuery) setLimit(n int) error {
	return q.conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		c.Conn().PgConn().Frontend().SetMaxBodyLen(n)
		return nil
	})
}

// explain explains an error of the statement, its row limit first.
func (q *userQuery) explain(err error) error {
	var big *pgproto3.ExceededMaxBodyLenErr
	if q.limit > 0 && errors.As(err, &big) {
		return fmt.Errorf("a row is longer than the %d bytes a row may hold: select fewer or shorter values, "+
			"e.g. length(x) or substr(x, 1, 1000) (%w)", q.limit, err)
	}
	return describe(err)
}

// release ends the transaction and returns the connection to the pool
// with the pool's row limit; a connection that refused a row has lost its place
// in the server's stream and is closed instead.
func (q *userQuery) release() error {
	var err error
	if q.tx != nil {
		if rerr := q.tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			err = rerr
		}
	}
	if q.limit > 0 {
		q.conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return nil
			}
			if c.Conn().IsClosed() {
				return nil
			}
			c.Conn().PgConn().Frontend().SetMaxBodyLen(q.pool)
			return nil
		})
	}
	if err != nil {
		// A connection whose rollback failed is not reused.
		q.conn.Raw(func(dc any) error { return errBadConn })
	}
	return errors.Join(describe(err), q.conn.Close())
}
