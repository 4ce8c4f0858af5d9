package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The real site is a Debian documentation package served by nginx. The
// Python documentation (3.11 in Debian 12) is 530 HTML pages, half of them
// 28-103 KB (median 54 KB), and two index pages of 1.7 and 2.5 MB with
// 17,000 and 14,000 links; python3-doc points at the current version's copy.
const (
	realSitePackage = "python3-doc"
	realSiteRoot    = "/usr/share/doc/python3-doc/html"
	realSiteAddr    = "127.0.0.80" // nginx listens on this loopback address only
)

// ensureRealSite returns the nginx binary and the document root, installing
// nginx and the documentation package with apt-get when they are missing and
// this process runs as root. The error says what is missing and why it could
// not be installed.
func ensureRealSite(ctx context.Context, log io.Writer) (nginx, root string, err error) {
	find := func() (string, bool) {
		bin, err := exec.LookPath("nginx")
		if err != nil {
			bin = "/usr/sbin/nginx"
		}
		_, binErr := os.Stat(bin)
		_, docErr := os.Stat(filepath.Join(realSiteRoot, "index.html"))
		return bin, binErr == nil && docErr == nil
	}
	if bin, ok := find(); ok {
		return bin, realSiteRoot, nil
	}
	pkgs := []string{"nginx", realSitePackage}
	if os.Geteuid() != 0 {
		return "", "", fmt.Errorf("nginx or %s is not installed and this is not root: run apt-get install -y %s", realSiteRoot, strings.Join(pkgs, " "))
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", "", fmt.Errorf("nginx or %s is not installed and there is no apt-get", realSiteRoot)
	}
	ictx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update", "-qq"}, append([]string{"install", "-y", "-qq"}, pkgs...)} {
		cmd := exec.CommandContext(ictx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = prefixWriter{log, "  apt-get: "}, prefixWriter{log, "  apt-get: "}
		fmt.Fprintf(log, "  $ apt-get %s\n", strings.Join(args, " "))
		if err := cmd.Run(); err != nil {
			return "", "", fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	if bin, ok := find(); ok {
		return bin, realSiteRoot, nil
	}
	return "", "", fmt.Errorf("%s is still missing after apt-get install %s (are /usr/share/doc files excluded by dpkg?)",
		filepath.Join(realSiteRoot, "index.html"), strings.Join(pkgs, " "))
}

// nginxServer is a throwaway nginx: its own configuration, logs and
// temporary files in one directory, one loopback address, no daemon.
type nginxServer struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	err    error         // cmd.Wait's result, set before exited is closed

	addr      string // host:port
	accessLog string
}

// nginxConfig is the configuration of a throwaway nginx serving root on addr
// with everything it writes under dir. gzip is on for HTML, CSS and
// JavaScript, as a documentation server would have it; one worker process
// keeps the server's share of the machine's cores bounded.
func nginxConfig(dir, addr, root string) string {
	var sb strings.Builder
	p := func(name string) string { return strconv.Quote(filepath.Join(dir, name)) }
	fmt.Fprintf(&sb, "daemon off;\nmaster_process on;\nworker_processes 1;\npid %s;\nerror_log %s warn;\n", p("nginx.pid"), p("error.log"))
	sb.WriteString("events { worker_connections 1024; }\nhttp {\n")
	sb.WriteString("  types { text/html html htm; text/css css; application/javascript js; text/plain txt; image/png png; image/svg+xml svg; }\n")
	sb.WriteString("  default_type application/octet-stream;\n")
	sb.WriteString("  log_format bench '$msec $status $body_bytes_sent \"$request_uri\"';\n")
	fmt.Fprintf(&sb, "  access_log %s bench;\n", p("access.log"))
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&sb, "  %s_temp_path %s;\n", t, p(t))
	}
	sb.WriteString("  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 100000;\n  log_not_found off;\n")
	sb.WriteString("  gzip on;\n  gzip_types text/css application/javascript text/plain image/svg+xml;\n")
	fmt.Fprintf(&sb, "  server {\n    listen %s;\n    root %s;\n  }\n}\n", addr, strconv.Quote(root))
	return sb.String()
}

