package testsite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options configures a Site. The zero value is a usable normal site.
type Options struct {
	Hosts        int   // number of content hosts (default 8)
	PagesPerHost int   // approximate number of HTML pages per host (default 1000)
	Seed         int64 // all content is a pure function of (Seed, host index, path), the host addresses and the generation

	// Port is the one port every host listens on. 0 picks a free port that
	// is usable on every address.
	Port int
	// FirstAddr is the address of the first host (default "127.0.0.2").
	// Further hosts take the following addresses, skipping .0 and .255 in
	// the last byte; all must stay inside 127.0.0.0/8.
	FirstAddr string

	// Fast selects benchmark mode: every page is ~30 KB with 50 links,
	// generated cheaply; no errors, no redirects, robots.txt allows all.
	Fast bool
	// Hostile adds the hostile hosts described in the package doc.
	Hostile bool

	// Changes sets how much of each content host changes from one
	// generation to the next (see Site.Advance). The zero value changes
	// nothing, whatever the generation.
	Changes ChangeRates
	// Duplicates adds exact duplicates, print versions and near-identical
	// editions of pages, listed by Site.Duplicates (not in Fast mode).
	Duplicates bool

	// RateLimit, if > 0, makes every host answer 429 (Retry-After: 1) to a
	// request that arrives sooner than 1/RateLimit seconds after the
	// previous accepted one, less a tolerance of a tenth of that interval
	// for scheduling jitter.
	RateLimit float64
	// Latency delays every response by this much (a timer, abandoned when
	// the client goes away).
	Latency time.Duration

	// LogSize bounds the request start times kept for MaxInWindow, and
	// the requests kept for Requests, in total over all hosts (default
	// 1<<20). Counters are never bounded.
	LogSize int
	// NoByPath turns off the per-path request counts in Stats and the
	// request log of Requests, so a long benchmark keeps no per-URL state.
	NoByPath bool
}

// Site is a running test site. Its methods are safe for concurrent use.
type Site struct {
	opts  Options
	port  int
	start time.Time // origin of the monotonic request timestamps

	hosts   []string          // content hosts, "addr:port"
	hostile map[string]string // role -> "addr:port"
	roles   []string          // hostile roles in address order

	normal *normalSite // nil in Fast mode
	fast   *fastSite   // nil unless Fast
	bad    *hostileSite

	logs map[string]*hostLog // by "addr:port"; fixed after Start

	hist  *history     // the content hosts' change history
	gen   atomic.Int64 // the generation served
	genMu sync.Mutex   // serializes Advance and SetGeneration

	baseCtx context.Context
	cancel  context.CancelFunc
	servers []*http.Server
	serveWG sync.WaitGroup // Serve loops

	mu       sync.Mutex // guards closed, and handlers.Add against handlers.Wait
	closed   bool
	handlers sync.WaitGroup
	closeErr error
}

