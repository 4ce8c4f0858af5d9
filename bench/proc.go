package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// usage is what one finished subprocess cost.
type usage struct {
	End    time.Time // when the process was seen to exit
	Wall   time.Duration
	CPU    time.Duration // user + system
	PeakKB int           // peak resident set size in KiB
}

// PeakMB returns the peak RSS in megabytes (10^6 bytes).
func (u usage) PeakMB() float64 { return float64(u.PeakKB) * 1024 / 1e6 }

// measured is a running subprocess whose memory is sampled while it runs.
type measured struct {
	cmd   *exec.Cmd
	start time.Time

	mu      sync.Mutex // guards hwmKB
	hwmKB   int        // highest VmHWM read from /proc
	stopped chan struct{}
	sampled chan struct{}
}

// command builds a subprocess that is killed if this process dies and is
// interrupted (SIGINT, then SIGKILL after grace) when ctx ends.
func command(ctx context.Context, grace time.Duration, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = grace
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// startMeasured starts cmd and samples its VmHWM every 100 ms until it exits.
func startMeasured(cmd *exec.Cmd) (*measured, error) {
	m := &measured{cmd: cmd, stopped: make(chan struct{}), sampled: make(chan struct{})}
	m.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go m.sample()
	return m, nil
}

func (m *measured) sample() {
	defer close(m.sampled)
	path := "/proc/" + strconv.Itoa(m.cmd.Process.Pid) + "/status"
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if kb, ok := readStatusKB(path, "VmHWM"); ok {
			m.mu.Lock()
			m.hwmKB = max(m.hwmKB, kb)
			m.mu.Unlock()
		}
		select {
		case <-m.stopped:
			return
		case <-tick.C:
		}
	}
}

// wait waits for the process and returns its cost. The peak is the larger
// of the last VmHWM sampled and the kernel's ru_maxrss, which is the same
// high-water mark taken at exit.
func (m *measured) wait() (usage, error) {
	err := m.cmd.Wait()
	end := time.Now()
	close(m.stopped)
	<-m.sampled
	u := usage{End: end, Wall: end.Sub(m.start)}
	if st := m.cmd.ProcessState; st != nil {
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			u.PeakKB = int(ru.Maxrss)
		}
	}
	m.mu.Lock()
	u.PeakKB = max(u.PeakKB, m.hwmKB)
	m.mu.Unlock()
	return u, err
}

// readStatusKB reads one "Key: N kB" field of a /proc status file.
func readStatusKB(path, key string) (int, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return statusField(string(data), key)
}

func statusField(status, key string) (int, bool) {
	for line := range strings.SplitSeq(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.Atoi(f[0])
		return n, err == nil
	}
	return 0, false
}

// siteReady is the first line bench/site prints.
type siteReady struct {
	Seeds []string `json:"seeds"`
	Pages int      `json:"pages"`
}

// siteReport is the last line bench/site prints.
type siteReport struct {
	Hosts         int     `json:"hosts"`
	Requests      int     `json:"requests"`
	Robots        int     `json:"robots"`
	Throttled     int     `json:"throttled"`
	Paths         int     `json:"paths"`
	Duplicates    int     `json:"duplicates"`
	MaxWindow     int     `json:"max_window"`
	OverWindow    int     `json:"over_window"`
	MaxInFlight   int     `json:"max_in_flight"`
	PerHostWindow []int   `json:"per_host_window"`
	Seconds       float64 `json:"seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
}

// siteProc is a running bench/site subprocess.
type siteProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	ready siteReady
	args  []string
}

// startSite runs bench/site and waits (bounded) for its ready line.
func startSite(ctx context.Context, bin string, args ...string) (*siteProc, error) {
	cmd := command(ctx, 10*time.Second, bin, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start test site: %w", err)
	}
	s := &siteProc{cmd: cmd, stdin: stdin, out: bufio.NewReaderSize(stdout, 1<<20), args: args}
	line, err := readLine(s.out, time.Minute)
	if err == nil {
		err = json.Unmarshal(line, &s.ready)
	}
	if err != nil {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("test site ready line: %w", err)
	}
	return s, nil
}

// stop closes the site's standard input, which stops it, and reads its report.
func (s *siteProc) stop() (siteReport, error) {
	s.stdin.Close()
	var rep siteReport
	line, err := readLine(s.out, time.Minute)
	if err == nil {
		err = json.Unmarshal(line, &rep)
	}
	if err != nil {
		s.cmd.Process.Kill()
	}
	if werr := s.cmd.Wait(); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return rep, fmt.Errorf("test site report: %w", err)
	}
	return rep, nil
}

var errLineTimeout = errors.New("timed out waiting for a line")

// readLine reads one line, giving up after d. On timeout the reading
// goroutine ends when the process is killed and its pipe closes.
func readLine(r *bufio.Reader, d time.Duration) ([]byte, error) {
	type res struct {
		b   []byte
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b, err := r.ReadBytes('\n')
		ch <- res{b, err}
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case r := <-ch:
		if r.err != nil && len(r.b) == 0 {
			return nil, r.err
		}
		return r.b, nil
	case <-t.C:
		return nil, errLineTimeout
	}
}
