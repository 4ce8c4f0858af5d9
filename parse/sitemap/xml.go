package sitemap

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/net/html/charset"
)

// sitemapNamespaces are the namespaces StrictNamespace accepts: the
// sitemaps.org one, its frequent variants and Google's legacy schemas.
// http://www.google.com/schemas/sitemap/0.9 is deliberately absent: it was
// never a published schema, and crawler-commons (at the revision whose tests
// this package checks against) refuses it too.
var sitemapNamespaces = map[string]bool{
	"http://www.sitemaps.org/schemas/sitemap/0.9":   true,
	"https://www.sitemaps.org/schemas/sitemap/0.9":  true,
	"http://www.sitemaps.org/schemas/sitemap/0.9/":  true,
	"https://www.sitemaps.org/schemas/sitemap/0.9/": true,
	"http://sitemaps.org/schemas/sitemap/0.9":       true,
	"https://sitemaps.org/schemas/sitemap/0.9":      true,
	"http://www.google.com/schemas/sitemap/0.84":    true,
	"https://www.google.com/schemas/sitemap/0.84":   true,
	"http://www.google.com/schemas/sitemap/0.90":    true,
}

const atomNS = "http://www.w3.org/2005/Atom"

// Field keys: where the text of a captured element goes.
const (
	fLoc = iota + 1
	fLastMod
	fLastMod2 // a fallback date: dc:date, Atom published
	fChangeFreq
	fPriority
	fLink
	fGUID
	fFeedTime
)

// record is one url, sitemap, item or entry being read.
type record struct {
	loc, lastmod, lastmod2, changefreq, priority, link, guid string
}

// xmlParser walks the token stream of one document, keeping only the
// current record, a stack of open element names and two bounded buffers.
type xmlParser struct {
	dec    *xml.Decoder
	c      *collector
	strict bool
	kind   string
	stack  []string // local names of the open elements, at most maxDepth

	inRec    bool
	recDepth int
	rec      record
	direct   textBuf // text directly inside the record element

	field      int // fLoc ..., 0 when no field is being captured
	fieldDepth int
	text       textBuf
}

// parseXML parses a sitemaps.org url set or index, an RSS or an Atom feed.
// It uses encoding/xml in non-strict mode so that the raw '&' common in
// hand-made sitemaps ("?a=1&b=2") is kept as text instead of failing the file;
// unknown entities are left as written, never expanded.
func parseXML(r io.Reader, c *collector, strict bool) error {
	dec := xml.NewDecoder(&tokenGuard{r: r, max: maxToken})
	dec.Strict = false
	dec.CharsetReader = charset.NewReaderLabel
	p := &xmlParser{dec: dec, c: c, strict: strict}
	err := p.run()
	if err == errFull {
		return nil
	}
	return err
}

