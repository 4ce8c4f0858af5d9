// Package urlnorm decides when two URLs name the same resource: it turns an
// absolute http or https URL into the one canonical string the crawler uses
// as the frontier's dedup key, and resolves links found on pages into that
// form.
//
// # Canonical form
//
// This list is the project's reference for what "the same URL" means.
//
//   - Only http and https URLs with a host are accepted. Anything else is an
//     error wrapping [ErrScheme], [ErrNoHost] or [ErrInvalid].
//   - The scheme and the host are lowercased. Userinfo and the fragment are
//     dropped.
//   - The host is percent-decoded, must be valid UTF-8, and is converted to
//     ASCII with UTS #46 (golang.org/x/net/idna, lookup mapping,
//     non-transitional, Bidi and ContextJ rules on) the way the WHATWG URL
//     Standard configures it: STD3 character rules, hyphen-position checks
//     and DNS length limits are off, because host names with "_" or "--" in
//     the third and fourth position exist and are served. The resulting host
//     may contain only RFC 3986 reg-name characters (unreserved and
//     sub-delims); trailing dots are removed.
//   - A host whose last label is a number is an IPv4 address and is parsed
//     as WHATWG does ("0x7f.1" is 127.0.0.1) and written in dotted decimal.
//     IPv6 literals are written in the WHATWG form: lowercase hex, the first
//     longest run of two or more zero groups as "::", embedded IPv4 written
//     as hex, no zone.
//   - The port is dropped when it is the scheme's default (80 for http, 443
//     for https) or empty; otherwise it is written in decimal without
//     leading zeros. A port above 65535 or with a non-digit is an error.
//   - The path always begins with "/" (an empty path becomes "/"). "\" in a
//     parsed string counts as "/", as it does for browsers. Dot segments
//     ("." and "..", also written "%2e") are resolved; ".." never climbs
//     above the root. Duplicate slashes are kept unless
//     [Options.MergeSlashes] is set, because servers may treat "/a//b" and
//     "/a/b" differently.
//   - Percent-encoding is normalised in the path and the query without
//     changing meaning: an escape of an unreserved character (ALPHA DIGIT
//     "-" "." "_" "~") is decoded, every other escape keeps its encoding with
//     uppercase hex (so "%2F", "%2B", "%3F", "%26", "%3D", "%23" are never
//     decoded), a "%" that does not begin a valid escape becomes "%25", and
//     every byte RFC 3986 does not allow in the component is
//     percent-encoded: controls, space, non-ASCII (as the UTF-8 bytes of the
//     input) and any of `"#<>[\]^{|}` and backquote. "+" is left alone: it
//     means a space only to some servers.
//   - The query is split on "&". Empty pieces ("a=1&&b=2", a leading or
//     trailing "&") are dropped, parameters named by [Options.StripParams]
//     are removed, and the rest keep their order, duplicates and empty
//     values ("?a=&b" stays "?a=&b") unless [Options.SortQuery] sorts them
//     by name. A query left empty is dropped together with its "?".
//   - Path parameters (";name=value" inside a path segment) named by
//     [Options.StripParams] are removed too, for ";jsessionid=...".
//
// Strings given to [Normalizer.CanonicalString] and [Normalizer.Resolve] are
// read the way a browser reads a link (WHATWG URL Standard for special
// schemes): surrounding spaces and control characters are trimmed, tabs and
// newlines inside are removed, "\" counts as "/", "http:example.com" and
// "http:/example.com" name the host example.com, and a reference such as
// "//host/x", "?q", "#f" or "../x" is resolved against the base.
// [Normalizer.Canonical] takes the structure Go's net/url parser decided and
// applies the same rules to its parts; for ordinary URLs both give the same
// string. [ResolveReference] reads a link the same way but returns the URL
// it names without canonicalizing it: it is the one resolver behind the
// links, <base href>, rel=canonical and extraction rules' url fields of
// package parse, so that this package (a leaf that imports nothing of the
// crawler) owns how an attribute becomes a URL.
package urlnorm

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// Errors wrapped by every error this package returns, for errors.Is.
var (
	// ErrScheme reports a URL whose scheme is missing or not http or https.
	ErrScheme = errors.New("scheme is not http or https")
	// ErrNoHost reports an http or https URL with an empty host.
	ErrNoHost = errors.New("missing host")
	// ErrInvalid reports any other malformed URL: a bad port, a host with
	// forbidden characters, bad IDNA, a malformed IP address.
	ErrInvalid = errors.New("invalid URL")
)

