package testsite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// serve answers a request to content host h in normal mode at generation g.
func (ns *normalSite) serve(w http.ResponseWriter, r *http.Request, h, g int) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ns.hist.rlock()
	rep := view{ns, g}.respond(h, r.URL.Path, r.URL.RawQuery)
	ns.hist.runlock()
	rep.write(w, r)
}

const (
	notFoundBody = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head>\n<body><h1>Page not found</h1><p>Sorry, we could not find that page.</p></body></html>\n"
	goneBody     = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Gone</title></head>\n<body><h1>Page removed</h1><p>This page is no longer available.</p></body></html>\n"
)

// respond builds the answer to a request for path and raw query on host h.
func (v view) respond(h int, path, rawQuery string) reply {
	ns := v.normalSite
	rt := v.route(h, path, rawQuery)
	rep := reply{status: rt.status(), ctype: "text/html; charset=utf-8"}
	switch {
	case rt.gone == 410:
		rep.body = []byte(goneBody)
	case rt.gone != 0:
		rep.body = []byte(notFoundBody)
	case rt.kind == kRobots:
		rep.ctype = "text/plain; charset=utf-8"
		rep.body = []byte("# robots.txt for " + ns.names[h] + "\nUser-agent: *\nDisallow: /private/\n\nSitemap: http://" + ns.hosts[h] + "/sitemap.xml\n")
	case rt.kind == kSitemap:
		rep.ctype = "application/xml"
		rep.body = v.sitemap(h)
	case rt.kind == kOld || rt.kind == kPartner:
		rep.location = ns.locationHref(h, rt)
		rep.body = []byte("<!DOCTYPE html>\n<title>Moved</title>\n<p>This page has moved.</p>\n")
	case rt.kind == kNotFound || rt.kind == kMissing:
		rep.body = []byte(notFoundBody)
	case rt.kind == kBroken:
		rep.body = []byte("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Server error</title></head>\n<body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>\n")
	case rt.kind == kPDF:
		rep.ctype = "application/pdf"
		rep.body = ns.pdf(h, rt.id)
	case rt.kind == kJSON:
		rep.ctype = "application/json"
		rep.body = v.itemJSON(h, rt.id)
	case rt.kind == kArticle && rt.variant == varPrint:
		rep.body = v.renderPrint(h, rt)
	default:
		rep.body = v.render(h, path, rt)
	}
	if rep.status == http.StatusOK {
		rep.etag = `"` + strconv.FormatUint(xxhash.Sum64(rep.body), 16) + `"`
		rep.modified = v.modTime(h, rt, path)
	}
	return rep
}

// locationHref is the Location header of a redirect: relative for the
// same host, absolute across hosts.
func (ns *normalSite) locationHref(h int, rt route) string {
	to := ns.location(h, rt)
	if to.host == h {
		return to.path
	}
	return ns.url(to)
}

// product is the data shown for one product.
type product struct {
	name     string
	cents    int
	currency string
	sku      string
	inStock  bool
	rating   int // 1..5
	reviews  int
}

// product returns product j of host h as generation 0 shows it.
func (ns *normalSite) product(h, j int) product {
	r := newRNG(ns.seed, uint64(h), strHash("product"), uint64(j))
	p := product{
		name:     r.pick(productAdjectives) + " " + r.pick(productMaterials) + " " + r.pick(productNouns),
		currency: [...]string{"USD", "EUR", "GBP"}[j%3],
	}
	switch r.intn(3) {
	case 0:
		p.cents = r.between(100, 9999)
	case 1:
		p.cents = r.between(10000, 99999)
	default:
		p.cents = r.between(100000, 999999)
	}
	p.sku = string(rune('A'+r.intn(26))) + string(rune('A'+r.intn(26))) + "-" + strconv.Itoa(r.between(100, 999))
	p.inStock = r.intn(5) != 0
	p.rating = r.between(1, 5)
	p.reviews = r.between(0, 6)
	return p
}

