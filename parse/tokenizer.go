package parse

import (
	"bytes"
	"io"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// This file splits a document into tokens exactly as golang.org/x/net/html's
// Tokenizer does: the same tokens, with the same bytes, text, names and
// attributes, on any input, so that the stream reader sees the document
// html.Parse builds its tree from (FuzzTokenizer checks it against the
// Tokenizer). The Tokenizer reads from an io.Reader one byte at a time
// through a buffer of its own and copies every attribute name it reads;
// this tokenizer works on the document in memory, finds the ends of text,
// raw text and attribute values with bytes.IndexByte, and hands out
// subslices of the document. Text, tag names and attribute values are
// decoded (newlines normalized, NULs replaced, character references
// resolved) only when they hold something to decode: text and names into a
// scratch buffer that the next token reuses, attribute values into one
// that only grows.

// span is a range of bytes in the document: [start, end).
type span struct{ start, end int }

// attrSpan locates an attribute of a start tag: its name and its value,
// as written.
type attrSpan struct{ key, val span }

// maxLinearDedup is how many attributes a tag may have for duplicate names
// to be found by comparing each with those before it; beyond it a map is
// used, so that a tag with a huge number of attributes costs linear time.
const maxLinearDedup = 16

// tokenizer splits an HTML document held in memory into tokens. Its zero
// value is not usable; use newTokenizer. Text and names it returns are
// valid until the next call to next, attribute values as long as the
// tokenizer; none may be modified: they may be the document's own bytes.
type tokenizer struct {
	doc []byte
	pos int // where the next token starts
	tt  html.TokenType
	// raw holds the bytes of the current token; data its text, or for a
	// tag its name.
	raw, data span
	// attrs are the attributes of the current start tag, in order. Those
	// whose name repeats an earlier one's (in any case) are removed when
	// tagAttrs is first asked for them (deduped).
	attrs   []attrSpan
	deduped bool
	seen    map[string]struct{} // scratch for tagAttrs, for tags with many attributes
	// rawTag is the lowercased name of the element whose content the next
	// token is read as raw text or RCDATA for, or "".
	rawTag     string
	textIsRaw  bool // the current text holds no character references
	convertNUL bool // NULs in the current text become U+FFFD
	allowCDATA bool
	// scratch holds what was decoded for the current token; it only
	// grows until the next token, so earlier results stay valid.
	scratch []byte
	// values holds the attribute values that were decoded. It only grows,
	// so that, like those that are the document's bytes, they stay valid
	// to the end: a link's href and text are kept without a copy.
	values []byte
	// refs decodes named character references in attribute values that
	// appendCharRef does not know (see appendRareRef).
	refs    *html.Tokenizer
	refTags refTags // what refs reads
	refTag  []byte  // the storage of refTags
}

// newTokenizer returns a tokenizer for the UTF-8 document doc, which it
// does not modify. Attribute values it returns stay valid as long as the
// tokenizer; text and names until the next token.
func newTokenizer(doc []byte) *tokenizer {
	return &tokenizer{doc: doc}
}

// setAllowCDATA sets whether <![CDATA[...]]> is text, as in SVG and MathML
// content, or a bogus comment (the default), as html.Tokenizer.AllowCDATA.
func (z *tokenizer) setAllowCDATA(allow bool) { z.allowCDATA = allow }

// nextIsNotRawText makes the token after a start tag of a raw text element
// (script, title and the like) markup, as html.Tokenizer.NextIsNotRawText.
func (z *tokenizer) nextIsNotRawText() { z.rawTag = "" }

// rawBytes returns the bytes of the current token as written.
func (z *tokenizer) rawBytes() []byte { return z.doc[z.raw.start:z.raw.end] }

// isSpace reports whether c is white space between attributes.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f'
}

// Classes of bytes in tags, for byteClass.
const (
	endsName     = 1 << iota // white space, '/' or '>': ends a tag name
	endsKey                  // the same or '=': ends an attribute name
	endsUnquoted             // white space or '>': ends an unquoted value
)

// byteClass holds the classes of each byte, so that the loops over names
// look each byte up once.
var byteClass = func() (t [256]uint8) {
	for _, c := range " \n\r\t\f" {
		t[c] = endsName | endsKey | endsUnquoted
	}
	t['/'] = endsName | endsKey
	t['>'] = endsName | endsKey | endsUnquoted
	t['='] = endsKey
	return t
}()

