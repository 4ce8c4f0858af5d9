package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/testsite"
)

// TestRunListen runs "crawler run --listen" and checks that the server
// starts on the given address and is shut down when the run ends.
func TestRunListen(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`database: crawl.db
seeds: [%s]
politeness: {rate: 0, max_in_flight: 4}
fetch: {allow_addresses: [127.0.0.0/8], retry_base: 10ms, max_retries: 1}
`, site.Seeds()[0])
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := obsRun("run", "-c", path, "--listen", "127.0.0.1:0", "--log-format", "json")
	if err != nil {
		t.Fatalf("run: %v\n%s\n%s", err, stdout, stderr)
	}
	m := regexp.MustCompile(`"msg":"serving /metrics and /status","addr":"(127\.0\.0\.1:\d+)"`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no JSON log record with the server address in:\n%s", stderr)
	}
	if _, err := http.Get("http://" + m[1] + "/metrics"); err == nil {
		t.Errorf("the metrics server on %s still answers after the run", m[1])
	}
	if !strings.HasPrefix(stdout, "finished after ") {
		t.Errorf("report does not start with the outcome:\n%s", stdout)
	}

	// An address in use fails before crawling.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, _, err = obsRun("run", "-c", path, "--listen", busy.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen "+busy.Addr().String()) {
		t.Errorf("run --listen on an address in use = %v, want a listen error", err)
	}
}
