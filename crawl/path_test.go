package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

func TestSeenCacheDepth(t *testing.T) {
	c := newSeenCache(1 << 10)
	steps := []struct {
		at   pathLen
		want bool
	}{
		{pathLen{6, 2}, true},   // new
		{pathLen{6, 2}, false},  // the same path again
		{pathLen{7, 3}, false},  // a longer one
		{pathLen{5, 2}, true},   // shallower
		{pathLen{6, 1}, true},   // a shorter template chain
		{pathLen{5, 1}, false},  // nothing shorter
		{pathLen{0, 0}, true},   // a seed
		{pathLen{99, 0}, false}, // deeper than that
	}
	for i, s := range steps {
		if got := c.addNew("http://a/x", s.at); got != s.want {
			t.Errorf("step %d: addNew(%+v) = %v, want %v", i, s.at, got, s.want)
		}
	}
}

// TestShallowerRediscovery: a URL first skipped as too deep is fetched
// when a redirect or a sitemap reaches it at an allowed depth later,
// whether in the same run or a later one. Depth is the shortest distance,
// whatever order the paths are found in.
func TestShallowerRediscovery(t *testing.T) {
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\n")
		case p == "/sitemap.xml":
			fmt.Fprintf(w, `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>%s/by-sitemap</loc></url></urlset>`, base)
		case p == "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/c/1">chain</a></html>`)
		case strings.HasPrefix(p, "/c/"):
			// /c/1 .. /c/3 in a chain; /c/3 links the targets, at depth 4.
			n, _ := strconv.Atoi(p[len("/c/"):])
			if n < 3 {
				fmt.Fprintf(w, `<html><title>C%d</title><a href="/c/%d">next</a></html>`, n, n+1)
				return
			}
			fmt.Fprint(w, `<html><title>C3</title><a href="/by-redirect">r</a> <a href="/by-sitemap">s</a></html>`)
		case p == "/r":
			http.Redirect(w, r, "/by-redirect", http.StatusFound)
		default:
			fmt.Fprintf(w, `<html><title>%s</title></html>`, p)
		}
	}))
	defer srv.Close()
	base = srv.URL
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxDepth = 3
	cfg.SitemapDiscovery = false
	crawlOnce(t, cfg)
	states := func() map[string]string {
		return queryMap(t, cfg.Database, `SELECT url, state || ' ' || depth || ' ' || coalesce(reason, '') FROM frontier`)
	}
	for _, p := range []string{"/by-redirect", "/by-sitemap"} {
		if got := states()[base+p]; !strings.HasPrefix(got, "skipped 4 depth 4 exceeds max_depth 3") {
			t.Fatalf("%s after the first run: %q, want skipped as too deep", p, got)
		}
	}
	// A later run reaches them by a redirect from a new seed (depth 0) and
	// by the sitemap (its entries are at depth 1).
	cfg.Seeds = []string{base + "/r"}
	cfg.Sitemaps = []string{base + "/sitemap.xml"}
	crawlOnce(t, cfg)
	got := states()
	for p, want := range map[string]string{"/by-redirect": "done 0 HTTP 200", "/by-sitemap": "done 1 HTTP 200"} {
		if got[base+p] != want {
			t.Errorf("%s after the second run: %q, want %q", p, got[base+p], want)
		}
	}
}

// calendarSite serves an endless month calendar, a catalog whose list pages
// link every page of the list, items that link the next item (a long
// chain of one template), and counts requests.
type calendarSite struct {
	countingServer
}

var reMonth = regexp.MustCompile(`^/calendar/(\d+)/(\d+)$`)

func (s *calendarSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.count(r)
	p := r.URL.Path
	const items, perList = 300, 10
	switch {
	case p == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
	case p == "/":
		fmt.Fprint(w, `<html><title>Home</title><a href="/calendar/2026/5">calendar</a> <a href="/list?page=1">list</a> <a href="/item/1">first item</a></html>`)
	case reMonth.MatchString(p):
		m := reMonth.FindStringSubmatch(p)
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		next, prev := fmt.Sprintf("/calendar/%d/%d", y, mo+1), fmt.Sprintf("/calendar/%d/%d", y, mo-1)
		if mo == 12 {
			next = fmt.Sprintf("/calendar/%d/1", y+1)
		}
		if mo == 1 {
			prev = fmt.Sprintf("/calendar/%d/12", y-1)
		}
		fmt.Fprintf(w, `<html><title>%d-%d</title><a href="%s">next</a> <a href="%s">prev</a></html>`, y, mo, next, prev)
	case p == "/list":
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		var b strings.Builder
		for i := 1; i <= items/perList; i++ {
			fmt.Fprintf(&b, `<a href="/list?page=%d">%d</a> `, i, i)
		}
		for i := (page-1)*perList + 1; i <= page*perList && i <= items; i++ {
			fmt.Fprintf(&b, `<a href="/item/%d">item %d</a> `, i, i)
		}
		fmt.Fprintf(w, `<html><title>List %d</title>%s</html>`, page, b.String())
	case strings.HasPrefix(p, "/item/"):
		n, _ := strconv.Atoi(p[len("/item/"):])
		fmt.Fprintf(w, `<html><title>Item %d</title><a href="/item/%d">next item</a></html>`, n, n+1)
	default:
		http.NotFound(w, r)
	}
}

// TestTemplateChainBounded: with no depth limit (max_depth 0), a
// next/previous calendar ends at max_template_chain links in a row within
// its URL template, with a reason that names the template; a catalog of the
// same size, its list pages linking each other, is crawled whole; a chain
// of item pages is cut where it leaves the list.
func TestTemplateChainBounded(t *testing.T) {
	site := &calendarSite{countingServer{paths: map[string]int{}}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxDepth = 0
	cfg.Limits.MaxTemplateChain = 20
	cfg.SitemapDiscovery = false
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, db := seededEngine(t, cfg)
	defer db.Close()
	if out, err := e.Run(ctx, time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("Run = %s, %v; want the calendar to end by itself", out, err)
	}
	var months, lists, items int
	for p, n := range site.counts() {
		if n != 1 {
			t.Errorf("%s requested %d times", p, n)
		}
		switch {
		case strings.HasPrefix(p, "/calendar/"):
			months++
		case strings.HasPrefix(p, "/list?"):
			lists++
		case strings.HasPrefix(p, "/item/"):
			items++
		}
	}
	// The first month, then 20 in a row each way.
	if months != 41 {
		t.Errorf("%d calendar months fetched, want 41", months)
	}
	pages := queryMap(t, cfg.Database, `SELECT url, status FROM pages`)
	for i := 1; i <= 30; i++ {
		if _, ok := pages[fmt.Sprintf("%s/list?page=%d", srv.URL, i)]; !ok {
			t.Errorf("list page %d not fetched", i)
		}
	}
	for i := 1; i <= 300; i++ {
		if _, ok := pages[fmt.Sprintf("%s/item/%d", srv.URL, i)]; !ok {
			t.Errorf("item %d not fetched", i)
		}
	}
	// Past the list, items link items only: 20 more in a row.
	if items != 320 {
		t.Errorf("%d items fetched, want 320", items)
	}
	reasons := queryMap(t, cfg.Database, `SELECT reason, count(*) FROM frontier WHERE state = 'skipped' GROUP BY reason`)
	for _, want := range []string{
		"trap: template /calendar/N/N over budget 20 (limits.max_template_chain: links in a row within one URL template)",
		"trap: template /item/N over budget 20 (limits.max_template_chain: links in a row within one URL template)",
	} {
		if _, ok := reasons[want]; !ok {
			t.Errorf("no URL skipped with %q; reasons: %v", want, reasons)
		}
	}
	if lists != 30 {
		t.Errorf("%d list pages fetched, want 30", lists)
	}
}

func TestURLTemplate(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://a.example/calendar/2026/11", "/calendar/N/N"},
		{"http://a.example:8080/search?q=12&sort=price&page=3", "/search?q=N&sort=price&page=N"},
		{"http://a.example/p/a1b22c", "/p/aNbNc"},
		{"http://a.example/", "/"},
		{"http://a.example?x=1", "?x=N"},
	} {
		if got := urlTemplate(tt.url); got != tt.want {
			t.Errorf("urlTemplate(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"http://a.example/calendar/2026/11", "http://a.example/calendar/2026/12", true},
		{"http://a.example/calendar/2026/11", "http://a.example/calendar/1/1", true},
		{"http://a.example/calendar/2026/11", "http://b.example/calendar/2026/12", false},
		{"http://a.example/item/1", "http://a.example/item/1/x", false},
		{"http://a.example/item/1", "http://a.example/items/1", false},
		{"http://a.example/list?page=1", "http://a.example/list?page=22", true},
		{"http://a.example/list?page=1", "http://a.example/list?p=1", false},
	} {
		if got := sameTemplate(tt.a, tt.b); got != tt.want {
			t.Errorf("sameTemplate(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// A link within the template adds one to the chain; a redirect or a
	// rel=canonical (no link) keeps it; another template starts again.
	from := store.Lease{URL: "http://a.example/chain/1", Depth: 4, Chain: 3}
	for _, tt := range []struct {
		url  string
		step int
		want pathLen
	}{
		{"http://a.example/chain/2", 1, pathLen{5, 4}},
		{"http://a.example/chain/2", 0, pathLen{4, 3}},
		{"http://a.example/other", 1, pathLen{5, 0}},
	} {
		if got := reach(from, tt.url, tt.step); got != tt.want {
			t.Errorf("reach(%s, %q, %d) = %+v, want %+v", from.URL, tt.url, tt.step, got, tt.want)
		}
	}
}