// skipSpace returns the position of the first byte at or after p that is
// not white space.
func (z *tokenizer) skipSpace(p int) int {
	for p < len(z.doc) && isSpace(z.doc[p]) {
		p++
	}
	return p
}

// next reads the next token and returns its type. At the end of the
// document it returns html.ErrorToken, as it does for a tag the document
// ends in the middle of (html.Tokenizer drops such a tag).
func (z *tokenizer) next() html.TokenType {
	z.raw = span{z.pos, z.pos}
	z.data = z.raw
	z.attrs, z.deduped = z.attrs[:0], false
	z.scratch = z.scratch[:0]
	if z.pos >= len(z.doc) {
		z.tt = html.ErrorToken
		return z.tt
	}
	if z.rawTag != "" {
		if z.rawTag == "plaintext" {
			// Everything up to the end is text.
			z.pos, z.data.end, z.textIsRaw = len(z.doc), len(z.doc), true
		} else {
			z.readRawText()
		}
		if z.data.end > z.data.start {
			z.raw.end, z.tt, z.convertNUL = z.pos, html.TextToken, true
			return z.tt
		}
	}
	z.textIsRaw, z.convertNUL = false, false
	z.tt = z.readToken()
	if z.tt == html.ErrorToken {
		z.pos = len(z.doc) // a tag cut short is all read
	}
	z.raw.end = z.pos
	return z.tt
}

// readToken reads a token that is not raw text.
func (z *tokenizer) readToken() html.TokenType {
	d, n := z.doc, len(z.doc)
	p := z.pos
	for {
		i := bytes.IndexByte(d[p:], '<')
		if i < 0 || p+i+1 >= n {
			break
		}
		p += i
		c := d[p+1]
		if !isASCIILetter(c) && c != '/' && c != '!' && c != '?' {
			p++ // the '<' is text; c is read again
			continue
		}
		if p > z.raw.start {
			// The text before the tag is a token of its own.
			z.pos, z.data.end = p, p
			return html.TextToken
		}
		z.pos = p + 2
		switch {
		case isASCIILetter(c):
			return z.readStartTag()
		case c == '/':
			return z.readEndTag()
		case c == '!':
			return z.readMarkupDeclaration()
		}
		// "<?": a bogus comment, starting at the '?'.
		z.pos--
		z.readUntilCloseAngle()
		return html.CommentToken
	}
	z.pos = n
	if z.raw.start < n {
		z.data.end = n
		return html.TextToken
	}
	return html.ErrorToken
}

// readEndTag reads a token starting with "</", which has been read.
func (z *tokenizer) readEndTag() html.TokenType {
	if z.pos >= len(z.doc) {
		// "</" at the end is text.
		z.data.end = z.pos
		return html.TextToken
	}
	c := z.doc[z.pos]
	switch {
	case c == '>':
		// "</>" is nothing; html.Tokenizer makes it an empty comment.
		z.pos++
		return html.CommentToken
	case isASCIILetter(c):
		z.pos++
		if !z.readTag(false) {
			return html.ErrorToken
		}
		return html.EndTagToken
	}
	z.readUntilCloseAngle()
	return html.CommentToken
}

// readStartTag reads a start tag, whose "<" and first letter have been
// read.
func (z *tokenizer) readStartTag() html.TokenType {
	if !z.readTag(true) {
		return html.ErrorToken
	}
	// The content of some elements is raw text (RCDATA for title and
	// textarea), read by the next call.
	name := z.doc[z.data.start:z.data.end]
	switch len(name) {
	case 3:
		z.setRawTag(name, "xmp")
	case 5:
		z.setRawTag(name, "style", "title")
	case 6:
		z.setRawTag(name, "iframe", "script")
	case 7:
		z.setRawTag(name, "noembed")
	case 8:
		z.setRawTag(name, "noframes", "noscript", "textarea")
	case 9:
		z.setRawTag(name, "plaintext")
	}
	// A tag ending in "/>" is self-closing unless the '/' ends the value of
	// its last attribute (<p a=/>).
	if p := z.pos - 2; z.doc[p] == '/' {
		attrs := z.tagAttrs()
		if len(attrs) == 0 || p != attrs[len(attrs)-1].val.end-1 {
			return html.SelfClosingTagToken
		}
	}
	return html.StartTagToken
}

