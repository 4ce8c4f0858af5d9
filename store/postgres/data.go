package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

// jsonb makes JSON text storable in a jsonb column, which refuses the
// escape \u0000 and unpaired surrogate escapes: a document holding an
// escape is decoded and encoded again (Go writes U+FFFD for a lone
// surrogate), and \u0000 becomes \ufffd.
func jsonb(b []byte) ([]byte, error) {
	if !bytes.Contains(b, []byte(`\u`)) {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return noNUL(out), nil
}

// noNUL replaces the escapes \u0000 of JSON text with \ufffd.
func noNUL(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && bytes.HasPrefix(b[i+2:], []byte("0000")) {
			out = append(out, `\ufffd`...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}

// jsonValue encodes v for a jsonb column, or NULL when empty.
func jsonValue(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonb(b)
}

// insertPages writes the pages of the outcomes that carry one, with their
// links, data and items, and returns how many it wrote. Page rows go in one
// batch (their ids come back); links, data and items, all of new pages,
// go with COPY.
func (db *DB) insertPages(ctx context.Context, tx pgx.Tx, live []*store.Outcome) (int, error) {
	b := &pgx.Batch{}
	var with []*store.Outcome
	for _, o := range live {
		p := o.Page
		if p == nil {
			continue
		}
		var headers any
		if p.Headers != "" {
			h, err := jsonb([]byte(p.Headers))
			if err != nil {
				return 0, fmt.Errorf("headers of %s: %w", o.Lease.URL, err)
			}
			headers = h
		}
		b.Queue(`INSERT INTO pages (url_id, url, final_url, status, content_type, encoding, headers, fetched_at,
			duration_ms, size, truncated, body, body_encoding, content_hash, title, description, canonical,
			meta_robots, lang, depth, fields_truncated)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
			RETURNING id`,
			o.Lease.ID, text(o.Lease.URL), text(p.FinalURL), p.Status, nullText(p.ContentType), nullText(p.Encoding), headers,
			p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), p.Size, p.Truncated, p.Body, nullText(p.BodyEncoding),
			nullText(p.ContentHash), nullText(p.Title), nullText(p.Description), nullText(p.Canonical),
			nullText(p.MetaRobots), nullText(p.Lang), o.Lease.Depth, nullText(strings.Join(p.FieldsTruncated, ",")))
		with = append(with, o)
	}
	if len(with) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(with))
	br := tx.SendBatch(ctx, b)
	for i, o := range with {
		if err := br.QueryRow().Scan(&ids[i]); err != nil {
			br.Close()
			return 0, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
		}
	}
	if err := br.Close(); err != nil {
		return 0, fmt.Errorf("insert pages: %w", err)
	}
	var links, data [][]any
	var items itemRows
	now := time.Now().UnixMilli()
	for i, o := range with {
		seen := make(map[string]bool, len(o.Links))
		for _, l := range o.Links {
			u := text(l.URL)
			if seen[u] {
				continue // the first link to a URL is the one kept, as in SQLite
			}
			seen[u] = true
			links = append(links, []any{ids[i], u, nullText(l.Anchor), l.Nofollow})
		}
		p := o.Page
		if d := p.Data; d != nil {
			jl, err := jsonValue(d.JSONLD, len(d.JSONLD) == 0)
			if err != nil {
				return 0, fmt.Errorf("encode json-ld of %s: %w", p.FinalURL, err)
			}
			og, _ := jsonValue(d.OpenGraph, len(d.OpenGraph) == 0)
			tw, _ := jsonValue(d.Twitter, len(d.Twitter) == 0)
			if jl != nil || og != nil || tw != nil || d.MainText != "" {
				data = append(data, []any{ids[i], jl, og, tw, nullText(d.MainText)})
			}
		}
		if err := items.add(ids[i], p.FinalURL, p.Items, now); err != nil {
			return 0, err
		}
	}
	if err := copyRows(ctx, tx, "links", []string{"from_id", "to_url", "anchor", "nofollow"}, links); err != nil {
		return 0, err
	}
	if err := copyRows(ctx, tx, "page_data", []string{"page_id", "jsonld", "opengraph", "twitter", "main_text"}, data); err != nil {
		return 0, err
	}
	if err := items.copy(ctx, tx); err != nil {
		return 0, err
	}
	if err := db.indexText(ctx, tx, ids); err != nil {
		return 0, err
	}
	return len(with), nil
}

// copyRows writes rows into table with COPY.
func copyRows(ctx context.Context, tx pgx.Tx, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("insert %s: %w", table, err)
	}
	return nil
}

// itemRows are items to write with COPY.
type itemRows [][]any

var itemCols = []string{"page_id", "url", "rule", "idx", "data", "errors", "extracted_at", "truncated"}

func (r *itemRows) add(pageID int64, url string, items []store.Item, now int64) error {
	for _, it := range items {
		data, err := jsonValue(it.Data, false)
		if err != nil {
			return fmt.Errorf("encode item %s of %s: %w", it.Rule, url, err)
		}
		errs, _ := jsonValue(it.Errors, len(it.Errors) == 0)
		*r = append(*r, []any{pageID, text(url), text(it.Rule), it.Index, data, errs, now,
			nullText(strings.Join(it.Truncated, ","))})
	}
	return nil
}

func (r itemRows) copy(ctx context.Context, tx pgx.Tx) error {
	return copyRows(ctx, tx, "items", itemCols, r)
}

// ReplacePageItems replaces, in one transaction, the items of every page
// in pages: the page's existing items of the named rule sets (of every rule
// set when rules is empty) are deleted and the new items inserted.
func (db *DB) ReplacePageItems(ctx context.Context, rules []string, pages []store.PageItems) error {
	ids := make([]int64, len(pages))
	for i, p := range pages {
		ids[i] = p.PageID
	}
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = text(r)
	}
	return db.inTx(ctx, "replace items", func(tx pgx.Tx) error {
		var err error
		if len(names) > 0 {
			_, err = tx.Exec(ctx, `DELETE FROM items WHERE page_id = ANY($1) AND rule = ANY($2)`, ids, names)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM items WHERE page_id = ANY($1)`, ids)
		}
		if err != nil {
			return err
		}
		var rows itemRows
		now := time.Now().UnixMilli()
		for _, p := range pages {
			if err := rows.add(p.PageID, p.URL, p.Items, now); err != nil {
				return err
			}
		}
		return rows.copy(ctx, tx)
	})
}
