package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// recordPages records the pages of the outcomes that carry one and returns
// the outcomes whose page is new: their page rows go in one batch (their
// ids come back), links, data and items, all of new pages, with COPY. A
// URL that has a page already (a revisit), or a 304, updates it instead
// (refetch).
func (db *DB) recordPages(ctx context.Context, tx pgx.Tx, live []*store.Outcome, now int64) ([]*store.Outcome, error) {
	b := &pgx.Batch{}
	var tried, again []*store.Outcome
	for _, o := range live {
		p := o.Page
		if p == nil {
			continue
		}
		if o.NotModified {
			again = append(again, o)
			continue
		}
		headers, err := headersValue(p.Headers)
		if err != nil {
			return nil, fmt.Errorf("headers of %s: %w", o.Lease.URL, err)
		}
		b.Queue(`INSERT INTO pages (url_id, url, final_url, status, content_type, encoding, headers, fetched_at,
			duration_ms, size, truncated, body, body_encoding, content_hash, title, description, canonical,
			meta_robots, lang, depth, fields_truncated, simhash, near_duplicate_of, near_duplicate_reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
			ON CONFLICT (url_id) DO NOTHING RETURNING id`,
			o.Lease.ID, text(o.Lease.URL), text(p.FinalURL), p.Status, nullText(p.ContentType), nullText(p.Encoding), headers,
			p.FetchedAt.UnixMilli(), p.Duration.Milliseconds(), p.Size, p.Truncated, p.Body, nullText(p.BodyEncoding),
			nullText(p.ContentHash), nullText(p.Title), nullText(p.Description), nullText(p.Canonical),
			nullText(p.MetaRobots), nullText(p.Lang), o.Lease.Depth, nullText(strings.Join(p.FieldsTruncated, ",")),
			simhashValue(p), nullInt64(p.NearDuplicateOf), nullText(p.NearReason))
		tried = append(tried, o)
	}
	var with []*store.Outcome
	var ids []int64
	if len(tried) > 0 {
		br := tx.SendBatch(ctx, b)
		for _, o := range tried {
			var id int64
			err := br.QueryRow().Scan(&id)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				again = append(again, o) // the URL has a page: a revisit
			case err != nil:
				br.Close()
				return nil, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
			default:
				with = append(with, o)
				ids = append(ids, id)
			}
		}
		if err := br.Close(); err != nil {
			return nil, fmt.Errorf("insert pages: %w", err)
		}
	}
	var rows pageRows
	for i, o := range with {
		if err := rows.add(ids[i], o, now); err != nil {
			return nil, err
		}
	}
	if err := rows.copy(ctx, tx); err != nil {
		return nil, err
	}
	if err := db.indexText(ctx, tx, ids); err != nil {
		return nil, err
	}
	for i, o := range with {
		if err := indexSimHash(ctx, tx, o.Lease.HostID, ids[i], o.Page); err != nil {
			return nil, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
		}
		if o.History != nil {
			if err := addVersion(ctx, tx, ids[i], o.History); err != nil {
				return nil, fmt.Errorf("insert page %s: %w", o.Lease.URL, err)
			}
		}
	}
	for _, o := range again {
		if err := db.refetch(ctx, tx, o, now); err != nil {
			return nil, err
		}
	}
	return with, nil
}

// headersValue is the headers column of a page: its JSON as jsonb, or NULL.
func headersValue(h string) (any, error) {
	if h == "" {
		return nil, nil
	}
	b, err := jsonb([]byte(h))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// pageRows are the links, data and items of pages, to write with COPY.
type pageRows struct {
	links, data [][]any
	items       itemRows
	enc         store.LinkEncoder
	clean       []store.Link
}

// add adds the links, data and items of o's page, whose id is id.
func (r *pageRows) add(id int64, o *store.Outcome, now int64) error {
	if len(o.Links) > 0 {
		// One page_links row per page (store.LinkEncoder); text() as for
		// every text column: a string PostgreSQL stores has no NUL and is
		// valid UTF-8.
		r.clean = r.clean[:0]
		for _, l := range o.Links {
			r.clean = append(r.clean, store.Link{URL: text(l.URL), Anchor: text(l.Anchor), Nofollow: l.Nofollow})
		}
		r.links = append(r.links, []any{id, string(r.enc.Encode(r.clean))})
	}
	p := o.Page
	if d := p.Data; d != nil {
		jl, err := jsonValue(d.JSONLD, len(d.JSONLD) == 0)
		if err != nil {
			return fmt.Errorf("encode json-ld of %s: %w", p.FinalURL, err)
		}
		og, _ := jsonValue(d.OpenGraph, len(d.OpenGraph) == 0)
		tw, _ := jsonValue(d.Twitter, len(d.Twitter) == 0)
		if jl != nil || og != nil || tw != nil || d.MainText != "" {
			r.data = append(r.data, []any{id, jl, og, tw, nullText(d.MainText)})
		}
	}
	return r.items.add(id, p.FinalURL, p.Items, now)
}

// copy writes the rows.
func (r *pageRows) copy(ctx context.Context, tx pgx.Tx) error {
	if err := copyRows(ctx, tx, "page_links", []string{"page_id", "links"}, r.links); err != nil {
		return err
	}
	if err := copyRows(ctx, tx, "page_data", []string{"page_id", "jsonld", "opengraph", "twitter", "main_text"}, r.data); err != nil {
		return err
	}
	return r.items.copy(ctx, tx)
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
