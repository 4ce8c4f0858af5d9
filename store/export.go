package store

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/parse"
)

// ExportOptions say what Export writes.
type ExportOptions struct {
	// Format is "jsonl" (one JSON object per line; the default) or "csv"
	// (RFC 4180 with a header row).
	Format string
	// Table is "items" (the default), "pages", "links", "page_data" or
	// "changes" (what Changes lists).
	Table string
	// Rule restricts an items export to one rule set, a changes export to
	// the changes of its items.
	Rule string
	// Since, when not zero, keeps items extracted, pages fetched, and links
	// of pages fetched at or after it.
	Since time.Time
	// Fields are the data columns of a CSV items export, in order. When
	// empty they are the union of the keys of the exported items' data,
	// sorted. Keys not listed are left out.
	Fields []string
	// Bodies adds each page's body to a pages export, decompressed and
	// decoded to UTF-8. Bodies of types that are not text (PDF, images)
	// are left out.
	Bodies bool
	// After keeps the items or pages with an id above it (see ExportAfter).
	After int64
	// NoHeader leaves out the CSV header row, for rows appended to a file
	// that has it.
	NoHeader bool
	// UpTo, when not zero, keeps the items or pages with an id up to it.
	UpTo int64
	// Limit, when not zero, ends the export after that many rows.
	Limit int64
}

// Check fills in the default Format and Table and returns an error naming
// the first option Export refuses.
func (o *ExportOptions) Check() error {
	if o.Format == "" {
		o.Format = "jsonl"
	}
	if o.Table == "" {
		o.Table = "items"
	}
	switch {
	case o.Format != "jsonl" && o.Format != "csv":
		return fmt.Errorf("format must be jsonl or csv, not %q", o.Format)
	case o.Table != "items" && o.Table != "pages" && o.Table != "links" && o.Table != "page_data" && o.Table != "changes":
		return fmt.Errorf("table must be items, pages, links, page_data or changes, not %q", o.Table)
	case o.Rule != "" && o.Table != "items" && o.Table != "changes":
		return fmt.Errorf("a rule selects items or their changes; it cannot filter the %s table", o.Table)
	case o.Bodies && o.Table != "pages":
		return fmt.Errorf("bodies come with the pages table only, not with %s", o.Table)
	case o.After != 0 && o.Table != "items" && o.Table != "pages":
		return fmt.Errorf("export after an id: items or pages only, not %s", o.Table)
	}
	return nil
}

// exportBatch is how many rows one read of an export fetches. Each batch is
// its own short read transaction, so a long export never holds back the
// crawl's WAL checkpoints; memory holds one row at a time.
const exportBatch = 1000

// Export writes a table to w as JSON lines or CSV and returns the number of
// rows written (the CSV header not counted). It reads through the
// read-only pool, page by page in id order, so it works while a crawl runs
// and its memory use does not grow with the table; rows added after it
// started are not included. Every string written is valid UTF-8: invalid
// bytes in the database become U+FFFD.
//
// Items are written as {"id", "page_id", "url", "rule", "index",
// "extracted_at", "data": {field: value, ...}, "errors": [...] or null}; in
// CSV the data fields become columns of their own (see Fields), a field
// whose name clashes with a fixed column getting the prefix "data.".
// Pages are written without bodies unless Bodies is set. Times are
// RFC 3339 in UTC with milliseconds.
func (rd *Reader) Export(ctx context.Context, w io.Writer, o ExportOptions) (int64, error) {
	n, _, err := rd.ExportAfter(ctx, w, o)
	return n, err
}

