package runner

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/store/storetest"
)

// export returns a database's tables as JSON lines, for comparisons.
func export(t *testing.T, database, name string) string {
	t.Helper()
	ctx := context.Background()
	db, err := OpenReader(ctx, database, name, store.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b bytes.Buffer
	for _, table := range []string{"pages", "items", "links", "page_data"} {
		if _, err := db.Export(ctx, &b, store.ExportOptions{Table: table, Bodies: table == "pages"}); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestCopyRoundTrip copies a SQLite crawl into PostgreSQL and back into a
// new SQLite file: every table keeps its rows and ids, the exports are the
// same, a URL leased in the source is queued in each copy, and a crawl
// there cannot be copied over.
func TestCopyRoundTrip(t *testing.T) {
	url := pgtest.URL(t)
	name := pgtest.Name(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "crawl.db")
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.ExportFixture(t, src)
	// Main text the SQLite store derives from the body, and text it keeps
	// compressed: the copies get both as text.
	html := []byte("<html><body><main><p>Kept in the body.</p></main></body></html>")
	text, err := parse.MainText(html, "text/html")
	if err != nil {
		t.Fatal(err)
	}
	codec, err := store.NewBodyCodec(store.BodyZstd)
	if err != nil {
		t.Fatal(err)
	}
	body, enc := codec.Encoder().Encode(html)
	codec.Close()
	storetest.CommitPages(t, src,
		storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/text/1", Status: 200, ContentType: "text/html",
			Body: body, BodyEncoding: enc, Data: &store.PageData{MainText: text}}},
		storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + "/text/2", Status: 200,
			Data: &store.PageData{MainText: "Kept compressed."}}})
	storetest.SmallCrawl(t, src)
	// One URL left leased, as a crawl stopped by kill -9 leaves it.
	added, err := src.Add(ctx, []store.NewURL{{URL: storetest.Origin + "/leased", Origin: storetest.Origin, Source: "seed",
		State: store.StateQueued}})
	if err != nil {
		t.Fatal(err)
	}
	for id := range added {
		hs, err := src.LeaseHosts(ctx, store.HostQuery{IDs: []int64{id}, Limit: 1}, time.Hour)
		if err != nil || len(hs) != 1 {
			t.Fatalf("lease = %v, %v", hs, err)
		}
		if ls, _, err := src.Claim(ctx, store.HostToken{ID: id, Token: hs[0].Token}, 10, time.Hour); err != nil || len(ls) == 0 {
			t.Fatalf("claim = %v, %v", ls, err)
		}
	}
	src.Close()
	want := export(t, path, "")
	if !strings.Contains(want, `"main_text":"Kept in the body."`) || !strings.Contains(want, `"main_text":"Kept compressed."`) {
		t.Fatalf("the source's export lacks its main texts:\n%s", want)
	}

	counts, err := Copy(ctx, path, "", url, name)
	if err != nil {
		t.Fatalf("copy to PostgreSQL: %v (%+v)", err, counts)
	}
	for _, c := range counts {
		if c.Source != c.Copied {
			t.Errorf("%s: %d rows, %d copied", c.Table, c.Source, c.Copied)
		}
		if c.Table == "pages" && c.Source != 7 {
			t.Errorf("pages: %d, want 7", c.Source)
		}
	}
	if got := export(t, url, name); got != want {
		t.Errorf("export of the PostgreSQL copy differs:\n%s\nwant\n%s", got, want)
	}
	back := filepath.Join(dir, "back.db")
	if _, err := Copy(ctx, url, name, back, ""); err != nil {
		t.Fatalf("copy back to SQLite: %v", err)
	}
	if got := export(t, back, ""); got != want {
		t.Errorf("export of the copy back differs:\n%s\nwant\n%s", got, want)
	}
	for _, db := range []struct{ database, name string }{{url, name}, {back, ""}} {
		r, err := OpenReader(ctx, db.database, db.name, store.ReaderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		u, err := r.Explain(ctx, storetest.Origin+"/leased", 0)
		if err != nil || u.State != store.StateQueued {
			t.Errorf("%s: the leased URL = %+v, %v; want it queued", db.database, u, err)
		}
		r.Close()
	}
	// A crawl already there is not overwritten.
	if _, err := Copy(ctx, path, "", back, ""); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("copy over a crawl = %v, want it refused", err)
	}
}