// product returns product j of host h as the view's generation shows it:
// with the price of its last price change.
func (v view) product(h, j int) product {
	p := v.normalSite.product(h, j)
	if it := v.item(h, classProduct, j); it != nil {
		if n, _ := upTo(it.price, v.g); n > 0 {
			p.cents = v.repriced(h, j, p.cents, n)
		}
	}
	return p
}

// repriced returns the price of product j of host h after n price
// changes from base. Each change picks a price the product never had.
func (ns *normalSite) repriced(h, j, base, n int) int {
	seen := []int{base}
	for e := 1; e <= n; e++ {
		r := newRNG(ns.seed, uint64(h), strHash("price"), uint64(j), uint64(e))
		c := 0
		for range 64 {
			c = max(1, base*r.between(50, 150)/100)
			if !slices.Contains(seen, c) {
				break
			}
		}
		if slices.Contains(seen, c) {
			c = slices.Max(seen) + 1
		}
		seen = append(seen, c)
	}
	return seen[n]
}

// formatPrice writes cents in the local style of the currency:
// "$1,299.99", "1.299,99 €" or "£12.50".
func formatPrice(cents int, currency string) string {
	whole, frac := cents/100, cents%100
	group := func(sep byte) string {
		s := strconv.Itoa(whole)
		var b []byte
		for i := range len(s) {
			if i > 0 && (len(s)-i)%3 == 0 {
				b = append(b, sep)
			}
			b = append(b, s[i])
		}
		return string(b)
	}
	switch currency {
	case "EUR":
		return group('.') + "," + string(appendPad2(nil, frac)) + " €"
	case "GBP":
		return "£" + group(',') + "." + string(appendPad2(nil, frac))
	}
	return "$" + group(',') + "." + string(appendPad2(nil, frac))
}

func plainPrice(cents int) string {
	return strconv.Itoa(cents/100) + "." + string(appendPad2(nil, cents%100))
}

// article is the data shown for one article.
type article struct {
	title     string
	author    string
	published time.Time
	date      string // published, as YYYY-MM-DD
	lang      string
	paras     int
}

func (ns *normalSite) article(h, i int) article {
	r := newRNG(ns.seed, uint64(h), strHash("article"), uint64(i))
	a := article{
		title:     r.title(r.between(3, 7)),
		author:    r.pick(authors),
		published: r.day(),
		lang:      articleLangs[i%len(articleLangs)],
		paras:     r.between(3, 55),
	}
	a.date = a.published.Format(time.DateOnly)
	return a
}

// href writes a link's target the way the page shows it.
func (ns *normalSite) href(from int, lk link) string {
	u := lk.to.path
	if lk.form == formRelative {
		// Relative to <base href="http://host/article/">.
		if rest, ok := strings.CutPrefix(u, "/article/"); ok {
			u = rest
		} else {
			u = ".." + u
		}
	} else if lk.to.host != from {
		u = ns.url(lk.to)
	}
	switch lk.form {
	case formUTM:
		if strings.Contains(u, "?") {
			u += "&utm_source=x"
		} else {
			u += "?utm_source=x"
		}
	case formFragment:
		u += "#" + lk.frag
	}
	return u
}

// linkText is the anchor text of a link, derived from its target when the
// model leaves it empty. Names and titles never change, so neither does
// the text of a link when its target changes or goes.
func (ns *normalSite) linkText(lk link) string {
	if lk.text != "" {
		return lk.text
	}
	path, _, _ := strings.Cut(lk.to.path, "?")
	if id, ok := idAfter(path, "/product/"); ok {
		return ns.product(lk.to.host, id).name
	}
	if id, ok := idAfter(path, "/article/"); ok {
		return ns.article(lk.to.host, id).title
	}
	return path
}

// idAfter returns the id of a path prefix+"<id>".
func idAfter(path, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return 0, false
	}
	return decimal(rest)
}

// page accumulates HTML.
type page struct{ b []byte }

func (p *page) s(parts ...string) {
	for _, s := range parts {
		p.b = append(p.b, s...)
	}
}

