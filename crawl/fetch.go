package crawl

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/publicsuffix"
)

// ErrBlockedAddress is returned when a URL's host resolves to an address the
// crawler must not connect to (loopback, private, link-local, metadata ...).
var ErrBlockedAddress = errors.New("blocked address")

// addrPolicy decides which IP addresses may be dialled. It is checked at
// dial time on the resolved address, so neither redirects nor DNS rebinding
// can reach a forbidden address.
type addrPolicy struct {
	allowPrefixes []netip.Prefix
	allowHosts    map[string]bool
}

func newAddrPolicy(allow []string) *addrPolicy {
	p := &addrPolicy{allowHosts: map[string]bool{}}
	for _, a := range allow {
		if pr, err := netip.ParsePrefix(a); err == nil {
			p.allowPrefixes = append(p.allowPrefixes, pr.Masked())
		} else if ad, err := netip.ParseAddr(a); err == nil {
			p.allowPrefixes = append(p.allowPrefixes, netip.PrefixFrom(ad, ad.BitLen()))
		} else {
			p.allowHosts[strings.ToLower(a)] = true
		}
	}
	return p
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// blocked returns why addr may not be dialled, or "".
func (p *addrPolicy) blocked(addr netip.Addr) string {
	addr = addr.Unmap()
	for _, pr := range p.allowPrefixes {
		if pr.Contains(addr) {
			return ""
		}
	}
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate(), cgnat.Contains(addr):
		return "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local or cloud metadata"
	case addr.IsUnspecified(), addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "not a unicast address"
	}
	return ""
}

// hostBlocked checks a URL host that is an IP literal, so links to private
// addresses are skipped before they ever reach the frontier.
func (p *addrPolicy) hostBlocked(host string) string {
	if p.allowHosts[strings.ToLower(host)] {
		return ""
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "loopback"
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return ""
	}
	return p.blocked(a)
}

// fetchInfo travels in a request's context from the fetcher to the
// transport and back: what the transport saw that colly does not report.
type fetchInfo struct {
	maxBody     int64
	truncated   bool
	contentType string // original Content-Type, charset included
	encoding    string // Content-Encoding decoded by the transport
}

type fetchInfoKey struct{}

// decodingTransport asks for compressed bodies, decodes them itself and caps
// the decoded size, so a gzip or brotli bomb stops at the cap and the cut is
// recorded. It also hides the charset from colly: charset detection is ours.
type decodingTransport struct {
	base http.RoundTripper
}

func (t *decodingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	}
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	info, _ := req.Context().Value(fetchInfoKey{}).(*fetchInfo)
	if info == nil {
		return res, nil
	}
	info.contentType = res.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(info.contentType); err == nil {
		res.Header.Set("Content-Type", mt)
	} else if info.contentType != "" {
		res.Header.Set("Content-Type", "application/octet-stream")
	}
	raw := res.Body
	var body io.Reader = raw
	switch enc := strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		body = &lazyReader{open: func() (io.Reader, error) { return gzip.NewReader(raw) }}
		info.encoding = "gzip"
	case "br":
		body = brotli.NewReader(raw)
		info.encoding = "br"
	case "deflate":
		body = flate.NewReader(raw)
		info.encoding = "deflate"
	default:
		raw.Close()
		return nil, fmt.Errorf("unsupported content encoding %q", enc)
	}
	if info.encoding != "" {
		res.Header.Del("Content-Encoding")
		res.Header.Del("Content-Length")
		res.ContentLength = -1
		res.Uncompressed = true
	}
	res.Body = &cappedBody{r: body, c: raw, left: info.maxBody, info: info}
	return res, nil
}

// lazyReader defers opening a decoder until the first Read, so headers are
// returned even if the body never arrives.
type lazyReader struct {
	open func() (io.Reader, error)
	r    io.Reader
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil {
		r, err := l.open()
		if err != nil {
			return 0, err
		}
		l.r = r
	}
	return l.r.Read(p)
}

// cappedBody ends the body after left decoded bytes and marks truncation.
type cappedBody struct {
	r    io.Reader
	c    io.Closer
	left int64
	info *fetchInfo
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Is there more? Probe one byte: only then is the body truncated.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			b.info.truncated = true
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.c.Close() }

// idleConn fails a read that waits longer than idle, so a server that drips
// bytes slowly cannot hold a worker: each read must make progress in time,
// and the request's total deadline bounds the whole exchange.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(p)
}

