package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/crawler-dev/crawler/store"
)

// explain returns what the store says about a URL of Origin.
func explain(t *testing.T, s Store, path string) *store.URLInfo {
	t.Helper()
	u, err := s.Explain(context.Background(), Origin+path, 5)
	if err != nil {
		t.Fatalf("Explain(%s): %v", path, err)
	}
	return u
}

// host returns the row of one host.
func host(t *testing.T, s Store, id int64) store.HostRow {
	t.Helper()
	hs, err := s.Hosts(context.Background(), []int64{id})
	if err != nil || len(hs) != 1 {
		t.Fatalf("Hosts(%d) = %+v, %v", id, hs, err)
	}
	return hs[0]
}

func testClaimCommitExactlyOnce(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	added, err := s.Add(ctx, []store.NewURL{
		{URL: Origin + "/", Origin: Origin, Source: "seed", State: store.StateQueued},
		queued("/a", 1),
		{URL: "http://other.example/", Source: "seed", State: store.StateSkipped, Reason: "out of scope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	if added[hostID] != 2 {
		t.Fatalf("queued for host = %d, want 2", added[hostID])
	}
	// Adding the same URLs again changes nothing.
	if again, err := s.Add(ctx, []store.NewURL{{URL: Origin + "/", Origin: Origin, Source: "seed", State: store.StateQueued}}); err != nil || len(again) != 0 {
		t.Fatalf("re-adding = %v, %v; want no new URLs", again, err)
	}
	if n, _, err := s.Pending(ctx); err != nil || n != 2 {
		t.Fatalf("Pending = %d, %v; want 2", n, err)
	}
	tok := hostLease(t, s, hostID)
	ls, _, err := s.Claim(ctx, tok, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].URL != Origin+"/" || ls[1].URL != Origin+"/a" || ls[0].HostID != hostID || ls[0].Claims != 1 {
		t.Fatalf("claimed %+v, want / then /a (breadth first), claimed once", ls)
	}
	if q := host(t, s, hostID).Queued; q != 0 {
		t.Errorf("host queued = %d after claiming all, want 0", q)
	}
	if n, _, err := s.Pending(ctx); err != nil || n != 2 {
		t.Errorf("Pending = %d, %v with both leased; want 2", n, err)
	}
	out := store.Outcome{Lease: ls[0], State: store.StateDone, Status: 200, Attempted: true,
		Page:       &store.Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now()},
		Links:      []store.Link{{URL: Origin + "/b"}},
		Discovered: []store.NewURL{{URL: Origin + "/b", Origin: Origin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: store.StateQueued}}}
	res, err := s.Commit(ctx, []store.Outcome{out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 1 || res.NewByHost[hostID] != 1 || res.Stale != 0 {
		t.Fatalf("commit result %+v, want 1 page, 1 new URL", res)
	}
	// The same outcome again (a duplicate fetch, or the same commit sent
	// again because its answer was lost) must not record a second page.
	res, err = s.Commit(ctx, []store.Outcome{out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 0 || res.Stale != 1 || len(res.NewByHost) != 0 {
		t.Fatalf("second commit result %+v, want stale", res)
	}
	if n, err := s.CountPages(ctx); err != nil || n != 1 {
		t.Fatalf("CountPages = %d, %v; want 1", n, err)
	}
	if home := explain(t, s, "/"); home.State != store.StateDone || home.Attempts != 1 || home.Page == nil {
		t.Errorf("/ = %+v, want done after one attempt, with its page", home)
	}
	// A retry returns the URL to the queue, due later, counted as attempted.
	retryAt := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	res, err = s.Commit(ctx, []store.Outcome{{Lease: ls[1], State: store.StateQueued, Attempted: true, Status: 503,
		Reason: "retry 1/3: HTTP 503", RetryAt: retryAt}})
	if err != nil || res.NewByHost[hostID] != 1 {
		t.Fatalf("retry commit = %+v, %v; want the URL queued again", res, err)
	}
	ls, next, err := s.Claim(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 1 || ls[0].URL != Origin+"/b" || !next.Equal(retryAt) {
		t.Fatalf("Claim = %+v, next due %v, %v; want /b, and /a due at %v", ls, next, err, retryAt)
	}
	if n, due, err := s.Pending(ctx); err != nil || n != 2 || !due.Equal(retryAt) {
		t.Errorf("Pending = %d, %v, %v; want 2, due at %v", n, due, err, retryAt)
	}
	a := explain(t, s, "/a")
	if a.State != store.StateQueued || a.Attempts != 1 || a.Status != 503 || !a.NextAttemptAt.Equal(retryAt) {
		t.Errorf("/a = %+v, want queued for a retry at %v", a, retryAt)
	}
	if err := s.SetInboundLinkIndex(ctx, true); err != nil {
		t.Error(err)
	}
	if err := s.SetInboundLinkIndex(ctx, false); err != nil {
		t.Error(err)
	}
}

// testStaleLease: an outcome is recorded only under the lease it was
// fetched for. Once the lease has been returned to the queue (a crash
// and recovery, or a lease that ran out) and the URL claimed again, the
// old lease's outcome is ignored, and the new one's recorded.
func testStaleLease(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	added, err := s.Add(ctx, []store.NewURL{queued("/a", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	tok := hostLease(t, s, hostID)
	old, _, err := s.Claim(ctx, tok, 1, time.Minute)
	if err != nil || len(old) != 1 {
		t.Fatalf("Claim = %v, %v", old, err)
	}
	expire(t, s, tok)
	s = h.Reopen(t, s)
	if n, err := s.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	done := func(l store.Lease, title string) store.Outcome {
		return store.Outcome{Lease: l, State: store.StateDone, Status: 200, Attempted: true,
			Page: &store.Page{FinalURL: l.URL, Status: 200, FetchedAt: time.Now(), Title: title}}
	}
	// Returned to the queue and not claimed yet: the old outcome is stale.
	if res, err := s.Commit(ctx, []store.Outcome{done(old[0], "old")}); err != nil || res.Stale != 1 || res.Pages != 0 {
		t.Fatalf("commit of the returned lease = %+v, %v; want it ignored", res, err)
	}
	now, _, err := s.Claim(ctx, hostLease(t, s, hostID), 1, time.Minute)
	if err != nil || len(now) != 1 || now[0].ID != old[0].ID || now[0].Claims != 2 {
		t.Fatalf("Claim again = %+v, %v; want the same URL, claimed twice", now, err)
	}
	// Claimed again: the old lease's outcome is still stale.
	if res, err := s.Commit(ctx, []store.Outcome{done(old[0], "old")}); err != nil || res.Stale != 1 || res.Pages != 0 {
		t.Fatalf("commit of the old lease = %+v, %v; want it ignored", res, err)
	}
	if u := explain(t, s, "/a"); u.State != store.StateLeased || u.Page != nil {
		t.Fatalf("/a after the stale commit = %+v, want still leased, no page", u)
	}
	if res, err := s.Commit(ctx, []store.Outcome{done(now[0], "new")}); err != nil || res.Stale != 0 || res.Pages != 1 {
		t.Fatalf("commit of the current lease = %+v, %v; want it recorded", res, err)
	}
	if u := explain(t, s, "/a"); u.State != store.StateDone || u.Page == nil || u.Page.Title != "new" {
		t.Errorf("/a = %+v, page %+v; want done with the current lease's page", u, u.Page)
	}
}

// testRecoverAfterCrash: leases held by a process that died return to the
// queue when the store is opened again and recovered, with the host's
// queued count, and nothing is lost.
func testRecoverAfterCrash(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	var urls []store.NewURL
	for i := range 5 {
		urls = append(urls, queued(fmt.Sprintf("/p/%d", i), 0))
	}
	added, err := s.Add(ctx, urls)
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	tok := hostLease(t, s, hostID)
	ls, _, err := s.Claim(ctx, tok, 3, time.Hour)
	if err != nil || len(ls) != 3 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	if _, err := s.Commit(ctx, []store.Outcome{{Lease: ls[0], State: store.StateDone, Status: 200, Attempted: true,
		Page: &store.Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	expire(t, s, tok)
	s = h.Reopen(t, s) // two leases held by the "crashed" process, whose host lease ran out
	if q, l, err := s.Remaining(ctx); err != nil || q != 2 || l != 2 {
		t.Fatalf("Remaining after the crash = %d queued, %d leased, %v; want 2, 2", q, l, err)
	}
	if n, err := s.Recover(ctx); err != nil || n != 2 {
		t.Fatalf("Recover = %d, %v; want 2", n, err)
	}
	if q, l, err := s.Remaining(ctx); err != nil || q != 4 || l != 0 {
		t.Errorf("Remaining after recovery = %d queued, %d leased, %v; want 4, 0", q, l, err)
	}
	if q := host(t, s, hostID).Queued; q != 4 {
		t.Errorf("host queued = %d, want 4", q)
	}
	ls, _, err = s.Claim(ctx, hostLease(t, s, hostID), 10, time.Hour)
	if err != nil || len(ls) != 4 {
		t.Fatalf("Claim after recovery = %d leases, %v; want 4", len(ls), err)
	}
	for _, l := range ls {
		if l.URL == Origin+"/p/0" {
			t.Errorf("%s, recorded before the crash, was claimed again", l.URL)
		}
	}
	if n, err := s.CountPages(ctx); err != nil || n != 1 {
		t.Errorf("CountPages = %d, %v; want 1", n, err)
	}
}

// testGiveUpHost: once a host is given up, none of its URLs stays queued:
// those never fetched are skipped with the host's reason, those tried are
// failed, and URLs of the host found later (in this process or the next)
// are skipped as they are added. The run can then end.
func testGiveUpHost(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	const why = "robots.txt unavailable (HTTP 500) after 5 attempts"
	added, err := s.Add(ctx, []store.NewURL{queued("/a", 0), queued("/b", 0), queued("/c", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	tok := hostLease(t, s, hostID)
	ls, _, err := s.Claim(ctx, tok, 2, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	// /a was tried and waits for a retry; /b is in flight; /c is queued.
	if _, err := s.Commit(ctx, []store.Outcome{{Lease: ls[0], State: store.StateQueued, Attempted: true, Reason: "retry 1/3: HTTP 500",
		RetryAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.GiveUpHost(ctx, hostID, why); err != nil || n != 3 {
		t.Fatalf("GiveUpHost = %d, %v; want 3 URLs ended", n, err)
	}
	res, err := s.Commit(ctx, []store.Outcome{{Discovered: []store.NewURL{queued("/d", 0)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NewByHost) != 0 {
		t.Errorf("URL of a given-up host counted as queued: %v", res.NewByHost)
	}

	// A new process knows the host only from the database.
	expire(t, s, tok)
	s = h.Reopen(t, s)
	if _, err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, []store.NewURL{queued("/e", 0)}); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"/a": "failed: " + why, "/b": "skipped: " + why, "/c": "skipped: " + why, "/d": "skipped: " + why, "/e": "skipped: " + why,
	} {
		if u := explain(t, s, p); u.State+": "+u.Reason != want {
			t.Errorf("%s: %q, want %q", p, u.State+": "+u.Reason, want)
		}
	}
	row := host(t, s, hostID)
	if row.Queued != 0 || row.State != "given_up" || row.Reason != why {
		t.Errorf("host = %+v; want nothing queued, given_up with the reason", row)
	}
	hs, _, err := s.HostList(ctx, store.ByQueued, 10)
	if err != nil || len(hs) != 1 || hs[0].Errors != 1 {
		t.Errorf("HostList = %+v, %v; want the host with 1 error (the tried URL)", hs, err)
	}
	if ready, err := s.LeaseHosts(ctx, store.HostQuery{Limit: 10}, time.Minute); err != nil || len(ready) != 0 {
		t.Errorf("LeaseHosts = %+v, %v; want none", ready, err)
	}
	if n, _, err := s.Pending(ctx); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v; want 0", n, err)
	}
}

// testShorterPathWins: a URL found again by a shorter path takes it. A
// queued URL takes the smaller depth and template chain, and the parent
// that gave the smaller depth; a URL skipped only for its path (too deep,
// template chain too long) is queued again, with a host and counted as
// queued. Other skips and finished URLs stay.
func testShorterPathWins(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	// Pages at depths 0 to 5 (/d/0 ... /d/5), to be the parents.
	var chain []store.NewURL
	for d := range 6 {
		chain = append(chain, queued(fmt.Sprintf("/d/%d", d), d))
	}
	added, err := s.Add(ctx, chain)
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	tok := hostLease(t, s, hostID)
	parents, _, err := s.Claim(ctx, tok, 6, time.Minute)
	if err != nil || len(parents) != 6 {
		t.Fatalf("Claim parents = %v, %v", parents, err)
	}
	found := func(p string, from store.Lease, chain int) store.NewURL {
		n := queued(p, from.Depth+1)
		n.Chain, n.ParentID = chain, from.ID
		return n
	}
	tooDeep := store.NewURL{URL: Origin + "/deep", Depth: 6, Source: "link", State: store.StateSkipped, PathLimited: true,
		Reason: "depth exceeds max_depth", ParentID: parents[5].ID}
	robots := store.NewURL{URL: Origin + "/robots", Origin: Origin, Depth: 6, Source: "link", State: store.StateSkipped,
		Reason: "robots.txt", ParentID: parents[5].ID}
	added, err = s.Add(ctx, []store.NewURL{found("/queued", parents[4], 3), tooDeep, robots})
	if err != nil || added[hostID] != 1 {
		t.Fatalf("Add = %v, %v; want /queued queued", added, err)
	}
	// Again, by shorter paths; /deep twice in one batch, the deeper first.
	res, err := s.Commit(ctx, []store.Outcome{{Discovered: []store.NewURL{
		found("/queued", parents[2], 1), found("/deep", parents[4], 0), found("/deep", parents[3], 0),
		found("/robots", parents[0], 0), found("/queued", parents[3], 0),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewByHost[hostID] != 1 {
		t.Errorf("newly queued for the host: %v, want 1 (/deep)", res.NewByHost)
	}
	for p, want := range map[string]string{
		"/queued": `queued depth 3 parent /d/2 host true ""`,
		"/deep":   `queued depth 4 parent /d/3 host true ""`,
		"/robots": `skipped depth 6 parent /d/5 host false "robots.txt"`,
	} {
		u := explain(t, s, p)
		got := fmt.Sprintf("%s depth %d parent %s host %v %q", u.State, u.Depth, u.ParentURL[min(len(u.ParentURL), len(Origin)):],
			u.Host != nil && u.Host.ID == hostID, u.Reason)
		if got != want {
			t.Errorf("%s: %s, want %s", p, got, want)
		}
	}
	if q := host(t, s, hostID).Queued; q != 2 {
		t.Errorf("host queued = %d, want 2", q)
	}
	ls, _, err := s.Claim(ctx, tok, 10, time.Minute)
	if err != nil || len(ls) != 2 || ls[0].URL != Origin+"/queued" || ls[0].Depth != 3 || ls[0].Chain != 0 ||
		ls[1].URL != Origin+"/deep" || ls[1].Chain != 0 {
		t.Errorf("Claim = %+v, %v; want /queued at depth 3 chain 0, then /deep", ls, err)
	}
}

// testHostState: politeness state, robots.txt and reservations written by
// one process are what the next one adopts; a reservation never moves
// back.
func testHostState(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	added, err := s.Add(ctx, []store.NewURL{queued("/", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	pause := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.SaveHosts(ctx, []store.HostPoliteness{{ID: hostID, NextFetchAt: pause, BackoffLevel: 3, Failures: 2,
		Delay: 1500 * time.Millisecond, Latency: 200 * time.Millisecond, CrawlDelay: 5 * time.Second, Reason: "slow"}}); err != nil {
		t.Fatal(err)
	}
	robots := store.RobotsRecord{Status: 503, Err: "HTTP 503", FetchedAt: time.Now(), ExpiresAt: pause, Failures: 4}
	if err := s.SaveRobots(ctx, hostID, robots); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(10 * time.Second).Truncate(time.Millisecond)
	if err := s.ReserveHosts(ctx, []store.HostReservation{{ID: hostID, Until: until}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReserveHosts(ctx, []store.HostReservation{{ID: hostID, Until: until.Add(-5 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	s = h.Reopen(t, s)
	got := host(t, s, hostID)
	want := store.HostRow{ID: hostID, Origin: Origin, Queued: 1, RobotsExpiresAt: pause.UnixMilli(), RobotsFailures: 4,
		NextFetchAt: pause.UnixMilli(), BackoffLevel: 3, Failures: 2, DelayMS: 1500, LatencyMS: 200,
		NextAllowedAt: until.UnixMilli(), State: "active", Reason: "slow"}
	want.RobotsStatus.Int64, want.RobotsStatus.Valid = 503, true
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("host after a restart (-want +got):\n%s", diff)
	}
	hs, _, err := s.HostList(ctx, store.ByDelay, 10)
	if err != nil || len(hs) != 1 || hs[0].CrawlDelayMS != 5000 || hs[0].Leased != 0 {
		t.Errorf("HostList = %+v, %v; want the crawl delay of 5 s", hs, err)
	}
	u := explain(t, s, "/")
	if u.Host == nil || !u.Host.RobotsFetched || u.Host.RobotsStatus != 503 || u.Host.RobotsError != "HTTP 503" || u.Host.RobotsFailures != 4 {
		t.Errorf("explain host = %+v, want the robots.txt record", u.Host)
	}
}

// testLeaseHosts: LeaseHosts leases active hosts with queued URLs that
// nobody holds, in id order after a given id, or the hosts asked for.
func testLeaseHosts(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	var ids []int64
	for i := range 5 {
		origin := fmt.Sprintf("http://127.0.0.%d:8080", i+2)
		added, err := s.Add(ctx, []store.NewURL{{URL: origin + "/", Origin: origin, Source: "seed", State: store.StateQueued},
			{URL: origin + "/2", Origin: origin, Source: "seed", State: store.StateQueued}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, hostOf(t, added))
	}
	// Host 1 is held, host 2 is given up, host 4 is asked for by id.
	held := hostLease(t, s, ids[1])
	if _, err := s.GiveUpHost(ctx, ids[2], "gone"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LeaseHosts(ctx, store.HostQuery{IDs: []int64{ids[1], ids[4]}, Limit: 5}, time.Minute); err != nil ||
		len(got) != 1 || got[0].ID != ids[4] || got[0].Token == 0 || got[0].Token == held.Token || got[0].Queued != 2 ||
		got[0].LeaseLeft != time.Minute {
		t.Errorf("LeaseHosts(hosts 1 and 4) = %+v, %v; want host 4 only, with a new token", got, err)
	}
	var got []int64
	after := int64(0)
	for range 10 {
		rows, err := s.LeaseHosts(ctx, store.HostQuery{After: after, Limit: 1}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		got = append(got, rows[0].ID)
		after = rows[0].ID
	}
	if want := []int64{ids[0], ids[3]}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LeaseHosts in pages of 1 = %v, want %v", got, want)
	}
	// Released, a host can be leased again, with its URLs: one claimed
	// under the lease and never recorded (its claim's answer was lost)
	// returns to the queue.
	if ls, _, err := s.Claim(ctx, held, 1, time.Minute); err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	if err := s.ReleaseHosts(ctx, []store.HostRelease{{HostToken: held}}); err != nil {
		t.Fatal(err)
	}
	if q := host(t, s, ids[1]).Queued; q != 2 {
		t.Errorf("host queued = %d after its release, want 2", q)
	}
	if again := hostLease(t, s, ids[1]); again.Token == held.Token {
		t.Errorf("host leased again with its old token %d", held.Token)
	}
}

// testHostLeaseTakeover: a host lease that runs out (its worker died, or
// lost the database) is taken over by another worker: the URLs leased
// under it return to the queue and are claimed under the new lease; the
// old holder can claim, renew and record nothing more, discovered URLs
// included.
func testHostLeaseTakeover(t *testing.T, h Harness) {
	ctx := context.Background()
	a := h.Open(t)
	b := a
	if h.Join != nil {
		b = h.Join(t, a)
	}
	if _, err := a.StartWorker(ctx, "a", 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := b.StartWorker(ctx, "b", 2, time.Minute); err != nil && b != a {
		t.Fatal(err)
	}
	added, err := a.Add(ctx, []store.NewURL{queued("/1", 0), queued("/2", 0), queued("/3", 0)})
	if err != nil {
		t.Fatal(err)
	}
	hostID := hostOf(t, added)
	old := hostLease(t, a, hostID)
	ls, _, err := a.Claim(ctx, old, 2, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	if got, err := b.LeaseHosts(ctx, store.HostQuery{Limit: 10}, time.Minute); err != nil || len(got) != 0 {
		t.Fatalf("LeaseHosts while the host is held = %+v, %v; want none", got, err)
	}
	expire(t, a, old)
	got, err := b.LeaseHosts(ctx, store.HostQuery{Limit: 10}, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != hostID || got[0].Queued != 3 {
		t.Fatalf("LeaseHosts after the lease ran out = %+v, %v; want the host, all 3 URLs queued", got, err)
	}
	taken := store.HostToken{ID: hostID, Token: got[0].Token}
	if _, _, err := a.Claim(ctx, old, 1, time.Minute); !errors.Is(err, store.ErrHostLost) {
		t.Errorf("Claim under the old lease = %v, want ErrHostLost", err)
	}
	if left, err := a.RenewHosts(ctx, []store.HostToken{old}, time.Minute); err != nil || len(left) != 0 {
		t.Errorf("RenewHosts of the old lease = %v, %v; want it lost", left, err)
	}
	// The old holder's fetch of /1 ends after the takeover: nothing of it is
	// recorded, not even the URL it found.
	late := store.Outcome{Lease: ls[0], State: store.StateDone, Status: 200, Attempted: true,
		Page:       &store.Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now()},
		Discovered: []store.NewURL{queued("/found-late", 1)}}
	if res, err := a.Commit(ctx, []store.Outcome{late}); err != nil || res.Stale != 1 || res.Pages != 0 || len(res.NewByHost) != 0 {
		t.Fatalf("commit under the old lease = %+v, %v; want it stale", res, err)
	}
	now, _, err := b.Claim(ctx, taken, 10, time.Minute)
	if err != nil || len(now) != 3 {
		t.Fatalf("Claim under the new lease = %+v, %v; want all 3 URLs", now, err)
	}
	// Claimed again, under the new lease: the old outcome is still stale.
	if res, err := a.Commit(ctx, []store.Outcome{late}); err != nil || res.Stale != 1 || res.Pages != 0 {
		t.Fatalf("commit under the old lease, claimed again = %+v, %v; want it stale", res, err)
	}
	var batch []store.Outcome
	for _, l := range now {
		batch = append(batch, store.Outcome{Lease: l, State: store.StateDone, Status: 200, Attempted: true,
			Page: &store.Page{FinalURL: l.URL, Status: 200, FetchedAt: time.Now()}})
	}
	if res, err := b.Commit(ctx, batch); err != nil || res.Pages != 3 || res.Stale != 0 {
		t.Fatalf("commit under the new lease = %+v, %v; want 3 pages", res, err)
	}
	if _, err := b.Explain(ctx, Origin+"/found-late", 0); !errors.Is(err, store.ErrUnknownURL) {
		t.Errorf("Explain(/found-late) = %v; the stale outcome's link was recorded", err)
	}
	if n, err := b.CountPages(ctx); err != nil || n != 3 {
		t.Errorf("CountPages = %d, %v; want 3, each URL once", n, err)
	}
	if err := b.ReleaseHosts(ctx, []store.HostRelease{{HostToken: taken}}); err != nil {
		t.Fatal(err)
	}
}

// testRuns: a run's start and end are what status reports.
func testRuns(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	id, err := s.StartRun(ctx, "seeds: [x]")
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.Status(ctx)
	if err != nil || !st.Running || st.LastRun.StartedAt == 0 {
		t.Fatalf("Status while running = %+v, %v", st, err)
	}
	if err := s.EndRun(ctx, id, "finished"); err != nil {
		t.Fatal(err)
	}
	st, err = s.Status(ctx)
	if err != nil || st.Running || st.LastRun.Outcome != "finished" {
		t.Errorf("Status after the run = %+v, %v; want not running, outcome finished", st, err)
	}
}

// testSettings: the first run records the crawl's settings; a run whose
// settings differ is refused with the groups that differ, unless it
// records its own; a group the crawl has not recorded yet is recorded.
func testSettings(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	first := map[string]string{"seeds": `["a"]`, "scope": `{"x":1}`}
	if err := s.RecordSettings(ctx, first, false); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSettings(ctx, map[string]string{"seeds": `["a"]`, "scope": `{"x":1}`, "rules": `[]`}, false); err != nil {
		t.Fatalf("same settings and a new group: %v", err)
	}
	s = h.Reopen(t, s)
	err := s.RecordSettings(ctx, map[string]string{"seeds": `["b"]`, "scope": `{"x":1}`, "rules": `[1]`}, false)
	var differ *store.SettingsDiffer
	if !errors.As(err, &differ) || fmt.Sprint(differ.Groups) != "[rules seeds]" || !strings.Contains(err.Error(), "another name") {
		t.Fatalf("other settings = %v, want them refused, naming rules and seeds", err)
	}
	if err := s.RecordSettings(ctx, map[string]string{"seeds": `["b"]`, "rules": `[1]`}, true); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := s.RecordSettings(ctx, map[string]string{"seeds": `["b"]`, "scope": `{"x":1}`, "rules": `[1]`}, false); err != nil {
		t.Errorf("settings after the update: %v", err)
	}
}
