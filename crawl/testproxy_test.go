package crawl

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
)

// testProxy is a forward proxy on loopback, of one of the two kinds the
// crawler speaks to: an HTTP proxy that tunnels with CONNECT (over TLS for
// an https proxy), or a SOCKS5 server. It connects to targets from a
// loopback address of its own, so a target's log tells which requests came
// through which proxy, and it logs every connection it accepts, every
// target it was asked for and every credential it was sent.
type testProxy struct {
	t      *testing.T
	ln     net.Listener
	socks  bool
	source string // 127.0.0.N: the address targets see it connect from
	user   string // required credentials, when user is not ""
	pass   string

	mu       sync.Mutex
	accepted int               // connections accepted; guarded by mu
	targets  []string          // targets asked for, in order; guarded by mu
	creds    []string          // "user:pass" received, in order; guarded by mu
	conns    map[net.Conn]bool // open connections; guarded by mu
	wg       sync.WaitGroup    // the accept loop and each connection's goroutines
}

// startProxy starts a proxy (socks: SOCKS5, else HTTP CONNECT; with tlsCfg,
// TLS to the proxy) that connects to targets from source.
func startProxy(t *testing.T, socks bool, source string, tlsCfg *tls.Config) *testProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	p := &testProxy{t: t, ln: ln, socks: socks, source: source, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.accepted++
			p.conns[c] = true
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.drop(c)
				if p.socks {
					p.serveSOCKS(c)
				} else {
					p.serveConnect(c)
				}
			}()
		}
	}()
	t.Cleanup(p.close)
	return p
}

// withAuth makes the proxy require credentials.
func (p *testProxy) withAuth(user, pass string) *testProxy {
	p.user, p.pass = user, pass
	return p
}

// addr is the proxy's host:port.
func (p *testProxy) addr() string { return p.ln.Addr().String() }

func (p *testProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *testProxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// log returns the connections accepted, the targets and the credentials.
func (p *testProxy) log() (accepted int, targets, creds []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted, slices.Clone(p.targets), slices.Clone(p.creds)
}

func (p *testProxy) record(target, cred string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.targets = append(p.targets, target)
	if cred != "" {
		p.creds = append(p.creds, cred)
	}
}

// dial connects to a target from the proxy's source address.
func (p *testProxy) dial(target string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(p.source)}}
	c, err := d.Dial("tcp", target)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.conns[c] = true
	p.mu.Unlock()
	return c, nil
}

// pipe copies both ways until either side ends, then closes both.
func (p *testProxy) pipe(client io.Reader, clientConn, target net.Conn) {
	done := make(chan struct{}, 2)
	go func() { io.Copy(target, client); done <- struct{}{} }()
	go func() { io.Copy(clientConn, target); done <- struct{}{} }()
	<-done
	clientConn.Close()
	p.drop(target)
	<-done
}

func (p *testProxy) serveConnect(c net.Conn) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	cred := ""
	if user, pass, ok := (&http.Request{Header: http.Header{"Authorization": req.Header["Proxy-Authorization"]}}).BasicAuth(); ok {
		cred = user + ":" + pass
	}
	p.record(req.Host, cred)
	switch {
	case req.Method != http.MethodConnect:
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	case p.user != "" && cred != p.user+":"+p.pass:
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	t, err := p.dial(req.Host)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	p.pipe(br, c, t)
}

// serveSOCKS speaks the server side of RFC 1928 (CONNECT only) and RFC
// 1929 (user name and password).
func (p *testProxy) serveSOCKS(c net.Conn) {
	br := bufio.NewReader(c)
	var head [2]byte
	if _, err := io.ReadFull(br, head[:]); err != nil || head[0] != 5 {
		return
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	want := byte(0)
	if p.user != "" {
		want = 2
	}
	if !slices.Contains(methods, want) {
		c.Write([]byte{5, 0xff})
		return
	}
	c.Write([]byte{5, want})
	cred := ""
	if want == 2 {
		readField := func() string {
			n, _ := br.ReadByte()
			b := make([]byte, n)
			io.ReadFull(br, b)
			return string(b)
		}
		if v, _ := br.ReadByte(); v != 1 {
			return
		}
		user := readField()
		cred = user + ":" + readField()
		if cred != p.user+":"+p.pass {
			p.record("", cred)
			c.Write([]byte{1, 1})
			return
		}
		c.Write([]byte{1, 0})
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		b := make([]byte, 4)
		if req[3] == 4 {
			b = make([]byte, 16)
		}
		io.ReadFull(br, b)
		host = net.IP(b).String()
	case 3:
		n, _ := br.ReadByte()
		b := make([]byte, n)
		io.ReadFull(br, b)
		host = string(b)
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(br, port[:]); err != nil {
		return
	}
	target := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:]))))
	p.record(target, cred)
	t, err := p.dial(target)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	p.pipe(br, c, t)
}

// url is the proxy's URL with the given user information ("" for none).
func (p *testProxy) url(scheme, userinfo string) string {
	if userinfo != "" {
		userinfo += "@"
	}
	return fmt.Sprintf("%s://%s%s", scheme, userinfo, p.addr())
}
