package parse

import (
	"bytes"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// This file reads a page's facts in one pass over the token stream, without
// building a tree. Tags alone do not say which element a piece of text or a
// link belongs to: the HTML parsing algorithm closes elements left open,
// ignores end tags that match nothing, reopens misnested formatting
// elements, and switches the tokenizer in and out of raw text. So the reader
// applies the tree construction rules (treebuild.go) to what a tree builder
// keeps besides the tree: the stack of open elements, a few bytes each, the
// list of active formatting elements, and the insertion mode. A fact is
// recorded when its element opens, and text goes, as it arrives, to the
// link and the main text it is part of.
//
// Where the tree builder moves content it already inserted, the reader
// gives up (moved) and HTML reads the facts from the tree instead: when
// foster parenting inserts content before a table (<table>x<tr>...), and
// when the adoption agency moves a block out of a formatting element that
// a misnested end tag closes (<a href=u>x<div>y</a>), splitting the link
// in two. Elements the tree builder takes off the stack while what is
// above them stays inside them (</form>, an <a> out of scope) are detached,
// their invisibility and link inherited by the element above.
//
// Searches down the stack look at most maxScan elements, and at most
// maxAnchors nested links collect text at once, which bounds the work per
// token: a document nested deeper behaves as if its deep ends were closed,
// with no 512-element limit and no recursion. Quirks mode is assumed unless
// the document starts with <!DOCTYPE html>; it only decides whether <table>
// closes an open <p>.

// anchor collects the text of an open <a> that is a link.
type anchor struct {
	root  int // stack index of the <a>
	invis int // invisible elements at and below root
	link  int // index in streamReader.links
	text  textBuf
	alt   []byte // alt text of the first image, the fallback for no text
}

// Levels of main text, from the weakest candidate to the strongest.
const (
	levelBody     = iota // the text of <body> without chrome
	levelArticles        // the text of the outermost <article> elements
	levelMain            // the text of the first <main>
	levelDone            // the first <main> is closed: nothing more to read
)

// mainText collects the main text of the best candidate seen so far.
type mainText struct {
	level  int
	root   int // stack index of the <main> or <article> being read, or -1
	invis  int // invisible elements at and below root
	boiler int // nav and aside elements at and below root
	text   textBuf
}

// Kinds of raw text element content.
const (
	rawIgnored = iota // style, textarea, iframe and the like
	rawTitle          // the document's title
	rawJSONLD         // a JSON-LD script
	rawVisible        // xmp and plaintext, whose content is visible text
)

// rawText is the raw text element whose content the tokenizer reads next.
type rawText struct {
	atom atom.Atom // 0: none
	kind int
	text bool // its text has been read
}

// tagAttrs holds the attributes of the current tag that facts are made of.
type tagAttrs struct {
	hidden                               bool
	hash                                 uint64 // of all attributes, in any order
	href, src, rel, alt, lang, typ       []byte
	name, property, content, encoding    []byte
	hasHref, hasSrc, hasLang, hasContent bool
	color                                bool // color, face or size: a <font> that leaves SVG and MathML
	hiddenInput                          bool // type=hidden
}

// factMark records how many facts had been read when the body started. A
// <frameset> accepted later removes the body from the document, and the
// facts read in it with it. Until then (and only until then, as most
// content rules a frameset out) OpenGraph and Twitter keys are noted too.
type factMark struct {
	links, jsonLD, invalidJSONLD, robots int
	title, description, base, canonical  bool
	socialKeys                           []socialKey
}

// socialKey is a key added to Page.OpenGraph or Page.Twitter.
type socialKey struct {
	m   *map[string]string
	key string
}

// streamReader reads the facts of one document. It is used once.
type streamReader struct {
	z       *tokenizer
	page    *Page
	opts    Options
	docSize int // bytes
	seed    maphash.Seed

	// The current token.
	tt          html.TokenType
	name        []byte // lowercased tag name
	tag         atom.Atom
	hash        uint32
	selfClosing bool
	data        []byte // text, once read
	dataRead    bool
	nulFree     []byte // scratch for text without NULs
	attrsRead   bool
	attr        tagAttrs

	// Tree construction state.
	mode        insertionMode
	tmplModes   []insertionMode // insertion modes of the open templates
	stack       []elem
	afe         []formatting
	serial      uint32
	invis       int // open invisible elements
	boiler      int // open HTML nav and aside elements
	chrome      int // open HTML header and footer elements
	foreign     int // open SVG and MathML elements
	templates   int // open HTML template elements
	paragraphs  int // open HTML p elements
	selects     int // open HTML select elements
	articles    int // open HTML article elements
	framesets   int // open frameset elements
	framesetOK  bool
	quirks      bool
	docStarted  bool // a token other than a comment or white space was read
	headOpen    bool // the head element is open
	docHidden   bool // <html> or <body> has the hidden attribute: no main text
	bodyStarted bool
	formOpen    bool
	fostering   bool // content goes before the table it appears in
	moved       bool // the tree builder moved content already read: give up
	raw         rawText

	// Facts.
	titleSet, descSet, baseSet, canonicalSet, langSet bool
	baseHref, canonical                               string
	robots                                            []string
	links                                             []Link   // without their URLs
	hrefs                                             [][]byte // of links, as written
	areaText                                          textBuf
	linkTexts                                         stringArena
	anchors                                           []*anchor
	spare                                             []*anchor
	main                                              mainText
	mainFound                                         bool
	bodyMark                                          factMark
}

// readFacts reads the facts of the UTF-8 HTML document body into p, whose
// URL and Base must be the page URL. It reports false, leaving p
// incomplete, when the document is one the tree builder moves content in:
// its facts are then to be read from the tree.
func readFacts(p *Page, body []byte, o Options, ps *Parser) bool {
	s := &streamReader{
		z:          newTokenizer(body),
		docSize:    len(body),
		seed:       maphash.MakeSeed(),
		page:       p,
		opts:       o,
		framesetOK: true,
		quirks:     true,
		stack:      make([]elem, 0, 64),
	}
	s.main.root = -1
	if ps != nil {
		// The text is built in the Parser's buffer and copied out.
		s.main.text.resetInto(ps.mainText, maxMainTextBytes)
		s.hrefs = ps.hrefs[:0]
		defer ps.keep(s)
	} else {
		// The text is at most about as long as the markup, often nearly as
		// long on text-heavy pages: one allocation of that size costs less
		// than growing by doubling from a guess.
		s.main.text.reset(maxMainTextBytes, 0, min(len(body), maxMainTextBytes))
	}
	s.run()
	if s.moved {
		return false
	}
	s.finish()
	return true
}

// keep takes back the buffers of s for the next document, without the
// references into the last one.
func (ps *Parser) keep(s *streamReader) {
	if s.main.text.keep && cap(s.main.text.bs) <= maxKeptText {
		ps.mainText = s.main.text.bs[:0]
	}
	if cap(s.hrefs) <= maxKeptHrefs {
		clear(s.hrefs[:cap(s.hrefs)])
		ps.hrefs = s.hrefs[:0]
	}
}

// maxKeptHrefs bounds the hrefs a Parser keeps room for.
const maxKeptHrefs = 4096

// run reads the tokens up to the end of the document.
func (s *streamReader) run() {
	for {
		// CDATA sections are text in foreign content and bogus comments
		// elsewhere.
		n := len(s.stack)
		s.z.setAllowCDATA(n > 0 && s.stack[n-1].ns != nsHTML)
		s.tt = s.z.next()
		if s.raw.atom != 0 && s.rawContent() {
			continue
		}
		switch s.tt {
		case html.ErrorToken:
			s.endOfFile()
			return
		case html.TextToken:
			s.data, s.dataRead = nil, false
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			s.readTag()
		case html.DoctypeToken:
			s.doctype()
			continue
		default: // comments
			continue
		}
		s.dispatch()
		if s.moved {
			return
		}
	}
}

// readTag reads the name of the current tag.
func (s *streamReader) readTag() {
	s.name = s.z.tagName()
	s.tag = atom.Lookup(s.name)
	s.hash = 0
	if s.tag == 0 {
		s.hash = hashOf(s.name)
	}
	s.selfClosing = s.tt == html.SelfClosingTagToken
	if s.selfClosing {
		s.tt = html.StartTagToken
	}
	s.attrsRead = false
}

// attrs returns the attributes of the current start tag that facts are
// made of, reading them on first use. The values stay valid to the end of
// the document (see tokenizer.attrVal).
func (s *streamReader) attrs() *tagAttrs {
	if s.attrsRead {
		return &s.attr
	}
	s.attrsRead = true
	a := &s.attr
	*a = tagAttrs{}
	hash := isFormatting(s.tag)
	for _, at := range s.z.tagAttrs() {
		k, v := s.z.attrKey(at), s.z.attrVal(at)
		a.add(k, v)
		if hash {
			a.hash += s.attrHash(k, v)
		}
	}
	return a
}

// attrHash hashes an attribute of a formatting element. The hashes of
// its attributes are added, so that their order does not matter; their
// sum tells elements with the same attributes (the "Noah's Ark" clause).
// The hash is keyed per document, so that no document can be made to
// collide.
func (s *streamReader) attrHash(k, v []byte) uint64 {
	return maphash.Bytes(s.seed, k)*0x9E3779B97F4A7C15 ^ maphash.Bytes(s.seed, v)
}

// add records attribute k (lowercased) with value v.
func (a *tagAttrs) add(k, v []byte) {
	switch string(k) {
	case "hidden":
		a.hidden = true
	case "href":
		a.href, a.hasHref = v, true
	case "src":
		a.src, a.hasSrc = v, true
	case "rel":
		a.rel = v
	case "alt":
		a.alt = v
	case "lang":
		a.lang, a.hasLang = v, true
	case "type":
		a.typ = v
		a.hiddenInput = equalFold(v, "hidden")
	case "name":
		a.name = v
	case "property":
		a.property = v
	case "content":
		a.content, a.hasContent = v, true
	case "encoding":
		a.encoding = v
	case "color", "face", "size":
		a.color = true
	}
}

// hidden reports whether the current start tag has the hidden attribute.
// The attribute names are looked at first, as few tags have one.
func (s *streamReader) hidden() bool {
	if !s.attrsRead && !s.z.hasAttr("hidden") {
		return false
	}
	return s.attrs().hidden
}

// doctype handles a DOCTYPE token, which only matters as the document's
// first token.
func (s *streamReader) doctype() {
	if s.docStarted {
		return
	}
	s.docStarted = true
	d := s.z.text()
	// x/net/html compares the name case-sensitively; a public or system
	// identifier may or may not mean quirks, which is ignored here.
	name := d
	if i := bytes.IndexAny(d, " \t\r\n\f"); i >= 0 {
		name = d[:i]
	}
	s.quirks = string(name) != "html"
}

// startBody switches to the body, noting the facts read so far.
func (s *streamReader) startBody() {
	s.bodyStarted = true
	s.mode = modeInBody
	p := s.page
	s.bodyMark = factMark{
		links: len(s.links), jsonLD: len(p.JSONLD), invalidJSONLD: p.InvalidJSONLD, robots: len(s.robots),
		title: s.titleSet, description: s.descSet, base: s.baseSet, canonical: s.canonicalSet,
	}
}

// bodyText inserts text in the body. The text itself is only decoded when
// something reads it.
func (s *streamReader) bodyText() {
	if s.dataRead || bytes.IndexByte(s.z.rawBytes(), 0) >= 0 {
		if s.data = s.withoutNUL(s.text()); len(s.data) == 0 {
			return
		}
	}
	s.reconstruct()
	s.insert()
	if !s.framesetOK && !s.listening() {
		return
	}
	d := s.withoutNUL(s.text())
	s.writeText(d)
	if s.framesetOK && len(trimLeftSpace(d)) > 0 {
		s.framesetOK = false
	}
}

// text returns the current text token's text.
func (s *streamReader) text() []byte {
	if !s.dataRead {
		s.data, s.dataRead = s.z.text(), true
	}
	return s.data
}

// listening reports whether text at the current position would be
// collected.
func (s *streamReader) listening() bool {
	return len(s.anchors) > 0 || s.mainSees(0)
}

// framesetStart switches to the frameset: the document has no body, and so
// no main text.
func (s *streamReader) framesetStart() {
	if s.bodyStarted {
		s.dropBody()
	}
	s.mode = modeInFrameset
	s.framesets = 1
	s.main.text.reset(maxMainTextBytes, 0, 0)
	s.main.level = levelDone
}

// dropBody forgets the facts read in the body, which a frameset replaces.
func (s *streamReader) dropBody() {
	m, p := &s.bodyMark, s.page
	for len(s.anchors) > 0 {
		s.endLink(s.anchors[0].root)
	}
	s.links, s.hrefs = s.links[:m.links], s.hrefs[:m.links]
	p.JSONLD, p.InvalidJSONLD = p.JSONLD[:m.jsonLD], m.invalidJSONLD
	s.robots = s.robots[:m.robots]
	if !m.title {
		s.titleSet, p.Title = false, ""
	}
	if !m.description {
		s.descSet, p.Description = false, ""
	}
	if !m.base {
		s.baseSet, s.baseHref = false, ""
	}
	if !m.canonical {
		s.canonicalSet, s.canonical = false, ""
	}
	for _, k := range m.socialKeys {
		delete(*k.m, k.key)
		if len(*k.m) == 0 {
			*k.m = nil
		}
	}
	s.popTo(0)
	s.afe = s.afe[:0]
}

// htmlStart reads the attributes of an <html> start tag: the first lang
// attribute is the document's language, and a hidden attribute hides it
// all.
func (s *streamReader) htmlStart() {
	s.docHidden = s.docHidden || s.hidden()
	s.htmlLang(s.attrs())
}

// htmlLang records the lang attribute of an <html> element, unless one
// was recorded already.
func (s *streamReader) htmlLang(a *tagAttrs) {
	if !s.langSet && a.hasLang {
		s.langSet = true
		s.page.Lang = strings.ToValidUTF8(strings.TrimSpace(string(a.lang)), "\uFFFD")
	}
}

// rawElement handles a start tag whose content the tokenizer reads as
// text: script, style, title, textarea, xmp, iframe, noembed, noframes and
// plaintext.
func (s *streamReader) rawElement() {
	s.insert()
	s.raw = rawText{atom: s.tag, kind: rawIgnored}
	facts := s.factsOn()
	switch s.tag {
	case atom.Title:
		if facts && !s.titleSet {
			s.titleSet = true
			s.raw.kind = rawTitle
		}
	case atom.Script:
		if facts && s.opts.StructuredData && s.attrs().jsonLD() {
			s.raw.kind = rawJSONLD
		}
	case atom.Iframe:
		if facts {
			s.frameElement(s.attrs(), "iframe")
		}
	case atom.Xmp, atom.Plaintext:
		if !s.hidden() {
			s.raw.kind = rawVisible
			s.openBreak(0)
		}
	}
}

// rawContent handles the token after a raw text element's start tag: its
// text, then its end tag. It reports whether the token was consumed.
func (s *streamReader) rawContent() bool {
	if s.tt == html.TextToken && !s.raw.text {
		s.raw.text = true
		t := s.z.text()
		switch s.raw.kind {
		case rawTitle:
			s.page.Title = collapseBytes(t)
		case rawJSONLD:
			s.jsonLD(t)
		case rawVisible:
			s.writeText(t)
		}
		return true
	}
	r := s.raw
	s.raw = rawText{}
	switch r.kind {
	case rawJSONLD:
		if !r.text {
			s.jsonLD(nil)
		}
	case rawVisible:
		s.openBreak(0)
	}
	if s.tt == html.EndTagToken {
		s.readTag()
		return s.tag == r.atom
	}
	return false
}

// emptyElement handles an element that has no content.
func (s *streamReader) emptyElement() {
	s.insert()
	s.openBreak(elemFlagsFor(s.tag, s.hidden()))
	if !s.factsOn() {
		return
	}
	switch s.tag {
	case atom.Base:
		s.baseElement(s.attrs())
	case atom.Meta:
		s.meta(s.attrs())
	case atom.Link:
		s.linkElement(s.attrs())
	case atom.Area:
		s.areaElement(s.attrs())
	case atom.Frame:
		s.frameElement(s.attrs(), "frame")
	case atom.Img:
		if len(s.anchors) > 0 && !s.hidden() {
			s.imageAlt(s.attrs().alt)
		}
	}
}

// imageAlt notes the alt text of a visible image at the current position:
// the first image with alt text names a link without text.
func (s *streamReader) imageAlt(alt []byte) {
	if len(bytes.TrimSpace(alt)) == 0 {
		return
	}
	for _, an := range s.anchors {
		if an.alt == nil && s.invis == an.invis {
			an.alt = alt
		}
	}
}

// The methods below record the facts of elements with attributes a; the
// stream and the tree reader share them.

// baseElement records a <base> element.
func (s *streamReader) baseElement(a *tagAttrs) {
	if a.hasHref && !s.baseSet {
		s.baseHref, s.baseSet = string(a.href), true
	}
}

// areaElement records an <area> element: a link named by its alt text.
func (s *streamReader) areaElement(a *tagAttrs) {
	if !a.hasHref {
		return
	}
	if hasTarget(a.href) {
		t := &s.areaText
		t.resetKeeping(maxLinkTextRunes)
		t.write(a.alt)
		s.addLink(a.href, Link{Text: s.linkTexts.string(t.bytes()), TextCut: t.full, Rel: relValue(a.rel), Tag: "area"})
	}
}

// frameElement records an <iframe> or <frame> element (tag).
func (s *streamReader) frameElement(a *tagAttrs, tag string) {
	if !a.hasSrc {
		return
	}
	if hasTarget(a.src) {
		s.addLink(a.src, Link{Tag: tag})
	}
}

// jsonLD reports whether a <script> with attributes a holds JSON-LD.
func (a *tagAttrs) jsonLD() bool {
	typ, _, _ := bytes.Cut(a.typ, []byte(";"))
	return equalFold(bytes.TrimSpace(typ), "application/ld+json")
}

// meta records a <meta> element.
func (s *streamReader) meta(a *tagAttrs) {
	if !a.hasContent {
		return
	}
	if name := bytes.TrimSpace(a.name); len(name) > 0 {
		switch {
		case equalFold(name, "description"):
			if !s.descSet {
				s.descSet = true
				s.page.Description = collapseBytes(a.content)
			}
			return
		case equalFold(name, "robots"):
			s.robots = append(s.robots, string(a.content))
			return
		}
		if s.opts.StructuredData {
			s.socialMeta(strings.ToLower(string(name)), a.content)
		}
	}
	if len(a.property) > 0 && s.opts.StructuredData {
		s.socialMeta(strings.ToLower(strings.TrimSpace(string(a.property))), a.content)
	}
}

// linkElement records a <link> element: the canonical URL, and links to
// alternate versions and to the next and previous pages.
func (s *streamReader) linkElement(a *tagAttrs) {
	if !a.hasHref {
		return
	}
	rel := relValue(a.rel)
	if !s.canonicalSet && hasToken(rel, "canonical") {
		s.canonical, s.canonicalSet = string(a.href), true
	}
	if (hasToken(rel, "alternate") || hasToken(rel, "next") || hasToken(rel, "prev")) &&
		!hasToken(rel, "stylesheet") && !hasToken(rel, "icon") {
		if hasTarget(a.href) {
			s.addLink(a.href, Link{Rel: rel, Tag: "link"})
		}
	}
}

// maxAnchors bounds the links whose text is collected at once. Links nest
// only across table cells, objects and the like; when they nest deeper, the
// text of the outermost open link ends early.
const maxAnchors = 8

// bytesPerLink is how many bytes of a document there are for each link,
// on the pages that hold the most: a guess for the first allocation of
// the list of links, which for a page with fewer holds about a sixth of
// the document's size in unused room.
const bytesPerLink = 512

// addLink adds link l, whose URL is to be read from href, an attribute
// value that stays valid to the end of the document.
func (s *streamReader) addLink(href []byte, l Link) {
	if n := len(s.links); n == cap(s.links) {
		// Room for one link per bytesPerLink of the document at first,
		// then twice as much each time: append grows long slices by a
		// quarter, which for a page of thousands of links allocates
		// several times what they hold.
		more := max(n, s.docSize/bytesPerLink, 16)
		s.links = slices.Grow(s.links, more)
		s.hrefs = slices.Grow(s.hrefs, more)
	}
	s.links = append(s.links, l)
	s.hrefs = append(s.hrefs, href)
}

// startLink starts collecting the text of the link made by the <a> at
// root: its stack index, or for readTree, which keeps no stack, its depth
// in the tree. href is as for addLink.
func (s *streamReader) startLink(root int, href []byte, rel string) {
	if len(s.anchors) == maxAnchors {
		old := s.anchors[0].root
		s.endLink(old)
		if old < len(s.stack) {
			s.stack[old].flags &^= fAnchor
		}
	}
	var an *anchor
	if n := len(s.spare); n > 0 {
		an, s.spare = s.spare[n-1], s.spare[:n-1]
	} else {
		an = new(anchor)
	}
	text := an.text
	*an = anchor{root: root, invis: s.invis, link: len(s.links), text: text}
	an.text.resetKeeping(maxLinkTextRunes)
	s.addLink(href, Link{Rel: rel, Tag: "a"})
	s.anchors = append(s.anchors, an)
	if root < len(s.stack) {
		s.stack[root].flags |= fAnchor
	}
}

// endLink sets the text of the links whose <a> is at stack index i: its
// own, and those of <a> elements detached below it.
func (s *streamReader) endLink(i int) {
	kept := s.anchors[:0]
	for _, an := range s.anchors {
		if an.root != i {
			kept = append(kept, an)
			continue
		}
		if an.text.len() == 0 && an.alt != nil {
			an.text.write(an.alt)
		}
		l := &s.links[an.link]
		l.Text, l.TextCut = s.linkTexts.string(an.text.bytes()), an.text.full
		an.alt = nil
		s.spare = append(s.spare, an)
	}
	clear(s.anchors[len(kept):])
	s.anchors = kept
}

// factsOn reports whether elements at the current position count: content
// inside SVG, MathML and templates does not.
func (s *streamReader) factsOn() bool { return s.foreign == 0 && s.templates == 0 }

// pushTag opens an HTML element for the current start tag. A <main> or an
// outermost <article> becomes the source of the main text.
func (s *streamReader) pushTag() {
	f := elemFlagsFor(s.tag, s.hidden())
	s.openBreak(f)
	s.push(elem{atom: s.tag, hash: s.hash, flags: f})
	// A candidate is visible: neither it nor an element it is in is
	// invisible.
	if !s.opts.MainText || s.invis > 0 || !s.factsOn() {
		return
	}
	m := &s.main
	switch {
	case s.tag == atom.Main && !s.mainFound:
		s.mainFound = true
		if m.level < levelMain {
			m.start(levelMain, len(s.stack)-1, s)
		}
	case s.tag == atom.Article && s.articles == 1 && m.level <= levelArticles:
		if m.level < levelArticles {
			m.start(levelArticles, len(s.stack)-1, s)
		} else {
			m.root, m.invis, m.boiler = len(s.stack)-1, s.invis, s.boiler
		}
	}
}

// start makes the element at stack index root the source of the main text,
// dropping the text of a weaker candidate.
func (m *mainText) start(level, root int, s *streamReader) {
	if m.text.keep {
		m.text.resetInto(m.text.bs, maxMainTextBytes)
	} else {
		grow := max(m.text.grow, m.text.b.Cap())
		m.text.reset(maxMainTextBytes, 0, grow)
	}
	m.level, m.root, m.invis, m.boiler = level, root, s.invis, s.boiler
}

// endOfFile ends every open element.
func (s *streamReader) endOfFile() {
	if s.raw.atom != 0 {
		s.rawContent()
	}
	s.popTo(0)
}

// writeText adds text at the current position to the link texts and the
// main text that it is part of.
func (s *streamReader) writeText(t []byte) {
	s.writeLinkText(t)
	if s.mainSees(0) {
		s.main.text.write(t)
	}
}

// writeLinkText adds text at the current position to the link texts it is
// part of.
func (s *streamReader) writeLinkText(t []byte) {
	for _, an := range s.anchors {
		if s.invis == an.invis {
			an.text.write(t)
		}
	}
}

// mainSees reports whether the main text takes in text at the current
// position, or an element with flags f there.
func (s *streamReader) mainSees(f elemFlags) bool {
	m := &s.main
	if !s.opts.MainText || f&fInvisible != 0 {
		return false
	}
	switch m.level {
	case levelBody:
		return s.invis == 0 && s.boiler == 0 && s.chrome == 0 && f&(fBoiler|fChrome) == 0 &&
			s.mode >= modeInBody
	case levelArticles, levelMain:
		return m.root >= 0 && s.invis == m.invis && s.boiler == m.boiler && f&fBoiler == 0
	}
	return false
}

// openBreak marks the word boundary before an element with flags f that
// is not inline.
func (s *streamReader) openBreak(f elemFlags) {
	if f&fInline != 0 {
		return
	}
	if f&fInvisible == 0 {
		s.linkBreak()
	}
	if s.mainSees(f) {
		s.main.text.brk()
	}
}

// linkBreak marks a word boundary at the current position in the link
// texts it is part of.
func (s *streamReader) linkBreak() {
	for _, an := range s.anchors {
		if s.invis == an.invis {
			an.text.brk()
		}
	}
}

// closeBreak marks the word boundary after element e, which is about to be
// closed, if it is not inline.
func (s *streamReader) closeBreak(e *elem) {
	if e.flags&fInline != 0 {
		return
	}
	// Counted as if e were already closed.
	s.count(e, -1)
	s.openBreak(e.flags)
	s.count(e, 1)
}

// finish resolves what the reading collected.
func (s *streamReader) finish() {
	p := s.page
	if s.baseSet {
		p.Base = documentBase(p.URL, s.baseHref)
	}
	if hasTarget(s.canonical) {
		if u, ok := resolve(p.Base, s.canonical); ok && !droppedScheme(u.Scheme) {
			p.Canonical = u.String()
		}
	}
	if len(s.robots) > 0 {
		p.MetaRobots = strings.ToLower(collapseSpace(strings.Join(s.robots, ", ")))
	}
	// The links are resolved in place, those that are dropped removed.
	r := hrefResolver{base: urlnorm.NewResolver(p.Base)}
	links := s.links[:0]
	for i, l := range s.links {
		if l.URL = r.resolve(s.hrefs[i], len(s.links)); l.URL == nil {
			continue
		}
		l.Nofollow = hasToken(l.Rel, "nofollow") || hasToken(l.Rel, "ugc") || hasToken(l.Rel, "sponsored")
		links = append(links, l)
	}
	if len(links) > 0 {
		p.Links = links
	}
	if s.opts.MainText && !s.docHidden {
		p.MainText = s.main.text.String()
	}
}

// hashOf returns the FNV-1a hash of a tag name.
func hashOf[S string | []byte](name S) uint32 {
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return h
}

// equalFold reports whether a and b are equal but for the case of ASCII
// letters.
func equalFold[S string | []byte](a []byte, b S) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// trimLeftSpace returns b without leading HTML white space.
func trimLeftSpace(b []byte) []byte {
	for len(b) > 0 && isSpaceByte(b[0]) {
		b = b[1:]
	}
	return b
}

// trimLeftSpaceNUL returns b without leading HTML white space and NULs.
func trimLeftSpaceNUL(b []byte) []byte {
	for len(b) > 0 && (isSpaceByte(b[0]) || b[0] == 0) {
		b = b[1:]
	}
	return b
}

// withoutNUL returns b without NULs: b itself, which may be the document's
// bytes, when it has none, else a copy in a scratch buffer valid until the
// next call.
func (s *streamReader) withoutNUL(b []byte) []byte {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return b
	}
	out := append(s.nulFree[:0], b[:i]...)
	for _, c := range b[i+1:] {
		if c != 0 {
			out = append(out, c)
		}
	}
	s.nulFree = out
	return out
}
