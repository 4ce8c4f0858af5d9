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
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/gocolly/colly/v2"
	"golang.org/x/net/publicsuffix"
)

// ErrBlockedAddress is returned when a URL's host resolves to an address the
// crawler must not connect to (loopback, private, link-local, metadata ...).
var ErrBlockedAddress = errors.New("blocked address")

// allowEntry is one parsed fetch.allow_addresses entry: an address range
// or a host name, either of them limited to one port or not.
type allowEntry struct {
	prefix netip.Prefix // the addresses, unless host is set
	host   string       // a host name, lowercased
	port   uint16       // 0: every port
}

// parseAllowEntry parses one fetch.allow_addresses entry: an IP address
// (10.0.0.5, ::1), a CIDR (10.0.0.0/8), a host name (intranet.example), or
// an address or host name with a port (127.0.0.2:8080, [::1]:8080,
// intranet.example:8443), which allows that port only. It is the one
// parser of the list, for config validation, the dial-time guard and the
// service's check of what a job may allow.
func parseAllowEntry(s string) (allowEntry, error) {
	if pr, err := netip.ParsePrefix(s); err == nil {
		return allowEntry{prefix: pr.Masked()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.WithZone("")
		return allowEntry{prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	var e allowEntry
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return e, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
		}
		e.port = uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.WithZone("")
		e.prefix = netip.PrefixFrom(a, a.BitLen())
		return e, nil
	}
	// A host name, in the form canonical URLs write it (and dial it):
	// Intranet.Example. and Bücher.example as intranet.example and
	// xn--bcher-kva.example.
	k, err := parseHostKey(host)
	if err != nil || !validHostName(k.name) {
		return e, fmt.Errorf("%q is not an IP address, CIDR or host name, nor an address or host name with a port "+
			"(e.g. 10.0.0.0/8, 127.0.0.2:8080, [::1]:8080, intranet.example:8443)", s)
	}
	if a, err := netip.ParseAddr(k.name); err == nil {
		// A name the URL standard reads as an address, such as 0x7f.1.
		e.prefix = netip.PrefixFrom(a, a.BitLen())
		return e, nil
	}
	e.host = k.name
	return e, nil
}

// validHostName reports whether s can be a DNS host name.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// covers reports whether e allows everything other allows.
func (e allowEntry) covers(other allowEntry) bool {
	if e.port != 0 && e.port != other.port {
		return false
	}
	if e.host != "" || other.host != "" {
		return e.host == other.host
	}
	return other.prefix.Bits() >= e.prefix.Bits() && e.prefix.Contains(other.prefix.Addr())
}

// AllowList is a parsed fetch.allow_addresses list.
type AllowList []allowEntry

// ParseAllowList parses entries written as in fetch.allow_addresses.
func ParseAllowList(entries []string) (AllowList, error) {
	l := make(AllowList, 0, len(entries))
	for _, s := range entries {
		e, err := parseAllowEntry(s)
		if err != nil {
			return nil, err
		}
		l = append(l, e)
	}
	return l, nil
}

// Uncovered returns the index of the first entry of entries that l does
// not cover, that is, which would let a crawl connect somewhere l does not
// allow; -1 if l covers them all. Entries are parsed as for
// fetch.allow_addresses; an unparsable one is never covered.
func (l AllowList) Uncovered(entries []string) int {
	for i, s := range entries {
		e, err := parseAllowEntry(s)
		if err != nil || !slices.ContainsFunc(l, func(a allowEntry) bool { return a.covers(e) }) {
			return i
		}
	}
	return -1
}

// addrPolicy decides which IP addresses may be dialled. It is checked at
// dial time on the resolved address, so neither redirects nor DNS rebinding
// can reach a forbidden address.
type addrPolicy struct {
	allow AllowList
	// lookup resolves a host name for a request sent through a proxy;
	// nil means net.DefaultResolver (tests answer for names of their own).
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
}

// newAddrPolicy builds the policy of a validated allow list; entries that
// do not parse (validation refuses them) allow nothing.
func newAddrPolicy(allow []string) *addrPolicy {
	p := &addrPolicy{}
	for _, a := range allow {
		if e, err := parseAllowEntry(a); err == nil {
			p.allow = append(p.allow, e)
		}
	}
	return p
}

var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	broadcast   = netip.MustParseAddr("255.255.255.255")
	nat64Local  = netip.MustParsePrefix("64:ff9b:1::/48")
)

