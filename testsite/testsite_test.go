package testsite

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
)

func startSite(t testing.TB, o Options) *Site {
	t.Helper()
	s, err := Start(o)
	if err != nil {
		t.Fatalf("Start(%+v): %v", o, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// noRedirect is a client that reports redirects instead of following them
// and never asks for or undoes compression.
func noRedirect(t testing.TB) *http.Client {
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 8}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       time.Minute, // a hung test fails instead of hanging
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func get(t testing.TB, c *http.Client, u string) response {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

func TestFetchPages(t *testing.T) {
	s := startSite(t, Options{Hosts: 3, PagesPerHost: 200, Seed: 7})
	c := noRedirect(t)
	if got := len(s.Hosts()); got != 3 {
		t.Fatalf("len(Hosts()) = %d, want 3", got)
	}
	for i, h := range s.Hosts() {
		want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}[i]
		if !strings.HasPrefix(h, want+":") {
			t.Errorf("Hosts()[%d] = %q, want %s:PORT", i, h, want)
		}
	}
	base := "http://" + s.Hosts()[0]
	tests := []struct {
		path     string
		status   int
		ctype    string
		contains []string
		location string
	}{
		{"/", 200, "text/html; charset=utf-8", []string{"<!DOCTYPE html>", "<title>", `<meta name="description"`, `href="/category/`, `href="/private/1"`, `href="/partner"`}, ""},
		{"/product/12", 200, "text/html; charset=utf-8", []string{`<h1 class="product-name">`, `<span class="sku">SKU: `, `application/ld+json`, `"@type":"Product"`, `og:type" content="product"`, `<link rel="canonical" href="` + base + `/product/12">`, "In stock"}, ""},
		{"/category/books?page=1", 200, "text/html; charset=utf-8", []string{`<div class="product-card">`, `class="price"`}, ""},
		{"/article/3", 200, "text/html; charset=utf-8", []string{`<base href="` + base + `/article/">`, `<html lang="`}, ""},
		{"/robots.txt", 200, "text/plain; charset=utf-8", []string{"User-agent: *\nDisallow: /private/\n", "Sitemap: " + base + "/sitemap.xml"}, ""},
		{"/old/1", 301, "text/html; charset=utf-8", nil, "/article/1"},
		{"/partner", 302, "text/html; charset=utf-8", nil, "http://" + s.Hosts()[1] + "/article/1"},
		{"/missing/1", 404, "text/html; charset=utf-8", nil, ""},
		{"/broken/1", 500, "text/html; charset=utf-8", nil, ""},
		{"/product/0", 404, "text/html; charset=utf-8", nil, ""},
		{"/product/012", 404, "text/html; charset=utf-8", nil, ""},
		{"/files/4.pdf", 200, "application/pdf", []string{"%PDF-1.4", "%%EOF"}, ""},
		{"/api/item/3.json", 200, "application/json", []string{`"sku": "`, `"url": "` + base + `/product/3"`}, ""},
		{"/private/1", 200, "text/html; charset=utf-8", nil, ""},
		{"/hidden/1", 200, "text/html; charset=utf-8", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := get(t, c, base+tt.path)
			if r.status != tt.status {
				t.Errorf("GET %s: status %d, want %d", tt.path, r.status, tt.status)
			}
			if got := r.header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
			}
			if got := r.header.Get("Location"); got != tt.location {
				t.Errorf("GET %s: Location %q, want %q", tt.path, got, tt.location)
			}
			for _, want := range tt.contains {
				if !bytes.Contains(r.body, []byte(want)) {
					t.Errorf("GET %s: body lacks %q", tt.path, want)
				}
			}
		})
	}
}

func TestPriceFormats(t *testing.T) {
	tests := []struct {
		cents    int
		currency string
		want     string
	}{
		{129999, "USD", "$1,299.99"},
		{129999, "EUR", "1.299,99 €"},
		{1250, "GBP", "£12.50"},
		{105, "USD", "$1.05"},
		{123456789, "EUR", "1.234.567,89 €"},
	}
	for _, tt := range tests {
		if got := formatPrice(tt.cents, tt.currency); got != tt.want {
			t.Errorf("formatPrice(%d, %q) = %q, want %q", tt.cents, tt.currency, got, tt.want)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a := startSite(t, Options{Hosts: 2, PagesPerHost: 200, Seed: 42})
	b := startSite(t, Options{Hosts: 2, PagesPerHost: 200, Seed: 42})
	other := startSite(t, Options{Hosts: 2, PagesPerHost: 200, Seed: 43})
	c := noRedirect(t)
	// Absolute links name the hosts, whose ports differ between the
	// sites; replace them before comparing.
	fetch := func(s *Site, host int, path string) string {
		body := string(get(t, c, "http://"+s.Hosts()[host]+path).body)
		for i, h := range s.Hosts() {
			body = strings.ReplaceAll(body, h, "HOST"+string(rune('0'+i)))
		}
		return body
	}
	paths := []string{"/", "/product/1", "/product/77", "/article/13", "/category/books?page=2", "/sitemap.xml", "/robots.txt", "/files/8.pdf", "/api/item/9.json", "/hidden/1"}
	for _, p := range paths {
		for h := range 2 {
			if x, y := fetch(a, h, p), fetch(b, h, p); x != y {
				t.Errorf("host %d %s differs between two sites with Seed 42:\n%s", h, p, cmp.Diff(x, y))
			}
		}
	}
	if x, y := fetch(a, 0, "/product/1"), fetch(other, 0, "/product/1"); x == y {
		t.Errorf("/product/1 is the same with Seed 42 and 43")
	}
	if x, y := fetch(a, 0, "/product/1"), fetch(a, 1, "/product/1"); x == y {
		t.Errorf("/product/1 is the same on host 0 and host 1")
	}
}

// canon is the test crawler's canonicalization: no fragment, no utm_*.
func canon(u *url.URL) string {
	c := *u
	c.Fragment, c.RawFragment = "", ""
	c.Host = strings.ToLower(c.Host)
	if c.RawQuery != "" {
		var keep []string
		for _, kv := range strings.Split(c.RawQuery, "&") {
			if !strings.HasPrefix(kv, "utm_") && kv != "" {
				keep = append(keep, kv)
			}
		}
		c.RawQuery = strings.Join(keep, "&")
	}
	if c.Path == "" {
		c.Path = "/"
	}
	return c.String()
}

// pageLinks returns the resolved <a href> targets of an HTML page,
// honouring <base href>, and with obeyNofollow skipping rel=nofollow links
// and every link of a page with <meta name=robots content=nofollow>.
func pageLinks(page *url.URL, body []byte, obeyNofollow bool) []*url.URL {
	base := page
	var hrefs []string
	nofollowPage := false
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		attr := func(name string) (string, bool) {
			for _, a := range tok.Attr {
				if a.Key == name {
					return a.Val, true
				}
			}
			return "", false
		}
		switch tok.Data {
		case "base":
			if href, ok := attr("href"); ok && base == page {
				if b, err := page.Parse(href); err == nil {
					base = b
				}
			}
		case "meta":
			if name, _ := attr("name"); strings.EqualFold(name, "robots") {
				content, _ := attr("content")
				nofollowPage = hasNofollow(strings.ToLower(content))
			}
		case "a":
			href, ok := attr("href")
			if !ok {
				continue
			}
			if rel, _ := attr("rel"); obeyNofollow && slices.Contains(strings.Fields(rel), "nofollow") {
				continue
			}
			hrefs = append(hrefs, href)
		}
	}
	if obeyNofollow && nofollowPage {
		return nil
	}
	var out []*url.URL
	for _, h := range hrefs {
		if u, err := base.Parse(h); err == nil {
			out = append(out, u)
		}
	}
	return out
}

// crawl is a tiny breadth-first crawler over HTTP: it stays on the given
// hosts, skips /private/ (the site's robots.txt), does not follow
// redirects but queues their targets, and extracts links from HTML 200s.
func crawl(t *testing.T, seeds []string, hosts []string, obeyNofollow bool) map[string]int {
	t.Helper()
	c := noRedirect(t)
	got := make(map[string]int)
	var queue []string
	push := func(u *url.URL) {
		if u.Scheme != "http" || !slices.Contains(hosts, strings.ToLower(u.Host)) || strings.HasPrefix(u.Path, "/private/") {
			return
		}
		s := canon(u)
		if _, ok := got[s]; ok {
			return
		}
		got[s] = 0
		queue = append(queue, s)
	}
	for _, s := range seeds {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("seed %q: %v", s, err)
		}
		push(u)
	}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		r := get(t, c, u)
		got[u] = r.status
		page, _ := url.Parse(u)
		switch {
		case r.status >= 300 && r.status < 400:
			loc, err := page.Parse(r.header.Get("Location"))
			if err != nil {
				t.Errorf("GET %s: bad Location %q: %v", u, r.header.Get("Location"), err)
				continue
			}
			push(loc)
		case r.status == 200 && strings.HasPrefix(r.header.Get("Content-Type"), "text/html"):
			for _, l := range pageLinks(page, r.body, obeyNofollow) {
				push(l)
			}
		}
	}
	return got
}

