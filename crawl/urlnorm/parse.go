package urlnorm

import (
	"fmt"
	"net/url"
	"strings"
)

// parts are the pieces of an http(s) URL that the canonical form keeps, as
// raw (not yet normalised) strings. The path is dir followed by path: dir is
// the directory of a base URL when a relative reference was merged with it
// (it then ends with "/"), and empty otherwise.
type parts struct {
	scheme      string // "http", "https", or "" for any other scheme
	hostport    string // host with optional ":port", without userinfo
	hostDecoded bool   // hostport was already percent-decoded (net/url does that)
	dir         string
	path        string // "\" counts as "/"
	query       string
	hasQuery    bool
	// userinfo and fragment are not part of the canonical form; only
	// ResolveReference keeps them.
	userinfo    string
	hasUserinfo bool
	fragment    string
	hasFragment bool
}

// partsOf returns the parts of a URL parsed by net/url. An opaque URL such
// as "http:foo" has no host.
func partsOf(u *url.URL) parts {
	p := parts{
		scheme:      knownScheme(u.Scheme),
		hostDecoded: true,
		query:       u.RawQuery,
		hasQuery:    u.RawQuery != "",
	}
	if u.Opaque == "" {
		p.hostport = u.Host
		p.path = escapedPath(u)
		if u.User != nil {
			p.userinfo, p.hasUserinfo = u.User.String(), true
		}
	}
	return p
}

// escapedPath returns u.EscapedPath(), quickly for the usual URL whose
// path net/url writes as it is.
func escapedPath(u *url.URL) string {
	if u.RawPath == "" && allIn(u.Path, netPathSet) {
		return u.Path
	}
	return u.EscapedPath()
}

// knownScheme returns "http" or "https" for those schemes in any case, and
// "" for anything else.
func knownScheme(s string) string {
	switch {
	case s == "http":
		return "http"
	case s == "https":
		return "https"
	case strings.EqualFold(s, "http"):
		return "http"
	case strings.EqualFold(s, "https"):
		return "https"
	}
	return ""
}

// parseRef splits ref into parts following the WHATWG URL parser for special
// schemes, resolving it against base when ref is relative. base may be nil.
func parseRef(ref string, base *parts) (parts, error) {
	return parseCleanRef(cleanRef(ref), base)
}

// parseCleanRef is parseRef of a reference cleanRef has cleaned.
func parseCleanRef(s string, base *parts) (parts, error) {
	scheme, rest, ok := splitScheme(s)
	if ok {
		known := knownScheme(scheme)
		if known == "" {
			return parts{}, fmt.Errorf("scheme %q: %w", scheme, ErrScheme)
		}
		// "http:x" with an http base is relative to the base; with no base
		// or another scheme it names the host x.
		if base != nil && base.scheme == known && !twoSlashes(rest) {
			return relative(rest, base)
		}
		return authority(known, trimSlashes(rest))
	}
	if base == nil {
		return parts{}, fmt.Errorf("relative reference without a base: %w", ErrScheme)
	}
	if base.scheme == "" {
		return parts{}, fmt.Errorf("relative reference against a non-http(s) base: %w", ErrScheme)
	}
	if twoSlashes(s) {
		return authority(base.scheme, trimSlashes(s))
	}
	return relative(s, base)
}

// cleanRef trims leading and trailing C0 controls and spaces and removes
// tabs and newlines, as browsers do with href attributes.
func cleanRef(s string) string {
	i, j := 0, len(s)
	for i < j && s[i] <= ' ' {
		i++
	}
	for j > i && s[j-1] <= ' ' {
		j--
	}
	s = s[i:j]
	for i := firstControl(s); i < len(s); i++ {
		if c := s[i]; c == '\t' || c == '\n' || c == '\r' {
			return strings.Map(func(r rune) rune {
				if r == '\t' || r == '\n' || r == '\r' {
					return -1
				}
				return r
			}, s)
		}
	}
	return s
}

// firstControl returns where the tab, newline or carriage return of s may
// begin: the first 8-byte block of s that holds a byte below 0x0e (SWAR's
// "has a byte less than n"), or else the bytes after the last whole block,
// which it does not read. The caller checks the bytes from there on.
func firstControl(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if (x-ones*0x0e)&^x&highs != 0 {
			return i
		}
	}
	return i
}

// splitScheme splits "scheme:rest". ok is false when s has no scheme.
func splitScheme(s string) (scheme, rest string, ok bool) {
	if s == "" || !isAlpha(s[0]) {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c) || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.':
		case c == ':':
			return s[:i], s[i+1:], true
		default:
			return "", s, false
		}
	}
	return "", s, false
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSlash(c byte) bool { return c == '/' || c == '\\' }

func twoSlashes(s string) bool { return len(s) >= 2 && isSlash(s[0]) && isSlash(s[1]) }

func trimSlashes(s string) string {
	for s != "" && isSlash(s[0]) {
		s = s[1:]
	}
	return s
}

// authority parses "host[:port]/path?query#fragment" (userinfo allowed).
func authority(scheme, s string) (parts, error) {
	end := strings.IndexAny(s, "/\\?#")
	if end < 0 {
		end = len(s)
	}
	host := s[:end]
	p := parts{scheme: scheme}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		p.userinfo, p.hasUserinfo = host[:at], true
		host = host[at+1:]
	}
	if host == "" {
		return parts{}, ErrNoHost
	}
	p.hostport = host
	p.splitPathQuery(s[end:])
	return p, nil
}

// relative resolves the scheme-less, authority-less reference s against base.
func relative(s string, base *parts) (parts, error) {
	p := parts{scheme: base.scheme, hostport: base.hostport, hostDecoded: base.hostDecoded,
		userinfo: base.userinfo, hasUserinfo: base.hasUserinfo}
	switch {
	case s == "" || s[0] == '#':
		p.dir, p.path, p.query, p.hasQuery = base.dir, base.path, base.query, base.hasQuery
		p.cutFragment(s)
	case s[0] == '?':
		p.dir, p.path = base.dir, base.path
		p.query, p.hasQuery = p.cutFragment(s[1:]), true
	case isSlash(s[0]):
		p.splitPathQuery(s)
	default:
		p.dir = directory(base)
		p.splitPathQuery(s)
	}
	return p, nil
}

// directory returns base's path up to and including its last slash. Bases
// come from partsOf, so their dir is empty and their path has no "\".
func directory(base *parts) string {
	if i := strings.LastIndexByte(base.path, '/'); i >= 0 {
		return base.path[:i+1]
	}
	return "/"
}

// splitPathQuery sets p's path, query and fragment from s.
func (p *parts) splitPathQuery(s string) {
	s = p.cutFragment(s)
	p.path, p.query, p.hasQuery = s, "", false
	if i := strings.IndexByte(s, '?'); i >= 0 {
		p.path, p.query, p.hasQuery = s[:i], s[i+1:], true
	}
}

// cutFragment sets p's fragment from s and returns s without it.
func (p *parts) cutFragment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		p.fragment, p.hasFragment = s[i+1:], true
		return s[:i]
	}
	return s
}
