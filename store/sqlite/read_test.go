package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/storetest"
)

// The tests in this file check the shared read side on SQLite against
// rows written with SQLite's own SQL.

func TestExportSince(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	storetest.ExportFixture(t, db)
	old := time.Now().Add(-48 * time.Hour).UnixMilli()
	if _, err := db.w.ExecContext(ctx, `UPDATE items SET extracted_at = ? WHERE rule = 'other'`, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `UPDATE pages SET fetched_at = ? WHERE url LIKE '%.pdf'`, old); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-24 * time.Hour)
	for _, tt := range []struct {
		table string
		want  int64
	}{{"items", 1}, {"pages", 2}, {"links", 2}} {
		n, err := db.Export(ctx, &bytes.Buffer{}, store.ExportOptions{Table: tt.table, Since: since})
		if err != nil || n != tt.want {
			t.Errorf("Export(%s since a day ago) = %d, %v; want %d", tt.table, n, err, tt.want)
		}
	}
}

// heapWriter discards what it is given, counting lines and recording the
// largest HeapInuse seen at each write.
type heapWriter struct {
	lines int64
	bytes int64
	peak  uint64
}

func (w *heapWriter) Write(p []byte) (int, error) {
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	w.bytes += int64(len(p))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peak = max(w.peak, ms.HeapInuse)
	return len(p), nil
}

// TestExportLargeFlatMemory exports 120,000 items (inserted with SQL, 120
// per page) as JSONL and CSV and logs the heap in use before, at its peak
// during, and after each export. It asserts only a generous bound on the
// growth: an export that held its rows would need far more.
func TestExportLargeFlatMemory(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const pages, perPage = 1000, 120
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO frontier (id, url, depth, source, state, discovered_at, updated_at)
		SELECT i, 'http://127.0.0.2/product/' || i, 1, 'link', 'done', 0, 0 FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO pages (id, url_id, url, final_url, status, fetched_at, duration_ms, size, depth)
		SELECT i, i, 'http://127.0.0.2/product/' || i, 'http://127.0.0.2/product/' || i, 200, 1700000000000, 5, 1000, 1 FROM n`,
	} {
		if _, err := db.w.ExecContext(ctx, q, pages); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		INSERT INTO items (page_id, url, rule, idx, data, extracted_at)
		SELECT i / ? + 1, 'http://127.0.0.2/product/' || (i / ? + 1), 'product', i % ?,
			json_object('name', 'Product ' || i || ' with a longer name', 'price', i * 0.01, 'sku', 'SK-' || i,
				'in_stock', json(CASE WHEN i % 5 = 0 THEN 'false' ELSE 'true' END)), 1700000000000 + i FROM n`,
		pages*perPage, perPage, perPage, perPage); err != nil {
		t.Fatal(err)
	}
	const total = pages * perPage
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			before := ms.HeapInuse
			w := &heapWriter{}
			n, err := db.Export(ctx, w, store.ExportOptions{Format: format, Rule: "product"})
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&ms)
			t.Logf("%s: %d items, %.1f MB written; HeapInuse before %.1f MB, peak %.1f MB, after %.1f MB",
				format, n, float64(w.bytes)/1e6, float64(before)/1e6, float64(w.peak)/1e6, float64(ms.HeapInuse)/1e6)
			wantLines := int64(total)
			if format == "csv" {
				wantLines++
			}
			if n != total || w.lines != wantLines {
				t.Errorf("exported %d rows in %d lines, want %d rows in %d lines", n, w.lines, total, wantLines)
			}
			if w.peak > before && w.peak-before > 64<<20 {
				t.Errorf("heap grew by %.1f MB during the export, want < 64 MB", float64(w.peak-before)/1e6)
			}
		})
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
		var urls []store.NewURL
		for i := 0; i < perHost; i++ {
			urls = append(urls, store.NewURL{URL: fmt.Sprintf("%s/p/%d", origin, i), Origin: origin, Source: "seed", State: store.StateQueued})
		}
		added, err := db.Add(ctx, urls)
		if err != nil {
			t.Fatal(err)
		}
		for id := range added {
			hs, err := db.LeaseHosts(ctx, store.HostQuery{IDs: []int64{id}, Limit: 1}, time.Hour)
			if err != nil || len(hs) != 1 {
				t.Fatalf("lease %s = %v, %v", origin, hs, err)
			}
			ls, _, err := db.Claim(ctx, store.HostToken{ID: id, Token: hs[0].Token}, perHost, time.Minute)
			if err != nil || len(ls) != perHost {
				t.Fatalf("claim %s = %d leases, %v", origin, len(ls), err)
			}
			var outs []store.Outcome
			for i, l := range ls {
				status := []int{200, 200, 404, 500, 301}[(i+h)%5]
				// Host 0 and 1 have the same mean, so the order falls to the id.
				dur := time.Duration(10*(h/2+1)+i%3) * time.Millisecond
				fetched := since.Add(time.Duration(i-perHost/3) * time.Second)
				outs = append(outs, store.Outcome{Lease: l, State: store.StateDone, Status: status, Attempted: true,
					Page: &store.Page{FinalURL: l.URL, Status: status, FetchedAt: fetched, Duration: dur, Size: 100*h + i}})
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

	want := &store.Report{}
	q := db.SQL()
	if err := q.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM pages`).Scan(&want.Pages, &want.Bytes); err != nil {
		t.Fatal(err)
	}
	rows, err := q.QueryContext(ctx, `SELECT status, count(*) AS n FROM pages WHERE fetched_at >= ?
		GROUP BY status ORDER BY n DESC, status LIMIT ?`, since.UnixMilli(), top)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s store.StatusCount
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

func TestTotalsMatchTables(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	storetest.SmallCrawl(t, db)
	var want store.Totals
	db.r.QueryRow(`SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM frontier WHERE state = 'failed'),
		(SELECT count(*) FROM frontier WHERE state = 'queued'), (SELECT count(*) FROM frontier WHERE state = 'leased')`).
		Scan(&want.Pages, &want.Errors, &want.Queued, &want.Leased)
	got, err := db.Totals(ctx)
	if err != nil || got != want || got.Pages == 0 || got.Queued == 0 {
		t.Errorf("Totals = %+v, %v; want %+v as counted in the tables", got, err, want)
	}
}

// TestRecoverSettlesGivenUp: a database written before URLs of given-up
// hosts were skipped may hold some queued; recovery at the start of a run
// settles them with the host's reason.
func TestRecoverSettlesGivenUp(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	const why = "robots.txt unavailable (HTTP 500) after 5 attempts"
	u := storetest.Origin + "/e"
	added, err := db.Add(ctx, []store.NewURL{{URL: u, Origin: storetest.Origin, Source: "link", State: store.StateQueued}})
	if err != nil || len(added) != 1 {
		t.Fatalf("Add = %v, %v", added, err)
	}
	for id := range added {
		if _, err := db.GiveUpHost(ctx, id, why); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.w.Exec(`UPDATE frontier SET state = 'queued', reason = NULL WHERE url = ?`, u); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, err := db.Pending(ctx); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v after recovery; want 0", n, err)
	}
	if info, err := db.Explain(ctx, u, 0); err != nil || info.State != store.StateSkipped || info.Reason != why {
		t.Errorf("/e after recovery: %+v, %v; want skipped with the host's reason", info, err)
	}
}