// Start listens on every host's address and serves the site until Close.
func Start(o Options) (*Site, error) {
	if o.Hosts == 0 {
		o.Hosts = 8
	}
	if o.PagesPerHost == 0 {
		o.PagesPerHost = 1000
	}
	if o.FirstAddr == "" {
		o.FirstAddr = "127.0.0.2"
	}
	if o.LogSize == 0 {
		o.LogSize = 1 << 20
	}
	if o.Hosts < 0 || o.PagesPerHost < 0 || o.LogSize < 0 || o.RateLimit < 0 || o.Latency < 0 {
		return nil, fmt.Errorf("start test site: negative option in %+v", o)
	}
	if o.Port < 0 || o.Port > 65535 {
		return nil, fmt.Errorf("start test site: port %d out of range", o.Port)
	}
	if err := o.Changes.validate(o.Fast); err != nil {
		return nil, fmt.Errorf("start test site: %w", err)
	}
	if o.Fast && o.Duplicates {
		return nil, errors.New("start test site: Duplicates needs the normal site, not Fast mode")
	}
	n := o.Hosts
	var roles []string
	if o.Hostile {
		roles = hostileRoles
		n += len(roles)
	}
	addrs, err := LoopbackAddrs(o.FirstAddr, n)
	if err != nil {
		return nil, fmt.Errorf("start test site: %w", err)
	}
	lns, port, err := listenAll(addrs, o.Port)
	if err != nil {
		return nil, fmt.Errorf("start test site: %w", err)
	}

	s := &Site{opts: o, port: port, start: time.Now(), roles: roles, logs: make(map[string]*hostLog)}
	all := make([]string, n)
	for i, a := range addrs {
		all[i] = net.JoinHostPort(a.String(), strconv.Itoa(port))
	}
	s.hosts = all[:o.Hosts]
	perHost := max(o.LogSize/n, 2)
	for _, h := range all {
		s.logs[h] = newHostLog(perHost, !o.NoByPath, o.RateLimit)
	}
	if o.Fast {
		s.fast = newFastSite(o.Seed, s.hosts, o.PagesPerHost, o.Changes)
		s.hist = s.fast.hist
	} else {
		s.normal = newNormalSite(o.Seed, s.hosts, o.PagesPerHost, o.Changes, o.Duplicates)
		s.hist = s.normal.hist
	}
	if o.Hostile {
		s.hostile = make(map[string]string, len(roles))
		for i, role := range roles {
			s.hostile[role] = all[o.Hosts+i]
		}
		s.bad = newHostileSite(port)
		s.bad.hosts = s.hostile
	}

	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	quiet := log.New(io.Discard, "", 0)
	for i, ln := range lns {
		var h func(w http.ResponseWriter, r *http.Request, g int)
		switch {
		case i >= o.Hosts:
			bad := s.bad.handler(roles[i-o.Hosts])
			h = func(w http.ResponseWriter, r *http.Request, _ int) { bad.ServeHTTP(w, r) }
		case o.Fast:
			h = func(w http.ResponseWriter, r *http.Request, g int) { s.fast.serve(w, r, i, g) }
		default:
			h = func(w http.ResponseWriter, r *http.Request, g int) { s.normal.serve(w, r, i, g) }
		}
		srv := &http.Server{
			Handler:           s.wrap(all[i], h),
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          quiet,
			BaseContext:       func(net.Listener) context.Context { return s.baseCtx },
		}
		s.servers = append(s.servers, srv)
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			srv.Serve(ln) // returns http.ErrServerClosed after Close
		}()
	}
	return s, nil
}

// Close stops all listeners, cuts open connections (cancelling the
// requests' contexts, which ends the endless responses) and waits for every
// handler to return. Calling it again returns the first result.
func (s *Site) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()

	// Cut connections before cancelling the handlers' contexts, so a
	// response that never ends is seen as cut, not as complete.
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.cancel()
	s.serveWG.Wait()
	s.handlers.Wait()
	s.closeErr = errors.Join(errs...)
	return s.closeErr
}

// Hosts returns the content hosts in order, as "127.0.0.2:PORT".
func (s *Site) Hosts() []string { return append([]string(nil), s.hosts...) }

// Port returns the port every host listens on.
func (s *Site) Port() int { return s.port }

// HostileHosts returns role -> "addr:port" for the hostile hosts; it is
// empty unless Options.Hostile was set.
func (s *Site) HostileHosts() map[string]string {
	m := make(map[string]string, len(s.hostile))
	for k, v := range s.hostile {
		m[k] = v
	}
	return m
}

// Seeds returns "http://<host>/" for every content host, followed by the
// hostile hosts (in the order of the package doc) when Hostile is set.
func (s *Site) Seeds() []string {
	var seeds []string
	for _, h := range s.hosts {
		seeds = append(seeds, "http://"+h+"/")
	}
	for _, role := range s.roles {
		seeds = append(seeds, "http://"+s.hostile[role]+"/")
	}
	return seeds
}

// Expected returns canonical URL -> HTTP status for every URL that a
// correct crawler starting from the content hosts' seeds would request at
// the current generation (see ExpectedAt).
func (s *Site) Expected() map[string]int { return s.ExpectedAt(s.Generation()) }

