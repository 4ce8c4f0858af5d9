package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Kinds of Change.
const (
	ChangeAppeared    = "appeared"    // a URL answered with a page (2xx or 3xx) for the first time, or again after an error
	ChangeChanged     = "changed"     // its page differs from the one before
	ChangeDisappeared = "disappeared" // it answers 404 or 410 after a page
)

// Change is one version of a URL, read as a change from the version
// before it.
type Change struct {
	Kind       string
	URL        string
	At         time.Time // when the version was fetched
	Status     int
	PrevStatus int   // 0 when the URL had no version before
	VersionID  int64 // versions.id
	PrevID     int64 // the version before, 0 if none
	// Fields are the values of the items extracted from the two versions
	// that differ, by rule, item and field, in that order: a field of an
	// item that appeared has Old nil, of an item that went away New nil.
	Fields []FieldChange
}

// FieldChange is one item field whose value differs between two versions
// of a page.
type FieldChange struct {
	Rule  string `json:"rule"`
	Index int    `json:"index"`
	Field string `json:"field"`
	Old   any    `json:"old"` // decoded JSON values; nil when absent
	New   any    `json:"new"`
}

// ChangesOptions say which changes Changes lists.
type ChangesOptions struct {
	// Since, when not zero, keeps the versions fetched at or after it.
	Since time.Time
	// Rule keeps the changes of the items of one rule set: versions whose
	// items of the rule differ from the version's before (a change of the
	// page that leaves them as they were is left out).
	Rule string
}

// changesBatch is how many versions one read of Changes takes.
const changesBatch = 500

// Changes yields the URLs' changes recorded as versions (recrawl), in the
// order they were recorded: what appeared, what changed (with the item
// fields that changed), what disappeared. The first version of a URL that
// answered an error is no change, and is left out. Versions are read in
// batches, each a short read transaction, so memory stays flat and a
// crawl is never blocked; versions recorded after it started are not
// included.
func (rd *Reader) Changes(ctx context.Context, o ChangesOptions) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		var end int64
		var first sql.NullInt64
		err := rd.queryRow(ctx, `SELECT coalesce(max(id), 0), (SELECT min(id) FROM versions WHERE fetched_at >= ?)
			FROM versions`, o.Since.UnixMilli()).Scan(&end, &first)
		if err != nil {
			yield(Change{}, fmt.Errorf("read changes: %w", rd.describe(err)))
			return
		}
		if !first.Valid {
			return
		}
		after := first.Int64 - 1
		for after < end {
			batch, last, err := rd.changes(ctx, o, after, end)
			if err != nil {
				yield(Change{}, fmt.Errorf("read changes: %w", err))
				return
			}
			for _, c := range batch {
				if !yield(c, nil) {
					return
				}
			}
			after = last
		}
	}
}

// changes reads the versions after the id after, up to end, one batch: the
// changes among them and the last id read.
func (rd *Reader) changes(ctx context.Context, o ChangesOptions, after, end int64) ([]Change, int64, error) {
	rows, err := rd.query(ctx, `SELECT v.id, v.url, v.fetched_at, v.status, coalesce(v.prev_id, 0), coalesce(p.status, 0)
		FROM versions v LEFT JOIN versions p ON p.id = v.prev_id
		WHERE v.id > ? AND v.id <= ? AND v.fetched_at >= ? ORDER BY v.id LIMIT ?`,
		after, end, o.Since.UnixMilli(), changesBatch)
	if err != nil {
		return nil, 0, rd.describe(err)
	}
	var out []Change
	last, n := end, 0
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&c.VersionID, &c.URL, &at, &c.Status, &c.PrevID, &c.PrevStatus); err != nil {
			rows.Close()
			return nil, 0, err
		}
		n++
		last = c.VersionID
		c.At = time.UnixMilli(at)
		if c.Kind = changeKind(c.PrevID != 0, c.PrevStatus, c.Status); c.Kind != "" {
			out = append(out, c)
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, 0, rd.describe(err)
	}
	if n < changesBatch {
		last = end
	}
	if err := rd.fieldChanges(ctx, out, o.Rule); err != nil {
		return nil, 0, err
	}
	if o.Rule != "" {
		out = slices.DeleteFunc(out, func(c Change) bool { return c.Fields == nil })
	}
	return out, last, nil
}

// changeKind is the kind of change a version is, from the status of the
// version before (when there is one) and its own; "" for none.
func changeKind(hasPrev bool, prev, status int) string {
	page := status < 400
	switch {
	case (!hasPrev || prev >= 400) && page:
		return ChangeAppeared
	case !hasPrev:
		return ""
	case prev < 400 && (status == 404 || status == 410):
		return ChangeDisappeared
	}
	return ChangeChanged
}

// itemKey names one item of a version.
type itemKey struct {
	rule string
	idx  int
}

