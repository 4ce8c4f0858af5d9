package testsite

import (
	"net/url"
	"strconv"
	"strings"
)

// This file is the normal site's model: which paths exist on a content host,
// what status each answers, and which links each page carries, at each
// generation. The handler renders pages from it and Expected walks it, so
// the two cannot disagree.

// layout fixes how many pages of each kind a content host has.
type layout struct {
	products   int // /product/1 .. /product/products
	articles   int // /article/1 .. /article/articles
	categories int
	catSize    int // products per category; the last one may have fewer
	perPage    int // product cards per listing page
	olds       int // /old/1 .. /old/olds, each 301 to /article/<same id>
	hidden     int // /hidden/1 .. /hidden/hidden, listed only in the sitemap
	private    int // /private/<n> pages linked from the home page and articles
}

func newLayout(pages int) layout {
	l := layout{
		products: max(1, pages*13/20),
		articles: max(1, pages/4),
		perPage:  20,
		hidden:   max(1, pages/100),
	}
	l.catSize = min(60, l.products)
	l.categories = (l.products + l.catSize - 1) / l.catSize
	l.olds = max(1, l.articles/20)
	l.private = l.articles
	return l
}

// catProducts returns the first and last product id of category c.
func (l layout) catProducts(c int) (first, last int) {
	return c*l.catSize + 1, min(l.products, (c+1)*l.catSize)
}

// catPages returns the number of listing pages of category c.
func (l layout) catPages(c int) int {
	first, last := l.catProducts(c)
	return (last - first + l.perPage) / l.perPage
}

// productCat returns the category of product j. Products added by a
// change are spread over the categories but listed only on the home page.
func (l layout) productCat(j int) int {
	if j > l.products {
		return (j - 1) % l.categories
	}
	return (j - 1) / l.catSize
}

// kind is what a path on a content host is.
type kind uint8

const (
	kNotFound kind = iota
	kHome
	kAbout
	kContact
	kCategory
	kProduct
	kArticle
	kOld     // 301 to an article
	kPartner // 302 to another host (host 0 only)
	kMissing // 404
	kBroken  // 500
	kPrivate // disallowed by robots.txt
	kHidden  // only in the sitemap
	kPDF     // application/pdf
	kJSON    // application/json
	kRobots  // robots.txt
	kSitemap // sitemap.xml
)

// variant is which copy of an article a path shows (Options.Duplicates).
type variant uint8

const (
	varNone     variant = iota
	varPrint            // /article/<id>/print
	varEdition1         // /article/<id>/edition/1
	varEdition2         // /article/<id>/edition/2
	varAlias            // /a/<id>, the same bytes as /article/<id>
)

// route is a resolved request path on one content host.
type route struct {
	kind    kind
	id      int // product, article, old or hidden id; category index
	page    int // listing page
	variant variant
	gone    int // 404 or 410 once the page (or its product or article) was removed
}

func (r route) status() int {
	if r.gone != 0 {
		return r.gone
	}
	switch r.kind {
	case kNotFound, kMissing:
		return 404
	case kBroken:
		return 500
	case kOld:
		return 301
	case kPartner:
		return 302
	}
	return 200
}

// isHTML reports whether a 200 for r is an HTML page whose links count.
func (r route) isHTML() bool {
	if r.gone != 0 {
		return false
	}
	switch r.kind {
	case kHome, kAbout, kContact, kCategory, kProduct, kArticle, kPrivate, kHidden:
		return true
	}
	return false
}

// ref is a link target: a content host and a canonical path with query.
type ref struct {
	host int
	path string
}

type linkForm uint8

const (
	formPlain    linkForm = iota
	formUTM               // ?utm_source=x appended
	formFragment          // #frag appended
	formRelative          // written relative to the page's <base href>
)

type link struct {
	to       ref
	text     string
	form     linkForm
	frag     string
	nofollow bool
}

type secKind uint8

const (
	secNav    secKind = iota // header navigation
	secCrumbs                // breadcrumb trail
	secList                  // a titled list of links
	secCards                 // product cards
	secPager                 // pagination
	secInline                // links woven into the article text
	secFooter
)

type section struct {
	kind    secKind
	class   string
	heading string
	links   []link
}

// pageSpec is everything about a page that affects a crawler: its links
// and the robots meta tag. Text is generated separately by the renderer.
type pageSpec struct {
	robots   string // content of <meta name=robots>, if any
	base     bool   // <base href="http://host/article/">
	sections []section
}

// normalSite is the content of the normal (non-Fast) content hosts.
type normalSite struct {
	seed    uint64
	hosts   []string
	lay     layout
	slugs   []string
	slugIdx map[string]int
	names   []string // shop name per host
	dups    bool     // Options.Duplicates
	hist    *history
}

