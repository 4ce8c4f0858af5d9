package sqlite

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/storetest"
)

// firstColumn returns the first column of every row of a statement run as
// crawler query runs it.
func firstColumn(t *testing.T, db *DB, q string) []string {
	t.Helper()
	rows, err := db.UserQuery(context.Background(), q, 0)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		s, _ := store.JSONValue(vals[0]).(string)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// TestMainTextCompressed: a page whose HTML body is stored keeps no copy
// of its main text, one without keeps it zstd-compressed; both read back
// as text through the page_text view, the SQL functions and export, and a
// row written raw before the change reads the same way.
func TestMainTextCompressed(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	text := strings.Repeat("The lamp comes with a two-year warranty. ", 200)
	html := []byte("<html><head><title>Lampe</title></head><body><nav>Menu</nav><main><h1>Lampe</h1>" +
		"<p>Garantie: zwei Jahre \xe9t\xe9.</p></main></body></html>")
	const htmlType = "text/html; charset=iso-8859-1"
	htmlText, err := parse.MainText(html, htmlType)
	if err != nil || !strings.Contains(htmlText, "Garantie: zwei Jahre été.") || strings.Contains(htmlText, "Menu") {
		t.Fatalf("parse.MainText = %q, %v", htmlText, err)
	}
	codec, err := store.NewBodyCodec(store.BodyZstd)
	if err != nil {
		t.Fatal(err)
	}
	defer codec.Close()
	body, enc := codec.Encoder().Encode(html)
	ids := storetest.CommitPages(t, db,
		storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/new", Status: 200, Title: "New",
			Data: &store.PageData{MainText: text}}},
		storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/old", Status: 200, Title: "Old"}},
		storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/with-body", Status: 200, Title: "Lampe",
			ContentType: htmlType, Body: body, BodyEncoding: enc, Data: &store.PageData{MainText: htmlText}}})
	if _, err := db.w.ExecContext(ctx, `INSERT INTO page_data (page_id, main_text) VALUES (?, 'written raw')`,
		ids[storetest.Origin+"/old"]); err != nil {
		t.Fatal(err)
	}
	var raw, zlen int
	if err := db.w.QueryRowContext(ctx, `SELECT count(main_text), sum(length(main_text_zstd)) FROM page_data
		WHERE page_id = ?`, ids[storetest.Origin+"/new"]).Scan(&raw, &zlen); err != nil {
		t.Fatal(err)
	}
	if raw != 0 || zlen == 0 || zlen > len(text)/10 {
		t.Errorf("page_data: %d raw texts, %d compressed bytes for %d bytes of text; want the text compressed only", raw, zlen, len(text))
	}
	var kept, inBody int
	if err := db.w.QueryRowContext(ctx, `SELECT count(main_text) + count(main_text_zstd), sum(main_text_in_body)
		FROM page_data WHERE page_id = ?`, ids[storetest.Origin+"/with-body"]).Scan(&kept, &inBody); err != nil {
		t.Fatal(err)
	}
	if kept != 0 || inBody != 1 {
		t.Errorf("page with a stored body: %d copies of its text, in body %d; want none, 1", kept, inBody)
	}
	if got := firstColumn(t, db, `SELECT main_text FROM page_text ORDER BY page_id`); !slices.Equal(got, []string{text, "written raw", htmlText}) {
		t.Errorf("page_text = %.60q", got)
	}
	if got := firstColumn(t, db, `SELECT body_text(body, body_encoding, content_type) FROM pages WHERE body IS NOT NULL`); !slices.Equal(got, []string{htmlText}) {
		t.Errorf("body_text = %q, want %q", got, htmlText)
	}
	if got := firstColumn(t, db, `SELECT decompress(main_text_zstd) FROM page_data WHERE main_text_zstd IS NOT NULL`); !slices.Equal(got, []string{text}) {
		t.Errorf("decompress(main_text_zstd) = %.60q", got)
	}
	if got := firstColumn(t, db, `SELECT decompress(body, body_encoding) FROM pages WHERE body IS NOT NULL`); len(got) != 1 || !strings.HasPrefix(got[0], "<html>") {
		t.Errorf("decompress(body, body_encoding) = %q, want the HTML", got)
	}
	var buf bytes.Buffer
	if n, err := db.Export(ctx, &buf, store.ExportOptions{Table: "page_data"}); err != nil || n != 3 {
		t.Fatalf("export page_data = %d rows, %v", n, err)
	}
	if out := buf.String(); !strings.Contains(out, `"main_text":"`+text+`"`) || !strings.Contains(out, `"main_text":"written raw"`) ||
		!strings.Contains(out, "Garantie: zwei Jahre été.") {
		t.Errorf("export page_data lacks the texts:\n%.300s", out)
	}
	if _, err := db.UserQuery(ctx, `SELECT decompress(x'00112233')`, 0); err == nil || !strings.Contains(err.Error(), "decompress") {
		t.Errorf("decompress of garbage: %v, want an error naming decompress", err)
	}
}

// TestFullTextIndex: pages_fts finds pages by the words of their title and
// main text, those stored before it was turned on and those recorded
// after; turning it off drops it.
func TestFullTextIndex(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	page := func(path, title, text string) storetest.Recorded {
		return storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + path, Status: 200, Title: title,
			Data: &store.PageData{MainText: text}}}
	}
	storetest.CommitPages(t, db, page("/before", "Lamp", "Two years of warranty."), page("/other", "Chair", "Oak."))
	err := db.SetFullTextIndex(ctx, true)
	if err != nil && strings.Contains(err.Error(), "without SQLite FTS5") {
		t.Skipf("built without the sqlite_fts5 tag (make test sets it): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	storetest.CommitPages(t, db, page("/after", "Warranty terms", "Read them."), page("/later", "Table", "Pine."))
	match := func(q string) []string {
		return firstColumn(t, db, `SELECT url FROM pages_fts WHERE pages_fts MATCH '`+q+`' ORDER BY url`)
	}
	if got, want := match("warranty"), []string{storetest.Origin + "/after", storetest.Origin + "/before"}; !slices.Equal(got, want) {
		t.Errorf("MATCH warranty = %q, want %q", got, want)
	}
	if got := match("title:oak"); len(got) != 0 {
		t.Errorf("MATCH title:oak = %q, want none (oak is in the text)", got)
	}
	if got := match("pine"); !slices.Equal(got, []string{storetest.Origin + "/later"}) {
		t.Errorf("MATCH pine = %q", got)
	}
	if err := db.SetFullTextIndex(ctx, true); err != nil {
		t.Fatalf("turned on again: %v", err)
	}
	if got := match("pine"); len(got) != 1 {
		t.Errorf("after turning it on again, MATCH pine = %q: pages indexed twice?", got)
	}
	if err := db.SetFullTextIndex(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserQuery(ctx, `SELECT url FROM pages_fts`, 0); err == nil {
		t.Error("pages_fts still there after turning the index off")
	}
	storetest.CommitPages(t, db, page("/off", "Off", "Not indexed."))
}