// ipv4Embeddings are the IPv6 ranges whose addresses carry an IPv4 address
// that the packets end up at (or come from, for IPv4-compatible and
// IPv4-translated forms): the guard judges that address. offset is where
// its four bytes start; Teredo stores them inverted.
var ipv4Embeddings = []struct {
	name   string
	prefix netip.Prefix
	offset int
	invert bool
}{
	{"NAT64", netip.MustParsePrefix("64:ff9b::/96"), 12, false},
	{"6to4", netip.MustParsePrefix("2002::/16"), 2, false},
	{"IPv4-compatible", netip.MustParsePrefix("::/96"), 12, false},
	{"IPv4-translated", netip.MustParsePrefix("::ffff:0:0:0/96"), 12, false},
	{"Teredo", netip.MustParsePrefix("2001::/32"), 12, true},
}

// embeddedIPv4 returns the IPv4 address an IPv6 address embeds, and the
// name of the form.
func embeddedIPv4(a netip.Addr) (netip.Addr, string, bool) {
	if !a.Is6() {
		return netip.Addr{}, "", false
	}
	b := a.As16()
	for _, e := range ipv4Embeddings {
		if !e.prefix.Contains(a) {
			continue
		}
		var v4 [4]byte
		copy(v4[:], b[e.offset:e.offset+4])
		if e.invert {
			for i := range v4 {
				v4[i] ^= 0xff
			}
		}
		return netip.AddrFrom4(v4), e.name, true
	}
	return netip.Addr{}, "", false
}

// allowed reports whether the list allows connecting to addr on port.
func (p *addrPolicy) allowed(addr netip.Addr, port uint16) bool {
	for _, e := range p.allow {
		if e.host == "" && e.prefix.Contains(addr) && (e.port == 0 || e.port == port) {
			return true
		}
	}
	return false
}

// hostAllowed reports whether the list names host (for port): such hosts
// are dialled without the address check. host is the host of a canonical
// URL, as the list's names are.
func (p *addrPolicy) hostAllowed(host string, port uint16) bool {
	host = strings.ToLower(host)
	for _, e := range p.allow {
		if e.host != "" && e.host == host && (e.port == 0 || e.port == port) {
			return true
		}
	}
	return false
}

// blocked returns why ap may not be dialled, or "".
func (p *addrPolicy) blocked(ap netip.AddrPort) string {
	addr := ap.Addr().Unmap()
	if p.allowed(addr, ap.Port()) {
		return ""
	}
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate(), cgnat.Contains(addr):
		return "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local or cloud metadata"
	case addr.IsUnspecified(), addr.IsMulticast(), addr.IsInterfaceLocalMulticast(), thisNetwork.Contains(addr),
		addr == broadcast:
		return "not a unicast address"
	case nat64Local.Contains(addr):
		// Its operator chooses where the IPv4 address sits: it cannot be judged.
		return "local-use NAT64 (" + nat64Local.String() + ")"
	}
	if v4, form, ok := embeddedIPv4(addr); ok {
		if why := p.blocked(netip.AddrPortFrom(v4, ap.Port())); why != "" {
			return fmt.Sprintf("%s (%s of %s)", why, form, v4)
		}
	}
	return ""
}

