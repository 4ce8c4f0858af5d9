// Package storetest is the conformance suite of the crawl stores: every
// store (store/sqlite, and any other) runs Run from its own tests, so that
// the engine and the readers can count on the same behaviour from each:
// claims, commits recorded exactly once, stale leases ignored, recovery
// after a crash, hosts given up, the shorter path rule on insert, revisits
// claimed when due and recorded without a new page, and the read side (explain, status, report, export ...) over what was written.
package storetest

import (
	"context"
	"database/sql"
	"io"
	"iter"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// Store is what the suite exercises: the write side the engine uses and
// the read side the commands use.
type Store interface {
	Add(ctx context.Context, urls []store.NewURL) (map[int64]int, error)
	Recover(ctx context.Context) (int, error)
	SetInboundLinkIndex(ctx context.Context, on bool) error
	CountPages(ctx context.Context) (int, error)
	Pending(ctx context.Context) (n int, nextDue time.Time, err error)
	StartWorker(ctx context.Context, hostname string, pid int, hostLease time.Duration) (int64, error)
	StopWorker(ctx context.Context) error
	LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error)
	RenewHosts(ctx context.Context, held []store.HostToken, ttl time.Duration) (map[int64]time.Duration, error)
	ReleaseHosts(ctx context.Context, held []store.HostRelease) error
	Claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error)
	Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error)
	ClaimRevisits(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error)
	ScheduleFetched(ctx context.Context, interval func(url string) time.Duration) (int, error)
	Hosts(ctx context.Context, ids []int64) ([]store.HostRow, error)
	ReserveHosts(ctx context.Context, rs []store.HostReservation) error
	SaveHosts(ctx context.Context, hs []store.HostPoliteness) error
	SaveRobots(ctx context.Context, hostID int64, r store.RobotsRecord) error
	GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error)
	ReplacePageItems(ctx context.Context, rules []string, pages []store.PageItems) error
	RecordSettings(ctx context.Context, settings map[string]string, update bool) error
	StartRun(ctx context.Context, config string) (int64, error)
	EndRun(ctx context.Context, id int64, outcome string) error

	Status(ctx context.Context) (*store.Status, error)
	Totals(ctx context.Context) (store.Totals, error)
	FrontierCounts(ctx context.Context) (map[string]int, error)
	Remaining(ctx context.Context) (queued, leased int, err error)
	NextDue(ctx context.Context, now time.Time) (next time.Time, due int, err error)
	NextRevisit(ctx context.Context, now time.Time) (dueHosts int, next time.Time, err error)
	HostList(ctx context.Context, order store.HostOrder, limit int) ([]store.HostInfo, int, error)
	Report(ctx context.Context, since time.Time, top int) (*store.Report, error)
	Explain(ctx context.Context, url string, maxInbound int) (*store.URLInfo, error)
	Inbound(ctx context.Context, url string, n int) ([]store.InboundLink, int, error)
	SimilarURLs(ctx context.Context, url string, n int) ([]string, error)
	PagesWithBodies(ctx context.Context, after int64, limit int) ([]store.StoredPage, error)
	PageByURL(ctx context.Context, url string) (*store.StoredPage, error)
	PageSummaries(ctx context.Context, after int64, limit, maxChars int) iter.Seq2[store.PageSummary, error]
	ItemSummaries(ctx context.Context, after int64, limit int, rule string, maxChars, maxJSON int) iter.Seq2[store.ItemSummary, error]
	Export(ctx context.Context, w io.Writer, o store.ExportOptions) (int64, error)
	Changes(ctx context.Context, o store.ChangesOptions) iter.Seq2[store.Change, error]
	Versions(ctx context.Context, url string, n int) ([]store.Version, int, error)
	NearDuplicate(ctx context.Context, hostID int64, h uint64, maxDist int, urlID int64) (store.NearMatch, bool, error)
	// SQL and Rebind run the queries users write (README.md).
	SQL() *sql.DB
	Rebind(query string) string

	Close() error
}

// Harness opens the store under test.
type Harness struct {
	// Open returns a new, empty store for the test t, closed when the
	// test ends.
	Open func(t *testing.T) Store
	// Reopen closes s without releasing anything it holds and opens its
	// database again, as a process restarting after a crash does. The
	// store it returns is closed when the test ends.
	Reopen func(t *testing.T, s Store) Store
	// Join opens the database of s a second time, as another worker
	// sharing the crawl, while s stays open; nil for a store that one
	// process holds at a time (the suite then plays both workers with s).
	Join func(t *testing.T, s Store) Store
}

