package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Link is a hyperlink or frame found in a document.
type Link struct {
	// URL is absolute: resolved against the document's <base href> when that
	// is valid, else against the page URL. A fragment is kept as written.
	URL *url.URL
	// Text is the anchor text (for <a>), whitespace collapsed, trimmed and
	// cut to at most 256 runes. An <a> with no text takes the alt text of
	// its first image; an <area> takes its alt text.
	Text string
	// Rel is the rel attribute, lowercased.
	Rel string
	// Tag is the element the link came from: "a", "area", "link" (only
	// rel=alternate, next or prev), "iframe" or "frame".
	Tag string
	// TextCut says Text was cut at 256 runes.
	TextCut bool
	// Nofollow is set when rel holds "nofollow", "ugc" or "sponsored".
	// (The two flags come last, together: a Link is 64 bytes.)
	Nofollow bool
}

// Options selects the optional, costlier parts of [HTML]'s work.
type Options struct {
	StructuredData bool // JSON-LD, OpenGraph and Twitter card metadata
	MainText       bool // the visible text of the main content
	// Tree builds Page.Doc, the document tree, for extraction rules.
	// It about doubles the cost of HTML; the facts do not depend on it.
	Tree bool
}

// Page holds the facts read from one HTML document. Each is defined on the
// document's tree as golang.org/x/net/html builds it (with scripting
// disabled): "first" means first in tree order, and an element is
// "inside" another when it is a descendant in that tree.
type Page struct {
	// URL is the page URL the document was fetched from.
	URL *url.URL
	// Title is the first <title>; Description the first
	// <meta name=description>. Both have whitespace collapsed.
	Title, Description string
	// Canonical is <link rel=canonical href> resolved to an absolute URL, or
	// "" when there is none or it is not a usable URL.
	Canonical string
	// MetaRobots is the content of <meta name=robots>, lowercased and with
	// whitespace collapsed; several such elements are joined with ", ".
	MetaRobots string
	// Lang is the lang attribute of <html>, trimmed.
	Lang string
	// Base is the URL that relative links were resolved against: the
	// first <base href> resolved against URL, unless that is not a usable
	// URL or is a data: or javascript: URL; otherwise URL.
	Base *url.URL
	// Links are the document's links in tree order.
	// Hrefs that are empty, unparsable, or javascript:, mailto:, tel: or
	// data: URLs are dropped; duplicates are kept (the caller
	// deduplicates). Links inside <template>, SVG and MathML are ignored;
	// those inside <noscript> are kept, as the document is read the way a
	// browser without JavaScript sees it. An <a> left open across the end
	// of a block goes on after it, as browsers show it: as another link to
	// the same URL.
	Links []Link
	// JSONLD holds each <script type=application/ld+json> whose content is
	// valid JSON (an array stays one value); InvalidJSONLD counts the others.
	// Set only with Options.StructuredData.
	JSONLD        []json.RawMessage
	InvalidJSONLD int
	// OpenGraph maps og:* properties to their content, keyed without the
	// "og:" prefix and lowercased ("title", "image", "image:width"); the
	// first value of a property wins. Twitter does the same for twitter:*
	// names ("card", "site"). Both are nil when the document has none, and
	// are set only with Options.StructuredData.
	OpenGraph map[string]string
	Twitter   map[string]string
	// MainText is the visible text of the main content: the first <main>,
	// else the outermost <article> elements, else <body> without header,
	// footer, nav and aside; a <main> or <article> that is not visible
	// does not count. Script, style, noscript, template, svg, elements with
	// the hidden attribute and other unrendered elements are always left
	// out. Whitespace is collapsed and the text is cut to at most 1 MiB.
	// Set only with Options.MainText.
	MainText string
	// Doc is the root of the parsed document tree, for extraction rules
	// ([Rules.Extract]). It is set only with Options.Tree; the facts above
	// do not depend on it.
	Doc *html.Node
}

