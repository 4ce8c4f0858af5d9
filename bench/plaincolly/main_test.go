package main

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

// TestCrawl checks that the baseline reaches every page of the fast site,
// so the benchmark compares crawls of the same pages.
func TestCrawl(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 60, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := crawl(ctx, site.Seeds(), rules{parallelism: 8})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(site.Expected()); res.URLs != want {
		t.Errorf("crawl answered %d URLs, want %d", res.URLs, want)
	}
	if res.Errors != 0 || res.TimedOut {
		t.Errorf("crawl: %d errors, timed out %v", res.Errors, res.TimedOut)
	}
	served := 0
	for _, st := range site.Stats() {
		served += st.Requests
	}
	if served != res.Responses {
		t.Errorf("site served %d requests, crawler counted %d responses", served, res.Responses)
	}
}

// TestCrawlRules checks -url-filter and -robots: only matching URLs are
// fetched, robots.txt is read and obeyed.
func TestCrawlRules(t *testing.T) {
	var mu sync.Mutex
	hits := map[string]int{} // guarded by mu
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /private/\n")
		case "/index.html":
			fmt.Fprint(w, `<a href="a.html">a</a> <a href="notes.txt">txt</a> <a href="private/x.html">private</a> <a href="dir/">dir</a>`)
		case "/a.html":
			fmt.Fprint(w, `<a href="index.html">home</a>`)
		default:
			fmt.Fprint(w, "other")
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := crawl(ctx, []string{srv.URL + "/index.html"}, rules{parallelism: 4, filter: regexp.MustCompile(`\.html$`), obeyRobots: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.URLs != 2 {
		t.Errorf("crawl answered %d URLs, want 2 (/index.html and /a.html)", res.URLs)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"/robots.txt": 1, "/index.html": 1, "/a.html": 1}
	if !maps.Equal(hits, want) {
		t.Errorf("server saw %v, want %v", hits, want)
	}
}
