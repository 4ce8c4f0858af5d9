// Package migrations holds the numbered SQL files that define the crawler's
// SQLite schema. Files are named NNNN_name.sql, applied in order, once each,
// and never edited after release: a change is a new file with the next number.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
