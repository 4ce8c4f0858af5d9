package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"
)

const fixtureOrigin = "http://127.0.0.2:8080"

// commitPages records each page as the done outcome of its own URL
// (FinalURL) through Add, Claim and Commit, as a crawl does, and returns
// the page ids by URL.
func commitPages(t *testing.T, db *DB, pages ...*Page) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var urls []NewURL
	for _, p := range pages {
		urls = append(urls, NewURL{URL: p.FinalURL, Origin: fixtureOrigin, Source: "seed", State: StateQueued})
	}
	added, err := db.Add(ctx, urls)
	if err != nil {
		t.Fatal(err)
	}
	var hostID int64
	for id := range added {
		hostID = id
	}
	leases, _, err := db.Claim(ctx, hostID, len(pages), time.Minute)
	if err != nil || len(leases) != len(pages) {
		t.Fatalf("claim = %d leases, %v; want %d", len(leases), err, len(pages))
	}
	byURL := map[string]Lease{}
	for _, l := range leases {
		byURL[l.URL] = l
	}
	var batch []Outcome
	for _, p := range pages {
		if p.FetchedAt.IsZero() {
			p.FetchedAt = time.Now()
		}
		batch = append(batch, Outcome{Lease: byURL[p.FinalURL], State: StateDone, Status: p.Status, Attempted: true, Page: p})
	}
	if _, err := db.Commit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	rows, err := db.Reader().Query(`SELECT id, url FROM pages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var u string
		if err := rows.Scan(&id, &u); err != nil {
			t.Fatal(err)
		}
		ids[u] = id
	}
	return ids
}

func TestPagesWithBodies(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	var pages []*Page
	want := []string{}
	for i := range 7 {
		p := &Page{FinalURL: fmt.Sprintf("%s/p/%d", fixtureOrigin, i), Status: 200, ContentType: "text/html",
			Body: []byte(fmt.Sprintf("<p>%d</p>", i))}
		switch i {
		case 2:
			p.Status = 404 // an error page, even with a body, is not extracted
		case 4:
			p.Body = nil // not stored (noindex, duplicate)
		default:
			want = append(want, p.FinalURL)
		}
		pages = append(pages, p)
	}
	commitPages(t, db, pages...)
	var got []string
	var after int64
	for range 10 {
		batch, err := db.PagesWithBodies(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) > 2 {
			t.Fatalf("PagesWithBodies(limit 2) returned %d pages", len(batch))
		}
		if len(batch) == 0 {
			break
		}
		for _, p := range batch {
			if p.ID <= after {
				t.Fatalf("page id %d after %d: not in id order", p.ID, after)
			}
			after = p.ID
			if string(p.Body) == "" || p.Status != 200 {
				t.Errorf("page %s: status %d, body %q", p.URL, p.Status, p.Body)
			}
			got = append(got, p.URL)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PagesWithBodies pages = %v, want %v", got, want)
	}
}

func TestPageByURL(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u := fixtureOrigin + "/product/1"
	commitPages(t, db, &Page{FinalURL: u, Status: 200, ContentType: "text/html; charset=utf-8", Body: []byte("x"), BodyEncoding: "identity"})
	p, err := db.PageByURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != u || string(p.Body) != "x" || p.BodyEncoding != "identity" || p.ContentType != "text/html; charset=utf-8" {
		t.Errorf("PageByURL(%s) = %+v", u, p)
	}
	if _, err := db.PageByURL(ctx, fixtureOrigin+"/nope"); !errors.Is(err, ErrNoPage) {
		t.Errorf("PageByURL(unknown) error = %v, want ErrNoPage", err)
	}
}

func TestReplacePageItems(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u := fixtureOrigin + "/product/1"
	ids := commitPages(t, db, &Page{FinalURL: u, Status: 200, Items: []Item{
		{Rule: "a", Index: 0, Data: map[string]any{"v": "a0"}},
		{Rule: "b", Index: 0, Data: map[string]any{"v": "b0"}},
		{Rule: "b", Index: 1, Data: map[string]any{"v": "b1"}},
	}})
	id := ids[u]
	items := func() string {
		rows, err := db.Reader().Query(`SELECT rule, idx, data, coalesce(errors, '') FROM items WHERE page_id = ?`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var rule, data, errs string
			var idx int
			if err := rows.Scan(&rule, &idx, &data, &errs); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s%d=%s%s", rule, idx, data, errs))
		}
		sort.Strings(out)
		return fmt.Sprint(out)
	}
	tests := []struct {
		name  string
		rules []string
		items []Item
		want  string
	}{
		{"one rule", []string{"b"}, []Item{{Rule: "b", Index: 0, Data: map[string]any{"v": "new"}, Errors: []string{"e"}}},
			`[a0={"v":"a0"} b0={"v":"new"}["e"]]`},
		{"all rules", nil, []Item{{Rule: "c", Index: 2, Data: map[string]any{"n": 1}}}, `[c2={"n":1}]`},
		{"none left", nil, nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := db.ReplacePageItems(ctx, tt.rules, []PageItems{{PageID: id, URL: u, Items: tt.items}}); err != nil {
				t.Fatal(err)
			}
			if got := items(); got != tt.want {
				t.Errorf("items after ReplacePageItems(%v) = %s, want %s", tt.rules, got, tt.want)
			}
		})
	}
}