func TestExpectedMatchesCrawl(t *testing.T) {
	s := startSite(t, Options{Hosts: 3, PagesPerHost: 200, Seed: 3})
	want := s.Expected()
	for _, obey := range []bool{true, false} {
		got := crawl(t, s.Seeds(), s.Hosts(), obey)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("crawl (obey nofollow %v) differs from Expected() (-want +got):\n%s", obey, diff)
		}
	}

	all, _ := view{s.normal, 0}.expected(true)
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("Expected() changes when nofollow is ignored (-obeying +ignoring):\n%s", diff)
	}
	if _, depth := (view{s.normal, 0}).expected(false); depth > 6 {
		t.Errorf("deepest expected URL is %d links from a seed, want <= 6", depth)
	}

	statuses := map[int]int{}
	kinds := map[string]int{}
	for u, st := range want {
		statuses[st]++
		if m := regexp.MustCompile(`^http://[^/]+/([a-z]+)`).FindStringSubmatch(u); m != nil {
			kinds[m[1]]++
		}
	}
	t.Logf("Expected(): %d URLs, by status %v, by kind %v", len(want), statuses, kinds)
	for _, st := range []int{200, 301, 302, 404, 500} {
		if statuses[st] == 0 {
			t.Errorf("Expected() has no URL with status %d", st)
		}
	}
	for _, k := range []string{"product", "article", "category", "files", "api", "old", "missing", "broken"} {
		if kinds[k] == 0 {
			t.Errorf("Expected() has no /%s/ URL", k)
		}
	}
	if n := kinds["product"] + kinds["article"] + kinds["category"]; n < 3*200*8/10 || n > 3*200*12/10 {
		t.Errorf("Expected() has %d product, article and category pages, want about %d", n, 3*200)
	}
	for u := range want {
		if strings.Contains(u, "/private/") || strings.Contains(u, "/hidden/") || strings.Contains(u, "utm_") || strings.Contains(u, "#") {
			t.Errorf("Expected() lists %s", u)
		}
	}
}

