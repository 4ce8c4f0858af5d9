package robots

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// rule is one Allow or Disallow line, ready to match.
type rule struct {
	pattern     string // comparison form, without a final "$"
	star        int    // index of the first "*" in pattern, or -1
	anchored    bool   // the pattern ended in "$"
	specificity int    // octets in the comparison form, "$" included
	allow       bool
	line        int
	text        string // the line as written, for Verdict.Rule
}

// newRule builds the rule of an Allow or Disallow directive. An empty value
// matches nothing (RFC 9309 empty-pattern), so it yields no rule.
func newRule(d directive) (rule, bool) {
	if d.value == "" {
		return rule{}, false
	}
	text := strings.Clone(d.text)
	value := text[len(text)-len(d.value):]
	pattern := escapePattern(value)
	rl := rule{
		specificity: len(pattern),
		allow:       d.kind == keyAllow,
		line:        d.line,
		text:        text,
	}
	if p, ok := strings.CutSuffix(pattern, "$"); ok {
		rl.pattern, rl.anchored = p, true
	} else {
		rl.pattern = pattern
	}
	rl.star = strings.IndexByte(rl.pattern, '*')
	return rl, true
}

// sortRules orders rules so that the first one to match decides: most
// specific first, Allow before Disallow on a tie, then in file order.
func sortRules(rules []rule) {
	slices.SortStableFunc(rules, func(a, b rule) int {
		if a.specificity != b.specificity {
			return b.specificity - a.specificity
		}
		if a.allow != b.allow {
			if a.allow {
				return -1
			}
			return 1
		}
		return 0
	})
}

// beats reports whether rl decides over other when both match: it is more
// specific, or as specific and an Allow where other is a Disallow.
func (rl *rule) beats(other *rule) bool {
	if rl.specificity != other.specificity {
		return rl.specificity > other.specificity
	}
	return rl.allow && !other.allow
}

// match reports whether the rule matches path, a comparison form. "*" matches
// any run of bytes; the pattern is anchored at the start of path and, when
// the rule ended in "$", at its end. Taking the leftmost match of each
// literal segment in turn is enough: it leaves the most room for the rest.
func (rl *rule) match(path string) bool {
	pat, i := rl.pattern, rl.star
	if i < 0 {
		if rl.anchored {
			return path == pat
		}
		return strings.HasPrefix(path, pat)
	}
	if !strings.HasPrefix(path, pat[:i]) {
		return false
	}
	path, pat = path[i:], pat[i+1:]
	for {
		i = strings.IndexByte(pat, '*')
		if i < 0 {
			if rl.anchored {
				return strings.HasSuffix(path, pat)
			}
			return strings.Contains(path, pat)
		}
		if seg := pat[:i]; seg != "" {
			j := strings.Index(path, seg)
			if j < 0 {
				return false
			}
			path = path[j+len(seg):]
		}
		pat = pat[i+1:]
	}
}

const upperHex = "0123456789ABCDEF"

// escapePattern brings a rule value to comparison form: bytes outside ASCII
// and those mustEscape reports are percent-encoded, %xx escapes get upper-case
// hex, and a "%" that starts no escape becomes %25. "*" and "$" stay, since
// they are the pattern syntax.
func escapePattern(v string) string {
	if !patternNeedsEscape(v) {
		return v
	}
	b := make([]byte, 0, len(v)+16)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+2 < len(v) && isHex(v[i+1]) && isHex(v[i+2]):
			b = append(b, '%', toUpperHex(v[i+1]), toUpperHex(v[i+2]))
			i += 2
		case c == '%' || c >= 0x80 || mustEscape(c):
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func patternNeedsEscape(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%':
			if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) || isLowerHex(v[i+1]) || isLowerHex(v[i+2]) {
				return true
			}
			i += 2
		case c >= 0x80 || mustEscape(c):
			return true
		}
	}
	return false
}

