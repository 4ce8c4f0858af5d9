package crawl

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/net/http/httpguts"
)

// forbiddenHeaders are the request headers fetch.headers may not set, and
// why. The crawler owns each of them: they decide where a request goes,
// how the response is framed and decoded, or which robots.txt rules apply.
var forbiddenHeaders = map[string]string{
	"Host":                "the URL decides the host, and with it scope, robots.txt and the address guard",
	"Accept-Encoding":     "the crawler asks for gzip, deflate and br and decodes them itself, so that limits.max_body_size caps the decoded bytes",
	"User-Agent":          "set fetch.user_agent: robots.txt rules are matched against its product token",
	"Cookie":              "use fetch.cookies_file: the cookie jar sends each cookie only to its own site",
	"Proxy-Authorization": "write the proxy's credentials in its URL under fetch.proxy, which sends them to the proxy only",
	"Content-Length":      "the HTTP client frames requests itself",
	"Transfer-Encoding":   "the HTTP client frames requests itself",
	"Te":                  "the HTTP client frames requests itself",
	"Trailer":             "the HTTP client frames requests itself",
	"Connection":          "the HTTP client manages its connections",
	"Keep-Alive":          "the HTTP client manages its connections",
	"Proxy-Connection":    "the HTTP client manages its connections",
	"Upgrade":             "the HTTP client manages its connections",
	"If-None-Match":       "a revisit (recrawl) sends it from the ETag stored for the URL; a first fetch must get the page",
	"If-Modified-Since":   "a revisit (recrawl) sends it from the Last-Modified stored for the URL; a first fetch must get the page",
}

// checkHeaders validates a headers map written under key. In a host's
// map (perHost) an empty value leaves out a header fetch.headers sets.
// Messages never repeat a value: it may be a secret.
func checkHeaders(key string, h map[string]string, perHost bool) error {
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(h)) {
		k := key + "." + name
		if !httpguts.ValidHeaderFieldName(name) {
			return bad(k, "%q is not a header name", name)
		}
		c := http.CanonicalHeaderKey(name)
		if why, ok := forbiddenHeaders[c]; ok {
			return bad(k, "%s cannot be set here: %s", c, why)
		}
		if prev, dup := seen[c]; dup {
			return bad(k, "%q and %q are the same header", prev, name)
		}
		seen[c] = name
		v := h[name]
		if v == "" && !perHost {
			return bad(k, "the value is empty: leave the header out")
		}
		if !httpguts.ValidHeaderFieldValue(v) {
			return bad(k, "the value has a line break or control character, which a header cannot carry")
		}
	}
	return nil
}

// mergeHeaders returns the headers of a host: global, with those of host
// added over them; an empty value in host removes the header.
func mergeHeaders(global, host map[string]string) http.Header {
	out := http.Header{}
	for k, v := range global {
		out[http.CanonicalHeaderKey(k)] = []string{v}
	}
	for k, v := range host {
		if v == "" {
			delete(out, http.CanonicalHeaderKey(k))
		} else {
			out[http.CanonicalHeaderKey(k)] = []string{v}
		}
	}
	return out
}

// checkProxies validates a proxy list written under key. A proxy written
// as an IP address or localhost must be allowed by policy, as any
// private address; one written as a host name is judged when dialled.
func checkProxies(key string, list []string, policy *addrPolicy) error {
	for i, s := range list {
		k := fmt.Sprintf("%s[%d]", key, i)
		sp, err := parseProxy(s)
		if err != nil {
			return bad(k, "%v", err)
		}
		if sp.direct {
			continue
		}
		u := &url.URL{Scheme: sp.scheme, Host: sp.addr()}
		if why := policy.urlBlocked(u); why != "" {
			return bad(k, "the proxy %s is %s: list %s under fetch.allow_addresses to use it", sp.name(), why, sp.addr())
		}
	}
	return nil
}

// validate checks the fetch group's headers, proxies, cookies file and
// per-host settings.
func (f *Fetch) validate() error {
	if err := checkHeaders("fetch.headers", f.Headers, false); err != nil {
		return err
	}
	policy := newAddrPolicy(f.AllowAddresses)
	if err := checkProxies("fetch.proxy", f.Proxy, policy); err != nil {
		return err
	}
	if f.CookiesFile != "" && !f.Cookies {
		return bad("fetch.cookies_file", "needs fetch.cookies: true (the file is loaded into the cookie jar)")
	}
	if _, err := newHostMap(f.Hosts); err != nil {
		return hostKeyBad("fetch.hosts", err)
	}
	for _, h := range slices.Sorted(maps.Keys(f.Hosts)) {
		o := f.Hosts[h]
		if err := checkHeaders("fetch.hosts."+h+".headers", o.Headers, true); err != nil {
			return err
		}
		if err := checkProxies("fetch.hosts."+h+".proxy", o.Proxy, policy); err != nil {
			return err
		}
	}
	return nil
}