func TestExpectedSizes(t *testing.T) {
	tests := []struct{ hosts, pages int }{{1, 1}, {1, 10}, {2, 59}, {1, 1000}, {4, 3000}}
	for _, tt := range tests {
		ns := newNormalSite(1, make([]string, tt.hosts), tt.pages, ChangeRates{}, false)
		for i := range ns.hosts {
			ns.hosts[i] = "h" + string(rune('0'+i))
		}
		v := view{ns, 0}
		obey, depth := v.expected(false)
		all, _ := v.expected(true)
		if diff := cmp.Diff(obey, all); diff != "" {
			t.Errorf("hosts=%d pages=%d: nofollow changes the set:\n%s", tt.hosts, tt.pages, diff)
		}
		if depth > 6 {
			t.Errorf("hosts=%d pages=%d: depth %d, want <= 6", tt.hosts, tt.pages, depth)
		}
		html := 0
		for u, st := range obey {
			if st == 200 && !strings.Contains(u, "/files/") && !strings.Contains(u, "/api/") {
				html++
			}
		}
		// Every product and article must be reachable.
		per := html / tt.hosts
		if per < ns.lay.products+ns.lay.articles {
			t.Errorf("hosts=%d pages=%d: %d HTML pages per host, fewer than %d products + %d articles", tt.hosts, tt.pages, per, ns.lay.products, ns.lay.articles)
		}
		if tt.pages >= 100 && (per < tt.pages*8/10 || per > tt.pages*12/10) {
			t.Errorf("hosts=%d pages=%d: %d HTML pages per host", tt.hosts, tt.pages, per)
		}
	}
}