// NoIndex reports whether the meta robots directives forbid indexing the page
// ("noindex" or "none").
func (p *Page) NoIndex() bool {
	return hasDirective(p.MetaRobots, "noindex") || hasDirective(p.MetaRobots, "none")
}

// NoFollow reports whether the meta robots directives forbid following the
// page's links ("nofollow" or "none").
func (p *Page) NoFollow() bool {
	return hasDirective(p.MetaRobots, "nofollow") || hasDirective(p.MetaRobots, "none")
}

// hasDirective reports whether the lowercased robots directive list s, whose
// items are separated by commas or white space, holds d.
func hasDirective(s, d string) bool {
	for s != "" {
		i := strings.IndexAny(s, ", \t\n\f\r")
		item := s
		if i >= 0 {
			item, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if item == d {
			return true
		}
	}
	return false
}

// RobotsDirectives reports whether X-Robots-Tag header values forbid
// indexing and following for the crawler whose product token is agent.
//
// Each value is a comma-separated list of directives. A directive may be
// prefixed by a user agent ("googlebot: noindex"), which then applies to it
// and to the directives after it in the same value until another prefix; the
// directives before any prefix apply to every crawler. User agents are matched
// case-insensitively. "none" means both noindex and nofollow. Directives with
// values of their own (unavailable_after: date, max-snippet: n) are
// recognised so that their values are not taken for user agents.
func RobotsDirectives(headerValues []string, agent string) (noindex, nofollow bool) {
	for _, v := range headerValues {
		applies := true
		for v != "" {
			item, rest, _ := strings.Cut(v, ",")
			v = rest
			item = strings.TrimSpace(item)
			if name, directive, ok := strings.Cut(item, ":"); ok {
				name = strings.TrimSpace(name)
				if productToken(name) && !valuedRobotsDirective(name) {
					applies = strings.EqualFold(name, agent)
					item = strings.TrimSpace(directive)
				}
			}
			if !applies {
				continue
			}
			switch strings.ToLower(item) {
			case "noindex":
				noindex = true
			case "nofollow":
				nofollow = true
			case "none":
				noindex, nofollow = true, true
			}
		}
	}
	return noindex, nofollow
}

// valuedRobotsDirective reports whether name is a robots directive that takes
// a value after a colon.
func valuedRobotsDirective(name string) bool {
	switch strings.ToLower(name) {
	case "unavailable_after", "max-snippet", "max-image-preview", "max-video-preview":
		return true
	}
	return false
}

// productToken reports whether s is a user-agent product token as RFC 9309
// defines it (letters, '_' and '-'), also allowing digits and '.'.
func productToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && !('0' <= c && c <= '9') && c != '_' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// HTML reads the facts of a UTF-8 HTML document fetched from pageURL (which
// must be absolute), as a browser with scripting disabled would see the
// document: they are the facts of the tree html.Parse builds. They are read
// in one pass over the token stream, without building the tree, except
// from the few documents in which the tree builder moves content it has
// read (foster parenting, a block in a misnested formatting element): those
// are parsed into a tree and read from it. With o.Tree the document is
// parsed into a tree in any case, kept in Page.Doc. A document nested
// deeper than the parser's limit of 512 open elements is flattened and
// parsed again. Malformed HTML never fails. HTML is safe for concurrent
// use.
func HTML(pageURL *url.URL, body []byte, o Options) (*Page, error) {
	return (*Parser)(nil).HTML(pageURL, body, o)
}

// A Parser reads HTML documents as HTML does, one after the other, and
// keeps the buffers it needs from one to the next: a crawler's worker
// keeps one. The nil *Parser keeps nothing. A Parser is not safe for
// concurrent use.
type Parser struct {
	mainText []byte   // where the main text is built
	hrefs    [][]byte // the links' hrefs as written
}

// maxKeptText bounds the main text buffer a Parser keeps for the next
// document.
const maxKeptText = 256 << 10

// HTML is the package's HTML, with the Parser's buffers.
func (ps *Parser) HTML(pageURL *url.URL, body []byte, o Options) (*Page, error) {
	if pageURL == nil || !pageURL.IsAbs() {
		return nil, fmt.Errorf("parse html: page URL %q is not absolute", fmt.Sprint(pageURL))
	}
	p := &Page{URL: pageURL, Base: pageURL}
	stream := readFacts(p, body, o, ps)
	if stream && !o.Tree {
		return p, nil
	}
	root, err := parseDocument(body)
	if err != nil {
		return nil, fmt.Errorf("parse html %s: %w", pageURL.Redacted(), err)
	}
	if !stream {
		p = &Page{URL: pageURL, Base: pageURL}
		readTree(p, root, o)
	}
	if o.Tree {
		p.Doc = root
	}
	return p, nil
}

// maxFlatDepth is how deeply nested a document that the parser rejected is
// allowed to stay when it is flattened.
const maxFlatDepth = 32

// parseDocument parses body into a tree. x/net/html refuses documents with
// more than 512 open elements (where browsers carry on); such a document is
// flattened, keeping its text and links, and parsed again.
func parseDocument(body []byte) (*html.Node, error) {
	root, err := html.ParseWithOptions(bytes.NewReader(body), html.ParseOptionEnableScripting(false))
	if err == nil {
		return root, nil
	}
	for _, keepStructure := range []bool{true, false} {
		r, err2 := html.ParseWithOptions(bytes.NewReader(flatten(body, keepStructure)), html.ParseOptionEnableScripting(false))
		if err2 == nil {
			return r, nil
		}
	}
	return nil, err
}

// flatten rewrites an HTML document so that the parser's stack of open
// elements stays shallow. With keepStructure, an element opened while
// maxFlatDepth elements are open first closes the innermost one, so deep
// nesting becomes a run of siblings. Without it (the last resort, when the
// tree builder's own implied elements still nest too deep) only text, void
// elements, raw-text elements such as <script> and <title>, and unnested <a>
// elements are kept.
func flatten(body []byte, keepStructure bool) []byte {
	z := newTokenizer(body)
	out := make([]byte, 0, len(body)+len(body)/16)
	var open []string // element names, innermost last
	openA := false
	for {
		tt := z.next()
		switch tt {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			name := z.tagName()
			a := atom.Lookup(name)
			if a == atom.Noscript {
				// As the parser does with scripting disabled.
				z.nextIsNotRawText()
			}
			switch {
			case voidElement(a):
			case !keepStructure && a == atom.A:
				if openA {
					out = append(out, "</a>"...)
				}
				openA = true
			case !keepStructure && (rawTextElement(a) || a == atom.Html):
			case !keepStructure:
				if !inline(a) {
					out = append(out, ' ') // keep the word boundary
				}
				continue
			default:
				if len(open) >= maxFlatDepth {
					out = append(out, "</"...)
					out = append(out, open[len(open)-1]...)
					out = append(out, '>')
					open = open[:len(open)-1]
				}
				open = append(open, string(name))
			}
		case html.EndTagToken:
			name := z.tagName()
			a := atom.Lookup(name)
			switch {
			case !keepStructure && a == atom.A:
				if !openA {
					continue
				}
				openA = false
			case !keepStructure && rawTextElement(a):
			case !keepStructure:
				if !inline(a) {
					out = append(out, ' ')
				}
				continue
			default:
				for i := len(open) - 1; i >= 0; i-- {
					if open[i] == string(name) {
						open = open[:i]
						break
					}
				}
			}
		}
		out = append(out, z.rawBytes()...)
	}
}

// voidElement reports whether elements of type a have no content.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Basefont, atom.Bgsound, atom.Br, atom.Col, atom.Embed,
		atom.Frame, atom.Hr, atom.Image, atom.Img, atom.Input, atom.Keygen, atom.Link,
		atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// rawTextElement reports whether the tokenizer reads the content of elements
// of type a as text up to the matching end tag.
func rawTextElement(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Title, atom.Textarea, atom.Xmp, atom.Iframe,
		atom.Noembed, atom.Noframes, atom.Plaintext:
		return true
	}
	return false
}

