package crawl

import (
	"fmt"
	"hash/maphash"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/store"
)

// scope decides, from a canonical URL alone, whether it is crawled, and if
// not, why. It is immutable except for the bounded trap counters.
type scope struct {
	hosts      map[hostKey]bool
	subdomains bool
	include    []*regexp.Regexp
	exclude    []*regexp.Regexp
	limits     Limits
	policy     *addrPolicy
	variants   *variantCounter
}

// newScope builds the scope of cfg. Its hosts are scope.hosts, or else the
// hosts of the seeds (the URL list in list mode) and of the configured
// sitemaps, each in its canonical form, so that they are compared with
// canonical URLs as equals. A seed or sitemap that has no canonical form is
// left out here: Seed reports it.
func newScope(cfg *Config, norm *urlnorm.Normalizer, seeds []string, policy *addrPolicy) (*scope, error) {
	s := &scope{hosts: map[hostKey]bool{}, subdomains: cfg.Scope.Subdomains, limits: cfg.Limits, policy: policy}
	for i, h := range cfg.Scope.Hosts {
		k, err := parseHostKey(h)
		if err != nil {
			return nil, fmt.Errorf("scope.hosts[%d]: %w", i, err)
		}
		s.hosts[k] = true
	}
	if len(cfg.Scope.Hosts) == 0 {
		for _, raw := range slices.Concat(seeds, cfg.Sitemaps) {
			c, err := norm.CanonicalString(strings.TrimSpace(raw))
			if err != nil {
				continue
			}
			if u, err := url.Parse(c); err == nil {
				s.hosts[seedHost(u)] = true
			}
		}
	}
	for _, re := range cfg.Scope.Include {
		s.include = append(s.include, regexp.MustCompile(re))
	}
	for _, re := range cfg.Scope.Exclude {
		s.exclude = append(s.exclude, regexp.MustCompile(re))
	}
	if cfg.Limits.MaxQueryVariants > 0 {
		s.variants = newVariantCounter(1 << 18)
	}
	return s, nil
}

// seedHost is the host a canonical seed URL puts in scope: its host on any
// port, or on its port alone when that is not its scheme's default.
func seedHost(u *url.URL) hostKey {
	k := hostKey{name: u.Hostname()}
	if u.Port() != "" {
		k.port = urlPort(u)
	}
	return k
}

// hostAllowed reports whether the canonical URL u is on an allowed host.
func (s *scope) hostAllowed(u *url.URL) bool {
	name, port := u.Hostname(), urlPort(u)
	if s.hosts[hostKey{name: name}] || s.hosts[hostKey{name: name, port: port}] {
		return true
	}
	if s.subdomains {
		for k := range s.hosts {
			if (k.port == 0 || k.port == port) && strings.HasSuffix(name, "."+k.name) {
				return true
			}
		}
	}
	return false
}

// pathLen measures the path by which a URL was found: depth is the links
// followed from a seed, chain the links in a row within the URL's template
// (see sameTemplate). A URL takes the shortest path found to it.
type pathLen struct {
	depth, chain int
}

// reach returns the path length of canon found on from (the zero Lease for
// a seed or a configured sitemap), depthStep links further. A step of 0 (a
// redirect, a rel=canonical) is no link: within the template the chain
// stays as it is (max_redirects bounds redirect chains).
func reach(from store.Lease, canon string, depthStep int) pathLen {
	at := pathLen{depth: from.Depth + depthStep}
	if from.URL != "" && sameTemplate(from.URL, canon) {
		at.chain = from.Chain + min(depthStep, 1)
	}
	return at
}

// check returns "" if the canonical URL u (already parsed), found by a
// path of length at, is in scope and passes the trap limits, else the
// reason it is skipped; pathLimited says that reason is the path alone
// (too deep, template chain too long), so a shorter path may pass.
func (s *scope) check(canon string, u *url.URL, at pathLen) (why string, pathLimited bool) {
	return s.judge(canon, u, at, true)
}

// recheck is check for a URL that passed it when it was found, and is to
// be fetched again: its query is not counted again among the query
// variants of its path.
func (s *scope) recheck(canon string, u *url.URL, at pathLen) (why string, pathLimited bool) {
	return s.judge(canon, u, at, false)
}

// judge is check; count says whether the URL's query counts as a new
// variant of its path.
func (s *scope) judge(canon string, u *url.URL, at pathLen, count bool) (why string, pathLimited bool) {
	if why := s.policy.urlBlocked(u); why != "" {
		return "blocked address: " + why, false
	}
	if !s.hostAllowed(u) {
		return "out of scope: host " + u.Host, false
	}
	if len(s.include) > 0 {
		ok := false
		for _, re := range s.include {
			if re.MatchString(canon) {
				ok = true
				break
			}
		}
		if !ok {
			return "out of scope: matches no include pattern", false
		}
	}
	for _, re := range s.exclude {
		if re.MatchString(canon) {
			return "out of scope: matches exclude " + re.String(), false
		}
	}
	l := s.limits
	if l.MaxDepth > 0 && at.depth > l.MaxDepth {
		return fmt.Sprintf("depth %d exceeds max_depth %d", at.depth, l.MaxDepth), true
	}
	if l.MaxTemplateChain > 0 && at.chain > l.MaxTemplateChain {
		return fmt.Sprintf("trap: template %s over budget %d (limits.max_template_chain: links in a row within one URL template)",
			urlTemplate(canon), l.MaxTemplateChain), true
	}
	return s.trap(canon, u, count), false
}