// urlPort returns the port a URL connects to.
func urlPort(u *url.URL) uint16 {
	if n, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(n)
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

// urlBlocked checks a URL whose host is an IP literal or a localhost name,
// so links to private addresses are skipped before they ever reach the
// frontier. Other host names are judged at dial time.
func (p *addrPolicy) urlBlocked(u *url.URL) string {
	host, port := u.Hostname(), urlPort(u)
	if p.hostAllowed(host, port) {
		return ""
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return "loopback"
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return ""
	}
	return p.blocked(netip.AddrPortFrom(a, port))
}

// checkedTarget returns the address a request to addr (host:port) goes
// to through a proxy: the first address the host resolves to that the
// policy allows, so that the proxy connects to exactly the address judged
// here and cannot resolve the name again to another one; or addr itself
// when fetch.allow_addresses names its host. It is an ErrBlockedAddress
// error when every address is refused.
func (p *addrPolicy) checkedTarget(ctx context.Context, addr string) (string, error) {
	host, port, ok := splitAddr(addr)
	if !ok {
		return "", fmt.Errorf("%w: unparsable address %q", ErrBlockedAddress, addr)
	}
	if p.hostAllowed(host, port) {
		return addr, nil
	}
	addrs, err := p.resolve(ctx, host)
	if err != nil {
		return "", err
	}
	why := ""
	for _, a := range addrs {
		ap := netip.AddrPortFrom(a.Unmap().WithZone(""), port)
		w := p.blocked(ap)
		if w == "" {
			return ap.String(), nil
		}
		if why == "" {
			why = fmt.Sprintf("%s is %s", ap.Addr(), w)
		}
	}
	if why == "" {
		return "", fmt.Errorf("lookup %s: no address", host)
	}
	return "", fmt.Errorf("%w: %s", ErrBlockedAddress, why)
}

// splitAddr splits a dialled address, host:port.
func splitAddr(addr string) (string, uint16, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, false
	}
	n, err := strconv.ParseUint(port, 10, 16)
	return host, uint16(n), err == nil
}

// resolve returns the addresses of host: itself when it is an IP address.
func (p *addrPolicy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	lookup := p.lookup
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("lookup %s: %w", host, err)
	}
	return addrs, nil
}

// directDialer connects to the addresses the policy allows: a host that
// fetch.allow_addresses names at any address, others at an address the
// policy judges on the resolved address, as the connection is made.
type directDialer struct {
	policy  *addrPolicy
	guarded *net.Dialer
	open    *net.Dialer // for hosts allowed by name
}

func newDirectDialer(cfg *Config, policy *addrPolicy) *directDialer {
	return &directDialer{
		policy: policy,
		guarded: &net.Dialer{
			Timeout:   cfg.Fetch.ConnectTimeout,
			KeepAlive: 30 * time.Second,
			Control: func(network, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("%w: unparsable address %q", ErrBlockedAddress, address)
				}
				if why := policy.blocked(ap); why != "" {
					return fmt.Errorf("%w: %s is %s", ErrBlockedAddress, ap.Addr(), why)
				}
				return nil
			},
		},
		open: &net.Dialer{Timeout: cfg.Fetch.ConnectTimeout, KeepAlive: 30 * time.Second},
	}
}

// DialContext connects to addr (host:port) if the policy allows it.
func (d *directDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if host, port, ok := splitAddr(addr); ok && d.policy.hostAllowed(host, port) {
		return d.open.DialContext(ctx, network, addr)
	}
	return d.guarded.DialContext(ctx, network, addr)
}

