package store

import (
	"context"
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