func newNormalSite(seed int64, hosts []string, pages int, rates ChangeRates, dups bool) *normalSite {
	ns := &normalSite{seed: uint64(seed), hosts: hosts, lay: newLayout(pages), slugIdx: make(map[string]int), dups: dups}
	ns.hist = newHistory(seed, rates, len(hosts), ns.lay.products, ns.lay.articles)
	for c := range ns.lay.categories {
		slug := categoryWords[c%len(categoryWords)]
		if c >= len(categoryWords) {
			slug += "-" + strconv.Itoa(c/len(categoryWords)+1)
		}
		ns.slugs = append(ns.slugs, slug)
		ns.slugIdx[slug] = c
	}
	suffixes := []string{"Market", "Supply Co.", "Outfitters", "Goods", "Emporium", "Depot"}
	for h := range hosts {
		r := newRNG(ns.seed, uint64(h), strHash("shop-name"))
		ns.names = append(ns.names, capitalize(r.pick(words))+" "+r.pick(suffixes))
	}
	return ns
}

// view is the normal site as it stands at generation g. Its methods read
// the change history: the caller has ensured generation g and holds
// hist.mu for reading.
type view struct {
	*normalSite
	g int
}

// item returns the history of page id of class c on host h, or nil when
// it does not exist (yet) at the view's generation.
func (v view) item(h, c, id int) *item { return v.hist.get(h, c, id, v.g) }

// route resolves a path and raw query on host h.
func (v view) route(h int, path, rawQuery string) route {
	rt := v.resolve(h, path, rawQuery)
	c := classProduct
	switch rt.kind {
	case kArticle:
		c = classArticle
	case kProduct, kPDF, kJSON:
	default:
		return rt
	}
	if !v.item(h, c, rt.id).alive(v.g) {
		rt.gone = goneStatus(rt.id)
	}
	return rt
}

// resolve parses a path and raw query on host h, taking every product and
// article created by the view's generation as valid, removed or not.
func (v view) resolve(h int, path, rawQuery string) route {
	l := v.lay
	ns := v.normalSite
	switch path {
	case "/":
		return route{kind: kHome}
	case "/about":
		return route{kind: kAbout}
	case "/contact":
		return route{kind: kContact}
	case "/robots.txt":
		return route{kind: kRobots}
	case "/sitemap.xml":
		return route{kind: kSitemap}
	case "/partner":
		if h == 0 {
			return route{kind: kPartner}
		}
		return route{}
	}
	if rest, ok := strings.CutPrefix(path, "/category/"); ok {
		c, ok := ns.slugIdx[rest]
		if !ok {
			return route{}
		}
		page := 1
		if q, err := url.ParseQuery(rawQuery); err == nil && q.Has("page") {
			if page, ok = decimal(q.Get("page")); !ok {
				return route{}
			}
		}
		if page < 1 || page > l.catPages(c) {
			return route{}
		}
		return route{kind: kCategory, id: c, page: page}
	}
	products, articles := v.hist.count(h, classProduct, v.g), v.hist.count(h, classArticle, v.g)
	if rt, ok := v.copyRoute(path); ok {
		if rt.kind == kArticle && rt.id > articles {
			return route{}
		}
		return rt
	}
	for _, p := range []struct {
		prefix, suffix string
		kind           kind
		max            int
	}{
		{"/product/", "", kProduct, products},
		{"/article/", "", kArticle, articles},
		{"/old/", "", kOld, l.olds},
		{"/hidden/", "", kHidden, l.hidden},
		{"/files/", ".pdf", kPDF, products},
		{"/api/item/", ".json", kJSON, products},
	} {
		rest, ok := strings.CutPrefix(path, p.prefix)
		if !ok {
			continue
		}
		rest, ok = strings.CutSuffix(rest, p.suffix)
		if !ok {
			return route{}
		}
		id, ok := decimal(rest)
		if !ok || id < 1 || id > p.max {
			return route{}
		}
		return route{kind: p.kind, id: id}
	}
	switch {
	case strings.HasPrefix(path, "/missing/"):
		return route{kind: kMissing}
	case strings.HasPrefix(path, "/broken/"):
		return route{kind: kBroken}
	case strings.HasPrefix(path, "/private/"):
		return route{kind: kPrivate}
	}
	return route{}
}