// e writes s HTML-escaped.
func (p *page) e(s string) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			p.b = append(p.b, "&amp;"...)
		case '<':
			p.b = append(p.b, "&lt;"...)
		case '>':
			p.b = append(p.b, "&gt;"...)
		case '"':
			p.b = append(p.b, "&#34;"...)
		case '\'':
			p.b = append(p.b, "&#39;"...)
		default:
			p.b = append(p.b, c)
		}
	}
}

func (p *page) a(ns *normalSite, from int, lk link, class string) {
	p.s(`<a href="`)
	p.e(ns.href(from, lk))
	p.s(`"`)
	if lk.nofollow {
		p.s(` rel="nofollow"`)
	}
	if class != "" {
		p.s(` class="`, class, `"`)
	}
	p.s(">")
	p.e(ns.linkText(lk))
	p.s("</a>")
}

func (p *page) paragraphs(r *rng, n int) {
	for range n {
		p.s("<p>")
		p.b = r.paragraph(p.b)
		p.s("</p>\n")
	}
}

const styleSheet = `<style>
body{font-family:system-ui,sans-serif;margin:0;color:#222}
header,footer{background:#f4f4f4;padding:1em}
main{max-width:60em;margin:auto;padding:1em}
.product-card{display:inline-block;width:14em;margin:.5em;vertical-align:top}
.price{font-weight:bold}
</style>
`

