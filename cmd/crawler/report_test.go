package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func TestWriteReport(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	db := &store.Report{
		ByState: map[string]int{"queued": 3, "done": 90, "failed": 5, "skipped": 2}, Total: 100, Pages: 95, Bytes: 4_200_000,
		Statuses: []store.StatusCount{{Status: 200, Count: 90}, {Status: 404, Count: 4}, {Status: 500, Count: 1}},
		Causes: []store.ReasonCount{{State: "failed", Reason: "HTTP 404", Count: 4},
			{State: "skipped", Reason: `robots.txt: "Disallow: /private/" (line 3, group "*")`, Count: 2}},
		Failed: "http://example.com/missing/1",
		SlowHosts: []store.SlowHost{{HostInfo: store.HostInfo{Origin: "http://example.com", DelayMS: 1000, Reason: "paced by Crawl-delay 1s"},
			Fetched: 95, AvgMS: 120, MaxMS: 1500}},
		NextDue: now.Add(time.Minute),
	}
	st := crawl.Stats{Pages: 95, Errors: 5, Skipped: 2, Retries: 1, Bytes: 4_200_000}
	tests := []struct {
		name string
		sum  runSummary
		want []string
	}{
		{"finished", runSummary{Result: runner.Result{Outcome: crawl.OutcomeFinished}}, []string{
			"finished after 10s: 95 pages stored (9.5 pages/s), 5 failed, 2 skipped, 1 retry, 4.2 MB\n",
			"\ndatabase /data/crawl.db: 100 URLs (90 done, 5 failed, 2 skipped, 3 queued), 95 pages, 4.2 MB\n",
			"HTTP status this run: 200: 90, 404: 4, 500: 1\n",
			"\nwhy URLs failed or were skipped this run:\n",
			"        4  failed   HTTP 404\n",
			`        2  skipped  robots.txt: "Disallow: /private/" (line 3, group "*")` + "\n",
			"\nslowest hosts this run (mean response time of their pages):\n",
			"  http://example.com            120ms mean,   1.5s max over 95 pages; delay 1s; paced by Crawl-delay 1s\n",
			"\n3 URLs are queued; the earliest retry is due at 2026-05-01 12:01:00\n",
			"\ninspect:\n",
			"  crawler status --db /data/crawl.db\n",
			"  crawler hosts --db /data/crawl.db\n",
			"  crawler explain --db /data/crawl.db http://example.com/missing/1\n",
			`  crawler query --db /data/crawl.db "SELECT state, reason`,
		}},
		{"interrupted", runSummary{Result: runner.Result{Outcome: crawl.OutcomeInterrupted}}, []string{
			"interrupted after 10s",
			"interrupted; the database is consistent. Resume with:\n  crawler run -c config.yaml\ninspect:\n",
		}},
		{"limit", runSummary{Result: runner.Result{Outcome: crawl.OutcomeLimit}, Limit: 95}, []string{
			"stopped at the page limit after 10s",
			"stopped at limits.max_pages (95); raise it and continue with:\n  crawler run -c config.yaml\n",
		}},
		{"nothing fetched", runSummary{Result: runner.Result{Outcome: crawl.OutcomeFinished}, Err: &runner.NothingFetchedError{Total: 1,
			Seeds: []runner.RefusedSeed{{URL: "http://127.0.0.1:8080/", State: "skipped", Reason: "blocked address: loopback",
				Hint: "list 127.0.0.1 (or only its port, 127.0.0.1:8080) under fetch.allow_addresses to allow it"}}}}, []string{
			"finished after 10s",
			"nothing was fetched: the seed was refused\n  http://127.0.0.1:8080/: blocked address: loopback\n" +
				"    (list 127.0.0.1 (or only its port, 127.0.0.1:8080) under fetch.allow_addresses to allow it)\n" +
				"after changing the config, run again:\n  crawler run -c config.yaml\n",
		}},
		{"failed", runSummary{Result: runner.Result{Outcome: crawl.OutcomeFailed}, Err: errors.New("commit batch: disk is full")}, []string{
			"failed after 10s",
			"the crawl stopped on an error: commit batch: disk is full\nafter fixing it, resume with:\n  crawler run -c config.yaml\n",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sum
			s.Stats, s.Elapsed, s.PagesPerSecond, s.Database, s.Resume, s.DB, s.Now = st, 10*time.Second, 9.5, "/data/crawl.db", "crawler run -c config.yaml", db, now
			var b bytes.Buffer
			writeReport(&b, s)
			out := b.String()
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("report: missing %q (in order) in:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}

	// Without a database summary the report still says what to do next.
	var b bytes.Buffer
	writeReport(&b, runSummary{Result: runner.Result{Outcome: crawl.OutcomeFinished}, Database: "my crawl.db", Now: now})
	if !strings.Contains(b.String(), "crawler explain --db 'my crawl.db' URL\n") {
		t.Errorf("report without a database summary:\n%s", b.String())
	}
}

// TestRunReport checks the report printed at the end of a real crawl.
func TestRunReport(t *testing.T) {
	j := obsCrawl(t)
	for _, w := range []string{
		"finished after ",
		"\ndatabase " + j.db + ": ",
		"HTTP status this run: 200: ",
		"\nwhy URLs failed or were skipped this run:\n",
		"  failed   HTTP 404\n",
		"  failed   HTTP 429 Too Many Requests (after 2 attempts)\n",
		"  failed   HTTP 500 Internal Server Error (after 2 attempts)\n",
		"  skipped  robots.txt unavailable (HTTP 503) after 2 attempts\n",
		`  skipped  robots.txt: "Disallow: /private/" (line 3, group "*")` + "\n",
		"\nslowest hosts this run (mean response time of their pages):\n",
		"crawler explain --db " + j.db + " http://",
	} {
		if !strings.Contains(j.stdout, w) {
			t.Errorf("report: missing %q in:\n%s", w, j.stdout)
		}
	}
}