// DefaultStripParams is the recommended Options.StripParams: tracking and
// session parameters that never select different content. New copies the
// slice it is given, so changing this variable does not affect existing
// Normalizers.
var DefaultStripParams = []string{
	"utm_*",         // Google Analytics campaign tags: utm_source, utm_medium, utm_campaign, ...
	"gclid",         // Google Ads click id
	"gbraid",        // Google Ads click id for iOS app campaigns
	"wbraid",        // Google Ads click id for iOS web campaigns
	"dclid",         // Google Display & Video 360 click id
	"srsltid",       // Google Merchant Center auto-tagging on search results
	"_ga",           // Google Analytics cross-domain linker
	"_gl",           // Google Analytics 4 cross-domain linker
	"fbclid",        // Facebook click id
	"msclkid",       // Microsoft Advertising click id
	"yclid",         // Yandex Direct click id
	"ttclid",        // TikTok click id
	"twclid",        // X (Twitter) click id
	"li_fat_id",     // LinkedIn ad click id
	"igshid",        // Instagram share id
	"mc_cid",        // Mailchimp campaign id
	"mc_eid",        // Mailchimp subscriber id
	"_hsenc",        // HubSpot email tracking
	"_hsmi",         // HubSpot email tracking
	"mkt_tok",       // Marketo email tracking
	"jsessionid",    // Java servlet session id (mostly the ;jsessionid= path parameter)
	"phpsessid",     // PHP session id
	"aspsessionid*", // classic ASP session id (ASPSESSIONIDxxxxxxxx)
	"sid",           // generic session id (phpBB and many forums)
	"sessionid",     // generic session id
}

// Options configure a Normalizer. The zero value strips nothing and keeps
// the query order.
type Options struct {
	// StripParams names the query parameters (and ";name=value" path
	// parameters) to remove. Names are matched case-insensitively against
	// the parameter name after percent-encoding normalisation; a trailing
	// "*" makes the pattern a prefix ("utm_*"). Nil strips nothing; use
	// DefaultStripParams for the recommended list.
	StripParams []string
	// SortQuery sorts query parameters by name, keeping the order of equal
	// names.
	SortQuery bool
	// MergeSlashes turns runs of "/" in the path into one. Off by default:
	// it changes meaning on some servers.
	MergeSlashes bool
}

// A Normalizer computes canonical URLs. It is immutable after New and safe
// for concurrent use.
type Normalizer struct {
	exact        []string // lowercase canonical parameter names
	prefixes     []string // lowercase canonical parameter name prefixes
	sortQuery    bool
	mergeSlashes bool
	idna         *idna.Profile
}

// New returns a Normalizer for o. It reports an error for a StripParams
// pattern that is empty, is "*" alone, has a "*" before its end, or contains
// a character that cannot be part of a parameter name ("&", "=", "#",
// spaces and controls).
func New(o Options) (*Normalizer, error) {
	n := &Normalizer{
		sortQuery:    o.SortQuery,
		mergeSlashes: o.MergeSlashes,
		// The WHATWG URL Standard's "domain to ASCII": UTS #46 lookup mapping,
		// non-transitional, CheckBidi and CheckJoiners on, UseSTD3ASCIIRules,
		// CheckHyphens and VerifyDnsLength off. The later options override
		// the STD3 and hyphen settings MapForLookup turns on.
		idna: idna.New(
			idna.MapForLookup(),
			idna.BidiRule(),
			idna.Transitional(false),
			idna.StrictDomainName(false),
			idna.CheckHyphens(false),
			idna.CheckJoiners(true),
			idna.VerifyDNSLength(false),
		),
	}
	for _, p := range o.StripParams {
		name, glob := strings.CutSuffix(p, "*")
		switch {
		case p == "":
			return nil, fmt.Errorf("strip param pattern %q: empty", p)
		case name == "":
			return nil, fmt.Errorf("strip param pattern %q: matches every parameter", p)
		case strings.Contains(name, "*"):
			return nil, fmt.Errorf("strip param pattern %q: '*' is allowed only at the end", p)
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c <= ' ' || c == 0x7f || c == '&' || c == '=' || c == '#' {
				return nil, fmt.Errorf("strip param pattern %q: invalid character %q", p, c)
			}
		}
		// Compare against names in their canonical spelling, so that
		// "filter[x]" matches "filter%5Bx%5D" and "%75tm_*" matches "utm_".
		canon := string(lowerASCII(appendEscaped(nil, name, queryChars)))
		if glob {
			n.prefixes = append(n.prefixes, canon)
		} else {
			n.exact = append(n.exact, canon)
		}
	}
	return n, nil
}

