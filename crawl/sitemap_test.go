package crawl

import (
	"testing"

	"github.com/crawler-dev/crawler/testsite"
)

// TestSitemapOnlyPagesFound: pages linked from nowhere but listed in the
// sitemap named by robots.txt are crawled, with their lastmod kept.
func TestSitemapOnlyPagesFound(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 60, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg := testConfig(t, site.Seeds()[0])
	cfg.Seeds = site.Seeds()
	cfg.Limits.MaxDepth = 10
	crawlOnce(t, cfg)
	hidden := site.SitemapOnly()
	if len(hidden) == 0 {
		t.Fatal("test site lists no sitemap-only pages")
	}
	got := queryMap(t, cfg.Database, `SELECT f.url, f.source || ' ' || p.status || ' ' || (f.lastmod IS NOT NULL)
		FROM frontier f JOIN pages p ON p.url_id = f.id WHERE f.url LIKE '%/hidden/%'`)
	for _, u := range hidden {
		if got[u] != "sitemap-entry 200 1" {
			t.Errorf("%s: %q, want fetched from the sitemap (source, status, has lastmod)", u, got[u])
		}
	}
	// And the sitemap-found pages did not change what the links reach.
	pages := queryMap(t, cfg.Database, `SELECT url, status FROM pages`)
	for u := range site.Expected() {
		if _, ok := pages[u]; !ok {
			t.Errorf("linked page %s missing", u)
		}
	}
}
