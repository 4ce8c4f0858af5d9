package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNoPage is returned by PageByURL when no page row has the URL.
var ErrNoPage = errors.New("no page recorded for this URL")

// StoredPage is a page row with its stored body.
type StoredPage struct {
	ID           int64
	URL          string
	Status       int
	ContentType  string
	FetchedAt    time.Time
	Body         []byte // compressed as BodyEncoding says; nil when not stored
	BodyEncoding string
}

// pageBatchBytes bounds the stored body bytes PagesWithBodies returns at
// once, so that a batch of large pages stays small in memory.
const pageBatchBytes = 16 << 20

// PagesWithBodies returns, in id order, up to limit pages with an id above
// after that have a 2xx status and a stored body, stopping early once the
// batch holds pageBatchBytes of bodies (it always returns at least one page
// when there is one). Pass the last ID of a batch as after to read the next:
// each batch is a fresh read from the read-only pool, so memory stays flat
// however many pages there are, and writes between batches are not blocked.
func (db *DB) PagesWithBodies(ctx context.Context, after int64, limit int) ([]StoredPage, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, url, status, coalesce(content_type, ''), fetched_at, body,
		coalesce(body_encoding, '') FROM pages
		WHERE id > ? AND status BETWEEN 200 AND 299 AND body IS NOT NULL ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pages after id %d: %w", after, describe(err))
	}
	defer rows.Close()
	var out []StoredPage
	size := 0
	for size < pageBatchBytes && rows.Next() {
		var p StoredPage
		var fetched int64
		if err := rows.Scan(&p.ID, &p.URL, &p.Status, &p.ContentType, &fetched, &p.Body, &p.BodyEncoding); err != nil {
			return nil, fmt.Errorf("read pages after id %d: %w", after, describe(err))
		}
		p.FetchedAt = time.UnixMilli(fetched)
		size += len(p.Body)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pages after id %d: %w", after, describe(err))
	}
	return out, nil
}

// PageByURL returns the page recorded for a canonical URL (the form in
// frontier.url), body included, or an error wrapping ErrNoPage.
func (db *DB) PageByURL(ctx context.Context, url string) (*StoredPage, error) {
	var p StoredPage
	var fetched int64
	err := db.r.QueryRowContext(ctx, `SELECT p.id, p.url, p.status, coalesce(p.content_type, ''), p.fetched_at, p.body,
		coalesce(p.body_encoding, '') FROM frontier f JOIN pages p ON p.url_id = f.id WHERE f.url = ?`, url).
		Scan(&p.ID, &p.URL, &p.Status, &p.ContentType, &fetched, &p.Body, &p.BodyEncoding)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("page %s: %w", url, ErrNoPage)
	}
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", url, describe(err))
	}
	p.FetchedAt = time.UnixMilli(fetched)
	return &p, nil
}

// PageItems is the extraction result of one page.
type PageItems struct {
	PageID int64
	URL    string
	Items  []Item
}

// ReplacePageItems replaces, in one transaction, the items of every page
// in pages: the page's existing items of the named rule sets (of every rule
// set when rules is empty) are deleted and the new items inserted. A page
// with no new items is left with none of those rule sets' items.
func (db *DB) ReplacePageItems(ctx context.Context, rules []string, pages []PageItems) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("replace items: %w", describe(err))
	}
	defer tx.Rollback()
	del := `DELETE FROM items WHERE page_id = ?`
	if len(rules) > 0 {
		del += ` AND rule IN (?` + strings.Repeat(`, ?`, len(rules)-1) + `)`
	}
	st, err := tx.PrepareContext(ctx, del)
	if err != nil {
		return fmt.Errorf("replace items: %w", describe(err))
	}
	defer st.Close()
	args := make([]any, 1, 1+len(rules))
	for _, r := range rules {
		args = append(args, r)
	}
	for _, p := range pages {
		args[0] = p.PageID
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("replace items of %s: %w", p.URL, describe(err))
		}
		if err := db.insertItems(ctx, tx, p.PageID, p.URL, p.Items); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("replace items: %w", describe(err))
	}
	return nil
}
