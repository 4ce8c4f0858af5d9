package parse

import (
	"bytes"
	"slices"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// This file holds the tree construction rules of the HTML standard as
// golang.org/x/net/html implements them with scripting disabled, applied to
// a stack of open elements instead of a tree (see stream.go). They decide
// which elements are open at each token: whether text is visible, inside
// SVG, MathML or a template, and which links it belongs to. x/net/html
// stops reading a document that opens a <template> inside SVG or MathML;
// the reader goes on.

// maxScan is how many open elements a search from the top of the stack looks
// at before giving up, which bounds the cost of each token.
const maxScan = 512

// namespace is an element's namespace.
type namespace uint8

const (
	nsHTML namespace = iota
	nsSVG
	nsMath
)

// elemFlags describe an open element.
type elemFlags uint16

const (
	fInvisible elemFlags = 1 << iota // its content is never rendered as text
	fBoiler                          // nav or aside
	fChrome                          // header or footer
	fSpecial                         // "special" in the HTML parsing algorithm
	fInline                          // text on either side joins without a space
	fHTMLPoint                       // an HTML integration point in SVG or MathML
	fTextPoint                       // a MathML text integration point
	fAnchor                          // an <a> whose text a link collects
	fArticle                         // an HTML <article>
)

// elem is an open element.
type elem struct {
	atom   atom.Atom // of the lowercased tag name; 0 if it has none
	hash   uint32    // of the lowercased tag name if it has no atom, else 0
	serial uint32    // identifies the element in the list of active formatting elements
	ns     namespace
	flags  elemFlags
	// hides is how many invisible elements taken off the stack below it
	// (see detach) it is still inside.
	hides uint8
}

// formatting is an entry of the list of active formatting elements: a scope
// marker (set by table cells, captions, templates, applets, marquees and
// objects) or a formatting element (a, b, i, font and the like) that is
// reopened, as a clone, when content follows the end of an element that
// closed it.
type formatting struct {
	marker bool
	open   bool // the element is on the stack
	hidden bool
	atom   atom.Atom
	serial uint32 // of the element (or the latest clone) standing for it
	attrs  uint64 // a hash of the attributes, to tell identical elements
	// For <a>: the link that each clone makes again.
	link bool   // href is a link target
	href []byte // as for streamReader.addLink
	rel  string
}

// maxFormatting bounds the formatting elements after the last marker. The
// HTML standard keeps up to three identical ones, but any number of
// distinct ones; beyond this many, the oldest are no longer reopened.
const maxFormatting = 64

// Insertion modes, as in the HTML standard, merged where the facts do not
// tell them apart.
type insertionMode uint8

const (
	modeInitial insertionMode = iota // initial, before html, before head
	modeInHead
	modeInHeadNoscript
	modeAfterHead
	modeInBody // also after body and after after body
	modeInTable
	modeInCaption
	modeInColumnGroup
	modeInTableBody
	modeInRow
	modeInCell
	modeInTemplate
	modeInFrameset
	modeAfterFrameset
)

// dispatch runs the current token through the tree construction rules until
// one consumes it. The bound on reprocessing is a guard: the rules never
// reprocess a token more than a few times.
func (s *streamReader) dispatch() {
	for range 16 {
		var done bool
		if s.inForeignContent() {
			done = s.foreignContent()
		} else {
			done = s.modeRules(s.mode)
		}
		if done {
			return
		}
	}
}

// modeRules applies the rules of insertion mode m and reports whether the
// token was consumed.
func (s *streamReader) modeRules(m insertionMode) bool {
	switch m {
	case modeInitial:
		return s.initial()
	case modeInHead:
		return s.inHead()
	case modeInHeadNoscript:
		return s.inHeadNoscript()
	case modeAfterHead:
		return s.afterHead()
	case modeInTable:
		return s.inTable()
	case modeInCaption:
		return s.inCaption()
	case modeInColumnGroup:
		return s.inColumnGroup()
	case modeInTableBody:
		return s.inTableBody()
	case modeInRow:
		return s.inRow()
	case modeInCell:
		return s.inCell()
	case modeInTemplate:
		return s.inTemplate()
	case modeInFrameset, modeAfterFrameset:
		return s.inFrameset()
	}
	return s.inBody()
}

// isStart reports whether the current token is a start tag for one of as.
func (s *streamReader) isStart(as ...atom.Atom) bool {
	return s.tt == html.StartTagToken && isOneOf(s.tag, as)
}

// isEnd reports whether the current token is an end tag for one of as.
func (s *streamReader) isEnd(as ...atom.Atom) bool {
	return s.tt == html.EndTagToken && isOneOf(s.tag, as)
}

func isOneOf(a atom.Atom, as []atom.Atom) bool {
	if a == 0 {
		return false
	}
	for _, x := range as {
		if a == x {
			return true
		}
	}
	return false
}

// initial covers the initial, before html and before head modes: nothing
// but <html> and <head> tags, comments and white space has been read.
func (s *streamReader) initial() bool {
	if s.tt != html.TextToken {
		s.docStarted = true
	}
	switch s.tt {
	case html.TextToken:
		s.data = trimLeftSpace(s.text())
		if len(s.data) == 0 {
			return true
		}
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			s.docStarted = true
			s.htmlStart()
			return true
		case atom.Head:
			s.docStarted = true
			s.mode, s.headOpen = modeInHead, true
			return true
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Head, atom.Body, atom.Html, atom.Br:
		default:
			return true // ignored
		}
	}
	s.docStarted = true
	s.mode, s.headOpen = modeInHead, true
	return false
}

