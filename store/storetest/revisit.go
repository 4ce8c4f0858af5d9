package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// fetchedOnce records /a and /b of Origin as done 200 pages, each with its
// own body hash, validators, a link and an item, each due for a revisit at
// the time given. It returns the host id.
func fetchedOnce(t *testing.T, s Store, dueA, dueB time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	added, err := s.Add(ctx, []store.NewURL{queued("/a", 0), queued("/b", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	ls, _, err := s.Claim(ctx, hostID, 2, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	var batch []store.Outcome
	for i, l := range ls {
		due := []time.Time{dueA, dueB}[i]
		batch = append(batch, revisitOutcome(l, "h"+l.URL[len(Origin)+1:], "v1", due))
	}
	if _, err := s.Commit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	return hostID
}

// revisitOutcome is a done 200 outcome of l: a page whose body hash is hash
// and whose title, ETag, link (to /to-<title>) and item carry title; the URL
// is due again at due.
func revisitOutcome(l store.Lease, hash, title string, due time.Time) store.Outcome {
	return store.Outcome{Lease: l, State: store.StateDone, Status: 200, Attempted: true, Reason: "HTTP 200",
		Page: &store.Page{FinalURL: l.URL, Status: 200, FetchedAt: time.Now(), Size: 10, ContentType: "text/html",
			Title: title, ContentHash: hash, Body: []byte("<p>" + title + "</p>"), BodyEncoding: "identity",
			Headers: `{"ETag":"\"` + title + `\"","Last-Modified":"Mon, 05 Jan 2026 00:00:00 GMT"}`,
			Items:   []store.Item{{Rule: "product", Data: map[string]any{"title": title}}}},
		Links:    []store.Link{{URL: Origin + "/to-" + title}},
		Schedule: &store.Schedule{Interval: time.Hour, At: due}}
}

// testRevisitClaimedWhenDue: a URL scheduled for a revisit is claimed by
// ClaimRevisits when it is due and not before, with what was recorded of
// it, and the host's next due time (DueHosts, NextRevisit) follows.
func testRevisitClaimedWhenDue(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	past := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	hostID := fetchedOnce(t, s, later, later.Add(time.Minute))
	if ls, next, err := s.ClaimRevisits(ctx, hostID, 10, time.Minute); err != nil || len(ls) != 0 || !next.Equal(later) {
		t.Fatalf("ClaimRevisits before due = %v, next %v, %v; want none, next at %v", ls, next, err, later)
	}
	if hs, err := s.DueHosts(ctx, 0, 10); err != nil || len(hs) != 0 {
		t.Errorf("DueHosts before due = %+v, %v; want none", hs, err)
	}
	if n, next, err := s.NextRevisit(ctx, time.Now()); err != nil || n != 0 || !next.Equal(later) {
		t.Errorf("NextRevisit(now) = %d, %v, %v; want 0 hosts due, next at %v", n, next, err, later)
	}
	if n, _, err := s.NextRevisit(ctx, later); err != nil || n != 1 {
		t.Errorf("NextRevisit(at the due time) = %d, %v; want the host due", n, err)
	}
	if host(t, s, hostID).NextRevisitAt != later.UnixMilli() {
		t.Errorf("host next revisit = %d, want %d", host(t, s, hostID).NextRevisitAt, later.UnixMilli())
	}

	// /c is fetched and due at once.
	added, err := s.Add(ctx, []store.NewURL{queued("/c", 0)})
	if err != nil || added[hostID] != 1 {
		t.Fatalf("Add /c = %v, %v", added, err)
	}
	ls, _, err := s.Claim(ctx, hostID, 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim /c = %v, %v", ls, err)
	}
	if _, err := s.Commit(ctx, []store.Outcome{revisitOutcome(ls[0], "hc", "v1", past)}); err != nil {
		t.Fatal(err)
	}
	if hs, err := s.DueHosts(ctx, 0, 10); err != nil || len(hs) != 1 || hs[0].ID != hostID || hs[0].NextRevisitAt != past.UnixMilli() {
		t.Errorf("DueHosts = %+v, %v; want the host, due at %d", hs, err, past.UnixMilli())
	}
	if n, _, err := s.NextRevisit(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("NextRevisit = %d, %v; want 1 host due", n, err)
	}
	ls, next, err := s.ClaimRevisits(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/c" || !next.Equal(later) {
		t.Fatalf("ClaimRevisits = %+v, next %v, %v; want /c, then /a due at %v", ls, next, err, later)
	}
	l := ls[0]
	want := store.Fetched{Status: 200, FinalURL: Origin + "/c", ContentHash: "hc", ETag: `"v1"`,
		LastModified: "Mon, 05 Jan 2026 00:00:00 GMT", Interval: time.Hour}
	if l.Prev == nil || *l.Prev != want || l.Attempts != 0 || l.Claims != 2 || l.Unended != 1 {
		t.Errorf("revisit lease = %+v, prev %+v; want prev %+v, attempts 0, claims 2, unended 1", l, l.Prev, want)
	}
	if ls, _, err := s.ClaimRevisits(ctx, hostID, 10, time.Minute); err != nil || len(ls) != 0 {
		t.Errorf("ClaimRevisits again = %v, %v; want nothing: /c is leased", ls, err)
	}
	if host(t, s, hostID).NextRevisitAt != later.UnixMilli() {
		t.Errorf("host next revisit after the claim = %d, want /a's %d", host(t, s, hostID).NextRevisitAt, later.UnixMilli())
	}
	if n, _, err := s.Pending(ctx); err != nil || n != 1 {
		t.Errorf("Pending = %d, %v; want the leased revisit", n, err)
	}
	// A released revisit is queued; claimed again, it still knows its page.
	if _, err := s.Commit(ctx, []store.Outcome{{Lease: l, State: store.StateQueued}}); err != nil {
		t.Fatal(err)
	}
	ls, _, err = s.Claim(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].Prev == nil || ls[0].Prev.ContentHash != "hc" || ls[0].Unended != 2 {
		t.Fatalf("Claim of the released revisit = %+v, %v; want /c with its page, leased twice since it ended", ls, err)
	}
	// First fetches have no Prev.
	if _, err := s.Add(ctx, []store.NewURL{queued("/d", 0)}); err != nil {
		t.Fatal(err)
	}
	if ls, _, err := s.Claim(ctx, hostID, 10, time.Minute); err != nil || len(ls) != 1 || ls[0].Prev != nil || ls[0].Unended != 1 {
		t.Errorf("Claim /d = %+v, %v; want a first fetch", ls, err)
	}
}

// testRevisitRecorded: a revisit whose answer is unchanged, or a 304, moves
// the page's fetch time and nothing else; a changed one replaces the page,
// its links and items, under the same page id. No revisit adds a page.
func testRevisitRecorded(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	past := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	hostID := fetchedOnce(t, s, past, time.Now().Add(time.Hour))
	first, err := s.PageByURL(ctx, Origin+"/a")
	if err != nil {
		t.Fatal(err)
	}
	revisit := func() store.Lease {
		t.Helper()
		ls, _, err := s.ClaimRevisits(ctx, hostID, 1, time.Minute)
		if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/a" {
			t.Fatalf("ClaimRevisits = %+v, %v; want /a", ls, err)
		}
		return ls[0]
	}
	check := func(what, title string, fetched time.Time, links map[string]int) {
		t.Helper()
		p, err := s.PageByURL(ctx, Origin+"/a")
		if err != nil {
			t.Fatal(err)
		}
		u := explain(t, s, "/a")
		if p.ID != first.ID || !p.FetchedAt.Equal(fetched) || u.Page == nil || u.Page.Title != title || u.Page.Status != 200 {
			t.Errorf("%s: page %d fetched %v, explain %+v; want page %d, fetched %v, title %q, status 200", what, p.ID,
				p.FetchedAt, u.Page, first.ID, fetched, title)
		}
		if n, err := s.CountPages(ctx); err != nil || n != 2 {
			t.Errorf("%s: CountPages = %d, %v; want 2", what, n, err)
		}
		for to, want := range links {
			in, _, err := s.Inbound(ctx, Origin+to, 5)
			n := 0
			for _, l := range in {
				if l.From == Origin+"/a" {
					n++
				}
			}
			if err != nil || n != want {
				t.Errorf("%s: links from /a to %s = %d, %v; want %d", what, to, n, err, want)
			}
		}
		if got := items(t, s, first.ID); got != `[product0={"title":"`+title+`"}]` {
			t.Errorf("%s: items of /a = %s, want the %s item", what, got, title)
		}
	}

	// The same body: only the fetch time moves.
	out := revisitOutcome(revisit(), "ha", "v1", past)
	out.Page.Title, out.Links, out.Page.Items = "not stored", nil, nil
	out.Page.FetchedAt = time.Now().Add(time.Minute).Truncate(time.Millisecond)
	if res, err := s.Commit(ctx, []store.Outcome{out}); err != nil || res.Pages != 0 || res.Stale != 0 {
		t.Fatalf("commit of an unchanged revisit = %+v, %v; want no page added", res, err)
	}
	check("unchanged", "v1", out.Page.FetchedAt, map[string]int{"/to-v1": 1})

	// 304 Not Modified: the same.
	out = store.Outcome{Lease: revisit(), State: store.StateDone, Status: 304, Attempted: true, NotModified: true,
		Page:     &store.Page{FetchedAt: time.Now().Add(2 * time.Minute).Truncate(time.Millisecond)},
		Schedule: &store.Schedule{Interval: time.Hour, At: past}}
	if res, err := s.Commit(ctx, []store.Outcome{out}); err != nil || res.Pages != 0 {
		t.Fatalf("commit of a 304 = %+v, %v; want no page added", res, err)
	}
	check("304", "v1", out.Page.FetchedAt, map[string]int{"/to-v1": 1})
	if u := explain(t, s, "/a"); u.Status != 304 || u.State != store.StateDone {
		t.Errorf("/a after a 304: %s, status %d; want done, 304", u.State, u.Status)
	}

	// A new body replaces the page, its links and items.
	out = revisitOutcome(revisit(), "ha2", "v2", time.Now().Add(time.Hour))
	out.Page.FetchedAt = time.Now().Add(3 * time.Minute).Truncate(time.Millisecond)
	if res, err := s.Commit(ctx, []store.Outcome{out}); err != nil || res.Pages != 0 {
		t.Fatalf("commit of a changed revisit = %+v, %v; want no page added", res, err)
	}
	check("changed", "v2", out.Page.FetchedAt, map[string]int{"/to-v1": 0, "/to-v2": 1})
	p, err := s.PageByURL(ctx, Origin+"/a")
	if err != nil || string(p.Body) != "<p>v2</p>" {
		t.Errorf("body of /a = %q, %v; want the new one", p.Body, err)
	}
	if ls, _, err := s.ClaimRevisits(ctx, hostID, 10, time.Minute); err != nil || len(ls) != 0 {
		t.Errorf("ClaimRevisits = %v, %v; want none due", ls, err)
	}
}

// testScheduleFetched: URLs that ended without a schedule (fetched with
// recrawl off) are scheduled their interval after their fetch, once.
func testScheduleFetched(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	fetched := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/a", Status: 200, FetchedAt: fetched}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/b", Status: 404, FetchedAt: fetched}})
	if n, _, err := s.NextRevisit(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("NextRevisit = %d, %v; want nothing scheduled", n, err)
	}
	var asked []string
	n, err := s.ScheduleFetched(ctx, func(u string) time.Duration {
		asked = append(asked, u)
		if u == Origin+"/a" {
			return time.Hour
		}
		return 24 * time.Hour
	})
	if err != nil || n != 2 || len(asked) != 2 {
		t.Fatalf("ScheduleFetched = %d, %v (asked for %v); want 2", n, err, asked)
	}
	due, next, err := s.NextRevisit(ctx, time.Now())
	if err != nil || due != 1 || !next.Equal(fetched.Add(time.Hour)) {
		t.Errorf("NextRevisit = %d, %v, %v; want the host due since %v", due, next, err, fetched.Add(time.Hour))
	}
	hs, err := s.DueHosts(ctx, 0, 10)
	if err != nil || len(hs) != 1 {
		t.Fatalf("DueHosts = %+v, %v", hs, err)
	}
	ls, next, err := s.ClaimRevisits(ctx, hs[0].ID, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/a" || ls[0].Prev == nil || ls[0].Prev.Interval != time.Hour ||
		!next.Equal(fetched.Add(24*time.Hour)) {
		t.Errorf("ClaimRevisits = %+v, %v, %v; want /a, then /b due a day after its fetch", ls, next, err)
	}
	if n, err := s.ScheduleFetched(ctx, func(string) time.Duration { return time.Hour }); err != nil || n != 0 {
		t.Errorf("ScheduleFetched again = %d, %v; want nothing left to schedule", n, err)
	}
}