func TestSitemap(t *testing.T) {
	s := startSite(t, Options{Hosts: 2, PagesPerHost: 200, Seed: 5})
	c := noRedirect(t)
	expected := s.Expected()
	only := s.SitemapOnly()
	if len(only) != 4 {
		t.Errorf("len(SitemapOnly()) = %d, want 4", len(only))
	}
	var listed []string
	for _, h := range s.Hosts() {
		r := get(t, c, "http://"+h+"/sitemap.xml")
		var set struct {
			URLs []struct {
				Loc     string `xml:"loc"`
				LastMod string `xml:"lastmod"`
			} `xml:"url"`
		}
		if err := xml.Unmarshal(r.body, &set); err != nil {
			t.Fatalf("sitemap of %s: %v", h, err)
		}
		for _, u := range set.URLs {
			listed = append(listed, u.Loc)
			if _, err := time.Parse("2006-01-02", u.LastMod); err != nil {
				t.Errorf("sitemap entry %s: lastmod %q: %v", u.Loc, u.LastMod, err)
			}
			if strings.Contains(u.Loc, "/hidden/") {
				continue
			}
			if st, ok := expected[u.Loc]; !ok || st != 200 {
				t.Errorf("sitemap lists %s, Expected() has status %d (present %v)", u.Loc, st, ok)
			}
		}
	}
	for _, u := range only {
		if !slices.Contains(listed, u) {
			t.Errorf("SitemapOnly() URL %s is not in a sitemap", u)
		}
		if _, ok := expected[u]; ok {
			t.Errorf("SitemapOnly() URL %s is in Expected()", u)
		}
		if r := get(t, c, u); r.status != 200 {
			t.Errorf("GET %s: status %d, want 200", u, r.status)
		}
	}
}

func TestFast(t *testing.T) {
	s := startSite(t, Options{Hosts: 2, PagesPerHost: 300, Seed: 9, Fast: true})
	want := s.Expected()
	if len(want) != 2*300 {
		t.Errorf("len(Expected()) = %d, want %d", len(want), 2*300)
	}
	got := crawl(t, s.Seeds(), s.Hosts(), true)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("crawl differs from Expected() (-want +got):\n%s", diff)
	}
	c := noRedirect(t)
	r := get(t, c, "http://"+s.Hosts()[1]+"/p/123")
	if n := len(r.body); n < 25<<10 || n > 35<<10 {
		t.Errorf("fast page is %d bytes, want about 30 KB", n)
	}
	if n := bytes.Count(r.body, []byte("<a href=")); n != fastLinks {
		t.Errorf("fast page has %d links, want %d", n, fastLinks)
	}
	if r := get(t, c, "http://"+s.Hosts()[0]+"/robots.txt"); !bytes.Contains(r.body, []byte("Allow: /")) {
		t.Errorf("fast robots.txt = %q", r.body)
	}
	if r := get(t, c, "http://"+s.Hosts()[0]+"/p/300"); r.status != 404 {
		t.Errorf("GET /p/300: status %d, want 404", r.status)
	}
	if s.SitemapOnly() != nil {
		t.Errorf("SitemapOnly() = %v in Fast mode, want nil", s.SitemapOnly())
	}
}

