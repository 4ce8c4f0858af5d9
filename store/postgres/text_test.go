package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/storetest"
)

// TestFullTextIndex: pages_fts finds pages by the words of their title and
// main text, those stored before it was turned on and those recorded
// after; turning it on again changes nothing, off drops it.
func TestFullTextIndex(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	page := func(path, title, text string) storetest.Recorded {
		return storetest.Recorded{Page: &store.Page{FinalURL: storetest.Origin + path, Status: 200, Title: title,
			Data: &store.PageData{MainText: text}}}
	}
	storetest.CommitPages(t, db, page("/before", "Lamp", "Two years of warranty."), page("/other", "Chair", "Oak."))
	if err := db.SetFullTextIndex(ctx, true); err != nil {
		t.Fatal(err)
	}
	storetest.CommitPages(t, db, page("/after", "Warranty terms", "Read them."), page("/later", "Table", "Pine."))
	if err := db.SetFullTextIndex(ctx, true); err != nil {
		t.Fatalf("turned on again: %v", err)
	}
	match := func(q string) []string {
		rows, err := db.w.Query(ctx, `SELECT url FROM pages_fts WHERE doc @@ websearch_to_tsquery('simple', $1) ORDER BY url`, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var u string
			rows.Scan(&u)
			out = append(out, u)
		}
		return out
	}
	if got, want := match("warranty"), []string{storetest.Origin + "/after", storetest.Origin + "/before"}; !slices.Equal(got, want) {
		t.Errorf("warranty = %q, want %q", got, want)
	}
	if got := match("pine"); !slices.Equal(got, []string{storetest.Origin + "/later"}) {
		t.Errorf("pine = %q", got)
	}
	if err := db.SetFullTextIndex(ctx, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec(ctx, `SELECT 1 FROM pages_fts`); err == nil {
		t.Error("pages_fts still there after turning the index off")
	}
	storetest.CommitPages(t, db, page("/off", "Off", "Not indexed."))
}