// Run runs the conformance suite against the store h opens.
func Run(t *testing.T, h Harness) {
	for _, c := range []struct {
		name string
		test func(*testing.T, Harness)
	}{
		{"ClaimCommitExactlyOnce", testClaimCommitExactlyOnce},
		{"StaleLease", testStaleLease},
		{"RecoverAfterCrash", testRecoverAfterCrash},
		{"GiveUpHost", testGiveUpHost},
		{"ShorterPathWins", testShorterPathWins},
		{"HostState", testHostState},
		{"LeaseHosts", testLeaseHosts},
		{"HostLeaseTakeover", testHostLeaseTakeover},
		{"Runs", testRuns},
		{"Settings", testSettings},
		{"Explain", testExplain},
		{"LinksView", testLinksView},
		{"InboundLinkIndex", testInboundLinkIndex},
		{"SimilarURLs", testSimilarURLs},
		{"Report", testReport},
		{"HostList", testHostList},
		{"Totals", testTotals},
		{"RemainingAndNextDue", testRemainingAndNextDue},
		{"PagesWithBodies", testPagesWithBodies},
		{"PageByURL", testPageByURL},
		{"ReplacePageItems", testReplacePageItems},
		{"PageSummaries", testPageSummaries},
		{"ItemSummaries", testItemSummaries},
		{"Export", testExport},
		{"ExportBodies", testExportBodies},
		{"ExportBadOptions", testExportBadOptions},
		{"ExportCancelled", testExportCancelled},
		{"CSVFormulaInjection", testCSVFormulaInjection},
		{"RevisitClaimedWhenDue", testRevisitClaimedWhenDue},
		{"RevisitRecorded", testRevisitRecorded},
		{"ScheduleFetched", testScheduleFetched},
		{"Versions", testVersions},
		{"VersionsFromPagesWithoutHistory", testVersionsFromPagesWithoutHistory},
		{"NearDuplicate", testNearDuplicate},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, h) })
	}
}

// Origin is the host of the URLs the fixtures record.
const Origin = "http://127.0.0.2:8080"

// hostOf adds nothing and returns the id of the only host in added.
func hostOf(t *testing.T, added map[int64]int) int64 {
	t.Helper()
	if len(added) != 1 {
		t.Fatalf("URLs queued for %d hosts (%v), want 1", len(added), added)
	}
	for id := range added {
		return id
	}
	return 0
}

// hostLease leases the host id to s for an hour, and fails the test if
// it cannot.
func hostLease(t *testing.T, s Store, id int64) store.HostToken {
	t.Helper()
	hs, err := s.LeaseHosts(context.Background(), store.HostQuery{IDs: []int64{id}, Limit: 1}, time.Hour)
	if err != nil || len(hs) != 1 || hs[0].ID != id || hs[0].Token == 0 {
		t.Fatalf("LeaseHosts(%d) = %+v, %v; want the host leased", id, hs, err)
	}
	return store.HostToken{ID: id, Token: hs[0].Token}
}

