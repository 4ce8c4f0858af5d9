package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

// oneURLDatabase creates a crawl database with one URL in dir and leaves it
// open, its change in the write-ahead log.
func oneURLDatabase(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Add(context.Background(), []store.NewURL{{URL: "http://a.example/", Origin: "http://a.example",
		Source: "seed", State: store.StateQueued}}); err != nil {
		t.Fatal(err)
	}
	return db
}

// emptyDatabase is oneURLDatabase closed, which checkpoints and removes its
// write-ahead log.
func emptyDatabase(t *testing.T, dir string) string {
	t.Helper()
	db := oneURLDatabase(t, dir)
	db.Close()
	return db.Path()
}

// TestQueryCommandReadOnly: crawler query reads and describes the schema,
// and refuses to attach, copy or write, creating no file.
func TestQueryCommandReadOnly(t *testing.T) {
	path := emptyDatabase(t, t.TempDir())
	out := t.TempDir()
	for _, q := range []string{
		"ATTACH 'file:" + filepath.Join(out, "attached.db") + "?mode=rwc' AS n",
		"VACUUM INTO '" + filepath.Join(out, "copy.db") + "'",
		"SELECT 1; ATTACH '" + filepath.Join(out, "second.db") + "' AS n",
		"DELETE FROM frontier",
		"PRAGMA journal_mode = delete",
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"query", "--db", path, q}, &stdout, &stderr)
		if err == nil {
			t.Errorf("query %q: no error, want it refused", q)
		} else if !strings.Contains(err.Error(), "statement refused") && !strings.Contains(err.Error(), "one statement only") {
			t.Errorf("query %q: error %q, want it to say why", q, err)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("refused statements created %d files", len(entries))
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"query", "--db", path, "SELECT name FROM pragma_table_info('frontier') WHERE pk"},
		&stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "id") {
		t.Errorf("pragma_table_info: %v, output %q", err, stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"query", "--db", path, "--json", "SELECT count(*) AS n FROM frontier"},
		&stdout, io.Discard); err != nil || strings.TrimSpace(stdout.String()) != `{"n":1}` {
		t.Errorf("count: %v, output %q", err, stdout.String())
	}
}

// unprivileged runs bin with args as a user who cannot write what root
// made read-only: the test's own user, or nobody when the test runs as
// root (for whom permissions do not apply).
func unprivileged(t *testing.T, bin string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil && errors.Is(err, syscall.EPERM) {
		t.Skipf("cannot run as an unprivileged user: %v", err)
	}
	return out, err
}

// openUp lets other users reach dir and the directories t.TempDir made
// above it.
func openUp(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReadOnlyDirectory: query and status work on a database in a
// directory the user cannot write, where SQLite cannot create the -shm
// file a WAL database is read through; with changes left in a -wal file
// they say exactly why they cannot.
func TestReadOnlyDirectory(t *testing.T) {
	bin := buildBinary(t)
	openUp(t, filepath.Dir(bin), 0o755)
	dir := t.TempDir()
	path := emptyDatabase(t, dir)
	openUp(t, dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	if out, err := unprivileged(t, bin, "query", "--db", path, "SELECT count(*) AS n FROM frontier"); err != nil ||
		!strings.Contains(string(out), "(1 row)") {
		t.Errorf("query in a read-only directory: %v\n%s", err, out)
	}
	if out, err := unprivileged(t, bin, "status", "--db", path); err != nil || !strings.Contains(string(out), "frontier: 1 URL,") {
		t.Errorf("status in a read-only directory: %v\n%s", err, out)
	}
	if _, err := os.Stat(path + "-shm"); err == nil {
		t.Fatalf("%s-shm was created in a read-only directory: the test did not run unprivileged", path)
	}

	// A crawl killed with its changes still in the -wal file, its files
	// then copied into a read-only directory.
	live := t.TempDir()
	oneURLDatabase(t, live)
	walDir := t.TempDir()
	for _, f := range []string{"crawl.db", "crawl.db-wal"} {
		b, err := os.ReadFile(filepath.Join(live, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(walDir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	openUp(t, walDir, 0o555)
	t.Cleanup(func() { os.Chmod(walDir, 0o755) })
	out, err := unprivileged(t, bin, "query", "--db", filepath.Join(walDir, "crawl.db"), "SELECT count(*) FROM frontier")
	if err == nil || !strings.Contains(string(out), "crawl.db-wal holds changes not yet copied into the database") ||
		!strings.Contains(string(out), "crawl.db-shm, which cannot be created in "+walDir) {
		t.Errorf("query with a -wal file in a read-only directory: %v\n%s", err, out)
	}
}

// TestServeToken: the token comes from --token-file, the environment or
// --token, the help says --token shows in ps, and a short token is refused.
func TestServeToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("0123456789abcdef0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	t.Setenv("CRAWLER_TOKEN", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--token", "x"}, "the API token has 1 characters; use at least 16"},
		{[]string{"--token-file", short}, "the API token has 3 characters; use at least 16"},
		{[]string{"--token", "0123456789abcdef", "--token-file", file}, "not both"},
		{[]string{"--token-file", filepath.Join(dir, "missing")}, "read --token-file"},
		{nil, "serve needs an API token"},
		{[]string{"--token-file", file, "--allow-addresses", "10.0.0.0/8:80"}, "addresses jobs may allow"},
	} {
		// Cancelled: should serve start after all, it stops at once.
		stopped, stop := context.WithCancel(context.Background())
		stop()
		args := append([]string{"serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0"}, tt.args...)
		err := run(stopped, args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	var help bytes.Buffer
	run(context.Background(), []string{"serve", "-h"}, io.Discard, &help)
	if !strings.Contains(help.String(), "see it in ps") || !strings.Contains(help.String(), "-token-file") {
		t.Errorf("serve -h does not warn that --token shows in ps:\n%s", help.String())
	}

	// A good token file: the service starts, and stops with its context.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--data", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0", "--token-file", file,
			"--allow-addresses", "127.0.0.0/8,10.0.0.5:8080", "--quiet"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "serving jobs in") {
		t.Fatalf("serve --token-file: %q, %v", line, err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestQueryJSONColumnOrder checks that query --json writes each row's keys
// in the order the SELECT names its columns.
func TestQueryJSONColumnOrder(t *testing.T) {
	path := emptyDatabase(t, t.TempDir())
	var stdout, stderr bytes.Buffer
	q := `SELECT url, state, 1 AS zeta, 2.5 AS alpha, NULL AS mid, '<a&b>' AS html FROM frontier`
	if err := run(context.Background(), []string{"query", "--db", path, "--json", q}, &stdout, &stderr); err != nil {
		t.Fatal(err, stderr.String())
	}
	want := `{"url":"http://a.example/","state":"queued","zeta":1,"alpha":2.5,"mid":null,"html":"<a&b>"}` + "\n"
	if got := stdout.String(); got != want {
		t.Errorf("query --json wrote\n%s want\n%s", got, want)
	}
}
