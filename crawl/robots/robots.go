// Package robots parses robots.txt files and decides, per RFC 9309, whether a
// crawler may fetch a URL.
//
// The parser follows RFC 9309 (the Robots Exclusion Protocol) and is checked
// against the conformance cases of Google's reference parser. It also reads two
// records the RFC leaves to implementations: Sitemap and Crawl-delay. The
// Google-only extensions (typos such as "disalow", a 16 KiB line cap, and
// "/index.html" standing for "/") are deliberately left out.
package robots

import (
	"slices"
	"strings"
	"time"
)

// MaxSize is the number of bytes of a robots.txt body that Parse reads, the
// minimum parsing limit RFC 9309 §2.5 asks crawlers to honour.
const MaxSize = 500 << 10

// Robots is a parsed robots.txt. Immutable and safe for concurrent use. The
// zero Robots allows everything.
type Robots struct {
	groups   map[string]*group // by lower-case product token
	star     *group            // the "*" group, or nil
	sitemaps []string
}

// group is what applies to one product token (or to "*"): the rules of every
// group of the file that names it, which RFC 9309 §2.2.1 merges into one.
type group struct {
	name string // the token as first written in the file
	// sets holds the rules of each group of the file naming the token, in
	// file order. They are kept apart rather than copied into one list, since
	// a run of many user-agent lines would otherwise copy its rules as many
	// times.
	sets     []*ruleSet
	delay    time.Duration
	hasDelay bool
}

// ruleSet is the rules of one group of the file, most specific first (see
// sortRules).
type ruleSet struct {
	rules []rule
}

// Verdict explains a decision so a user can be told exactly why a URL was
// skipped.
type Verdict struct {
	Allowed bool
	// Group is the user-agent token of the group that applied, as first
	// written in the file ("*" or e.g. "mybot"); "" if no group applied.
	Group string
	// Rule is the deciding rule as written, e.g. "Disallow: /private/*",
	// without any trailing comment; "" when no rule matched.
	Rule string
	// Line is the 1-based line of the deciding rule in the file; 0 when no
	// rule matched or the rule is the synthetic one of DisallowAll.
	Line int
}

// AllowAll returns a Robots that allows every URL, the RFC 9309 §2.3.1.3
// answer to a robots.txt that is missing (4xx).
func AllowAll() *Robots {
	return &Robots{}
}

// DisallowAll returns a Robots that disallows every URL except /robots.txt,
// the RFC 9309 §2.3.1.4 answer to a robots.txt that is unreachable (5xx or a
// network error). Its verdicts name the rule "Disallow: /" with Line 0.
func DisallowAll() *Robots {
	return &Robots{star: &group{
		name: "*",
		sets: []*ruleSet{{rules: []rule{{pattern: "/", star: -1, specificity: 1, text: "Disallow: /"}}}},
	}}
}

// MaxRedirects is how many redirects a crawler follows to reach a
// robots.txt, the five RFC 9309 §2.3.1.2 asks for at least.
const MaxRedirects = 5

// Availability is what the answer to a robots.txt request means for
// crawling its host (RFC 9309 §2.3.1).
type Availability int

const (
	// Available: robots.txt answered 2xx, and the rules of its body apply.
	Available Availability = iota
	// Unrestricted: robots.txt answered 4xx (other than 429), or still
	// redirected after MaxRedirects hops: there are no rules, and
	// everything is allowed (§2.3.1.2, §2.3.1.3).
	Unrestricted
	// Unreachable: robots.txt answered 429, 5xx or another status, or gave
	// no answer: everything is disallowed until it can be fetched, which is
	// to be tried again later (§2.3.1.4). 429 is read as a server too busy
	// to answer, as most large crawlers read it, not as a missing file.
	Unreachable
)

// FromResponse returns what a robots.txt request that ended with status
// (0 when no response arrived; a 3xx once the redirects to follow are
// used up) and body means: the rules that apply to the host (the parsed
// body, AllowAll or DisallowAll) and why. It is the one reading of a
// robots.txt status: the crawl, its cached records, FetchOne and explain
// all decide by it.
func FromResponse(status int, body []byte) (*Robots, Availability) {
	switch {
	case status >= 200 && status < 300:
		return Parse(body), Available
	case status == 429:
		return DisallowAll(), Unreachable
	case status >= 300 && status < 500:
		return AllowAll(), Unrestricted
	}
	return DisallowAll(), Unreachable
}

