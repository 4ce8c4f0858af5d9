package crawl

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store/sqlite"
)

// loggedSite is a small site that logs every request it receives: the
// path, the address it came from, the Host and the headers. With
// needCookie set, pages other than robots.txt answer 403 without it.
type loggedSite struct {
	pages      int    // leaf pages /p/0.. linked from /
	needCookie string // "name=value" a page request must carry

	mu   sync.Mutex
	reqs []loggedRequest // guarded by mu
}

type loggedRequest struct {
	path, from, host string
	header           http.Header
}

func (s *loggedSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.reqs = append(s.reqs, loggedRequest{path: r.URL.Path, from: from, host: r.Host, header: r.Header.Clone()})
	s.mu.Unlock()
	if r.URL.Path == "/robots.txt" {
		fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		return
	}
	if s.needCookie != "" {
		name, value, _ := strings.Cut(s.needCookie, "=")
		if c, err := r.Cookie(name); err != nil || c.Value != value {
			http.Error(w, "log in first", http.StatusForbidden)
			return
		}
	}
	switch {
	case r.URL.Path == "/":
		fmt.Fprint(w, "<html><title>home</title>")
		for i := range s.pages {
			fmt.Fprintf(w, `<a href="/p/%d">%d</a>`, i, i)
		}
	case strings.HasPrefix(r.URL.Path, "/p/"):
		fmt.Fprintf(w, "<html><title>page %s</title>", r.URL.Path)
	default:
		http.NotFound(w, r)
	}
}

// log returns the requests received so far, in order.
func (s *loggedSite) log() []loggedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]loggedRequest(nil), s.reqs...)
}

// crawlLogged crawls cfg to the end with a logger at debug level, and
// returns what it logged.
func crawlLogged(t *testing.T, cfg *Config) string {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e, err := New(cfg, db, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Seed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(ctx, time.Second); err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	return logs.String()
}

// lockedWriter serialises writes from the engine's goroutines.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// assertNowhere fails if any secret appears in the crawl's log or in any
// file of the database's directory (database, WAL, journal).
func assertNowhere(t *testing.T, dbPath, logs string, secrets ...string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(dbPath), "*"))
	if len(files) == 0 {
		t.Fatalf("no database files next to %s", dbPath)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s contains the secret %q", filepath.Base(f), s)
			}
		}
	}
}

// TestCrawlThroughProxiesInTurn crawls a site through an HTTP CONNECT
// proxy and a SOCKS5 proxy listed together. The site's own log is the
// judge: every request came from one of the proxies' addresses, none
// directly, and they took turns. The proxies' logs show that each was
// asked for the target's address, not its name, and got the credentials
// (the HTTP proxy's password from the environment); neither the log of the
// crawl nor its database holds a credential.
func TestCrawlThroughProxiesInTurn(t *testing.T) {
	site := &loggedSite{pages: 9}
	srv := httptest.NewServer(site)
	defer srv.Close()
	hp := startProxy(t, false, "127.0.0.3", nil).withAuth("hpuser", "hp-pass-71")
	sp := startProxy(t, true, "127.0.0.4", nil).withAuth("spuser", "sp-pass-72")
	t.Setenv("CRAWLER_TEST_PROXY_PASS", "hp-pass-71")
	cfg := testConfig(t, srv.URL+"/")
	cfg.Politeness.MaxInFlight = 1 // one request at a time: the turns show in the site's log
	cfg.Fetch.Proxy = []string{hp.url("http", "hpuser:${CRAWLER_TEST_PROXY_PASS}"), sp.url("socks5", "spuser:sp-pass-72")}
	logs := crawlLogged(t, cfg)

	reqs := site.log()
	if len(reqs) < 10 {
		t.Fatalf("the site received %d requests, want robots.txt, / and 9 pages at least", len(reqs))
	}
	for i, r := range reqs {
		want := []string{"127.0.0.3", "127.0.0.4"}[i%2]
		if r.from != want {
			t.Errorf("request %d (%s) came from %s, want %s: the proxies take turns, nothing goes direct", i, r.path, r.from, want)
		}
	}
	siteAddr := strings.TrimPrefix(srv.URL, "http://")
	for _, p := range []*testProxy{hp, sp} {
		_, targets, creds := p.log()
		if len(targets) == 0 {
			t.Errorf("proxy %s was asked for nothing", p.source)
		}
		for _, tg := range targets {
			if tg != siteAddr {
				t.Errorf("proxy %s was asked for %q, want the site's address %s", p.source, tg, siteAddr)
			}
		}
		for _, c := range creds {
			if c != p.user+":"+p.pass {
				t.Errorf("proxy %s received credentials %q, want %s:%s", p.source, c, p.user, p.pass)
			}
		}
	}
	got := queryMap(t, cfg.Database, `SELECT url, state FROM frontier`)
	for u, state := range got {
		if state != "done" {
			t.Errorf("%s ended %s, want done", u, state)
		}
	}
	assertNowhere(t, cfg.Database, logs, "hp-pass-71", "sp-pass-72", "hpuser", "spuser")
}