// startNginx runs nginx on a free port of realSiteAddr and waits (bounded)
// until it accepts connections.
func startNginx(ctx context.Context, bin, dir, root string) (*nginxServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		// A port free now may be taken before nginx binds it: try again.
		l, err := net.Listen("tcp", net.JoinHostPort(realSiteAddr, "0"))
		if err != nil {
			return nil, fmt.Errorf("find a free port on %s: %w", realSiteAddr, err)
		}
		addr := l.Addr().String()
		l.Close()
		s, err := runNginx(ctx, bin, dir, root, addr)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func runNginx(ctx context.Context, bin, dir, root, addr string) (*nginxServer, error) {
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConfig(dir, addr, root)), 0o644); err != nil {
		return nil, err
	}
	s := &nginxServer{addr: addr, accessLog: filepath.Join(dir, "access.log"), exited: make(chan struct{})}
	// -e: the error log before the configuration is read, which would
	// otherwise be the system's.
	s.cmd = exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	// Its own process group, so stop can reach the workers too; the master
	// shuts down cleanly (workers included) if this process dies.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nginx: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("nginx on %s exited: %v: %s", addr, s.err, tail(filepath.Join(dir, "error.log")))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("nginx on %s: not accepting connections after 10 s: %s", addr, tail(filepath.Join(dir, "error.log")))
		}
	}
}

// stop shuts nginx down (SIGTERM to its process group, SIGKILL after 10 s)
// and waits for the master.
func (s *nginxServer) stop() {
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-s.exited
	}
}

// tail returns the last lines of a small file, for error messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-3):], "; ")
}

// accessCounts is what nginx's access log says about one crawl.
type accessCounts struct {
	Requests    int
	Robots      int // requests for /robots.txt
	Pages       int // distinct paths answered 200, robots.txt excluded
	Duplicates  int // requests for a path already requested, robots.txt excluded
	Other       int // responses other than 200, robots.txt excluded
	Bytes       int64
	First, Last time.Time // when the first and the last request ended
}

// Span is the time from the first request to the last.
func (c accessCounts) Span() time.Duration { return c.Last.Sub(c.First) }

// readAccessLog counts the requests logged from byte offset from on, in the
// "bench" log format: $msec $status $body_bytes_sent "$request_uri".
func readAccessLog(path string, from int64) (accessCounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return accessCounts{}, err
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return accessCounts{}, err
	}
	return countAccess(f)
}

func countAccess(r io.Reader) (accessCounts, error) {
	var c accessCounts
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.SplitN(sc.Text(), " ", 4)
		if len(f) != 4 {
			return c, fmt.Errorf("access log line %d: %q: want 4 fields", n, sc.Text())
		}
		sec, err1 := strconv.ParseFloat(f[0], 64)
		status, err2 := strconv.Atoi(f[1])
		size, err3 := strconv.ParseInt(f[2], 10, 64)
		uri, err4 := strconv.Unquote(f[3])
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return c, fmt.Errorf("access log line %d: %q: %w", n, sc.Text(), err)
		}
		at := time.UnixMilli(int64(sec*1000 + 0.5))
		if c.Requests == 0 || at.Before(c.First) {
			c.First = at
		}
		if at.After(c.Last) {
			c.Last = at
		}
		c.Requests++
		c.Bytes += size
		if uri == "/robots.txt" {
			c.Robots++
			continue
		}
		if seen[uri] {
			c.Duplicates++
			continue
		}
		seen[uri] = true
		if status == 200 {
			c.Pages++
		} else {
			c.Other++
		}
	}
	return c, sc.Err()
}

// fileSize returns the size of path, 0 if it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
