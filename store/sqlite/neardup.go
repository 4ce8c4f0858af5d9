package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/crawler-dev/crawler/store"
)

// This file is the SQLite side of near-duplicates: the band index of page
// SimHashes (simhash_bands) and the lookup through it.

// simhashValue is the simhash column of a page: its SimHash as a signed
// 64-bit integer, or NULL.
func simhashValue(p *store.Page) any {
	if !p.HasSimHash {
		return nil
	}
	return int64(p.SimHash)
}

// indexSimHash adds the bands of the page's SimHash to the index of its
// host, unless it has none or is a near-duplicate itself.
func (db *DB) indexSimHash(ctx context.Context, tx *sql.Tx, hostID, pageID int64, p *store.Page) error {
	if !p.HasSimHash || p.NearDuplicateOf != 0 || hostID == 0 {
		return nil
	}
	for _, k := range store.NearBandKeys(p.SimHash) {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO simhash_bands (host_id, key, page_id) VALUES (?, ?, ?)`,
			hostID, k, pageID); err != nil {
			return fmt.Errorf("index simhash: %w", describe(err))
		}
	}
	return nil
}
