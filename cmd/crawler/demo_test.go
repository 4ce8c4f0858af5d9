package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoCommandsPaste runs the demo binary by a path and checks that
// every command its report suggests is written with that same path, and
// that each one runs as printed.
func TestDemoCommandsPaste(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "demo", "--dir", filepath.Join(dir, "demo"), "--hosts", "1", "--pages", "20").Output()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	var commands []string
	for _, line := range strings.Split(string(out), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "crawler ") {
			t.Errorf("command %q is not written with the binary's path %s", l, bin)
		}
		if strings.HasPrefix(l, bin+" ") && !strings.Contains(l, " demo") {
			commands = append(commands, l)
		}
	}
	if len(commands) < 5 {
		t.Fatalf("demo printed %d commands with the binary's path, want the report's and the queries:\n%s", len(commands), out)
	}
	for _, c := range commands {
		cmd := exec.CommandContext(ctx, "sh", "-c", c)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("pasting %q: %v\n%s", c, err, b)
		}
	}
}
