package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/testsite"
)

// TestInitCommand scaffolds a config from a product page of the test
// site: it loads, its starter rule extracts the product at once, it is
// not overwritten without --force, and init asked the site for robots.txt
// and the page only.
func TestInitCommand(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	h := site.Hosts()[0]
	page := "http://" + h + "/product/3"
	cfg := filepath.Join(t.TempDir(), "shop.yaml")

	out, stderr, err := xtTry("init", page, "-o", cfg)
	if err == nil || !strings.Contains(err.Error(), "blocked address") || !strings.Contains(err.Error(), "--allow-addresses") {
		t.Errorf("init of a loopback URL without --allow-addresses: %v\n%s%s", err, out, stderr)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Fatal("a refused init wrote the config")
	}

	out, _ = xtRun(t, "init", page, "-o", cfg, "--allow-addresses", "127.0.0.0/8")
	if got := targets(site, h); strings.Join(got, ", ") != "GET /robots.txt, GET /product/3" {
		t.Errorf("init asked the site for %q, want robots.txt then the page", got)
	}
	for _, want := range []string{"wrote " + cfg, "starter rules: product (", "extract -c " + cfg + " " + page} {
		if !strings.Contains(out, want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	c, err := crawl.LoadConfig(cfg)
	if err != nil {
		t.Fatalf("the written config does not load: %v", err)
	}
	if len(c.Seeds) != 1 || c.Seeds[0] != page || len(c.Scope.Hosts) != 1 || c.Scope.Hosts[0] != h ||
		len(c.Extract) != 1 || c.Extract[0].Match != "*/product/*" || c.Fetch.AllowAddresses[0] != "127.0.0.0/8" {
		t.Errorf("config: seeds %v, scope %v, rules %+v, allow %v", c.Seeds, c.Scope.Hosts, c.Extract, c.Fetch.AllowAddresses)
	}
	text, _ := os.ReadFile(cfg)
	for _, want := range []string{"# robots.txt (http://" + h + "/robots.txt, HTTP 200):", "#     Disallow: /private/",
		"#   Sitemap: http://" + h + "/sitemap.xml"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}

	res, _ := xtExtract(t, "-c", cfg, page)
	if len(res.Items) != 1 || len(res.Items[0].Errors) != 0 || res.Items[0].Data["name"] == "" || res.Items[0].Data["price"] == nil {
		t.Errorf("the starter rule extracts %+v, want the product's name and price", res.Items)
	}

	if _, _, err := xtTry("init", page, "-o", cfg, "--allow-addresses", "127.0.0.0/8"); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("init over an existing file: %v, want a refusal naming --force", err)
	}
	if again, _ := os.ReadFile(cfg); string(again) != string(text) {
		t.Error("a refused init changed the file")
	}
	resp, err := http.Get("http://" + h + "/")
	if err != nil {
		t.Fatal(err)
	}
	home, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	category := regexp.MustCompile(`/category/[a-z-]+`).FindString(string(home))
	xtRun(t, "init", "http://"+h+category+"?page=1", "-o", cfg, "--allow-addresses", "127.0.0.0/8", "--force", "--quiet")
	if c, err := crawl.LoadConfig(cfg); err != nil || len(c.Extract) != 1 || c.Extract[0].Root == "" {
		t.Errorf("--force: %v, rules %+v, want a listing rule with a root", err, c.Extract)
	}
}

// TestInitCrawlDelayAndJSONLD scaffolds from a site whose robots.txt has
// a Crawl-delay and whose page describes an article in JSON-LD.
func TestInitCrawlDelayAndJSONLD(t *testing.T) {
	var mu sync.Mutex
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, "User-agent: *\nCrawl-delay: 0.5\nDisallow: /admin/\nSitemap: /news-sitemap.xml\n")
			return
		}
		fmt.Fprint(w, `<html><head><title>t</title><script type="application/ld+json">
{"@type":"NewsArticle","headline":"Rivers rise in spring","datePublished":"2026-03-02","author":{"@type":"Person","name":"Ada Byron"}}
</script></head><body><article><h1 class="headline">Rivers rise in spring</h1>
<p class="byline">By <span class="author">Ada Byron</span>, <time datetime="2026-03-02">2 March</time></p><p>Text.</p></article></body></html>`)
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "news.yaml")
	host := strings.TrimPrefix(srv.URL, "http://")
	xtRun(t, "init", srv.URL+"/news/rivers", "-o", cfg, "--allow-addresses", host, "--quiet")
	c, err := crawl.LoadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.Politeness.Rate != 2 {
		t.Errorf("rate %g, want 2 from Crawl-delay 0.5", c.Politeness.Rate)
	}
	if len(c.Extract) != 1 || c.Extract[0].Name != "article" || len(c.Extract[0].Fields) != 3 {
		t.Fatalf("rules %+v, want an article rule with headline, author and published", c.Extract)
	}
	res, _ := xtExtract(t, "-c", cfg, srv.URL+"/news/rivers")
	if len(res.Items) != 1 || res.Items[0].Data["headline"] != "Rivers rise in spring" || res.Items[0].Data["author"] != "Ada Byron" ||
		res.Items[0].Data["published"] != "2026-03-02T00:00:00Z" {
		t.Errorf("article items %+v", res.Items)
	}
	text, _ := os.ReadFile(cfg)
	if !strings.Contains(string(text), "one every 500ms, as robots.txt's Crawl-delay asks") {
		t.Errorf("config does not say where its rate comes from:\n%s", text)
	}
}