// trap applies the crawler-trap limits that depend on the URL alone (and
// on the query variants of its path counted so far, among which count
// counts it).
func (s *scope) trap(canon string, u *url.URL, count bool) string {
	l := s.limits
	if len(canon) > l.MaxURLLength {
		return fmt.Sprintf("trap: URL length %d exceeds max_url_length %d", len(canon), l.MaxURLLength)
	}
	path := u.EscapedPath()
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) > l.MaxPathSegments {
		return fmt.Sprintf("trap: %d path segments exceed max_path_segments %d", len(segs), l.MaxPathSegments)
	}
	if len(segs) > l.MaxRepeatedSegments {
		seen := make(map[string]int, len(segs))
		for _, sg := range segs {
			if sg == "" {
				continue
			}
			seen[sg]++
			if seen[sg] > l.MaxRepeatedSegments {
				return fmt.Sprintf("trap: path segment %q repeated more than max_repeated_segments %d", sg, l.MaxRepeatedSegments)
			}
		}
	}
	if s.variants != nil && u.RawQuery != "" && count {
		if n := s.variants.add(u.Host + path); n > l.MaxQueryVariants {
			return fmt.Sprintf("trap: more than max_query_variants %d query variants of %s", l.MaxQueryVariants, path)
		}
	}
	return ""
}

// variantCounter counts query variants per host+path in a fixed-size table
// (memory does not grow with the crawl). Colliding paths share a counter,
// which can only make the limit stricter for them.
type variantCounter struct {
	seed maphash.Seed
	mu   sync.Mutex
	n    []uint32 // guarded by mu
}

func newVariantCounter(size int) *variantCounter {
	return &variantCounter{seed: maphash.MakeSeed(), n: make([]uint32, size)}
}

func (v *variantCounter) add(key string) int {
	i := maphash.String(v.seed, key) % uint64(len(v.n))
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n[i] < ^uint32(0) {
		v.n[i]++
	}
	return int(v.n[i])
}

// urlTemplate returns the path and query of a canonical URL with every
// run of ASCII digits written N: /calendar/2026/11 gives /calendar/N/N.
func urlTemplate(canon string) string {
	rest := pathAndQuery(canon)
	var b strings.Builder
	b.Grow(len(rest))
	for i := 0; i < len(rest); i++ {
		if isDigit(rest[i]) {
			b.WriteByte('N')
			for i+1 < len(rest) && isDigit(rest[i+1]) {
				i++
			}
			continue
		}
		b.WriteByte(rest[i])
	}
	return b.String()
}

// sameTemplate reports whether two canonical URLs are on the same origin
// and have the same urlTemplate, without building either.
func sameTemplate(a, b string) bool {
	pa, pb := pathAndQuery(a), pathAndQuery(b)
	if a[:len(a)-len(pa)] != b[:len(b)-len(pb)] {
		return false
	}
	i, j := 0, 0
	for i < len(pa) && j < len(pb) {
		if isDigit(pa[i]) && isDigit(pb[j]) {
			for i < len(pa) && isDigit(pa[i]) {
				i++
			}
			for j < len(pb) && isDigit(pb[j]) {
				j++
			}
			continue
		}
		if pa[i] != pb[j] {
			return false
		}
		i++
		j++
	}
	return i == len(pa) && j == len(pb)
}

// pathAndQuery returns what follows scheme://host[:port] in a canonical URL,
// whose path always begins with "/" (and a host holds no "/" nor "?").
func pathAndQuery(canon string) string {
	_, rest, ok := strings.Cut(canon, "://")
	if !ok {
		return canon
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		return rest[i:]
	}
	return ""
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// seenCache remembers URLs recently added to the frontier, with the
// shortest path found to each, so most repeated links never reach the
// database while a shorter path to a URL always does. It is bounded: two
// generations of hash maps, the older dropped when the newer fills. A miss
// falls back to the frontier's unique index, so forgetting is always safe.
// A 64-bit hash collision could make an unseen URL look seen; at the
// default size the chance is below one in 10^9 per lookup.
type seenCache struct {
	mu       sync.Mutex
	seed     maphash.Seed
	cur, old map[uint64]uint32 // depth<<16 | chain, each capped at 65535; guarded by mu
	max      int
}

func newSeenCache(max int) *seenCache {
	return &seenCache{seed: maphash.MakeSeed(), cur: map[uint64]uint32{}, max: max / 2}
}

// addNew records key found by a path of length at, and reports whether it
// was not present or was known only by a longer path (in depth or chain).
func (c *seenCache) addNew(key string, at pathLen) bool {
	if c.max == 0 {
		return true
	}
	h := maphash.String(c.seed, key)
	v := uint32(min(at.depth, 0xffff))<<16 | uint32(min(at.chain, 0xffff))
	c.mu.Lock()
	defer c.mu.Unlock()
	old, ok := c.cur[h]
	if !ok {
		old, ok = c.old[h]
	}
	if ok {
		shorter := min(old>>16, v>>16)<<16 | min(old&0xffff, v&0xffff)
		c.cur[h] = shorter
		return shorter != old
	}
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[uint64]uint32, c.max)
	}
	c.cur[h] = v
	return true
}

// origin returns scheme://host[:port] of a canonical URL.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}
