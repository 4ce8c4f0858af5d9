package urlnorm

import (
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
// base, whose dot segments are then removed. Unlike Resolve it does not
// canonicalize: the userinfo, the fragment and the spelling of host, path
// and query are kept, except that bytes net/url cannot hold (a "%" that
// starts no escape, spaces and control characters) are percent-encoded.
// So for any Normalizer n, n.Canonical of the result is n.Resolve(base,
// ref) whenever both succeed.
//
// A URL with another scheme (mailto:, ftp:, javascript:) is parsed by
// net/url as written, after the same trimming and escaping, as is a
// relative reference against a base with another scheme. base may be nil
// when ref is absolute. Errors wrap [ErrScheme] (a relative reference
// without a base), [ErrNoHost] or [ErrInvalid].
func ResolveReference(base *url.URL, ref string) (*url.URL, error) {
	u, err := resolveReference(base, ref)
	if err != nil {
		if base == nil {
			return nil, fmt.Errorf("resolve %q: %w", ref, err)
		}
		return nil, fmt.Errorf("resolve %q against %q: %w", ref, base.Redacted(), err)
	}
	return u, nil
}

func resolveReference(base *url.URL, ref string) (*url.URL, error) {
	s := cleanRef(ref)
	scheme, _, abs := splitScheme(s)
	var bp *parts
	if base != nil {
		p := partsOf(base)
		bp = &p
	}
	switch {
	case abs && knownScheme(scheme) == "":
		return parseEscaped(nil, s)
	case !abs && base == nil:
		return nil, fmt.Errorf("relative reference without a base: %w", ErrScheme)
	case !abs && bp.scheme == "":
		return parseEscaped(base, s)
	}
	p, err := parseRef(s, bp)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	b.Grow(len(p.scheme) + len(p.userinfo) + len(p.hostport) + len(p.dir) + len(p.path) + len(p.query) + len(p.fragment) + 8)
	b.WriteString(p.scheme)
	b.WriteString("://")
	if p.hasUserinfo {
		writeEscaped(&b, p.userinfo, escUserinfo)
		b.WriteByte('@')
	}
	if p.hostDecoded {
		b.WriteString(p.hostport)
	} else {
		writeHost(&b, p.hostport)
	}
	if p.dir == "" && (p.path == "" || !isSlash(p.path[0])) {
		b.WriteByte('/')
	}
	writeEscaped(&b, p.dir, escPath)
	writeEscaped(&b, strings.ReplaceAll(p.path, `\`, "/"), escPath)
	if p.hasQuery {
		b.WriteByte('?')
		writeEscaped(&b, p.query, escOther)
	}
	if p.hasFragment {
		b.WriteByte('#')
		writeEscaped(&b, p.fragment, escOther)
	}
	u, err := url.Parse(b.String())
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	if u.Host == "" {
		return nil, ErrNoHost
	}
	if strings.Contains(u.Path, "/.") {
		// Resolving an absolute reference removes its dot segments.
		u = new(url.URL).ResolveReference(u)
	}
	return u, nil
}

// parseEscaped parses s, a URL of a scheme other than http and https or a
// reference relative to such a base, with net/url.
func parseEscaped(base *url.URL, s string) (*url.URL, error) {
	var b strings.Builder
	writeEscaped(&b, s, escOther)
	var u *url.URL
	var err error
	if base != nil {
		u, err = base.Parse(b.String())
	} else {
		u, err = url.Parse(b.String())
	}
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	if u.Scheme == "" {
		return nil, fmt.Errorf("relative reference without a base: %w", ErrScheme)
	}
	return u, nil
}

// writeHost writes a host as written in a reference, with the escapes of
// characters a domain may hold decoded: net/url accepts escapes only of
// non-ASCII bytes there. An IPv6 literal is never decoded.
func writeHost(b *strings.Builder, s string) {
	if strings.HasPrefix(s, "[") {
		b.WriteString(s)
		return
	}
	done := 0
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		h, l := unhex(s[i+1]), unhex(s[i+2])
		if c := h<<4 | l; h < 8 && l < 16 && (isUnreserved(c) || strings.IndexByte("!$&'()*+,;=", c) >= 0) {
			b.WriteString(s[done:i])
			b.WriteByte(c)
			done = i + 3
			i += 2
		}
	}
	b.WriteString(s[done:])
}

// Components for writeEscaped.
const (
	escOther = iota
	escPath
	escUserinfo
)

// writeEscaped writes s, component comp of a URL, with the bytes net/url
// rejects percent-encoded: a "%" that does not begin an escape, spaces and
// control characters. In a path or userinfo it also encodes every other
// byte RFC 3986 does not allow there (non-ASCII bytes, any of `"<>\^{|}`
// and backquote, and "[" "]" in userinfo): net/url rejects them in
// userinfo, and writes a path holding one anew, escaping sub-delimiters as
// it goes.
func writeEscaped(b *strings.Builder, s string, comp int) {
	done := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && (i+2 >= len(s) || unhex(s[i+1]) == 16 || unhex(s[i+2]) == 16) || c <= ' ' || c == 0x7f ||
			comp != escOther && c != '%' && !inMasks(c, pcharLo, pcharHi) &&
				!(comp == escPath && (c == '/' || c == '[' || c == ']')) {
			b.WriteString(s[done:i])
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			done = i + 1
		}
	}
	b.WriteString(s[done:])
}