// inHead is the in head mode.
func (s *streamReader) inHead() bool {
	switch s.tt {
	case html.TextToken:
		s.data = trimLeftSpace(s.text())
		if len(s.data) == 0 {
			return true
		}
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			s.htmlStart()
			return true
		case atom.Base, atom.Basefont, atom.Bgsound, atom.Link, atom.Meta:
			s.emptyElement()
			return true
		case atom.Noscript:
			// With scripting disabled its content is markup, which
			// stays in the head only while it is head content.
			s.mode = modeInHeadNoscript
			s.z.nextIsNotRawText()
			return true
		case atom.Script, atom.Title, atom.Noframes, atom.Style:
			s.rawElement()
			return true
		case atom.Head:
			return true
		case atom.Template:
			s.templateStart()
			return true
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Head:
			s.mode, s.headOpen = modeAfterHead, false
			return true
		case atom.Body, atom.Html, atom.Br:
		case atom.Template:
			s.templateEnd()
			return true
		default:
			return true // ignored
		}
	}
	s.mode, s.headOpen = modeAfterHead, false
	return false
}

// inHeadNoscript is the in head noscript mode: a <noscript> in the head
// holds head content only; anything else closes it.
func (s *streamReader) inHeadNoscript() bool {
	switch s.tt {
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			s.htmlStart()
			return true
		case atom.Basefont, atom.Bgsound, atom.Link, atom.Meta, atom.Noframes, atom.Style:
			return s.inHead()
		case atom.Head:
			return true
		case atom.Noscript:
			s.z.nextIsNotRawText()
			return true
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Noscript:
			s.mode = modeInHead
			return true
		case atom.Br:
		default:
			return true // ignored
		}
	case html.TextToken:
		if len(trimLeftSpace(s.text())) == 0 {
			return true
		}
	}
	s.mode = modeInHead
	return false
}

// afterHead is the after head mode.
func (s *streamReader) afterHead() bool {
	switch s.tt {
	case html.TextToken:
		s.data = trimLeftSpace(s.text())
		if len(s.data) == 0 {
			return true
		}
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			s.htmlStart()
			return true
		case atom.Body:
			s.startBody()
			s.framesetOK = false
			s.docHidden = s.docHidden || s.hidden()
			return true
		case atom.Frameset:
			s.framesetStart()
			return true
		case atom.Base, atom.Basefont, atom.Bgsound, atom.Link, atom.Meta, atom.Noframes,
			atom.Script, atom.Style, atom.Template, atom.Title:
			return s.inHead()
		case atom.Head:
			return true
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Body, atom.Html, atom.Br:
		case atom.Template:
			return s.inHead()
		default:
			return true // ignored
		}
	}
	s.startBody()
	return false
}

// inBody is the in body mode, which most content goes through.
func (s *streamReader) inBody() bool {
	switch s.tt {
	case html.TextToken:
		s.bodyText()
	case html.StartTagToken:
		s.bodyStartTag()
	case html.EndTagToken:
		return s.bodyEndTag()
	}
	return true
}

// bodyStartTag handles a start tag in body.
func (s *streamReader) bodyStartTag() {
	switch s.tag {
	case atom.Html:
		if s.templates == 0 {
			s.htmlStart()
		}
	case atom.Base, atom.Basefont, atom.Bgsound, atom.Link, atom.Meta, atom.Noframes,
		atom.Script, atom.Style, atom.Template, atom.Title:
		s.inHead()
	case atom.Body:
		// Its attributes go to the body element, which may be hidden.
		if s.templates == 0 {
			s.framesetOK = false
			s.docHidden = s.docHidden || s.hidden()
		}
	case atom.Frameset:
		if s.framesetOK && s.templates == 0 && s.foreign == 0 {
			s.framesetStart()
		}
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure,
		atom.Footer, atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P,
		atom.Search, atom.Section, atom.Summary, atom.Ul:
		s.closeP()
		s.pushTag()
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		s.closeP()
		if t := s.top(); t != nil && isHeading(t.atom) {
			s.pop()
		}
		s.pushTag()
	case atom.Pre, atom.Listing:
		s.closeP()
		s.pushTag()
		s.framesetOK = false
	case atom.Form:
		if s.formOpen && s.templates == 0 {
			return
		}
		s.closeP()
		s.pushTag()
		if s.templates == 0 {
			s.formOpen = true
		}
	case atom.Li, atom.Dd, atom.Dt:
		s.framesetOK = false
		s.closeListItem()
		s.closeP()
		s.pushTag()
	case atom.Plaintext:
		// The rest of the document is its text, read as any text is.
		s.closeP()
		s.pushTag()
	case atom.Button:
		if i := s.find(scopeDefault, atom.Button); i >= 0 {
			s.generateImpliedEndTags(0)
			s.popTo(i)
		}
		s.reconstruct()
		s.pushTag()
		s.framesetOK = false
	case atom.A:
		s.aStart()
	case atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S, atom.Small,
		atom.Strike, atom.Strong, atom.Tt, atom.U:
		s.formattingStart()
	case atom.Applet, atom.Marquee, atom.Object:
		s.reconstruct()
		s.pushTag()
		s.afe = append(s.afe, formatting{marker: true})
		s.framesetOK = false
	case atom.Table:
		if !s.quirks {
			s.closeP()
		}
		s.pushTag()
		s.framesetOK = false
		s.mode = modeInTable
	case atom.Area, atom.Br, atom.Embed, atom.Img, atom.Image, atom.Keygen, atom.Wbr:
		if s.tag == atom.Image {
			s.tag = atom.Img
		}
		s.reconstruct()
		s.emptyElement()
		s.framesetOK = false
	case atom.Input:
		if s.selects > 0 {
			if i := s.find(scopeDefault, atom.Select); i >= 0 {
				s.popTo(i)
			}
		}
		s.reconstruct()
		s.emptyElement()
		if !s.attrs().hiddenInput {
			s.framesetOK = false
		}
	case atom.Param, atom.Source, atom.Track:
		s.emptyElement()
	case atom.Hr:
		if i := s.find(scopeButton, atom.P); i >= 0 {
			s.generateImpliedEndTags(atom.P)
			if i := s.find(scopeDefault, atom.P); i >= 0 {
				s.popTo(i)
			}
		}
		if s.selects > 0 && s.find(scopeDefault, atom.Select) >= 0 {
			s.generateImpliedEndTags(0)
		}
		s.emptyElement()
		s.framesetOK = false
	case atom.Textarea, atom.Iframe:
		s.framesetOK = false
		s.rawElement()
	case atom.Xmp:
		s.closeP()
		s.reconstruct()
		s.framesetOK = false
		s.rawElement()
	case atom.Noembed:
		s.rawElement()
	case atom.Noscript:
		// Scripting is disabled: the content is markup.
		s.reconstruct()
		s.pushTag()
		s.z.nextIsNotRawText()
	case atom.Select:
		if s.selects > 0 {
			if i := s.find(scopeDefault, atom.Select); i >= 0 {
				s.popTo(i)
				return
			}
		}
		s.reconstruct()
		s.pushTag()
		s.framesetOK = false
	case atom.Option, atom.Optgroup:
		if s.selects > 0 && s.find(scopeDefault, atom.Select) >= 0 {
			if s.tag == atom.Option {
				s.generateImpliedEndTags(atom.Optgroup)
			} else {
				s.generateImpliedEndTags(0)
			}
		} else if t := s.top(); t != nil && t.atom == atom.Option {
			s.pop()
		}
		s.reconstruct()
		s.pushTag()
	case atom.Rb, atom.Rtc, atom.Rp, atom.Rt:
		if s.find(scopeDefault, atom.Ruby) >= 0 {
			if s.tag == atom.Rp || s.tag == atom.Rt {
				s.generateImpliedEndTags(atom.Rtc)
			} else {
				s.generateImpliedEndTags(0)
			}
		}
		s.pushTag()
	case atom.Math, atom.Svg:
		s.reconstruct()
		ns := nsSVG
		if s.tag == atom.Math {
			ns = nsMath
		}
		s.pushForeign(ns)
	case atom.Caption, atom.Col, atom.Colgroup, atom.Frame, atom.Head, atom.Tbody, atom.Td,
		atom.Tfoot, atom.Th, atom.Thead, atom.Tr:
		// Ignored outside tables and framesets.
	default:
		s.reconstruct()
		s.pushTag()
	}
}

