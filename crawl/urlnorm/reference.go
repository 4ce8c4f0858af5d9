package urlnorm

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
)

// ResolveReference reads ref, the value of an href or src attribute, the
// way a browser does in a document whose base URL is base, and returns the
// absolute URL it names. It is the one place where the crawler turns an
// attribute into a URL: links, <base href>, rel=canonical and extraction
// rules' url fields all go through it.
//
// An http or https URL (or a reference resolved against an http or https
// base) is read exactly as [Normalizer.Resolve] reads it: surrounding
// spaces and control characters are trimmed, tabs and newlines removed, "\"
// before the query counts as "/", "http:host" and "///host" name a host,
// and "//host/x", "/x", "?q", "#f", "x" and "../x" are resolved against
// base; dot segments (also spelled "%2e") are removed from the path.
// Unlike Resolve it does not canonicalize: the userinfo, the fragment and
// the spelling of host, path and query are kept, except that what net/url
// cannot hold is percent-encoded (a "%" that starts no escape, spaces,
// control characters, and in the path non-ASCII bytes and the like) and
// escapes of letters, digits and sub-delimiters in a host are decoded. So
// for any Normalizer n, n.Canonical of the result is n.Resolve(base, ref)
// whenever both succeed.
//
// A URL with another scheme (mailto:, ftp:, javascript:) is parsed by
// net/url as written, after the same trimming and escaping, as is a
// relative reference against a base with another scheme. base may be nil
// when ref is absolute. Errors wrap [ErrScheme] (a relative reference
// without a base), [ErrNoHost] or [ErrInvalid].
func ResolveReference(base *url.URL, ref string) (*url.URL, error) {
	r := NewResolver(base)
	return r.Resolve(ref)
}

// A Resolver resolves references against one base URL, the document's
// for the links of a page, as ResolveReference does. It reads the base
// once.
type Resolver struct {
	base *url.URL
	bp   parts // the parts of base, if any
}

// NewResolver returns a Resolver for base, which may be nil (then only
// absolute references resolve).
func NewResolver(base *url.URL) Resolver {
	r := Resolver{base: base}
	if base != nil {
		r.bp = partsOf(base)
	}
	return r
}

// Resolve is ResolveReference of ref against the Resolver's base.
func (r *Resolver) Resolve(ref string) (*url.URL, error) {
	var bp *parts
	if r.base != nil {
		bp = &r.bp
	}
	u, err := resolveReference(r.base, bp, ref)
	if err != nil {
		if r.base == nil {
			return nil, fmt.Errorf("resolve %q: %w", ref, err)
		}
		return nil, fmt.Errorf("resolve %q against %q: %w", ref, r.base.Redacted(), err)
	}
	return u, nil
}

// resolveReference resolves ref against base, whose parts are bp.
func resolveReference(base *url.URL, bp *parts, ref string) (*url.URL, error) {
	s := cleanRef(ref)
	scheme, _, abs := splitScheme(s)
	switch {
	case abs && knownScheme(scheme) == "":
		return parseEscaped(nil, s)
	case !abs && base == nil:
		return nil, fmt.Errorf("relative reference without a base: %w", ErrScheme)
	case !abs && bp.scheme == "":
		return parseEscaped(base, s)
	}
	p, err := parseCleanRef(s, bp)
	if err != nil {
		return nil, err
	}
	if !p.hostDecoded {
		return p.parse()
	}
	// Relative to base: its scheme, userinfo and host, which net/url has
	// checked, and a new path, query and fragment.
	if base.Host == "" {
		return nil, ErrNoHost
	}
	var arr [256]byte
	b, pathEnd, queryEnd := p.appendTail(arr[:0])
	tail := string(b)
	u := &url.URL{Scheme: p.scheme, User: base.User, Host: base.Host}
	// As net/url sets them: RawPath only when the path is not written as
	// net/url would write it. The escapes are valid: appendRef made them so.
	if path := tail[:pathEnd]; allIn(path, netPathSet) {
		u.Path = path
	} else {
		u.Path, u.RawPath = unescape(path), path
	}
	if p.hasQuery {
		u.RawQuery = tail[pathEnd+1 : queryEnd]
		u.ForceQuery = u.RawQuery == ""
	}
	if p.hasFragment {
		u.RawFragment = tail[queryEnd+1:]
		u.Fragment = unescape(u.RawFragment)
	}
	return u, nil
}

// unescape decodes the valid escapes of s.
func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	d, _ := url.PathUnescape(s)
	return d
}

// parse builds the URL p names and has net/url parse it, checking the
// host read from a reference.
func (p *parts) parse() (*url.URL, error) {
	var arr [256]byte
	b := append(arr[:0], p.scheme...)
	b = append(b, "://"...)
	if p.hasUserinfo {
		b = appendRef(b, p.userinfo, escUserinfo)
		b = append(b, '@')
	}
	b = appendHostRef(b, p.hostport)
	b, _, _ = p.appendTail(b)
	u, err := url.Parse(string(b))
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	if u.Host == "" {
		return nil, ErrNoHost
	}
	return u, nil
}

