package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"
)

// pageBatchBytes bounds the stored body bytes PagesWithBodies returns at
// once, so that a batch of large pages stays small in memory.
const pageBatchBytes = 16 << 20

// PagesWithBodies returns, in id order, up to limit pages with an id above
// after that have a 2xx status and a stored body, stopping early once the
// batch holds pageBatchBytes of bodies (it always returns at least one page
// when there is one). Pass the last ID of a batch as after to read the next:
// each batch is a fresh read from the read-only pool, so memory stays flat
// however many pages there are, and writes between batches are not blocked.
func (rd *Reader) PagesWithBodies(ctx context.Context, after int64, limit int) ([]StoredPage, error) {
	rows, err := rd.query(ctx, `SELECT id, url, status, coalesce(content_type, ''), fetched_at, body,
		coalesce(body_encoding, '') FROM pages
		WHERE id > ? AND status BETWEEN 200 AND 299 AND body IS NOT NULL ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read pages after id %d: %w", after, rd.describe(err))
	}
	defer rows.Close()
	var out []StoredPage
	size := 0
	for size < pageBatchBytes && rows.Next() {
		var p StoredPage
		var fetched int64
		if err := rows.Scan(&p.ID, &p.URL, &p.Status, &p.ContentType, &fetched, &p.Body, &p.BodyEncoding); err != nil {
			return nil, fmt.Errorf("read pages after id %d: %w", after, rd.describe(err))
		}
		p.FetchedAt = time.UnixMilli(fetched)
		size += len(p.Body)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pages after id %d: %w", after, rd.describe(err))
	}
	return out, nil
}

// PageByURL returns the page recorded for a canonical URL (the form in
// frontier.url), body included, or an error wrapping ErrNoPage.
func (rd *Reader) PageByURL(ctx context.Context, url string) (*StoredPage, error) {
	var p StoredPage
	var fetched int64
	err := rd.queryRow(ctx, `SELECT p.id, p.url, p.status, coalesce(p.content_type, ''), p.fetched_at, p.body,
		coalesce(p.body_encoding, '') FROM frontier f JOIN pages p ON p.url_id = f.id WHERE f.url = ?`, url).
		Scan(&p.ID, &p.URL, &p.Status, &p.ContentType, &fetched, &p.Body, &p.BodyEncoding)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("page %s: %w", url, ErrNoPage)
	}
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", url, rd.describe(err))
	}
	p.FetchedAt = time.UnixMilli(fetched)
	return &p, nil
}

// PageSummary is a page row without its body, long text cut.
type PageSummary struct {
	ID          int64
	URL         string
	FinalURL    string
	Status      int
	ContentType string
	Title       string
	FetchedAt   time.Time
	DurationMS  int64
	Size        int64
	Depth       int
	Cut         []string // the fields cut at maxChars: url, final_url, content_type, title
}

// PageSummaries yields, in id order, up to limit pages with an id above
// after, each text field cut at maxChars characters. The cut is made in
// SQL, so a page with a 10 MB title costs the caller maxChars of it. Rows
// are read as the caller ranges over them; stopping early releases them.
func (rd *Reader) PageSummaries(ctx context.Context, after int64, limit, maxChars int) iter.Seq2[PageSummary, error] {
	q := `SELECT id, substr(url, 1, ?), length(url) > ?, substr(final_url, 1, ?), length(final_url) > ?, status,
		coalesce(substr(content_type, 1, ?), ''), coalesce(length(content_type), 0) > ?,
		coalesce(substr(title, 1, ?), ''), coalesce(length(title), 0) > ?,
		fetched_at, duration_ms, size, depth FROM pages WHERE id > ? ORDER BY id LIMIT ?`
	n := maxChars
	return scanRows(rd, ctx, "read pages", q, []any{n, n, n, n, n, n, n, n, after, limit}, func(rows *sql.Rows) (PageSummary, error) {
		var p PageSummary
		var fetched int64
		var cutURL, cutFinal, cutType, cutTitle bool
		err := rows.Scan(&p.ID, &p.URL, &cutURL, &p.FinalURL, &cutFinal, &p.Status, &p.ContentType, &cutType,
			&p.Title, &cutTitle, &fetched, &p.DurationMS, &p.Size, &p.Depth)
		p.FetchedAt = time.UnixMilli(fetched)
		p.Cut = cutNames([]string{"url", "final_url", "content_type", "title"}, cutURL, cutFinal, cutType, cutTitle)
		return p, err
	})
}

// ItemSummary is an item row, long text cut.
type ItemSummary struct {
	ID          int64
	PageID      int64
	URL         string
	Rule        string
	Index       int
	Data        json.RawMessage // nil when longer than maxJSON
	Errors      json.RawMessage // nil when none, or longer than maxJSON
	ExtractedAt time.Time
	Cut         []string // the fields cut or left out: url, rule, data, errors
}

// ItemSummaries yields, in id order, up to limit items with an id above
// after, of the rule set rule ("" for every set): URL and rule cut at
// maxChars characters, data and errors left out when longer than maxJSON
// bytes. Rows are read as the caller ranges over them; stopping early
// releases them.
func (rd *Reader) ItemSummaries(ctx context.Context, after int64, limit int, rule string, maxChars, maxJSON int) iter.Seq2[ItemSummary, error] {
	n, m := maxChars, maxJSON
	q := `SELECT id, page_id, substr(url, 1, ?), length(url) > ?, substr(rule, 1, ?), length(rule) > ?, idx,
		CASE WHEN octet_length(CAST(data AS TEXT)) > ? THEN NULL ELSE CAST(data AS TEXT) END,
		octet_length(CAST(data AS TEXT)) > ?,
		CASE WHEN octet_length(CAST(errors AS TEXT)) > ? THEN NULL ELSE CAST(errors AS TEXT) END,
		coalesce(octet_length(CAST(errors AS TEXT)), 0) > ?,
		extracted_at FROM items WHERE id > ?`
	args := []any{n, n, n, n, m, m, m, m, after}
	if rule != "" {
		q += ` AND rule = ?`
		args = append(args, rule)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	return scanRows(rd, ctx, "read items", q, args, func(rows *sql.Rows) (ItemSummary, error) {
		var it ItemSummary
		var data, errs sql.NullString
		var at int64
		var cutURL, cutRule, cutData, cutErrs bool
		if err := rows.Scan(&it.ID, &it.PageID, &it.URL, &cutURL, &it.Rule, &cutRule, &it.Index, &data, &cutData,
			&errs, &cutErrs, &at); err != nil {
			return it, err
		}
		if data.Valid {
			it.Data = rawJSON([]byte(data.String))
		}
		if errs.Valid {
			it.Errors = rawJSON([]byte(errs.String))
		}
		it.ExtractedAt = time.UnixMilli(at)
		it.Cut = cutNames([]string{"url", "rule", "data", "errors"}, cutURL, cutRule, cutData, cutErrs)
		return it, nil
	})
}

// scanRows runs query and yields each row as scan reads it; what names
// the reading in errors.
func scanRows[T any](rd *Reader, ctx context.Context, what, query string, args []any, scan func(*sql.Rows) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := rd.query(ctx, query, args...)
		if err != nil {
			yield(zero, fmt.Errorf("%s: %w", what, rd.describe(err)))
			return
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				yield(zero, fmt.Errorf("%s: %w", what, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, fmt.Errorf("%s: %w", what, rd.describe(err)))
		}
	}
}

// cutNames lists the names whose flag is set.
func cutNames(names []string, flags ...bool) []string {
	var out []string
	for i, f := range flags {
		if f {
			out = append(out, names[i])
		}
	}
	return out
}
