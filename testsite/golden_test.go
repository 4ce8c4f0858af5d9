package testsite

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// TestGoldenGeneration0 pins what the default site serves: status,
// Content-Type, Location and a hash of the body of every URL a crawl
// meets (plus robots.txt and the sitemaps), with the host addresses
// replaced so the port does not matter. The demo, the end-to-end tests and
// the benchmark rely on these bytes; a change to the generator that moves
// them must be deliberate (rewrite with -update).
func TestGoldenGeneration0(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
	}{
		{"demo", Options{Hosts: 4, PagesPerHost: 250, Seed: 1}},
		{"fast", Options{Hosts: 2, PagesPerHost: 300, Seed: 9, Fast: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startSite(t, tt.o)
			got := goldenLines(t, s)
			file := filepath.Join("testdata", "gen0-"+tt.name+".txt")
			if *update {
				if err := os.WriteFile(file, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("read golden file (rewrite with -update): %v", err)
			}
			want := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("generation 0 of %+v differs from %s (-want +got):\n%s", tt.o, file, diff)
			}
		})
	}
}

// goldenLines fetches every URL of s's crawl and returns one line per URL.
func goldenLines(t *testing.T, s *Site) []string {
	t.Helper()
	c := noRedirect(t)
	urls := s.SitemapOnly()
	for u := range s.Expected() {
		urls = append(urls, u)
	}
	for _, h := range s.Hosts() {
		urls = append(urls, "http://"+h+"/robots.txt")
		if !s.opts.Fast {
			urls = append(urls, "http://"+h+"/sitemap.xml")
		}
	}
	anon := func(x string) string {
		for i, h := range s.Hosts() {
			x = strings.ReplaceAll(x, h, fmt.Sprintf("HOST%d", i))
		}
		return x
	}
	var lines []string
	for _, u := range urls {
		r := get(t, c, u)
		lines = append(lines, fmt.Sprintf("%s %d %q %q %016x", anon(u), r.status, r.header.Get("Content-Type"),
			anon(r.header.Get("Location")), xxhash.Sum64String(anon(string(r.body)))))
	}
	slices.Sort(lines)
	return lines
}