// render produces an HTML page of a content host.
func (v view) render(h int, path string, rt route) []byte {
	ns := v.normalSite
	spec := v.spec(h, rt)
	seedPath := path
	if rt.kind == kArticle {
		seedPath = articlePath(rt.id) // copies show the article's text
	}
	r := newRNG(ns.seed, uint64(h), strHash(seedPath), uint64(rt.page))
	self := ns.url(ref{h, path})
	lang := "en"
	var title, desc, canonical string
	var head page
	switch rt.kind {
	case kHome:
		title = ns.names[h] + " — Home"
		desc = "Welcome to " + ns.names[h] + ": " + r.title(4) + "."
		canonical = self
	case kAbout:
		title, desc = "About "+ns.names[h], "Who we are and how we work."
	case kContact:
		title, desc = "Contact "+ns.names[h], "How to reach us."
	case kCategory:
		title = capitalize(ns.slugs[rt.id]) + " — page " + strconv.Itoa(rt.page) + " | " + ns.names[h]
		desc = "Browse " + ns.slugs[rt.id] + " at " + ns.names[h] + "."
		if rt.page == 1 {
			canonical = ns.url(ref{h, ns.catPath(rt.id, 1)})
		}
	case kProduct:
		pr := v.product(h, rt.id)
		self = ns.url(ref{h, productPath(rt.id)})
		title = pr.name + " | " + ns.names[h]
		desc = "Buy the " + pr.name + " (" + formatPrice(pr.cents, pr.currency) + ") at " + ns.names[h] + "."
		canonical = self
		ns.productHead(&head, h, rt.id, pr, desc, self)
	case kArticle:
		ar := ns.article(h, rt.id)
		lang = ar.lang
		title = ar.title + " | " + ns.names[h] + " Journal"
		desc = "An article by " + ar.author + "."
		if rt.variant != varEdition1 && rt.variant != varEdition2 {
			canonical = ns.url(ref{h, articlePath(rt.id)})
		}
		head.s(`<meta property="og:type" content="article">`, "\n", `<meta property="og:title" content="`)
		head.e(ar.title)
		head.s(`">`, "\n", `<meta property="article:published_time" content="`, ar.date, `">`, "\n")
	case kPrivate:
		title, desc = "Members area | "+ns.names[h], "For members only."
	case kHidden:
		title, desc = "Staff picks #"+strconv.Itoa(rt.id)+" | "+ns.names[h], "A page listed only in the sitemap."
	}

	var p page
	p.b = make([]byte, 0, 16<<10)
	p.s("<!DOCTYPE html>\n<html lang=\"", lang, "\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.s(`<meta name="viewport" content="width=device-width, initial-scale=1">`, "\n<title>")
	p.e(title)
	p.s("</title>\n", `<meta name="description" content="`)
	p.e(desc)
	p.s("\">\n")
	if spec.robots != "" {
		p.s(`<meta name="robots" content="`, spec.robots, "\">\n")
	}
	if canonical != "" {
		p.s(`<link rel="canonical" href="`, canonical, "\">\n")
	}
	if spec.base {
		p.s(`<base href="http://`, ns.hosts[h], "/article/\">\n")
	}
	p.b = append(p.b, head.b...)
	p.s(styleSheet, "</head>\n<body>\n<header class=\"site-header\">\n<div class=\"logo\">")
	p.e(ns.names[h])
	p.s("</div>\n")
	v.sections(&p, h, spec, secNav)
	p.s("</header>\n<main id=\"main\">\n")

	switch rt.kind {
	case kHome:
		p.s("<h1>")
		p.e(ns.names[h])
		p.s("</h1>\n")
		p.paragraphs(r, 2)
		v.sections(&p, h, spec, secList, secCards)
	case kCategory:
		v.sections(&p, h, spec, secCrumbs)
		p.s("<h1>")
		p.e(capitalize(ns.slugs[rt.id]))
		p.s("</h1>\n<p class=\"page-info\">Page ", strconv.Itoa(rt.page), " of ", strconv.Itoa(ns.lay.catPages(rt.id)), "</p>\n")
		if rt.page == 1 {
			p.paragraphs(r, 1)
		}
		v.sections(&p, h, spec, secCards, secPager)
	case kProduct:
		v.sections(&p, h, spec, secCrumbs)
		v.productBody(&p, r, h, rt.id)
		v.sections(&p, h, spec, secList)
	case kArticle:
		v.articleBody(&p, r, h, rt, spec)
		v.sections(&p, h, spec, secList)
	default:
		p.s("<h1>")
		p.e(title)
		p.s("</h1>\n")
		p.paragraphs(r, r.between(2, 5))
		v.sections(&p, h, spec, secList)
	}
	p.s("</main>\n<footer class=\"site-footer\">\n")
	v.sections(&p, h, spec, secFooter)
	p.s("<p>&copy; 2025 ")
	p.e(ns.names[h])
	p.s("</p>\n</footer>\n</body>\n</html>\n")
	return p.b
}

// sections renders the page's sections of the given kinds, in order.
func (v view) sections(p *page, h int, spec pageSpec, kinds ...secKind) {
	ns := v.normalSite
	for _, s := range spec.sections {
		want := false
		for _, k := range kinds {
			want = want || s.kind == k
		}
		if !want {
			continue
		}
		switch s.kind {
		case secNav, secFooter, secCrumbs, secPager:
			tag := "nav"
			if s.kind == secFooter {
				tag = "div"
			}
			p.s("<", tag, ` class="`, s.class, "\"><ul>\n")
			for _, lk := range s.links {
				p.s("<li>")
				p.a(ns, h, lk, "")
				p.s("</li>\n")
			}
			p.s("</ul></", tag, ">\n")
		case secCards:
			p.s(`<section class="`, s.class, "\">\n")
			if s.heading != "" {
				p.s("<h2>", s.heading, "</h2>\n")
			}
			for _, lk := range s.links {
				path, _, _ := strings.Cut(lk.to.path, "?")
				j, _ := idAfter(path, "/product/")
				pr := v.product(lk.to.host, j)
				p.s(`<div class="product-card">`, "\n", `<h3 class="name">`)
				p.a(ns, h, lk, "")
				p.s("</h3>\n", `<span class="price">`, formatPrice(pr.cents, pr.currency), "</span>\n")
				if !pr.inStock {
					p.s(`<span class="badge">Out of stock</span>`, "\n")
				}
				p.s("</div>\n")
			}
			p.s("</section>\n")
		case secList:
			p.s(`<section class="`, s.class, "\">\n<h2>", s.heading, "</h2>\n<ul>\n")
			for _, lk := range s.links {
				p.s("<li>")
				p.a(ns, h, lk, "")
				p.s("</li>\n")
			}
			p.s("</ul>\n</section>\n")
		}
	}
}

func (ns *normalSite) productHead(p *page, h, j int, pr product, desc, self string) {
	p.s(`<meta property="og:type" content="product">`, "\n", `<meta property="og:title" content="`)
	p.e(pr.name)
	p.s("\">\n", `<meta property="og:url" content="`, self, "\">\n", `<meta property="og:description" content="`)
	p.e(desc)
	p.s("\">\n", `<meta property="product:price:amount" content="`, plainPrice(pr.cents), "\">\n")
	p.s(`<meta property="product:price:currency" content="`, pr.currency, "\">\n")
	avail := "https://schema.org/InStock"
	if !pr.inStock {
		avail = "https://schema.org/OutOfStock"
	}
	ld, _ := json.Marshal(map[string]any{
		"@context":    "https://schema.org",
		"@type":       "Product",
		"name":        pr.name,
		"sku":         pr.sku,
		"description": desc,
		"aggregateRating": map[string]any{
			"@type":       "AggregateRating",
			"ratingValue": pr.rating,
			"reviewCount": pr.reviews,
		},
		"offers": map[string]any{
			"@type":         "Offer",
			"price":         plainPrice(pr.cents),
			"priceCurrency": pr.currency,
			"availability":  avail,
			"url":           self,
		},
	})
	p.s(`<script type="application/ld+json">`)
	p.b = append(p.b, ld...)
	p.s("</script>\n")
}

func (v view) productBody(p *page, r *rng, h, j int) {
	pr := v.product(h, j)
	p.s(`<article class="product">`, "\n", `<h1 class="product-name">`)
	p.e(pr.name)
	p.s("</h1>\n", `<p class="price" data-currency="`, pr.currency, `">`, formatPrice(pr.cents, pr.currency), "</p>\n")
	p.s(`<span class="sku">SKU: `, pr.sku, "</span>\n")
	if pr.inStock {
		p.s(`<p class="availability in-stock">In stock</p>`, "\n")
	} else {
		p.s(`<p class="availability out-of-stock">Out of stock</p>`, "\n")
	}
	p.s(`<div class="description">`, "\n")
	n, edits := r.between(1, 4), v.edits(h, classProduct, j)
	for k := range n {
		p.s("<p>")
		v.paragraph(p, r, h, classProduct, j, k, n, edits)
		p.s("</p>\n")
	}
	p.s("</div>\n<table class=\"specs\" id=\"specs\">\n")
	for range r.between(3, 8) {
		p.s("<tr><th>", capitalize(r.pick(words)), "</th><td>", strconv.Itoa(r.between(1, 500)), " ", r.pick(words), "</td></tr>\n")
	}
	p.s("</table>\n<section id=\"reviews\">\n<h2>Reviews</h2>\n")
	for range pr.reviews {
		p.s(`<div class="review"><p class="stars">`, strings.Repeat("★", r.between(1, 5)), "</p><p>")
		p.b = r.sentence(p.b, r.between(6, 25))
		p.s("</p><p class=\"reviewer\">", r.pick(authors), "</p></div>\n")
	}
	p.s("</section>\n</article>\n")
}

func (v view) articleBody(p *page, r *rng, h int, rt route, spec pageSpec) {
	ns := v.normalSite
	i := rt.id
	ar := ns.article(h, i)
	p.s("<article>\n<h1>")
	p.e(ar.title)
	p.s("</h1>\n", `<p class="byline">By `)
	p.e(ar.author)
	p.s(` · <time datetime="`, ar.date, `">`, ar.date, "</time></p>\n")
	if rt.variant == varEdition1 || rt.variant == varEdition2 {
		ns.editionLine(p, ar, int(rt.variant-varEdition1)+1)
	}
	edits := v.edits(h, classArticle, i)
	var inline []link
	for _, s := range spec.sections {
		if s.kind == secInline {
			inline = append(inline, s.links...)
		}
	}
	for k := range ar.paras {
		if k == ar.paras/2 {
			p.s(`<h2 id="section-2">`, r.title(3), "</h2>\n")
		}
		p.s("<p>")
		v.paragraph(p, r, h, classArticle, i, k, ar.paras, edits)
		if k < len(inline) {
			p.s(" See ")
			p.a(ns, h, inline[k], "")
			p.s(".")
		}
		p.s("</p>\n")
	}
	// Articles shorter than their link list put the rest at the end.
	if len(inline) > ar.paras {
		p.s("<p>Also: ")
		for k, lk := range inline[ar.paras:] {
			if k > 0 {
				p.s(", ")
			}
			p.a(ns, h, lk, "")
		}
		p.s(".</p>\n")
	}
	p.s(`<section id="comments"><h2>Comments</h2><p>No comments yet.</p></section>`, "\n</article>\n")
}

// sitemap lists the host's home, about, contact, category, product,
// article and hidden pages (at most 50,000 URLs, hidden pages always),
// without the removed ones. A page changed since generation 0 carries the
// date of its last change.
func (v view) sitemap(h int) []byte {
	ns := v.normalSite
	var p page
	p.s(`<?xml version="1.0" encoding="UTF-8"?>`, "\n", `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`, "\n")
	budget := 50000 - ns.lay.hidden
	entry := func(path string, rt route) {
		if budget == 0 || rt.gone != 0 {
			return
		}
		budget--
		p.s("<url><loc>")
		p.e(ns.url(ref{h, path}))
		p.s("</loc><lastmod>")
		if g := v.modified(h, rt); g > 0 {
			p.s(genTime(g).Format(time.DateOnly))
		} else {
			p.s(newRNG(ns.seed, uint64(h), strHash("lastmod"), strHash(path)).date())
		}
		p.s("</lastmod></url>\n")
	}
	entry("/", route{kind: kHome})
	entry("/about", route{kind: kAbout})
	entry("/contact", route{kind: kContact})
	for c := range ns.lay.categories {
		entry(ns.catPath(c, 1), route{kind: kCategory, id: c, page: 1})
	}
	for j := 1; j <= v.hist.count(h, classProduct, v.g); j++ {
		entry(productPath(j), v.route(h, productPath(j), ""))
	}
	for i := 1; i <= v.hist.count(h, classArticle, v.g); i++ {
		entry(articlePath(i), v.route(h, articlePath(i), ""))
	}
	budget += ns.lay.hidden
	for i := 1; i <= ns.lay.hidden; i++ {
		entry("/hidden/"+strconv.Itoa(i), route{kind: kHidden, id: i})
	}
	p.s("</urlset>\n")
	return p.b
}

// itemJSON is the /api/item/<id>.json document.
func (v view) itemJSON(h, j int) []byte {
	ns := v.normalSite
	pr := v.product(h, j)
	b, _ := json.MarshalIndent(struct {
		ID       int    `json:"id"`
		Name     string `json:"name"`
		SKU      string `json:"sku"`
		Price    string `json:"price"`
		Currency string `json:"currency"`
		InStock  bool   `json:"in_stock"`
		URL      string `json:"url"`
	}{j, pr.name, pr.sku, plainPrice(pr.cents), pr.currency, pr.inStock, ns.url(ref{h, productPath(j)})}, "", "  ")
	return append(b, '\n')
}

// pdf is a small, valid one-page PDF datasheet for product j.
func (ns *normalSite) pdf(h, j int) []byte {
	pr := ns.product(h, j)
	text := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace("Datasheet: " + pr.name + " (SKU " + pr.sku + ")")
	content := "BT /F1 14 Tf 72 720 Td (" + text + ") Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Length " + strconv.Itoa(len(content)) + " >>\nstream\n" + content + "\nendstream",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	b := []byte("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = len(b)
		b = fmt.Appendf(b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := len(b)
	b = fmt.Appendf(b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		b = fmt.Appendf(b, "%010d 00000 n \n", off)
	}
	b = fmt.Appendf(b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b
}
