package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/testsite"
)

// fetchSite starts a two-host test site and writes a config for it: host 0
// only (the seed), loopback allowed, a rate of 5 requests a second, the
// catalog rules.
func fetchSite(t *testing.T) (*testsite.Site, string) {
	t.Helper()
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	text := fmt.Sprintf("seeds: %s\npoliteness: {rate: 5}\nfetch: {allow_addresses: [127.0.0.0/8]}\n%s", site.Seeds()[0],
		fmt.Sprintf(xtRules, "h1.product-name"))
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return site, cfg
}

// targets lists the requests host got, as "GET /path", in order.
func targets(site *testsite.Site, host string) []string {
	var out []string
	for _, r := range site.Requests(host) {
		out = append(out, r.Method+" "+r.Target)
	}
	return out
}

func fetchRun(args ...string) (string, string, error) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"fetch"}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// TestFetchCommand fetches a redirecting URL: robots.txt first, then each
// hop, spaced by the rate, and reports the crawl's decisions.
func TestFetchCommand(t *testing.T) {
	site, cfg := fetchSite(t)
	h0, h1 := site.Hosts()[0], site.Hosts()[1]
	out, stderr, err := fetchRun("-c", cfg, "http://"+h0+"/old/1")
	if err != nil {
		t.Fatalf("fetch: %v\n%s%s", err, out, stderr)
	}
	want := []string{"GET /robots.txt", "GET /old/1", "GET /article/1"}
	if got := targets(site, h0); strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("server log %q, want exactly %q", got, want)
	}
	if got := targets(site, h1); len(got) != 0 {
		t.Errorf("the other host was asked %q; links are not followed", got)
	}
	// The crawler spaces the starts of its requests by 1/rate; the server
	// sees the first one arrive after the connection is set up, so its gaps
	// may be that much (well under 10ms on loopback) shorter.
	reqs := site.Requests(h0)
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].Start - reqs[i-1].Start; gap < 190*time.Millisecond {
			t.Errorf("%s came %v after %s: politeness.rate 5 wants 200ms", reqs[i].Target, gap, reqs[i-1].Target)
		}
	}
	for _, w := range []string{
		"url           http://" + h0 + "/old/1\n",
		"scope         in scope (scope from the config's seeds)\n",
		"robots.txt    allowed: no rule matches, in the group for \"*\"\n",
		"  1. GET http://" + h0 + "/robots.txt  HTTP 200  total ",
		"  2. GET http://" + h0 + "/old/1  HTTP 301  total ",
		"     redirect to http://" + h0 + "/article/1: followed\n",
		"  3. GET http://" + h0 + "/article/1  HTTP 200  total ",
		"status        200 OK\n",
		"crawl         done: HTTP 200\n",
		"  Content-Type: text/html; charset=utf-8\n",
		"charset       utf-8 (Content-Type header)\n",
		"canonical     http://" + h0 + "/article/1\n",
		"  skip   http://" + h1 + "/ \"Our partner: ",
		"  (out of scope: host " + h1 + " (add the host to scope.hosts",
		"items: none",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("fetch output lacks %q:\n%s", w, out)
		}
	}
}

