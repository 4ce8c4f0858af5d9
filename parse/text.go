package parse

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits on collected text.
const (
	maxLinkTextRunes = 256
	maxMainTextBytes = 1 << 20
)

// textBuf accumulates text with whitespace collapsed: runs of white space
// become one ASCII space, and leading and trailing space is dropped. Invalid
// UTF-8 becomes U+FFFD. Once a limit is reached further text is ignored and
// full is set.
type textBuf struct {
	b        strings.Builder
	space    bool // white space seen since the last rune written
	maxBytes int  // 0: no limit
	maxRunes int  // 0: no limit
	runes    int
	full     bool
}

// reset empties the buffer and sets its limits.
func (t *textBuf) reset(maxBytes, maxRunes int) {
	t.b.Reset()
	*t = textBuf{maxBytes: maxBytes, maxRunes: maxRunes}
}

// brk marks a word boundary, as between two block elements.
func (t *textBuf) brk() { t.space = true }

// writeString appends s.
func (t *textBuf) writeString(s string) {
	for i := 0; i < len(s) && !t.full; {
		c := s[i]
		if wordByte(c) {
			// Copy at once a run of ASCII words separated by single spaces,
			// which is most of any text.
			j := i + 1
			for j < len(s) {
				if wordByte(s[j]) {
					j++
				} else if s[j] == ' ' && j+1 < len(s) && wordByte(s[j+1]) {
					j += 2
				} else {
					break
				}
			}
			t.putASCII(s[i:j])
			i = j
			continue
		}
		if c < utf8.RuneSelf {
			if isSpaceByte(c) || c == '\v' {
				t.space = true
			} else {
				t.put(rune(c))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(r) {
			t.space = true
			continue
		}
		t.put(r)
	}
}

// wordByte reports whether c is a printable ASCII byte other than space.
func wordByte(c byte) bool { return ' ' < c && c < utf8.RuneSelf }

// separate writes the pending space, if any, and reports whether n more
// bytes forming runes more runes still fit.
func (t *textBuf) separate(n, runes int) bool {
	sep := t.space && t.b.Len() > 0
	if sep {
		n++
		runes++
	}
	if t.maxBytes > 0 && t.b.Len()+n > t.maxBytes || t.maxRunes > 0 && t.runes+runes > t.maxRunes {
		return false
	}
	if sep {
		t.b.WriteByte(' ')
		t.runes++
	}
	t.space = false
	return true
}

// putASCII appends ASCII words separated by single spaces, or as much of
// them as fits.
func (t *textBuf) putASCII(w string) {
	if t.separate(len(w), len(w)) {
		t.b.WriteString(w)
		t.runes += len(w)
		return
	}
	for i := 0; i < len(w); i++ {
		if w[i] == ' ' {
			t.space = true
			continue
		}
		if !t.separate(1, 1) {
			t.full = true
			return
		}
		t.b.WriteByte(w[i])
		t.runes++
	}
}

// put appends one rune.
func (t *textBuf) put(r rune) {
	if !t.separate(utf8.RuneLen(r), 1) {
		t.full = true
		return
	}
	t.b.WriteRune(r)
	t.runes++
}

// len returns the number of bytes written.
func (t *textBuf) len() int { return t.b.Len() }

// String returns the text. The buffer must be reset before further use.
func (t *textBuf) String() string { return t.b.String() }

// collapseSpace returns s with runs of white space replaced by one space,
// trimmed, and with invalid UTF-8 replaced by U+FFFD.
func collapseSpace(s string) string {
	if collapsed(s) {
		return s
	}
	var t textBuf
	t.b.Grow(len(s))
	t.writeString(s)
	return t.String()
}

// collapsed reports whether s is ASCII that collapseSpace leaves unchanged.
func collapsed(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf, c == '\v', c != ' ' && isSpaceByte(c):
			return false
		case c == ' ' && s[i+1] == ' ':
			return false
		}
	}
	return true
}

// textSkip says which elements text collection leaves out.
type textSkip int

const (
	skipInvisible   textSkip = iota // script, style, template and the like
	skipBoilerplate                 // also nav and aside
	skipChrome                      // also header and footer
)