// setRawTag sets rawTag to the one of names that name is, in any case.
func (z *tokenizer) setRawTag(name []byte, names ...string) {
	for _, s := range names {
		if equalFold(name, s) {
			z.rawTag = s
			return
		}
	}
}

// readTag reads a tag's name and attributes, up to and including the '>'
// that ends it; the first letter of the name has been read. It records the
// attributes of a start tag (save). It reports false when the document
// ends first.
func (z *tokenizer) readTag(save bool) bool {
	d, n := z.doc, len(z.doc)
	p := z.pos
	z.data.start = p - 1
	for p < n && byteClass[d[p]]&endsName == 0 {
		p++
	}
	if p >= n {
		return false
	}
	z.data.end = p
	if isSpace(d[p]) {
		p++
	}
	for {
		if p = z.skipSpace(p); p >= n {
			return false
		}
		if d[p] == '>' {
			z.pos = p + 1
			return true
		}
		// The name runs to white space, '/', '>' or an '=' that is not
		// its first byte. A '/' of its own is a name of none.
		k0 := p
		if d[p] == '=' {
			p++
		}
		for p < n && byteClass[d[p]]&endsKey == 0 {
			p++
		}
		if p >= n {
			return false
		}
		a := attrSpan{key: span{k0, p}, val: span{p, p}}
		// The value follows an '=', quoted or up to white space or '>'.
		if p = z.skipSpace(p); p >= n {
			return false
		}
		switch d[p] {
		case '/':
			p++
		case '=':
			if p = z.skipSpace(p + 1); p >= n {
				return false
			}
			switch q := d[p]; q {
			case '>':
			case '"', '\'':
				i := bytes.IndexByte(d[p+1:], q)
				if i < 0 {
					return false
				}
				a.val = span{p + 1, p + 1 + i}
				p += i + 2
			default:
				v0 := p
				for p < n && byteClass[d[p]]&endsUnquoted == 0 {
					p++
				}
				if p >= n {
					return false
				}
				a.val = span{v0, p}
				if d[p] != '>' {
					p++
				}
			}
		}
		if save && a.key.end > a.key.start {
			z.attrs = append(z.attrs, a)
		}
	}
}

// tagAttrs returns the attributes of the current start tag, without those
// whose name repeats an earlier one's.
func (z *tokenizer) tagAttrs() []attrSpan {
	if z.deduped {
		return z.attrs
	}
	z.deduped = true
	if len(z.attrs) <= maxLinearDedup {
		kept := z.attrs[:0]
	attrs:
		for _, a := range z.attrs {
			k := z.doc[a.key.start:a.key.end]
			for _, b := range kept {
				if equalFold(k, z.doc[b.key.start:b.key.end]) {
					continue attrs
				}
			}
			kept = append(kept, a)
		}
		z.attrs = kept
		return kept
	}
	if z.seen == nil {
		z.seen = make(map[string]struct{})
	}
	clear(z.seen)
	kept := z.attrs[:0]
	var key []byte
	for _, a := range z.attrs {
		key = append(key[:0], z.doc[a.key.start:a.key.end]...)
		for i, c := range key {
			key[i] = lowerASCII(c)
		}
		if _, dup := z.seen[string(key)]; !dup {
			k := string(key)
			z.seen[k] = struct{}{}
			kept = append(kept, a)
		}
	}
	z.attrs = kept
	return kept
}

// readUntilCloseAngle reads a bogus comment: its text runs from the
// current position to the next '>' or the end.
func (z *tokenizer) readUntilCloseAngle() {
	z.data.start = z.pos
	if i := bytes.IndexByte(z.doc[z.pos:], '>'); i >= 0 {
		z.data.end = z.pos + i
		z.pos += i + 1
		return
	}
	z.pos, z.data.end = len(z.doc), len(z.doc)
}