// TestFetchLinksAndItems checks the links' verdicts (robots.txt,
// nofollow, scope) and the items of the rules on the home page and a
// product page, in JSON.
func TestFetchLinksAndItems(t *testing.T) {
	site, cfg := fetchSite(t)
	h0 := site.Hosts()[0]
	out, _, err := fetchRun("-c", cfg, "--json", "http://"+h0+"/")
	if err != nil {
		t.Fatal(err)
	}
	var ins crawl.Inspection
	if err := json.Unmarshal([]byte(out), &ins); err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	follow, nofollow := 0, 0
	for _, l := range ins.Page.Links {
		if l.Nofollow {
			nofollow++
			if l.Follow || !strings.HasPrefix(l.Why, "rel=nofollow") {
				t.Errorf("rel=nofollow link %s: follow %v, why %q", l.URL, l.Follow, l.Why)
			}
		}
		if l.Follow {
			follow++
			if l.Depth != 1 {
				t.Errorf("link %s at depth %d, want 1", l.URL, l.Depth)
			}
		} else {
			why[l.URL] = l.Why
		}
	}
	for u, w := range map[string]string{
		"http://" + h0 + "/private/1":     `robots.txt: "Disallow: /private/" (line 3, group "*")`,
		"http://" + site.Hosts()[1] + "/": "out of scope: host " + site.Hosts()[1],
	} {
		if !strings.HasPrefix(why[u], w) {
			t.Errorf("link %s: why = %q, want %q", u, why[u], w)
		}
	}
	if nofollow == 0 {
		t.Error("no rel=nofollow link on the home page")
	}
	if follow < 10 || ins.Page.Title == "" || !strings.Contains(ins.Page.Body, "<html") || ins.Page.Charset != "utf-8" {
		t.Errorf("home page: %d links followed, title %q, charset %q, body %d bytes", follow, ins.Page.Title, ins.Page.Charset,
			len(ins.Page.Body))
	}
	if len(ins.Requests) != 2 || !ins.Requests[0].Robots || ins.Requests[1].Timings.Total <= 0 || ins.Requests[1].Timings.Headers <= 0 {
		t.Errorf("requests %+v, want robots.txt then the page, with timings", ins.Requests)
	}

	out, _, err = fetchRun("-c", cfg, "http://"+h0+"/product/3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "items: 1 item\n  product #0 {\"in_stock\":") || !strings.Contains(out, `"name":"`) {
		t.Errorf("product page items missing:\n%s", out)
	}

	body, _, err := fetchRun("-c", cfg, "--body", "http://"+h0+"/about")
	resp, gerr := http.Get("http://" + h0 + "/about")
	if err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	var direct bytes.Buffer
	direct.ReadFrom(resp.Body)
	resp.Body.Close()
	if body != direct.String() {
		t.Errorf("--body printed %d bytes, the page has %d", len(body), direct.Len())
	}
}

// TestFetchRefused checks the guard and robots.txt: a loopback URL fails
// with the guard's reason and the key that allows it, without a request;
// a URL robots.txt forbids is not requested, only robots.txt is.
func TestFetchRefused(t *testing.T) {
	site, cfg := fetchSite(t)
	h0 := site.Hosts()[0]
	out, _, err := fetchRun("http://" + h0 + "/")
	if err == nil || !strings.Contains(err.Error(), "blocked address: loopback") ||
		!strings.Contains(err.Error(), "under fetch.allow_addresses") || !strings.Contains(out, "not fetched   blocked address: loopback") {
		t.Errorf("fetch of a loopback URL without allow_addresses: %v\n%s", err, out)
	}
	if got := targets(site, h0); len(got) != 0 {
		t.Fatalf("the guard let %q through", got)
	}
	out, _, err = fetchRun("-c", cfg, "http://"+h0+"/private/2")
	if !errors.Is(err, crawl.ErrRobotsDisallowed) || !strings.Contains(out, `robots.txt    disallowed by "Disallow: /private/" (line 3)`) {
		t.Errorf("fetch of a disallowed URL: %v\n%s", err, out)
	}
	if got := targets(site, h0); strings.Join(got, ",") != "GET /robots.txt" {
		t.Errorf("server log %q, want robots.txt only", got)
	}
}

// TestFetchRedirectOutOfScope checks that a redirect hop is judged as the
// crawl judges it: a redirect to a host out of scope is not followed.
func TestFetchRedirectOutOfScope(t *testing.T) {
	site, cfg := fetchSite(t)
	h0, h1 := site.Hosts()[0], site.Hosts()[1]
	out, _, err := fetchRun("-c", cfg, "http://"+h0+"/partner")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "     redirect to http://"+h1+"/article/1: the crawl would not follow it: out of scope: host "+h1) {
		t.Errorf("redirect out of scope:\n%s", out)
	}
	if got := targets(site, h1); len(got) != 0 {
		t.Errorf("the out-of-scope host was asked %q", got)
	}
}