// Canonical returns the canonical form of the absolute URL u, as described
// in the package documentation. It uses the structure net/url gave u and
// reads only its scheme, host, escaped path and raw query.
func (n *Normalizer) Canonical(u *url.URL) (string, error) {
	p := partsOf(u)
	s, err := n.build(&p)
	if err != nil {
		return "", fmt.Errorf("canonicalize %q: %w", u.Redacted(), err)
	}
	return s, nil
}

// Key is what [Normalizer.Canonical] reads of a URL: URLs with equal keys
// have the same canonical form, or fail alike. Links that differ only in
// their fragment or userinfo have equal keys. Keys are comparable, for
// maps.
type Key struct {
	scheme, opaque, host, path, rawPath, rawQuery string
}

// KeyOf returns the key of u.
func KeyOf(u *url.URL) Key {
	return Key{u.Scheme, u.Opaque, u.Host, u.Path, u.RawPath, u.RawQuery}
}

// CanonicalString parses raw the way a browser reads an absolute link and
// returns its canonical form.
func (n *Normalizer) CanonicalString(raw string) (string, error) {
	p, err := parseRef(raw, nil)
	if err == nil {
		var s string
		if s, err = n.build(&p); err == nil {
			return s, nil
		}
	}
	return "", fmt.Errorf("canonicalize %q: %w", raw, err)
}

// Resolve resolves the reference ref, as found in a page, against base and
// returns the canonical absolute URL. base may be nil when ref is absolute;
// it is used only as far as ref needs it, so a base with another scheme or
// no host is an error only for a relative ref. ref is read the way a
// browser reads it: surrounding whitespace is trimmed, tabs and newlines
// inside are removed, "\" counts as "/", and "//host/x", "/x", "?q", "#f",
// "x" and "../x" are resolved against base.
func (n *Normalizer) Resolve(base *url.URL, ref string) (string, error) {
	var bp *parts
	if base != nil {
		p := partsOf(base)
		bp = &p
	}
	p, err := parseRef(ref, bp)
	if err == nil {
		var s string
		if s, err = n.build(&p); err == nil {
			return s, nil
		}
	}
	if base == nil {
		return "", fmt.Errorf("resolve %q: %w", ref, err)
	}
	return "", fmt.Errorf("resolve %q against %q: %w", ref, base.Redacted(), err)
}

// build writes the canonical URL for p. The buffer starts on the stack so
// that the returned string is usually the only allocation.
func (n *Normalizer) build(p *parts) (string, error) {
	var arr [256]byte
	if p.scheme == "" {
		return "", ErrScheme
	}
	b := append(arr[:0], p.scheme...)
	b = append(b, "://"...)
	b, err := n.appendHost(b, p)
	if err != nil {
		return "", err
	}
	b = n.appendPath(b, p.dir, p.path)
	if p.hasQuery {
		b = n.appendQuery(b, p.query)
	}
	return string(b), nil
}

// stripped reports whether the canonical parameter name key is one of the
// parameters to remove.
func (n *Normalizer) stripped(key []byte) bool {
	for _, p := range n.exact {
		if len(key) == len(p) && equalFoldLower(key, p) {
			return true
		}
	}
	for _, p := range n.prefixes {
		if len(key) >= len(p) && equalFoldLower(key[:len(p)], p) {
			return true
		}
	}
	return false
}

func (n *Normalizer) strips() bool { return len(n.exact)+len(n.prefixes) > 0 }

// equalFoldLower reports whether b equals the lowercase ASCII string lower,
// ignoring ASCII case in b.
func equalFoldLower(b []byte, lower string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func lowerASCII(b []byte) []byte {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return b
}