// appendTail appends the path, without dot segments, the query and the
// fragment of p, escaped for net/url, and returns where the path and the
// query end in b.
func (p *parts) appendTail(b []byte) (_ []byte, pathEnd, queryEnd int) {
	start := len(b)
	if p.dir == "" && (p.path == "" || !isSlash(p.path[0])) {
		b = append(b, '/')
	}
	b = appendRef(b, p.dir, escPath)
	b = appendRef(b, p.path, escPath)
	b = removeDots(b, start)
	pathEnd = len(b)
	if p.hasQuery {
		b = append(b, '?')
		b = appendRef(b, p.query, escOther)
	}
	queryEnd = len(b)
	if p.hasFragment {
		b = append(b, '#')
		b = appendRef(b, p.fragment, escOther)
	}
	return b, pathEnd, queryEnd
}

// removeDots removes the dot segments of the path b[start:], which starts
// with "/", as the WHATWG URL parser does: "." and ".." (also spelled with
// "%2e") are dropped, ".." with the segment before it, and one ending the
// path leaves it ending in "/". It works in place.
func removeDots(b []byte, start int) []byte {
	if !hasDotSegment(b[start:]) {
		return b
	}
	w := start // b[start:w] is the path so far
	for r := start; r < len(b); {
		end := r + 1
		for end < len(b) && b[end] != '/' {
			end++
		}
		seg, last := b[r+1:end], end == len(b)
		switch dots := dotSegment(seg); {
		case dots == 2:
			if w > start {
				w = start + bytes.LastIndexByte(b[start:w], '/')
			}
			fallthrough
		case dots == 1:
			if last {
				b[w] = '/'
				w++
			}
		default:
			w += copy(b[w:], b[r:end])
		}
		r = end
	}
	return b[:w]
}

// hasDotSegment reports whether the path p has a segment that may be a dot
// segment.
func hasDotSegment(p []byte) bool {
	for {
		i := bytes.IndexByte(p, '/')
		if i < 0 || i+1 >= len(p) {
			return false
		}
		if p[i+1] == '.' || p[i+1] == '%' {
			return true
		}
		p = p[i+1:]
	}
}

// dotSegment returns 1 for ".", 2 for ".." (either also spelled with
// "%2e"), and 0 for any other segment.
func dotSegment(seg []byte) int {
	n := 0
	for len(seg) > 0 {
		switch {
		case seg[0] == '.':
			seg = seg[1:]
		case len(seg) >= 3 && seg[0] == '%' && seg[1] == '2' && seg[2]|0x20 == 'e':
			seg = seg[3:]
		default:
			return 0
		}
		if n++; n > 2 {
			return 0
		}
	}
	return n
}

// parseEscaped parses s, a URL of a scheme other than http and https or a
// reference relative to such a base, with net/url.
func parseEscaped(base *url.URL, s string) (*url.URL, error) {
	es := string(appendRef(nil, s, escOther))
	var u *url.URL
	var err error
	if base != nil {
		u, err = base.Parse(es)
	} else {
		u, err = url.Parse(es)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("relative reference without a base: %w", ErrScheme)
	}
	return u, nil
}

// appendHostRef appends a host as written in a reference, with the
// escapes of characters a domain may hold decoded: net/url accepts escapes
// only of non-ASCII bytes there. An IPv6 literal is never decoded.
func appendHostRef(b []byte, s string) []byte {
	if strings.HasPrefix(s, "[") {
		return append(b, s...)
	}
	done := 0
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		h, l := unhex(s[i+1]), unhex(s[i+2])
		if c := h<<4 | l; h < 8 && l < 16 && (isUnreserved(c) || strings.IndexByte("!$&'()*+,;=", c) >= 0) {
			b = append(b, s[done:i]...)
			b = append(b, c)
			done = i + 3
			i += 2
		}
	}
	return append(b, s[done:]...)
}

// Components for appendRef.
const (
	escOther = iota
	escPath
	escUserinfo
)

// appendRef appends s, component comp of a URL, with the bytes net/url
// rejects percent-encoded: a "%" that does not begin an escape, spaces and
// control characters. In a path or userinfo it also encodes every other
// byte RFC 3986 does not allow there (non-ASCII bytes, any of `"<>^{|}`
// and backquote, and "[" "]" in userinfo): net/url rejects them in
// userinfo, and writes a path holding one anew, escaping sub-delimiters as
// it goes. In a path "\" counts as "/".
func appendRef(b []byte, s string, comp int) []byte {
	plain := refPlain[comp]
	done := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if plain[c] {
			continue
		}
		switch {
		case c == '%' && i+2 < len(s) && unhex(s[i+1]) < 16 && unhex(s[i+2]) < 16:
			continue // an escape
		case c == '\\' && comp == escPath:
			b = append(b, s[done:i]...)
			b = append(b, '/')
		default:
			b = append(b, s[done:i]...)
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
		done = i + 1
	}
	return append(b, s[done:]...)
}

// refPlain are, for each component, the bytes appendRef copies as they
// are without a second look: all but "%", spaces and controls in any
// component, and in a path or userinfo only those RFC 3986 allows there
// ("/" "[" "]" too in a path).
var refPlain = [...]*byteSet{
	escOther:    setWhere(func(c byte) bool { return c > ' ' && c != 0x7f && c != '%' }),
	escPath:     setOf(pcharLo|1<<'/', pcharHi|1<<('['-64)|1<<(']'-64)),
	escUserinfo: setOf(pcharLo, pcharHi),
}
