package crawl

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAddrPolicy(t *testing.T) {
	p := newAddrPolicy([]string{"127.0.0.5", "10.1.0.0/16", "127.0.0.2:8080", "[::1]:9090"})
	for addr, want := range map[string]string{
		"127.0.0.1:80": "loopback", "127.0.0.5:80": "", "[::1]:80": "loopback", "10.0.0.1:80": "private", "10.1.2.3:80": "",
		"192.168.1.1:80": "private", "172.16.0.1:80": "private", "169.254.169.254:80": "link-local or cloud metadata",
		"[fe80::1]:80": "link-local or cloud metadata", "100.64.0.1:80": "private", "0.0.0.0:80": "not a unicast address",
		"[::ffff:10.0.0.1]:80": "private", "93.184.216.34:80": "", "[fd00::1]:80": "private",
		// An entry with a port allows that port only.
		"127.0.0.2:8080": "", "127.0.0.2:8081": "loopback", "[::1]:9090": "", "[::1]:9091": "loopback",
		// Other addresses that are not one host's unicast address.
		"0.1.2.3:80": "not a unicast address", "255.255.255.255:80": "not a unicast address",
		// IPv6 forms that embed an IPv4 address are judged by it.
		"[64:ff9b::7f00:1]:80":                      "loopback (NAT64 of 127.0.0.1)",
		"[64:ff9b::a9fe:a9fe]:80":                   "link-local or cloud metadata (NAT64 of 169.254.169.254)",
		"[64:ff9b::5db8:d822]:80":                   "",
		"[64:ff9b:1::a00:1]:80":                     "local-use NAT64 (64:ff9b:1::/48)",
		"[2002:a00:1::1]:80":                        "private (6to4 of 10.0.0.1)",
		"[2002:5db8:d822::1]:80":                    "",
		"[::7f00:1]:80":                             "loopback (IPv4-compatible of 127.0.0.1)",
		"[::a9fe:a9fe]:80":                          "link-local or cloud metadata (IPv4-compatible of 169.254.169.254)",
		"[::ffff:0:a00:1]:80":                       "private (IPv4-translated of 10.0.0.1)",
		"[2001:0:4136:e378:8000:63bf:80ff:fffe]:80": "loopback (Teredo of 127.0.0.1)",
		"[2001:0:4136:e378:8000:63bf:a247:27dd]:80": "",
		// The embedded address is judged with the allowlist too.
		"[64:ff9b::7f00:5]:80": "", "[64:ff9b::7f00:2]:8080": "", "[64:ff9b::7f00:2]:8081": "loopback (NAT64 of 127.0.0.2)",
	} {
		if got := p.blocked(netip.MustParseAddrPort(addr)); got != want {
			t.Errorf("blocked(%s) = %q, want %q", addr, got, want)
		}
	}
	for host, want := range map[string]string{
		"http://127.0.0.2:8080/": "", "http://127.0.0.2/": "loopback", "http://127.0.0.2:8081/": "loopback",
		"http://[64:ff9b::7f00:1]/": "loopback (NAT64 of 127.0.0.1)", "http://localhost:8080/": "loopback",
		"https://[::1]:9090/": "", "https://[::1]/": "loopback", "http://example.com/": "",
	} {
		u, _ := url.Parse(host)
		if got := p.urlBlocked(u); got != want {
			t.Errorf("urlBlocked(%s) = %q, want %q", host, got, want)
		}
	}
	hosts := newAddrPolicy([]string{"intranet.example:8443", "wiki.example"})
	for host, want := range map[string]bool{
		"https://intranet.example:8443/": true, "https://intranet.example/": false, "http://intranet.example:8444/": false,
		"https://wiki.example/": true, "http://WIKI.example:8080/": true, "https://other.example/": false,
	} {
		u, _ := url.Parse(host)
		if got := hosts.hostAllowed(u.Hostname(), urlPort(u)); got != want {
			t.Errorf("hostAllowed(%s) = %v, want %v", host, got, want)
		}
	}
}