// fieldChanges fills in the item fields that differ between each change's
// version and the one before, for the items of rule (every rule when "").
func (rd *Reader) fieldChanges(ctx context.Context, cs []Change, rule string) error {
	if len(cs) == 0 {
		return nil
	}
	ids := make([]any, 0, 2*len(cs))
	for _, c := range cs {
		ids = append(ids, c.VersionID)
		if c.PrevID != 0 {
			ids = append(ids, c.PrevID)
		}
	}
	q := `SELECT version_id, rule, idx, data FROM version_items WHERE version_id IN (?` + strings.Repeat(`, ?`, len(ids)-1) + `)`
	if rule != "" {
		q += ` AND rule = ?`
		ids = append(ids, rule)
	}
	rows, err := rd.query(ctx, q, ids...)
	if err != nil {
		return rd.describe(err)
	}
	defer rows.Close()
	items := map[int64]map[itemKey]map[string]any{}
	for rows.Next() {
		var id int64
		var k itemKey
		var data []byte
		if err := rows.Scan(&id, &k.rule, &k.idx, &data); err != nil {
			return err
		}
		m, err := decodeObject(data)
		if err != nil {
			return fmt.Errorf("items of version %d: %w", id, err)
		}
		if items[id] == nil {
			items[id] = map[itemKey]map[string]any{}
		}
		items[id][k] = m
	}
	if err := rows.Err(); err != nil {
		return rd.describe(err)
	}
	for i := range cs {
		cs[i].Fields = diffItems(items[cs[i].PrevID], items[cs[i].VersionID])
	}
	return nil
}

// diffItems lists the fields whose values differ between the items of two
// versions, by rule, item and field.
func diffItems(old, cur map[itemKey]map[string]any) []FieldChange {
	var keys []itemKey
	for k := range old {
		keys = append(keys, k)
	}
	for k := range cur {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b itemKey) int {
		if c := strings.Compare(a.rule, b.rule); c != 0 {
			return c
		}
		return a.idx - b.idx
	})
	var out []FieldChange
	for _, k := range keys {
		o, n := old[k], cur[k]
		var fields []string
		for f := range o {
			fields = append(fields, f)
		}
		for f := range n {
			if _, ok := o[f]; !ok {
				fields = append(fields, f)
			}
		}
		slices.Sort(fields)
		for _, f := range fields {
			ov, inOld := o[f]
			nv, inNew := n[f]
			if inOld == inNew && reflect.DeepEqual(ov, nv) {
				continue
			}
			out = append(out, FieldChange{Rule: k.rule, Index: k.idx, Field: f, Old: ov, New: nv})
		}
	}
	return out
}

var changeColumns = []string{"version_id", "prev_version_id", "url", "kind", "fetched_at", "status", "prev_status", "fields"}

// exportChanges writes Changes as rows: the fields that changed as a JSON
// array of {rule, index, field, old, new}.
func (rd *Reader) exportChanges(ctx context.Context, out rowWriter, o ExportOptions) (int64, error) {
	if err := out.header(changeColumns); err != nil {
		return 0, err
	}
	var n int64
	vals := make([]any, 0, len(changeColumns))
	for c, err := range rd.Changes(ctx, ChangesOptions{Since: o.Since, Rule: o.Rule}) {
		if err != nil {
			return n, err
		}
		fields, err := json.Marshal(c.Fields)
		if err != nil {
			return n, fmt.Errorf("version %d: %w", c.VersionID, err)
		}
		if c.Fields == nil {
			fields = []byte("[]")
		}
		var prev any
		if c.PrevID != 0 {
			prev = c.PrevID
		}
		var prevStatus any
		if c.PrevStatus != 0 {
			prevStatus = int64(c.PrevStatus)
		}
		vals = append(vals[:0], c.VersionID, prev, c.URL, c.Kind, timeString(c.At.UnixMilli()), int64(c.Status), prevStatus,
			json.RawMessage(fields))
		n++
		if err := out.row(vals); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Versions of a URL, newest first, as explain shows them.
type Version struct {
	ID          int64
	FetchedAt   time.Time
	Status      int
	ContentHash string
	Size        int64
	Items       int
	BodyStored  bool
}

// Versions returns up to n versions of a canonical URL, newest first, and
// how many it has.
func (rd *Reader) Versions(ctx context.Context, url string, n int) ([]Version, int, error) {
	var total int
	if err := rd.queryRow(ctx, `SELECT count(*) FROM versions WHERE url_id = (SELECT id FROM frontier WHERE url = ?)`,
		url).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("versions of %s: %w", url, rd.describe(err))
	}
	if total == 0 || n <= 0 {
		return nil, total, nil
	}
	var out []Version
	for v, err := range scanRows(rd, ctx, "versions of "+url, `SELECT id, fetched_at, status, coalesce(content_hash, ''), size,
		(SELECT count(*) FROM version_items WHERE version_id = versions.id), body IS NOT NULL FROM versions
		WHERE url_id = (SELECT id FROM frontier WHERE url = ?) ORDER BY id DESC LIMIT ?`, []any{url, n},
		func(rows *sql.Rows) (Version, error) {
			var v Version
			var at int64
			err := rows.Scan(&v.ID, &at, &v.Status, &v.ContentHash, &v.Size, &v.Items, &v.BodyStored)
			v.FetchedAt = time.UnixMilli(at)
			return v, err
		}) {
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, total, nil
}