// relValue returns a rel attribute's value, whitespace collapsed and
// lowercased.
func relValue(rel []byte) string {
	if len(rel) == 0 {
		return ""
	}
	return strings.ToLower(collapseBytes(rel))
}

// hasToken reports whether the space-separated list s holds tok.
func hasToken(s, tok string) bool {
	for s != "" {
		i := strings.IndexByte(s, ' ')
		if i < 0 {
			return s == tok
		}
		if s[:i] == tok {
			return true
		}
		s = s[i+1:]
	}
	return false
}

// hasTarget reports whether an href or src attribute's value is not blank.
// Whether its scheme is one to follow is known once it is resolved.
func hasTarget[S string | []byte](v S) bool {
	for i := 0; i < len(v); i++ {
		if v[i] > ' ' {
			return true
		}
	}
	return false
}

// droppedScheme reports whether links with the (lowercase) scheme are
// dropped.
func droppedScheme(scheme string) bool {
	switch scheme {
	case "javascript", "mailto", "tel", "data":
		return true
	}
	return false
}

// resolve reads the attribute value href as a URL against base, the way
// browsers do (see urlnorm.ResolveReference).
func resolve(base *url.URL, href string) (*url.URL, bool) {
	u, err := urlnorm.ResolveReference(base, href)
	return u, err == nil
}