// readMarkupDeclaration reads a token starting with "<!", which has been
// read: a comment, a doctype, a CDATA section or a bogus comment.
func (z *tokenizer) readMarkupDeclaration() html.TokenType {
	d, n := z.doc, len(z.doc)
	p := z.pos
	z.data.start = p
	if n-p < 2 {
		// A bogus comment cut short, without a final '>'.
		z.pos, z.data.end = n, n
		if n-p == 1 && d[p] == '>' {
			z.data.end--
		}
		return html.CommentToken
	}
	if d[p] == '-' && d[p+1] == '-' {
		z.pos += 2
		z.readComment()
		return html.CommentToken
	}
	if n-p >= len("DOCTYPE") && equalFold(d[p:p+len("DOCTYPE")], "doctype") {
		p = z.skipSpace(p + len("DOCTYPE"))
		if p >= n {
			z.pos, z.data = n, span{n, n}
			return html.DoctypeToken
		}
		z.pos = p
		z.readUntilCloseAngle()
		return html.DoctypeToken
	}
	if z.allowCDATA && bytes.HasPrefix(d[p:], []byte("[CDATA[")) {
		z.readCDATA(p + len("[CDATA["))
		z.convertNUL = true
		return html.TextToken
	}
	z.readUntilCloseAngle()
	return html.CommentToken
}

// readCDATA reads the content of a CDATA section from p, up to "]]>" or
// the end.
func (z *tokenizer) readCDATA(p int) {
	d := z.doc
	z.data.start = p
	for {
		i := bytes.IndexByte(d[p:], '>')
		if i < 0 {
			z.pos, z.data.end = len(d), len(d)
			return
		}
		p += i + 1
		if gt := p - 1; gt-2 >= z.data.start && d[gt-1] == ']' && d[gt-2] == ']' {
			z.pos, z.data.end = p, gt-2
			return
		}
	}
}

// readComment reads a comment after its "<!--": up to "-->" or "--!>", or
// a '>' right at the start ("<!-->", "<!--->"), or the end.
func (z *tokenizer) readComment() {
	d, n := z.doc, len(z.doc)
	z.data.start = z.pos
	dashes := 0
	beginning := true
	for p := z.pos; p < n; {
		c := d[p]
		p++
		switch c {
		case '-':
			dashes++
			continue
		case '>':
			if dashes >= 2 || beginning {
				z.pos, z.data.end = p, max(p-len("-->"), z.data.start)
				return
			}
		case '!':
			if dashes >= 2 {
				if p >= n {
					break
				}
				c = d[p]
				p++
				if c == '>' {
					z.pos, z.data.end = p, max(p-len("--!>"), z.data.start)
					return
				}
				if c == '-' {
					dashes, beginning = 1, false
					continue
				}
			}
		}
		dashes, beginning = 0, false
	}
	// The end: a final "-", "--" or "--!" is not text.
	z.pos = n
	end := n
	switch rest := d[z.data.start:]; {
	case bytes.HasSuffix(rest, []byte("--!")):
		end -= 3
	case bytes.HasSuffix(rest, []byte("--")):
		end -= 2
	case bytes.HasSuffix(rest, []byte("-")):
		end--
	}
	z.data.end = max(end, z.data.start)
}

// readRawText reads the raw text or RCDATA content of the element rawTag
// (other than plaintext) up to its end tag, or the end of the document.
func (z *tokenizer) readRawText() {
	if z.rawTag == "script" {
		z.readScript()
		z.data.end = z.pos
		z.textIsRaw = true
		z.rawTag = ""
		return
	}
	d, n := z.doc, len(z.doc)
	p := z.pos
	for {
		i := bytes.IndexByte(d[p:], '<')
		if i < 0 {
			p = n
			break
		}
		p += i + 1
		if p < n && d[p] == '/' {
			var found bool
			if p, found = z.rawEndTag(p + 1); found {
				break
			}
		}
	}
	z.pos, z.data.end = p, p
	// Title and textarea content (RCDATA) may hold character references.
	z.textIsRaw = z.rawTag != "textarea" && z.rawTag != "title"
	z.rawTag = ""
}

// rawEndTag looks for the end tag of rawTag at p, just after a "</". When
// it is there, followed by white space, '/' or '>', it returns the
// position of the "</" and true; otherwise where to read on from (the
// first byte that did not match, or the end).
func (z *tokenizer) rawEndTag(p int) (int, bool) {
	d, n := z.doc, len(z.doc)
	for i := 0; i < len(z.rawTag); i++ {
		if p >= n {
			return n, false
		}
		if c := d[p]; c != z.rawTag[i] && c != z.rawTag[i]-('a'-'A') {
			return p, false
		}
		p++
	}
	if p >= n {
		return n, false
	}
	if c := d[p]; isSpace(c) || c == '/' || c == '>' {
		return p - len(z.rawTag) - 2, true
	}
	return p, false
}

