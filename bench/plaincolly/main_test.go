package main

import (
	"context"
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
	res, err := crawl(ctx, site.Seeds(), 8)
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
