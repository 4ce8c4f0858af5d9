package parse

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf8"

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
// full is set. The text is built in a strings.Builder, which String hands
// out without a copy, or, after resetKeeping, in a byte slice that is read
// with bytes and kept for the next text.
type textBuf struct {
	b        strings.Builder
	bs       []byte // the text, if keep
	keep     bool
	space    bool // white space seen since the last rune written
	maxBytes int  // 0: no limit
	maxRunes int  // 0: no limit
	runes    int
	full     bool
	grow     int // bytes to reserve on the first write
}

// reset empties the buffer and sets its limits. The first write reserves
// grow bytes, so that a buffer that stays empty allocates nothing.
func (t *textBuf) reset(maxBytes, maxRunes, grow int) {
	t.b.Reset()
	*t = textBuf{maxBytes: maxBytes, maxRunes: maxRunes, grow: grow}
}

// resetKeeping empties the buffer, sets its limit and makes it build the
// text in the byte slice it used before, if any.
func (t *textBuf) resetKeeping(maxRunes int) {
	bs := t.bs[:0]
	t.reset(0, maxRunes, 0)
	t.bs, t.keep = bs, true
}

// resetInto empties the buffer, sets its limit and makes it build the
// text in bs, from its start; String copies it out.
func (t *textBuf) resetInto(bs []byte, maxBytes int) {
	t.reset(maxBytes, 0, 0)
	t.bs, t.keep = bs[:0], true
}

// brk marks a word boundary, as between two block elements.
func (t *textBuf) brk() { t.space = true }

// write appends s.
func (t *textBuf) write(s []byte) {
	for i := 0; i < len(s) && !t.full; {
		c := s[i]
		if wordByte(c) {
			// Copy at once a run of ASCII words separated by single spaces,
			// which is most of any text.
			j := i + wordRunLen(s[i:])
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
		r, size := utf8.DecodeRune(s[i:])
		i += size
		if unicode.IsSpace(r) {
			t.space = true
			continue
		}
		t.put(r)
	}
}

// writeString appends s.
func (t *textBuf) writeString(s string) { t.write([]byte(s)) }

// wordByte reports whether c is a printable ASCII byte other than space.
func wordByte(c byte) bool { return ' ' < c && c < utf8.RuneSelf }

// wordRunLen returns the length of the run of ASCII words separated by
// single spaces that s starts with (s[0] is a word byte). It looks at 8
// bytes at a time while they are printable ASCII with no two spaces in a
// row, then at one byte at a time.
func wordRunLen(s []byte) int {
	const ones, highs, lows = 0x0101010101010101, 0x8080808080808080, 0x7f7f7f7f7f7f7f7f
	b := s          // what is left to look at 8 bytes at a time
	var prev uint64 // 0x80 if the byte before b is a space
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		// A byte below ' ' borrows and sets its top bit; one of 0x80 or
		// more has it set.
		if (x-ones*' '|x)&highs != 0 {
			break
		}
		// 0x80 in each space: adding 0x7f to a byte below 0x80 sets its
		// top bit unless it is 0, and carries into no other byte.
		sp := ^(x ^ ones*' ' + lows) & highs
		if sp&(sp<<8|prev) != 0 {
			break
		}
		prev = sp >> 56
		b = b[8:]
	}
	i := len(s) - len(b)
	if prev != 0 {
		i-- // a space counts only with a word byte after it
	}
	for i < len(s) {
		if wordByte(s[i]) {
			i++
		} else if s[i] == ' ' && i+1 < len(s) && wordByte(s[i+1]) {
			i += 2
		} else {
			break
		}
	}
	return i
}

// separate writes the pending space, if any, and reports whether n more
// bytes forming runes more runes still fit.
func (t *textBuf) separate(n, runes int) bool {
	sep := t.space && t.len() > 0
	if sep {
		n++
		runes++
	}
	if t.maxBytes > 0 && t.len()+n > t.maxBytes || t.maxRunes > 0 && t.runes+runes > t.maxRunes {
		return false
	}
	if !t.keep && t.b.Cap() == 0 && t.grow > 0 {
		t.b.Grow(max(t.grow, n))
	}
	if sep {
		t.appendByte(' ')
		t.runes++
	}
	t.space = false
	return true
}

// putASCII appends ASCII words separated by single spaces, or as much of
// them as fits.
func (t *textBuf) putASCII(w []byte) {
	if t.separate(len(w), len(w)) {
		if t.keep {
			t.bs = append(t.bs, w...)
		} else {
			t.b.Write(w)
		}
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
		t.appendByte(w[i])
		t.runes++
	}
}

// put appends one rune.
func (t *textBuf) put(r rune) {
	if !t.separate(utf8.RuneLen(r), 1) {
		t.full = true
		return
	}
	if t.keep {
		t.bs = utf8.AppendRune(t.bs, r)
	} else {
		t.b.WriteRune(r)
	}
	t.runes++
}

// appendByte appends c.
func (t *textBuf) appendByte(c byte) {
	if t.keep {
		t.bs = append(t.bs, c)
	} else {
		t.b.WriteByte(c)
	}
}

// len returns the number of bytes written.
func (t *textBuf) len() int {
	if t.keep {
		return len(t.bs)
	}
	return t.b.Len()
}

// String returns the text. The buffer must be reset before further use.
func (t *textBuf) String() string {
	if t.keep {
		return string(t.bs)
	}
	return t.b.String()
}

// bytes returns the text built after resetKeeping, valid until the next
// reset.
func (t *textBuf) bytes() []byte { return t.bs }

// stringArena makes strings of byte slices, many to an allocation: it
// copies them one after another into a buffer and hands out substrings of
// it, starting a new buffer when one is full. A string keeps its buffer
// alive, so the arena is for strings that live about as long as one
// another, such as the texts of a page's links.
type stringArena struct {
	b strings.Builder // bytes written are never changed: its String's substrings stay valid
}

// maxArenaBuffer bounds the size of a stringArena's buffers.
const maxArenaBuffer = 16 << 10

// string returns p as a string.
func (a *stringArena) string(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	if a.b.Cap()-a.b.Len() < len(p) {
		size := max(min(2*a.b.Cap(), maxArenaBuffer), 256, len(p))
		a.b = strings.Builder{}
		a.b.Grow(size)
	}
	start := a.b.Len()
	a.b.Write(p)
	return a.b.String()[start:]
}

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

// collapseBytes is collapseSpace for a byte slice.
func collapseBytes(s []byte) string {
	if collapsed(s) {
		return string(s)
	}
	var t textBuf
	t.b.Grow(len(s))
	t.write(s)
	return t.String()
}

// collapsed reports whether s is ASCII that collapseSpace leaves unchanged.
func collapsed[S string | []byte](s S) bool {
	if len(s) == 0 {
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

// invisibleElement reports whether HTML elements of type a and their
// content are never rendered as text. Any element with the hidden attribute
// is invisible too, and so is everything in SVG (but not MathML, whose
// content is text a reader sees).
func invisibleElement(a atom.Atom) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Head, atom.Title,
		atom.Iframe, atom.Object, atom.Embed, atom.Canvas, atom.Video, atom.Audio,
		atom.Select, atom.Datalist, atom.Textarea, atom.Svg, atom.Noframes, atom.Noembed:
		return true
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
