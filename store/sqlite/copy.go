package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/crawler-dev/crawler/store"
)

// CopyIn fills this database, which must be empty, with the tables read
// (store.CopyTables, read in order by read), in one transaction: ids are
// kept, and every URL the source had leased is queued. It returns the
// rows written per table.
func (db *DB) CopyIn(ctx context.Context, read func(store.CopyTable) (*store.CopyRows, error)) (map[string]int64, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("copy in: %w", describe(err))
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM frontier) + (SELECT count(*) FROM hosts)`).Scan(&n); err != nil {
		return nil, fmt.Errorf("copy in: %w", describe(err))
	}
	if n > 0 {
		return nil, fmt.Errorf("copy in: %s is not empty: copy into a new file", db.path)
	}
	counts := map[string]int64{}
	for _, t := range store.CopyTables {
		rows, err := read(t)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		st, err := tx.PrepareContext(ctx, `INSERT INTO `+t.Name+` (`+strings.Join(names, ", ")+`) VALUES (?`+
			strings.Repeat(", ?", len(names)-1)+`)`)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("copy %s: %w", t.Name, describe(err))
		}
		for rows.Next() {
			vals := rows.Values()
			for i, c := range t.Columns {
				if b, ok := vals[i].(bool); ok && c.Kind == store.Bool {
					vals[i] = 0
					if b {
						vals[i] = 1
					}
				}
			}
			if _, err := st.ExecContext(ctx, vals...); err != nil {
				st.Close()
				rows.Close()
				return nil, fmt.Errorf("copy %s: %w", t.Name, describe(err))
			}
			counts[t.Name]++
		}
		st.Close()
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE frontier SET state = 'queued', lease_until = NULL WHERE state = 'leased'`); err != nil {
		return nil, fmt.Errorf("copy in: %w", describe(err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE hosts SET queued = (SELECT count(*) FROM frontier f
		WHERE f.host_id = hosts.id AND f.state = 'queued')`); err != nil {
		return nil, fmt.Errorf("copy in: %w", describe(err))
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("copy in: %w", describe(err))
	}
	return counts, nil
}