// Dial is DialContext without a context, for golang.org/x/net/proxy.
func (d *directDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// fetchInfo travels in a request's context from the fetcher to the
// transport and back: what the transport saw that colly does not report.
// Only the goroutine running the request touches it.
type fetchInfo struct {
	maxBody     int64
	idle        time.Duration           // longest silence while the body is read
	stop        context.CancelCauseFunc // ends the request, with the cause
	connected   bool                    // a connection was ready (dialled, TLS done) and the request went on it
	headers     bool                    // the response headers arrived
	received    int64                   // body bytes read from the network
	truncated   bool
	contentType string    // original Content-Type, charset included
	encoding    string    // Content-Encoding decoded by the transport
	via         string    // the way out the router chose: "direct" or a proxy's scheme://host:port
	answered    time.Time // when the response headers arrived
	// body is the decoded, capped body, read by the transport into the
	// buffer body held when the request started (see bufferedBody).
	body []byte
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
	info, _ := req.Context().Value(fetchInfoKey{}).(*fetchInfo)
	if info != nil {
		// GotConn runs on this goroutine (HTTP/1 and HTTP/2 alike).
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(httptrace.GotConnInfo) { info.connected = true },
		}))
	}
	res, err := t.base.RoundTrip(req)
	if err != nil || info == nil {
		return res, err
	}
	info.headers, info.answered = true, time.Now()
	info.contentType = res.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(info.contentType); err == nil {
		res.Header.Set("Content-Type", mt)
	} else if info.contentType != "" {
		res.Header.Set("Content-Type", "application/octet-stream")
	}
	raw := newIdleBody(res.Body, info)
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
	}
	// Never let colly inflate the body: it gunzips any response whose
	// Content-Type mentions gzip, or whose path ends in .xml.gz, with
	// io.ReadAll and no cap. Such a body is kept as sent (within the cap);
	// sitemaps are inflated by parse/sitemap, which caps what it reads.
	res.Uncompressed = true
	size := int64(-1)
	if info.encoding == "" && res.ContentLength >= 0 {
		size = min(res.ContentLength, info.maxBody)
	}
	res.Body = &bufferedBody{r: &cappedBody{r: body, c: raw, left: info.maxBody, info: info}, info: info, size: size}
	return res, nil
}

// bufferedBody reads the whole body into info.body at its first Read and
// then reports the end. colly reads every body with io.ReadAll, which
// grows a new slice as it goes (2.5 times a page's size allocated, per
// page); given this one it reads nothing, and the client takes the bytes
// from info instead, in a buffer it reuses (client.get). A read error is
// returned by that first Read, so colly fails the request with it as it
// would have on its own read.
type bufferedBody struct {
	r    *cappedBody
	info *fetchInfo
	size int64 // the body's length when known, else -1
	read bool
}

func (b *bufferedBody) Read([]byte) (int, error) {
	if !b.read {
		b.read = true
		var err error
		if b.info.body, err = readBody(b.info.body[:0], b.r, b.size); err != nil {
			return 0, err
		}
	}
	return 0, io.EOF
}

func (b *bufferedBody) Close() error { return b.r.Close() }

// minBodyBuffer is the least a body buffer grows by.
const minBodyBuffer = 16 << 10