// Parse parses a robots.txt body. It never fails: lines that cannot be parsed
// are ignored, as RFC 9309 §2.2 says.
//
// Parse reads at most MaxSize bytes. A body of MaxSize bytes or more is taken
// to have been cut by a size limit, so its last line is dropped unless it ends
// with a line break: a cut rule could allow more than the file does.
//
// Lines end at CR, LF or CRLF; a UTF-8 byte order mark (or a prefix of one) at
// the start is skipped; "#" starts a comment anywhere on a line. Keys are
// matched case-insensitively and exactly. A line without a colon is read as a
// key and a value only when it is exactly two words separated by white space
// ("disallow /x"), as the reference parser of the RFC does; the Google-only
// extensions are not implemented.
//
// Rules before the first user-agent line are ignored. Consecutive user-agent
// lines share one group; the first rule ends the run of user-agent lines, and
// other records (Sitemap, Crawl-delay, unknown keys) never do (§2.2.4). A
// user-agent value is read up to the first character outside [a-zA-Z_-], so
// "FooBot/1.0" names FooBot; "*" (alone or followed by white space) names the
// global group.
//
// Rule values are brought to the comparison form of RFC 9309 §2.2.2: bytes
// outside ASCII, controls, space and the characters "<>\"\\^`{|} are
// percent-encoded as UTF-8 octets, existing %xx escapes get upper-case hex, and
// a "%" that starts no escape becomes %25. Escapes in rules are not decoded:
// the RFC decodes only the URI, so "Allow: /%62az" matches "/%62az" but not
// "/baz". Values that do not start with "/" are kept; one that starts with "*"
// (such as "*.pdf") still matches.
func Parse(body []byte) *Robots {
	if len(body) >= MaxSize {
		body = body[:MaxSize]
		if c := body[len(body)-1]; c != '\n' && c != '\r' {
			body = body[:max(0, lastLineBreak(body)+1)]
		}
	}
	r := &Robots{}
	var (
		sets    []*ruleSet // every rule set, to sort at the end
		cur     *ruleSet   // the rules of the current group of the file
		run     []*group   // the groups its user-agent lines name
		delayed int        // run[:delayed] have seen a Crawl-delay line
		inRules bool       // a rule has been seen since the last user-agent line
	)
	seenSitemap := make(map[string]bool)
	scan(string(body), func(d directive) {
		switch d.kind {
		case keyUserAgent:
			if cur == nil || inRules {
				cur = &ruleSet{}
				sets = append(sets, cur)
				run, delayed, inRules = run[:0], 0, false
			}
			g := r.groupFor(d.value)
			if g != nil && (len(g.sets) == 0 || g.sets[len(g.sets)-1] != cur) {
				g.sets = append(g.sets, cur)
				run = append(run, g)
			}
		case keyAllow, keyDisallow:
			inRules = true
			if len(run) == 0 {
				return
			}
			if rl, ok := newRule(d); ok {
				cur.rules = append(cur.rules, rl)
			}
		case keyCrawlDelay:
			delay, ok := parseDelay(d.value)
			if !ok {
				return
			}
			// A Crawl-delay applies to the groups named above it that have
			// none yet: files put one under each user-agent line, and a
			// Crawl-delay does not end a run of user-agent lines.
			for _, g := range run[delayed:] {
				if !g.hasDelay {
					g.delay, g.hasDelay = delay, true
				}
			}
			delayed = len(run)
		case keySitemap:
			if d.value != "" && !seenSitemap[d.value] {
				seenSitemap[d.value] = true
				r.sitemaps = append(r.sitemaps, strings.Clone(d.value))
			}
		}
	})
	for _, set := range sets {
		sortRules(set.rules)
	}
	return r
}

// lastLineBreak returns the index of the last CR or LF in b, or -1.
func lastLineBreak(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' || b[i] == '\r' {
			return i
		}
	}
	return -1
}

// groupFor returns the group a user-agent value names, creating it, or nil
// when the value names no valid product token.
func (r *Robots) groupFor(value string) *group {
	if value == "" {
		return nil
	}
	if value[0] == '*' && (len(value) == 1 || isSpace(value[1])) {
		if r.star == nil {
			r.star = &group{name: "*"}
		}
		return r.star
	}
	token := ProductToken(value)
	if token == "" {
		return nil
	}
	key := strings.ToLower(token)
	if r.groups == nil {
		r.groups = make(map[string]*group)
	}
	g := r.groups[key]
	if g == nil {
		g = &group{name: strings.Clone(token)}
		r.groups[key] = g
	}
	return g
}