func (p *xmlParser) run() error {
	for {
		tok, err := p.dec.Token()
		if err == io.EOF {
			if p.kind == "" {
				return fmt.Errorf("no root element: %w", ErrFormat)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("parse xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = p.start(t)
		case xml.EndElement:
			err = p.end()
			if err == nil && len(p.stack) == 0 {
				// The root is closed; whatever follows is not ours.
				return nil
			}
		case xml.CharData:
			p.chars(t)
		case xml.Directive:
			return refuseDirective(t)
		}
		if err != nil {
			return err
		}
	}
}

// refuseDirective explains why a <!...> directive ends parsing.
func refuseDirective(d xml.Directive) error {
	f := strings.Fields(string(d))
	if len(f) >= 2 && strings.EqualFold(f[0], "DOCTYPE") && strings.EqualFold(f[1], "html") &&
		!bytes.ContainsRune(d, '[') {
		// A web page (often a soft 404) rather than a sitemap; with an
		// internal subset it is refused as a DTD below.
		return fmt.Errorf("html document: %w", ErrFormat)
	}
	name := "directive"
	if len(f) > 0 {
		name = f[0]
	}
	return fmt.Errorf("xml <!%.20s>: %w", name, ErrEntity)
}

func (p *xmlParser) start(se xml.StartElement) error {
	d := len(p.stack)
	if d >= maxDepth {
		return fmt.Errorf("xml nested deeper than %d elements: %w", maxDepth, ErrTooLarge)
	}
	p.stack = append(p.stack, se.Name.Local)
	if d == 0 {
		return p.root(se.Name)
	}
	if p.field != 0 {
		return nil // markup inside a field: keep collecting its text
	}
	name := se.Name.Local
	if !p.inRec {
		if p.isRecord(se.Name, d) {
			p.inRec, p.recDepth, p.rec = true, d, record{}
			p.direct.reset()
			return nil
		}
		if p.isFeedTime(name, d) {
			p.capture(fFeedTime, d)
		}
		return nil
	}
	if d != p.recDepth+1 {
		return nil // only direct children of a record carry its fields
	}
	switch p.kind {
	case KindURLSet, KindIndex:
		if p.strict && !sitemapNamespaces[se.Name.Space] {
			return nil
		}
		switch name {
		case "loc":
			p.capture(fLoc, d)
		case "lastmod":
			p.capture(fLastMod, d)
		case "changefreq":
			if p.kind == KindURLSet {
				p.capture(fChangeFreq, d)
			}
		case "priority":
			if p.kind == KindURLSet {
				p.capture(fPriority, d)
			}
		}
	case KindRSS:
		switch name {
		case "link":
			if se.Name.Space != atomNS {
				p.capture(fLink, d)
			}
		case "guid":
			p.capture(fGUID, d)
		case "pubDate":
			p.capture(fLastMod, d)
		case "date": // dc:date
			p.capture(fLastMod2, d)
		}
	case KindAtom:
		switch name {
		case "link":
			if p.rec.link == "" && isAlternate(se.Attr) {
				p.rec.link = strings.TrimSpace(attr(se.Attr, "href"))
			}
		case "updated", "modified": // modified: Atom 0.3
			p.capture(fLastMod, d)
		case "published", "issued":
			p.capture(fLastMod2, d)
		}
	}
	return nil
}

// root identifies the format from the root element.
func (p *xmlParser) root(n xml.Name) error {
	switch n.Local {
	case "urlset":
		p.kind = KindURLSet
	case "sitemapindex":
		p.kind = KindIndex
	case "rss", "RDF": // RSS 2.0 and 0.9x; RSS 1.0 is rdf:RDF
		p.kind = KindRSS
	case "feed":
		p.kind = KindAtom
	case "html":
		return fmt.Errorf("html document: %w", ErrFormat)
	default:
		return fmt.Errorf("xml root element <%.40s>: %w", n.Local, ErrFormat)
	}
	p.c.res.Kind = p.kind
	if p.strict && (p.kind == KindURLSet || p.kind == KindIndex) && !sitemapNamespaces[n.Space] {
		return fmt.Errorf("namespace %q of <%s>: %w", n.Space, n.Local, ErrNamespace)
	}
	return nil
}

// isRecord reports whether an element named n at depth d starts an entry.
func (p *xmlParser) isRecord(n xml.Name, d int) bool {
	switch p.kind {
	case KindURLSet:
		return d == 1 && n.Local == "url" && (!p.strict || sitemapNamespaces[n.Space])
	case KindIndex:
		return d == 1 && n.Local == "sitemap" && (!p.strict || sitemapNamespaces[n.Space])
	case KindRSS:
		// rss/channel/item in RSS 2.0, rdf:RDF/item in RSS 1.0.
		return n.Local == "item" && (d == 1 || d == 2 && p.stack[1] == "channel")
	case KindAtom:
		return d == 1 && n.Local == "entry"
	}
	return false
}

// isFeedTime reports whether an element is the feed's own date.
func (p *xmlParser) isFeedTime(local string, d int) bool {
	switch p.kind {
	case KindRSS:
		return d == 2 && p.stack[1] == "channel" &&
			(local == "pubDate" || local == "lastBuildDate" || local == "date")
	case KindAtom:
		return d == 1 && (local == "updated" || local == "modified")
	}
	return false
}

func (p *xmlParser) capture(field, d int) {
	p.field, p.fieldDepth = field, d
	p.text.reset()
}

func (p *xmlParser) chars(t xml.CharData) {
	switch {
	case p.field != 0:
		p.text.add(t)
	case p.inRec && len(p.stack) == p.recDepth+1:
		p.direct.add(t)
	}
}

func (p *xmlParser) end() error {
	d := len(p.stack) - 1
	p.stack = p.stack[:d]
	if p.field != 0 && d == p.fieldDepth {
		p.store(p.field, p.text.String())
		p.field = 0
	}
	if p.inRec && d == p.recDepth {
		p.inRec = false
		return p.emit()
	}
	return nil
}

// store puts a field's text in the current record; the first value wins.
func (p *xmlParser) store(field int, s string) {
	set := func(dst *string) {
		if *dst == "" {
			*dst = s
		}
	}
	switch field {
	case fLoc:
		set(&p.rec.loc)
	case fLastMod:
		set(&p.rec.lastmod)
	case fLastMod2:
		set(&p.rec.lastmod2)
	case fChangeFreq:
		set(&p.rec.changefreq)
	case fPriority:
		set(&p.rec.priority)
	case fLink:
		set(&p.rec.link)
	case fGUID:
		set(&p.rec.guid)
	case fFeedTime:
		if t := parseTime(s); t.After(p.c.res.LastMod) {
			p.c.res.LastMod = t
		}
	}
}

// emit turns the finished record into an Entry.
func (p *xmlParser) emit() error {
	r := p.rec
	var e Entry
	switch p.kind {
	case KindURLSet, KindIndex:
		e.Loc = r.loc
		if e.Loc == "" {
			// <sitemap>URL</sitemap> without <loc>: seen in the wild and
			// accepted by crawler-commons.
			e.Loc = p.direct.String()
		}
		e.ChangeFreq = changeFreq(r.changefreq)
		e.Priority = priority(r.priority)
	case KindRSS:
		// An item without <link> may still name its page in <guid>
		// (crawler-commons takes it even with isPermaLink="false"); a guid
		// that is not a URL is skipped like any invalid URL.
		e.Loc = r.link
		if e.Loc == "" {
			e.Loc = r.guid
		}
	case KindAtom:
		e.Loc = r.link
	}
	e.LastMod = parseTime(r.lastmod)
	if e.LastMod.IsZero() {
		e.LastMod = parseTime(r.lastmod2)
	}
	return p.c.add(e, p.kind == KindIndex)
}

// isAlternate reports whether an Atom <link> points at the entry's page: rel
// absent or "alternate".
func isAlternate(attrs []xml.Attr) bool {
	rel := strings.TrimSpace(attr(attrs, "rel"))
	return rel == "" || strings.EqualFold(rel, "alternate")
}

func attr(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

var changeFreqs = map[string]bool{
	"always": true, "hourly": true, "daily": true, "weekly": true,
	"monthly": true, "yearly": true, "never": true,
}

func changeFreq(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if changeFreqs[s] {
		return s
	}
	return ""
}

func priority(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f >= 0 && f <= 1) {
		return 0
	}
	return f
}

// textBuf collects the text of one element up to maxField bytes; a longer
// text is discarded whole rather than kept cut.
type textBuf struct {
	b    []byte
	over bool
}

func (t *textBuf) reset() { t.b, t.over = t.b[:0], false }

func (t *textBuf) add(p []byte) {
	if t.over || len(t.b)+len(p) > maxField {
		t.over = true
		return
	}
	t.b = append(t.b, p...)
}

func (t *textBuf) String() string {
	if t.over {
		return ""
	}
	return string(bytes.TrimSpace(t.b))
}

// tokenGuard passes bytes through while following XML's lexical structure
// just enough to fail with ErrTooLarge when one token (text run, tag,
// comment, CDATA section or processing instruction) passes max bytes.
// encoding/xml keeps a whole token in memory, so this is what keeps memory
// bounded on hostile input. It errs towards larger tokens (for example a
// quote left open in a non-strict attribute), never towards missing one.
type tokenGuard struct {
	r     io.Reader
	max   int
	state int
	n     int     // bytes in the current token
	open  [8]byte // bytes after '<' while telling tags, comments and CDATA apart
	nOpen int
	k     int  // trailing '-', ']' or '?' seen, for the closing delimiters
	quote byte // open attribute quote inside a tag
}

const (
	gText = iota
	gOpen // after '<', undecided
	gTag
	gComment
	gCDATA
	gPI
)

func (g *tokenGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		// Jump over the bytes that cannot change the state, then step
		// through the one that may.
		var skip int
		switch g.state {
		case gText:
			skip = indexOrLen(b, "<")
		case gTag:
			if g.quote != 0 {
				skip = indexOrLen(b, string(g.quote))
			} else {
				skip = indexOrLen(b, `>"'`)
			}
		case gComment:
			skip = g.run(b, '-')
		case gCDATA:
			skip = g.run(b, ']')
		case gPI:
			skip = g.run(b, '?')
		}
		g.n += skip
		if g.n > g.max {
			return 0, fmt.Errorf("xml token over %d bytes: %w", g.max, ErrTooLarge)
		}
		if b = b[skip:]; len(b) > 0 {
			g.step(b[0]) // counts the byte and may end the token
			b = b[1:]
		}
	}
	return n, err
}

// run skips to the next '>' inside a comment, CDATA section or processing
// instruction, counting the copies of c just before it.
func (g *tokenGuard) run(b []byte, c byte) int {
	seg := b[:indexOrLen(b, ">")]
	trail := len(seg) - len(bytes.TrimRight(seg, string(c)))
	if trail == len(seg) {
		g.k += trail
	} else {
		g.k = trail
	}
	return len(seg)
}

func indexOrLen(b []byte, chars string) int {
	if i := bytes.IndexAny(b, chars); i >= 0 {
		return i
	}
	return len(b)
}

func (g *tokenGuard) step(b byte) {
	g.n++
	switch g.state {
	case gText:
		if b == '<' {
			g.state, g.n, g.nOpen = gOpen, 1, 0
		}
	case gOpen:
		g.open[g.nOpen] = b
		g.nOpen++
		s := string(g.open[:g.nOpen])
		switch {
		case s == "?":
			g.state, g.k = gPI, 0
		case s == "!--":
			g.state, g.k = gComment, 0
		case s == "![CDATA[":
			g.state, g.k = gCDATA, 0
		case strings.HasPrefix("!--", s) || strings.HasPrefix("![CDATA[", s):
			// still undecided
		default:
			g.state, g.quote = gTag, 0
			g.tag(b)
		}
	case gTag:
		g.tag(b)
	case gComment:
		g.closing(b, '-', 2)
	case gCDATA:
		g.closing(b, ']', 2)
	case gPI:
		g.closing(b, '?', 1)
	}
}

func (g *tokenGuard) tag(b byte) {
	switch {
	case g.quote != 0:
		if b == g.quote {
			g.quote = 0
		}
	case b == '"' || b == '\'':
		g.quote = b
	case b == '>':
		g.state, g.n = gText, 0
	}
}

// closing ends a comment, CDATA section or processing instruction at '>'
// after at least need copies of c.
func (g *tokenGuard) closing(b, c byte, need int) {
	switch {
	case b == c:
		g.k++
	case b == '>' && g.k >= need:
		g.state, g.n = gText, 0
	default:
		g.k = 0
	}
}
