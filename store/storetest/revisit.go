package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// fetchedOnce records /a and /b of Origin as done 200 pages, each with its
// own body hash, validators, a link and an item, each due for a revisit at
// the time given. It returns the host's lease, held still.
func fetchedOnce(t *testing.T, s Store, dueA, dueB time.Time) store.HostToken {
	t.Helper()
	ctx := context.Background()
	added, err := s.Add(ctx, []store.NewURL{queued("/a", 0), queued("/b", 0)})
	if err != nil {
		t.Fatal(err)
	}
	tok := hostLease(t, s, hostOf(t, added))
	ls, _, err := s.Claim(ctx, tok, 2, time.Minute)
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
	return tok
}

// leaseDue leases the hosts that have URLs due for a revisit and nothing
// else (LeaseHosts with RevisitsOnly).
func leaseDue(t *testing.T, s Store) []store.HostRow {
	t.Helper()
	hs, err := s.LeaseHosts(context.Background(), store.HostQuery{Limit: 10, Revisits: true, RevisitsOnly: true}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// release ends a host lease.
func release(t *testing.T, s Store, tok store.HostToken) {
	t.Helper()
	if err := s.ReleaseHosts(context.Background(), []store.HostRelease{{HostToken: tok}}); err != nil {
		t.Fatal(err)
	}
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
		Schedule: &store.Schedule{Interval: time.Hour, At: due}, History: &store.History{}}
}

// testRevisitClaimedWhenDue: a URL scheduled for a revisit is claimed by
// ClaimRevisits when it is due and not before, with what was recorded of
// it, and the host's next due time (LeaseHosts of hosts due, NextRevisit)
// follows.
func testRevisitClaimedWhenDue(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	past := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	tok := fetchedOnce(t, s, later, later.Add(time.Minute))
	hostID := tok.ID
	if ls, next, err := s.ClaimRevisits(ctx, tok, 10, time.Minute); err != nil || len(ls) != 0 || !next.Equal(later) {
		t.Fatalf("ClaimRevisits before due = %v, next %v, %v; want none, next at %v", ls, next, err, later)
	}
	release(t, s, tok)
	if hs := leaseDue(t, s); len(hs) != 0 {
		t.Errorf("hosts due leased before due: %+v, want none", hs)
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
	tok = hostLease(t, s, hostID)
	ls, _, err := s.Claim(ctx, tok, 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim /c = %v, %v", ls, err)
	}
	if _, err := s.Commit(ctx, []store.Outcome{revisitOutcome(ls[0], "hc", "v1", past)}); err != nil {
		t.Fatal(err)
	}
	release(t, s, tok)
	hs := leaseDue(t, s)
	if len(hs) != 1 || hs[0].ID != hostID || hs[0].NextRevisitAt != past.UnixMilli() {
		t.Fatalf("hosts due leased: %+v; want the host, due at %d", hs, past.UnixMilli())
	}
	tok = store.HostToken{ID: hostID, Token: hs[0].Token}
	if n, _, err := s.NextRevisit(ctx, time.Now()); err != nil || n != 1 {
		t.Errorf("NextRevisit = %d, %v; want 1 host due", n, err)
	}
	ls, next, err := s.ClaimRevisits(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/c" || !next.Equal(later) {
		t.Fatalf("ClaimRevisits = %+v, next %v, %v; want /c, then /a due at %v", ls, next, err, later)
	}
	l := ls[0]
	want := store.Fetched{Status: 200, FinalURL: Origin + "/c", ContentHash: "hc", ETag: `"v1"`,
		LastModified: "Mon, 05 Jan 2026 00:00:00 GMT", Interval: time.Hour}
	if l.Prev == nil || *l.Prev != want || l.Attempts != 0 || l.Claims != 2 || l.Unended != 1 {
		t.Errorf("revisit lease = %+v, prev %+v; want prev %+v, attempts 0, claims 2, unended 1", l, l.Prev, want)
	}
	if ls, _, err := s.ClaimRevisits(ctx, tok, 10, time.Minute); err != nil || len(ls) != 0 {
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
	ls, _, err = s.Claim(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].Prev == nil || ls[0].Prev.ContentHash != "hc" || ls[0].Unended != 2 {
		t.Fatalf("Claim of the released revisit = %+v, %v; want /c with its page, leased twice since it ended", ls, err)
	}
	// First fetches have no Prev.
	if _, err := s.Add(ctx, []store.NewURL{queued("/d", 0)}); err != nil {
		t.Fatal(err)
	}
	if ls, _, err := s.Claim(ctx, tok, 10, time.Minute); err != nil || len(ls) != 1 || ls[0].Prev != nil || ls[0].Unended != 1 {
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
	tok := fetchedOnce(t, s, past, time.Now().Add(time.Hour))
	first, err := s.PageByURL(ctx, Origin+"/a")
	if err != nil {
		t.Fatal(err)
	}
	revisit := func() store.Lease {
		t.Helper()
		ls, _, err := s.ClaimRevisits(ctx, tok, 1, time.Minute)
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
	if ls, _, err := s.ClaimRevisits(ctx, tok, 10, time.Minute); err != nil || len(ls) != 0 {
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
	hs := leaseDue(t, s)
	if len(hs) != 1 {
		t.Fatalf("hosts due leased: %+v, want one", hs)
	}
	ls, next, err := s.ClaimRevisits(ctx, store.HostToken{ID: hs[0].ID, Token: hs[0].Token}, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/a" || ls[0].Prev == nil || ls[0].Prev.Interval != time.Hour ||
		!next.Equal(fetched.Add(24*time.Hour)) {
		t.Errorf("ClaimRevisits = %+v, %v, %v; want /a, then /b due a day after its fetch", ls, next, err)
	}
	if n, err := s.ScheduleFetched(ctx, func(string) time.Duration { return time.Hour }); err != nil || n != 0 {
		t.Errorf("ScheduleFetched again = %d, %v; want nothing left to schedule", n, err)
	}
}

// testVersions: with history kept, a URL's first page is a version, and so
// is each response that differs from the one before (body hash, status or
// target), with its items; an unchanged response or a 304 writes none. The
// read side lists them as changes: appeared, changed with the item fields
// that changed, disappeared.
func testVersions(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	past := time.Now().Add(-time.Second).Truncate(time.Millisecond)
	start := time.Now().Add(-time.Minute)
	tok := fetchedOnce(t, s, past, time.Now().Add(time.Hour))
	revisit := func() store.Lease {
		t.Helper()
		ls, _, err := s.ClaimRevisits(ctx, tok, 1, time.Minute)
		if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/a" {
			t.Fatalf("ClaimRevisits = %+v, %v; want /a", ls, err)
		}
		return ls[0]
	}
	commit := func(o store.Outcome) {
		t.Helper()
		if _, err := s.Commit(ctx, []store.Outcome{o}); err != nil {
			t.Fatal(err)
		}
	}
	versions := func(path string) string {
		t.Helper()
		vs, n, err := s.Versions(ctx, Origin+path, 10)
		if err != nil {
			t.Fatal(err)
		}
		var b []string
		for _, v := range vs {
			b = append(b, fmt.Sprintf("%d %s %d items", v.Status, v.ContentHash, v.Items))
		}
		return fmt.Sprintf("%d: %s", n, strings.Join(b, ", "))
	}
	if got, want := versions("/a"), "1: 200 ha 1 items"; got != want {
		t.Errorf("versions of /a after its first fetch: %s, want %s", got, want)
	}
	commit(revisitOutcome(revisit(), "ha", "v1", past))
	commit(store.Outcome{Lease: revisit(), State: store.StateDone, Status: 304, Attempted: true, NotModified: true,
		Page: &store.Page{FetchedAt: time.Now()}, Schedule: &store.Schedule{Interval: time.Hour, At: past},
		History: &store.History{}})
	if got, want := versions("/a"), "1: 200 ha 1 items"; got != want {
		t.Errorf("versions of /a after an unchanged revisit and a 304: %s, want %s", got, want)
	}
	commit(revisitOutcome(revisit(), "ha2", "v2", past))
	gone := store.Outcome{Lease: revisit(), State: store.StateFailed, Status: 410, Attempted: true, Reason: "HTTP 410",
		Page:     &store.Page{FinalURL: Origin + "/a", Status: 410, FetchedAt: time.Now()},
		Schedule: &store.Schedule{Interval: time.Hour, At: time.Now().Add(time.Hour)}, History: &store.History{}}
	commit(gone)
	if got, want := versions("/a"), "3: 410  0 items, 200 ha2 1 items, 200 ha 1 items"; got != want {
		t.Errorf("versions of /a: %s, want %s", got, want)
	}
	if got, want := versions("/b"), "1: 200 hb 1 items"; got != want {
		t.Errorf("versions of /b: %s, want %s", got, want)
	}

	list := func(o store.ChangesOptions) string {
		t.Helper()
		var out []string
		for c, err := range s.Changes(ctx, o) {
			if err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprintf("%s %s %d<-%d", c.Kind, c.URL[len(Origin):], c.Status, c.PrevStatus)
			for _, f := range c.Fields {
				line += fmt.Sprintf(" %s[%d].%s %v->%v", f.Rule, f.Index, f.Field, f.Old, f.New)
			}
			out = append(out, line)
		}
		return strings.Join(out, "; ")
	}
	all := "appeared /a 200<-0 product[0].title <nil>->v1; appeared /b 200<-0 product[0].title <nil>->v1; " +
		"changed /a 200<-200 product[0].title v1->v2; disappeared /a 410<-200 product[0].title v2-><nil>"
	if got := list(store.ChangesOptions{Since: start}); got != all {
		t.Errorf("changes:\n got %s\nwant %s", got, all)
	}
	if got := list(store.ChangesOptions{Rule: "product"}); got != all {
		t.Errorf("changes of product items:\n got %s\nwant %s", got, all)
	}
	if got := list(store.ChangesOptions{Rule: "other"}); got != "" {
		t.Errorf("changes of a rule without items: %s, want none", got)
	}
	if got := list(store.ChangesOptions{Since: time.Now().Add(time.Minute)}); got != "" {
		t.Errorf("changes since a minute from now: %s, want none", got)
	}
	var b strings.Builder
	if n, err := s.Export(ctx, &b, store.ExportOptions{Table: "changes", Rule: "product"}); err != nil || n != 4 {
		t.Fatalf("export changes = %d, %v; want 4 rows", n, err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var last struct {
		Kind       string `json:"kind"`
		URL        string `json:"url"`
		Status     int    `json:"status"`
		PrevStatus int    `json:"prev_status"`
		Fields     []struct {
			Field    string
			Old, New any
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(lines[3]), &last); err != nil {
		t.Fatalf("export line %q: %v", lines[3], err)
	}
	if last.Kind != store.ChangeDisappeared || last.URL != Origin+"/a" || last.Status != 410 || last.PrevStatus != 200 ||
		len(last.Fields) != 1 || last.Fields[0].Old != "v2" || last.Fields[0].New != nil {
		t.Errorf("last exported change = %s", lines[3])
	}
	b.Reset()
	if n, err := s.Export(ctx, &b, store.ExportOptions{Table: "changes", Format: "csv"}); err != nil || n != 4 ||
		!strings.HasPrefix(b.String(), "version_id,prev_version_id,url,kind,fetched_at,status,prev_status,fields\n") {
		t.Errorf("export changes as CSV = %d, %v:\n%s", n, err, b.String())
	}
}

// testVersionsFromPagesWithoutHistory: a page stored without history, then
// changed with history kept, first becomes a version of its own, so the
// change is listed as a change, not as a page that appeared; versions may
// keep their bodies.
func testVersionsFromPagesWithoutHistory(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	ids := CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/a", Status: 200, ContentHash: "old",
		Body: []byte("old"), BodyEncoding: "identity", Items: []store.Item{{Rule: "p", Data: map[string]any{"price": 1.5}}}}})
	if vs, n, err := s.Versions(ctx, Origin+"/a", 10); err != nil || n != 0 || len(vs) != 0 {
		t.Fatalf("versions of a page stored without history = %v, %d, %v", vs, n, err)
	}
	if _, err := s.ScheduleFetched(ctx, func(string) time.Duration { return -time.Second }); err != nil {
		t.Fatal(err)
	}
	hs := leaseDue(t, s)
	if len(hs) != 1 {
		t.Fatalf("hosts due leased: %+v, want one", hs)
	}
	ls, _, err := s.ClaimRevisits(ctx, store.HostToken{ID: hs[0].ID, Token: hs[0].Token}, 1, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("ClaimRevisits = %v, %v", ls, err)
	}
	out := store.Outcome{Lease: ls[0], State: store.StateDone, Status: 200, Attempted: true,
		Page: &store.Page{FinalURL: Origin + "/a", Status: 200, ContentHash: "new", Body: []byte("new"), BodyEncoding: "identity",
			FetchedAt: time.Now(), Items: []store.Item{{Rule: "p", Data: map[string]any{"price": 2.5}}}},
		History: &store.History{Bodies: true}}
	if _, err := s.Commit(ctx, []store.Outcome{out}); err != nil {
		t.Fatal(err)
	}
	vs, n, err := s.Versions(ctx, Origin+"/a", 10)
	if err != nil || n != 2 || vs[0].ContentHash != "new" || !vs[0].BodyStored || vs[1].ContentHash != "old" || !vs[1].BodyStored {
		t.Errorf("versions = %+v, %d, %v; want the new one, then the stored one, both with bodies", vs, n, err)
	}
	var got []string
	for c, err := range s.Changes(ctx, store.ChangesOptions{Rule: "p"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %v", c.Kind, c.Fields))
	}
	if want := []string{"appeared [{p 0 price <nil> 1.5}]", "changed [{p 0 price 1.5 2.5}]"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes = %v, want %v", got, want)
	}
	if sp, err := s.PageByURL(ctx, Origin+"/a"); err != nil || sp.ID != ids[Origin+"/a"] || string(sp.Body) != "new" {
		t.Errorf("page = %+v, %v; want page %d with the new body", sp, err, ids[Origin+"/a"])
	}
}
