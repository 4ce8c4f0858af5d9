package crawl

import (
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// TestFetchHeadersAndHostRoutes crawls two sites: one through a proxy
// with the global headers, the other with its own fetch.hosts entry (keyed
// as written in another case with a trailing dot) that adds a header,
// leaves out a global one and connects directly. Each site's log shows
// what reached it, robots.txt requests included.
func TestFetchHeadersAndHostRoutes(t *testing.T) {
	one, two := &loggedSite{pages: 2}, &loggedSite{pages: 2}
	s1, s2 := httptest.NewServer(one), httptest.NewServer(two)
	defer s1.Close()
	defer s2.Close()
	p := startProxy(t, false, "127.0.0.10", nil)
	_, port2, _ := strings.Cut(strings.TrimPrefix(s2.URL, "http://"), ":")
	cfg := testConfig(t, s1.URL+"/")
	cfg.Seeds = append(cfg.Seeds, s2.URL+"/")
	cfg.Fetch.Headers = map[string]string{"Accept-Language": "de, en;q=0.5", "x-api-key": "k-123", "Accept": "text/html"}
	cfg.Fetch.Proxy = []string{p.url("http", "")}
	cfg.Fetch.Hosts = map[string]FetchHost{
		"127.0.0.1.:" + port2: {Headers: map[string]string{"X-Site": "two", "Accept-Language": ""}, Proxy: []string{"direct"}},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	crawlOnce(t, cfg)

	check := func(name string, site *loggedSite, from string, want map[string]string) {
		t.Helper()
		reqs := site.log()
		if len(reqs) < 4 || reqs[0].path != "/robots.txt" {
			t.Fatalf("%s received %d requests, the first %v; want robots.txt and 3 pages", name, len(reqs), reqs)
		}
		for _, r := range reqs {
			if r.from != from {
				t.Errorf("%s: %s came from %s, want %s", name, r.path, r.from, from)
			}
			for k, v := range want {
				if got := strings.Join(r.header.Values(k), ", "); got != v {
					t.Errorf("%s: %s had %s %q, want %q", name, r.path, k, got, v)
				}
			}
		}
	}
	check("site one", one, "127.0.0.10", map[string]string{"Accept-Language": "de, en;q=0.5", "X-Api-Key": "k-123",
		"Accept": "text/html", "X-Site": ""})
	check("site two", two, "127.0.0.1", map[string]string{"Accept-Language": "", "X-Api-Key": "k-123", "X-Site": "two"})
}

// TestFetchConfigErrors: the headers the crawler owns are refused with
// the reason, proxies that cannot be used are refused (one on a loopback
// or private address unless allowed), and messages never repeat a header
// value or a credential.
func TestFetchConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		yaml, want string
	}{
		{"fetch:\n  headers: {Host: other.example}\n", "cfg.yaml:2: fetch.headers.Host: Host cannot be set here: the URL decides the host"},
		{"fetch:\n  headers: {accept-encoding: zstd}\n", "fetch.headers.accept-encoding: Accept-Encoding cannot be set here: the crawler asks for gzip, deflate and br"},
		{"fetch:\n  headers: {User-Agent: x}\n", "User-Agent cannot be set here: set fetch.user_agent"},
		{"fetch:\n  headers: {Cookie: 'session=s-77'}\n", "Cookie cannot be set here: use fetch.cookies_file"},
		{"fetch:\n  headers: {Proxy-Authorization: 'Basic s-77'}\n", "Proxy-Authorization cannot be set here: write the proxy's credentials in its URL"},
		{"fetch:\n  headers: {Content-Length: '5'}\n", "Content-Length cannot be set here: the HTTP client frames requests itself"},
		{"fetch:\n  headers: {Connection: close}\n", "Connection cannot be set here"},
		{"fetch:\n  headers: {If-None-Match: '\"x\"'}\n", "If-None-Match cannot be set here: a revisit (recrawl) sends it from the ETag"},
		{"fetch:\n  hosts:\n    a.example: {headers: {if-modified-since: x}}\n", "If-Modified-Since cannot be set here"},
		{"fetch:\n  headers: {'Bad Name': x}\n", `fetch.headers.Bad Name: "Bad Name" is not a header name`},
		{"fetch:\n  headers: {X-Token: \"s-77\\r\\nX-Evil: 1\"}\n", "fetch.headers.X-Token: the value has a line break or control character"},
		{"fetch:\n  headers: {X-Empty: ''}\n", "fetch.headers.X-Empty: the value is empty: leave the header out"},
		{"fetch:\n  headers: {X-A: s-77, x-a: s-77}\n", `are the same header`},
		{"fetch:\n  hosts:\n    a.example: {headers: {Host: b.example}}\n", "fetch.hosts.a.example.headers.Host: Host cannot be set here"},
		{"fetch:\n  hosts:\n    a.example: {headers: {X-Empty: ''}}\n", ""},
		{"fetch:\n  hosts:\n    'a b': {headers: {X-A: '1'}}\n", `fetch.hosts.a b: "a b" is not a host name`},
		{"fetch:\n  hosts:\n    A.example: {}\n    a.example.: {}\n", `"a.example." names the same host as "A.example"`},
		{"fetch:\n  proxy: [ftp://p.example]\n", `fetch.proxy[0]: "ftp://p.example": a proxy URL starts with http://, https:// or socks5://`},
		{"fetch:\n  proxy: ['socks5h://u:s-77@p.example']\n", `fetch.proxy[0]: "socks5h://REDACTED@p.example": use socks5://`},
		{"fetch:\n  proxy: ['http://u:s-77@p.example:3128/path']\n", `"http://REDACTED@p.example:3128/path": a proxy URL has no path`},
		{"fetch:\n  proxy: ['http://u:s-${X}@p.example']\n", "write an environment variable as the whole user name or password"},
		{"fetch:\n  proxy: [p.example:3128]\n", `"p.example:3128" is not a proxy URL`},
		{"fetch:\n  proxy: ['http://u:s-77@p.example:99999']\n", `the proxy's host and port: "p.example:99999" is not a host name`},
		{"fetch:\n  proxy: ['http://u:${PASS}@p.example:3128', DIRECT, 'socks5://p.example']\n", ""},
		{"fetch:\n  cookies: false\n  cookies_file: c.txt\n", "cfg.yaml:3: fetch.cookies_file: needs fetch.cookies: true"},
		{"fetch:\n  proxy: 'socks5://p.example'\n  hosts:\n    a.example: {proxy: direct}\n", ""},
		{"fetch:\n  proxy: {a: b}\n", "fetch.proxy: a group of keys is not a list"},
		{"fetch:\n  proxy: ['http://al:s-77@127.0.0.1:3128']\n",
			"cfg.yaml:2: fetch.proxy[0]: the proxy http://127.0.0.1:3128 is loopback: list 127.0.0.1:3128 under fetch.allow_addresses to use it"},
		{"fetch:\n  proxy: [direct, 'socks5://al:s-77@localhost']\n",
			"fetch.proxy[1]: the proxy socks5://localhost:1080 is loopback: list localhost:1080 under fetch.allow_addresses"},
		{"fetch:\n  hosts:\n    a.example:\n      proxy: ['https://al:s-77@10.0.0.5:8443']\n",
			"fetch.hosts.a.example.proxy[0]: the proxy https://10.0.0.5:8443 is private"},
		{"fetch:\n  allow_addresses: [127.0.0.1:3128]\n  proxy: ['http://al:s-77@127.0.0.1:3128']\n", ""},
		{"fetch:\n  allow_addresses: [10.0.0.0/8]\n  hosts:\n    a.example:\n      proxy: ['https://al:s-77@10.0.0.5:8443']\n", ""},
	} {
		_, err := ParseConfig("cfg.yaml", []byte(tt.yaml))
		if tt.want == "" {
			if err != nil {
				t.Errorf("ParseConfig(%q): %v", tt.yaml, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s-77") {
			t.Errorf("ParseConfig(%q) = %v, want %q, without the value", tt.yaml, err, tt.want)
		}
	}
}

// TestHostKeysCanonical: politeness.hosts and fetch.hosts keys, and host
// names in fetch.allow_addresses, name hosts as canonical URLs write them:
// an IDN in any case, with a trailing dot, or with the default port of the
// URL's scheme.
func TestHostKeysCanonical(t *testing.T) {
	p := Politeness{Rate: 1, Hosts: map[string]HostOverride{
		"BÜCHER.example.":   {Rate: 2},
		"shop.example:443":  {Rate: 3},
		"Shop.Example:8080": {Rate: 4},
		"[::1]:8443":        {Rate: 5},
	}}
	m := p.hostOverrides()
	for origin, want := range map[string]float64{
		"https://xn--bcher-kva.example": 2, "http://xn--bcher-kva.example:81": 2, "https://shop.example": 3,
		"http://shop.example": 0, "http://shop.example:8080": 4, "https://[::1]:8443": 5, "https://[::1]": 0,
	} {
		got, ok := m.forOrigin(origin)
		if got.Rate != want || ok != (want != 0) {
			t.Errorf("override of %s = %v, %v; want rate %v", origin, got, ok, want)
		}
	}
	hp := HostPaces([]store.HostInfo{{Origin: "https://xn--bcher-kva.example"}, {Origin: "https://shop.example"}}, &p, time.Now())
	if hp[0].RateString() != "2/s" || hp[1].RateString() != "3/s" {
		t.Errorf("hosts show rates %s and %s, want the overrides' 2/s and 3/s", hp[0].RateString(), hp[1].RateString())
	}

	policy := newAddrPolicy([]string{"Bücher.example", "INTRANET.example.:8443", "0x7f.0.0.9"})
	for host, want := range map[string]bool{
		"http://xn--bcher-kva.example/": true, "https://intranet.example:8443/": true, "https://intranet.example/": false,
	} {
		u, _ := url.Parse(host)
		if got := policy.hostAllowed(u.Hostname(), urlPort(u)); got != want {
			t.Errorf("hostAllowed(%s) = %v, want %v", host, got, want)
		}
	}
	if why := policy.blocked(netip.MustParseAddrPort("127.0.0.9:80")); why != "" {
		t.Errorf("0x7f.0.0.9 in allow_addresses does not allow 127.0.0.9: %s", why)
	}
}

// TestProxyReasonHint: a failure through a proxy points at the settings
// that choose proxies.
func TestProxyReasonHint(t *testing.T) {
	for reason, want := range map[string]string{
		"proxy: connection refused": "fetch.proxy", "proxy: dns: no such host": "fetch.proxy", "connection refused": "",
	} {
		if got := ReasonKey(reason); got != want {
			t.Errorf("ReasonKey(%q) = %q, want %q", reason, got, want)
		}
	}
	if h := ReasonHint("proxy: timeout", "http://a.example/"); !strings.Contains(h, "fetch.hosts.<host>.proxy") {
		t.Errorf("ReasonHint of a proxy failure = %q", h)
	}
}