// decimal parses a canonical positive decimal (no sign, no leading zero),
// so that each page has exactly one URL.
func decimal(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// location returns the target of a redirect route.
func (ns *normalSite) location(h int, r route) ref {
	if r.kind == kPartner {
		return ref{host: ns.other(h, 0), path: "/article/1"}
	}
	return ref{host: h, path: "/article/" + strconv.Itoa(r.id)}
}

// other returns another content host (h itself when there is only one).
func (ns *normalSite) other(h, k int) int {
	n := len(ns.hosts)
	if n == 1 {
		return h
	}
	return (h + 1 + k%(n-1)) % n
}

func (ns *normalSite) catPath(c, page int) string {
	return "/category/" + ns.slugs[c] + "?page=" + strconv.Itoa(page)
}

func productPath(j int) string { return "/product/" + strconv.Itoa(j) }
func articlePath(i int) string { return "/article/" + strconv.Itoa(i) }

// pick returns a pseudo-random id in [1, n] for the given choice.
func (ns *normalSite) pick(n int, vals ...uint64) int {
	return int(mix(append([]uint64{ns.seed}, vals...)...)%uint64(n)) + 1
}

// Labels for pick, so different choices on the same page are independent.
const (
	pickFeatured = iota + 1
	pickRelated
	pickArticle
	pickHidden
)

func (ns *normalSite) nav(h int) section {
	s := section{kind: secNav, class: "main-nav"}
	s.links = append(s.links, link{to: ref{h, "/"}, text: "Home"})
	for c := range min(8, ns.lay.categories) {
		s.links = append(s.links, link{to: ref{h, ns.catPath(c, 1)}, text: capitalize(ns.slugs[c])})
	}
	s.links = append(s.links, link{to: ref{h, "/about"}, text: "About"})
	return s
}

func (ns *normalSite) footer(h int) section {
	s := section{kind: secFooter, class: "footer-links"}
	s.links = append(s.links,
		link{to: ref{h, "/about"}, text: "About us"},
		link{to: ref{h, "/contact"}, text: "Contact"},
	)
	if o := ns.other(h, h); o != h {
		s.links = append(s.links, link{to: ref{o, "/"}, text: "Our partner: " + ns.names[o]})
	}
	return s
}

// featured returns the products shown as cards on host h's home page.
func (ns *normalSite) featured(h int) [6]int {
	var ids [6]int
	for i := range ids {
		ids[i] = ns.pick(ns.lay.products, uint64(h), pickFeatured, uint64(i))
	}
	return ids
}

// spec returns the crawler-visible structure of an HTML page.
func (v view) spec(h int, r route) pageSpec {
	ns := v.normalSite
	l := ns.lay
	if r.kind == kArticle && r.variant == varPrint {
		// The print version keeps the links in the text, nothing else.
		p := v.spec(h, route{kind: kArticle, id: r.id})
		for _, s := range p.sections {
			if s.kind == secInline {
				p.sections = []section{s}
				break
			}
		}
		return p
	}
	p := pageSpec{sections: []section{ns.nav(h)}}
	add := func(s section) { p.sections = append(p.sections, s) }
	switch r.kind {
	case kHome:
		cats := section{kind: secList, class: "categories", heading: "Shop by category"}
		for c := range l.categories {
			cats.links = append(cats.links, link{to: ref{h, ns.catPath(c, 1)}, text: capitalize(ns.slugs[c])})
		}
		add(cats)
		feat := section{kind: secCards, class: "featured", heading: "Featured products"}
		for i, id := range ns.featured(h) {
			lk := link{to: ref{h, productPath(id)}}
			switch i {
			case 3:
				lk.form, lk.frag = formFragment, "specs"
			case 4:
				lk.form = formUTM
			case 5:
				lk.nofollow = true
			}
			feat.links = append(feat.links, lk)
		}
		add(feat)
		latest := section{kind: secList, class: "latest-articles", heading: "From the journal"}
		for i := 1; i <= min(10, l.articles); i++ {
			latest.links = append(latest.links, link{to: ref{h, articlePath(i)}})
		}
		latest.links = append(latest.links, link{to: ref{h, articlePath(1)}, form: formFragment, frag: "comments", text: "Join the discussion"})
		add(latest)
		more := section{kind: secList, class: "more", heading: "More"}
		more.links = append(more.links,
			link{to: ref{h, "/private/1"}, text: "Members area"},
			link{to: ref{h, "/missing/1"}, text: "Spring catalogue"},
			link{to: ref{h, "/broken/1"}, text: "Store locator"},
			link{to: ref{h, "/old/1"}, text: "From the archive"},
		)
		if h == 0 {
			more.links = append(more.links, link{to: ref{h, "/partner"}, text: "Partner offer"})
		}
		if o := ns.other(h, 0); o != h {
			more.links = append(more.links, link{to: ref{o, articlePath(min(2, l.articles))}, text: "Featured on " + ns.names[o]})
		}
		add(more)
		if s := v.newPages(h, classProduct, "new-arrivals", "New arrivals"); len(s.links) > 0 {
			add(s)
		}
		if s := v.newPages(h, classArticle, "new-articles", "New in the journal"); len(s.links) > 0 {
			add(s)
		}
		if ns.dups {
			all := section{kind: secList, class: "departments", heading: "All departments"}
			for c := range l.categories {
				all.links = append(all.links, link{to: ref{h, "/category/" + ns.slugs[c]}, text: capitalize(ns.slugs[c])})
			}
			add(all)
		}

	case kCategory:
		c, k := r.id, r.page
		add(section{kind: secCrumbs, class: "breadcrumb", links: []link{
			{to: ref{h, "/"}, text: "Home"},
			{to: ref{h, ns.catPath(c, 1)}, text: capitalize(ns.slugs[c])},
		}})
		cards := section{kind: secCards, class: "product-grid"}
		first, last := l.catProducts(c)
		for j := first + (k-1)*l.perPage; j <= min(last, first+k*l.perPage-1); j++ {
			cards.links = append(cards.links, link{to: ref{h, productPath(j)}})
		}
		add(cards)
		pager := section{kind: secPager, class: "pagination"}
		n := l.catPages(c)
		if k > 1 {
			pager.links = append(pager.links, link{to: ref{h, ns.catPath(c, k-1)}, text: "« Previous"})
		}
		for i := 1; i <= n; i++ {
			if i != k {
				pager.links = append(pager.links, link{to: ref{h, ns.catPath(c, i)}, text: strconv.Itoa(i)})
			}
		}
		if k < n {
			// The "next" link carries a tracking parameter; the plain URL
			// is in the numbered list above.
			pager.links = append(pager.links, link{to: ref{h, ns.catPath(c, k+1)}, text: "Next »", form: formUTM})
		}
		add(pager)

	case kProduct:
		j := r.id
		c := l.productCat(j)
		add(section{kind: secCrumbs, class: "breadcrumb", links: []link{
			{to: ref{h, "/"}, text: "Home"},
			{to: ref{h, ns.catPath(c, 1)}, text: capitalize(ns.slugs[c])},
			{to: ref{h, productPath(j)}, text: "Reviews", form: formFragment, frag: "reviews"},
		}})
		rel := section{kind: secList, class: "related-products", heading: "Customers also viewed"}
		for i := range 4 {
			// Every product is on a listing page, so a nofollow link here
			// never hides a page.
			rel.links = append(rel.links, link{to: ref{h, productPath(ns.pick(l.products, uint64(h), pickRelated, uint64(j), uint64(i)))}, nofollow: i == 1})
		}
		if j%10 == 0 {
			if o := ns.other(h, j/10); o != h {
				rel.links = append(rel.links, link{to: ref{o, productPath(j)}, text: "Also at " + ns.names[o]})
			}
		}
		add(rel)
		reads := section{kind: secList, class: "related-articles", heading: "Read more"}
		reads.links = append(reads.links,
			link{to: ref{h, articlePath((j-1)%l.articles + 1)}},
			link{to: ref{h, articlePath(ns.pick(l.articles, uint64(h), pickArticle, uint64(j)))}, form: formUTM},
		)
		add(reads)
		var dl section
		dl = section{kind: secList, class: "downloads", heading: "Downloads and data"}
		if j%4 == 0 {
			dl.links = append(dl.links, link{to: ref{h, "/files/" + strconv.Itoa(j) + ".pdf"}, text: "Datasheet (PDF)"})
		}
		if j%3 == 0 {
			dl.links = append(dl.links, link{to: ref{h, "/api/item/" + strconv.Itoa(j) + ".json"}, text: "Product data (JSON)"})
		}
		if j%50 == 0 {
			dl.links = append(dl.links, link{to: ref{h, "/missing/manual-" + strconv.Itoa(j)}, text: "User manual"})
		}
		if j%97 == 0 {
			dl.links = append(dl.links, link{to: ref{h, "/broken/stock-" + strconv.Itoa(j)}, text: "Check store stock"})
		}
		if len(dl.links) > 0 {
			add(dl)
		}

	case kArticle:
		i := r.id
		p.base = i%10 == 3
		form := formPlain
		if p.base {
			form = formRelative
		}
		switch i % 30 {
		case 7:
			p.robots = "noindex"
		case 17:
			p.robots = "nofollow"
		case 27:
			p.robots = "noindex, nofollow"
		}
		in := section{kind: secInline}
		in.links = append(in.links,
			link{to: ref{h, productPath((i*7)%l.products + 1)}, form: formUTM},
			link{to: ref{h, productPath((i*3)%l.products + 1)}, form: form},
			link{to: ref{h, articlePath((i+4)%l.articles + 1)}, form: formFragment, frag: "section-2"},
		)
		if i%20 == 0 {
			in.links = append(in.links, link{to: ref{h, "/old/" + strconv.Itoa(i/20)}, text: "an earlier story"})
		}
		if i%25 == 0 {
			in.links = append(in.links, link{to: ref{h, "/private/" + strconv.Itoa(i)}, text: "subscriber notes"})
		}
		if i%5 == 0 {
			if o := ns.other(h, i/5); o != h {
				in.links = append(in.links, link{to: ref{o, articlePath(i)}, text: "the same story on " + ns.names[o]})
			}
		}
		add(in)
		rel := section{kind: secList, class: "related-articles", heading: "Related reading"}
		rel.links = append(rel.links,
			link{to: ref{h, articlePath(i%l.articles + 1)}, form: form},
			link{to: ref{h, articlePath((2*i)%l.articles + 1)}, form: form},
			link{to: ref{h, articlePath(ns.pick(l.articles, uint64(h), pickArticle, uint64(i)))}, form: form},
		)
		add(rel)
		if tools := ns.copyLinks(h, i); len(tools.links) > 0 {
			add(tools)
		}

	case kHidden:
		add(section{kind: secList, class: "picks", heading: "Staff picks", links: []link{
			{to: ref{h, productPath(ns.pick(l.products, uint64(h), pickHidden, uint64(r.id)))}},
		}})
	}
	p.sections = append(p.sections, ns.footer(h))
	return p
}

// hasNofollow reports whether a robots meta value forbids following links.
func hasNofollow(robots string) bool {
	for _, v := range strings.Split(robots, ",") {
		if v = strings.TrimSpace(v); v == "nofollow" || v == "none" {
			return true
		}
	}
	return false
}

func (ns *normalSite) url(r ref) string { return "http://" + ns.hosts[r.host] + r.path }

// newPages is a list of links to the pages of class c that changes added
// to host h, newest first.
func (v view) newPages(h, c int, class, heading string) section {
	s := section{kind: secList, class: class, heading: heading}
	initial := v.hist.hosts[h].initial[c]
	for id := v.hist.count(h, c, v.g); id > initial; id-- {
		lk := link{to: ref{h, productPath(id)}, text: v.product(h, id).name}
		if c == classArticle {
			lk = link{to: ref{h, articlePath(id)}, text: v.article(h, id).title}
		}
		s.links = append(s.links, lk)
	}
	return s
}

// expected walks the link graph breadth-first from every host's home page,
// as a robots-obeying crawler would. With followAll it also follows
// rel=nofollow links and links on meta-nofollow pages. It returns the URL
// statuses and the largest depth reached.
func (v view) expected(followAll bool) (map[string]int, int) {
	ns := v.normalSite
	got := make(map[string]int)
	type item struct {
		to    ref
		depth int
	}
	var queue []item
	push := func(r ref, depth int) {
		if strings.HasPrefix(r.path, "/private/") {
			return // robots.txt: Disallow: /private/
		}
		u := ns.url(r)
		if _, ok := got[u]; ok {
			return
		}
		got[u] = 0
		queue = append(queue, item{r, depth})
	}
	for h := range ns.hosts {
		push(ref{h, "/"}, 0)
	}
	maxDepth := 0
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		maxDepth = max(maxDepth, it.depth)
		path, query, _ := strings.Cut(it.to.path, "?")
		rt := v.route(it.to.host, path, query)
		got[ns.url(it.to)] = rt.status()
		switch {
		case rt.kind == kOld || rt.kind == kPartner:
			push(ns.location(it.to.host, rt), it.depth+1)
		case rt.isHTML():
			spec := v.spec(it.to.host, rt)
			if !followAll && hasNofollow(spec.robots) {
				continue
			}
			for _, s := range spec.sections {
				for _, lk := range s.links {
					if lk.nofollow && !followAll {
						continue
					}
					push(lk.to, it.depth+1)
				}
			}
		}
	}
	return got, maxDepth
}

// sitemapOnly lists the hidden pages of every host.
func (ns *normalSite) sitemapOnly() []string {
	var out []string
	for h := range ns.hosts {
		for i := 1; i <= ns.lay.hidden; i++ {
			out = append(out, ns.url(ref{h, "/hidden/" + strconv.Itoa(i)}))
		}
	}
	return out
}