func TestStats(t *testing.T) {
	s := startSite(t, Options{Hosts: 2, PagesPerHost: 100})
	tr := &http.Transport{MaxConnsPerHost: 1}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	h := s.Hosts()[0]
	seq := []string{"/", "/about", "/", "/category/books?page=1", "/", "/about"}
	for _, p := range seq {
		get(t, c, "http://"+h+p)
	}
	st := s.Stats()
	if len(st) != 2 {
		t.Errorf("len(Stats()) = %d, want 2", len(st))
	}
	got := st[h]
	want := HostStats{
		Requests:    6,
		MaxInFlight: 1,
		MinGap:      got.MinGap,
		ByPath:      map[string]int{"/": 3, "/about": 2, "/category/books?page=1": 1},
		Bytes:       got.Bytes,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats()[%s] mismatch (-want +got):\n%s", h, diff)
	}
	if got.MinGap <= 0 {
		t.Errorf("MinGap = %v, want > 0", got.MinGap)
	}
	if o := st[s.Hosts()[1]]; o.Requests != 0 || len(o.ByPath) != 0 || o.MinGap != 0 {
		t.Errorf("Stats() of the idle host = %+v, want zero", o)
	}
	if n := s.MaxInWindow(h, time.Hour); n != 6 {
		t.Errorf("MaxInWindow(%s, 1h) = %d, want 6", h, n)
	}
	if n := s.MaxInWindow(h, got.MinGap); n != 1 {
		t.Errorf("MaxInWindow(%s, MinGap) = %d, want 1", h, n)
	}
	if n := s.MaxInWindow(h, 0); n != 0 {
		t.Errorf("MaxInWindow(%s, 0) = %d, want 0", h, n)
	}
	if n := s.MaxInWindow("127.0.0.1:1", time.Hour); n != 0 {
		t.Errorf("MaxInWindow(unknown host) = %d, want 0", n)
	}
}

func TestStatsBounded(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 10, LogSize: 4, NoByPath: true})
	c := noRedirect(t)
	h := s.Hosts()[0]
	for range 10 {
		get(t, c, "http://"+h+"/")
	}
	st := s.Stats()[h]
	if st.Requests != 10 || st.ByPath != nil {
		t.Errorf("Stats() = %+v, want 10 requests and no ByPath", st)
	}
	if n := s.MaxInWindow(h, time.Hour); n != 4 {
		t.Errorf("MaxInWindow(1h) = %d with LogSize 4, want 4", n)
	}
}

func TestMaxInWindow(t *testing.T) {
	ms := int64(time.Millisecond)
	starts := []int64{0, 100 * ms, 150 * ms, 1000 * ms, 1050 * ms, 1100 * ms, 1199 * ms}
	tests := []struct {
		w    int64
		want int
	}{
		{0, 0},
		{1, 1},
		{50 * ms, 1},
		{50*ms + 1, 2},
		{100 * ms, 2},
		{200 * ms, 4},
		{1000 * ms, 4},
		{1100*ms + 1, 6},
		{1200 * ms, 7},
	}
	for _, tt := range tests {
		if got := maxInWindow(starts, tt.w); got != tt.want {
			t.Errorf("maxInWindow(starts, %v) = %d, want %d", time.Duration(tt.w), got, tt.want)
		}
	}
	if got := maxInWindow(nil, ms); got != 0 {
		t.Errorf("maxInWindow(nil, 1ms) = %d, want 0", got)
	}
}

