package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/testsite"
)

// workerPoliteness is the politeness of the multi-worker tests: 5
// requests a second per host (200 ms apart), one at a time, and short
// timeouts and host leases, so that a killed worker's hosts are taken over
// within seconds. The site refuses (429) any request that comes sooner
// than 100 ms after the one before to the same host, and the test reads
// every gap from the site's log: a handover that broke the pace shows
// there. The 100 ms between the crawler's pace and the judge's are for
// the time from a request's dispatch to its arrival, which a loaded
// machine stretches: the site's clock sees arrivals.
const workerPoliteness = `
workers: 8
politeness:
  rate: 5
  burst: 1
  max_in_flight: 1
  max_active_hosts: 2
  max_crawl_delay: 1s
  host_lease: 8s
  latency_factor: 0
  backoff_base: 50ms
fetch:
  total_timeout: 2s
  header_timeout: 2s
  retry_base: 50ms
  allow_addresses: [127.0.0.0/8]
`

// worker is one crawler process of a multi-worker crawl.
type workerProc struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error
}

func startWorker(t *testing.T, ctx context.Context, bin, cfg string) *workerProc {
	t.Helper()
	w := &workerProc{exited: make(chan error, 1)}
	w.cmd = exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.exited <- w.cmd.Wait() }()
	return w
}

// TestWorkersKilled runs four worker processes of the real binary on one
// PostgreSQL crawl of the local multi-host site, SIGKILLs a random one a
// dozen times in the course of the crawl and starts it again, and checks
// that the stored pages are a single-machine crawl's and the site's, each
// stored once, none left leased, and, from the site's own log, that no host
// ever had two requests at once or two closer than its rate allows, across
// the handovers.
func TestWorkersKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the test site with four processes")
	}
	url := pgtest.URL(t)
	name := pgtest.Name(t)
	bin := buildBinary(t)
	site, err := testsite.Start(testsite.Options{Hosts: 6, PagesPerHost: 100, Seed: 11, RateLimit: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	want := site.Expected()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()

	// One machine, SQLite: the reference, all hosts at once.
	oneDir := t.TempDir()
	one := workerConfig(t, oneDir, site, "crawl.db", "crawl", "max_active_hosts: 2", "max_active_hosts: 6")
	if out, err := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", one).CombinedOutput(); err != nil {
		t.Fatalf("single-machine run: %v\n%s", err, out)
	}
	single, _ := storedPages(t, filepath.Join(oneDir, "crawl.db"))
	compareSets(t, "single-machine crawl", single, want)
	before := site.Stats()
	logged := map[string]int{}
	for _, h := range site.Hosts() {
		logged[h] = len(site.Requests(h))
		if st := before[h]; st.MinGap < 100*time.Millisecond || st.MaxInFlight > 1 || st.Throttled > 0 {
			t.Errorf("single-machine crawl: %s: min gap %v, %d at once, %d throttled", h, st.MinGap, st.MaxInFlight, st.Throttled)
		}
	}

	cfg := workerConfig(t, t.TempDir(), site, url, name)
	// The workers create the crawl's schema: count nothing before it.
	schema := func() bool {
		return pgCount(t, url, "public", `SELECT count(*) FROM pg_tables WHERE schemaname = '`+name+`' AND tablename = 'pages'`) == 1
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 12))
	t.Logf("killing workers chosen with seed %d", seed)
	workers := make([]*workerProc, 4)
	for i := range workers {
		workers[i] = startWorker(t, ctx, bin, cfg)
	}
	const kills = 12
	killed := 0
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for killed < kills && ctx.Err() == nil {
		<-tick.C
		if !schema() {
			continue
		}
		n := pgCount(t, url, name, `SELECT count(*) FROM pages`)
		if n < (killed+1)*len(want)/(kills+2) {
			continue
		}
		i := rng.IntN(len(workers))
		w := workers[i]
		select {
		case err := <-w.exited:
			t.Fatalf("worker %d ended before the crawl did (%v) at %d pages:\n%s", i, err, n, w.out.String())
		default:
		}
		w.cmd.Process.Signal(syscall.SIGKILL)
		<-w.exited
		killed++
		t.Logf("kill %d: worker %d at %d pages", killed, i, n)
		workers[i] = startWorker(t, ctx, bin, cfg)
	}
	for i, w := range workers {
		select {
		case err := <-w.exited:
			if err != nil {
				t.Errorf("worker %d: %v\n%s", i, err, w.out.String())
			}
		case <-ctx.Done():
			t.Fatalf("worker %d did not finish", i)
		}
	}
	if killed < kills {
		t.Fatalf("%d kills, want %d", killed, kills)
	}

	got, dups := pgPages(t, url, name)
	if dups != 0 {
		t.Errorf("%d pages stored twice", dups)
	}
	compareSets(t, "four workers, killed and restarted", got, single)
	if n := pgCount(t, url, name, `SELECT count(*) FROM frontier WHERE state IN ('queued', 'leased')`); n != 0 {
		t.Errorf("%d URLs left queued or leased", n)
	}
	// The site's own view of each host, over the multi-worker crawl only.
	after := site.Stats()
	for _, h := range site.Hosts() {
		b, a := before[h], after[h]
		if a.Throttled != b.Throttled {
			t.Errorf("%s: %d requests came sooner than 100 ms after the one before", h, a.Throttled-b.Throttled)
		}
		if a.MaxInFlight > 1 {
			t.Errorf("%s: %d requests at once, max_in_flight is 1", h, a.MaxInFlight)
		}
		reqs := site.Requests(h)[logged[h]:]
		for i := 1; i < len(reqs); i++ {
			if g := reqs[i].Start - reqs[i-1].Start; g < 100*time.Millisecond {
				t.Errorf("%s: %s came %v after %s; rate is 5/s", h, reqs[i].Target, g, reqs[i-1].Target)
			}
		}
	}
}

// workerConfig writes a config crawling site with workerPoliteness into
// database (and the crawl name, on PostgreSQL), with the replacements
// old, new... made in workerPoliteness.
func workerConfig(t *testing.T, dir string, site *testsite.Site, database, name string, replace ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "database: %s\nname: %s\nsitemap_discovery: false\nlimits:\n  max_depth: 20\nseeds:\n", database, name)
	for _, s := range site.Seeds() {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	b.WriteString(strings.NewReplacer(replace...).Replace(workerPoliteness))
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
