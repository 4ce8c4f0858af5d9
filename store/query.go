package store

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// QueryRows are the rows of a statement a user wrote, as a store's
// UserQuery runs it. Err explains the engine's errors; Close releases what
// the statement held (its connection, its limits).
type QueryRows struct {
	*sql.Rows
	explain func(error) error
	release func() error
}

// NewQueryRows wraps rows for a store's UserQuery: explain, if not nil,
// turns the errors that end the rows into ones a user can act on; release,
// if not nil, runs after the rows are closed.
func NewQueryRows(rows *sql.Rows, explain func(error) error, release func() error) *QueryRows {
	return &QueryRows{Rows: rows, explain: explain, release: release}
}

// Err returns the error that ended the rows, if any, explained.
func (q *QueryRows) Err() error {
	err := q.Rows.Err()
	if err == nil {
		return nil
	}
	if q.explain != nil {
		err = q.explain(err)
	}
	return fmt.Errorf("query: %w", err)
}

// Close closes the rows and releases what the statement held.
func (q *QueryRows) Close() error {
	err := q.Rows.Close()
	if q.release != nil {
		err = errors.Join(err, q.release())
	}
	return err
}

// Values scans the current row into one value per column, as the driver
// returns them: nil, int64, float64, string, []byte or time.Time.
func (q *QueryRows) Values() ([]any, error) {
	cols, err := q.Rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := q.Rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return vals, nil
}

// JSONValue makes a column value from Values printable as JSON: a blob
// that is UTF-8 text becomes a string, any other blob (a compressed body)
// the placeholder "<N bytes>", a time RFC 3339 in UTC.
func JSONValue(v any) any {
	switch x := v.(type) {
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return fmt.Sprintf("<%d bytes>", len(x))
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}