// group returns the group that applies to agent: the one named by its product
// token, else "*", else nil.
func (r *Robots) group(agent string) *group {
	if len(r.groups) > 0 && agent != "" {
		// Lower-case into a stack buffer: the map lookup below does not
		// allocate for a converted byte slice.
		var buf [64]byte
		if len(agent) <= len(buf) {
			b := buf[:len(agent)]
			for i := 0; i < len(agent); i++ {
				b[i] = toLower(agent[i])
			}
			if g := r.groups[string(b)]; g != nil {
				return g
			}
		} else if g := r.groups[strings.ToLower(agent)]; g != nil {
			return g
		}
	}
	return r.star
}

// Test reports whether the URL path (with query, as sent on the wire:
// "/a/b?c=d"; "" means "/") may be fetched by a crawler whose product token is
// agent (compared case-insensitively; an agent outside [a-zA-Z_-] matches only
// the "*" group).
//
// The group is the one naming agent (all such groups merged), else "*", else
// none, and then everything is allowed (RFC 9309 §2.2.1). Among the rules of
// the group that match, the longest pattern wins, and Allow wins a tie
// (§2.2.2). "*" matches any run of bytes and a final "$" anchors the end
// (§2.2.3). "/robots.txt" is always allowed.
//
// pathQuery should be percent-encoded as sent on the wire: raw non-ASCII bytes
// are compared as they are, so they never match a rule written with the same
// characters (which Parse percent-encodes). Per RFC 9309 §2.2.2 a rule matches
// when it matches the path either as sent (with upper-case hex) or in the
// RFC's comparison form: escapes of unreserved characters decoded ("/%7Efoo"
// as "/~foo"), a literal "*" or "$" escaped so that "%2A" and "%24" in rules
// match them, and the characters Parse escapes in rules escaped the same way.
// A fragment, if any, is ignored.
//
// Test does not allocate unless pathQuery needs rewriting and is longer than
// 255 bytes, or agent is longer than 64 bytes.
func (r *Robots) Test(agent, pathQuery string) Verdict {
	g := r.group(agent)
	if g == nil {
		return Verdict{Allowed: true}
	}
	if i := strings.IndexByte(pathQuery, '#'); i >= 0 {
		pathQuery = pathQuery[:i]
	}
	if isRobotsTxt(pathQuery) {
		return Verdict{Allowed: true}
	}
	v := Verdict{Allowed: true, Group: g.name}
	var buf0, buf1 [256]byte
	var sent, norm string
	same, formed := false, false
	var best *rule
	for _, set := range g.sets {
		for i := range set.rules {
			rl := &set.rules[i]
			if best != nil && !rl.beats(best) {
				break // the rest of the set is no more specific
			}
			if !formed {
				sent, norm, same = comparisonForms(pathQuery, buf0[:0], buf1[:0])
				formed = true
			}
			if rl.match(sent) || (!same && rl.match(norm)) {
				best = rl
				break
			}
		}
	}
	if best != nil {
		v.Allowed, v.Rule, v.Line = best.allow, best.text, best.line
	}
	return v
}

// isRobotsTxt reports whether pathQuery names /robots.txt itself.
func isRobotsTxt(pathQuery string) bool {
	const name = "/robots.txt"
	return strings.HasPrefix(pathQuery, name) && (len(pathQuery) == len(name) || pathQuery[len(name)] == '?')
}

// CrawlDelay returns the Crawl-delay of the group that applies to agent, if
// any: the first valid Crawl-delay line below a user-agent line naming the
// group. Values are decimal seconds ("10", "0.5"); other values are ignored.
// The "*" group's delay is not used when agent has a group of its own.
func (r *Robots) CrawlDelay(agent string) (time.Duration, bool) {
	g := r.group(agent)
	if g == nil || !g.hasDelay {
		return 0, false
	}
	return g.delay, true
}

// Sitemaps returns the Sitemap: URLs listed anywhere in the file, in order,
// deduplicated, exactly as written (they are not resolved or checked).
func (r *Robots) Sitemaps() []string {
	return slices.Clone(r.sitemaps)
}

// ProductToken extracts the product token from a full User-Agent header value
// ("MyCrawler/1.2 (+https://x/bot)" -> "MyCrawler"): the leading run of
// [a-zA-Z_-] after any white space, as RFC 9309 §2.2.1 defines product tokens.
// It returns "" when there is none.
func ProductToken(userAgent string) string {
	s := strings.TrimLeft(userAgent, " \t")
	i := 0
	for i < len(s) && isTokenByte(s[i]) {
		i++
	}
	return s[:i]
}

// ValidProductToken reports whether token is a product token RFC 9309 §2.2.1
// allows a crawler to use: one or more of [a-zA-Z_-].
func ValidProductToken(token string) bool {
	for i := 0; i < len(token); i++ {
		if !isTokenByte(token[i]) {
			return false
		}
	}
	return token != ""
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_'
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