// bodyEndTag handles an end tag in body and reports whether it was
// consumed.
func (s *streamReader) bodyEndTag() bool {
	switch s.tag {
	case atom.Body, atom.Html:
		// The body stays open: what follows is still its content.
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Button, atom.Center,
		atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption,
		atom.Figure, atom.Footer, atom.Header, atom.Hgroup, atom.Listing, atom.Main, atom.Menu,
		atom.Nav, atom.Ol, atom.Pre, atom.Search, atom.Section, atom.Select, atom.Summary, atom.Ul:
		if i := s.find(scopeDefault, s.tag); i >= 0 {
			s.generateImpliedEndTags(0)
			s.popTo(i)
		}
	case atom.Form:
		i := s.find(scopeDefault, atom.Form)
		if s.templates == 0 {
			open := s.formOpen
			s.formOpen = false
			if !open || i < 0 {
				return true
			}
			s.generateImpliedEndTags(0)
			if i < len(s.stack) {
				s.detach(i)
			}
			return true
		}
		if i >= 0 {
			s.generateImpliedEndTags(0)
			if i < len(s.stack) && s.stack[i].atom == atom.Form {
				s.popTo(i)
			}
		}
	case atom.P:
		if s.find(scopeButton, atom.P) < 0 {
			// An empty paragraph is opened, which may end SVG or
			// MathML content.
			s.tt = html.StartTagToken
			s.attrsRead, s.attr = true, tagAttrs{}
			s.dispatch()
			s.tt = html.EndTagToken
		}
		s.closeP()
	case atom.Li:
		if i := s.find(scopeListItem, atom.Li); i >= 0 {
			s.popTo(i)
		}
	case atom.Dd, atom.Dt:
		if i := s.find(scopeDefault, s.tag); i >= 0 {
			s.popTo(i)
		}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		if i := s.find(scopeDefault, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6); i >= 0 {
			s.popTo(i)
		}
	case atom.A, atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S,
		atom.Small, atom.Strike, atom.Strong, atom.Tt, atom.U:
		s.formattingEnd()
	case atom.Applet, atom.Marquee, atom.Object:
		if i := s.find(scopeDefault, s.tag); i >= 0 {
			s.popTo(i)
			s.clearToMarker()
		}
	case atom.Br:
		// </br> is read as <br>.
		s.tt = html.StartTagToken
		s.attrsRead, s.attr = true, tagAttrs{}
		return false
	case atom.Template:
		s.templateEnd()
	default:
		s.endTagOther()
	}
	return true
}

// endTagOther closes the innermost open element named like the end tag,
// unless a special element comes first.
func (s *streamReader) endTagOther() {
	for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
		e := &s.stack[i]
		if e.ns == nsHTML && e.atom == s.tag && (s.tag != 0 || e.hash == s.hash) {
			s.popTo(i)
			return
		}
		if e.flags&fSpecial != 0 {
			return
		}
	}
}

// aStart handles <a>. An <a> still active closes first: links do not nest.
func (s *streamReader) aStart() {
	if k := s.activeFormatting(atom.A); k >= 0 {
		if f := s.afe[k]; f.open {
			if i := s.indexOf(f.serial); i >= 0 {
				if s.inScope(i) {
					s.adopt(i)
				} else {
					s.detach(i)
				}
			}
		}
		s.afe = append(s.afe[:k], s.afe[k+1:]...)
	}
	s.reconstruct()
	a := s.attrs()
	f := formatting{open: true, hidden: a.hidden, atom: atom.A, attrs: a.hash, rel: relValue(a.rel)}
	if a.hasHref {
		f.href, f.link = a.href, hasTarget(a.href)
	}
	s.pushFormatting(f)
	if f.link && s.factsOn() {
		s.startLink(len(s.stack)-1, f.href, f.rel)
	}
}

