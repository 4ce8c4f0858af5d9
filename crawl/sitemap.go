package crawl

import (
	"bytes"
	"fmt"
	"net/url"

	"github.com/crawler-dev/crawler/parse/sitemap"
	"github.com/crawler-dev/crawler/store"
)

// Frontier sources for sitemaps: the sitemap documents themselves, and the
// page URLs they list.
const (
	sourceSitemap      = "sitemap"
	sourceSitemapEntry = "sitemap-entry"
)

// maxSitemapBytes is the sitemaps.org limit on an uncompressed sitemap.
const maxSitemapBytes = 50 << 20

// sitemapURLs returns the frontier rows for the sitemaps of a host whose
// robots.txt was just read: those it names, and /sitemap.xml.
func (e *Engine) sitemapURLs(originURL string, listed []string) []store.NewURL {
	if !e.cfg.SitemapDiscovery || e.listMode {
		return nil
	}
	var out []store.NewURL
	for _, raw := range append(append([]string(nil), listed...), originURL+"/sitemap.xml") {
		c, err := e.norm.CanonicalString(raw)
		if err != nil {
			continue
		}
		u, _ := url.Parse(c)
		if u == nil || !e.seen.addNew(c, pathLen{}) {
			continue
		}
		n := e.discover(c, u, store.Lease{}, sourceSitemap, pathLen{})
		out = append(out, n)
	}
	return out
}

// recordSitemap parses a fetched sitemap and discovers what it lists.
func (w *worker) recordSitemap(out *store.Outcome, r *response) {
	e := w.e
	l := out.Lease
	res, err := sitemap.Parse(l.URL, bytes.NewReader(r.body), r.contentType,
		sitemap.Options{MaxBytes: maxSitemapBytes, AllowAnyLocation: true})
	if err != nil && (res == nil || len(res.URLs)+len(res.Sitemaps) == 0) {
		out.Reason = fmt.Sprintf("HTTP %d, sitemap not readable: %v", r.status, err)
		return
	}
	add := func(entries []sitemap.Entry, source string, step int) {
		for _, en := range entries {
			c, err := e.norm.CanonicalString(en.Loc)
			if err != nil {
				continue
			}
			u, _ := url.Parse(c)
			at := reach(l, c, step)
			if u == nil || !e.seen.addNew(c, at) {
				continue
			}
			n := e.discover(c, u, l, source, at)
			n.LastMod = en.LastMod
			out.Discovered = append(out.Discovered, n)
		}
	}
	add(res.Sitemaps, sourceSitemap, 0)
	add(res.URLs, sourceSitemapEntry, 1)
	out.Reason = fmt.Sprintf("HTTP %d, sitemap (%s): %d URLs, %d sitemaps", r.status, res.Kind, len(res.URLs), len(res.Sitemaps))
	if res.Truncated {
		out.Reason += ", truncated at a cap"
	}
}