// TestAllowAddressWithPort: allowing one loopback address and port lets
// the crawler reach that server and no other port of the same address; the
// other server's own request count is the judge.
func TestAllowAddressWithPort(t *testing.T) {
	var otherHits atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		fmt.Fprint(w, "<title>other</title>")
	}))
	defer other.Close()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/":
			fmt.Fprintf(w, `<a href="/a">a</a><a href="%s/link">other</a><a href="/hop">hop</a>`, other.URL)
		case "/hop":
			http.Redirect(w, r, other.URL+"/redirected", http.StatusFound)
		default:
			fmt.Fprint(w, "<title>leaf</title>")
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	own, otherHost := strings.TrimPrefix(srv.URL, "http://"), strings.TrimPrefix(other.URL, "http://")
	cfg.Fetch.AllowAddresses = []string{own}
	cfg.Scope.Hosts = []string{own, otherHost}
	cfg.Fetch.MaxRetries = 0
	crawlOnce(t, cfg)
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the server on another port received %d requests; only %s is allowed", n, own)
	}
	if hits.Load() == 0 {
		t.Fatalf("the allowed server received no request")
	}
	got := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`)
	if r := got[srv.URL+"/a"]; !strings.HasPrefix(r, "done") {
		t.Errorf("/a ended %q, want done", r)
	}
	for _, u := range []string{other.URL + "/link", other.URL + "/redirected"} {
		if r := got[u]; !strings.Contains(r, "blocked address") {
			t.Errorf("%s ended %q, want a blocked-address reason", u, r)
		}
	}
}

// TestPrivateAddressRefusedAtDial: with no allowlist the crawler refuses to
// connect to a loopback server, even as a seed, and says why.
func TestPrivateAddressRefusedAtDial(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "<a href=/x>x</a>")
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Fetch.AllowAddresses = nil
	cfg.Fetch.MaxRetries = 0
	crawlOnce(t, cfg)
	if n := hits.Load(); n != 0 {
		t.Fatalf("server received %d requests; loopback must be refused by default", n)
	}
	got := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`)
	if r := got[srv.URL+"/"]; !strings.Contains(r, "blocked address") {
		t.Fatalf("seed ended %q, want a blocked-address reason", r)
	}
}

// TestRedirectToPrivateAddressRefused: a redirect from an allowed address to
// a forbidden one is stopped (the target is checked like any URL).
func TestRedirectToPrivateAddressRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Scope.Hosts = []string{strings.TrimPrefix(srv.URL, "http://"), "169.254.169.254"}
	crawlOnce(t, cfg)
	got := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`)
	if r := got["http://169.254.169.254/latest/meta-data/"]; !strings.HasPrefix(r, "skipped blocked address") {
		t.Fatalf("redirect target ended %q, want skipped as a blocked address", r)
	}
}

func TestNoindexNofollow(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<a href="/meta">m</a><a href="/header">h</a><a href="/nf" rel="nofollow">nf</a>`)
		case "/meta":
			fmt.Fprint(w, `<html><head><title>Secret</title><meta name="robots" content="noindex, nofollow"></head><a href="/from-meta">x</a></html>`)
		case "/header":
			w.Header().Set("X-Robots-Tag", "nofollow")
			fmt.Fprint(w, `<html><head><title>Shown</title></head><a href="/from-header">x</a></html>`)
		default:
			fmt.Fprint(w, `<html><title>leaf</title></html>`)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	crawlOnce(t, cfg)
	states := queryMap(t, cfg.Database, `SELECT url, state FROM frontier`)
	for _, p := range []string{"/from-meta", "/from-header", "/nf"} {
		if _, ok := states[srv.URL+p]; ok {
			t.Errorf("%s was followed despite nofollow", p)
		}
	}
	titles := queryMap(t, cfg.Database, `SELECT url, coalesce(title, '') FROM pages`)
	if titles[srv.URL+"/meta"] != "" || titles[srv.URL+"/header"] != "Shown" {
		t.Errorf("titles %v: a noindex page's content must not be stored", titles)
	}
}

func TestAllowListUncovered(t *testing.T) {
	valid := []string{"127.0.0.0/8", "10.1.2.3", "::1", "127.0.0.2:8080", "[::1]:8080", "intranet.example", "wiki.example:8443"}
	if _, err := ParseConfig("c.yaml", []byte("fetch:\n  allow_addresses: ['"+strings.Join(valid, "', '")+"']\n")); err != nil {
		t.Fatalf("valid allow_addresses refused: %v", err)
	}
	l, err := ParseAllowList([]string{"127.0.0.0/8", "10.0.0.5:8080", "intranet.example", "wiki.example:8443"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		job  []string
		want int
	}{
		{nil, -1},
		{[]string{"127.0.0.0/8"}, -1},
		{[]string{"127.0.0.2", "127.1.0.0/16", "127.0.0.2:9000"}, -1},
		{[]string{"10.0.0.5:8080", "intranet.example", "intranet.example:80", "wiki.example:8443"}, -1},
		{[]string{"127.0.0.1", "0.0.0.0/0"}, 1},
		{[]string{"126.0.0.0/7"}, 0},
		{[]string{"10.0.0.5"}, 0},
		{[]string{"10.0.0.5:8081"}, 0},
		{[]string{"wiki.example"}, 0},
		{[]string{"localhost"}, 0},
		{[]string{"::/0"}, 0},
		{[]string{"not an address"}, 0},
	}
	for _, tt := range tests {
		if got := l.Uncovered(tt.job); got != tt.want {
			t.Errorf("Uncovered(%q) = %d, want %d", tt.job, got, tt.want)
		}
	}
	if _, err := ParseAllowList([]string{"10.0.0.0/8:80"}); err == nil {
		t.Errorf("ParseAllowList accepted a CIDR with a port")
	}
}
