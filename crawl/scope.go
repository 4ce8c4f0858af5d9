package crawl

import (
	"fmt"
	"hash/maphash"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// scope decides, from a canonical URL alone, whether it is crawled, and if
// not, why. It is immutable except for the bounded trap counters.
type scope struct {
	hosts      map[string]bool // host or host:port, lowercase
	subdomains bool
	include    []*regexp.Regexp
	exclude    []*regexp.Regexp
	limits     Limits
	policy     *addrPolicy
	variants   *variantCounter
}

func newScope(cfg *Config, seeds []string, policy *addrPolicy) *scope {
	s := &scope{hosts: map[string]bool{}, subdomains: cfg.Scope.Subdomains, limits: cfg.Limits, policy: policy}
	for _, h := range cfg.Scope.Hosts {
		s.hosts[strings.ToLower(h)] = true
	}
	if len(cfg.Scope.Hosts) == 0 {
		for _, seed := range seeds {
			if u, err := url.Parse(seed); err == nil {
				s.hosts[strings.ToLower(u.Host)] = true
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
	return s
}

func (s *scope) hostAllowed(u *url.URL) bool {
	h := strings.ToLower(u.Host)
	if s.hosts[h] || s.hosts[u.Hostname()] {
		return true
	}
	if s.subdomains {
		name := u.Hostname()
		for allowed := range s.hosts {
			base := allowed
			if i := strings.LastIndexByte(base, ':'); i >= 0 && !strings.Contains(base, "]") {
				base = base[:i]
			}
			if strings.HasSuffix(name, "."+base) {
				return true
			}
		}
	}
	return false
}

// check returns "" if the canonical URL u (already parsed) is in scope and
// passes the trap limits, else the reason it is skipped.
func (s *scope) check(canon string, u *url.URL, depth int) string {
	if why := s.policy.urlBlocked(u); why != "" {
		return "blocked address: " + why
	}
	if !s.hostAllowed(u) {
		return "out of scope: host " + u.Host
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
			return "out of scope: matches no include pattern"
		}
	}
	for _, re := range s.exclude {
		if re.MatchString(canon) {
			return "out of scope: matches exclude " + re.String()
		}
	}
	if why := s.trap(canon, u, depth); why != "" {
		return why
	}
	return ""
}

// trap applies the crawler-trap limits.
func (s *scope) trap(canon string, u *url.URL, depth int) string {
	l := s.limits
	if depth > l.MaxDepth {
		return fmt.Sprintf("depth %d exceeds max_depth %d", depth, l.MaxDepth)
	}
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
	if s.variants != nil && u.RawQuery != "" {
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

// seenCache remembers URLs recently added to the frontier so most repeated
// links never reach the database. It is bounded: two generations of hash
// sets, the older dropped when the newer fills. A miss falls back to the
// frontier's unique index, so forgetting is always safe. A 64-bit hash
// collision could make an unseen URL look seen; at the default size the
// chance is below one in 10^9 per lookup.
type seenCache struct {
	mu       sync.Mutex
	seed     maphash.Seed
	cur, old map[uint64]struct{} // guarded by mu
	max      int
}

func newSeenCache(max int) *seenCache {
	return &seenCache{seed: maphash.MakeSeed(), cur: map[uint64]struct{}{}, max: max / 2}
}

// addNew records key and reports whether it was not already present.
func (c *seenCache) addNew(key string) bool {
	if c.max == 0 {
		return true
	}
	h := maphash.String(c.seed, key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.cur[h]; ok {
		return false
	}
	if _, ok := c.old[h]; ok {
		c.cur[h] = struct{}{}
		return false
	}
	if len(c.cur) >= c.max {
		c.old, c.cur = c.cur, make(map[uint64]struct{}, c.max)
	}
	c.cur[h] = struct{}{}
	return true
}

// origin returns scheme://host[:port] of a canonical URL.
func origin(u *url.URL) string {
	return u.Scheme + "://" + u.Host
}