// ExpectedAt returns canonical URL -> HTTP status for every URL that a
// correct crawler starting from the content hosts' seeds would request at
// generation g (a fresh crawl; pages removed and no longer linked are not
// in it): it
// obeys robots.txt, follows every <a href> (resolved against <base href>
// where present, whether or not it carries rel=nofollow or the page has
// <meta name=robots content=nofollow> — the set is the same either way),
// drops fragments and utm_* query parameters, and schedules redirect
// targets as new URLs (a redirect counts at its source with 301/302, its
// target separately). robots.txt and sitemaps are not included, nor the
// sitemap-only pages. It is computed from the generator's link graph, not by
// crawling, and covers only the content hosts. A g outside [0,
// MaxGeneration] gives nil.
func (s *Site) ExpectedAt(g int) map[string]int {
	if g < 0 || g > MaxGeneration {
		return nil
	}
	s.hist.ensure(g)
	s.hist.rlock()
	defer s.hist.runlock()
	if s.fast != nil {
		return s.fast.expected(g)
	}
	got, _ := view{s.normal, g}.expected(false)
	return got
}

// SitemapOnly returns the URLs that appear only in the content hosts'
// /sitemap.xml and are linked from nowhere. It is empty in Fast mode.
func (s *Site) SitemapOnly() []string {
	if s.normal == nil {
		return nil
	}
	return s.normal.sitemapOnly()
}

// wrap records the request in the host's log, applies RateLimit and
// Latency, and runs h with the generation to serve.
func (s *Site) wrap(host string, h func(w http.ResponseWriter, r *http.Request, g int)) http.Handler {
	hl := s.logs[host]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			http.Error(w, "closing", http.StatusServiceUnavailable)
			return
		}
		s.handlers.Add(1)
		s.mu.Unlock()
		defer s.handlers.Done()

		g := int(s.gen.Load())
		_, seq, allowed := hl.begin(s.start, r.URL, r.Method, g, conditional(r))
		rec := &recorder{ResponseWriter: w, log: hl, seq: seq}
		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK // what net/http sends for a handler that wrote nothing
			}
			hl.end(seq, status)
		}()
		if !allowed {
			rec.Header().Set("Retry-After", "1")
			http.Error(rec, "too many requests", http.StatusTooManyRequests)
			return
		}
		if d := s.opts.Latency; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		h(rec, r, g)
	})
}

// LoopbackAddrs returns n IPv4 addresses from first on, skipping .0 and
// .255 in the last byte, all inside 127.0.0.0/8: the addresses a site
// with Options.FirstAddr first gives its hosts.
func LoopbackAddrs(first string, n int) ([]netip.Addr, error) {
	a, err := netip.ParseAddr(first)
	if err != nil {
		return nil, fmt.Errorf("first address %q: %w", first, err)
	}
	loop := netip.MustParsePrefix("127.0.0.0/8")
	if !a.Is4() || !loop.Contains(a) {
		return nil, fmt.Errorf("first address %q is not in 127.0.0.0/8", first)
	}
	addrs := make([]netip.Addr, 0, n)
	for len(addrs) < n {
		if b := a.As4(); b[3] != 0 && b[3] != 255 {
			addrs = append(addrs, a)
		}
		a = a.Next()
		if !loop.Contains(a) && len(addrs) < n {
			return nil, fmt.Errorf("%d hosts from %s do not fit in 127.0.0.0/8", n, first)
		}
	}
	return addrs, nil
}

// listenAll listens on the same port on every address. With port 0 it
// takes a free port on the first address and tries it on the others,
// starting over with a new port when one of them has it in use.
func listenAll(addrs []netip.Addr, port int) ([]net.Listener, int, error) {
	const attempts = 8
	var lastErr error
	for range attempts {
		lns, p, err := tryListen(addrs, port)
		if err == nil {
			return lns, p, nil
		}
		lastErr = err
		if port != 0 || !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
	}
	return nil, 0, lastErr
}

func tryListen(addrs []netip.Addr, port int) ([]net.Listener, int, error) {
	lns := make([]net.Listener, 0, len(addrs))
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, a := range addrs {
		ln, err := net.Listen("tcp4", netip.AddrPortFrom(a, uint16(port)).String())
		if err != nil {
			closeAll()
			return nil, 0, fmt.Errorf("listen on %s port %d: %w", a, port, err)
		}
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		lns = append(lns, ln)
	}
	return lns, port, nil
}
