package testsite

import (
	"strconv"
	"time"
)

// This file applies the change history to the normal site: text edits,
// modification times, and which URLs a change touches.

// edits returns the number of text edits of page id of class c on host h
// by the view's generation.
func (v view) edits(h, c, id int) int {
	it := v.item(h, c, id)
	if it == nil {
		return 0
	}
	n, _ := upTo(it.text, v.g)
	return n
}

// paragraph appends paragraph k of the n paragraphs of page id of class c
// on host h. It always draws the original text from r, so the paragraphs
// after it do not move; when one of the page's first edits text edits
// rewrote paragraph k, the last such edit's text replaces it.
func (v view) paragraph(p *page, r *rng, h, c, id, k, n, edits int) {
	start := len(p.b)
	p.b = r.paragraph(p.b)
	for e := edits; e >= 1; e-- {
		if int(mix(v.seed, uint64(h), strHash("edit"), uint64(c), uint64(id), uint64(e))%uint64(n)) == k {
			p.b = newRNG(v.seed, uint64(h), strHash("edit-text"), uint64(c), uint64(id), uint64(e)).paragraph(p.b[:start])
			return
		}
	}
}

// modified returns the generation of the last change to what rt serves on
// host h, or 0 when it is as it was at generation 0.
func (v view) modified(h int, rt route) int32 {
	var g int32
	touch := func(c, id int, text, price bool) {
		it := v.item(h, c, id)
		if it == nil {
			return
		}
		g = max(g, it.created)
		if text {
			_, last := upTo(it.text, v.g)
			g = max(g, last)
		}
		if price {
			_, last := upTo(it.price, v.g)
			g = max(g, last)
		}
	}
	// Cards show prices: a removed product's card shows its last one.
	card := func(j int) {
		if it := v.item(h, classProduct, j); it != nil {
			_, last := upTo(it.price, v.g)
			g = max(g, last)
		}
	}
	switch rt.kind {
	case kHome:
		g = v.hist.lastNew(h, v.g)
		for _, j := range v.featured(h) {
			card(j)
		}
	case kCategory:
		first, last := v.lay.catProducts(rt.id)
		for j := first + (rt.page-1)*v.lay.perPage; j <= min(last, first+rt.page*v.lay.perPage-1); j++ {
			card(j)
		}
	case kProduct:
		touch(classProduct, rt.id, true, true)
	case kJSON:
		touch(classProduct, rt.id, false, true)
	case kPDF:
		touch(classProduct, rt.id, false, false)
	case kArticle:
		touch(classArticle, rt.id, true, false)
	case kSitemap:
		g = v.hist.lastChange(h, v.g)
	}
	return g
}

// modTime is the Last-Modified time of what rt serves on host h at path:
// the day of its last change, or at generation 0 the date the sitemap
// gives it (the same function of the page's canonical path).
func (v view) modTime(h int, rt route, path string) time.Time {
	if g := v.modified(h, rt); g > 0 {
		return genTime(g)
	}
	switch rt.kind {
	case kCategory:
		path = v.catPath(rt.id, rt.page)
	case kProduct:
		path = productPath(rt.id)
	case kArticle:
		path = articlePath(rt.id)
	}
	return newRNG(v.seed, uint64(h), strHash("lastmod"), strHash(path)).day()
}

// member is a URL that changes with a product or article, and the kinds
// of its changes it shows.
type member struct {
	url  string
	mask ChangeKind
}

// family returns the URLs that change with product or article id of host
// h: the page, and the datasheet and JSON (linked ones) of a product or
// the copies of an article.
func (v view) family(h, c, id int) []member {
	const all = ^ChangeKind(0)
	if c == classArticle {
		ms := []member{{v.url(ref{h, articlePath(id)}), all}}
		for _, p := range v.copyPaths(id) {
			ms = append(ms, member{v.url(ref{h, p}), all})
		}
		return ms
	}
	ms := []member{{v.url(ref{h, productPath(id)}), all}}
	if id%4 == 0 { // the datasheet shows neither price nor text
		ms = append(ms, member{v.url(ref{h, "/files/" + strconv.Itoa(id) + ".pdf"}), ChangeNew | ChangeRemoved})
	}
	if id%3 == 0 { // the JSON shows the price, not the text
		ms = append(ms, member{v.url(ref{h, "/api/item/" + strconv.Itoa(id) + ".json"}), all &^ ChangeText})
	}
	return ms
}

// changed returns the URLs whose status or body differs between
// generations from and to (from <= to <= the view's generation), and how.
func (v view) changed(from, to int) map[string]ChangeKind {
	out := make(map[string]ChangeKind)
	for h := range v.hosts {
		added := false
		for c := range 2 {
			for id := 1; id <= v.hist.count(h, c, to); id++ {
				it := v.hist.get(h, c, id, to)
				added = added || int(it.created) > from
				k := itemChange(it, from, to)
				if k == 0 {
					continue
				}
				for _, m := range v.family(h, c, id) {
					out[m.url] |= k & m.mask
				}
			}
		}
		home := v.url(ref{h, "/"})
		if added {
			out[home] |= ChangeLinks
		}
		for _, j := range v.featured(h) {
			if priceChanged(v.hist.get(h, classProduct, j, to), from, to) {
				out[home] |= ChangePrice
			}
		}
		for c := range v.lay.categories {
			first, last := v.lay.catProducts(c)
			for j := first; j <= last; j++ {
				if !priceChanged(v.hist.get(h, classProduct, j, to), from, to) {
					continue
				}
				k := (j-first)/v.lay.perPage + 1
				out[v.url(ref{h, v.catPath(c, k)})] |= ChangePrice
				if k == 1 && v.dups {
					out[v.url(ref{h, "/category/" + v.slugs[c]})] |= ChangePrice
				}
			}
		}
	}
	for u, k := range out {
		if k == 0 {
			delete(out, u)
		}
	}
	return out
}
