package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gzipped returns body gzip-compressed.
func gzipped(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzipContentTypeCapped: a response whose Content-Type (not its
// Content-Encoding) says gzip, or whose path ends in .xml.gz, is kept as
// sent, within max_body_size: nothing inflates it past the cap. Gzipped
// sitemaps still work, whatever they are labelled.
func TestGzipContentTypeCapped(t *testing.T) {
	const maxBody = 64 << 10
	bomb := gzipped(t, bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of spaces, ~8 KB sent
	sitemap := func(paths ...string) []byte {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range paths {
			fmt.Fprintf(&b, "<url><loc>%s</loc></url>", p)
		}
		b.WriteString("</urlset>")
		return gzipped(t, b.Bytes())
	}
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		send := func(ctype string, body []byte) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/bomb.xml\nSitemap: %s/x-gzip.xml\nSitemap: %s/plain.xml.gz\n", base, base, base)
		case "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/data.gz">data</a> <a href="/page.xml.gz">xml.gz</a></html>`)
		case "/bomb.xml", "/data.gz":
			send("application/x-gzip", bomb)
		case "/page.xml.gz":
			send("text/html", bomb)
		case "/x-gzip.xml":
			send("application/x-gzip", sitemap(base+"/from-x-gzip"))
		case "/plain.xml.gz":
			send("application/octet-stream", sitemap(base+"/from-xml-gz"))
		default:
			fmt.Fprint(w, `<html><title>Leaf</title></html>`)
		}
	}))
	defer srv.Close()
	base = srv.URL
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxBodySize = maxBody
	crawlOnce(t, cfg)

	sizes := queryMap(t, cfg.Database, `SELECT url, size || ' ' || truncated FROM pages`)
	for _, p := range []string{"/bomb.xml", "/data.gz", "/page.xml.gz"} {
		got, ok := sizes[base+p]
		if !ok {
			t.Errorf("%s: no page row", p)
			continue
		}
		var size, trunc int
		fmt.Sscan(got, &size, &trunc)
		if size > maxBody || size != len(bomb) {
			t.Errorf("%s: stored %d bytes (truncated %d), want the %d bytes sent, under the %d-byte cap", p, size, trunc, len(bomb), maxBody)
		}
	}
	for _, p := range []string{"/from-x-gzip", "/from-xml-gz"} {
		if _, ok := sizes[base+p]; !ok {
			t.Errorf("%s, listed in a gzipped sitemap, was not fetched", p)
		}
	}
}

// countingServer counts requests by path and query.
type countingServer struct {
	mu    sync.Mutex
	paths map[string]int // guarded by mu
}

func (c *countingServer) count(r *http.Request) {
	c.mu.Lock()
	c.paths[r.URL.RequestURI()]++
	c.mu.Unlock()
}

func (c *countingServer) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.paths)
}

// TestOneRequestPerAttemptOnReusedConnection: a page whose headers come
// after most of fetch.idle_timeout, asked on a keep-alive connection that
// sat idle in the pool first (the host's rate made it wait), is requested
// exactly once. The idle timeout covers silences while a body is read; the
// time a pooled connection waits for its next request is not one.
func TestOneRequestPerAttemptOnReusedConnection(t *testing.T) {
	cs := &countingServer{paths: map[string]int{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.count(r)
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		case "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/slow">slow</a></html>`)
		case "/slow":
			// The scenario: headers come 700 ms after the request.
			select {
			case <-time.After(700 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, `<html><title>Slow</title></html>`)
		}
	}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Politeness.Rate = 2 // each request waits 500 ms on an idle pooled connection
	cfg.Politeness.MaxInFlight = 1
	cfg.Politeness.LatencyFactor = 0
	cfg.Fetch.IdleTimeout = time.Second
	cfg.Fetch.HeaderTimeout = 5 * time.Second
	cfg.Fetch.MaxRetries = 0
	crawlOnce(t, cfg)
	for p, n := range cs.counts() {
		if n != 1 {
			t.Errorf("%s requested %d times, want once", p, n)
		}
	}
	got := queryMap(t, cfg.Database, `SELECT url, state || ' ' || attempts FROM frontier`)
	if got[srv.URL+"/slow"] != "done 1" {
		t.Errorf("/slow: %q, want done after 1 attempt", got[srv.URL+"/slow"])
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 kept alive for every request", n)
	}
}

// TestTimeoutsBounded: one hostile URL costs its host a bounded time. A
// response that began and then dripped past total_timeout, or stalled for
// idle_timeout, is not retried and does not count as the host being down;
// a URL whose headers never come counts against its host and is retried
// like a failed connection. While a fetch hangs, the engine's stats name it.
func TestTimeoutsBounded(t *testing.T) {
	cs := &countingServer{paths: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.count(r)
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
			return
		case "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/drip">drip</a> <a href="/stall">stall</a></html>`)
			return
		case "/drip", "/stall":
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		for i := 0; ; i++ {
			if r.URL.Path == "/drip" || i < 3 {
				w.Write([]byte("<"))
				rc.Flush()
			}
			// The scenario: a byte every 100 ms (drip), or 3 bytes and silence (stall).
			select {
			case <-time.After(100 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	// A second host never answers /noheaders.
	mute := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.count(r)
		if r.URL.Path == "/noheaders" {
			<-r.Context().Done()
			return
		}
		http.NotFound(w, r)
	}))
	defer mute.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Seeds = append(cfg.Seeds, mute.URL+"/noheaders")
	cfg.Politeness.MaxInFlight = 1
	cfg.Fetch.TotalTimeout = 3 * time.Second
	cfg.Fetch.IdleTimeout = 500 * time.Millisecond
	cfg.Fetch.HeaderTimeout = 500 * time.Millisecond
	cfg.Fetch.MaxRetries = 3
	e, db := seededEngine(t, cfg)
	defer db.Close()
	var mu sync.Mutex
	var seen []string // fetches the stats named as running
	e.OnProgress = func(s Stats) {
		mu.Lock()
		defer mu.Unlock()
		for _, f := range s.Running {
			seen = append(seen, f.URL)
		}
	}
	if out, err := e.Run(context.Background(), time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("Run = %s, %v", out, err)
	}
	counts := cs.counts()
	for p, want := range map[string]int{"/drip": 1, "/stall": 1, "/noheaders": 1 + cfg.Fetch.MaxRetries} {
		if counts[p] != want {
			t.Errorf("%s requested %d times, want %d", p, counts[p], want)
		}
	}
	got := queryMap(t, cfg.Database, `SELECT url, state || ': ' || reason || ': ' || coalesce(last_error, '') FROM frontier`)
	for u, want := range map[string]string{
		srv.URL + "/drip":       "failed: timeout: total_timeout 3s exceeded after",
		srv.URL + "/stall":      "failed: timeout: no data for idle_timeout 500ms after 3 bytes of the body",
		mute.URL + "/noheaders": "failed: timeout (after 4 attempts): no response headers within header_timeout 500ms",
	} {
		if !strings.HasPrefix(got[u], want) {
			t.Errorf("%s: %q, want prefix %q", u, got[u], want)
		}
	}
	// The slow responses are no connection failures of their host; the
	// missing answers are.
	host := queryMap(t, cfg.Database, `SELECT origin, state || ' ' || failures FROM hosts`)
	if host[srv.URL] != "active 0" {
		t.Errorf("host of /drip and /stall after the crawl: %q, want active with 0 failures", host[srv.URL])
	}
	if h := host[mute.URL]; !strings.HasPrefix(h, "active ") || h == "active 0" {
		t.Errorf("host of /noheaders after the crawl: %q, want active with failures counted", h)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(seen, srv.URL+"/drip") {
		t.Errorf("stats never named the dripping fetch as running; named %v", seen)
	}
}