// formattingStart handles the start tag of a formatting element other than
// <a>.
func (s *streamReader) formattingStart() {
	s.reconstruct()
	if s.tag == atom.Nobr && s.find(scopeDefault, atom.Nobr) >= 0 {
		s.formattingEnd()
		s.reconstruct()
	}
	a := s.attrs()
	s.pushFormatting(formatting{open: true, hidden: a.hidden, atom: s.tag, attrs: a.hash})
}

// pushFormatting opens a formatting element and makes it active.
func (s *streamReader) pushFormatting(f formatting) {
	s.push(elem{atom: f.atom, flags: elemFlagsFor(f.atom, f.hidden)})
	f.serial = s.serial
	// The "Noah's Ark" clause: of identical elements, only the last three
	// stay active.
	same, after := 0, 0
	for k := len(s.afe) - 1; k >= 0 && !s.afe[k].marker; k-- {
		after++
		if g := &s.afe[k]; g.atom == f.atom && g.attrs == f.attrs {
			if same++; same >= 3 {
				s.afe = append(s.afe[:k], s.afe[k+1:]...)
				after--
			}
		}
	}
	if after >= maxFormatting {
		k := len(s.afe) - after
		s.afe = append(s.afe[:k], s.afe[k+1:]...)
	}
	s.afe = append(s.afe, f)
}

// formattingEnd handles the end tag of a formatting element, or an <a>.
func (s *streamReader) formattingEnd() {
	if t := s.top(); t != nil && t.ns == nsHTML && t.atom == s.tag && s.formattingIndex(t.serial) < 0 {
		s.pop()
		return
	}
	k := s.activeFormatting(s.tag)
	if k < 0 {
		s.endTagOther()
		return
	}
	if f := s.afe[k]; f.open {
		i := s.indexOf(f.serial)
		if i < 0 || !s.inScope(i) {
			return // ignored
		}
		s.adopt(i)
	}
	// Closing elements only marks entries of the list as closed, so k
	// still indexes the same entry.
	s.afe = append(s.afe[:k], s.afe[k+1:]...)
}

// activeFormatting returns the index in the active list of the last
// formatting element of type a after the last marker, or -1.
func (s *streamReader) activeFormatting(a atom.Atom) int {
	for k := len(s.afe) - 1; k >= 0 && !s.afe[k].marker; k-- {
		if s.afe[k].atom == a {
			return k
		}
	}
	return -1
}

// formattingIndex returns the index in the active list of the element with
// the serial number, looking back to the last marker, or -1.
func (s *streamReader) formattingIndex(serial uint32) int {
	for k := len(s.afe) - 1; k >= 0 && !s.afe[k].marker; k-- {
		if s.afe[k].serial == serial {
			return k
		}
	}
	return -1
}

// reconstruct reopens the active formatting elements that were closed by
// the end of an element they were in, as the tree builder does before it
// inserts content: a link left open across a paragraph's end goes on, as a
// new link to the same URL, in the next paragraph.
func (s *streamReader) reconstruct() {
	n := len(s.afe)
	if n == 0 || s.afe[n-1].marker || s.afe[n-1].open {
		return
	}
	k := n - 1
	for k > 0 && !s.afe[k-1].marker && !s.afe[k-1].open {
		k--
	}
	for ; k < n; k++ {
		f := &s.afe[k]
		s.push(elem{atom: f.atom, flags: elemFlagsFor(f.atom, f.hidden)})
		f.open, f.serial = true, s.serial
		if f.link && s.factsOn() {
			s.startLink(len(s.stack)-1, f.href, f.rel)
		}
	}
}

// clearToMarker clears the active list up to and including the last marker.
func (s *streamReader) clearToMarker() {
	for n := len(s.afe); n > 0; n-- {
		if s.afe[n-1].marker {
			s.afe = s.afe[:n-1]
			return
		}
	}
	s.afe = s.afe[:0]
}

// adopt closes the formatting element at index i of the stack, as the
// adoption agency algorithm does when no special element is open above it.
// When one is, the algorithm moves that element and what it holds out of
// the formatting element, and clones the formatting element into it: the
// reader gives up (see moved).
func (s *streamReader) adopt(i int) {
	for j := i + 1; j < len(s.stack); j++ {
		if s.stack[j].flags&fSpecial != 0 {
			s.moved = true
			return
		}
	}
	s.popTo(i)
}

// closeP closes an open <p> in button scope.
func (s *streamReader) closeP() {
	if s.paragraphs > 0 {
		if i := s.find(scopeButton, atom.P); i >= 0 {
			s.popTo(i)
		}
	}
}

// closeListItem closes the open list item that a new <li> (or <dd>, <dt>)
// ends.
func (s *streamReader) closeListItem() {
	for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
		e := &s.stack[i]
		switch {
		case s.tag == atom.Li && e.atom == atom.Li,
			s.tag != atom.Li && (e.atom == atom.Dd || e.atom == atom.Dt):
			s.popTo(i)
			return
		case e.atom == atom.Address || e.atom == atom.Div || e.atom == atom.P:
		case e.flags&fSpecial != 0:
			return
		}
	}
}

// generateImpliedEndTags closes elements whose end tag may be left out,
// except those of type except.
func (s *streamReader) generateImpliedEndTags(except atom.Atom) {
	for t := s.top(); t != nil && t.atom != except; t = s.top() {
		switch t.atom {
		case atom.Dd, atom.Dt, atom.Li, atom.Optgroup, atom.Option, atom.P, atom.Rb, atom.Rp,
			atom.Rt, atom.Rtc:
			s.pop()
		default:
			return
		}
	}
}

