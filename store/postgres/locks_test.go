package postgres

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/store"
)

const lockOrigin = "http://locks.test"

// lockFixture is a crawl with one host, leased by this worker, and one
// of its URLs claimed.
type lockFixture struct {
	db    *DB
	tok   store.HostToken
	lease store.Lease
	admin *pgx.Conn
}

func newLockFixture(t *testing.T) *lockFixture {
	t.Helper()
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.StartWorker(ctx, "test", 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Add(ctx, []store.NewURL{
		{URL: lockOrigin + "/a", Origin: lockOrigin, Source: "seed", State: store.StateQueued},
		{URL: lockOrigin + "/b", Origin: lockOrigin, Source: "seed", State: store.StateQueued},
	}); err != nil {
		t.Fatal(err)
	}
	hs, err := db.LeaseHosts(ctx, store.HostQuery{Limit: 1}, time.Hour)
	if err != nil || len(hs) != 1 {
		t.Fatalf("LeaseHosts = %v, %v", hs, err)
	}
	tok := store.HostToken{ID: hs[0].ID, Token: hs[0].Token}
	ls, _, err := db.Claim(ctx, tok, 1, time.Hour)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	admin, err := pgx.Connect(ctx, db.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })
	return &lockFixture{db: db, tok: tok, lease: ls[0], admin: admin}
}

// holdHost locks the host's row from another session until the returned
// function is called.
func (f *lockFixture) holdHost(t *testing.T) (pid uint32, release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := f.admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+pgx.Identifier{f.db.Name(), "hosts"}.Sanitize()+` WHERE id = $1 FOR UPDATE`,
		f.tok.ID); err != nil {
		t.Fatal(err)
	}
	return f.admin.PgConn().PID(), func() { tx.Rollback(ctx) }
}

// blockedBehind returns how many sessions wait, directly or through each
// other, for the session pid.
func blockedBehind(t *testing.T, admin *pgx.Conn, pid uint32) int {
	t.Helper()
	ctx := context.Background()
	// The session holding the lock is in a transaction, which would see
	// one snapshot of the activity.
	if _, err := admin.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
		t.Fatal(err)
	}
	rows, err := admin.Query(ctx, `SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock'`)
	if err != nil {
		t.Fatal(err)
	}
	blocked := map[int32][]int32{}
	for rows.Next() {
		var p int32
		var by []int32
		if err := rows.Scan(&p, &by); err != nil {
			t.Fatal(err)
		}
		blocked[p] = by
	}
	rows.Close()
	behind := map[int32]bool{int32(pid): true}
	for grew := true; grew; {
		grew = false
		for p, by := range blocked {
			if !behind[p] && slices.ContainsFunc(by, func(b int32) bool { return behind[b] }) {
				behind[p], grew = true, true
			}
		}
	}
	return len(behind) - 1
}

// pollTries bounds the polls of the server's lock table.
const pollTries = 2000

