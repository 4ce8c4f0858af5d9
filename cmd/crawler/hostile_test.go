package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

// hostileMemoryBound is the peak RSS the crawler must stay under while it
// meets 50 MB pages, gzip and brotli bombs and endless traps.
const hostileMemoryBound = 256 << 20

// TestHostileSite crawls every hostile host of the local site with the real
// binary and checks, from the database and from the server's own request
// log, that each hostile behaviour is handled as it should be.
func TestHostileSite(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the hostile test site")
	}
	bin := buildBinary(t)
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 50, Seed: 3, Hostile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	roles := site.HostileHosts()
	var seeds strings.Builder
	for _, h := range roles {
		fmt.Fprintf(&seeds, "  - http://%s/\n", h)
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`database: crawl.db
seeds:
%sworkers: 8
limits:
  max_depth: 12
  max_pages_per_host: 300
  max_body_size: 1MiB
  max_redirects: 10
  max_query_variants: 30
  max_template_chain: 8
politeness:
  rate: 5
  burst: 1
  max_in_flight: 2
  backoff_base: 100ms
  robots_retries: 2
fetch:
  total_timeout: 6s
  idle_timeout: 1500ms
  header_timeout: 4s
  max_retries: 3
  retry_base: 100ms
  allow_addresses: [127.0.0.0/8]
`, seeds.String())
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfgPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("crawl of the hostile site did not finish on its own: %v\n%s", err, out)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("peak RSS %d MiB", rss>>20)
	if rss > hostileMemoryBound {
		t.Errorf("peak RSS %d MiB, want under %d MiB", rss>>20, hostileMemoryBound>>20)
	}

	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "crawl.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stats := site.Stats()
	url := func(role, path string) string { return "http://" + roles[role] + path }
	state := func(u string) (st, reason string) {
		var r sql.NullString
		if err := db.QueryRow(`SELECT state, reason FROM frontier WHERE url = ?`, u).Scan(&st, &r); err != nil {
			t.Errorf("%s: not in the frontier (%v)", u, err)
		}
		return st, r.String
	}
	expect := func(u, wantState, reasonPart string) {
		t.Helper()
		st, reason := state(u)
		if st != wantState || !strings.Contains(reason, reasonPart) {
			t.Errorf("%s: state %s (%q), want %s with %q", u, st, reason, wantState, reasonPart)
		}
	}
	fetched := func(role, path string) int { return stats[roles[role]].ByPath[path] }

	// Every URL ends in a terminal state with a reason.
	var open, noReason int
	db.QueryRow(`SELECT count(*) FROM frontier WHERE state IN ('queued', 'leased')`).Scan(&open)
	db.QueryRow(`SELECT count(*) FROM frontier WHERE coalesce(reason, '') = ''`).Scan(&noReason)
	if open != 0 || noReason != 0 {
		t.Errorf("%d URLs not finished, %d without a reason", open, noReason)
	}

	// No URL was requested more often than it was attempted: one attempt,
	// one request on the wire (a slow page on a reused connection too).
	attempts := map[string]int{}
	rows, err := db.Query(`SELECT url, attempts FROM frontier`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u string
		var n int
		rows.Scan(&u, &n)
		attempts[u] = n
	}
	rows.Close()
	for _, h := range roles {
		for p, n := range stats[h].ByPath {
			if p == "/robots.txt" || p == "/real-robots.txt" {
				continue
			}
			a, ok := attempts["http://"+h+p]
			switch {
			case !ok:
				t.Errorf("http://%s%s requested %d times but not in the frontier", h, p, n)
			case n > a:
				t.Errorf("http://%s%s requested %d times in %d attempts", h, p, n, a)
			}
		}
	}

	// robots.txt: 404 allows all, 500 disallows all, redirects are followed.
	// The robots500 host is given up: its URLs, also those other hosts
	// link to after that, end skipped with its reason, none requested.
	expect(url(testsite.RoleRobots404, "/secret/1"), "done", "HTTP 200")
	for p, n := range stats[roles[testsite.RoleRobots500]].ByPath {
		if p != "/robots.txt" {
			t.Errorf("robots500: %s fetched %d times though robots.txt is unavailable", p, n)
		}
	}
	for _, p := range append([]string{"/"}, testsite.Robots500Late...) {
		expect(url(testsite.RoleRobots500, p), "skipped", "robots.txt unavailable (HTTP 500) after 2 attempts")
	}
	for _, p := range []string{"/secret/1", "/secret/2"} {
		if n := fetched(testsite.RoleRobotsRedirect, p); n != 0 {
			t.Errorf("robotsredirect: %s fetched %d times; its redirected robots.txt disallows it", p, n)
		}
		expect(url(testsite.RoleRobotsRedirect, p), "skipped", "Disallow: /secret/")
	}
	expect(url(testsite.RoleRobotsRedirect, "/public/1"), "done", "")

	// Crawl-delay: 1 is honoured. The server sees arrival times, which a
	// loaded machine shifts by a fraction of a second, so allow that much
	// on one gap and check the spacing over the whole crawl too.
	cd := roles[testsite.RoleCrawlDelay]
	if g := stats[cd].MinGap; g < 500*time.Millisecond {
		t.Errorf("crawldelay: smallest gap between requests %v, want about 1s or more", g)
	}
	if n := site.MaxInWindow(cd, 2500*time.Millisecond); n > 4 {
		t.Errorf("crawldelay: %d requests within 2.5s; Crawl-delay 1s allows 3 (4 with arrival jitter)", n)
	}
	// A page whose headers come after most of idle_timeout, asked on a
	// connection that waited a Crawl-delay in the pool, is requested once
	// per attempt (checked for every URL above) and fetched.
	expect(url(testsite.RoleCrawlDelay, "/slow-headers"), "done", "HTTP 200")
	// 429/503 with Retry-After: retried after waiting, all end with 200.
	for _, p := range []string{"/", "/item/1", "/item/2", "/item/6"} {
		expect(url(testsite.RoleRateLimited, p), "done", "HTTP 200")
	}
	// Flaky 500s are retried.
	for i := 1; i <= 5; i++ {
		expect(url(testsite.RoleFlaky, fmt.Sprintf("/p/%d", i)), "done", "HTTP 200")
	}
	// A drip server is cut off by the timeouts, once: not retried.
	expect(url(testsite.RoleDrip, "/drip"), "failed", "timeout")
	if n := fetched(testsite.RoleDrip, "/drip"); n != 1 {
		t.Errorf("drip: /drip requested %d times, want once", n)
	}
	// A 50 MB page and decompression bombs stop at the decoded-size cap and say so.
	for _, u := range []string{url(testsite.RoleHuge, "/huge"), url(testsite.RoleBomb, "/bomb.html"), url(testsite.RoleBomb, "/bomb-br.html")} {
		var size, truncated int
		if err := db.QueryRow(`SELECT size, truncated FROM pages WHERE url = ?`, u).Scan(&size, &truncated); err != nil {
			t.Errorf("%s: no page row: %v", u, err)
			continue
		}
		if size != 1<<20 || truncated != 1 {
			t.Errorf("%s: size %d truncated %d, want %d bytes marked truncated", u, size, truncated, 1<<20)
		}
	}
	// gzip said only by the Content-Type (a robots-listed sitemap and a
	// linked file) is kept as sent, within the cap: nothing inflates it.
	for _, p := range []string{"/sitemap.xml", "/archive.gz"} {
		var size int
		if err := db.QueryRow(`SELECT size FROM pages WHERE url = ?`, url(testsite.RoleBomb, p)).Scan(&size); err != nil {
			t.Errorf("bomb %s: no page row: %v", p, err)
		} else if size > 1<<20 {
			t.Errorf("bomb %s: size %d, want at most the %d-byte cap", p, size, 1<<20)
		}
	}
	// The depthorder host's /target, first linked one link deeper than
	// max_depth, is fetched once a redirect from another host reaches it
	// at a smaller depth.
	expect(url(testsite.RoleDepthOrder, "/target"), "done", "HTTP 200")
	if n := fetched(testsite.RoleDepthOrder, "/target"); n != 1 {
		t.Errorf("depthorder: /target requested %d times, want once", n)
	}
	// Redirect loops end; each URL fetched once; long chains stop at the hop limit.
	for _, p := range []string{"/loop/a", "/loop/b", "/loop/self"} {
		if n := fetched(testsite.RoleLoops, p); n != 1 {
			t.Errorf("loops: %s fetched %d times, want once", p, n)
		}
	}
	expect(url(testsite.RoleLoops, "/loop/self"), "failed", "redirect loop")
	expect(url(testsite.RoleLoops, "/chain/11"), "skipped", "max_redirects")
	// Traps end, with reasons.
	var trapReasons []string
	rows, err = db.Query(`SELECT DISTINCT reason FROM frontier WHERE url LIKE ? AND state = 'skipped'`,
		url(testsite.RoleTraps, "/")+"%")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r string
		rows.Scan(&r)
		trapReasons = append(trapReasons, r)
	}
	rows.Close()
	joined := strings.Join(trapReasons, "|")
	for _, want := range []string{"trap: template", "trap: path segment", "trap: more than max_query_variants"} {
		if !strings.Contains(joined, want) {
			t.Errorf("traps: no URL skipped for %q (reasons: %v)", want, trapReasons)
		}
	}
	// The calendar ends at max_template_chain, before max_depth.
	var calendar, months int
	db.QueryRow(`SELECT count(*) FROM frontier WHERE url LIKE ? AND reason LIKE 'trap: template /calendar/N/N over budget 8%'`,
		url(testsite.RoleTraps, "/calendar/")+"%").Scan(&calendar)
	db.QueryRow(`SELECT count(*) FROM pages WHERE url LIKE ?`, url(testsite.RoleTraps, "/calendar/")+"%").Scan(&months)
	if calendar == 0 || months > 2*8+1 {
		t.Errorf("traps: %d calendar URLs skipped by the template chain, %d months fetched; want some, and at most %d", calendar, months, 2*8+1)
	}
	// Charsets are decoded to UTF-8.
	for path, title := range map[string]string{"/latin1.html": testsite.Latin1Title, "/cp1252.html": testsite.CP1252Title,
		"/utf16.html": testsite.UTF16Title} {
		var got string
		db.QueryRow(`SELECT coalesce(title, '') FROM pages WHERE url = ?`, url(testsite.RoleCharsets, path)).Scan(&got)
		if got != title {
			t.Errorf("charsets: %s title %q, want %q", path, got, title)
		}
	}
	expect(url(testsite.RoleCharsets, "/invalid-utf8.html"), "done", "")
	// Private and link-local addresses are never contacted.
	for _, u := range []string{"http://10.0.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/"} {
		expect(u, "skipped", "blocked address")
	}
	expect(url(testsite.RoleSSRF, "/go-private"), "done", "redirect")
	expect("http://169.254.169.254/", "skipped", "blocked address")

	// Politeness, from the server's own log: no host saw more than
	// max_in_flight concurrent requests or more than burst + rate requests
	// in any one-second window.
	for role, h := range roles {
		st := stats[h]
		if st.MaxInFlight > 2 {
			t.Errorf("%s: %d concurrent requests, max_in_flight is 2", role, st.MaxInFlight)
		}
		// burst 1 + rate 5, and one more for arrival jitter on a loaded machine.
		if n := site.MaxInWindow(h, time.Second); n > 1+5+1 {
			t.Errorf("%s: %d requests within one second, limit is burst 1 + rate 5", role, n)
		}
	}
}
