package urlnorm

import (
	"bytes"
	"strings"
)

// charSet selects which bytes may stay unescaped in a component.
type charSet uint8

const (
	pathChars  charSet = iota // RFC 3986 segment: pchar
	queryChars                // RFC 3986 query: pchar, "/" and "?"
)

// Byte masks: bit c of a ...Lo mask (for c < 64) or bit c-64 of a ...Hi
// mask (for 64 <= c < 128) is set for each byte c in the set.
const (
	// unreserved: ALPHA DIGIT "-" "." "_" "~".
	unreservedLo = 1<<'-' | 1<<'.' | 0x3ff<<'0'
	unreservedHi = 0x3ffffff<<('A'-64) | 1<<('_'-64) | 0x3ffffff<<('a'-64) | 1<<('~'-64)
	// pchar adds the sub-delims "!$&'()*+,;=" and ":" "@".
	pcharLo = unreservedLo | 1<<'!' | 1<<'$' | 1<<'&' | 1<<'\'' | 1<<'(' | 1<<')' |
		1<<'*' | 1<<'+' | 1<<',' | 1<<';' | 1<<'=' | 1<<':'
	pcharHi = unreservedHi | 1<<('@'-64)
	queryLo = pcharLo | 1<<'/' | 1<<'?'
	// netPath: the bytes net/url leaves unescaped when it writes a path it
	// holds no RawPath for (URL.EscapedPath): unreserved and "$&+,/:;=@".
	netPathLo = unreservedLo | 1<<'$' | 1<<'&' | 1<<'+' | 1<<',' | 1<<'/' | 1<<':' | 1<<';' | 1<<'='
	netPathHi = unreservedHi | 1<<('@'-64)
)

// byteSet is a set of bytes as a table, for loops that test every byte
// of a string: one load per byte.
type byteSet [256]bool

// setOf returns the set of the bytes in the masks lo and hi.
func setOf(lo, hi uint64) *byteSet {
	return setWhere(func(c byte) bool { return inMasks(c, lo, hi) })
}

// setWhere returns the set of the bytes for which in is true.
func setWhere(in func(c byte) bool) *byteSet {
	var s byteSet
	for c := range s {
		s[c] = in(byte(c))
	}
	return &s
}

// Byte tables built once from the masks above; never written after.
var (
	pathSet        = setOf(pcharLo, pcharHi)
	querySet       = setOf(queryLo, pcharHi)
	pathOrSlashSet = setOf(pcharLo|1<<'/', pcharHi)
	netPathSet     = setOf(netPathLo, netPathHi)
)

// allIn reports whether every byte of s is in set.
func allIn(s string, set *byteSet) bool {
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}

const upperHex = "0123456789ABCDEF"

// masks returns the byte masks of s.
func (s charSet) masks() (lo, hi uint64) {
	if s == queryChars {
		return queryLo, pcharHi
	}
	return pcharLo, pcharHi
}

// table returns the bytes of s as a table.
func (s charSet) table() *byteSet {
	if s == queryChars {
		return querySet
	}
	return pathSet
}

func inMasks(c byte, lo, hi uint64) bool {
	if c < 64 {
		return lo>>c&1 != 0
	}
	return c < 128 && hi>>(c-64)&1 != 0
}

func isUnreserved(c byte) bool { return inMasks(c, unreservedLo, unreservedHi) }

// unhex returns the value of the hex digit c, or 16 if c is not one.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 16
}

// appendEscaped appends s with its percent-encoding normalised: escapes of
// unreserved characters are decoded, other escapes get uppercase hex, a "%"
// that starts no escape becomes "%25", and bytes not allowed in set are
// escaped.
func appendEscaped(b []byte, s string, set charSet) []byte {
	allowed := set.table()
	done := 0 // s[:done] is already in b
	for i := 0; i < len(s); i++ {
		c := s[i]
		if allowed[c] {
			continue
		}
		b = append(b, s[done:i]...)
		switch {
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) < 16 && unhex(s[i+2]) < 16:
			h, l := unhex(s[i+1]), unhex(s[i+2])
			if v := h<<4 | l; isUnreserved(v) {
				b = append(b, v)
			} else {
				b = append(b, '%', upperHex[h], upperHex[l])
			}
			i += 2
		default:
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
		done = i + 1
	}
	return append(b, s[done:]...)
}

// appendPath appends the canonical path made of dir (a directory ending in
// "/", or "") followed by path. When dir is empty, path is absolute.
func (n *Normalizer) appendPath(b []byte, dir, path string) []byte {
	if dir == "" && n.plainPath(path) {
		if path == "" {
			return append(b, '/')
		}
		return append(b, path...)
	}
	return n.appendPathSegments(b, dir, path)
}

// appendPathSegments is appendPath segment by segment.
func (n *Normalizer) appendPathSegments(b []byte, dir, path string) []byte {
	root := len(b)
	b = append(b, '/')
	if dir != "" {
		b = n.appendSegments(b, root, trimSlash(dir), false)
	} else {
		path = trimSlash(path)
	}
	return n.appendSegments(b, root, path, true)
}

// plainPath reports whether the absolute path is its own canonical form
// by a test that is quick on ordinary paths: every byte may stay as it is
// (no escape, no backslash), no segment begins with a dot (which could be a dot
// segment), and there is no path parameter to strip nor slashes to merge.
// A path it turns down may be canonical too: appendSegments decides.
func (n *Normalizer) plainPath(path string) bool {
	return (path == "" || path[0] == '/') && allIn(path, pathOrSlashSet) && !strings.Contains(path, "/.") &&
		!(n.mergeSlashes && strings.Contains(path, "//")) && !(n.strips() && strings.IndexByte(path, ';') >= 0)
}