// waitBlocked waits until n sessions wait, directly or through each
// other, for the session pid; bounded.
func waitBlocked(t *testing.T, admin *pgx.Conn, pid uint32, n int) {
	t.Helper()
	for try := 0; try < pollTries; try++ {
		if blockedBehind(t, admin, pid) >= n {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the server's lock table, not synchronising
	}
	t.Fatalf("fewer than %d sessions wait for session %d", n, pid)
}

// run runs f in a goroutine and returns a channel with its error.
func run(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func (f *lockFixture) pageOutcome() store.Outcome {
	return store.Outcome{Lease: f.lease, State: store.StateDone, Status: 200, Attempted: true,
		Page: &store.Page{FinalURL: f.lease.URL, Status: 200, ContentType: "text/html", FetchedAt: time.Now()},
		Discovered: []store.NewURL{{URL: lockOrigin + "/c", Origin: lockOrigin, Depth: 1, Source: "link",
			State: store.StateQueued}}}
}

// queueBehindHost runs first, then second, each once the one before
// waits for a session holding the fixture's host row, then releases that
// row and returns their errors.
func (f *lockFixture) queueBehindHost(t *testing.T, first, second func() error) (error, error) {
	t.Helper()
	pid, release := f.holdHost(t)
	one := run(first)
	waitBlocked(t, f.admin, pid, 1)
	two := run(second)
	waitBlocked(t, f.admin, pid, 2)
	release()
	return <-one, <-two
}

// noDeadlock fails t if a transaction of dbs ran again after a deadlock.
func noDeadlock(t *testing.T, dbs ...*DB) {
	t.Helper()
	for _, db := range dbs {
		if n := db.conflicts.Load(); n != 0 {
			t.Fatalf("%d transactions ran again after a deadlock; want none", n)
		}
	}
}

// TestRenewWhileCommitting: a worker renewing its leases while it records
// pages of the same host takes the locks in one order: neither waits for
// the other in a cycle (PostgreSQL would end one as a deadlock).
func TestRenewWhileCommitting(t *testing.T) {
	f := newLockFixture(t)
	ctx := context.Background()
	errRenew, errCommit := f.queueBehindHost(t, func() error {
		_, err := f.db.RenewHosts(ctx, []store.HostToken{f.tok}, time.Hour)
		return err
	}, func() error {
		_, err := f.db.Commit(ctx, []store.Outcome{f.pageOutcome()})
		return err
	})
	if err := errors.Join(errRenew, errCommit); err != nil {
		t.Fatal(err)
	}
	noDeadlock(t, f.db)
}

// TestGiveUpWhileCommitting: a host given up while its worker records one
// of its URLs: no deadlock, and no URL of the host is left queued or
// leased, whichever transaction wins.
func TestGiveUpWhileCommitting(t *testing.T) {
	f := newLockFixture(t)
	ctx := context.Background()
	errGiveUp, errCommit := f.queueBehindHost(t, func() error {
		_, err := f.db.GiveUpHost(ctx, f.tok.ID, "gone")
		return err
	}, func() error {
		_, err := f.db.Commit(ctx, []store.Outcome{f.pageOutcome()})
		return err
	})
	if err := errors.Join(errGiveUp, errCommit); err != nil {
		t.Fatal(err)
	}
	noDeadlock(t, f.db)
	checkSettled(t, f.db, f.tok.ID)
}

// TestCommitQueuesForHostBeingGivenUp: a commit that queues URLs of a
// host another worker is giving up, reading the host active before the
// give-up and locking it after: the URLs it queued end as skipped.
func TestCommitQueuesForHostBeingGivenUp(t *testing.T) {
	f := newLockFixture(t)
	ctx := context.Background()
	other, err := Open(ctx, f.db.URL(), f.db.Name(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	errGiveUp, errAdd := f.queueBehindHost(t, func() error {
		_, err := f.db.GiveUpHost(ctx, f.tok.ID, "gone")
		return err
	}, func() error {
		// Another worker's page links to new URLs of the host.
		_, err := other.Add(ctx, []store.NewURL{
			{URL: lockOrigin + "/d", Origin: lockOrigin, Depth: 1, Source: "link", State: store.StateQueued},
			{URL: lockOrigin + "/e", Origin: lockOrigin, Depth: 1, Source: "link", State: store.StateQueued}})
		return err
	})
	if err := errors.Join(errGiveUp, errAdd); err != nil {
		t.Fatal(err)
	}
	checkSettled(t, f.db, f.tok.ID)
}

// checkSettled fails t unless no URL of the given-up host is queued or
// leased and its queued counter is 0.
func checkSettled(t *testing.T, db *DB, hostID int64) {
	t.Helper()
	var live, queued int
	var state string
	if err := db.w.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM frontier WHERE host_id = $1
		AND state IN ('queued', 'leased')), queued, state FROM hosts WHERE id = $1`, hostID).Scan(&live, &queued, &state); err != nil {
		t.Fatal(err)
	}
	if live != 0 || queued != 0 || state != "given_up" {
		t.Fatalf("host %s with %d URLs live, queued counter %d; want given_up, 0, 0", state, live, queued)
	}
}

// TestCommitsLinkingEachOther: two workers each record a page that links
// to the page the other records. Neither waits for the other: a link to
// a known URL does not wait for the transaction recording that URL.
func TestCommitsLinkingEachOther(t *testing.T) {
	f := newLockFixture(t) // worker A holds lockOrigin, with /a claimed
	ctx := context.Background()
	const originB = "http://locks-b.test"
	b, err := Open(ctx, f.db.URL(), f.db.Name(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.StartWorker(ctx, "test", 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	added, err := b.Add(ctx, []store.NewURL{{URL: originB + "/u", Origin: originB, Source: "seed", State: store.StateQueued}})
	if err != nil {
		t.Fatal(err)
	}
	var hostB int64
	for id := range added {
		hostB = id
	}
	hs, err := b.LeaseHosts(ctx, store.HostQuery{IDs: []int64{hostB}, Limit: 1}, time.Hour)
	if err != nil || len(hs) != 1 {
		t.Fatalf("LeaseHosts = %v, %v", hs, err)
	}
	ls, _, err := b.Claim(ctx, store.HostToken{ID: hostB, Token: hs[0].Token}, 1, time.Hour)
	if err != nil || len(ls) != 1 {
		t.Fatalf("Claim = %v, %v", ls, err)
	}
	leaseB := ls[0]
	page := func(l store.Lease, links ...store.NewURL) []store.Outcome {
		return []store.Outcome{{Lease: l, State: store.StateDone, Status: 200, Attempted: true,
			Page:       &store.Page{FinalURL: l.URL, Status: 200, ContentType: "text/html", FetchedAt: time.Now()},
			Discovered: links}}
	}
	link := func(url, origin string) store.NewURL {
		return store.NewURL{URL: url, Origin: origin, Depth: 1, Source: "link", State: store.StateQueued}
	}
	// Another session inserting a URL of B's host holds A's commit just
	// after it recorded its page, before it adds its links.
	tx, err := f.admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{f.db.Name(), "frontier"}.Sanitize()+
		` (url, host_id, depth, source, state, discovered_at, updated_at) VALUES ($1, $2, 1, 'link', 'queued', 0, 0)`,
		originB+"/0", hostB); err != nil {
		t.Fatal(err)
	}
	pid := f.admin.PgConn().PID()
	doneA := run(func() error {
		_, err := f.db.Commit(ctx, page(f.lease, link(originB+"/0", originB), link(originB+"/u", originB)))
		return err
	})
	waitBlocked(t, f.admin, pid, 1)
	doneB := run(func() error {
		_, err := b.Commit(ctx, page(leaseB, link(f.lease.URL, lockOrigin)))
		return err
	})
	// B either records its page, or waits for A (which waits for the
	// other session): then releasing that session deadlocks A and B.
	var errB error
	finished := false
	for try := 0; !finished && try < pollTries; try++ {
		select {
		case errB = <-doneB:
			finished = true
		default:
			if blockedBehind(t, f.admin, pid) >= 2 {
				try = pollTries
				break
			}
			time.Sleep(5 * time.Millisecond) // polling the server's lock table, not synchronising
		}
	}
	tx.Rollback(ctx)
	if err := <-doneA; err != nil {
		t.Fatal(err)
	}
	if !finished {
		errB = <-doneB
	}
	if errB != nil {
		t.Fatal(errB)
	}
	noDeadlock(t, f.db, b)
}
