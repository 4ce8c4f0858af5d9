package crawl

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/testsite"
)

// bigIndexPage is a documentation contents page like the largest of the
// Python documentation: n links to sections of 500 documents, every href
// distinct (library/moduleN.html#section-...), 500 distinct pages.
func bigIndexPage(n int) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Contents</title>
<link rel="index" title="Index" href="genindex.html"></head><body><div class="body" role="main"><ul>`)
	for i := range n {
		doc, part := i%500, i/500
		fmt.Fprintf(&b, `<li class="toctree-l2"><a class="reference internal" href="library/module%d.html#section-%d-%d">%d.%d. Section %d of module %d</a></li>`+"\n",
			doc, part, i, doc, part, part, doc)
	}
	b.WriteString("</ul></div></body></html>\n")
	return b.String()
}

// linksBench is a parsed page and an engine to record its links with.
type linksBench struct {
	e     *Engine
	w     *worker
	lease store.Lease
	links []parse.Link
}

func newLinksBench(tb testing.TB, pageURL string, body []byte) *linksBench {
	tb.Helper()
	u, err := url.Parse(pageURL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Defaults()
	cfg.Seeds = []string{pageURL}
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	cfg.Limits.MaxDepth = 1000
	e, err := New(&cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.fetch.close)
	doc, err := parse.HTML(u, body, parse.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return &linksBench{e: e, w: &worker{e: e}, lease: store.Lease{ID: 1, URL: pageURL, Depth: 3}, links: doc.Links}
}

// BenchmarkLinks measures what a worker spends on a page's links once the
// page is parsed: canonical form, deduplication, the seen cache and the
// frontier rows of new URLs; ns/link is the cost per link. "new" finds
// every URL for the first time, "known" finds them all in the seen cache.
func BenchmarkLinks(b *testing.B) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 1000, Fast: true, NoByPath: true})
	if err != nil {
		b.Fatal(err)
	}
	defer site.Close()
	fastURL := "http://" + site.Hosts()[0] + "/p/123"
	res, err := http.Get(fastURL)
	if err != nil {
		b.Fatal(err)
	}
	fast, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range []struct {
		name, url string
		body      []byte
	}{
		{"fast", fastURL, fast},
		{"bigindex", "https://docs.example.com/3/contents.html", []byte(bigIndexPage(17000))},
	} {
		lb := newLinksBench(b, page.url, page.body)
		for _, known := range []bool{false, true} {
			name := page.name + "/new"
			if known {
				name = page.name + "/known"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !known {
						lb.e.seen = newSeenCache(lb.e.cfg.Store.DedupCache)
					}
					var out store.Outcome
					lb.w.links(&out, lb.links, lb.lease, false)
					if len(out.Links) == 0 {
						b.Fatal("no links")
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(lb.links)), "ns/link")
			})
		}
	}
}