// inTable is the in table mode.
func (s *streamReader) inTable() bool {
	switch s.tt {
	case html.TextToken:
		s.data = s.withoutNUL(s.text())
		if t := s.top(); t != nil && isTableContext(t.atom) && len(trimLeftSpace(s.data)) == 0 {
			s.writeText(s.data)
			return true
		}
	case html.StartTagToken:
		switch s.tag {
		case atom.Caption:
			s.clearToContext(atom.Table)
			s.afe = append(s.afe, formatting{marker: true})
			s.pushTag()
			s.mode = modeInCaption
			return true
		case atom.Colgroup:
			s.clearToContext(atom.Table)
			s.pushTag()
			s.mode = modeInColumnGroup
			return true
		case atom.Col:
			s.clearToContext(atom.Table)
			s.pushImplied(atom.Colgroup)
			s.mode = modeInColumnGroup
			return false
		case atom.Tbody, atom.Tfoot, atom.Thead:
			s.clearToContext(atom.Table)
			s.pushTag()
			s.mode = modeInTableBody
			return true
		case atom.Td, atom.Th, atom.Tr:
			s.clearToContext(atom.Table)
			s.pushImplied(atom.Tbody)
			s.mode = modeInTableBody
			return false
		case atom.Table:
			if i := s.find(scopeTable, atom.Table); i >= 0 {
				s.popTo(i)
				s.resetMode()
				return false
			}
			return true
		case atom.Style, atom.Script, atom.Template:
			return s.inHead()
		case atom.Input:
			if s.attrs().hiddenInput {
				s.emptyElement()
				return true
			}
		case atom.Form:
			if s.templates == 0 && !s.formOpen {
				s.emptyElement()
				s.formOpen = true
			}
			return true
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Table:
			if i := s.find(scopeTable, atom.Table); i >= 0 {
				s.popTo(i)
				s.resetMode()
			}
			return true
		case atom.Body, atom.Caption, atom.Col, atom.Colgroup, atom.Html, atom.Tbody, atom.Td,
			atom.Tfoot, atom.Th, atom.Thead, atom.Tr:
			return true // ignored
		case atom.Template:
			return s.inHead()
		}
	case html.ErrorToken:
		return true
	}
	// Anything else is foster-parented out of the table: it is read where
	// it stands, but without the table's invisibility.
	s.fostering = true
	done := s.inBody()
	s.fostering = false
	return done
}

// inCaption is the in caption mode.
func (s *streamReader) inCaption() bool {
	switch {
	case s.isStart(atom.Caption, atom.Col, atom.Colgroup, atom.Tbody, atom.Td, atom.Tfoot,
		atom.Thead, atom.Tr), s.isEnd(atom.Table):
		if i := s.find(scopeTable, atom.Caption); i >= 0 {
			s.popTo(i)
			s.clearToMarker()
			s.mode = modeInTable
			return false
		}
		return true
	case s.isEnd(atom.Caption):
		if i := s.find(scopeTable, atom.Caption); i >= 0 {
			s.popTo(i)
			s.clearToMarker()
			s.mode = modeInTable
		}
		return true
	case s.isEnd(atom.Body, atom.Col, atom.Colgroup, atom.Html, atom.Tbody, atom.Td, atom.Tfoot,
		atom.Th, atom.Thead, atom.Tr):
		return true
	}
	return s.inBody()
}

// inColumnGroup is the in column group mode.
func (s *streamReader) inColumnGroup() bool {
	switch s.tt {
	case html.TextToken:
		s.data = trimLeftSpace(s.text())
		if len(s.data) == 0 {
			return true
		}
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			return s.inBody()
		case atom.Col:
			s.emptyElement()
			return true
		case atom.Template:
			return s.inHead()
		}
	case html.EndTagToken:
		switch s.tag {
		case atom.Colgroup:
			if t := s.top(); t != nil && t.atom == atom.Colgroup {
				s.pop()
				s.mode = modeInTable
			}
			return true
		case atom.Col:
			return true
		case atom.Template:
			return s.inHead()
		}
	case html.ErrorToken:
		return true
	}
	if t := s.top(); t == nil || t.atom != atom.Colgroup {
		return true // ignored, as x/net/html does
	}
	s.pop()
	s.mode = modeInTable
	return false
}

// inTableBody is the in table body mode.
func (s *streamReader) inTableBody() bool {
	switch {
	case s.isStart(atom.Tr):
		s.clearToContext(atom.Tbody, atom.Tfoot, atom.Thead)
		s.pushTag()
		s.mode = modeInRow
		return true
	case s.isStart(atom.Td, atom.Th):
		s.clearToContext(atom.Tbody, atom.Tfoot, atom.Thead)
		s.pushImplied(atom.Tr)
		s.mode = modeInRow
		return false
	case s.isStart(atom.Caption, atom.Col, atom.Colgroup, atom.Tbody, atom.Tfoot, atom.Thead),
		s.isEnd(atom.Table):
		if i := s.find(scopeTable, atom.Tbody, atom.Thead, atom.Tfoot); i >= 0 {
			s.popTo(i)
			s.mode = modeInTable
			return false
		}
		return true
	case s.isEnd(atom.Tbody, atom.Tfoot, atom.Thead):
		if s.find(scopeTable, s.tag) >= 0 {
			s.clearToContext(atom.Tbody, atom.Tfoot, atom.Thead)
			s.pop()
			s.mode = modeInTable
		}
		return true
	case s.isEnd(atom.Body, atom.Caption, atom.Col, atom.Colgroup, atom.Html, atom.Td, atom.Th, atom.Tr):
		return true
	}
	return s.inTable()
}

// inRow is the in row mode.
func (s *streamReader) inRow() bool {
	switch {
	case s.isStart(atom.Td, atom.Th):
		s.clearToContext(atom.Tr)
		s.pushTag()
		s.afe = append(s.afe, formatting{marker: true})
		s.mode = modeInCell
		return true
	case s.isStart(atom.Caption, atom.Col, atom.Colgroup, atom.Tbody, atom.Tfoot, atom.Thead, atom.Tr),
		s.isEnd(atom.Table):
		if s.find(scopeTable, atom.Tr) >= 0 {
			s.closeRow()
			return false
		}
		return true
	case s.isEnd(atom.Tr):
		if s.find(scopeTable, atom.Tr) >= 0 {
			s.closeRow()
		}
		return true
	case s.isEnd(atom.Tbody, atom.Tfoot, atom.Thead):
		if s.find(scopeTable, s.tag) >= 0 && s.find(scopeTable, atom.Tr) >= 0 {
			s.closeRow()
			return false
		}
		return true
	case s.isEnd(atom.Body, atom.Caption, atom.Col, atom.Colgroup, atom.Html, atom.Td, atom.Th):
		return true
	}
	return s.inTable()
}