// expire makes host leases run out at once, as the leases of a worker
// that died do once their time is over: renewed for a negative time.
func expire(t *testing.T, s Store, held ...store.HostToken) {
	t.Helper()
	if _, err := s.RenewHosts(context.Background(), held, -time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// queued is a URL of Origin to queue.
func queued(path string, depth int) store.NewURL {
	return store.NewURL{URL: Origin + path, Origin: Origin, Depth: depth, Source: "link", State: store.StateQueued}
}

// SmallCrawl records a tiny crawl through the writer's API: / is done and
// links /a, /b and (nofollow) /x; /a is a 404; /b waits for a retry; an
// out-of-scope seed is skipped; the host has politeness state and a
// robots.txt. It returns the start time and the retry time.
func SmallCrawl(t *testing.T, s Store) (start, retryAt time.Time) {
	t.Helper()
	ctx := context.Background()
	start = time.Now().Add(-time.Second)
	added, err := s.Add(ctx, []store.NewURL{
		{URL: Origin + "/", Origin: Origin, Source: "seed", State: store.StateQueued},
		{URL: "http://other.example/", Source: "seed", State: store.StateSkipped, Reason: "out of scope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	tok := hostLease(t, s, hostID)
	defer func() {
		if err := s.ReleaseHosts(ctx, []store.HostRelease{{HostToken: tok}}); err != nil {
			t.Fatal(err)
		}
	}()
	ls, _, err := s.Claim(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("claim / = %v, %v", ls, err)
	}
	home := store.Outcome{Lease: ls[0], State: store.StateDone, Status: 200, Attempted: true, Reason: "HTTP 200",
		Page: &store.Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now(), Duration: 30 * time.Millisecond,
			Size: 1234, ContentType: "text/html", Title: "Home"},
		Links: []store.Link{{URL: Origin + "/a", Anchor: "A page"}, {URL: Origin + "/b", Anchor: "B"},
			{URL: Origin + "/x", Anchor: "X", Nofollow: true}},
		Discovered: []store.NewURL{
			{URL: Origin + "/a", Origin: Origin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: store.StateQueued},
			{URL: Origin + "/b", Origin: Origin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: store.StateQueued},
		}}
	if _, err := s.Commit(ctx, []store.Outcome{home}); err != nil {
		t.Fatal(err)
	}
	ls, _, err = s.Claim(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("claim /a /b = %v, %v", ls, err)
	}
	retryAt = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	_, err = s.Commit(ctx, []store.Outcome{
		{Lease: ls[0], State: store.StateFailed, Status: 404, Attempted: true, Reason: "HTTP 404",
			Page: &store.Page{FinalURL: ls[0].URL, Status: 404, FetchedAt: time.Now(), Duration: 80 * time.Millisecond}},
		{Lease: ls[1], State: store.StateQueued, Status: 503, Attempted: true, RetryAt: retryAt,
			Reason: "retry 1/3: HTTP 503 Service Unavailable"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.SaveHosts(ctx, []store.HostPoliteness{{ID: hostID, NextFetchAt: retryAt, BackoffLevel: 2, Delay: 500 * time.Millisecond,
		Latency: 55 * time.Millisecond, Reason: "HTTP 503, backing off 1h (level 2)"}})
	if err != nil {
		t.Fatal(err)
	}
	robots := "User-agent: *\nDisallow: /private/\n"
	err = s.SaveRobots(ctx, hostID, store.RobotsRecord{Status: 200, Body: []byte(robots), FetchedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return start, retryAt
}

// Recorded is a page to record with CommitPages, and the links found on it.
type Recorded struct {
	*store.Page
	Links []store.Link
}

// CommitPages records each page as the done outcome of its own URL
// (FinalURL, of Origin) through Add, Claim and Commit, as a crawl does,
// and returns the page ids by URL.
func CommitPages(t *testing.T, s Store, pages ...Recorded) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var urls []store.NewURL
	for _, p := range pages {
		urls = append(urls, store.NewURL{URL: p.FinalURL, Origin: Origin, Source: "seed", State: store.StateQueued})
	}
	added, err := s.Add(ctx, urls)
	if err != nil {
		t.Fatal(err)
	}
	tok := hostLease(t, s, hostOf(t, added))
	defer func() {
		if err := s.ReleaseHosts(ctx, []store.HostRelease{{HostToken: tok}}); err != nil {
			t.Fatal(err)
		}
	}()
	leases, _, err := s.Claim(ctx, tok, len(pages), time.Minute)
	if err != nil || len(leases) != len(pages) {
		t.Fatalf("claim = %d leases, %v; want %d", len(leases), err, len(pages))
	}
	byURL := map[string]store.Lease{}
	for _, l := range leases {
		byURL[l.URL] = l
	}
	var batch []store.Outcome
	for _, p := range pages {
		if p.FetchedAt.IsZero() {
			p.FetchedAt = time.Now()
		}
		batch = append(batch, store.Outcome{Lease: byURL[p.FinalURL], State: store.StateDone, Status: p.Status,
			Attempted: true, Page: p.Page, Links: p.Links})
	}
	if _, err := s.Commit(ctx, batch); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, p := range pages {
		sp, err := s.PageByURL(ctx, p.FinalURL)
		if err != nil {
			t.Fatal(err)
		}
		ids[p.FinalURL] = sp.ID
	}
	return ids
}

// ExportFixture records three pages (HTML with items and links, a PDF, a
// JSON document), with invalid UTF-8 in a title, an anchor and an item.
func ExportFixture(t *testing.T, s Store) {
	t.Helper()
	CommitPages(t, s,
		Recorded{Page: &store.Page{FinalURL: Origin + "/product/1", Status: 200, ContentType: "text/html; charset=utf-8",
			Title: "Bad \xff title", Headers: `{"Content-Type":"text/html; charset=utf-8"}`,
			Body: []byte("<h1>Café</h1>"), Size: 14, Items: []store.Item{
				{Rule: "product", Data: map[string]any{"name": "Lamp \"x\"\n\xfe", "price": 12.5, "url": "http://x/",
					"tags": []any{"a", "b"}, "in_stock": true}, Errors: []string{`field "sku": no match`}},
				{Rule: "other", Data: map[string]any{"n": 1}},
			}},
			Links: []store.Link{{URL: Origin + "/a", Anchor: "go \xff/a"}, {URL: Origin + "/b", Anchor: "go \xff/b"}}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/file.pdf", Status: 200, ContentType: "application/pdf",
			Body: []byte("%PDF-\x00\xff")}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/api/1.json", Status: 200, ContentType: "application/json",
			Body: []byte(`{"sku":"AB-1"}`)}},
	)
}