func TestRateLimit(t *testing.T) {
	// One request per 1000 s: the second request is always too soon.
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 10, RateLimit: 0.001})
	c := noRedirect(t)
	h := s.Hosts()[0]
	if r := get(t, c, "http://"+h+"/"); r.status != 200 {
		t.Errorf("first request: status %d, want 200", r.status)
	}
	r := get(t, c, "http://"+h+"/about")
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("second request: status %d, Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
	}
	if st := s.Stats()[h]; st.Requests != 2 || st.Throttled != 1 {
		t.Errorf("Stats() = %+v, want 2 requests, 1 throttled", st)
	}
}

func TestLatency(t *testing.T) {
	const d = 30 * time.Millisecond
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 10, Latency: d})
	c := noRedirect(t)
	start := time.Now()
	get(t, c, "http://"+s.Hosts()[0]+"/")
	// A timer never fires early, so this lower bound cannot flake.
	if el := time.Since(start); el < d {
		t.Errorf("request with Latency %v took %v", d, el)
	}
}

func TestLoopbackAddrs(t *testing.T) {
	tests := []struct {
		first   string
		n       int
		want    []string
		wantErr bool
	}{
		{"127.0.0.2", 3, []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}, false},
		{"127.0.0.253", 4, []string{"127.0.0.253", "127.0.0.254", "127.0.1.1", "127.0.1.2"}, false},
		{"127.0.0.0", 1, []string{"127.0.0.1"}, false},
		{"127.255.255.254", 1, []string{"127.255.255.254"}, false},
		{"127.255.255.254", 2, nil, true},
		{"10.0.0.1", 1, nil, true},
		{"::1", 1, nil, true},
		{"localhost", 1, nil, true},
	}
	for _, tt := range tests {
		got, err := LoopbackAddrs(tt.first, tt.n)
		if (err != nil) != tt.wantErr {
			t.Errorf("LoopbackAddrs(%q, %d) error = %v, want error %v", tt.first, tt.n, err, tt.wantErr)
			continue
		}
		var strs []string
		for _, a := range got {
			strs = append(strs, a.String())
		}
		if !slices.Equal(strs, tt.want) {
			t.Errorf("LoopbackAddrs(%q, %d) = %v, want %v", tt.first, tt.n, strs, tt.want)
		}
	}
}

func TestStartErrors(t *testing.T) {
	for _, o := range []Options{
		{FirstAddr: "192.168.1.1"},
		{Hosts: -1},
		{Port: 70000},
	} {
		if s, err := Start(o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded, want an error", o)
		}
	}
}

func TestFixedPort(t *testing.T) {
	a := startSite(t, Options{Hosts: 2, PagesPerHost: 10})
	b := startSite(t, Options{Hosts: 2, PagesPerHost: 10, FirstAddr: "127.0.0.40", Port: a.Port()})
	if b.Port() != a.Port() {
		t.Errorf("Port() = %d, want %d", b.Port(), a.Port())
	}
	// The same addresses and port are taken.
	if s, err := Start(Options{Hosts: 1, Port: a.Port()}); err == nil {
		s.Close()
		t.Errorf("Start on a port in use succeeded")
	}
}

func TestCloseEndsOpenResponses(t *testing.T) {
	s, err := Start(Options{Hosts: 1, PagesPerHost: 10, Hostile: true, Latency: 0})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.HostileHosts()[RoleDrip] + "/drip")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 1)); err != nil {
		t.Fatalf("read first drip byte: %v", err)
	}
	// Close must cut the endless response and wait for its handler.
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-s.bad.dripExit:
	default:
		t.Errorf("Close returned before the drip handler did")
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Errorf("drip body ended cleanly after Close, want an error")
	}
}

// readDrip starts a /drip request and returns once its first byte arrived.
func readDrip(ctx context.Context, t *testing.T, host string) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+host+"/drip", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /drip: %v", err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(resp.Body, b); err != nil || b[0] != '<' {
		t.Fatalf("first drip byte: %q, %v", b, err)
	}
	return resp
}