// closeRow closes the open table row.
func (s *streamReader) closeRow() {
	s.clearToContext(atom.Tr)
	if t := s.top(); t != nil && t.atom == atom.Tr {
		s.pop()
	}
	s.mode = modeInTableBody
}

// inCell is the in cell mode.
func (s *streamReader) inCell() bool {
	switch {
	case s.isStart(atom.Caption, atom.Col, atom.Colgroup, atom.Tbody, atom.Td, atom.Tfoot, atom.Th,
		atom.Thead, atom.Tr):
		if i := s.find(scopeTable, atom.Td, atom.Th); i >= 0 {
			s.closeCell(i)
			return false
		}
		return true
	case s.isEnd(atom.Td, atom.Th):
		if i := s.find(scopeTable, s.tag); i >= 0 {
			s.closeCell(i)
		}
		return true
	case s.isEnd(atom.Body, atom.Caption, atom.Col, atom.Colgroup, atom.Html):
		return true
	case s.isEnd(atom.Table, atom.Tbody, atom.Tfoot, atom.Thead, atom.Tr):
		if s.find(scopeTable, s.tag) < 0 {
			return true
		}
		if i := s.find(scopeTable, atom.Td, atom.Th); i >= 0 {
			s.closeCell(i)
		}
		s.mode = modeInRow
		return false
	}
	return s.inBody()
}

// closeCell closes the table cell at index i of the stack.
func (s *streamReader) closeCell(i int) {
	s.popTo(i)
	s.clearToMarker()
	s.mode = modeInRow
}

// inTemplate is the in template mode: what is read first in a template
// decides how the rest is read.
func (s *streamReader) inTemplate() bool {
	switch s.tt {
	case html.StartTagToken:
		switch s.tag {
		case atom.Base, atom.Basefont, atom.Bgsound, atom.Link, atom.Meta, atom.Noframes,
			atom.Script, atom.Style, atom.Template, atom.Title:
			return s.inHead()
		case atom.Caption, atom.Colgroup, atom.Tbody, atom.Tfoot, atom.Thead:
			s.setTemplateMode(modeInTable)
		case atom.Col:
			s.setTemplateMode(modeInColumnGroup)
		case atom.Tr:
			s.setTemplateMode(modeInTableBody)
		case atom.Td, atom.Th:
			s.setTemplateMode(modeInRow)
		default:
			s.setTemplateMode(modeInBody)
		}
		return false
	case html.EndTagToken:
		if s.tag == atom.Template {
			return s.inHead()
		}
		return true
	case html.ErrorToken:
		return true
	}
	return s.inBody()
}

// setTemplateMode switches the innermost template to mode m.
func (s *streamReader) setTemplateMode(m insertionMode) {
	if n := len(s.tmplModes); n > 0 {
		s.tmplModes[n-1] = m
	}
	s.mode = m
}

// inFrameset covers the in frameset and after frameset modes: only frames
// count, and nothing is text.
func (s *streamReader) inFrameset() bool {
	switch s.tt {
	case html.StartTagToken:
		switch s.tag {
		case atom.Html:
			s.htmlStart()
		case atom.Frameset:
			if s.mode == modeInFrameset {
				s.framesets++
			}
		case atom.Frame:
			if s.mode == modeInFrameset {
				s.emptyElement()
			}
		case atom.Noframes:
			s.rawElement()
		}
	case html.EndTagToken:
		if s.tag == atom.Frameset && s.mode == modeInFrameset {
			if s.framesets--; s.framesets == 0 {
				s.mode = modeAfterFrameset
			}
		}
	}
	return true
}

// resetMode picks the insertion mode from the open elements, after a table
// or template closes.
func (s *streamReader) resetMode() {
	for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
		e := &s.stack[i]
		switch e.atom {
		case atom.Td, atom.Th:
			s.mode = modeInCell
		case atom.Tr:
			s.mode = modeInRow
		case atom.Tbody, atom.Thead, atom.Tfoot:
			s.mode = modeInTableBody
		case atom.Caption:
			s.mode = modeInCaption
		case atom.Colgroup:
			s.mode = modeInColumnGroup
		case atom.Table:
			s.mode = modeInTable
		case atom.Template:
			if e.ns != nsHTML || len(s.tmplModes) == 0 {
				continue
			}
			s.mode = s.tmplModes[len(s.tmplModes)-1]
		default:
			continue
		}
		return
	}
	switch {
	case s.headOpen:
		s.mode = modeInHead
	case s.bodyStarted:
		s.mode = modeInBody
	default:
		s.mode = modeAfterHead
	}
}

// clearToContext closes the elements above the innermost of as or
// template.
func (s *streamReader) clearToContext(as ...atom.Atom) {
	for t := s.top(); t != nil && t.atom != atom.Template && !isOneOf(t.atom, as); t = s.top() {
		s.pop()
	}
}

// pushImplied opens an element whose start tag was left out.
func (s *streamReader) pushImplied(a atom.Atom) {
	s.push(elem{atom: a, flags: elemFlagsFor(a, false)})
}

// templateStart opens a <template>, whose content is no part of the page.
func (s *streamReader) templateStart() {
	s.pushTag()
	s.afe = append(s.afe, formatting{marker: true})
	s.framesetOK = false
	s.mode = modeInTemplate
	s.tmplModes = append(s.tmplModes, modeInTemplate)
}

// templateEnd closes the innermost <template>.
func (s *streamReader) templateEnd() {
	if s.templates == 0 {
		return
	}
	s.generateImpliedEndTags(0)
	for i := len(s.stack) - 1; i >= 0; i-- {
		if e := &s.stack[i]; e.ns == nsHTML && e.atom == atom.Template {
			s.popTo(i)
			break
		}
	}
	s.clearToMarker()
	if n := len(s.tmplModes); n > 0 {
		s.tmplModes = s.tmplModes[:n-1]
	}
	s.resetMode()
}

