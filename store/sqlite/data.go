package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/store"
)

type dataStmts struct {
	insertData, insertItem *sql.Stmt
}

func (db *DB) prepareData(ctx context.Context) error {
	var err error
	if db.dst.insertData, err = db.w.PrepareContext(ctx, `INSERT INTO page_data (page_id, jsonld, opengraph, twitter,
		main_text_zstd, main_text_in_body) VALUES (?, ?, ?, ?, ?, ?)`); err != nil {
		return err
	}
	db.dst.insertItem, err = db.w.PrepareContext(ctx, `INSERT INTO items (page_id, url, rule, idx, data, errors, extracted_at,
		truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	return err
}

func (d *dataStmts) close() {
	for _, st := range []*sql.Stmt{d.insertData, d.insertItem} {
		if st != nil {
			st.Close()
		}
	}
}

func jsonOrNull(v any, empty bool) (any, error) {
	if empty {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (db *DB) insertData(ctx context.Context, tx *sql.Tx, pageID int64, p *store.Page) error {
	if d := p.Data; d != nil {
		jl, err := jsonOrNull(d.JSONLD, len(d.JSONLD) == 0)
		if err != nil {
			return fmt.Errorf("encode json-ld of %s: %w", p.FinalURL, err)
		}
		og, _ := jsonOrNull(d.OpenGraph, len(d.OpenGraph) == 0)
		tw, _ := jsonOrNull(d.Twitter, len(d.Twitter) == 0)
		if jl != nil || og != nil || tw != nil || d.MainText != "" {
			z, inBody := db.mainText(p)
			if _, err := tx.StmtContext(ctx, db.dst.insertData).ExecContext(ctx, pageID, jl, og, tw, z, inBody); err != nil {
				return fmt.Errorf("insert page data %s: %w", p.FinalURL, describe(err))
			}
		}
	}
	return db.insertItems(ctx, tx, pageID, p.FinalURL, p.Items)
}

func (db *DB) insertItems(ctx context.Context, tx *sql.Tx, pageID int64, url string, items []store.Item) error {
	if len(items) == 0 {
		return nil
	}
	st := tx.StmtContext(ctx, db.dst.insertItem)
	now := time.Now().UnixMilli()
	for _, it := range items {
		data, err := json.Marshal(it.Data)
		if err != nil {
			return fmt.Errorf("encode item %s of %s: %w", it.Rule, url, err)
		}
		errs, _ := jsonOrNull(it.Errors, len(it.Errors) == 0)
		if _, err := st.ExecContext(ctx, pageID, url, it.Rule, it.Index, string(data), errs, now,
			nullStr(strings.Join(it.Truncated, ","))); err != nil {
			return fmt.Errorf("insert item %s of %s: %w", it.Rule, url, describe(err))
		}
	}
	return nil
}

// ReplacePageItems replaces, in one transaction, the items of every page
// in pages: the page's existing items of the named rule sets (of every rule
// set when rules is empty) are deleted and the new items inserted. A page
// with no new items is left with none of those rule sets' items.
func (db *DB) ReplacePageItems(ctx context.Context, rules []string, pages []store.PageItems) error {
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