// invisible reports whether the element n and its content are never
// rendered as text.
func invisible(n *html.Node) bool {
	if n.Namespace != "" {
		// Only SVG is left out: MathML content is text a reader sees.
		return n.Namespace == "svg"
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title,
		atom.Iframe, atom.Object, atom.Embed, atom.Canvas, atom.Video, atom.Audio,
		atom.Select, atom.Datalist, atom.Textarea, atom.Svg, atom.Noframes, atom.Noembed:
		return true
	}
	for _, a := range n.Attr {
		if a.Key == "hidden" && a.Namespace == "" {
			return true
		}
	}
	return false
}

// skipped reports whether text collection at level skip leaves out n.
func (skip textSkip) skipped(n *html.Node) bool {
	if invisible(n) {
		return true
	}
	if skip >= skipBoilerplate && n.Namespace == "" {
		switch n.DataAtom {
		case atom.Nav, atom.Aside:
			return true
		case atom.Header, atom.Footer:
			return skip >= skipChrome
		}
	}
	return false
}

// inline reports whether an element of type a flows within a line, so that
// text on either side of it joins without a space.
func inline(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Abbr, atom.B, atom.Bdi, atom.Bdo, atom.Big, atom.Cite, atom.Code,
		atom.Data, atom.Del, atom.Dfn, atom.Em, atom.Font, atom.I, atom.Ins, atom.Kbd,
		atom.Label, atom.Mark, atom.Nobr, atom.Q, atom.Rp, atom.Rt, atom.Ruby, atom.S,
		atom.Samp, atom.Small, atom.Span, atom.Strike, atom.Strong, atom.Sub, atom.Sup,
		atom.Time, atom.Tt, atom.U, atom.Var, atom.Wbr, atom.Img:
		return true
	}
	return false
}

// appendText writes the text under root to t, leaving out what skip says,
// with a word boundary around each element that is not inline. It walks the
// tree without recursion, so depth costs no stack.
func appendText(t *textBuf, root *html.Node, skip textSkip) {
	n := root
	for !t.full {
		descend := true
		switch n.Type {
		case html.TextNode:
			t.writeString(n.Data)
		case html.ElementNode:
			if n != root && skip.skipped(n) {
				descend = false
			} else if !inline(n.DataAtom) {
				t.brk()
			}
		}
		if descend && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			n = n.Parent
			if n.Type == html.ElementNode && !inline(n.DataAtom) {
				t.brk()
			}
		}
		if n == root {
			return
		}
		n = n.NextSibling
	}
}

// firstImageAlt returns the alt text of the first <img> under root with a
// non-blank one.
func firstImageAlt(root *html.Node) string {
	n := root
	for {
		if n.Type == html.ElementNode && n.DataAtom == atom.Img && n.Namespace == "" {
			if alt, ok := attr(n, "alt"); ok && strings.TrimSpace(alt) != "" {
				return alt
			}
		}
		if n.FirstChild != nil && (n == root || n.Type != html.ElementNode || !invisible(n)) {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			n = n.Parent
		}
		if n == root {
			return ""
		}
		n = n.NextSibling
	}
}

// mainText returns the visible text of the main content: the first <main>
// if there is one, else every <article> not inside another, else <body>
// without its header, footer, navigation and asides. Navigation and asides
// are left out of <main> and <article> too; their headers and footers (a
// headline, a byline) are kept.
func mainText(t *textBuf, sizeHint int, doc, main, body *html.Node, articles []*html.Node) string {
	t.reset(maxMainTextBytes, 0)
	// Text is usually well under half of a page's markup.
	t.b.Grow(min(sizeHint/2, maxMainTextBytes))
	switch {
	case main != nil:
		appendText(t, main, skipBoilerplate)
	case len(articles) > 0:
		for _, a := range articles {
			if !insideArticle(a) {
				appendText(t, a, skipBoilerplate)
				t.brk()
			}
		}
	case body != nil:
		appendText(t, body, skipChrome)
	default:
		appendText(t, doc, skipChrome)
	}
	return t.String()
}

// insideArticle reports whether n has an <article> ancestor.
func insideArticle(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type == html.ElementNode && p.DataAtom == atom.Article && p.Namespace == "" {
			return true
		}
	}
	return false
}