// inForeignContent reports whether the current token is read by the rules
// for SVG and MathML content.
func (s *streamReader) inForeignContent() bool {
	t := s.top()
	if t == nil || t.ns == nsHTML {
		return false
	}
	switch s.tt {
	case html.ErrorToken:
		return false
	case html.StartTagToken:
		if t.flags&fTextPoint != 0 && s.tag != atom.Mglyph && s.tag != atom.Malignmark {
			return false
		}
		if t.ns == nsMath && t.atom == atom.AnnotationXml && s.tag == atom.Svg {
			return false
		}
		return t.flags&fHTMLPoint == 0
	case html.TextToken:
		return t.flags&(fTextPoint|fHTMLPoint) == 0
	}
	return true
}

// foreignContent applies the rules for tokens in SVG and MathML content.
func (s *streamReader) foreignContent() bool {
	switch s.tt {
	case html.TextToken:
		if !s.framesetOK && !s.listening() {
			return true
		}
		d := s.text()
		if s.framesetOK && len(trimLeftSpaceNUL(d)) > 0 {
			s.framesetOK = false
		}
		if bytes.IndexByte(d, 0) >= 0 {
			d = bytes.ReplaceAll(d, []byte{0}, []byte("\uFFFD"))
		}
		s.writeText(d)
	case html.StartTagToken:
		if breakout(s.tag) || s.tag == atom.Font && s.attrs().color {
			// An HTML element ends the foreign content it is in.
			for t := s.top(); t != nil && t.ns != nsHTML && t.flags&(fHTMLPoint|fTextPoint) == 0; t = s.top() {
				s.pop()
			}
			return false
		}
		s.pushForeign(s.top().ns)
		// Foreign elements have no raw text content, not even <title>
		// or <script>.
		s.z.nextIsNotRawText()
	case html.EndTagToken:
		for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
			if e := &s.stack[i]; e.atom == s.tag && e.hash == s.hash {
				s.popTo(i)
				return true
			}
			if i > 0 && s.stack[i-1].ns == nsHTML {
				break
			}
		}
		return s.modeRules(s.mode)
	}
	return true
}

// breakout reports whether a start tag of type a ends SVG or MathML
// content.
func breakout(a atom.Atom) bool {
	switch a {
	case atom.B, atom.Big, atom.Blockquote, atom.Body, atom.Br, atom.Center, atom.Code, atom.Dd,
		atom.Div, atom.Dl, atom.Dt, atom.Em, atom.Embed, atom.H1, atom.H2, atom.H3, atom.H4,
		atom.H5, atom.H6, atom.Head, atom.Hr, atom.I, atom.Img, atom.Li, atom.Listing, atom.Menu,
		atom.Meta, atom.Nobr, atom.Ol, atom.P, atom.Pre, atom.Ruby, atom.S, atom.Small, atom.Span,
		atom.Strong, atom.Strike, atom.Sub, atom.Sup, atom.Table, atom.Tt, atom.U, atom.Ul, atom.Var:
		return true
	}
	return false
}

// pushForeign opens an SVG or MathML element for the current start tag.
func (s *streamReader) pushForeign(ns namespace) {
	var f elemFlags
	switch ns {
	case nsSVG:
		f = fInvisible
		switch string(s.name) {
		case "foreignobject", "desc", "title":
			f |= fHTMLPoint | fSpecial
		}
	case nsMath:
		switch string(s.name) {
		case "mi", "mo", "mn", "ms", "mtext":
			f |= fTextPoint | fSpecial
		case "annotation-xml":
			f |= fSpecial
			if enc := s.attrs().encoding; equalFold(enc, "text/html") || equalFold(enc, "application/xhtml+xml") {
				f |= fHTMLPoint
			}
		}
	}
	if inline(s.tag) {
		f |= fInline
	}
	s.openBreak(f)
	s.push(elem{atom: s.tag, hash: s.hash, ns: ns, flags: f})
	if s.selfClosing {
		s.pop()
	}
}

// elemFlagsFor returns the flags of an HTML element of type a.
func elemFlagsFor(a atom.Atom, hidden bool) elemFlags {
	var f elemFlags
	if hidden || invisibleElement(a) {
		f |= fInvisible
	}
	switch a {
	case atom.Nav, atom.Aside:
		f |= fBoiler
	case atom.Header, atom.Footer:
		f |= fChrome
	case atom.Article:
		f |= fArticle
	}
	if special(a) {
		f |= fSpecial
	}
	if inline(a) {
		f |= fInline
	}
	return f
}

// push opens element e.
func (s *streamReader) push(e elem) {
	s.insert()
	s.serial++
	e.serial = s.serial
	if n := len(s.stack); n == cap(s.stack) {
		s.stack = slices.Grow(s.stack, n) // append grows long slices by a quarter
	}
	s.stack = append(s.stack, e)
	s.count(&e, 1)
}

// insert notes that a node is inserted at the current position. Foster
// parenting inserts it before the table instead, ahead of content already
// read: the reader gives up (see moved).
func (s *streamReader) insert() {
	if t := s.top(); s.fostering && t != nil && isTableContext(t.atom) {
		s.moved = true
	}
}

// count adds d to the counters of open elements that e is counted in.
func (s *streamReader) count(e *elem, d int) {
	if e.flags&fInvisible != 0 {
		s.invis += d
	}
	s.invis += d * int(e.hides)
	if e.ns != nsHTML {
		s.foreign += d
		return
	}
	switch {
	case e.flags&fBoiler != 0:
		s.boiler += d
	case e.flags&fChrome != 0:
		s.chrome += d
	case e.flags&fArticle != 0:
		s.articles += d
	}
	switch e.atom {
	case atom.Template:
		s.templates += d
	case atom.P:
		s.paragraphs += d
	case atom.Select:
		s.selects += d
	}
}