// TestCheckCommand checks a config without crawling: robots.txt only is
// asked for, and refused seeds fail the check with their reasons.
func TestCheckCommand(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	h0, h1 := site.Hosts()[0], site.Hosts()[1]
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(fmt.Sprintf("seeds: http://%s/\nfetch: {allow_addresses: [127.0.0.0/8]}\n%s", h0,
		fmt.Sprintf(xtRules, "h1"))), 0o644)
	out, _ := xtRun(t, "check", "-c", good)
	for _, want := range []string{"config      " + good + ": valid\n", "database    " + filepath.Join(dir, "crawl.db") + ", will be created\n",
		"  ok       http://" + h0 + "/: robots.txt allowed: no rule matches", "scope       hosts " + h0 + " (the seeds' hosts)\n",
		`rules       product (match "*/product/*", 5 fields)`, "ok: a run would start with 1 URL\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if got := targets(site, h0); strings.Join(got, ",") != "GET /robots.txt" {
		t.Errorf("check asked for %q, want robots.txt only", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "crawl.db")); err == nil {
		t.Error("check created the database")
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(fmt.Sprintf("seeds:\n  - http://%s/private/1\n  - http://%s/\n  - http://[::1]:9/\nscope: {hosts: [%s]}\n"+
		"fetch: {allow_addresses: [127.0.0.0/8]}\n", h0, h1, h0)), 0o644)
	out, _, err = xtTry("check", "-c", bad)
	if err == nil || !strings.Contains(err.Error(), "a run would refuse 3 seeds") {
		t.Errorf("check of refused seeds: %v", err)
	}
	for _, want := range []string{
		"  refused  http://" + h0 + "/private/1: fetch http://" + h0 + `/private/1: disallowed by robots.txt: "Disallow: /private/"`,
		"politeness.obey_robots decides",
		"  refused  http://" + h1 + "/: out of scope: host " + h1, "(add the host to scope.hosts",
		"  refused  http://[::1]:9/: blocked address: loopback", "under fetch.allow_addresses",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if got := targets(site, h1); len(got) != 0 {
		t.Errorf("check asked the out-of-scope host for %q", got)
	}

	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("seeds: [example.com]\n"), 0o644)
	if _, _, err := xtTry("check", "-c", broken); err == nil || !strings.Contains(err.Error(), "must start with http:// or https://") {
		t.Errorf("check of an invalid config: %v", err)
	}
}