// ExportAfter is Export that also returns the id of the last row written
// (o.After when none), so that a feed can continue after it: with
// o.After, only items or pages with a larger id are written. Ids follow
// commit order in a store whose writes are serial (SQLite).
func (rd *Reader) ExportAfter(ctx context.Context, w io.Writer, o ExportOptions) (n, last int64, err error) {
	if err := o.Check(); err != nil {
		return 0, o.After, fmt.Errorf("export: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var rows rowWriter
	if o.Format == "csv" {
		rows = &csvRows{w: csv.NewWriter(bw), noHeader: o.NoHeader}
	} else {
		rows = &jsonRows{w: bw}
	}
	out := &positionRows{rowWriter: rows, last: o.After, limit: o.Limit}
	switch o.Table {
	case "items":
		n, err = rd.exportItems(ctx, out, o)
	case "pages":
		n, err = rd.exportPages(ctx, out, o)
	case "links":
		n, err = rd.exportLinks(ctx, out, o)
	case "page_data":
		n, err = rd.exportPageData(ctx, out, o)
	case "changes":
		n, err = rd.exportChanges(ctx, out, o)
	}
	if errors.Is(err, errLimit) {
		n, err = out.n, nil
	}
	if err == nil {
		err = out.flush()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return n, out.last, fmt.Errorf("export %s: %w", o.Table, err)
	}
	return n, out.last, nil
}

// positionRows passes rows on, remembering the id (first value) of the
// last, and ends the export with errLimit after limit rows.
type positionRows struct {
	rowWriter
	last, n, limit int64
}

// errLimit ends an export at its Limit.
var errLimit = errors.New("export limit reached")

func (p *positionRows) row(vals []any) error {
	if p.limit > 0 && p.n >= p.limit {
		return errLimit
	}
	if id, ok := vals[0].(int64); ok {
		p.last = id
	}
	p.n++
	return p.rowWriter.row(vals)
}

// maxID returns the largest id of table, the end of an export.
func (rd *Reader) maxID(ctx context.Context, table string) (int64, error) {
	var id int64
	if err := rd.queryRow(ctx, `SELECT coalesce(max(id), 0) FROM `+table).Scan(&id); err != nil {
		return 0, rd.describe(err)
	}
	return id, nil
}

// batches runs query with after set to the last key of the previous batch
// until a batch comes back short. scan reads one row and returns its key.
func (rd *Reader) batches(ctx context.Context, query func(ctx context.Context) (*sql.Rows, error), scan func(*sql.Rows) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rows, err := query(ctx)
		if err != nil {
			return rd.describe(err)
		}
		n := 0
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
			n++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return rd.describe(err)
		}
		if n < exportBatch {
			return nil
		}
	}
}

var itemColumns = []string{"id", "page_id", "url", "rule", "index", "extracted_at"}

func (rd *Reader) exportItems(ctx context.Context, out rowWriter, o ExportOptions) (int64, error) {
	end, err := rd.maxID(ctx, "items")
	if err != nil {
		return 0, err
	}
	if o.UpTo > 0 {
		end = min(end, o.UpTo)
	}
	where := ` WHERE id <= ?`
	args := []any{end}
	if o.Rule != "" {
		where += ` AND rule = ?`
		args = append(args, o.Rule)
	}
	if !o.Since.IsZero() {
		where += ` AND extracted_at >= ?`
		args = append(args, o.Since.UnixMilli())
	}
	isCSV := o.Format == "csv"
	fields := o.Fields
	if isCSV && len(fields) == 0 {
		if fields, err = rd.itemKeys(ctx, where, args); err != nil {
			return 0, err
		}
	}
	cols := append([]string(nil), itemColumns...)
	if isCSV {
		for _, f := range fields {
			if containsString(itemColumns, f) || f == "errors" {
				f = "data." + f
			}
			cols = append(cols, f)
		}
		cols = append(cols, "errors")
	} else {
		cols = append(cols, "data", "errors")
	}
	if err := out.header(cols); err != nil {
		return 0, err
	}
	var n int64
	last := o.After
	vals := make([]any, len(cols))
	q := `SELECT id, page_id, url, rule, idx, data, errors, extracted_at FROM items` + where + ` AND id > ? ORDER BY id LIMIT ?`
	err = rd.batches(ctx, func(ctx context.Context) (*sql.Rows, error) {
		return rd.query(ctx, q, append(args, last, exportBatch)...)
	}, func(rows *sql.Rows) error {
		var id, pageID, at int64
		var idx int
		var url, rule string
		var data []byte
		var errs sql.RawBytes
		if err := rows.Scan(&id, &pageID, &url, &rule, &idx, &data, &errs, &at); err != nil {
			return err
		}
		last = id
		vals = append(vals[:0], id, pageID, url, rule, int64(idx), timeString(at))
		if isCSV {
			m, err := decodeObject(data)
			if err != nil {
				return fmt.Errorf("item %d: data: %w", id, err)
			}
			for _, f := range fields {
				vals = append(vals, csvValue(m[f]))
			}
		} else {
			vals = append(vals, rawJSON(data))
		}
		if errs == nil {
			vals = append(vals, nil)
		} else {
			vals = append(vals, rawJSON(errs))
		}
		n++
		return out.row(vals)
	})
	return n, err
}

