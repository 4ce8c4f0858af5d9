package storetest

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crawler-dev/crawler/store"
)

// linkRow is a row of the links view.
type linkRow struct {
	To, Anchor string
	Nofollow   bool
}

// linksOf returns the rows of the links view for page id, by target.
func linksOf(t *testing.T, s Store, id int64) []linkRow {
	t.Helper()
	rows, err := s.SQL().Query(s.Rebind(`SELECT to_url, anchor, nofollow FROM links WHERE from_id = ? ORDER BY to_url`), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []linkRow
	for rows.Next() {
		var r linkRow
		var anchor sql.NullString
		if err := rows.Scan(&r.To, &anchor, &r.Nofollow); err != nil {
			t.Fatal(err)
		}
		r.Anchor = anchor.String
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testLinksView: the links of a page, stored in one row, read as rows of
// the links view with their anchors as written (JSON's special characters
// included) and invalid UTF-8 as U+FFFD, the first of those to one URL
// kept; a page without links has none.
func testLinksView(t *testing.T, h Harness) {
	s := h.Open(t)
	ids := CommitPages(t, s,
		Recorded{Page: &store.Page{FinalURL: Origin + "/odd", Status: 200}, Links: []store.Link{
			{URL: Origin + "/q?a=1&b=%22x%22", Anchor: "say \"hi\" \\ back\tslash\nnew \x01 line"},
			{URL: Origin + "/u", Anchor: "caf\u00e9 \u2028 \xff", Nofollow: true},
			{URL: Origin + "/none"},
			{URL: Origin + "/u", Anchor: "the second link to /u"},
		}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/empty", Status: 200}})
	want := []linkRow{
		{To: Origin + "/none"},
		{To: Origin + "/q?a=1&b=%22x%22", Anchor: "say \"hi\" \\ back\tslash\nnew \x01 line"},
		{To: Origin + "/u", Anchor: "caf\u00e9 \u2028 \ufffd", Nofollow: true},
	}
	if diff := cmp.Diff(want, linksOf(t, s, ids[Origin+"/odd"])); diff != "" {
		t.Errorf("links of /odd (-want +got):\n%s", diff)
	}
	if got := linksOf(t, s, ids[Origin+"/empty"]); len(got) != 0 {
		t.Errorf("links of /empty = %v, want none", got)
	}
	in, n, err := s.Inbound(context.Background(), Origin+"/u", 5)
	wantIn := []store.InboundLink{{From: Origin + "/odd", Anchor: "caf\u00e9 \u2028 \ufffd", Nofollow: true}}
	if diff := cmp.Diff(wantIn, in); diff != "" || n != 1 || err != nil {
		t.Errorf("Inbound(/u) = %d, %v (-want +got):\n%s", n, err, diff)
	}
	var nofollow int
	if err := s.SQL().QueryRow(`SELECT count(*) FROM links WHERE nofollow`).Scan(&nofollow); err != nil || nofollow != 1 {
		t.Errorf("nofollow links = %d, %v; want 1", nofollow, err)
	}
}

// testInboundLinkIndex: "who links to X" has the same answer with the
// index of link targets and without, turned on after pages were stored
// (it is built from them) and kept up to date by Commit while on.
func testInboundLinkIndex(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	SmallCrawl(t, s)
	check := func(when string, want []store.InboundLink) {
		t.Helper()
		got, n, err := s.Inbound(ctx, Origin+"/a", 10)
		if err != nil || n != len(want) {
			t.Errorf("%s: Inbound(/a) = %d links, %v; want %d", when, n, err, len(want))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Inbound(/a) (-want +got):\n%s", when, diff)
		}
	}
	home := store.InboundLink{From: Origin + "/", Anchor: "A page"}
	check("without the index", []store.InboundLink{home})
	if err := s.SetInboundLinkIndex(ctx, true); err != nil {
		t.Fatal(err)
	}
	check("with the index built from the stored links", []store.InboundLink{home})
	CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/c", Status: 200},
		Links: []store.Link{{URL: Origin + "/a", Nofollow: true}, {URL: Origin + "/z"}}})
	both := []store.InboundLink{home, {From: Origin + "/c", Nofollow: true}}
	check("with the index kept by Commit", both)
	if err := s.SetInboundLinkIndex(ctx, true); err != nil {
		t.Fatal(err)
	}
	check("with the index on again", both)
	if err := s.SetInboundLinkIndex(ctx, false); err != nil {
		t.Fatal(err)
	}
	check("without the index again", both)
}

// CheckMigratedLinks checks, in a store just migrated from a row per link,
// the links the old table held: pages 1 and 2 of http://a.example/ linked
// 1 -> /2 (anchor `Two "quoted"`), 1 -> /x (no anchor, nofollow) and
// 2 -> /x (anchor X). They read the same through the links view, and the
// inbound link index is built from them.
func CheckMigratedLinks(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	var got []linkRow
	for _, id := range []int64{1, 2} {
		got = append(got, linksOf(t, s, id)...)
	}
	want := []linkRow{{To: "http://a.example/2", Anchor: `Two "quoted"`}, {To: "http://a.example/x", Nofollow: true},
		{To: "http://a.example/x", Anchor: "X"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("links after the migration (-want +got):\n%s", diff)
	}
	if err := s.SetInboundLinkIndex(ctx, true); err != nil {
		t.Fatal(err)
	}
	in, n, err := s.Inbound(ctx, "http://a.example/x", 10)
	wantIn := []store.InboundLink{{From: "http://a.example/", Nofollow: true}, {From: "http://a.example/2", Anchor: "X"}}
	if diff := cmp.Diff(wantIn, in); diff != "" || n != 2 || err != nil {
		t.Errorf("Inbound(/x) = %d, %v (-want +got):\n%s", n, err, diff)
	}
}
