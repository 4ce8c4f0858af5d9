package crawl

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/proxy"
)

// proxySpec is a parsed fetch.proxy entry: a proxy, or "direct".
type proxySpec struct {
	direct     bool
	scheme     string // http, https or socks5
	host       string // canonical, IPv6 without brackets
	port       uint16
	user, pass credential
	hasAuth    bool // the URL carries user information
}

// credential is a proxy user name or password: written in the URL, or
// read from the environment variable env (written ${NAME}).
type credential struct {
	value string
	env   string
}

// envRef is a credential written as ${NAME}: read from the environment.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$`)

// defaultProxyPorts are the ports of proxy URLs that name none.
var defaultProxyPorts = map[string]uint16{"http": 80, "https": 443, "socks5": 1080}

// parseProxy reads a proxy URL: http://, https:// (TLS to the proxy) or
// socks5://, with optional user information, whose user name and password
// may each be ${NAME}, an environment variable; or "direct". Errors never
// repeat the user information.
func parseProxy(s string) (proxySpec, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "direct") {
		return proxySpec{direct: true}, nil
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return proxySpec{}, fmt.Errorf("%q is not a proxy URL (write http://host:port, https://host:port, socks5://host:port or direct)",
			redactProxy(s))
	}
	sp := proxySpec{scheme: strings.ToLower(scheme)}
	switch sp.scheme {
	case "http", "https", "socks5":
	case "socks5h", "socks4", "socks4a":
		return proxySpec{}, fmt.Errorf("%q: use socks5:// (the crawler resolves each host itself, checks the address "+
			"against the address guard and asks the proxy for that address)", redactProxy(s))
	default:
		return proxySpec{}, fmt.Errorf("%q: a proxy URL starts with http://, https:// or socks5://", redactProxy(s))
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
		if rest[i:] != "/" {
			return proxySpec{}, fmt.Errorf("%q: a proxy URL has no path, query or fragment", redactProxy(s))
		}
	}
	hostport := authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		user, pass, _ := strings.Cut(authority[:i], ":")
		var err error
		if sp.user, err = parseCredential(user); err == nil {
			sp.pass, err = parseCredential(pass)
		}
		if err != nil {
			return proxySpec{}, fmt.Errorf("%q: %w", redactProxy(s), err)
		}
		sp.hasAuth, hostport = true, authority[i+1:]
	}
	k, err := parseHostKey(hostport)
	if err != nil || k.name == "" {
		return proxySpec{}, fmt.Errorf("%q: the proxy's host and port: %q is not a host name, nor a host name with a port",
			redactProxy(s), hostport)
	}
	sp.host, sp.port = k.name, k.port
	if sp.port == 0 {
		sp.port = defaultProxyPorts[sp.scheme]
	}
	return sp, nil
}

// parseCredential reads a user name or password of a proxy URL.
func parseCredential(s string) (credential, error) {
	if m := envRef.FindStringSubmatch(s); m != nil {
		return credential{env: m[1]}, nil
	}
	if strings.ContainsAny(s, "{}") {
		return credential{}, errors.New("write an environment variable as the whole user name or password: ${NAME}")
	}
	v, err := url.PathUnescape(s)
	if err != nil {
		return credential{}, errors.New("the user name or password has a bad %-escape")
	}
	return credential{value: v}, nil
}

// resolve returns the credential's value, reading the environment
// through lookupEnv for ${NAME}.
func (c credential) resolve(lookupEnv func(string) (string, bool)) (string, error) {
	if c.env == "" {
		return c.value, nil
	}
	v, ok := lookupEnv(c.env)
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set", c.env)
	}
	return v, nil
}

// readsEnv reports whether the proxy's credentials come from the environment.
func (sp proxySpec) readsEnv() bool { return sp.user.env != "" || sp.pass.env != "" }

// addr is the proxy's host:port.
func (sp proxySpec) addr() string {
	return net.JoinHostPort(sp.host, strconv.Itoa(int(sp.port)))
}

// name is how messages name the proxy: scheme://host:port, never with its
// user information.
func (sp proxySpec) name() string {
	if sp.direct {
		return "direct"
	}
	return sp.scheme + "://" + sp.addr()
}

// redactProxy hides the user information of a proxy URL as written, for
// messages about a URL that did not parse.
func redactProxy(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return "REDACTED@" + s[i+1:]
		}
		return s
	}
	end := len(rest)
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		end = i
	}
	if i := strings.LastIndexByte(rest[:end], '@'); i >= 0 {
		return scheme + "://REDACTED@" + rest[i+1:]
	}
	return s
}