// itemKeys returns the sorted union of the data keys of the items where
// selects, computed inside the database so that only the keys reach memory.
func (rd *Reader) itemKeys(ctx context.Context, where string, args []any) ([]string, error) {
	rows, err := rd.query(ctx, `SELECT DISTINCT j.key FROM (SELECT data FROM items`+where+`) AS i, `+
		rd.d.JSONKeys("i.data", "j")+` ORDER BY j.key`, args...)
	if err != nil {
		return nil, rd.describe(err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rd.describe(rows.Err())
}

var pageColumns = []string{"id", "url", "final_url", "status", "content_type", "encoding", "fetched_at", "duration_ms",
	"size", "truncated", "content_hash", "title", "description", "canonical", "meta_robots", "lang", "depth", "headers"}

func (rd *Reader) exportPages(ctx context.Context, out rowWriter, o ExportOptions) (int64, error) {
	end, err := rd.maxID(ctx, "pages")
	if err != nil {
		return 0, err
	}
	if o.UpTo > 0 {
		end = min(end, o.UpTo)
	}
	cols := pageColumns
	bodyCols := `NULL, NULL`
	if o.Bodies {
		cols = append(append([]string(nil), pageColumns...), "body")
		bodyCols = `body, body_encoding`
	}
	if err := out.header(cols); err != nil {
		return 0, err
	}
	where := ` WHERE id <= ?`
	args := []any{end}
	if !o.Since.IsZero() {
		where += ` AND fetched_at >= ?`
		args = append(args, o.Since.UnixMilli())
	}
	q := `SELECT id, url, final_url, status, coalesce(content_type, ''), coalesce(encoding, ''), fetched_at, duration_ms,
		size, truncated, coalesce(content_hash, ''), coalesce(title, ''), coalesce(description, ''), coalesce(canonical, ''),
		coalesce(meta_robots, ''), coalesce(lang, ''), depth, headers, ` + bodyCols + ` FROM pages` + where +
		` AND id > ? ORDER BY id LIMIT ?`
	var n int64
	last := o.After
	vals := make([]any, 0, len(cols))
	err = rd.batches(ctx, func(ctx context.Context) (*sql.Rows, error) {
		return rd.query(ctx, q, append(args, last, exportBatch)...)
	}, func(rows *sql.Rows) error {
		var (
			id, fetched, dur, size, depth                    int64
			status                                           int
			trunc                                            bool
			url, final, ctype, enc, hash, title, desc, canon string
			robots, lang                                     string
			headers, body                                    sql.RawBytes
			bodyEnc                                          sql.NullString
		)
		if err := rows.Scan(&id, &url, &final, &status, &ctype, &enc, &fetched, &dur, &size, &trunc, &hash, &title,
			&desc, &canon, &robots, &lang, &depth, &headers, &body, &bodyEnc); err != nil {
			return err
		}
		last = id
		var hdr any
		if headers != nil {
			hdr = rawJSON(headers)
		}
		vals = append(vals[:0], id, url, final, int64(status), ctype, enc, timeString(fetched), dur, size, trunc, hash,
			title, desc, canon, robots, lang, depth, hdr)
		if o.Bodies {
			var text any
			if body != nil && textType(ctype) {
				b, err := DecodeBody(body, bodyEnc.String)
				if err != nil {
					return fmt.Errorf("page %s: %w", url, err)
				}
				s, _ := parse.ToUTF8(b, ctype)
				text = string(s)
			}
			vals = append(vals, text)
		}
		n++
		return out.row(vals)
	})
	return n, err
}

var linkColumns = []string{"from_id", "from_url", "to_url", "anchor", "nofollow"}

func (rd *Reader) exportLinks(ctx context.Context, out rowWriter, o ExportOptions) (int64, error) {
	end, err := rd.maxID(ctx, "pages")
	if err != nil {
		return 0, err
	}
	if err := out.header(linkColumns); err != nil {
		return 0, err
	}
	// The links of a batch of pages at a time, each page's row decoded
	// here rather than through the view: the view cannot be read in order
	// from a point on without a sort of everything after it.
	where := ` WHERE l.page_id <= ?`
	args := []any{end}
	if !o.Since.IsZero() {
		where += ` AND p.fetched_at >= ?`
		args = append(args, o.Since.UnixMilli())
	}
	q := `SELECT l.page_id, p.url, l.links FROM page_links l JOIN pages p ON p.id = l.page_id` +
		where + ` AND l.page_id > ? ORDER BY l.page_id LIMIT ?`
	var n, lastID int64
	vals := make([]any, 0, len(linkColumns))
	err = rd.batches(ctx, func(ctx context.Context) (*sql.Rows, error) {
		return rd.query(ctx, q, append(args, lastID, exportBatch)...)
	}, func(rows *sql.Rows) error {
		var from int64
		var fromURL string
		var data []byte
		if err := rows.Scan(&from, &fromURL, &data); err != nil {
			return err
		}
		lastID = from
		links, err := DecodeLinks(data)
		if err != nil {
			return fmt.Errorf("page %s: %w", fromURL, err)
		}
		slices.SortFunc(links, func(a, b Link) int { return strings.Compare(a.URL, b.URL) })
		for _, l := range links {
			vals = append(vals[:0], from, fromURL, l.URL, l.Anchor, l.Nofollow)
			n++
			if err := out.row(vals); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

var pageDataColumns = []string{"page_id", "url", "jsonld", "opengraph", "twitter", "main_text"}

// exportPageData writes page_data: each HTML page's JSON-LD, OpenGraph and
// Twitter card data (as JSON) and its main text, with the page's URL.
func (rd *Reader) exportPageData(ctx context.Context, out rowWriter, o ExportOptions) (int64, error) {
	end, err := rd.maxID(ctx, "pages")
	if err != nil {
		return 0, err
	}
	if err := out.header(pageDataColumns); err != nil {
		return 0, err
	}
	where := ` WHERE d.page_id <= ?`
	args := []any{end}
	if !o.Since.IsZero() {
		where += ` AND p.fetched_at >= ?`
		args = append(args, o.Since.UnixMilli())
	}
	q := `SELECT d.page_id, p.url, d.jsonld, d.opengraph, d.twitter, ` + rd.d.mainText() + ` FROM page_data d JOIN pages p ON p.id = d.page_id` +
		where + ` AND d.page_id > ? ORDER BY d.page_id LIMIT ?`
	var n, last int64
	vals := make([]any, 0, len(pageDataColumns))
	err = rd.batches(ctx, func(ctx context.Context) (*sql.Rows, error) {
		return rd.query(ctx, q, append(args, last, exportBatch)...)
	}, func(rows *sql.Rows) error {
		var id int64
		var url string
		var jsonld, og, tw sql.RawBytes
		var text sql.NullString
		if err := rows.Scan(&id, &url, &jsonld, &og, &tw, &text); err != nil {
			return err
		}
		last = id
		vals = append(vals[:0], id, url)
		for _, j := range []sql.RawBytes{jsonld, og, tw} {
			if j == nil {
				vals = append(vals, nil)
			} else {
				vals = append(vals, rawJSON(j))
			}
		}
		if text.Valid {
			vals = append(vals, text.String)
		} else {
			vals = append(vals, nil)
		}
		n++
		return out.row(vals)
	})
	return n, err
}

// rowWriter writes rows of values: nil, string, int64, bool or
// json.RawMessage (valid JSON).
type rowWriter interface {
	header(cols []string) error
	row(vals []any) error
	flush() error
}

// jsonRows writes one JSON object per line, keys in column order.
type jsonRows struct {
	w    *bufio.Writer
	keys [][]byte // quoted keys
	buf  []byte
}

func (j *jsonRows) header(cols []string) error {
	j.keys = make([][]byte, len(cols))
	for i, c := range cols {
		j.keys[i] = appendJSONString(nil, c)
	}
	return nil
}

func (j *jsonRows) row(vals []any) error {
	b := append(j.buf[:0], '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(b, j.keys[i]...), ':')
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case string:
			b = appendJSONString(b, x)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case bool:
			b = strconv.AppendBool(b, x)
		case json.RawMessage:
			b = append(b, x...)
		default:
			return fmt.Errorf("export: unexpected value %T", v)
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonRows) flush() error { return nil }

// csvRows writes a header row and then one record per row.
type csvRows struct {
	w   *csv.Writer
	rec []string
	// noHeader leaves out the header row (ExportOptions.NoHeader).
	noHeader bool
}

func (c *csvRows) header(cols []string) error {
	if c.noHeader {
		return nil
	}
	c.rec = c.rec[:0]
	for _, col := range cols {
		c.rec = append(c.rec, csvSafe(col))
	}
	return c.w.Write(c.rec)
}

func (c *csvRows) row(vals []any) error {
	c.rec = c.rec[:0]
	for _, v := range vals {
		var s string
		switch x := v.(type) {
		case nil:
		case string:
			s = validUTF8(x)
		case int64:
			s = strconv.FormatInt(x, 10)
		case bool:
			s = strconv.FormatBool(x)
		case json.RawMessage:
			s = string(x)
		default:
			return fmt.Errorf("export: unexpected value %T", v)
		}
		c.rec = append(c.rec, csvSafe(s))
	}
	return c.w.Write(c.rec)
}

// plainNumber matches a decimal number: data a spreadsheet reads as a
// number, never as a formula, even with a leading sign.
var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// csvSafe defuses CSV formula injection (OWASP's rule): a cell that starts
// with =, +, -, @, a tab or a carriage return gets a leading single quote,
// so that a spreadsheet opening the export shows a crawled title such as
// =cmd|' /C calc'!A0 as text instead of running it. Plain numbers such as
// -5 keep their sign.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !plainNumber.MatchString(s) {
			return "'" + s
		}
	}
	return s
}

func (c *csvRows) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; HTML characters are not escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError {
			// An invalid byte, or U+FFFD itself (which a store that
			// refuses invalid text kept in its place): written the same.
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' { // valid JSON, but not valid JavaScript
			b = append(b, s[start:i]...)
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// rawJSON returns stored JSON as valid UTF-8 JSON: as it is when valid,
// else as a JSON string of its text.
func rawJSON(b []byte) json.RawMessage {
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	if out, ok := canonicalJSON(b); ok {
		return out
	}
	return appendJSONString(nil, string(b))
}

// canonicalJSON writes the JSON text b in one form whichever store kept
// it (SQLite keeps the text as written, PostgreSQL's jsonb its own
// spacing and key order): no white space, object keys sorted, numbers as
// written, strings as appendJSONString writes them. It reports false when
// b is not JSON.
func canonicalJSON(b []byte) (json.RawMessage, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil || d.More() {
		return nil, false
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, false
	}
	return appendJSONValue(nil, v), true
}

func appendJSONValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, x)
	case json.Number:
		return append(b, x...)
	case string:
		return appendJSONString(b, x)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONValue(b, x[k])
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// decodeObject decodes an item's data, keeping numbers as written.
func decodeObject(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// csvValue formats a JSON value for a CSV cell: strings as they are,
// numbers as written, lists and objects as compact JSON, null as empty.
func csvValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return json.RawMessage(b)
}

// timeString formats unix milliseconds as RFC 3339 in UTC.
func timeString(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// textType reports whether a Content-Type is text that can be exported as
// a string.
func textType(contentType string) bool {
	if strings.TrimSpace(contentType) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/javascript", "application/x-javascript",
		"application/ecmascript", "application/x-ndjson", "application/rss+xml", "application/atom+xml":
		return true
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
