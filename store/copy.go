package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Kind is the type of a column as a copy between stores carries it.
type Kind int

// Column kinds: SQLite and PostgreSQL spell them differently (INTEGER
// flags and booleans, TEXT and jsonb, BLOB and bytea).
const (
	Int  Kind = iota // int64
	Text             // string
	Blob             // []byte
	Bool             // bool
	JSON             // string holding JSON
)

// CopyColumn is one column of a CopyTable.
type CopyColumn struct {
	Name string
	Kind Kind
}

// CopyTable is a table of the schema every store shares, as crawler copy
// moves it: its columns (those of a crawl's data; leases are not copied:
// every URL leased in the source is queued in the copy) and the order
// its rows are read in.
type CopyTable struct {
	Name    string
	Columns []CopyColumn
	Order   string
}

func cols(spec string) []CopyColumn {
	var out []CopyColumn
	for _, f := range strings.Fields(spec) {
		name, kind, _ := strings.Cut(f, ":")
		k := map[string]Kind{"": Int, "t": Text, "b": Blob, "bool": Bool, "j": JSON}[kind]
		out = append(out, CopyColumn{Name: name, Kind: k})
	}
	return out
}

// CopyTables are the tables crawler copy moves, parents first.
var CopyTables = []CopyTable{
	{"workers", cols("id hostname:t pid started_at heartbeat_at lease_ms stopped_at hosts_held pages"), "id"},
	{"hosts", cols("id origin:t queued robots_status robots_body:b robots_fetched_at robots_expires_at robots_error:t " +
		"robots_failures crawl_delay_ms next_fetch_at backoff_level failures delay_ms latency_ms state:t reason:t pages " +
		"errors updated_at next_allowed_at next_revisit_at"), "id"},
	{"frontier", cols("id url:t host_id depth chain parent_id source:t state:t reason:t path_limited:bool status attempts " +
		"claims redirects next_attempt_at lease_until last_error:t lastmod discovered_at updated_at worker next_fetch_at " +
		"revisit_interval_ms revisits unchanged not_modified fetch_claims"), "id"},
	{"pages", cols("id url_id url:t final_url:t status content_type:t encoding:t headers:j fetched_at duration_ms size " +
		"truncated:bool body:b body_encoding:t content_hash:t title:t description:t canonical:t meta_robots:t lang:t depth " +
		"fields_truncated:t simhash near_duplicate_of near_duplicate_reason:t"), "id"},
	{"page_links", cols("page_id links:j"), "page_id"},
	{"page_data", cols("page_id jsonld:j opengraph:j twitter:j main_text:t"), "page_id"},
	{"items", cols("id page_id url:t rule:t idx data:j errors:j extracted_at truncated:t"), "id"},
	{"runs", cols("id started_at ended_at outcome:t config:t"), "id"},
	{"versions", cols("id url_id url:t prev_id fetched_at status final_url:t content_hash:t size body:b body_encoding:t"), "id"},
	{"version_items", cols("version_id rule:t idx data:j"), "version_id, rule, idx"},
	{"simhash_bands", cols("host_id key page_id"), "host_id, key, page_id"},
	{"crawl_settings", cols("grp:t value:t recorded_at"), "grp"},
}

// CopyRows reads one table's rows for a copy, each as values of its
// columns' kinds (nil for NULL).
type CopyRows struct {
	rows *sql.Rows
	t    CopyTable
	dest []any
	vals []any
	err  error
}

// ReadTable reads t's rows in its order through the read pool.
func (rd *Reader) ReadTable(ctx context.Context, t CopyTable) (*CopyRows, error) {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	q := `SELECT ` + strings.Join(names, ", ") + ` FROM ` + t.Name + ` ORDER BY ` + t.Order
	if t.Name == "page_data" {
		// The store may keep the main text compressed or derive it from
		// the body (Dialect.MainText): the copy gets it as text.
		for i, n := range names {
			names[i] = "d." + n
			if n == "main_text" {
				names[i] = rd.d.mainText()
			}
		}
		q = `SELECT ` + strings.Join(names, ", ") + ` FROM page_data d JOIN pages p ON p.id = d.page_id ORDER BY d.page_id`
	}
	rows, err := rd.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Name, rd.describe(err))
	}
	r := &CopyRows{rows: rows, t: t, dest: make([]any, len(t.Columns)), vals: make([]any, len(t.Columns))}
	for i, c := range t.Columns {
		switch c.Kind {
		case Int:
			r.dest[i] = new(sql.NullInt64)
		case Text, JSON:
			r.dest[i] = new(sql.NullString)
		case Blob:
			r.dest[i] = new([]byte)
		case Bool:
			r.dest[i] = new(sql.NullBool)
		}
	}
	return r, nil
}

// Next reads the next row; it returns false at the end or on an error
// (see Err).
func (r *CopyRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if r.err = r.rows.Scan(r.dest...); r.err != nil {
		return false
	}
	for i, d := range r.dest {
		switch v := d.(type) {
		case *sql.NullInt64:
			r.vals[i] = nil
			if v.Valid {
				r.vals[i] = v.Int64
			}
		case *sql.NullString:
			r.vals[i] = nil
			if v.Valid {
				r.vals[i] = v.String
			}
		case *[]byte:
			r.vals[i] = nil
			if *v != nil {
				r.vals[i] = append([]byte(nil), *v...)
			}
		case *sql.NullBool:
			r.vals[i] = nil
			if v.Valid {
				r.vals[i] = v.Bool
			}
		}
	}
	return true
}

// Values returns the current row's values; they are valid until Next.
func (r *CopyRows) Values() []any { return r.vals }

// Err returns the error that ended the rows.
func (r *CopyRows) Err() error {
	if r.err != nil {
		return fmt.Errorf("read %s: %w", r.t.Name, r.err)
	}
	if err := r.rows.Err(); err != nil {
		return fmt.Errorf("read %s: %w", r.t.Name, err)
	}
	return nil
}

// Close releases the rows.
func (r *CopyRows) Close() error { return r.rows.Close() }

// CountRows returns the number of rows of table.
func (rd *Reader) CountRows(ctx context.Context, table string) (int64, error) {
	var n int64
	if err := rd.queryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", table, rd.describe(err))
	}
	return n, nil
}