// comparisonForms returns the two forms of pathQuery that rules are matched
// against: as sent, with upper-case hex in escapes; and the RFC 9309 §2.2.2
// form, with escapes of unreserved characters decoded, a literal "*" or "$"
// escaped (so that rules can name them as %2A and %24), and the bytes
// escapePattern escapes in rules escaped too. Raw bytes outside ASCII are left
// alone in both. same reports that the two forms are equal, which for most
// paths they are, and then neither buffer is used. A path that does not start
// with "/" gets one.
func comparisonForms(pathQuery string, buf0, buf1 []byte) (sent, norm string, same bool) {
	needSent, needNorm := pathQuery == "" || pathQuery[0] != '/', false
	for i := 0; i < len(pathQuery); i++ {
		c := pathQuery[i]
		if !isNormSpecial(c) {
			continue
		}
		needNorm = true
		if c == '%' && i+2 < len(pathQuery) && (isLowerHex(pathQuery[i+1]) || isLowerHex(pathQuery[i+2])) {
			needSent = true
		}
	}
	if !needSent && !needNorm {
		return pathQuery, pathQuery, true
	}
	sent = pathQuery
	if needSent {
		sent = bytesString(appendSent(buf0, pathQuery))
	}
	if !needNorm {
		return sent, sent, true
	}
	return sent, bytesString(appendNorm(buf1, pathQuery)), false
}

func appendSent(b []byte, p string) []byte {
	if p == "" || p[0] != '/' {
		b = append(b, '/')
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			b = append(b, '%', toUpperHex(p[i+1]), toUpperHex(p[i+2]))
			i += 2
		} else {
			b = append(b, c)
		}
	}
	return b
}

func appendNorm(b []byte, p string) []byte {
	if p == "" || p[0] != '/' {
		b = append(b, '/')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			if d := unhex(p[i+1])<<4 | unhex(p[i+2]); isUnreserved(d) {
				b = append(b, d)
			} else {
				b = append(b, '%', toUpperHex(p[i+1]), toUpperHex(p[i+2]))
			}
			i += 2
		case c == '%' || c == '*' || c == '$' || c < 0x80 && mustEscape(c):
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

// bytesString views b as a string without copying. b must not change while
// the string is in use; comparisonForms' buffers are written once and then
// only read by Test.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// normSpecialLo and normSpecialHi are the bytes 0-63 and 64-127 that
// appendNorm rewrites: "%", "*", "$" and the bytes mustEscape reports.
const (
	normSpecialLo uint64 = 1<<33 - 1 | 1<<'"' | 1<<'$' | 1<<'%' | 1<<'*' | 1<<'<' | 1<<'>'
	normSpecialHi uint64 = 1<<('\\'-64) | 1<<('^'-64) | 1<<('`'-64) | 1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<(0x7F-64)
)

// isNormSpecial reports whether appendNorm rewrites c.
func isNormSpecial(c byte) bool {
	if c < 64 {
		return normSpecialLo&(1<<c) != 0
	}
	return c < 128 && normSpecialHi&(1<<(c-64)) != 0
}

// mustEscape reports the ASCII bytes that never appear unescaped in a request
// target sent by a conforming client: controls, space, and "<>\"\\^`{|}.
func mustEscape(c byte) bool {
	switch c {
	case '"', '<', '>', '\\', '^', '`', '{', '|', '}', 0x7F:
		return true
	}
	return c <= ' '
}

// isUnreserved reports the unreserved characters of RFC 3986 §2.3.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLowerHex(c byte) bool { return 'a' <= c && c <= 'f' }

func toUpperHex(c byte) byte {
	if isLowerHex(c) {
		return c - ('a' - 'A')
	}
	return c
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// parseDelay reads a Crawl-delay value: decimal seconds, such as "10" or
// "0.5". Delays too long for a time.Duration are clamped to the longest one.
func parseDelay(v string) (time.Duration, bool) {
	digits, dot := 0, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 {
		return 0, false
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	if secs >= float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64), true
	}
	return time.Duration(secs * float64(time.Second)), true
}
