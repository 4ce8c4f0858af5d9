package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// ftsDoc is the SQL of a page's search document: its title (weighted
// above the text) and main text, with the language-neutral 'simple'
// configuration, as SQLite's FTS5 tokenizer does not stem either.
const ftsDoc = `setweight(to_tsvector('simple', coalesce(p.title, '')), 'A') ||
	to_tsvector('simple', coalesce(d.main_text, ''))`

// SetFullTextIndex creates or drops pages_fts, PostgreSQL's twin of the
// SQLite store's FTS5 index: one row per page with its URL and a tsvector
// of its title and main text, under a GIN index, so that
//
//	SELECT url FROM pages_fts WHERE doc @@ websearch_to_tsquery('simple', 'warranty')
//
// finds pages by their words. Created on a database with pages, it
// indexes them first; while it exists each page is indexed in the
// transaction that records it. Workers starting together create it once
// (an advisory lock orders them).
func (db *DB) SetFullTextIndex(ctx context.Context, on bool) error {
	err := db.inTx(ctx, "full-text index", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('crawler pages_fts'))`); err != nil {
			return err
		}
		if !on {
			_, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pages_fts`)
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS pages_fts (
			page_id bigint PRIMARY KEY REFERENCES pages (id),
			url     text     NOT NULL,
			doc     tsvector NOT NULL)`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE INDEX IF NOT EXISTS pages_fts_doc ON pages_fts USING gin (doc)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO pages_fts (page_id, url, doc)
			SELECT p.id, p.url, `+ftsDoc+` FROM pages p LEFT JOIN page_data d ON d.page_id = p.id
			WHERE p.title IS NOT NULL OR d.main_text IS NOT NULL
			ON CONFLICT (page_id) DO NOTHING`)
		return err
	})
	if err != nil {
		return err
	}
	db.fts.Store(on)
	return nil
}

// indexText adds the pages ids, just recorded in tx, to pages_fts when the
// index is on.
func (db *DB) indexText(ctx context.Context, tx pgx.Tx, ids []int64) error {
	if !db.fts.Load() || len(ids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO pages_fts (page_id, url, doc)
		SELECT p.id, p.url, `+ftsDoc+` FROM pages p LEFT JOIN page_data d ON d.page_id = p.id
		WHERE p.id = ANY($1) AND (p.title IS NOT NULL OR d.main_text IS NOT NULL)`, ids); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return nil
}

// reindexText replaces a changed page's entry in pages_fts when the index
// is on.
func (db *DB) reindexText(ctx context.Context, tx pgx.Tx, pageID int64) error {
	if !db.fts.Load() {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM pages_fts WHERE page_id = $1`, pageID); err != nil {
		return fmt.Errorf("full-text index: %w", err)
	}
	return db.indexText(ctx, tx, []int64{pageID})
}