// States of script data, as the HTML standard's tokenizer names them.
const (
	scriptData = iota
	scriptDataEscaped
	scriptDataEscapedDash
	scriptDataEscapedDashDash
	scriptDataDoubleEscaped
	scriptDataDoubleEscapedDash
	scriptDataDoubleEscapedDashDash
)

// readScript reads script content up to its </script>, following the
// standard's rules for "<!--" and "<script" inside scripts, and leaves
// pos at the end tag or the end of the document.
func (z *tokenizer) readScript() {
	d, n := z.doc, len(z.doc)
	p := z.pos
	state := scriptData
	for {
		if state == scriptData {
			i := bytes.IndexByte(d[p:], '<')
			if i < 0 {
				z.pos = n
				return
			}
			p += i + 1
		} else {
			if p >= n {
				z.pos = n
				return
			}
			c := d[p]
			p++
			switch {
			case c == '-' && state == scriptDataEscapedDashDash:
			case c == '-' && state == scriptDataDoubleEscapedDashDash:
			case c == '-':
				state++ // to ...Dash, or from ...Dash to ...DashDash
			case c == '>' && (state == scriptDataEscapedDashDash || state == scriptDataDoubleEscapedDashDash):
				state = scriptData
			case c == '<':
			default:
				if state <= scriptDataEscapedDashDash {
					state = scriptDataEscaped
				} else {
					state = scriptDataDoubleEscaped
				}
			}
			if c != '<' {
				continue
			}
		}
		// After a '<'.
		if p >= n {
			z.pos = n
			return
		}
		c := d[p]
		p++
		switch state {
		case scriptData:
			switch c {
			case '/':
				q, found := z.rawEndTag(p)
				if found || q >= n {
					z.pos = q
					return
				}
				p = q
			case '!':
				// "<!--" starts escaped script data.
				if p >= n {
					z.pos = n
					return
				}
				if d[p] != '-' {
					continue
				}
				if p++; p >= n {
					z.pos = n
					return
				}
				if d[p] != '-' {
					continue
				}
				p++
				state = scriptDataEscapedDashDash
			default:
				p--
			}
		case scriptDataEscaped, scriptDataEscapedDash, scriptDataEscapedDashDash:
			switch {
			case c == '/':
				q, found := z.rawEndTag(p)
				if found || q >= n {
					z.pos = q
					return
				}
				p = q
				state = scriptDataEscaped
			case isASCIILetter(c):
				// "<script" followed by white space, '/' or '>' starts
				// double-escaped script data.
				p--
				state = scriptDataEscaped
				i := 0
				for ; i < len("script"); i++ {
					if p >= n {
						z.pos = n
						return
					}
					if c := d[p]; c != "script"[i] && c != "SCRIPT"[i] {
						break
					}
					p++
				}
				if i < len("script") {
					continue
				}
				if p >= n {
					z.pos = n
					return
				}
				if c := d[p]; isSpace(c) || c == '/' || c == '>' {
					p++
					state = scriptDataDoubleEscaped
				}
			default:
				p--
				state = scriptData
			}
		default: // double-escaped
			if c != '/' {
				p--
				state = scriptDataDoubleEscaped
				continue
			}
			q, found := z.rawEndTag(p)
			switch {
			case found:
				// "</script" ends the double escape, not the script.
				p = q + len("</script>")
				state = scriptDataEscaped
			case q >= n:
				z.pos = n
				return
			default:
				p = q
				state = scriptDataDoubleEscaped
			}
		}
	}
}

// tagName returns the lowercased name of the current tag, with NULs
// replaced by U+FFFD.
func (z *tokenizer) tagName() []byte {
	name := z.doc[z.data.start:z.data.end]
	for _, c := range name {
		if 'A' <= c && c <= 'Z' || c == 0 {
			return lowerName(&z.scratch, name)
		}
	}
	return name
}

// attrKey returns the lowercased name of attribute a, with NULs replaced
// by U+FFFD.
func (z *tokenizer) attrKey(a attrSpan) []byte {
	k := z.doc[a.key.start:a.key.end]
	for _, c := range k {
		if 'A' <= c && c <= 'Z' || c == 0 {
			return lowerName(&z.scratch, k)
		}
	}
	return k
}

