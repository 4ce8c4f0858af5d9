package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/testsite"
)

// obsJob is a finished crawl of a small test site plus two local servers:
// one that answers 429 to /busy, one whose robots.txt is 503.
type obsJob struct {
	site      *testsite.Site
	home      string // the test site's first host, e.g. http://127.0.0.2:PORT
	throttled string // origin of the 429 server
	robotsOut string // origin of the server whose robots.txt is unavailable
	config    string // config file path
	db        string // database path
	stdout    string // the run's output: the final report
	stderr    string
}

func obsCrawl(t *testing.T) *obsJob {
	t.Helper()
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 30, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<html><title>Busy home</title><a href="/busy">busy page</a></html>`)
		case "/busy":
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(busy.Close)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `<html><title>never fetched</title></html>`)
	}))
	t.Cleanup(down.Close)

	dir := t.TempDir()
	j := &obsJob{site: site, home: "http://" + site.Hosts()[0], throttled: busy.URL, robotsOut: down.URL,
		config: filepath.Join(dir, "config.yaml"), db: filepath.Join(dir, "crawl.db")}
	cfg := fmt.Sprintf(`database: crawl.db
seeds:
  - %s/
  - %s/
  - %s/
workers: 8
politeness:
  rate: 0
  max_in_flight: 4
  latency_factor: 0
  backoff_base: 50ms
  robots_retries: 2
fetch:
  retry_base: 50ms
  max_retries: 1
  allow_addresses: [127.0.0.0/8]
`, j.home, j.throttled, j.robotsOut)
	if err := os.WriteFile(j.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr obsBuffer
	if err := run(context.Background(), []string{"run", "-c", j.config}, &stdout, &stderr); err != nil {
		t.Fatalf("crawler run: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	j.stdout, j.stderr = stdout.String(), stderr.String()
	return j
}

// obsRun runs the crawler with args and returns its output and error.
func obsRun(args ...string) (stdout, stderr string, err error) {
	var out, errOut obsBuffer
	err = run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestExplainAndHosts(t *testing.T) {
	j := obsCrawl(t)
	tests := []struct {
		name string
		url  string
		want []string // substrings of the explanation, in order
	}{
		{"done", j.home + "/", []string{
			"url          " + j.home + "/\n",
			"state        done: HTTP 200\n",
			"found        seed at depth 0",
			"fetch        1 attempt, claimed 1 time, last status 200\n",
			`robots.txt   allowed: no rule matches, in the group for "*"`,
			"host         " + j.home + "\n",
			"page         HTTP 200, text/html",
			"title ",
		}},
		{"canonical form", j.home + "/?utm_source=newsletter#top", []string{
			"url          " + j.home + "/\n",
			"canonical form of " + j.home + "/?utm_source=newsletter#top\n",
			"state        done: HTTP 200\n",
		}},
		{"robots disallowed", j.home + "/private/1", []string{
			`state        skipped: robots.txt: "Disallow: /private/" (line 3, group "*")`,
			"found        link at depth 1",
			"on " + j.home + "/ (",
			"linked from  ",
			"fetch        0 attempts, claimed 1 time\n",
			`robots.txt   disallowed by "Disallow: /private/" (line 3), in the group for "*"`,
			`for user agent "crawler"` + "\n",
			"robots.txt answered HTTP 200 at ",
			"page         none recorded",
		}},
		{"not found", j.home + "/missing/1", []string{
			"state        failed: HTTP 404\n",
			"fetch        1 attempt, claimed 1 time, last status 404\n",
			"page         HTTP 404",
		}},
		{"server error", j.home + "/broken/1", []string{
			"state        failed: HTTP 500 Internal Server Error (after 2 attempts)\n",
			"fetch        2 attempts, claimed 2 times, last status 500\n",
			"page         HTTP 500",
			"body not stored",
		}},
		{"throttled", j.throttled + "/busy", []string{
			"state        failed: HTTP 429 Too Many Requests (after 2 attempts)\n",
			"on " + j.throttled + `/ ("busy page")`,
			"fetch        2 attempts, claimed 2 times, last status 429\n",
			"robots.txt   robots.txt answered HTTP 404: everything is allowed (RFC 9309)\n",
			"host         " + j.throttled + "\n",
			"backoff level 2",
			"last reason: HTTP 429 with Retry-After 1s\n",
		}},
		{"robots unavailable", j.robotsOut + "/", []string{
			"state        skipped: robots.txt unavailable (HTTP 503) after 2 attempts\n",
			"fetch        0 attempts",
			"robots.txt   robots.txt unavailable (HTTP 503, 2 failed attempts): everything is disallowed until it can be fetched\n",
			"robots.txt answered HTTP 503 at ",
			"given_up",
			"page         none recorded",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := obsRun("explain", "-c", j.config, tt.url)
			if err != nil {
				t.Fatalf("explain %s: %v\n%s", tt.url, err, out)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("explain %s: missing %q (in order) in:\n%s", tt.url, w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}

	t.Run("unknown", func(t *testing.T) {
		out, _, err := obsRun("explain", "--db", j.db, j.home+"/no/such/page")
		if !errors.Is(err, store.ErrUnknownURL) {
			t.Fatalf("explain of an unknown URL = %v, want ErrUnknownURL", err)
		}
		for _, w := range []string{j.home + "/no/such/page is not in the frontier", "known URLs with the longest common prefix:\n  " + j.home + "/\n"} {
			if !strings.Contains(out, w) {
				t.Errorf("missing %q in:\n%s", w, out)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		out, _, err := obsRun("explain", "--db", j.db, "--json", j.home+"/private/1")
		if err != nil {
			t.Fatal(err)
		}
		var e crawl.Explanation
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			t.Fatalf("explain --json: %v\n%s", err, out)
		}
		r := e.Robots
		if e.State != "skipped" || r.Verdict != "disallowed" || r.Rule != "Disallow: /private/" || r.Line != 3 || r.Group != "*" ||
			e.Parent != j.home+"/" || e.Host == nil || e.Page != nil || e.InboundTotal < 1 {
			t.Errorf("explain --json = %+v", e)
		}
	})

	t.Run("hosts", func(t *testing.T) {
		out, _, err := obsRun("hosts", "-c", j.config)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"3 hosts", j.home + "  ", j.throttled + "  ", "HTTP 429 with Retry-After 1s",
			"given_up", "robots.txt unavailable (HTTP 503) after 2 attempts", "In-flight fetches are not stored"} {
			if !strings.Contains(out, w) {
				t.Errorf("hosts: missing %q in:\n%s", w, out)
			}
		}
	})

	t.Run("hosts json", func(t *testing.T) {
		out, _, err := obsRun("hosts", "-c", j.config, "--json", "--sort", "errors")
		if err != nil {
			t.Fatal(err)
		}
		hosts := map[string]crawl.HostPace{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var h crawl.HostPace
			if err := json.Unmarshal([]byte(line), &h); err != nil {
				t.Fatalf("hosts --json line %q: %v", line, err)
			}
			hosts[h.Origin] = h
		}
		if h := hosts[j.throttled]; h.BackoffLevel != 2 || h.Errors != 1 || h.Pages < 2 || h.State != "active" {
			t.Errorf("throttled host = %+v, want backoff level 2, 1 error, at least 2 pages", h)
		}
		if h := hosts[j.robotsOut]; h.State != "given_up" || !strings.HasPrefix(h.Reason, "robots.txt unavailable") {
			t.Errorf("robots-down host = %+v, want given up", h)
		}
		if h := hosts[j.home]; h.Pages < 10 || h.DelaySource != "config" || h.RatePerSec != nil {
			t.Errorf("site host = %+v, want its pages and the configured unlimited rate", h)
		}
	})

	t.Run("bad usage", func(t *testing.T) {
		for _, args := range [][]string{
			{"explain", "--db", j.db},
			{"explain", "--db", j.db, "mailto:someone@example.com"},
			{"hosts", "--db", j.db, "--sort", "fastest"},
			{"hosts", "--db", j.db, "extra"},
		} {
			if _, _, err := obsRun(args...); !errors.As(err, new(usageError)) {
				t.Errorf("%q = %v, want a usage error", args, err)
			}
		}
	})
}