// maxLinearHrefs is how many distinct hrefs hrefResolver looks through
// one by one before it keeps them in a map.
const maxLinearHrefs = 32

// hrefResolver resolves the hrefs of a document's links against its base
// URL, each distinct href once: pages name the same target many times
// (navigation, a table of contents and its anchors), and resolving is most
// of what a link costs.
type hrefResolver struct {
	base urlnorm.Resolver
	seen []resolvedHref // while few, in few
	few  [maxLinearHrefs]resolvedHref
	m    map[string]*url.URL // once many
	// hrefs makes the strings resolve and the keys need, which go with
	// the resolver.
	hrefs stringArena
}

// resolvedHref is an href and its URL, nil if it is not one to follow.
type resolvedHref struct {
	href string
	u    *url.URL
}

// resolve returns the URL href names, or nil when it is not a usable URL
// or has a scheme whose links are dropped. Equal hrefs get the same
// *url.URL. links is how many links the document has, a hint for the map.
func (r *hrefResolver) resolve(hrefBytes []byte, links int) *url.URL {
	if r.m != nil {
		if u, ok := r.m[string(hrefBytes)]; ok {
			return u
		}
	} else {
		if r.seen == nil {
			r.seen = r.few[:0]
		}
		for _, h := range r.seen {
			if h.href == string(hrefBytes) {
				return h.u
			}
		}
	}
	href := r.hrefs.string(hrefBytes)
	u, err := r.base.Resolve(href)
	if err != nil || droppedScheme(u.Scheme) {
		u = nil
	}
	switch {
	case r.m != nil:
		r.m[href] = u
	case len(r.seen) < maxLinearHrefs:
		r.seen = append(r.seen, resolvedHref{href, u})
	default:
		r.m = make(map[string]*url.URL, links)
		for _, h := range r.seen {
			r.m[h.href] = h.u
		}
		r.m[href] = u
	}
	return u
}

// documentBase returns the base URL of a document fetched from page whose
// first <base> element has the href attribute href: href resolved against
// page, unless it is not a usable URL or is a data: or javascript: URL,
// which browsers ignore; otherwise page.
func documentBase(page *url.URL, href string) *url.URL {
	if u, ok := resolve(page, href); ok && u.Scheme != "data" && u.Scheme != "javascript" {
		return u
	}
	return page
}
