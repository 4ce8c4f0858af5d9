package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrationsNumbered(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d is %s", i+1, m.Name)
		}
	}
}

func TestOpenTwiceIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(context.Background(), path)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
}

func TestOpenCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crawl.db")
	junk := []byte(strings.Repeat("this is not a database ", 400))
	if err := os.WriteFile(path, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "not a valid SQLite database") {
		t.Fatalf("Open(corrupt) = %v, want a clear corruption error", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != string(junk) {
		t.Fatal("Open modified the corrupt file")
	}
}

// TestOpenLargeFile opens files the way one above fullCheckMax is opened,
// with a schema read instead of a full check: a database opens, junk is
// refused and left as it was.
func TestOpenLargeFile(t *testing.T) {
	old := fullCheckMax
	fullCheckMax = 0
	t.Cleanup(func() { fullCheckMax = old })
	path := filepath.Join(t.TempDir(), "crawl.db")
	for i := 0; i < 2; i++ { // create, then reopen
		db, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		db.Close()
	}
	junkPath := filepath.Join(t.TempDir(), "junk.db")
	junk := []byte(strings.Repeat("this is not a database ", 400))
	if err := os.WriteFile(junkPath, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), junkPath); err == nil || !strings.Contains(err.Error(), "not a valid SQLite database") {
		t.Fatalf("Open(junk) = %v, want a clear corruption error", err)
	}
	if got, _ := os.ReadFile(junkPath); string(got) != string(junk) {
		t.Fatal("Open modified the junk file")
	}
}

func TestClaimCommitExactlyOnce(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const origin = "http://127.0.0.2:8080"
	added, err := db.Add(ctx, []NewURL{
		{URL: origin + "/", Origin: origin, Source: "seed", State: StateQueued},
		{URL: origin + "/a", Origin: origin, Depth: 1, Source: "seed", State: StateQueued},
		{URL: "http://other.example/", Source: "seed", State: StateSkipped, Reason: "out of scope"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var hostID int64
	for id, n := range added {
		hostID = id
		if n != 2 {
			t.Fatalf("queued for host = %d, want 2", n)
		}
	}
	// Adding the same URLs again changes nothing.
	if again, err := db.Add(ctx, []NewURL{{URL: origin + "/", Origin: origin, Source: "seed", State: StateQueued}}); err != nil || len(again) != 0 {
		t.Fatalf("re-adding = %v, %v; want no new URLs", again, err)
	}
	ls, _, err := db.Claim(ctx, hostID, 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].URL != origin+"/" || ls[1].URL != origin+"/a" {
		t.Fatalf("claimed %+v, want / then /a (breadth first)", ls)
	}
	out := Outcome{Lease: ls[0], State: StateDone, Status: 200, Attempted: true,
		Page:       &Page{FinalURL: ls[0].URL, Status: 200, FetchedAt: time.Now()},
		Links:      []Link{{URL: origin + "/b"}},
		Discovered: []NewURL{{URL: origin + "/b", Origin: origin, Depth: 1, ParentID: ls[0].ID, Source: "link", State: StateQueued}}}
	res, err := db.Commit(ctx, []Outcome{out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 1 || res.NewByHost[hostID] != 1 {
		t.Fatalf("commit result %+v", res)
	}
	// The same outcome again (a duplicate fetch) must not record a second page.
	res, err = db.Commit(ctx, []Outcome{out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pages != 0 || res.Stale != 1 {
		t.Fatalf("second commit result %+v, want stale", res)
	}
	n, _ := db.CountPages(ctx)
	if n != 1 {
		t.Fatalf("pages = %d, want 1", n)
	}
	// A crash leaves /a leased; Recover returns it to the queue.
	if n, err := db.Recover(ctx); err != nil || n != 1 {
		t.Fatalf("Recover = %d, %v; want 1", n, err)
	}
	ls, _, err = db.Claim(ctx, hostID, 10, time.Minute)
	if err != nil || len(ls) != 2 {
		t.Fatalf("claim after recover = %+v, %v; want /a and /b", ls, err)
	}
	var queued int
	db.Reader().QueryRow(`SELECT queued FROM hosts WHERE id = ?`, hostID).Scan(&queued)
	if queued != 0 {
		t.Fatalf("hosts.queued = %d after claiming all, want 0", queued)
	}
}

func TestReaderWhileWriting(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO runs (started_at) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// A write transaction is open: readers still answer at once.
	ro, err := OpenReadOnly(ctx, db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Status(ctx); err != nil {
		t.Fatalf("Status during a write: %v", err)
	}
	if _, err := ro.Reader().Exec(`DELETE FROM runs`); err == nil {
		t.Fatal("read-only pool accepted a write")
	}
}

func TestSetInboundLinkIndex(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	count := func() int {
		var n int
		db.Reader().QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'links_to_url'`).Scan(&n)
		return n
	}
	for _, on := range []bool{false, false, true, true} {
		if err := db.SetInboundLinkIndex(ctx, on); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 1}[on]; count() != want {
			t.Fatalf("SetInboundLinkIndex(%v): %d indexes, want %d", on, count(), want)
		}
	}
}

// TestConnectionCaches checks the page cache of the writer and of the
// readers, which bound the memory SQLite takes however large the database.
func TestConnectionCaches(t *testing.T) {
	db := openTest(t)
	var w, r int
	if err := db.w.QueryRow(`PRAGMA cache_size`).Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := db.Reader().QueryRow(`PRAGMA cache_size`).Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != -32768 || r != -8192 {
		t.Errorf("cache_size: writer %d, reader %d; want -32768 (32 MiB) and -8192 (8 MiB)", w, r)
	}
}
