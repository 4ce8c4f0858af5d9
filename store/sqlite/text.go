package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// registerFuncs adds the crawler's SQL functions to a connection:
// decompress(data [, encoding]) returns the text of data stored
// compressed: page_data.main_text_zstd (zstd, the default encoding), or a
// body with its body_encoding, as in decompress(body, body_encoding);
// body_text(body, body_encoding, content_type) derives a page's main text
// from its stored body. NULL gives NULL.
func registerFuncs(c *sqlite3.SQLiteConn) error {
	if err := c.RegisterFunc("decompress", decompress, true); err != nil {
		return fmt.Errorf("register decompress: %w", err)
	}
	if err := c.RegisterFunc("body_text", bodyText, true); err != nil {
		return fmt.Errorf("register body_text: %w", err)
	}
	return nil
}

// bodyText is the SQL function body_text(body, body_encoding,
// content_type): the visible main text of a stored HTML body, as the crawl
// reads it (parse.MainText). NULL gives NULL.
func bodyText(body any, encoding, contentType string) (any, error) {
	if body == nil {
		return nil, nil
	}
	b, ok := body.([]byte)
	if !ok {
		return nil, fmt.Errorf("body_text: want a blob, got %T", body)
	}
	html, err := store.DecodeBody(b, encoding)
	if err != nil {
		return nil, fmt.Errorf("body_text: %w", err)
	}
	text, err := parse.MainText(html, contentType)
	if err != nil {
		return nil, fmt.Errorf("body_text: %w", err)
	}
	return text, nil
}

func decompress(data any, encoding ...string) (any, error) {
	var b []byte
	switch v := data.(type) {
	case nil:
		return nil, nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return nil, fmt.Errorf("decompress: want a blob, got %T", data)
	}
	enc := store.BodyZstd
	if len(encoding) > 1 {
		return nil, errors.New("decompress: takes the data and at most an encoding")
	}
	if len(encoding) == 1 && encoding[0] != "" {
		enc = encoding[0]
	}
	out, err := store.DecodeBody(b, enc)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	return string(out), nil
}

// mainText returns the main_text_zstd and main_text_in_body values of a
// page's text: none kept when the page's HTML body is stored (the text is
// derived from it when read), else the text compressed.
func (db *DB) mainText(p *store.Page) (compressed any, inBody int) {
	if p.Data.MainText == "" {
		return nil, 0
	}
	if p.Body != nil && p.BodyEncoding != "" {
		return nil, 1
	}
	z, _ := db.text.Encoder().Encode([]byte(p.Data.MainText))
	return z, 0
}

// mainTextSQL reads the main text of the page_data row d of the page p:
// derived from the body, or decompressed; rows written before migration
// 0010 hold it raw.
const mainTextSQL = `CASE WHEN d.main_text_in_body = 1 THEN body_text(p.body, p.body_encoding, p.content_type)
	ELSE coalesce(d.main_text, decompress(d.main_text_zstd)) END`

// SetFullTextIndex creates or drops pages_fts, an FTS5 index over the
// pages' title and main text (with their URL stored beside it), so that
// SELECT url FROM pages_fts WHERE pages_fts MATCH 'warranty' finds pages
// by their words. The index keeps no copy of the text (an FTS5 contentless
// table): title and main_text read as NULL, url as stored. Created on a
// database with pages, it indexes them first; while it exists each page is
// indexed in the transaction that records it. It needs SQLite built with
// FTS5 (the sqlite_fts5 build tag, which make build and make test set).
func (db *DB) SetFullTextIndex(ctx context.Context, on bool) error {
	if !on {
		db.fts.Store(false)
		if _, err := db.w.ExecContext(ctx, `DROP TABLE IF EXISTS pages_fts`); err != nil {
			return fmt.Errorf("full-text index: %w", describe(err))
		}
		return nil
	}
	var has int
	if err := db.w.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&has); err != nil {
		return fmt.Errorf("full-text index: %w", describe(err))
	}
	if has == 0 {
		return errors.New("parse.full_text_index: this crawler was built without SQLite FTS5: " +
			"build it with make build, or go build -tags sqlite_fts5 ./cmd/crawler")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("full-text index: %w", describe(err))
	}
	defer tx.Rollback()
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'pages_fts'`).Scan(&exists); err != nil {
		return fmt.Errorf("full-text index: %w", describe(err))
	}
	if exists == 0 {
		if _, err := tx.ExecContext(ctx, `CREATE VIRTUAL TABLE pages_fts USING fts5(url UNINDEXED, title, main_text,
			content='', contentless_unindexed=1, contentless_delete=1)`); err != nil {
			return fmt.Errorf("full-text index: create: %w", describe(err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pages_fts (rowid, url, title, main_text)
			SELECT p.id, p.url, p.title, `+mainTextSQL+` FROM pages p LEFT JOIN page_data d ON d.page_id = p.id
			WHERE p.title IS NOT NULL OR d.main_text_in_body = 1 OR d.main_text IS NOT NULL OR d.main_text_zstd IS NOT NULL`); err != nil {
			return fmt.Errorf("full-text index: index stored pages: %w", describe(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("full-text index: %w", describe(err))
	}
	db.fts.Store(true)
	return nil
}

// indexText adds a recorded page to pages_fts when the index is on.
func (db *DB) indexText(ctx context.Context, tx *sql.Tx, pageID int64, url string, p *store.Page) error {
	if !db.fts.Load() {
		return nil
	}
	var text string
	if p.Data != nil {
		text = p.Data.MainText
	}
	if p.Title == "" && strings.TrimSpace(text) == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO pages_fts (rowid, url, title, main_text) VALUES (?, ?, ?, ?)`,
		pageID, url, nullStr(p.Title), nullStr(text)); err != nil {
		return fmt.Errorf("full-text index %s: %w", url, describe(err))
	}
	return nil
}

// reindexText replaces a changed page's entry in pages_fts when the index
// is on.
func (db *DB) reindexText(ctx context.Context, tx *sql.Tx, pageID int64, url string, p *store.Page) error {
	if !db.fts.Load() {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM pages_fts WHERE rowid = ?`, pageID); err != nil {
		return fmt.Errorf("full-text index %s: %w", url, describe(err))
	}
	return db.indexText(ctx, tx, pageID, url, p)
}
