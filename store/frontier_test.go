package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// frontierStates returns url -> "state: reason" of every frontier row.
func frontierStates(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.Reader().Query(`SELECT url, state || ': ' || coalesce(reason, '') FROM frontier`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var u, s string
		if err := rows.Scan(&u, &s); err != nil {
			t.Fatal(err)
		}
		m[u] = s
	}
	return m
}

// TestGiveUpHost: once a host is given up, none of its URLs stays queued:
// those never fetched are skipped with the host's reason, those tried are
// failed, and URLs of the host found later (in this process or the next)
// are skipped as they are added. The run can then end.
func TestGiveUpHost(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "http://127.0.0.9:8080"
	const why = "robots.txt unavailable (HTTP 500) after 5 attempts"
	q := func(p string) NewURL {
		return NewURL{URL: origin + p, Origin: origin, Source: "link", State: StateQueued}
	}
	added, err := db.Add(ctx, []NewURL{q("/a"), q("/b"), q("/c")})
	if err != nil {
		t.Fatal(err)
	}
	var hostID int64
	for id := range added {
		hostID = id
	}
	ls, _, err := db.Claim(ctx, hostID, 2, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	// /a was tried and waits for a retry; /b is in flight; /c is queued.
	if _, err := db.Commit(ctx, []Outcome{{Lease: ls[0], State: StateQueued, Attempted: true, Reason: "retry 1/3: HTTP 500",
		RetryAt: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GiveUpHost(ctx, hostID, why); err != nil {
		t.Fatal(err)
	}
	res, err := db.Commit(ctx, []Outcome{{Discovered: []NewURL{q("/d")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NewByHost) != 0 {
		t.Errorf("URL of a given-up host counted as queued: %v", res.NewByHost)
	}
	db.Close()

	// A new process knows the host only from the database.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Add(ctx, []NewURL{q("/e")}); err != nil {
		t.Fatal(err)
	}
	got := frontierStates(t, db)
	for p, want := range map[string]string{
		"/a": "failed: " + why, "/b": "skipped: " + why, "/c": "skipped: " + why, "/d": "skipped: " + why, "/e": "skipped: " + why,
	} {
		if got[origin+p] != want {
			t.Errorf("%s: %q, want %q", p, got[origin+p], want)
		}
	}
	var queued, errs int
	var state string
	db.Reader().QueryRow(`SELECT queued, errors, state FROM hosts WHERE id = ?`, hostID).Scan(&queued, &errs, &state)
	if queued != 0 || errs != 1 || state != "given_up" {
		t.Errorf("host: queued %d, errors %d, state %s; want 0, 1 (the tried URL), given_up", queued, errs, state)
	}

	// A database written before URLs of given-up hosts were skipped may hold
	// some queued: recovery at the start of a run settles them.
	if _, err := db.w.Exec(`UPDATE frontier SET state = 'queued', reason = NULL WHERE url = ?`, origin+"/e"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.Pending(ctx); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v after recovery; want 0", n, err)
	}
	if got := frontierStates(t, db)[origin+"/e"]; got != "skipped: "+why {
		t.Errorf("/e after recovery: %q, want skipped with the host's reason", got)
	}
}

// TestShorterPathWins: a URL found again by a shorter path takes it. A
// queued URL takes the smaller depth and template chain; a URL skipped only
// for its path (too deep, template chain too long) is queued again, with a
// host and counted as queued. Other skips and finished URLs stay.
func TestShorterPathWins(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const origin = "http://127.0.0.9:8080"
	q := func(p string, depth, chain int) NewURL {
		return NewURL{URL: origin + p, Origin: origin, Depth: depth, Chain: chain, ParentID: int64(100 + depth),
			Source: "link", State: StateQueued}
	}
	tooDeep := func(p string, depth int) NewURL {
		return NewURL{URL: origin + p, Depth: depth, Source: "link", State: StateSkipped, PathLimited: true,
			Reason: "depth exceeds max_depth"}
	}
	added, err := db.Add(ctx, []NewURL{
		q("/queued", 5, 3), tooDeep("/deep", 6),
		{URL: origin + "/robots", Origin: origin, Depth: 6, Source: "link", State: StateSkipped, Reason: "robots.txt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hostID int64
	for id := range added {
		hostID = id
	}
	// Again, by shorter paths; /deep twice in one batch, the deeper first.
	res, err := db.Commit(ctx, []Outcome{{Discovered: []NewURL{
		q("/queued", 3, 1), q("/deep", 5, 0), q("/deep", 4, 0), q("/robots", 1, 0), q("/queued", 4, 0),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewByHost[hostID] != 1 {
		t.Errorf("newly queued for the host: %v, want 1 (/deep)", res.NewByHost)
	}
	rows, err := db.Reader().Query(`SELECT url, state, depth, chain, coalesce(parent_id, 0), coalesce(reason, ''),
		coalesce(host_id, 0), path_limited FROM frontier`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var u, st, reason string
		var depth, chain, parent, host, limited int64
		if err := rows.Scan(&u, &st, &depth, &chain, &parent, &reason, &host, &limited); err != nil {
			t.Fatal(err)
		}
		got[u[len(origin):]] = fmt.Sprintf("%s depth %d chain %d parent %d host %v limited %d %q", st, depth, chain, parent,
			host == hostID, limited, reason)
	}
	for p, want := range map[string]string{
		"/queued": `queued depth 3 chain 0 parent 103 host true limited 0 ""`,
		"/deep":   `queued depth 4 chain 0 parent 104 host true limited 0 ""`,
		"/robots": `skipped depth 6 chain 0 parent 0 host false limited 0 "robots.txt"`,
	} {
		if got[p] != want {
			t.Errorf("%s: %s, want %s", p, got[p], want)
		}
	}
	var queued int
	db.Reader().QueryRow(`SELECT queued FROM hosts WHERE id = ?`, hostID).Scan(&queued)
	if queued != 2 {
		t.Errorf("hosts.queued = %d, want 2", queued)
	}
	ls, _, err := db.Claim(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 2 || ls[0].Depth != 3 || ls[1].URL != origin+"/deep" || ls[1].Chain != 0 {
		t.Errorf("Claim = %+v, %v; want /queued at depth 3, then /deep", ls, err)
	}
}
