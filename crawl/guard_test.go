package crawl

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAddrPolicy(t *testing.T) {
	p := newAddrPolicy([]string{"127.0.0.5", "10.1.0.0/16"})
	for addr, want := range map[string]string{
		"127.0.0.1": "loopback", "127.0.0.5": "", "::1": "loopback", "10.0.0.1": "private", "10.1.2.3": "",
		"192.168.1.1": "private", "172.16.0.1": "private", "169.254.169.254": "link-local or cloud metadata",
		"fe80::1": "link-local or cloud metadata", "100.64.0.1": "private", "0.0.0.0": "not a unicast address",
		"::ffff:10.0.0.1": "private", "93.184.216.34": "", "fd00::1": "private",
	} {
		if got := p.blocked(netip.MustParseAddr(addr)); got != want {
			t.Errorf("blocked(%s) = %q, want %q", addr, got, want)
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
