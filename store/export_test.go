package store

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// exportFixture records three pages (HTML with items and links, a PDF, a
// JSON document), with invalid UTF-8 in a title, an anchor and an item.
func exportFixture(t *testing.T) *DB {
	t.Helper()
	db := openTest(t)
	commitPages(t, db,
		&Page{FinalURL: fixtureOrigin + "/product/1", Status: 200, ContentType: "text/html; charset=utf-8",
			Title: "Bad \xff title", Headers: `{"Content-Type":"text/html; charset=utf-8"}`,
			Body: []byte("<h1>Café</h1>"), Size: 14, Items: []Item{
				{Rule: "product", Data: map[string]any{"name": "Lamp \"x\"\n\xfe", "price": 12.5, "url": "http://x/",
					"tags": []any{"a", "b"}, "in_stock": true}, Errors: []string{`field "sku": no match`}},
				{Rule: "other", Data: map[string]any{"n": 1}},
			}},
		&Page{FinalURL: fixtureOrigin + "/file.pdf", Status: 200, ContentType: "application/pdf", Body: []byte("%PDF-\x00\xff")},
		&Page{FinalURL: fixtureOrigin + "/api/1.json", Status: 200, ContentType: "application/json", Body: []byte(`{"sku":"AB-1"}`)},
	)
	ctx := context.Background()
	var id int64
	db.Reader().QueryRowContext(ctx, `SELECT id FROM pages WHERE url LIKE '%/product/1'`).Scan(&id)
	for _, to := range []string{"/a", "/b"} {
		if _, err := db.w.ExecContext(ctx, `INSERT INTO links (from_id, to_url, anchor) VALUES (?, ?, ?)`,
			id, fixtureOrigin+to, "go \xff"+to); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// identityBody stands in for crawl.DecodeBody (store cannot import crawl).
func identityBody(b []byte, enc string) ([]byte, error) {
	if enc != "" {
		return nil, fmt.Errorf("unexpected body encoding %q", enc)
	}
	return b, nil
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	db := exportFixture(t)
	tests := []struct {
		name string
		o    ExportOptions
		rows int64
		want []string // substrings of the output
		not  []string // must not occur
	}{
		{"items jsonl", ExportOptions{}, 2, []string{
			`"url":"` + fixtureOrigin + `/product/1","rule":"product","index":0,"extracted_at":"20`,
			`"data":{"in_stock":true,"name":"Lamp \"x\"\n\ufffd","price":12.5,"tags":["a","b"],"url":"http://x/"},"errors":["field \"sku\": no match"]}`,
			`"rule":"other","index":0,`, `"data":{"n":1},"errors":null}`,
		}, nil},
		{"items csv of one rule, fields from the data", ExportOptions{Format: "csv", Rule: "product"}, 1, []string{
			"id,page_id,url,rule,index,extracted_at,in_stock,name,price,tags,data.url,errors\n",
			",true,\"Lamp \"\"x\"\"\n\uFFFD\",12.5,\"[\"\"a\"\",\"\"b\"\"]\",http://x/,\"[\"\"field \\\"\"sku\\\"\": no match\"\"]\"\n",
		}, []string{",other,"}},
		{"items csv with given fields", ExportOptions{Format: "csv", Fields: []string{"price", "name", "n"}}, 2, []string{
			"id,page_id,url,rule,index,extracted_at,price,name,n,errors\n", ",product,0,", ",other,0,", ",,,1,\n",
		}, nil},
		{"pages jsonl without bodies", ExportOptions{Table: "pages"}, 3, []string{
			`"title":"Bad \ufffd title"`, `"headers":{"Content-Type":"text/html; charset=utf-8"}}`,
			`"url":"` + fixtureOrigin + `/file.pdf"`, `"truncated":false`,
		}, []string{`"body"`, "Café"}},
		{"pages jsonl with bodies", ExportOptions{Table: "pages", DecodeBody: identityBody}, 3, []string{
			`"body":"<h1>Café</h1>"}`, `"body":"{\"sku\":\"AB-1\"}"}`, `"content_type":"application/pdf",`, `"headers":null,"body":null}`,
		}, []string{"%PDF"}},
		{"pages csv", ExportOptions{Table: "pages", Format: "csv"}, 3, []string{
			"id,url,final_url,status,content_type,encoding,fetched_at,duration_ms,size,truncated,content_hash,title,",
			",Bad \uFFFD title,",
		}, nil},
		{"links csv", ExportOptions{Table: "links", Format: "csv"}, 2, []string{
			"from_id,from_url,to_url,anchor,nofollow\n", "/product/1," + fixtureOrigin + "/a,go \uFFFD/a,false\n",
		}, nil},
		{"links since the future", ExportOptions{Table: "links", Since: time.Now().Add(time.Hour)}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := db.Export(ctx, &buf, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if n != tt.rows {
				t.Errorf("Export(%+v) = %d rows, want %d\n%s", tt.o, n, tt.rows, out)
			}
			if !utf8.ValidString(out) {
				t.Errorf("Export(%+v) wrote invalid UTF-8:\n%q", tt.o, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("Export(%+v) output lacks %q:\n%s", tt.o, w, out)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(out, w) {
					t.Errorf("Export(%+v) output contains %q:\n%s", tt.o, w, out)
				}
			}
			checkWellFormed(t, tt.o.Format, out, n)
		})
	}
}

// checkWellFormed parses an export: every JSON line an object, or CSV
// records all as wide as the header.
func checkWellFormed(t *testing.T, format, out string, rows int64) {
	t.Helper()
	if format == "csv" {
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("export is not valid CSV: %v", err)
		}
		if int64(len(recs)) != rows+1 {
			t.Errorf("CSV has %d records, want header + %d rows", len(recs), rows)
		}
		return
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		lines = nil
	}
	if int64(len(lines)) != rows {
		t.Errorf("JSONL has %d lines, want %d", len(lines), rows)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("line is not a JSON object: %v\n%s", err, l)
		}
	}
}

func TestExportSince(t *testing.T) {
	ctx := context.Background()
	db := exportFixture(t)
	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	if _, err := db.w.ExecContext(ctx, `UPDATE items SET extracted_at = ? WHERE rule = 'other'`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE pages SET fetched_at = ? WHERE url LIKE '%.pdf'`, old); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour)
	for _, tt := range []struct {
		table string
		want  int64
	}{{"items", 1}, {"pages", 2}, {"links", 2}} {
		n, err := db.Export(ctx, &bytes.Buffer{}, ExportOptions{Table: tt.table, Since: since})
		if err != nil || n != tt.want {
			t.Errorf("Export(%s since a day ago) = %d, %v; want %d", tt.table, n, err, tt.want)
		}
	}
}

func TestExportBadOptions(t *testing.T) {
	db := exportFixture(t)
	for _, o := range []ExportOptions{{Format: "xml"}, {Table: "frontier"}, {Table: "pages", Rule: "product"},
		{Table: "links", DecodeBody: identityBody}} {
		if _, err := db.Export(context.Background(), &bytes.Buffer{}, o); err == nil {
			t.Errorf("Export(%+v): no error", o)
		}
	}
}

// heapWriter discards what it is given, counting lines and recording the
// largest HeapInuse seen at each write.
type heapWriter struct {
	lines int64
	bytes int64
	peak  uint64
}

func (w *heapWriter) Write(p []byte) (int, error) {
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	w.bytes += int64(len(p))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peak = max(w.peak, ms.HeapInuse)
	return len(p), nil
}

// TestExportLargeFlatMemory exports 120,000 items (inserted with SQL, 120
// per page) as JSONL and CSV and logs the heap in use before, at its peak
// during, and after each export. It asserts only a generous bound on the
// growth: an export that held its rows would need far more.
func TestExportLargeFlatMemory(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const pages, perPage = 1000, 120
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO frontier (id, url, depth, source, state, discovered_at, updated_at)
		SELECT i, 'http://127.0.0.2/product/' || i, 1, 'link', 'done', 0, 0 FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO pages (id, url_id, url, final_url, status, fetched_at, duration_ms, size, depth)
		SELECT i, i, 'http://127.0.0.2/product/' || i, 'http://127.0.0.2/product/' || i, 200, 1700000000000, 5, 1000, 1 FROM n`,
	} {
		if _, err := db.w.ExecContext(ctx, q, pages); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		INSERT INTO items (page_id, url, rule, idx, data, extracted_at)
		SELECT i / ? + 1, 'http://127.0.0.2/product/' || (i / ? + 1), 'product', i % ?,
			json_object('name', 'Product ' || i || ' with a longer name', 'price', i * 0.01, 'sku', 'SK-' || i,
				'in_stock', json(CASE WHEN i % 5 = 0 THEN 'false' ELSE 'true' END)), 1700000000000 + i FROM n`,
		pages*perPage, perPage, perPage, perPage); err != nil {
		t.Fatal(err)
	}
	const total = pages * perPage
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.HeapInuse
			w := &heapWriter{}
			n, err := db.Export(ctx, w, ExportOptions{Format: format, Rule: "product"})
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			t.Logf("%s: %d items, %.1f MB written; HeapInuse before %.1f MB, peak %.1f MB, after %.1f MB",
				format, n, float64(w.bytes)/1e6, float64(before)/1e6, float64(w.peak)/1e6, float64(ms.HeapInuse)/1e6)
			wantLines := int64(total)
			if format == "csv" {
				wantLines++
			}
			if n != total || w.lines != wantLines {
				t.Errorf("exported %d rows in %d lines, want %d rows in %d lines", n, w.lines, total, wantLines)
			}
			if w.peak > before && w.peak-before > 64<<20 {
				t.Errorf("heap grew by %.1f MB during the export, want < 64 MB", float64(w.peak-before)/1e6)
			}
		})
	}
}

func TestExportCancelled(t *testing.T) {
	db := exportFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.Export(ctx, &bytes.Buffer{}, ExportOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Export with a cancelled context: error = %v, want context.Canceled", err)
	}
}
