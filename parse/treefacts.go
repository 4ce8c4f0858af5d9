package parse

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// This file reads a page's facts from the tree html.Parse builds. HTML
// does so only for the documents the stream reader gives up on (see
// streamReader.moved): those where the tree builder moves content it
// already inserted. The tests (FuzzHTMLFacts, TestHTMLFactsDifferential)
// check that both readers agree on every other document. The two share
// everything but the knowledge of where an element stands: the element
// fact handlers, link text collection and finish.

// readTree reads the facts of the document tree root into p, whose URL
// and Base must be set.
func readTree(p *Page, root *html.Node, o Options) {
	s := &streamReader{page: p, opts: o}
	s.treeFacts(root, 0, true)
	s.main.text.reset(maxMainTextBytes, 0, 0)
	if o.MainText {
		s.treeMainText(root)
	}
	s.finish()
}

// attr returns the value of n's attribute key.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// attrsOf returns the attributes of element n that facts are made of.
func attrsOf(n *html.Node) *tagAttrs {
	a := new(tagAttrs)
	for _, at := range n.Attr {
		if at.Namespace == "" {
			a.add([]byte(at.Key), []byte(at.Val))
		}
	}
	return a
}

// treeFacts reads the facts of the elements under n, at depth in the
// tree, in tree order. Elements make facts (facts set) when they are HTML
// elements outside templates and SVG or MathML content; text counts for
// the links it is in wherever it is visible.
func (s *streamReader) treeFacts(n *html.Node, depth int, facts bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			s.writeLinkText([]byte(c.Data))
		case html.ElementNode:
			s.treeElement(c, depth+1, facts && c.Namespace == "")
		}
	}
}

// treeElement reads element n and what it holds.
func (s *streamReader) treeElement(n *html.Node, depth int, facts bool) {
	invisible := invisibleNode(n)
	brk := !invisible && !inline(n.DataAtom)
	if brk {
		s.linkBreak()
	}
	if invisible {
		s.invis++
	}
	if facts {
		switch n.DataAtom {
		case atom.Html:
			s.htmlLang(attrsOf(n))
		case atom.Title:
			if !s.titleSet {
				s.titleSet = true
				s.page.Title = collapseSpace(childText(n))
			}
		case atom.Base:
			s.baseElement(attrsOf(n))
		case atom.Meta:
			s.meta(attrsOf(n))
		case atom.Link:
			s.linkElement(attrsOf(n))
		case atom.A:
			if a := attrsOf(n); a.hasHref {
				if hasTarget(a.href) {
					s.startLink(depth, a.href, relValue(a.rel))
				}
			}
		case atom.Img:
			if !invisible {
				s.imageAlt(attrsOf(n).alt)
			}
		case atom.Area:
			s.areaElement(attrsOf(n))
		case atom.Iframe, atom.Frame:
			s.frameElement(attrsOf(n), n.Data)
		case atom.Script:
			if s.opts.StructuredData && attrsOf(n).jsonLD() {
				if n.FirstChild == nil {
					s.jsonLD(nil)
				} else {
					s.jsonLD([]byte(childText(n)))
				}
			}
		}
	}
	s.treeFacts(n, depth, facts && n.DataAtom != atom.Template)
	s.endLink(depth)
	if invisible {
		s.invis--
	}
	if brk {
		s.linkBreak()
	}
}

// childText returns the text of n's text children.
func childText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// invisibleNode reports whether element n and its content are never
// rendered as text.
func invisibleNode(n *html.Node) bool {
	switch n.Namespace {
	case "svg":
		return true
	case "":
		_, hidden := attr(n, "hidden")
		return hidden || invisibleElement(n.DataAtom)
	}
	return false
}

// treeMainText reads the main text: that of the first visible <main>,
// else of the outermost visible <article> elements, else of <body>
// without header, footer, nav and aside.
func (s *streamReader) treeMainText(root *html.Node) {
	var mainEl, body *html.Node
	var articles []*html.Node
	// inArticle: inside an HTML article; foreign: inside SVG or MathML,
	// where nothing is a candidate.
	var find func(n *html.Node, inArticle, foreign bool)
	find = func(n *html.Node, inArticle, foreign bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if invisibleNode(c) {
				continue
			}
			isHTML := c.Namespace == ""
			switch {
			case isHTML && c.DataAtom == atom.Body && body == nil:
				body = c
			case !isHTML || foreign:
			case c.DataAtom == atom.Main && mainEl == nil:
				mainEl = c
			case c.DataAtom == atom.Article && !inArticle:
				articles = append(articles, c)
			}
			find(c, inArticle || isHTML && c.DataAtom == atom.Article, foreign || !isHTML)
		}
	}
	find(root, false, false)
	t := &s.main.text
	switch {
	case mainEl != nil:
		treeText(t, mainEl, false)
	case len(articles) > 0:
		for _, a := range articles {
			treeText(t, a, false)
			t.brk()
		}
	case body != nil:
		treeText(t, body, true)
	}
}

// treeText writes the visible text under n, leaving out nav and aside
// and, for the body, header and footer.
func treeText(t *textBuf, n *html.Node, body bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			t.writeString(c.Data)
		case html.ElementNode:
			if invisibleNode(c) || c.Namespace == "" && (c.DataAtom == atom.Nav || c.DataAtom == atom.Aside ||
				body && (c.DataAtom == atom.Header || c.DataAtom == atom.Footer)) {
				continue
			}
			brk := !inline(c.DataAtom)
			if brk {
				t.brk()
			}
			treeText(t, c, body)
			if brk {
				t.brk()
			}
		}
	}
}
