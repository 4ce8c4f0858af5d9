package testsite

import (
	"strconv"
	"strings"
	"time"
)

// This file is Options.Duplicates: URLs that serve the same or nearly the
// same text as another, and the list of them.

// DupKind is how a copy relates to the original page of its cluster.
type DupKind uint8

const (
	// DupExact: the copy's body is byte for byte the original's.
	DupExact DupKind = iota + 1
	// DupPrint: the same main text in a print layout, without the site's
	// header, navigation and footer.
	DupPrint
	// DupNear: the same page with a small edit (an edition number and a
	// date).
	DupNear
)

// String returns "exact", "print" or "near".
func (k DupKind) String() string {
	switch k {
	case DupExact:
		return "exact"
	case DupPrint:
		return "print"
	case DupNear:
		return "near"
	}
	return "DupKind(" + strconv.Itoa(int(k)) + ")"
}

// DupCopy is one URL that duplicates the original of its cluster.
type DupCopy struct {
	URL  string
	Kind DupKind
}

// DupCluster is a page and the URLs that duplicate it. Any two URLs of a
// cluster have the same or nearly the same main text; URLs of different
// clusters do not.
type DupCluster struct {
	Original string // the canonical URL
	Copies   []DupCopy
}

// hasPrint reports whether article i has copies (a print version, and an
// alias or editions for some): every article without a robots meta tag,
// so that a crawler obeying nofollow still finds them all.
func hasPrint(i int) bool {
	m := i % 30
	return m != 7 && m != 17 && m != 27
}

func hasAlias(i int) bool    { return i%10 == 2 }
func hasEditions(i int) bool { return i%10 == 5 }

// copyPaths returns the paths of article i's copies, none without
// Options.Duplicates.
func (ns *normalSite) copyPaths(i int) []string {
	if !ns.dups || !hasPrint(i) {
		return nil
	}
	a := articlePath(i)
	paths := []string{a + "/print"}
	if hasAlias(i) {
		paths = append(paths, "/a/"+strconv.Itoa(i))
	}
	if hasEditions(i) {
		paths = append(paths, a+"/edition/1", a+"/edition/2")
	}
	return paths
}

// copyLinks is the section of article i that links its copies.
func (ns *normalSite) copyLinks(h, i int) section {
	s := section{kind: secList, class: "article-tools", heading: "More ways to read"}
	for _, p := range ns.copyPaths(i) {
		text := "Printer-friendly version"
		switch {
		case strings.HasPrefix(p, "/a/"):
			text = "Short link"
		case strings.HasSuffix(p, "/edition/1"):
			text = "Morning edition"
		case strings.HasSuffix(p, "/edition/2"):
			text = "Evening edition"
		}
		s.links = append(s.links, link{to: ref{h, p}, text: text})
	}
	return s
}

// copyRoute resolves the paths of article copies. It reports false for a
// path that is not one (a plain article path included), and a route to
// "not found" for a copy path the article does not have. It does not
// check that the article exists.
func (ns *normalSite) copyRoute(path string) (route, bool) {
	if !ns.dups {
		return route{}, false
	}
	if rest, ok := strings.CutPrefix(path, "/a/"); ok {
		if i, ok := decimal(rest); ok && hasPrint(i) && hasAlias(i) {
			return route{kind: kArticle, id: i, variant: varAlias}, true
		}
		return route{}, true
	}
	rest, ok := strings.CutPrefix(path, "/article/")
	if !ok {
		return route{}, false
	}
	num, tail, ok := strings.Cut(rest, "/")
	if !ok {
		return route{}, false
	}
	i, ok := decimal(num)
	if !ok || !hasPrint(i) {
		return route{}, true
	}
	switch {
	case tail == "print":
		return route{kind: kArticle, id: i, variant: varPrint}, true
	case tail == "edition/1" && hasEditions(i):
		return route{kind: kArticle, id: i, variant: varEdition1}, true
	case tail == "edition/2" && hasEditions(i):
		return route{kind: kArticle, id: i, variant: varEdition2}, true
	}
	return route{}, true
}

// editionLine is what sets edition n of an article apart from the
// article: its number and a date n days after the article's.
func (ns *normalSite) editionLine(p *page, ar article, n int) {
	date := ar.published.AddDate(0, 0, n).Format(time.DateOnly)
	p.s(`<p class="edition">Edition `, strconv.Itoa(n), ` · <time datetime="`, date, `">`, date, "</time></p>\n")
}

// renderPrint produces the print version of an article: its text and
// links, no site header, navigation or footer.
func (v view) renderPrint(h int, rt route) []byte {
	ns := v.normalSite
	spec := v.spec(h, rt)
	ar := ns.article(h, rt.id)
	canonical := ns.url(ref{h, articlePath(rt.id)})
	var p page
	p.b = make([]byte, 0, 8<<10)
	p.s("<!DOCTYPE html>\n<html lang=\"", ar.lang, "\">\n<head>\n<meta charset=\"utf-8\">\n<title>")
	p.e(ar.title)
	p.s(" (print)</title>\n", `<link rel="canonical" href="`, canonical, "\">\n")
	if spec.base {
		p.s(`<base href="http://`, ns.hosts[h], "/article/\">\n")
	}
	p.s("</head>\n<body class=\"print\">\n")
	r := newRNG(ns.seed, uint64(h), strHash(articlePath(rt.id)), 0)
	v.articleBody(&p, r, h, rt, spec)
	p.s(`<p class="printed-from">Printed from `, canonical, "</p>\n</body>\n</html>\n")
	return p.b
}

// duplicates lists the clusters of the view's generation: every category's
// first listing page with its URL without "?page=1", and every live
// article that has copies with them.
func (v view) duplicates() []DupCluster {
	if !v.dups {
		return nil
	}
	var out []DupCluster
	for h := range v.hosts {
		for c := range v.lay.categories {
			out = append(out, DupCluster{
				Original: v.url(ref{h, v.catPath(c, 1)}),
				Copies:   []DupCopy{{v.url(ref{h, "/category/" + v.slugs[c]}), DupExact}},
			})
		}
		for i := 1; i <= v.hist.count(h, classArticle, v.g); i++ {
			paths := v.copyPaths(i)
			if len(paths) == 0 || !v.item(h, classArticle, i).alive(v.g) {
				continue
			}
			cl := DupCluster{Original: v.url(ref{h, articlePath(i)})}
			for _, p := range paths {
				k := DupNear
				switch {
				case strings.HasSuffix(p, "/print"):
					k = DupPrint
				case strings.HasPrefix(p, "/a/"):
					k = DupExact
				}
				cl.Copies = append(cl.Copies, DupCopy{v.url(ref{h, p}), k})
			}
			out = append(out, cl)
		}
	}
	return out
}
