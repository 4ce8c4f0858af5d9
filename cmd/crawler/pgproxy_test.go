package main

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// pgProxy forwards TCP connections to a PostgreSQL server, and can cut
// them all and refuse new ones, as a server that restarts or a network
// that fails does, until it is restored.
type pgProxy struct {
	ln     net.Listener
	target string
	// cutAfter, when positive, cuts the proxy by itself once that many
	// bytes went from clients to the server; cutDone is closed then.
	cutAfter int64
	cutDone  chan struct{}
	sent     atomic.Int64

	mu    sync.Mutex // guards conns, down
	conns map[net.Conn]bool
	down  bool
	wg    sync.WaitGroup
}

func newPGProxy(t *testing.T, target string, cutAfter int64) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln, target: target, cutAfter: cutAfter, cutDone: make(chan struct{}), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *pgProxy) addr() string { return p.ln.Addr().String() }

func (p *pgProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[s] = true, true
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(s, c, true)
		go p.pipe(c, s, false)
	}
}

// pipe copies from src to dst until either ends, then closes both.
func (p *pgProxy) pipe(dst, src net.Conn, toServer bool) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				break
			}
			if toServer && p.cutAfter > 0 && p.sent.Add(int64(n)) >= p.cutAfter && p.sent.Load()-int64(n) < p.cutAfter {
				p.cut()
				close(p.cutDone)
			}
		}
		if err != nil {
			if err != io.EOF {
				break
			}
			break
		}
	}
	src.Close()
	dst.Close()
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
}

// cut closes every connection and refuses new ones until restore.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

// restore accepts connections again.
func (p *pgProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

func (p *pgProxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
