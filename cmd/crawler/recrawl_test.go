package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/testsite"
)

// signalWriter keeps what is written to it and closes seen the first
// time the text written so far contains want.
type signalWriter struct {
	want string
	seen chan struct{}
	mu   sync.Mutex // guards b and once
	b    strings.Builder
	once bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if !w.once && strings.Contains(w.b.String(), w.want) {
		w.once = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// writeConfig writes a config file in a new directory and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunContinuous: "crawler run --continuous" crawls, then sleeps until
// the next URL is due, and stops on Ctrl-C (a cancelled context) with the
// command to resume. Without recrawl.enabled it refuses to start.
func TestRunContinuous(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	base := fmt.Sprintf(`database: crawl.db
seeds: [%s]
politeness: {rate: 0, max_in_flight: 4}
fetch: {allow_addresses: [127.0.0.0/8], retry_base: 10ms, max_retries: 1}
`, site.Seeds()[0])
	off := writeConfig(t, base)
	if _, _, err := obsRun("run", "-c", off, "--continuous"); err == nil || !strings.Contains(err.Error(), "recrawl.enabled: false") {
		t.Errorf("run --continuous without recrawl = %v, want an error naming recrawl.enabled", err)
	}
	if _, _, err := obsRun("run", "-c", writeConfig(t, base+"recrawl: {continuous: true}\n")); err == nil ||
		!strings.Contains(err.Error(), "recrawl.continuous: needs recrawl.enabled: true") {
		t.Errorf("recrawl.continuous without recrawl.enabled = %v, want a config error", err)
	}

	on := writeConfig(t, base+"recrawl: {enabled: true}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout obsBuffer
	stderr := &signalWriter{want: "sleeping until the next URL is due", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "-c", on, "--continuous"}, &stdout, stderr) }()
	select {
	case <-stderr.seen:
	case err := <-done:
		t.Fatalf("run --continuous ended before sleeping: %v\n%s\n%s", err, stdout.String(), stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("run --continuous did not sleep within a minute:\n%s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, crawl.ErrInterrupted) {
			t.Errorf("run --continuous stopped: %v, want interrupted", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run --continuous did not stop within a minute of Ctrl-C")
	}
	if out := stdout.String(); !strings.Contains(out, "crawler run -c "+on+" --continuous") {
		t.Errorf("report without the command to resume:\n%s", out)
	}
}

func TestProgressRevisits(t *testing.T) {
	wake := time.Date(2026, 3, 1, 14, 5, 0, 0, time.Local)
	p := runner.Progress{Stats: crawl.Stats{Pages: 2, Revisits: 1200, Unchanged: 1100, NotModified: 1000, Sleeping: true,
		WakeAt: wake, Hosts: crawl.HostsSnapshot{Active: 2}}}
	want := []string{"2 pages  0.0/s (avg 0.0)  0 in flight  0 kB  0:00",
		"hosts 2 active  revisits 1,200 (1,100 unchanged, 1,000 answered 304)  sleeping until 2026-03-01 14:05:00, when the next URL is due"}
	if diff := cmp.Diff(want, progressLines(p)); diff != "" {
		t.Errorf("progressLines (-want +got):\n%s", diff)
	}
	p.Stats.WakeAt = time.Time{}
	if got := progressLines(p)[1]; !strings.HasSuffix(got, "sleeping: no URL is scheduled") {
		t.Errorf("sleeping with nothing scheduled: %q", got)
	}
}
