package parse

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
)

// golang.org/x/net/html/charset does not do this file's job, which is why
// it is not used: its DetermineEncoding runs the HTML tokenizer over the
// first 1024 bytes as its <meta> prescan, so it misses a declaration
// inside <script> or <style> and one after 1024 bytes of head (it picks
// the wrong encoding for 10 of the 82 html5lib prescan cases, all of which
// pass here), and it judges UTF-8 by the first 1024 bytes alone, calling a
// page whose first kilobyte is ASCII windows-1252. Its Lookup is the
// htmlindex lookup below plus an HTML-escaping encoder wrapper, which
// costs an allocation per page and which decoding never uses.
// TestCharsetPackageLacks checks these claims, so that an x/net release
// that fills the gaps shows.

// prescanLen is how many bytes the WHATWG prescan examines unconditionally.
const prescanLen = 1024

// ToUTF8 returns body converted to UTF-8 and the name of the encoding used,
// as the WHATWG Encoding standard spells it in lower case ("utf-8",
// "windows-1252", "shift_jis", "utf-16le", ...).
//
// Precedence: a byte order mark, then the charset parameter of contentType
// (the Content-Type header), then a <meta> prescan of the document (WHATWG
// "prescan a byte stream to determine its encoding"), else windows-1252 if
// the bytes are not valid UTF-8, else utf-8. The prescan reads the first 1024
// bytes as the standard says; when they hold no declaration it goes on, as
// Chromium does, while the document is still in its <head>, so that a <meta>
// placed after long comments or scripts is honoured, which is what the
// parser's "change the encoding" step achieves in a browser. An incomplete
// UTF-8 sequence at the very end (a body cut short by a size cap) does not
// count against UTF-8.
//
// Invalid byte sequences become U+FFFD; ToUTF8 never fails and never panics.
// Valid UTF-8 that needs no conversion, and ASCII in any ASCII-compatible
// encoding, is returned as is (sharing body's memory), less any byte order
// mark.
func ToUTF8(body []byte, contentType string) (utf8Body []byte, encodingName string) {
	enc, name, bom, _ := sniffEncoding(body, contentType)
	body = body[bom:]
	if name == "" {
		if validUTF8Prefix(body) {
			name = "utf-8"
		} else {
			name = "windows-1252"
			enc, _ = htmlindex.Get(name)
		}
	}
	return decodeBytes(body, enc, name), name
}

// CharsetSource says where ToUTF8 takes the encoding of body from: "byte
// order mark", "Content-Type header", "<meta> in the document", or, when
// nothing declares one, "no declaration: valid UTF-8" or "no declaration:
// not valid UTF-8, read as windows-1252".
func CharsetSource(body []byte, contentType string) string {
	_, name, _, source := sniffEncoding(body, contentType)
	switch {
	case name != "":
		return source
	case validUTF8Prefix(body):
		return "no declaration: valid UTF-8"
	}
	return "no declaration: not valid UTF-8, read as windows-1252"
}

// sniffEncoding returns the encoding declared by a byte order mark, by the
// Content-Type header or by a <meta> element, its canonical name, the
// length of the byte order mark and which of the three declared it. It
// returns a nil encoding and no name when the document declares none,
// leaving the fallback to the caller.
func sniffEncoding(body []byte, contentType string) (enc encoding.Encoding, name string, bom int, source string) {
	switch {
	case bytes.HasPrefix(body, []byte("\xEF\xBB\xBF")):
		return nil, "utf-8", 3, "byte order mark"
	case bytes.HasPrefix(body, []byte("\xFE\xFF")):
		enc, name = lookupEncoding([]byte("utf-16be"))
		return enc, name, 2, "byte order mark"
	case bytes.HasPrefix(body, []byte("\xFF\xFE")):
		enc, name = lookupEncoding([]byte("utf-16le"))
		return enc, name, 2, "byte order mark"
	}
	if label := metaCharset([]byte(contentType)); label != nil {
		if enc, name = lookupEncoding(label); enc != nil {
			if name == "utf-8" {
				enc = nil
			}
			return enc, name, 0, "Content-Type header"
		}
	}
	enc, name = prescan(body)
	if name == "utf-8" {
		enc = nil
	}
	return enc, name, 0, "<meta> in the document"
}