// lowerName appends name to *buf, lowercased and with NULs replaced, and
// returns the copy.
func lowerName(buf *[]byte, name []byte) []byte {
	b := *buf
	start := len(b)
	for _, c := range name {
		switch {
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == 0:
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, c)
		}
	}
	*buf = b
	return b[start:len(b):len(b)]
}

// attrVal returns the value of attribute a: with newlines normalized,
// NULs replaced and character references resolved as in attribute values.
// It stays valid as long as the tokenizer.
func (z *tokenizer) attrVal(a attrSpan) []byte {
	return z.decode(&z.values, z.doc[a.val.start:a.val.end], true, true, true)
}

// hasAttr reports whether the current start tag has an attribute named
// key (lowercase), in any case.
func (z *tokenizer) hasAttr(key string) bool {
	for _, a := range z.attrs {
		if equalFold(z.doc[a.key.start:a.key.end], key) {
			return true
		}
	}
	return false
}

// text returns the text of the current text, comment or doctype token:
// newlines normalized, and NULs and character references replaced where
// html.Tokenizer.Text replaces them.
func (z *tokenizer) text() []byte {
	switch z.tt {
	case html.TextToken, html.CommentToken, html.DoctypeToken:
		return z.decode(&z.scratch, z.doc[z.data.start:z.data.end], z.convertNUL || z.tt == html.CommentToken, !z.textIsRaw, false)
	}
	return nil
}

// decode returns s with "\r\n" and "\r" turned into "\n", NULs into U+FFFD
// (nul), and character references into what they stand for (refs), read
// as in an attribute value or in text. s itself is returned when nothing
// changes, else a copy appended to *buf.
func (z *tokenizer) decode(buf *[]byte, s []byte, nul, refs, attribute bool) []byte {
	// The next carriage return, NUL and '&', or len(s) if there is none
	// (or it does not count).
	cr, nl, amp := indexOr(s, 0, '\r', true), indexOr(s, 0, 0, nul), indexOr(s, 0, '&', refs)
	i := min(cr, nl, amp)
	if i == len(s) {
		return s
	}
	start := len(*buf)
	out := append(*buf, s[:i]...)
	for i < len(s) {
		switch i {
		case cr:
			out = append(out, '\n')
			if i++; i < len(s) && s[i] == '\n' {
				i++
			}
		case nl:
			out = append(out, "\uFFFD"...)
			i++
		case amp:
			out, i = z.appendCharRef(out, s, i, attribute)
		}
		if cr < i {
			cr = indexOr(s, i, '\r', true)
		}
		if nl < i {
			nl = indexOr(s, i, 0, nul)
		}
		if amp < i {
			amp = indexOr(s, i, '&', refs)
		}
		next := min(cr, nl, amp)
		out = append(out, s[i:next]...)
		i = next
	}
	*buf = out
	return out[start:len(out):len(out)]
}

// indexOr returns the index of the first c in s at or after from, or
// len(s) if there is none or if !ok.
func indexOr(s []byte, from int, c byte, ok bool) int {
	if ok {
		if i := bytes.IndexByte(s[from:], c); i >= 0 {
			return from + i
		}
	}
	return len(s)
}

// appendCharRef appends what the character reference at s[i] (an '&')
// stands for, or the '&' when none starts there, and returns where to read
// on. A numeric reference is read here; a named one is looked up in
// x/net/html's table, except for the most common ones (see namedRef).
func (z *tokenizer) appendCharRef(out, s []byte, i int, attribute bool) ([]byte, int) {
	r := s[i:]
	if len(r) >= 3 && r[1] == '#' {
		return appendNumericRef(out, r, i)
	}
	// The name is the longest run of ASCII letters and digits, and a ';'
	// after it.
	j := 1
	for j < len(r) && (isASCIILetter(r[j]) || '0' <= r[j] && r[j] <= '9') {
		j++
	}
	if j < len(r) && r[j] == ';' {
		j++
	}
	name := r[1:j]
	if len(name) == 0 ||
		attribute && name[len(name)-1] != ';' && j < len(r) && r[j] == '=' {
		// In an attribute value, "&name=" (a query string) is text.
		return append(out, '&'), i + 1
	}
	if v := namedRef(name); v != "" {
		return append(out, v...), i + j
	}
	return z.appendRareRef(out, r[:j], attribute), i + j
}

