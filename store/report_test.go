package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testOrigin = "http://127.0.0.2:8080"

// smallCrawl records a tiny crawl through the writer's API: / is done and
// links /a, /b and (nofollow) /x; /a is a 404; /b waits for a retry; an
// out-of-scope seed is skipped. It returns the start time and the retry time.
func smallCrawl(t *testing.T, db *DB) (start, retryAt time.Time) {
	t.Helper()
	ctx := context.Background()
	start = time.Now().Add(-time.Second)
	added, err := db.Add(ctx, []NewURL{
		{URL: testOrigin + "/", Origin: testOrigin, Source: "seed", State: StateQueued},
		{URL: "http://other.example/", Source: "seed", State: StateSkipped, Reason: "out of scope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hostID int64
	for id := range added {
		hostID = id
	}
	ls, _, err := db.Claim(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 1 {
		t.Fatalf("claim / = %v, %v", ls, err)
	}
	home := Outcome{Lease: ls[0], State: StateDone, Status: 200, Attempted: true, Reason: "HTTP 200",
		Page: &Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now(), Duration: 30 * time.Millisecond,
			Size: 1234, ContentType: "text/html", Title: "Home"},
		Links: []Link{{URL: testOrigin + "/a", Anchor: "A page"}, {URL: testOrigin + "/b", Anchor: "B"},
			{URL: testOrigin + "/x", Anchor: "X", Nofollow: true}},
		Discovered: []NewURL{
			{URL: testOrigin + "/a", Origin: testOrigin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: StateQueued},
			{URL: testOrigin + "/b", Origin: testOrigin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: StateQueued},
		}}
	if _, err := db.Commit(ctx, []Outcome{home}); err != nil {
		t.Fatal(err)
	}
	ls, _, err = db.Claim(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("claim /a /b = %v, %v", ls, err)
	}
	retryAt = time.Now().Add(time.Hour).Truncate(time.Millisecond)
	_, err = db.Commit(ctx, []Outcome{
		{Lease: ls[0], State: StateFailed, Status: 404, Attempted: true, Reason: "HTTP 404",
			Page: &Page{FinalURL: ls[0].URL, Status: 404, FetchedAt: time.Now(), Duration: 80 * time.Millisecond}},
		{Lease: ls[1], State: StateQueued, Status: 503, Attempted: true, RetryAt: retryAt,
			Reason: "retry 1/3: HTTP 503 Service Unavailable"},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.SaveHosts(ctx, []HostPoliteness{{ID: hostID, NextFetchAt: retryAt, BackoffLevel: 2, Delay: 500 * time.Millisecond,
		Latency: 55 * time.Millisecond, Reason: "HTTP 503, backing off 1h (level 2)"}})
	if err != nil {
		t.Fatal(err)
	}
	robots := "User-agent: *\nDisallow: /private/\n"
	err = db.SaveRobots(ctx, hostID, RobotsRecord{Status: 200, Body: []byte(robots), FetchedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return start, retryAt
}

func TestReport(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	start, retryAt := smallCrawl(t, db)
	r, err := db.Report(ctx, start, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantStates := map[string]int{StateQueued: 1, StateLeased: 0, StateDone: 1, StateFailed: 1, StateSkipped: 1}
	if diff := cmp.Diff(wantStates, r.ByState); diff != "" {
		t.Errorf("ByState (-want +got):\n%s", diff)
	}
	if r.Total != 4 || r.Pages != 2 || r.Bytes != 1234 {
		t.Errorf("Total, Pages, Bytes = %d, %d, %d; want 4, 2, 1234", r.Total, r.Pages, r.Bytes)
	}
	if diff := cmp.Diff([]StatusCount{{200, 1}, {404, 1}}, r.Statuses); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	wantCauses := []ReasonCount{{State: StateFailed, Reason: "HTTP 404", Count: 1}, {State: StateSkipped, Reason: "out of scope", Count: 1}}
	if diff := cmp.Diff(wantCauses, r.Causes); diff != "" {
		t.Errorf("Causes (-want +got):\n%s", diff)
	}
	if r.Failed != testOrigin+"/a" {
		t.Errorf("Failed = %q, want %q", r.Failed, testOrigin+"/a")
	}
	if !r.NextDue.Equal(retryAt) {
		t.Errorf("NextDue = %v, want %v", r.NextDue, retryAt)
	}
	if len(r.SlowHosts) != 1 {
		t.Fatalf("SlowHosts = %+v, want the one host", r.SlowHosts)
	}
	if h := r.SlowHosts[0]; h.Fetched != 2 || h.AvgMS != 55 || h.MaxMS != 80 || h.LatencyMS != 55 || h.DelayMS != 500 {
		t.Errorf("SlowHosts[0] = %+v, want 2 pages, mean 55ms, max 80ms, smoothed latency 55ms, delay 500ms", h)
	}

	// A report since later than every change has whole-database totals only.
	r, err = db.Report(ctx, time.Now().Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Statuses) != 0 || len(r.Causes) != 0 || r.Failed != "" || r.Pages != 2 {
		t.Errorf("report since the future = %+v, want totals only", r)
	}
}

func TestHostList(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	_, retryAt := smallCrawl(t, db)
	for _, order := range []HostOrder{"", ByQueued, ByPages, ByErrors, ByLatency, ByDelay} {
		t.Run(string(order), func(t *testing.T) {
			hs, total, err := db.HostList(ctx, order, 10)
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(hs) != 1 {
				t.Fatalf("HostList = %d hosts of %d, want 1 of 1", len(hs), total)
			}
			h := hs[0]
			if h.Origin != testOrigin || h.Queued != 1 || h.Leased != 0 || h.Pages != 2 || h.Errors != 1 ||
				h.BackoffLevel != 2 || h.DelayMS != 500 || h.Reason != "HTTP 503, backing off 1h (level 2)" {
				t.Errorf("host = %+v", h)
			}
			if got := h.PausedUntil(time.Now()); !got.Equal(retryAt) {
				t.Errorf("PausedUntil = %v, want %v", got, retryAt)
			}
			if got := h.PausedUntil(retryAt.Add(time.Second)); !got.IsZero() {
				t.Errorf("PausedUntil after the pause = %v, want zero", got)
			}
		})
	}
	if _, _, err := db.HostList(ctx, "fastest", 10); err == nil {
		t.Error("HostList with an unknown order succeeded")
	}
}

func TestRemainingAndNextDue(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	_, retryAt := smallCrawl(t, db)
	q, l, err := db.Remaining(ctx)
	if err != nil || q != 1 || l != 0 {
		t.Errorf("Remaining = %d, %d, %v; want 1 queued, 0 leased", q, l, err)
	}
	next, due, err := db.NextDue(ctx, time.Now())
	if err != nil || !next.Equal(retryAt) || due != 0 {
		t.Errorf("NextDue(now) = %v, %d, %v; want %v, 0 due", next, due, err, retryAt)
	}
	if _, due, _ := db.NextDue(ctx, retryAt); due != 1 {
		t.Errorf("NextDue(retry time) due = %d, want 1", due)
	}
}

// TestReportMatchesQueries checks Report's one pass over the pages against
// the plain queries for each figure, on pages of several hosts and statuses
// fetched before and after since, with top cutting ties.
func TestReportMatchesQueries(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	since := time.Now().Truncate(time.Millisecond)
	const hosts, perHost = 7, 12
	for h := 0; h < hosts; h++ {
		origin := fmt.Sprintf("http://127.0.0.%d:8080", h+2)
		var urls []NewURL
		for i := 0; i < perHost; i++ {
			urls = append(urls, NewURL{URL: fmt.Sprintf("%s/p/%d", origin, i), Origin: origin, Source: "seed", State: StateQueued})
		}
		added, err := db.Add(ctx, urls)
		if err != nil {
			t.Fatal(err)
		}
		for id := range added {
			ls, _, err := db.Claim(ctx, id, perHost, time.Minute)
			if err != nil || len(ls) != perHost {
				t.Fatalf("claim %s = %d leases, %v", origin, len(ls), err)
			}
			var outs []Outcome
			for i, l := range ls {
				status := []int{200, 200, 404, 500, 301}[(i+h)%5]
				// Host 0 and 1 have the same mean, so the order falls to the id.
				dur := time.Duration(10*(h/2+1)+i%3) * time.Millisecond
				fetched := since.Add(time.Duration(i-perHost/3) * time.Second)
				outs = append(outs, Outcome{Lease: l, State: StateDone, Status: status, Attempted: true,
					Page: &Page{FinalURL: l.URL, Status: status, FetchedAt: fetched, Duration: dur, Size: 100*h + i}})
			}
			if _, err := db.Commit(ctx, outs); err != nil {
				t.Fatal(err)
			}
		}
	}
	const top = 3
	got, err := db.Report(ctx, since, top)
	if err != nil {
		t.Fatal(err)
	}

	want := &Report{}
	q := db.Reader()
	if err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM pages`).Scan(&want.Pages, &want.Bytes); err != nil {
		t.Fatal(err)
	}
	rows, err := q.QueryContext(ctx, `SELECT status, count(*) AS n FROM pages WHERE fetched_at >= ?
		GROUP BY status ORDER BY n DESC, status LIMIT ?`, since.UnixMilli(), top)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s StatusCount
		if err := rows.Scan(&s.Status, &s.Count); err != nil {
			t.Fatal(err)
		}
		want.Statuses = append(want.Statuses, s)
	}
	rows.Close()
	rows, err = q.QueryContext(ctx, `SELECT s.host_id, s.n, s.avg_ms, s.max_ms
		FROM (SELECT f.host_id, count(*) AS n, CAST(avg(p.duration_ms) AS INTEGER) AS avg_ms, max(p.duration_ms) AS max_ms
			FROM pages p JOIN frontier f ON f.id = p.url_id WHERE p.fetched_at >= ? GROUP BY f.host_id) s
		ORDER BY s.avg_ms DESC, s.host_id LIMIT ?`, since.UnixMilli(), top)
	if err != nil {
		t.Fatal(err)
	}
	type slow struct{ ID, N, Avg, Max int64 }
	var wantSlow, gotSlow []slow
	for rows.Next() {
		var s slow
		if err := rows.Scan(&s.ID, &s.N, &s.Avg, &s.Max); err != nil {
			t.Fatal(err)
		}
		wantSlow = append(wantSlow, s)
	}
	rows.Close()
	for _, h := range got.SlowHosts {
		gotSlow = append(gotSlow, slow{h.ID, int64(h.Fetched), h.AvgMS, h.MaxMS})
	}
	if got.Pages != want.Pages || got.Bytes != want.Bytes {
		t.Errorf("Pages, Bytes = %d, %d; want %d, %d", got.Pages, got.Bytes, want.Pages, want.Bytes)
	}
	if diff := cmp.Diff(want.Statuses, got.Statuses); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSlow, gotSlow); diff != "" {
		t.Errorf("SlowHosts (-want +got):\n%s", diff)
	}
	if len(gotSlow) != top || len(got.Statuses) != top {
		t.Errorf("%d slow hosts and %d statuses, want %d of each", len(gotSlow), len(got.Statuses), top)
	}
	for _, h := range got.SlowHosts {
		if h.Origin == "" || h.State != "active" {
			t.Errorf("slow host %d without its host row: %+v", h.ID, h.HostInfo)
		}
	}
}