// lookupEncoding maps an encoding label, less the ASCII white space the
// WHATWG "get an encoding" trims, to its encoding and canonical name. It
// returns nil and "" for unknown labels.
func lookupEncoding(label []byte) (encoding.Encoding, string) {
	label = bytes.Trim(label, "\t\n\f\r ")
	if len(label) == 0 || len(label) > 64 {
		return nil, ""
	}
	enc, err := htmlindex.Get(string(label))
	if err != nil {
		return nil, ""
	}
	name, err := htmlindex.Name(enc)
	if err != nil {
		return nil, ""
	}
	return enc, name
}

// validUTF8Prefix reports whether b is valid UTF-8, ignoring an incomplete
// sequence at its end.
func validUTF8Prefix(b []byte) bool {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// decodeBytes converts b from enc (nil meaning UTF-8) to valid UTF-8.
func decodeBytes(b []byte, enc encoding.Encoding, name string) []byte {
	if enc == nil {
		if utf8.Valid(b) {
			return b
		}
		return replaceInvalidUTF8(b)
	}
	if asciiCompatible(name) && isASCII(b) && (name != "iso-2022-jp" || bytes.IndexByte(b, 0x1B) < 0) {
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		// The x/text decoders replace bad input rather than fail; if one
		// ever does fail, fall back to the bytes themselves.
		out = b
	}
	if !utf8.Valid(out) {
		out = replaceInvalidUTF8(out)
	}
	return out
}

// replaceInvalidUTF8 returns b with each byte that does not start a valid
// UTF-8 sequence replaced by U+FFFD.
func replaceInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// asciiCompatible reports whether the named encoding decodes every ASCII
// byte to itself.
func asciiCompatible(name string) bool {
	switch name {
	case "utf-16le", "utf-16be", "replacement":
		return false
	}
	return true
}

// isASCII reports whether b holds only ASCII bytes.
func isASCII(b []byte) bool {
	for len(b) >= 8 {
		if (uint64(b[0])|uint64(b[1])|uint64(b[2])|uint64(b[3])|
			uint64(b[4])|uint64(b[5])|uint64(b[6])|uint64(b[7]))&0x80 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isSpaceByte reports whether c is ASCII whitespace as HTML defines it.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

func isASCIILetter(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z'
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// metaCharset implements the WHATWG "algorithm for extracting a character
// encoding from a meta element" on s (a content attribute or a Content-Type
// header value) and returns the label it finds, or nil.
func metaCharset(s []byte) []byte {
	pos := 0
	for {
		i := indexFoldASCII(s[pos:], "charset")
		if i < 0 {
			return nil
		}
		pos += i + len("charset")
		for pos < len(s) && isSpaceByte(s[pos]) {
			pos++
		}
		if pos >= len(s) || s[pos] != '=' {
			continue
		}
		pos++
		for pos < len(s) && isSpaceByte(s[pos]) {
			pos++
		}
		if pos >= len(s) {
			return nil
		}
		if q := s[pos]; q == '"' || q == '\'' {
			end := bytes.IndexByte(s[pos+1:], q)
			if end < 0 {
				return nil
			}
			return s[pos+1 : pos+1+end]
		}
		end := pos
		for end < len(s) && !isSpaceByte(s[end]) && s[end] != ';' {
			end++
		}
		return s[pos:end]
	}
}

// indexFoldASCII returns the index of the first ASCII case-insensitive match
// of the lower-case word in s, or -1.
func indexFoldASCII(s []byte, word string) int {
	for i := 0; i+len(word) <= len(s); i++ {
		if lowerASCII(s[i]) != word[0] {
			continue
		}
		j := 1
		for j < len(word) && lowerASCII(s[i+j]) == word[j] {
			j++
		}
		if j == len(word) {
			return i
		}
	}
	return -1
}

// hasPrefixFold reports whether b starts with the lower-case ASCII word,
// ignoring case.
func hasPrefixFold(b []byte, word string) bool {
	if len(b) < len(word) {
		return false
	}
	for i := 0; i < len(word); i++ {
		if lowerASCII(b[i]) != word[i] {
			return false
		}
	}
	return true
}

// prescanner holds the state of one run of the WHATWG prescan.
type prescanner struct {
	b      []byte
	pos    int
	inHead bool   // every tag seen so far belongs in <head>
	name   []byte // scratch for the attribute being read
	value  []byte
}

// prescan implements the WHATWG "prescan a byte stream to determine its
// encoding" over body. It examines the first 1024 bytes and, past them,
// continues only while every tag seen so far is one that belongs in <head>
// (the Chromium rule), stopping at the first other tag. It returns the
// encoding declared by the first usable <meta> and its canonical name, or
// nil and "" when there is none.
func prescan(body []byte) (encoding.Encoding, string) {
	// Documents starting with a UTF-16 XML declaration.
	if bytes.HasPrefix(body, []byte("<\x00?\x00x\x00")) {
		return lookupEncoding([]byte("utf-16le"))
	}
	if bytes.HasPrefix(body, []byte("\x00<\x00?\x00x")) {
		return lookupEncoding([]byte("utf-16be"))
	}
	s := prescanner{b: body, inHead: true}
	return s.run()
}

func (s *prescanner) run() (encoding.Encoding, string) {
	b := s.b
	for s.pos < len(b) {
		if s.pos >= prescanLen && !s.inHead {
			return nil, ""
		}
		if b[s.pos] != '<' {
			i := bytes.IndexByte(b[s.pos:], '<')
			if i < 0 {
				return nil, ""
			}
			s.pos += i
			continue
		}
		rest := b[s.pos:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			// The comment ends at the first "-->" whose '>' comes after
			// the '<'; its dashes may be those of "<!--" itself.
			i := bytes.Index(rest[2:], []byte("-->"))
			if i < 0 {
				return nil, ""
			}
			s.pos += 2 + i + 2
		case len(rest) >= 6 && hasPrefixFold(rest[1:], "meta") && (isSpaceByte(rest[5]) || rest[5] == '/'):
			s.pos += 5
			enc, name, ok := s.meta()
			if !ok {
				return nil, ""
			}
			if name != "" {
				return enc, name
			}
		case len(rest) >= 2 && isASCIILetter(rest[1]),
			len(rest) >= 3 && rest[1] == '/' && isASCIILetter(rest[2]):
			start := s.pos + 1
			end := start
			for end < len(b) && !isSpaceByte(b[end]) && b[end] != '>' {
				end++
			}
			if end >= len(b) {
				return nil, ""
			}
			s.noteTag(b[start:end])
			s.pos = end
			for {
				_, _, found, ok := s.attribute()
				if !ok {
					return nil, ""
				}
				if !found {
					break
				}
			}
		case bytes.HasPrefix(rest, []byte("<!")), bytes.HasPrefix(rest, []byte("</")), bytes.HasPrefix(rest, []byte("<?")):
			i := bytes.IndexByte(rest[1:], '>')
			if i < 0 {
				return nil, ""
			}
			s.pos += 1 + i
		}
		s.pos++
	}
	return nil, ""
}

// noteTag records whether the tag named by name (with a leading '/' for an
// end tag) keeps the prescan inside <head>.
func (s *prescanner) noteTag(name []byte) {
	if !s.inHead {
		return
	}
	end := len(name) > 0 && name[0] == '/'
	if end {
		name = name[1:]
	}
	name = bytes.TrimSuffix(name, []byte("/"))
	switch {
	case equalFoldASCII(name, "script"), equalFoldASCII(name, "noscript"), equalFoldASCII(name, "style"),
		equalFoldASCII(name, "link"), equalFoldASCII(name, "meta"), equalFoldASCII(name, "object"),
		equalFoldASCII(name, "title"), equalFoldASCII(name, "base"), equalFoldASCII(name, "template"):
	case !end && (equalFoldASCII(name, "html") || equalFoldASCII(name, "head")):
	default:
		s.inHead = false
	}
}

func equalFoldASCII(b []byte, word string) bool {
	return len(b) == len(word) && hasPrefixFold(b, word)
}

// meta handles a <meta> tag whose name the position has just passed. It
// returns the declared encoding, or an empty name when the tag declares none;
// ok is false when the input ran out.
func (s *prescanner) meta() (enc encoding.Encoding, name string, ok bool) {
	const (
		pragmaUnset = iota
		pragmaNeeded
		pragmaNotNeeded
	)
	var (
		gotPragma                     bool
		needPragma                    = pragmaUnset
		charsetSet                    bool // charset is no longer null (it may be failure)
		seenEquiv, seenContent, seenC bool
	)
	for {
		attrName, value, found, more := s.attribute()
		if !more {
			return nil, "", false
		}
		if !found {
			break
		}
		switch string(attrName) {
		case "http-equiv":
			if !seenEquiv {
				seenEquiv = true
				gotPragma = gotPragma || string(value) == "content-type"
			}
		case "content":
			if !seenContent {
				seenContent = true
				if label := metaCharset(value); label != nil && !charsetSet {
					if e, n := lookupEncoding(label); e != nil {
						enc, name = e, n
						charsetSet = true
						needPragma = pragmaNeeded
					}
				}
			}
		case "charset":
			if !seenC {
				seenC = true
				enc, name = lookupEncoding(value)
				charsetSet = true
				needPragma = pragmaNotNeeded
			}
		}
	}
	if needPragma == pragmaUnset || needPragma == pragmaNeeded && !gotPragma || enc == nil {
		return nil, "", true
	}
	switch name {
	case "utf-16le", "utf-16be":
		enc, name = lookupEncoding([]byte("utf-8"))
	case "x-user-defined":
		enc, name = lookupEncoding([]byte("windows-1252"))
	}
	return enc, name, true
}

// attribute implements the WHATWG prescan's "get an attribute". found is false
// when the tag has no more attributes; more is false when the input ran out,
// which ends the prescan. The returned slices are valid until the next call.
func (s *prescanner) attribute() (name, value []byte, found, more bool) {
	b := s.b
	for s.pos < len(b) && (isSpaceByte(b[s.pos]) || b[s.pos] == '/') {
		s.pos++
	}
	if s.pos >= len(b) {
		return nil, nil, false, false
	}
	if b[s.pos] == '>' {
		return nil, nil, false, true
	}
	s.name, s.value = s.name[:0], s.value[:0]
	for {
		if s.pos >= len(b) {
			return nil, nil, false, false
		}
		c := b[s.pos]
		switch {
		case c == '=' && len(s.name) > 0:
			s.pos++
			return s.attributeValue()
		case isSpaceByte(c):
			// Spaces between the name and a possible '='.
			for s.pos < len(b) && isSpaceByte(b[s.pos]) {
				s.pos++
			}
			if s.pos >= len(b) {
				return nil, nil, false, false
			}
			if b[s.pos] != '=' {
				return s.name, s.value, true, true
			}
			s.pos++
			return s.attributeValue()
		case c == '/' || c == '>':
			return s.name, s.value, true, true
		}
		s.name = append(s.name, lowerASCII(c))
		s.pos++
	}
}

// attributeValue reads the value of the attribute named in s.name; the
// position is just past its '='.
func (s *prescanner) attributeValue() (name, value []byte, found, more bool) {
	b := s.b
	for s.pos < len(b) && isSpaceByte(b[s.pos]) {
		s.pos++
	}
	if s.pos >= len(b) {
		return nil, nil, false, false
	}
	switch c := b[s.pos]; c {
	case '"', '\'':
		for s.pos++; s.pos < len(b); s.pos++ {
			if b[s.pos] == c {
				s.pos++
				return s.name, s.value, true, true
			}
			s.value = append(s.value, lowerASCII(b[s.pos]))
		}
		return nil, nil, false, false
	case '>':
		return s.name, s.value, true, true
	}
	for ; s.pos < len(b); s.pos++ {
		c := b[s.pos]
		if isSpaceByte(c) || c == '>' {
			return s.name, s.value, true, true
		}
		s.value = append(s.value, lowerASCII(c))
	}
	return nil, nil, false, false
}