// appendNumericRef appends what the numeric character reference at the
// start of r ("&#" and at least one more byte) stands for, and returns
// where to read on in the text r starts at offset i of.
func appendNumericRef(out, r []byte, i int) ([]byte, int) {
	j := 2
	hex := r[j] == 'x' || r[j] == 'X'
	if hex {
		j++
	}
	j0 := j
	var x rune
digits:
	for ; j < len(r); j++ {
		var d rune
		switch c := r[j]; {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case hex && 'a' <= c|0x20 && c|0x20 <= 'f':
			d = rune(c|0x20-'a') + 10
		default:
			break digits
		}
		if x <= utf8.MaxRune { // beyond, it stays invalid
			if hex {
				x = x*16 + d
			} else {
				x = x*10 + d
			}
		}
	}
	if j == j0 {
		return append(out, '&'), i + 1
	}
	if j < len(r) && r[j] == ';' {
		j++
	}
	switch {
	case 0x80 <= x && x <= 0x9F:
		x = windows1252[x-0x80]
	case x == 0, 0xD800 <= x && x <= 0xDFFF, x > utf8.MaxRune:
		x = utf8.RuneError
	}
	return utf8.AppendRune(out, x), i + j
}

// windows1252 maps the numeric references &#x80; to &#x9F; to the
// characters windows-1252 has there, as the HTML standard does.
var windows1252 = [32]rune{
	'\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
	'\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
	'\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
	'\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
}

// namedRef returns the value of the most common named character
// references, written with their ';', or "". TestNamedRefs checks them
// against x/net/html's table.
func namedRef(name []byte) string {
	switch string(name) {
	case "amp;":
		return "&"
	case "lt;":
		return "<"
	case "gt;":
		return ">"
	case "quot;":
		return `"`
	case "apos;":
		return "'"
	case "nbsp;":
		return "\u00A0"
	case "copy;":
		return "\u00A9"
	case "reg;":
		return "\u00AE"
	case "trade;":
		return "\u2122"
	case "ndash;":
		return "\u2013"
	case "mdash;":
		return "\u2014"
	case "hellip;":
		return "\u2026"
	case "laquo;":
		return "\u00AB"
	case "raquo;":
		return "\u00BB"
	case "lsquo;":
		return "\u2018"
	case "rsquo;":
		return "\u2019"
	case "ldquo;":
		return "\u201C"
	case "rdquo;":
		return "\u201D"
	case "bull;":
		return "\u2022"
	case "middot;":
		return "\u00B7"
	case "times;":
		return "\u00D7"
	case "euro;":
		return "\u20AC"
	}
	return ""
}

// appendRareRef appends what the named character reference ref ("&name"
// or "&name;") stands for, read by x/net/html, whose table of the 2,231
// names this package does not repeat. A reference is decoded the same
// wherever it stands: in text, a name that is none may start with one
// ("&notit;" is "¬it;"), which only looks at ref; in an attribute value,
// where that does not apply, only the byte after it counts, and
// appendCharRef has looked at it.
func (z *tokenizer) appendRareRef(out, ref []byte, attribute bool) []byte {
	if !attribute {
		return append(out, html.UnescapeString(string(ref))...)
	}
	// html.Tokenizer is the only public way to decode an attribute
	// value: it reads <a a="&name"> from refTags, one tag at a time.
	if z.refs == nil {
		z.refs = html.NewTokenizer(&z.refTags)
	}
	z.refTag = append(append(append(z.refTag[:0], `<a a="`...), ref...), `">`...)
	z.refTags = z.refTag
	z.refs.Next()
	_, v, _ := z.refs.TagAttr()
	return append(out, v...)
}

// refTags is an io.Reader of the tags appendRareRef gives html.Tokenizer
// to read. It is empty when the tokenizer has read a tag: the tokenizer
// stops at the tag's '>' and asks for more only when given the next.
type refTags []byte

func (r *refTags) Read(p []byte) (int, error) {
	if len(*r) == 0 {
		return 0, io.EOF
	}
	n := copy(p, *r)
	*r = (*r)[n:]
	return n, nil
}
