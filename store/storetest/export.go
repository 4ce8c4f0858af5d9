package storetest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/store"
)

func testExport(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	ExportFixture(t, s)
	tests := []struct {
		name string
		o    store.ExportOptions
		rows int64
		want []string // substrings of the output
		not  []string // must not occur
	}{
		{"items jsonl", store.ExportOptions{}, 2, []string{
			`"url":"` + Origin + `/product/1","rule":"product","index":0,"extracted_at":"20`,
			`"data":{"in_stock":true,"name":"Lamp \"x\"\n\ufffd","price":12.5,"tags":["a","b"],"url":"http://x/"},"errors":["field \"sku\": no match"]}`,
			`"rule":"other","index":0,`, `"data":{"n":1},"errors":null}`,
		}, nil},
		{"items csv of one rule, fields from the data", store.ExportOptions{Format: "csv", Rule: "product"}, 1, []string{
			"id,page_id,url,rule,index,extracted_at,in_stock,name,price,tags,data.url,errors\n",
			",true,\"Lamp \"\"x\"\"\n\uFFFD\",12.5,\"[\"\"a\"\",\"\"b\"\"]\",http://x/,\"[\"\"field \\\"\"sku\\\"\": no match\"\"]\"\n",
		}, []string{",other,"}},
		{"items csv with given fields", store.ExportOptions{Format: "csv", Fields: []string{"price", "name", "n"}}, 2, []string{
			"id,page_id,url,rule,index,extracted_at,price,name,n,errors\n", ",product,0,", ",other,0,", ",,,1,\n",
		}, nil},
		{"pages jsonl without bodies", store.ExportOptions{Table: "pages"}, 3, []string{
			`"title":"Bad \ufffd title"`, `"headers":{"Content-Type":"text/html; charset=utf-8"}}`,
			`"url":"` + Origin + `/file.pdf"`, `"truncated":false`,
		}, []string{`"body"`, "Café"}},
		{"pages jsonl with bodies", store.ExportOptions{Table: "pages", Bodies: true}, 3, []string{
			`"body":"<h1>Café</h1>"}`, `"body":"{\"sku\":\"AB-1\"}"}`, `"content_type":"application/pdf",`, `"headers":null,"body":null}`,
		}, []string{"%PDF"}},
		{"pages csv", store.ExportOptions{Table: "pages", Format: "csv"}, 3, []string{
			"id,url,final_url,status,content_type,encoding,fetched_at,duration_ms,size,truncated,content_hash,title,",
			",Bad \uFFFD title,",
		}, nil},
		{"links csv", store.ExportOptions{Table: "links", Format: "csv"}, 2, []string{
			"from_id,from_url,to_url,anchor,nofollow\n", "/product/1," + Origin + "/a,go \uFFFD/a,false\n",
		}, nil},
		{"links since the future", store.ExportOptions{Table: "links", Since: time.Now().Add(time.Hour)}, 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := s.Export(ctx, &buf, tt.o)
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
			CheckWellFormed(t, tt.o.Format, out, n)
		})
	}
}

// testExportBodies: bodies stored with each encoding the codec writes are
// exported decoded, by the store that wrote them.
func testExportBodies(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	text := strings.Repeat("<p>Ünïcode text that compresses. </p>", 50)
	var pages []Recorded
	for _, setting := range []string{store.BodyZstd, store.BodyS2, store.BodyGzip, store.BodyIdentity} {
		c, err := store.NewBodyCodec(setting)
		if err != nil {
			t.Fatal(err)
		}
		body, enc := c.Encoder().Encode([]byte(text))
		c.Close()
		pages = append(pages, Recorded{Page: &store.Page{FinalURL: Origin + "/" + setting, Status: 200,
			ContentType: "text/html; charset=utf-8", Body: body, BodyEncoding: enc}})
	}
	CommitPages(t, s, pages...)
	var buf bytes.Buffer
	n, err := s.Export(ctx, &buf, store.ExportOptions{Table: "pages", Bodies: true})
	if err != nil || n != 4 {
		t.Fatalf("Export = %d rows, %v; want 4", n, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var p struct{ URL, Body string }
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatal(err)
		}
		if p.Body != text {
			t.Errorf("%s: body %.40q..., want the page as fetched", p.URL, p.Body)
		}
	}
}

// CheckWellFormed parses an export: every JSON line an object, or CSV
// records all as wide as the header.
func CheckWellFormed(t *testing.T, format, out string, rows int64) {
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

func testExportBadOptions(t *testing.T, h Harness) {
	s := h.Open(t)
	ExportFixture(t, s)
	for _, o := range []store.ExportOptions{{Format: "xml"}, {Table: "frontier"}, {Table: "pages", Rule: "product"},
		{Table: "links", Bodies: true}} {
		if _, err := s.Export(context.Background(), &bytes.Buffer{}, o); err == nil {
			t.Errorf("Export(%+v): no error", o)
		}
	}
}

func testExportCancelled(t *testing.T, h Harness) {
	s := h.Open(t)
	ExportFixture(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Export(ctx, &bytes.Buffer{}, store.ExportOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Export with a cancelled context: error = %v, want context.Canceled", err)
	}
}

// testCSVFormulaInjection: cells that a spreadsheet would run as formulas
// are written with a leading quote in every CSV export; plain numbers keep
// their sign and JSON lines are unchanged.
func testCSVFormulaInjection(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/evil", Status: 200, ContentType: "text/html",
		Title: `=cmd|' /C calc'!A0`, Description: "@SUM(1+1)*cmd|' /C calc'!A0", Lang: "\t=1+1", Canonical: "\r=1",
		Items: []store.Item{{Rule: "r", Data: map[string]any{"a": "+1+1", "b": -5, "c": "-2+3", "d": "-1.5e3", "e": "safe =x"}}}},
		Links: []store.Link{{URL: Origin + "/x", Anchor: "-1+cmd"}}})
	cells := func(table string) map[string]string {
		t.Helper()
		var b bytes.Buffer
		if _, err := s.Export(ctx, &b, store.ExportOptions{Format: "csv", Table: table}); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("%s: %d records, %v:\n%s", table, len(recs), err, b.String())
		}
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = recs[1][i]
		}
		return m
	}
	pages := cells("pages")
	items := cells("items")
	links := cells("links")
	for _, tt := range []struct{ table, col, got, want string }{
		{"pages", "title", pages["title"], `'=cmd|' /C calc'!A0`},
		{"pages", "description", pages["description"], "'@SUM(1+1)*cmd|' /C calc'!A0"},
		{"pages", "lang", pages["lang"], "'\t=1+1"},
		{"pages", "canonical", pages["canonical"], "'\r=1"},
		{"pages", "status", pages["status"], "200"},
		{"items", "a", items["a"], "'+1+1"},
		{"items", "b", items["b"], "-5"},
		{"items", "c", items["c"], "'-2+3"},
		{"items", "d", items["d"], "-1.5e3"},
		{"items", "e", items["e"], "safe =x"},
		{"links", "anchor", links["anchor"], "'-1+cmd"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s.%s = %q, want %q", tt.table, tt.col, tt.got, tt.want)
		}
	}
	var b bytes.Buffer
	if _, err := s.Export(ctx, &b, store.ExportOptions{Format: "jsonl", Table: "pages"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"title":"=cmd|' /C calc'!A0"`) {
		t.Errorf("JSON lines changed the title: %s", b.String())
	}
}