// proxyDialer connects to a target through one proxy. It judges the
// target before the proxy hears of it: the host is resolved here and the
// proxy asked for the address the guard allowed (HTTP CONNECT to ip:port,
// SOCKS5 CONNECT with the address), so the proxy cannot resolve the name
// to another address. Plain http:// targets go through a CONNECT tunnel
// too, for the same reason. The proxy's own address is judged as any
// direct connection is.
type proxyDialer struct {
	spec    proxySpec
	policy  *addrPolicy
	direct  *directDialer // reaches the proxy
	timeout time.Duration // connecting to the proxy and its handshake: fetch.connect_timeout
	agent   string        // User-Agent of CONNECT requests
	auth    string        // Proxy-Authorization of an http(s) proxy, "" for none
	socks   proxy.ContextDialer
	tls     *tls.Config // to an https proxy
}

// newProxyDialer prepares the dialer of one proxy, reading its
// credentials from the environment when it names variables.
func newProxyDialer(cfg *Config, sp proxySpec, policy *addrPolicy, direct *directDialer,
	lookupEnv func(string) (string, bool)) (*proxyDialer, error) {
	d := &proxyDialer{spec: sp, policy: policy, direct: direct, timeout: cfg.Fetch.ConnectTimeout, agent: cfg.Fetch.UserAgent}
	var user, pass string
	if sp.hasAuth {
		var err error
		if user, err = sp.user.resolve(lookupEnv); err == nil {
			pass, err = sp.pass.resolve(lookupEnv)
		}
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %w", sp.name(), err)
		}
	}
	switch sp.scheme {
	case "socks5":
		var auth *proxy.Auth
		if sp.hasAuth {
			if len(user) == 0 || len(user) > 255 || len(pass) > 255 {
				return nil, fmt.Errorf("proxy %s: SOCKS5 needs a user name of 1 to 255 bytes and a password of at most 255", sp.name())
			}
			auth = &proxy.Auth{User: user, Password: pass}
		}
		sd, err := proxy.SOCKS5("tcp", sp.addr(), auth, direct)
		if err != nil {
			return nil, fmt.Errorf("proxy %s: %w", sp.name(), err)
		}
		d.socks = sd.(proxy.ContextDialer)
	case "https":
		d.tls = &tls.Config{ServerName: sp.host, NextProtos: []string{"http/1.1"}}
		fallthrough
	default:
		if sp.hasAuth {
			d.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		}
	}
	return d, nil
}

// DialContext connects to addr (host:port) through the proxy.
func (d *proxyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	target, err := d.policy.checkedTarget(ctx, addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var c net.Conn
	if d.socks != nil {
		c, err = d.socks.DialContext(ctx, "tcp", target)
	} else {
		c, err = d.connect(ctx, target)
	}
	if err != nil {
		return nil, d.wrap(err)
	}
	return c, nil
}

// connect opens a tunnel to target through an http(s) proxy.
func (d *proxyDialer) connect(ctx context.Context, target string) (net.Conn, error) {
	c, err := d.direct.DialContext(ctx, "tcp", d.spec.addr())
	if err != nil {
		return nil, err
	}
	if d.tls != nil {
		tc := tls.Client(c, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, err
		}
		c = tc
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target,
		Header: http.Header{"User-Agent": {d.agent}}}
	if d.auth != "" {
		req.Header.Set("Proxy-Authorization", d.auth)
	}
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %w", target, ctxErr(ctx, err))
	}
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %w", target, ctxErr(ctx, err))
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %s", target, res.Status)
	}
	if !stop() {
		c.Close()
		return nil, fmt.Errorf("CONNECT %s: %w", target, ctx.Err())
	}
	if br.Buffered() > 0 {
		// The tunnel's first bytes came with the answer: read them first.
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// ctxErr returns the context's error when it ended the exchange, err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// wrap names the proxy in an error of a connection through it. An address
// the guard refuses there is the proxy's: a connection failure of the
// proxy, not a verdict on the target, so it no longer wraps
// ErrBlockedAddress.
func (d *proxyDialer) wrap(err error) error {
	if errors.Is(err, ErrBlockedAddress) {
		var op *net.OpError
		for errors.As(err, &op) {
			err = op.Err
		}
		return fmt.Errorf("proxy %s: %s (list the proxy's address under fetch.allow_addresses)", d.spec.name(), err)
	}
	return &proxyError{name: d.spec.name(), err: err}
}

// proxyError is a failure to connect through a proxy.
type proxyError struct {
	name string
	err  error
}

func (e *proxyError) Error() string { return "proxy " + e.name + ": " + e.err.Error() }
func (e *proxyError) Unwrap() error { return e.err }

// bufferedConn is a connection whose first bytes were read into r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