// testCertPool returns the certificate httptest's TLS servers present
// (for 127.0.0.1, ::1 and example.com), and a TLS config that serves it.
func testCertPool(t *testing.T) (*x509.CertPool, *tls.Config) {
	t.Helper()
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	defer ts.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return pool, &tls.Config{Certificates: ts.TLS.Certificates}
}

// trust makes a fetcher's ways out trust pool, for TLS to targets and to
// https proxies.
func (f *fetcher) trust(pool *x509.CertPool) {
	for _, w := range f.router.ways {
		w.tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		if w.proxy != nil && w.proxy.tls != nil {
			w.proxy.tls.RootCAs = pool
		}
	}
}

// TestProxyAsksForTheJudgedAddress: through each kind of proxy, a host
// name is resolved by the crawler, judged by the address guard, and the
// proxy is asked for the address judged, never the name, so it cannot
// resolve the name again to another address (DNS rebinding). A name that
// resolves to a refused address is refused before a single byte reaches
// the proxy: it never even accepts a connection. HTTPS targets are
// reached through the tunnel with their certificate checked for the name.
func TestProxyAsksForTheJudgedAddress(t *testing.T) {
	pool, serverTLS := testCertPool(t)
	site := &loggedSite{pages: 1}
	plain := httptest.NewServer(site)
	defer plain.Close()
	secure := httptest.NewTLSServer(site)
	defer secure.Close()
	_, plainPort, _ := net.SplitHostPort(strings.TrimPrefix(plain.URL, "http://"))
	_, securePort, _ := net.SplitHostPort(strings.TrimPrefix(secure.URL, "https://"))
	names := map[string][]netip.Addr{
		"shop.test":   {netip.MustParseAddr("127.0.0.1")},
		"example.com": {netip.MustParseAddr("127.0.0.1")}, // the name httptest's certificate is for
		"evil.test":   {netip.MustParseAddr("10.1.2.3")},
		"meta.test":   {netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("::ffff:127.0.0.1")},
	}
	for _, kind := range []struct {
		name, scheme string
		socks        bool
		tls          bool
		source       string
	}{
		{"http CONNECT", "http", false, false, "127.0.0.5"},
		{"https CONNECT", "https", false, true, "127.0.0.6"},
		{"socks5", "socks5", true, false, "127.0.0.7"},
	} {
		t.Run(kind.name, func(t *testing.T) {
			var proxyTLS *tls.Config
			if kind.tls {
				proxyTLS = serverTLS
			}
			p := startProxy(t, kind.socks, kind.source, proxyTLS)
			cfg := singleConfig()
			cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8", "intranet.test"}
			cfg.Fetch.Proxy = []string{p.url(kind.scheme, "")}
			policy := newAddrPolicy(cfg.Fetch.AllowAddresses)
			policy.lookup = func(_ context.Context, host string) ([]netip.Addr, error) {
				if a, ok := names[host]; ok {
					return a, nil
				}
				return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
			}
			f, err := newFetcher(cfg, policy)
			if err != nil {
				t.Fatal(err)
			}
			defer f.close()
			f.trust(pool)
			cl := f.newClient()
			get := func(u string) (*response, error) {
				return cl.get(context.Background(), u, 1<<20, cfg.timeouts())
			}

			for _, u := range []string{"http://shop.test:" + plainPort + "/p/0", "https://example.com:" + securePort + "/p/0",
				"http://meta.test:" + plainPort + "/p/0"} {
				r, err := get(u)
				if err != nil || r.status != 200 {
					t.Fatalf("GET %s: %v, %v", u, r, err)
				}
			}
			_, targets, _ := p.log()
			want := []string{"127.0.0.1:" + plainPort, "127.0.0.1:" + securePort, "127.0.0.1:" + plainPort}
			if strings.Join(targets, " ") != strings.Join(want, " ") {
				t.Errorf("the proxy was asked for %q, want the judged addresses %q", targets, want)
			}
			reqs := site.log()
			last := reqs[len(reqs)-3:]
			for i, h := range []string{"shop.test:" + plainPort, "example.com:" + securePort, "meta.test:" + plainPort} {
				if last[i].host != h || last[i].from != kind.source {
					t.Errorf("the site saw Host %q from %s, want %q from the proxy's %s", last[i].host, last[i].from, h, kind.source)
				}
			}

			before, _, _ := p.log()
			for _, u := range []string{"http://evil.test:" + plainPort + "/", "https://10.9.8.7/", "http://[::ffff:10.0.0.1]/"} {
				_, err := get(u)
				if !errors.Is(err, ErrBlockedAddress) {
					t.Errorf("GET %s through the proxy: %v, want %v", u, err, ErrBlockedAddress)
				}
			}
			_, err = get("http://nosuch.test:" + plainPort + "/")
			if class, reason := classifyErr(err); class != classPermanent || reason != "dns: no such host" {
				t.Errorf("GET of an unknown host through the proxy: %v, classified %d %q, want %d %q as without a proxy",
					err, class, reason, classPermanent, "dns: no such host")
			}
			if after, _, _ := p.log(); after != before {
				t.Errorf("the proxy accepted %d connections for refused or unknown targets, want none", after-before)
			}

			// A host fetch.allow_addresses names is trusted by name: the
			// proxy resolves it (it may be the only one that can).
			get("http://intranet.test:" + plainPort + "/")
			if _, targets, _ := p.log(); targets[len(targets)-1] != "intranet.test:"+plainPort {
				t.Errorf("the proxy was asked for %q, want the allowed name intranet.test:%s", targets[len(targets)-1], plainPort)
			}
		})
	}
}