// newTransport builds the HTTP transport: per-phase timeouts, the address
// guard at dial time, enough idle connections per host, no proxy from the
// environment (the config file is the source of truth).
func newTransport(cfg *Config, policy *addrPolicy) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   cfg.Fetch.ConnectTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: unparsable address %q", ErrBlockedAddress, address)
			}
			if why := policy.blocked(ap.Addr()); why != "" {
				return fmt.Errorf("%w: %s is %s", ErrBlockedAddress, ap.Addr(), why)
			}
			return nil
		},
	}
	allowDialer := &net.Dialer{Timeout: cfg.Fetch.ConnectTimeout, KeepAlive: 30 * time.Second}
	perHost := cfg.Politeness.MaxInFlight * 2
	for _, o := range cfg.Politeness.Hosts {
		perHost = max(perHost, o.MaxInFlight*2)
	}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := dialer
			if host, _, err := net.SplitHostPort(addr); err == nil && policy.allowHosts[strings.ToLower(host)] {
				d = allowDialer
			}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &idleConn{Conn: c, idle: cfg.Fetch.IdleTimeout}, nil
		},
		TLSHandshakeTimeout:    cfg.Fetch.TLSTimeout,
		ResponseHeaderTimeout:  cfg.Fetch.HeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           max(cfg.Workers*2, 64),
		MaxIdleConnsPerHost:    max(perHost, 4),
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		ForceAttemptHTTP2:      true,
		DisableCompression:     true, // decodingTransport decodes and caps
	}
}

// fetcher performs one GET through colly, synchronously, without following
// redirects: redirect targets go back through the frontier.
type fetcher struct {
	cfg       *Config
	transport *http.Transport
	base      *colly.Collector
}

func newFetcher(cfg *Config, policy *addrPolicy) (*fetcher, error) {
	tr := newTransport(cfg, policy)
	client := &http.Client{
		Transport: &decodingTransport{base: tr},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if cfg.Fetch.Cookies {
		jar, err := cookiejar.New(&cookiejar.Options{PublicSuffixList: publicsuffix.List})
		if err != nil {
			return nil, fmt.Errorf("cookie jar: %w", err)
		}
		client.Jar = jar
	}
	// colly.NewCollector reads COLLY_* environment variables; the options
	// below are applied after them, so the config file wins.
	c := colly.NewCollector(
		colly.UserAgent(cfg.Fetch.UserAgent),
		colly.AllowURLRevisit(),
		colly.IgnoreRobotsTxt(),
		colly.MaxBodySize(0),
		colly.MaxDepth(0),
		colly.ParseHTTPErrorResponse(),
		colly.DetectCharset(), // undone below: charset handling is ours
	)
	c.DetectCharset = false
	c.Async = false
	c.CacheDir = ""
	c.SetClient(client)
	return &fetcher{cfg: cfg, transport: tr, base: c}, nil
}

// close releases idle connections.
func (f *fetcher) close() { f.transport.CloseIdleConnections() }

// response is what a fetch returned.
type response struct {
	status      int
	header      http.Header
	body        []byte
	truncated   bool
	contentType string
	encoding    string
	dur         time.Duration
}

// client is a worker's own colly collector, sharing the fetcher's transport.
type client struct {
	c    *colly.Collector
	last *colly.Response
}

func (f *fetcher) newClient() *client {
	cl := &client{c: f.base.Clone()}
	cl.c.OnResponse(func(r *colly.Response) { cl.last = r })
	return cl
}

// get fetches rawURL. It returns an error only when no HTTP response was
// received (network, timeout, blocked address, cancellation).
func (cl *client) get(ctx context.Context, rawURL string, maxBody int64, total time.Duration) (*response, error) {
	info := &fetchInfo{maxBody: maxBody}
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	cl.c.Context = context.WithValue(ctx, fetchInfoKey{}, info)
	cl.last = nil
	start := time.Now()
	err := cl.c.Request(http.MethodGet, rawURL, nil, nil, nil)
	dur := time.Since(start)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ErrBlockedAddress) {
			if parentDone(ctx) {
				return nil, context.Canceled
			}
			return nil, fmt.Errorf("total timeout %v exceeded: %w", total, context.DeadlineExceeded)
		}
		return nil, err
	}
	r := cl.last
	if r == nil {
		return nil, errors.New("no response")
	}
	return &response{
		status: r.StatusCode, header: *r.Headers, body: r.Body, truncated: info.truncated,
		contentType: info.contentType, encoding: info.encoding, dur: dur,
	}, nil
}

// parentDone reports whether ctx ended because its parent was cancelled
// rather than because of its own deadline.
func parentDone(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), context.Canceled)
}

// location resolves a redirect's Location header against the request URL.
func location(base *url.URL, h http.Header) (*url.URL, bool) {
	loc := strings.TrimSpace(h.Get("Location"))
	if loc == "" {
		return nil, false
	}
	u, err := base.Parse(loc)
	if err != nil {
		return nil, false
	}
	return u, true
}
