package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

// CopyIn fills this crawl, which must be empty, with the tables read
// (store.CopyTables, read in order by read), in one transaction, with
// COPY: ids are kept, the identity sequences set past them, and every URL
// the source had leased is queued. It returns the rows written per table.
func (db *DB) CopyIn(ctx context.Context, read func(store.CopyTable) (*store.CopyRows, error)) (map[string]int64, error) {
	counts := map[string]int64{}
	err := db.inTx(ctx, "copy in", func(tx pgx.Tx) error {
		clear(counts)
		var n int
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM frontier) + (SELECT count(*) FROM hosts)`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("crawl %q is not empty: copy into a new crawl (another name)", db.schema)
		}
		for _, t := range store.CopyTables {
			rows, err := read(t)
			if err != nil {
				return err
			}
			names := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				names[i] = c.Name
			}
			vals := make([]any, len(t.Columns))
			src := pgx.CopyFromFunc(func() ([]any, error) {
				if !rows.Next() {
					return nil, rows.Err()
				}
				for i, v := range rows.Values() {
					switch c := t.Columns[i]; {
					case v == nil:
						vals[i] = nil
					case c.Kind == store.Text:
						vals[i] = text(v.(string))
					case c.Kind == store.JSON:
						b, err := jsonb([]byte(v.(string)))
						if err != nil {
							return nil, fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
						}
						vals[i] = string(b)
					default:
						vals[i] = v
					}
				}
				return vals, nil
			})
			n, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, names, src)
			rows.Close()
			if err != nil {
				return fmt.Errorf("copy %s: %w", t.Name, err)
			}
			counts[t.Name] = n
		}
		// Identities continue past the ids copied.
		for _, t := range []string{"workers", "hosts", "frontier", "pages", "items", "runs"} {
			if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, 'id'), coalesce(max(id), 0) + 1, false) FROM `+
				t, t); err != nil {
				return fmt.Errorf("set the ids of %s: %w", t, err)
			}
		}
		// Every lease of the source returns to the queue.
		if _, err := tx.Exec(ctx, `UPDATE frontier SET state = 'queued', lease_until = NULL WHERE state = 'leased'`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE hosts h SET queued = coalesce((SELECT count(*) FROM frontier f
			WHERE f.host_id = h.id AND f.state = 'queued'), 0)`)
		return err
	})
	return counts, err
}