// readBody appends what r yields to buf until the end. A body of known
// size gets room for all of it and one byte more, so that the Read that
// finds the end needs no growth; otherwise buf doubles as it fills. A
// full buffer grows only once a byte is known to follow, so a body that
// fits exactly (or an empty one) costs no allocation.
func readBody(buf []byte, r io.Reader, size int64) ([]byte, error) {
	if size >= 0 && int64(cap(buf)-len(buf)) < size+1 {
		buf = slices.Grow(buf, max(int(size)+1, 2*cap(buf)))
	}
	for {
		if len(buf) == cap(buf) {
			var one [1]byte
			n, err := r.Read(one[:])
			if n > 0 {
				buf = append(slices.Grow(buf, max(cap(buf), minBodyBuffer)), one[0])
			}
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return buf, err
			}
			continue
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
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

// errIdleTimeout and errTotalTimeout are the causes with which a request's
// context ends when the body stalls or the whole exchange takes too long.
var (
	errIdleTimeout  = errors.New("idle timeout")
	errTotalTimeout = errors.New("total timeout")
)

// idleBody ends the request when no byte of the body arrives for
// info.idle, so a server that stops sending cannot hold a worker; the
// total timeout bounds a server that drips. It watches the body, not the
// connection: the time a keep-alive connection waits in the pool for its
// next request is no silence of any response. (A read deadline on the
// connection counted that time, timed out a reused connection before its
// first byte, and net/http then retried the GET on a new connection,
// silently: two requests in one attempt.) The wait for headers is
// ResponseHeaderTimeout's.
type idleBody struct {
	r    io.ReadCloser
	info *fetchInfo
	t    *time.Timer
}

func newIdleBody(r io.ReadCloser, info *fetchInfo) *idleBody {
	b := &idleBody{r: r, info: info}
	if info.idle > 0 && info.stop != nil {
		stop := info.stop
		b.t = time.AfterFunc(info.idle, func() { stop(errIdleTimeout) })
	}
	return b
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.info.received += int64(n)
	if b.t != nil {
		if err != nil {
			b.t.Stop()
		} else if n > 0 {
			b.t.Reset(b.info.idle)
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	if b.t != nil {
		b.t.Stop()
	}
	return b.r.Close()
}

// timeoutError is a fetch that ran out of time. A response whose headers
// had arrived ran out of time in its body: the server is slow to send this
// response, which says nothing about whether the host is up.
type timeoutError struct {
	msg          string
	afterHeaders bool
}

func (e *timeoutError) Error() string { return e.msg }
func (e *timeoutError) Timeout() bool { return true }
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// newTransport builds an HTTP transport that connects with dial (directly,
// or through one proxy): per-phase timeouts, enough idle connections per
// host, no proxy from the environment (the config file is the source of
// truth).
func newTransport(cfg *Config, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Transport {
	perHost := cfg.Politeness.MaxInFlight * 2
	for _, o := range cfg.Politeness.Hosts {
		perHost = max(perHost, o.MaxInFlight*2)
	}
	return &http.Transport{
		DialContext:            dial,
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
	cfg    *Config
	router *router
	base   *colly.Collector
}

// newFetcher builds the fetcher of cfg. Proxy credentials written as
// ${NAME} are read from the environment, and the cookies file is loaded
// into the jar, here.
func newFetcher(cfg *Config, policy *addrPolicy) (*fetcher, error) {
	rt, err := newRouter(cfg, policy, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport: &decodingTransport{base: rt},
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
		if cfg.Fetch.CookiesFile != "" {
			if err := loadCookies(jar, cfg.Fetch.CookiesFile); err != nil {
				return nil, err
			}
		}
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
	return &fetcher{cfg: cfg, router: rt, base: c}, nil
}

// close releases idle connections.
func (f *fetcher) close() { f.router.closeIdle() }

// response is what a fetch returned.
type response struct {
	status int
	header http.Header
	// body is the decoded body, in the client's buffer: valid until it is
	// released (client.release), for good if it never is.
	body        []byte
	truncated   bool
	contentType string
	encoding    string
	via         string // "direct" or the proxy's scheme://host:port, never its credentials
	dur         time.Duration
	answered    time.Time // when the response headers arrived
}

// client is a worker's own colly collector, sharing the fetcher's
// transport, and the buffer bodies are read into. Only the goroutine that
// owns the client uses it.
type client struct {
	c    *colly.Collector
	last *colly.Response
	cond http.Header // headers of the conditional request under way (getIf)
	// buf is the body buffer the next get reads into: the one the last
	// response released, empty when none was.
	buf []byte
}

// maxKeptBodyBuffer bounds the body buffer a client keeps between
// requests: a body larger than ordinary pages is not kept resident.
const maxKeptBodyBuffer = 512 << 10

func (f *fetcher) newClient() *client {
	cl := &client{c: f.base.Clone()}
	cl.c.OnRequest(func(r *colly.Request) {
		for k, v := range cl.cond {
			(*r.Headers)[k] = v
		}
	})
	cl.c.OnResponse(func(r *colly.Response) { cl.last = r })
	return cl
}

// getIf is get with the headers of a conditional request added (none when
// cond is nil). colly hands a 304 to OnResponse like any status, since the
// fetcher sets ParseHTTPErrorResponse: it comes back as a response.
func (cl *client) getIf(ctx context.Context, rawURL string, maxBody int64, t timeouts, cond http.Header) (*response, error) {
	cl.cond = cond
	defer func() { cl.cond = nil }()
	return cl.get(ctx, rawURL, maxBody, t)
}

// get fetches rawURL. It returns an error only when no complete HTTP
// response was received (network, timeout, blocked address, cancellation);
// a timeout is a *timeoutError.
func (cl *client) get(ctx context.Context, rawURL string, maxBody int64, t timeouts) (*response, error) {
	parent := ctx
	ctx, cancel := context.WithTimeoutCause(ctx, t.total, errTotalTimeout)
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	info := &fetchInfo{maxBody: maxBody, idle: t.idle, stop: stop, body: cl.buf}
	cl.buf = nil
	cl.c.Context = context.WithValue(ctx, fetchInfoKey{}, info)
	cl.last = nil
	start := time.Now()
	err := cl.c.Request(http.MethodGet, rawURL, nil, nil, nil)
	dur := time.Since(start)
	if err != nil {
		// The body was read (or not) on this goroutine, within Request:
		// nothing refers to the buffer.
		cl.keep(info.body)
		if errors.Is(err, ErrBlockedAddress) {
			return nil, err
		}
		if parent.Err() != nil {
			return nil, context.Canceled
		}
		return nil, timedOut(err, context.Cause(ctx), info, t)
	}
	r := cl.last
	if r == nil {
		return nil, errors.New("no response")
	}
	return &response{
		status: r.StatusCode, header: *r.Headers, body: info.body, truncated: info.truncated,
		contentType: info.contentType, encoding: info.encoding, via: info.via, dur: dur, answered: info.answered,
	}, nil
}

// release hands r's body buffer back to the client for its next request.
// The caller must hold no reference to any byte of r.body any more, nor
// have handed one to anything that outlives the call (parse results copy
// what they keep; a body to be stored as it is must be copied). A body
// that is never released stays valid: the next request reads into a new
// buffer.
func (cl *client) release(r *response) {
	cl.keep(r.body)
	r.body = nil
}

// keep makes buf, which nothing refers to, the buffer of the next request.
func (cl *client) keep(buf []byte) {
	if cap(buf) <= maxKeptBodyBuffer && cap(buf) > cap(cl.buf) {
		cl.buf = buf[:0]
	}
}

// timeouts are the time limits of one fetch.
type timeouts struct {
	idle, total time.Duration
	header      time.Duration // for the message only: the transport applies it
}

func (c *Config) timeouts() timeouts {
	return timeouts{idle: c.Fetch.IdleTimeout, total: c.Fetch.TotalTimeout, header: c.Fetch.HeaderTimeout}
}

// timedOut turns a failed request into a *timeoutError when it ran out of
// time (cause is why its context ended, if it did), and returns err as it
// is otherwise. Connection timeouts stay as they are: they are the host's.
func timedOut(err, cause error, info *fetchInfo, t timeouts) error {
	switch {
	case errors.Is(cause, errIdleTimeout):
		return &timeoutError{afterHeaders: true,
			msg: fmt.Sprintf("no data for idle_timeout %v after %d bytes of the body", t.idle, info.received)}
	case errors.Is(cause, errTotalTimeout) && info.headers:
		return &timeoutError{afterHeaders: true,
			msg: fmt.Sprintf("total_timeout %v exceeded after %d bytes of the body", t.total, info.received)}
	case errors.Is(cause, errTotalTimeout):
		return &timeoutError{msg: fmt.Sprintf("no response within total_timeout %v", t.total)}
	case !info.connected:
		// Connecting (dial, TLS handshake) failed: the host's, as it is.
		return err
	case !info.headers && isTimeout(err):
		return &timeoutError{msg: fmt.Sprintf("no response headers within header_timeout %v", t.header)}
	}
	return err
}

// location resolves a redirect's Location header against the request URL.
func location(base *url.URL, h http.Header) (*url.URL, bool) {
	loc := h.Get("Location")
	if strings.TrimSpace(loc) == "" {
		return nil, false
	}
	u, err := urlnorm.ResolveReference(base, loc)
	if err != nil {
		return nil, false
	}
	return u, true
}
