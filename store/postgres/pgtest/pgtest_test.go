package pgtest

import (
	"strings"
	"testing"
)

// fakeTB records how URL ends a test.
type fakeTB struct {
	testing.TB
	ended string // "fatal" or "skip", the first of them
	msg   string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatal(args ...any) { f.end("fatal", args) }

func (f *fakeTB) Skip(args ...any) { f.end("skip", args) }

func (f *fakeTB) end(how string, args []any) {
	if f.ended == "" {
		f.ended = how
		for _, a := range args {
			f.msg += a.(string)
		}
	}
}

// TestURLWithoutServer: without a server, a PostgreSQL test skips saying
// how to run it, except in CI, where it fails.
func TestURLWithoutServer(t *testing.T) {
	t.Setenv(Env, "")
	for _, tt := range []struct{ ci, want string }{{"", "skip"}, {"false", "skip"}, {"true", "fatal"}} {
		t.Setenv("CI", tt.ci)
		f := &fakeTB{}
		URL(f)
		if f.ended != tt.want || !strings.Contains(f.msg, "make test") || !strings.Contains(f.msg, Env) {
			t.Errorf("CI=%q: the test ended with %s %q, want %s naming %s and make test", tt.ci, f.ended, f.msg, tt.want, Env)
		}
	}
}