func trimSlash(s string) string {
	if s != "" && isSlash(s[0]) {
		return s[1:]
	}
	return s
}

// appendSegments appends the "/"- or "\"-separated segments of s to the
// path that starts at b[root], resolving dot segments and stripping path
// parameters. If final, the last segment of s ends the path; otherwise s
// ends with a separator and its empty tail is ignored.
func (n *Normalizer) appendSegments(b []byte, root int, s string, final bool) []byte {
	for {
		j := 0
		for j < len(s) && !isSlash(s[j]) {
			j++
		}
		more := j < len(s) // a separator follows the segment
		if !more && !final {
			return b
		}
		start := len(b)
		b = appendEscaped(b, s[:j], pathChars)
		if n.strips() {
			b = n.stripPathParams(b, start)
		}
		seg := b[start:]
		switch {
		case len(seg) == 1 && seg[0] == '.':
			b = b[:start]
		case len(seg) == 2 && seg[0] == '.' && seg[1] == '.':
			b = b[:start]
			if start-1 > root {
				b = b[:root+bytes.LastIndexByte(b[root:start-1], '/')+1]
			}
		case len(seg) == 0 && n.mergeSlashes:
		case more:
			b = append(b, '/')
		}
		if !more {
			return b
		}
		s = s[j+1:]
	}
}

// stripPathParams removes the ";name=value" parameters of the segment that
// starts at b[start] whose names are stripped. The segment's first part,
// before any ";", is never a parameter.
func (n *Normalizer) stripPathParams(b []byte, start int) []byte {
	i := bytes.IndexByte(b[start:], ';')
	if i < 0 {
		return b
	}
	w := start + i // write position
	for r := w; r < len(b); {
		end := r + 1 + bytes.IndexByte(b[r+1:], ';')
		if end == r {
			end = len(b)
		}
		param := b[r+1 : end]
		name := param
		if k := bytes.IndexByte(param, '='); k >= 0 {
			name = param[:k]
		}
		if !n.stripped(name) {
			w += copy(b[w:], b[r:end])
		}
		r = end
	}
	return b[:w]
}

// span locates one query parameter in the output buffer.
type span struct{ start, keyEnd, end int }

// appendQuery appends "?" and the canonical query, or nothing when no
// parameter is left.
func (n *Normalizer) appendQuery(b []byte, q string) []byte {
	mark := len(b)
	b = append(b, '?')
	var arr [32]span
	spans := arr[:0]
	sorted := true
	for q != "" {
		k := 0
		for k < len(q) && q[k] != '&' {
			k++
		}
		param := q[:k]
		if k < len(q) {
			k++
		}
		q = q[k:]
		if param == "" {
			continue
		}
		sep := len(b)
		if len(spans) > 0 {
			b = append(b, '&')
		}
		start := len(b)
		b = appendEscaped(b, param, queryChars)
		keyEnd := start + bytes.IndexByte(b[start:], '=')
		if keyEnd < start {
			keyEnd = len(b)
		}
		if n.strips() && n.stripped(b[start:keyEnd]) {
			b = b[:sep]
			continue
		}
		if n.sortQuery && sorted && len(spans) > 0 {
			prev := spans[len(spans)-1]
			if bytes.Compare(b[prev.start:prev.keyEnd], b[start:keyEnd]) > 0 {
				sorted = false
			}
		}
		spans = append(spans, span{start, keyEnd, len(b)})
	}
	if len(spans) == 0 {
		return b[:mark]
	}
	if n.sortQuery && !sorted {
		b = sortQuery(b, mark+1, spans)
	}
	return b
}

// sortQuery stably sorts the parameters at spans, which cover b[from:],
// by name. The sorted query is built after the end of b and moved back.
func sortQuery(b []byte, from int, spans []span) []byte {
	sortSpans(b, spans)
	end := len(b)
	for i, sp := range spans {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, b[sp.start:sp.end]...)
	}
	n := copy(b[from:], b[end:])
	return b[:from+n]
}

// sortSpans stably sorts spans by the names they locate in b: insertion
// sort for the usual short query, merge sort so that a query with
// thousands of parameters cannot take quadratic time.
func sortSpans(b []byte, spans []span) {
	less := func(x, y span) bool { return bytes.Compare(b[x.start:x.keyEnd], b[y.start:y.keyEnd]) < 0 }
	if len(spans) <= 16 {
		for i := 1; i < len(spans); i++ {
			for j := i; j > 0 && less(spans[j], spans[j-1]); j-- {
				spans[j-1], spans[j] = spans[j], spans[j-1]
			}
		}
		return
	}
	src, dst := spans, make([]span, len(spans))
	for width := 1; width < len(spans); width *= 2 {
		for lo := 0; lo < len(spans); lo += 2 * width {
			mid, hi := min(lo+width, len(spans)), min(lo+2*width, len(spans))
			i, j, k := lo, mid, lo
			for ; i < mid && j < hi; k++ {
				if less(src[j], src[i]) {
					dst[k], j = src[j], j+1
				} else {
					dst[k], i = src[i], i+1
				}
			}
			k += copy(dst[k:], src[i:mid])
			copy(dst[k:], src[j:hi])
		}
		src, dst = dst, src
	}
	copy(spans, src)
}