func TestMaxInFlight(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 10, Hostile: true})
	host := s.HostileHosts()[RoleDrip]
	ctx, cancel := context.WithCancel(context.Background())
	var resps []*http.Response
	for range 3 {
		resps = append(resps, readDrip(ctx, t, host))
	}
	if got := s.Stats()[host].MaxInFlight; got != 3 {
		t.Errorf("MaxInFlight = %d with 3 drips open, want 3", got)
	}
	cancel()
	for _, r := range resps {
		r.Body.Close()
	}
	for range 3 {
		select {
		case <-s.bad.dripExit:
		case <-time.After(30 * time.Second):
			t.Fatalf("drip handler still writing 30 s after the client left")
		}
	}
}

// FuzzRoute feeds request targets to the content and Fast routers, at
// generations 0 to 3 of sites that change and have duplicates, and renders
// whatever they accept.
func FuzzRoute(f *testing.F) {
	hosts := []string{"127.0.0.2:8080", "127.0.0.3:8080"}
	rates := ChangeRates{Text: 0.2, Price: 0.1, Remove: 0.1, New: 0.1}
	ns := newNormalSite(1, hosts, 200, rates, true)
	fs := newFastSite(1, hosts, 200, ChangeRates{Text: 0.2, Remove: 0.1, New: 0.1})
	ns.hist.ensure(3)
	fs.hist.ensure(3)
	for _, s := range []string{"/", "/category/books?page=2", "/category/books", "/product/12", "/article/3",
		"/old/1", "/files/4.pdf", "/api/item/3.json", "/category/books?page=x", "/product/007", "/hidden/1",
		"/p/12", "/p/0", "/missing/x", "/private/a?b", "/article/5/print", "/article/5/edition/2", "/a/12",
		"/product/131", "/article/51", "/p/205", "/sitemap.xml"} {
		f.Add(s, uint8(2))
	}
	f.Fuzz(func(t *testing.T, target string, gen uint8) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		g := int(gen % 4)
		rep := view{ns, g}.respond(0, u.Path, u.RawQuery)
		switch rep.status {
		case 200, 301, 302, 404, 410, 500:
		default:
			t.Fatalf("respond(%q) at generation %d: status %d", target, g, rep.status)
		}
		if rep.status == 200 && strings.HasPrefix(rep.ctype, "text/html") {
			if !utf8.Valid(rep.body) || !bytes.HasSuffix(rep.body, []byte("</html>\n")) {
				t.Fatalf("respond(%q) at generation %d is not a complete UTF-8 page", target, g)
			}
		}
		if (rep.status == 200) != (rep.etag != "") {
			t.Fatalf("respond(%q) at generation %d: status %d with ETag %q", target, g, rep.status, rep.etag)
		}
		if id, ok := fs.pageID(u.Path); ok {
			if id < 0 {
				t.Fatalf("pageID(%q) = %d", u.Path, id)
			}
			if p := fs.page(0, id, g); p.exists && p.gone == 0 {
				fs.appendPage(nil, 0, id, p)
			}
		}
	})
}

func BenchmarkFastPage(b *testing.B) {
	f := newFastSite(1, []string{"127.0.0.2:8080", "127.0.0.3:8080"}, 1000, ChangeRates{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(w, r, 0, 0) })
	req, _ := http.NewRequest("GET", "http://127.0.0.2:8080/p/123", nil)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.n = 0
		h.ServeHTTP(w, req)
	}
	b.SetBytes(int64(w.n))
}

func BenchmarkFastPageHTTP(b *testing.B) {
	s := startSite(b, Options{Hosts: 1, PagesPerHost: 1000, Fast: true, NoByPath: true})
	c := noRedirect(b)
	u := "http://" + s.Hosts()[0] + "/p/123"
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		resp, err := c.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		n, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.SetBytes(n)
}

func BenchmarkNormalProductPage(b *testing.B) {
	ns := newNormalSite(1, []string{"127.0.0.2:8080", "127.0.0.3:8080"}, 1000, ChangeRates{}, false)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ns.serve(w, r, 0, 0) })
	req, _ := http.NewRequest("GET", "http://127.0.0.2:8080/product/123", nil)
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(int)     {}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