// hostKeyBad is the config error of a per-host map (key) whose key
// newHostMap refused.
func hostKeyBad(key string, err error) error {
	var ke *hostKeyError
	if errors.As(err, &ke) {
		return bad(key+"."+ke.Key, "%v", ke.Err)
	}
	return bad(key, "%v", err)
}

// ProxyEnvKey returns the key of the first proxy whose credentials the
// config reads from the environment (${NAME}), or "" if none does.
func (c *Config) ProxyEnvKey() string {
	lists := []struct {
		key  string
		list []string
	}{{"fetch.proxy", c.Fetch.Proxy}}
	for _, h := range slices.Sorted(maps.Keys(c.Fetch.Hosts)) {
		lists = append(lists, struct {
			key  string
			list []string
		}{"fetch.hosts." + h + ".proxy", c.Fetch.Hosts[h].Proxy})
	}
	for _, l := range lists {
		for i, s := range l.list {
			if sp, err := parseProxy(s); err == nil && sp.readsEnv() {
				return fmt.Sprintf("%s[%d]", l.key, i)
			}
		}
	}
	return ""
}

// router sends each request out the way the fetch settings of its host
// say: with their extra headers, through the next of their proxies in
// turn (or directly). It is safe for concurrent use.
type router struct {
	global *route
	hosts  hostMap[*route]
	ways   []*way // every way out, once
}

// route is the fetch settings of one host, or of all others.
type route struct {
	header http.Header
	ways   []*way
	next   atomic.Uint64 // the request count, which picks the way
}

// way is one way out: directly, or through one proxy.
type way struct {
	name  string       // "direct" or the proxy's scheme://host:port
	proxy *proxyDialer // nil for direct
	tr    *http.Transport
}

// newRouter builds the routes of a validated config. Proxy credentials
// written ${NAME} are read through lookupEnv.
func newRouter(cfg *Config, policy *addrPolicy, lookupEnv func(string) (string, bool)) (*router, error) {
	direct := newDirectDialer(cfg, policy)
	byEntry := map[string]*way{}
	r := &router{}
	waysOf := func(key string, list []string) ([]*way, error) {
		if len(list) == 0 {
			list = []string{"direct"}
		}
		var out []*way
		for i, s := range list {
			s = strings.TrimSpace(s)
			w, ok := byEntry[s]
			if !ok {
				sp, err := parseProxy(s)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
				}
				w = &way{name: sp.name()}
				if sp.direct {
					w.tr = newTransport(cfg, direct.DialContext)
				} else {
					if w.proxy, err = newProxyDialer(cfg, sp, policy, direct, lookupEnv); err != nil {
						return nil, fmt.Errorf("%s[%d]: %w", key, i, err)
					}
					w.tr = newTransport(cfg, w.proxy.DialContext)
				}
				byEntry[s] = w
				r.ways = append(r.ways, w)
			}
			out = append(out, w)
		}
		return out, nil
	}
	global, err := waysOf("fetch.proxy", cfg.Fetch.Proxy)
	if err != nil {
		return nil, err
	}
	r.global = &route{header: mergeHeaders(cfg.Fetch.Headers, nil), ways: global}
	if _, err := newHostMap(cfg.Fetch.Hosts); err != nil {
		return nil, hostKeyBad("fetch.hosts", err)
	}
	r.hosts = hostMap[*route]{}
	for _, raw := range slices.Sorted(maps.Keys(cfg.Fetch.Hosts)) {
		h := cfg.Fetch.Hosts[raw]
		k, _ := parseHostKey(raw) // newHostMap read it
		rt := &route{header: mergeHeaders(cfg.Fetch.Headers, h.Headers), ways: global}
		if len(h.Proxy) > 0 {
			if rt.ways, err = waysOf("fetch.hosts."+raw+".proxy", h.Proxy); err != nil {
				return nil, err
			}
		}
		r.hosts[k] = rt
	}
	return r, nil
}

// RoundTrip sends req with its host's headers, the next way out.
func (r *router) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := r.global
	if h, ok := r.hosts.lookup(req.URL); ok {
		rt = h
	}
	if len(rt.header) > 0 {
		req = req.Clone(req.Context()) // a RoundTripper leaves the caller's request as it is
		for k, v := range rt.header {
			req.Header[k] = v
		}
	}
	w := rt.ways[0]
	if n := uint64(len(rt.ways)); n > 1 {
		w = rt.ways[(rt.next.Add(1)-1)%n]
	}
	if info, ok := req.Context().Value(fetchInfoKey{}).(*fetchInfo); ok {
		info.via = w.name
	}
	return w.tr.RoundTrip(req)
}

// closeIdle closes the idle connections of every way out.
func (r *router) closeIdle() {
	for _, w := range r.ways {
		w.tr.CloseIdleConnections()
	}
}