// TestProxyAddressGuard: a proxy on a loopback or private address must be
// allowed like any other address (the config says so when the proxy is
// written as an address: TestFetchConfigErrors); the dial-time guard
// refuses it, without the proxy receiving a connection, as a failure of
// the proxy (not a verdict on the target). Errors name the proxy without
// its credentials.
func TestProxyAddressGuard(t *testing.T) {
	site := &loggedSite{}
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(site)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	defer srv.Close()
	p := startProxy(t, false, "127.0.0.8", nil)
	cfg := singleConfig()
	cfg.Fetch.AllowAddresses = []string{"127.0.0.2"} // the site, not the proxy
	cfg.Fetch.Proxy = []string{p.url("http", "al:pw-1")}
	_, err = getOnce(t, cfg, srv.URL+"/")
	want := "proxy http://" + p.addr() + ": blocked address: 127.0.0.1 is loopback"
	if err == nil || !strings.Contains(err.Error(), want) || errors.Is(err, ErrBlockedAddress) || strings.Contains(err.Error(), "pw-1") {
		t.Errorf("GET through a loopback proxy not allowed: %v, want %q, not %v, without the password", err, want, ErrBlockedAddress)
	}
	if n, _, _ := p.log(); n != 0 || len(site.log()) != 0 {
		t.Errorf("the proxy accepted %d connections and the site %d requests, want none", n, len(site.log()))
	}
}

// TestProxyRefusesCredentials: a proxy's 407 is an error naming the proxy
// and its answer, never the credentials sent.
func TestProxyRefusesCredentials(t *testing.T) {
	site := &loggedSite{}
	srv := httptest.NewServer(site)
	defer srv.Close()
	p := startProxy(t, false, "127.0.0.9", nil).withAuth("al", "right-pass")
	cfg := singleConfig()
	cfg.Fetch.Proxy = []string{p.url("http", "al:wrong-pass-3")}
	_, err := getOnce(t, cfg, srv.URL+"/")
	want := fmt.Sprintf("proxy http://%s: CONNECT %s: 407 Proxy Authentication Required", p.addr(), strings.TrimPrefix(srv.URL, "http://"))
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "wrong-pass-3") {
		t.Errorf("GET with wrong proxy credentials: %v, want %q without the password", err, want)
	}
	if _, _, creds := p.log(); len(creds) != 1 || creds[0] != "al:wrong-pass-3" {
		t.Errorf("the proxy received credentials %q, want the configured ones once", creds)
	}
	if len(site.log()) != 0 {
		t.Errorf("the site received %d requests, want none", len(site.log()))
	}
}

// getOnce fetches rawURL with a fetcher of cfg (not validated), judged by
// cfg's allow list.
func getOnce(t *testing.T, cfg *Config, rawURL string) (*response, error) {
	t.Helper()
	f, err := newFetcher(cfg, newAddrPolicy(cfg.Fetch.AllowAddresses))
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	return f.newClient().get(context.Background(), rawURL, 1<<20, cfg.timeouts())
}

// TestInspectShowsProxy: "crawler fetch" (Inspect) says which proxy each
// request went through, as scheme://host:port, and what it shows (the
// inspection, as --json prints it) holds no credential.
func TestInspectShowsProxy(t *testing.T) {
	site := &loggedSite{pages: 1}
	srv := httptest.NewServer(site)
	defer srv.Close()
	hp := startProxy(t, false, "127.0.0.11", nil).withAuth("hpuser", "hp-pass-81")
	sp := startProxy(t, true, "127.0.0.12", nil).withAuth("spuser", "sp-pass-82")
	cfg := singleConfig()
	cfg.Fetch.Proxy = []string{hp.url("http", "hpuser:hp-pass-81"), sp.url("socks5", "spuser:sp-pass-82")}
	ins, err := Inspect(context.Background(), cfg, srv.URL+"/", InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := site.log()
	if len(ins.Requests) != 2 || len(reqs) != 2 {
		t.Fatalf("Inspect made %d requests and the site saw %d, want robots.txt and the page", len(ins.Requests), len(reqs))
	}
	for i, r := range ins.Requests {
		p := []*testProxy{hp, sp}[i]
		scheme := []string{"http", "socks5"}[i]
		if r.Via != p.url(scheme, "") || reqs[i].from != p.source {
			t.Errorf("request %d went via %q and came from %s, want via %s from %s", i, r.Via, reqs[i].from, p.url(scheme, ""), p.source)
		}
	}
	b, err := json.Marshal(ins)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hp-pass-81", "sp-pass-82", "hpuser", "spuser"} {
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("the inspection shows %q: %s", secret, b)
		}
	}
}