// top returns the current node, or nil.
func (s *streamReader) top() *elem {
	if n := len(s.stack); n > 0 {
		return &s.stack[n-1]
	}
	return nil
}

// pop closes the current node, ending what it was the root of.
func (s *streamReader) pop() {
	i := len(s.stack) - 1
	e := &s.stack[i]
	s.closeBreak(e)
	s.count(e, -1)
	if e.flags&fAnchor != 0 {
		s.endLink(i)
	}
	if e.ns == nsHTML && isFormatting(e.atom) {
		if k := s.formattingIndex(e.serial); k >= 0 {
			s.afe[k].open = false
		}
	}
	m := &s.main
	if m.root == i {
		m.root = -1
		m.text.brk()
		if m.level == levelMain {
			m.level = levelDone
		}
	}
	s.stack = s.stack[:i]
}

// popTo closes the element at stack index i and every element above it.
func (s *streamReader) popTo(i int) {
	for len(s.stack) > i {
		s.pop()
	}
}

// detach takes the element at stack index i off the stack while the
// elements above it stay inside it in the document, as </form> and an <a>
// out of scope do: the element above inherits its invisibility and the
// link it makes.
func (s *streamReader) detach(i int) {
	if i == len(s.stack)-1 {
		s.pop()
		return
	}
	e := s.stack[i]
	hides := int(e.hides)
	if e.flags&fInvisible != 0 {
		hides++
	}
	s.count(&e, -1)
	s.invis += hides // still counted, by the element above
	if e.ns == nsHTML && isFormatting(e.atom) {
		if k := s.formattingIndex(e.serial); k >= 0 {
			s.afe[k].open = false
		}
	}
	s.stack = append(s.stack[:i], s.stack[i+1:]...)
	above := &s.stack[i]
	if hides += int(above.hides); hides > 255 {
		s.moved = true // too deep a chain to count
	}
	above.hides = uint8(min(hides, 255))
	above.flags |= e.flags & fAnchor
	for _, an := range s.anchors {
		if an.root > i {
			an.root--
		}
	}
	if m := &s.main; m.root > i {
		m.root--
	}
}

// indexOf returns the stack index of the element with the serial number,
// looking at most maxScan elements down, or -1.
func (s *streamReader) indexOf(serial uint32) int {
	for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
		if s.stack[i].serial == serial {
			return i
		}
	}
	return -1
}

// Scopes of the HTML standard's "has an element in scope" searches.
const (
	scopeDefault = iota
	scopeListItem
	scopeButton
	scopeTable
)

// find returns the stack index of the innermost open HTML element of one of
// the types as that is in scope, or -1.
func (s *streamReader) find(scope int, as ...atom.Atom) int {
	for i := len(s.stack) - 1; i >= 0 && i >= len(s.stack)-maxScan; i-- {
		e := &s.stack[i]
		if e.ns == nsHTML && isOneOf(e.atom, as) {
			return i
		}
		if s.scopeEnd(e, scope) {
			return -1
		}
	}
	return -1
}

// inScope reports whether the element at stack index i is in the default
// scope.
func (s *streamReader) inScope(i int) bool {
	for j := len(s.stack) - 1; j > i; j-- {
		if s.scopeEnd(&s.stack[j], scopeDefault) {
			return false
		}
	}
	return true
}

// scopeEnd reports whether element e bounds a scope.
func (s *streamReader) scopeEnd(e *elem, scope int) bool {
	if e.ns != nsHTML {
		return scope != scopeTable && e.flags&(fHTMLPoint|fTextPoint|fSpecial) != 0
	}
	switch e.atom {
	case atom.Html, atom.Table, atom.Template:
		return true
	case atom.Applet, atom.Caption, atom.Td, atom.Th, atom.Marquee, atom.Object, atom.Select:
		return scope != scopeTable
	case atom.Ol, atom.Ul:
		return scope == scopeListItem
	case atom.Button:
		return scope == scopeButton
	}
	return false
}

// special reports whether HTML elements of type a are "special" in the
// HTML parsing algorithm: most end tags do not close elements past them.
func special(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Applet, atom.Area, atom.Article, atom.Aside, atom.Base, atom.Basefont,
		atom.Bgsound, atom.Blockquote, atom.Body, atom.Br, atom.Button, atom.Caption, atom.Center,
		atom.Col, atom.Colgroup, atom.Dd, atom.Details, atom.Dir, atom.Div, atom.Dl, atom.Dt,
		atom.Embed, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.Frame,
		atom.Frameset, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Head, atom.Header,
		atom.Hgroup, atom.Hr, atom.Html, atom.Iframe, atom.Img, atom.Input, atom.Keygen, atom.Li,
		atom.Link, atom.Listing, atom.Main, atom.Marquee, atom.Menu, atom.Meta, atom.Nav,
		atom.Noembed, atom.Noframes, atom.Noscript, atom.Object, atom.Ol, atom.P, atom.Param,
		atom.Plaintext, atom.Pre, atom.Script, atom.Section, atom.Select, atom.Source, atom.Style,
		atom.Summary, atom.Table, atom.Tbody, atom.Td, atom.Template, atom.Textarea, atom.Tfoot,
		atom.Th, atom.Thead, atom.Title, atom.Tr, atom.Track, atom.Ul, atom.Wbr, atom.Xmp:
		return true
	}
	return false
}

// isFormatting reports whether elements of type a are formatting elements,
// reopened after misnested end tags.
func isFormatting(a atom.Atom) bool {
	switch a {
	case atom.A, atom.B, atom.Big, atom.Code, atom.Em, atom.Font, atom.I, atom.Nobr, atom.S,
		atom.Small, atom.Strike, atom.Strong, atom.Tt, atom.U:
		return true
	}
	return false
}

func isHeading(a atom.Atom) bool {
	switch a {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	return false
}

// isTableContext reports whether text directly in an element of type a
// would be foster-parented.
func isTableContext(a atom.Atom) bool {
	switch a {
	case atom.Table, atom.Tbody, atom.Tfoot, atom.Thead, atom.Tr:
		return true
	}
	return false
}
