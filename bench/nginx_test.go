package main

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCountAccess(t *testing.T) {
	log := `1796575593.617 404 125 "/robots.txt"
1796575593.640 200 228687 "/index.html"
1796575593.702 200 7408 "/a.html"
1796575593.690 404 153 "/missing.html"
1796575594.001 200 7408 "/a.html"
`
	c, err := countAccess(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	want := accessCounts{Requests: 5, Robots: 1, Pages: 2, Duplicates: 1, Other: 1, Bytes: 125 + 228687 + 7408 + 153 + 7408,
		First: time.UnixMilli(1796575593617), Last: time.UnixMilli(1796575594001)}
	if c != want {
		t.Errorf("countAccess = %+v, want %+v", c, want)
	}
	if got := c.Span(); got != 384*time.Millisecond {
		t.Errorf("Span = %v, want 384ms", got)
	}
	if _, err := countAccess(strings.NewReader("1796575593.617 200 12\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("countAccess of a short line: err = %v, want one naming line 1", err)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

// TestNginx serves a directory with the bench's throwaway nginx, when nginx
// is installed: gzip on, the access log in the bench's format, and nothing
// of it left running after stop.
func TestNginx(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skip("nginx is not installed")
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	// nginx's workers run as nobody when the test runs as root: the
	// document root must be readable by everyone.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	page := "<html><body>" + strings.Repeat(`<a href="a.html">a</a> `, 200) + "</body></html>"
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := startNginx(ctx, bin, filepath.Join(dir, "nginx"), root)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	for _, path := range []string{"/index.html", "/robots.txt", "/index.html"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+srv.addr+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body := resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if body, err = gzip.NewReader(resp.Body); err != nil {
				t.Fatal(err)
			}
		} else if path == "/index.html" {
			t.Errorf("GET %s: Content-Encoding %q, want gzip", path, resp.Header.Get("Content-Encoding"))
		}
		data, _ := io.ReadAll(body)
		resp.Body.Close()
		if path == "/index.html" && (resp.StatusCode != 200 || string(data) != page) {
			t.Errorf("GET %s: %d, %d bytes, want 200 and the page", path, resp.StatusCode, len(data))
		}
	}
	pgid := srv.cmd.Process.Pid
	srv.stop()
	stopped = true
	if err := syscall.Kill(-pgid, 0); err != syscall.ESRCH {
		t.Errorf("nginx's process group after stop: kill 0 = %v, want ESRCH", err)
	}
	c, err := readAccessLog(srv.accessLog, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 3 || c.Robots != 1 || c.Pages != 1 || c.Duplicates != 1 {
		t.Errorf("access log counts %+v, want 3 requests: robots.txt, the page and a duplicate", c)
	}
}
