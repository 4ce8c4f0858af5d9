package testsite

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/cespare/xxhash/v2"
)

// This file is the generation counter and the ground truth the tests ask
// for: what changed between two generations, what each URL serves, and
// which pages duplicate which.

// Generation returns the generation the site serves: 0 after Start.
func (s *Site) Generation() int { return int(s.gen.Load()) }

// Advance moves the site to the next generation and returns it. Requests
// that arrive from then on see the content hosts as Options.Changes
// changed them; a request already being served finishes with the
// generation it started with. It fails past MaxGeneration.
func (s *Site) Advance() (int, error) {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	g := s.Generation() + 1
	return g, s.setGeneration(g)
}

// SetGeneration makes the site serve generation g, which may be earlier
// than the current one: what a generation serves depends on its number
// only, not on the way there.
func (s *Site) SetGeneration(g int) error {
	s.genMu.Lock()
	defer s.genMu.Unlock()
	return s.setGeneration(g)
}

func (s *Site) setGeneration(g int) error {
	if err := checkGeneration(g); err != nil {
		return fmt.Errorf("set generation: %w", err)
	}
	s.hist.ensure(g)
	s.gen.Store(int64(g))
	return nil
}

func checkGeneration(g int) error {
	if g < 0 || g > MaxGeneration {
		return fmt.Errorf("generation %d outside [0, %d]", g, MaxGeneration)
	}
	return nil
}

// Changed returns the URLs of the content hosts whose status or body at
// generation to differs from generation from (from <= to), with how each
// changed. It covers the URLs of Truth at either generation; robots.txt
// and the sitemaps are not included. Besides the products and articles
// that Options.Changes picked (see ChangeRates), it lists the pages that
// show them: a listing or the home page when a product's price changed,
// the home page when pages were added, a product's datasheet and JSON,
// an article's copies. Every other URL serves the same bytes at both
// generations (a page added and removed between the two answers 404 or
// 410 at both, and is not listed).
func (s *Site) Changed(from, to int) (map[string]ChangeKind, error) {
	if err := checkGeneration(from); err != nil {
		return nil, fmt.Errorf("changed: %w", err)
	}
	if err := checkGeneration(to); err != nil {
		return nil, fmt.Errorf("changed: %w", err)
	}
	if from > to {
		return nil, fmt.Errorf("changed from generation %d to %d: from is later", from, to)
	}
	s.hist.ensure(to)
	s.hist.rlock()
	defer s.hist.runlock()
	if s.fast != nil {
		return s.fast.changed(from, to), nil
	}
	return view{s.normal, to}.changed(from, to), nil
}

// PageTruth is what one URL serves at one generation.
type PageTruth struct {
	Status       int
	ETag         string    // as served, quoted; "" unless Status is 200
	LastModified time.Time // zero unless Status is 200
	// Hash is the hex XXH64 (seed 0) of the body, for any status.
	Hash string
	// Product is the product a live product page shows; nil for other URLs.
	Product *ProductTruth
}

// ProductTruth is the data of a product page, as its HTML, OpenGraph
// tags and JSON-LD give it.
type ProductTruth struct {
	Name     string
	SKU      string
	Cents    int    // the price in cents (1299.99 is 129999)
	Currency string // USD, EUR or GBP
	InStock  bool
}

// Truth returns what every URL of the content hosts that a crawl can meet
// serves at generation g: the URLs of ExpectedAt(g) and SitemapOnly, and
// every page (with its datasheet and JSON, or its copies) removed by then.
// It renders every page, so it is meant for tests on small sites.
func (s *Site) Truth(g int) (map[string]PageTruth, error) {
	if err := checkGeneration(g); err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	s.hist.ensure(g)
	s.hist.rlock()
	defer s.hist.runlock()
	out := make(map[string]PageTruth)
	if s.fast != nil {
		s.fast.truth(g, out)
		return out, nil
	}
	v := view{s.normal, g}
	urls, _ := v.expected(false)
	for _, u := range v.sitemapOnly() {
		urls[u] = 0
	}
	for h := range v.hosts {
		for c := range 2 {
			for id := 1; id <= v.hist.count(h, c, g); id++ {
				if v.item(h, c, id).alive(g) {
					continue
				}
				for _, m := range v.family(h, c, id) {
					urls[m.url] = 0
				}
			}
		}
	}
	hostIdx := make(map[string]int, len(v.hosts))
	for h, hp := range v.hosts {
		hostIdx[hp] = h
	}
	for raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("truth: parse %q: %w", raw, err)
		}
		h, ok := hostIdx[u.Host]
		if !ok {
			return nil, fmt.Errorf("truth: %s is on no content host", raw)
		}
		rep := v.respond(h, u.Path, u.RawQuery)
		t := PageTruth{Status: rep.status, ETag: rep.etag, Hash: strconv.FormatUint(xxhash.Sum64(rep.body), 16)}
		if rep.etag != "" {
			t.LastModified = rep.modified
		}
		if rt := v.route(h, u.Path, u.RawQuery); rt.kind == kProduct && rt.gone == 0 {
			p := v.product(h, rt.id)
			t.Product = &ProductTruth{Name: p.name, SKU: p.sku, Cents: p.cents, Currency: p.currency, InStock: p.inStock}
		}
		out[raw] = t
	}
	return out, nil
}

// Duplicates returns the duplicate clusters of the content hosts at the
// current generation (see DuplicatesAt).
func (s *Site) Duplicates() []DupCluster {
	d, _ := s.DuplicatesAt(s.Generation())
	return d
}

// DuplicatesAt returns the duplicate clusters of the content hosts at
// generation g: with Options.Duplicates, every category's first listing
// page (copy: the same URL without "?page=1", DupExact) and every live
// article without a robots meta tag (copies: its print version, DupPrint;
// for ids ending in 2 the short link /a/<id>, DupExact; for ids ending in
// 5 its two editions, DupNear). Without Options.Duplicates it is empty:
// no two URLs a crawl meets serve the same text.
func (s *Site) DuplicatesAt(g int) ([]DupCluster, error) {
	if err := checkGeneration(g); err != nil {
		return nil, fmt.Errorf("duplicates: %w", err)
	}
	if s.normal == nil {
		return nil, nil
	}
	s.hist.ensure(g)
	s.hist.rlock()
	defer s.hist.runlock()
	return view{s.normal, g}.duplicates(), nil
}
