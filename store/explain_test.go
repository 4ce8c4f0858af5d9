package store

import (
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestPrefixes(t *testing.T) {
	tests := []struct {
		url  string
		want []string
	}{
		{"http://h/a/b?x=1&y=2", []string{"http://h/a/b?x=1&y=", "http://h/a/b?x=1&", "http://h/a/b?x=", "http://h/a/b?", "http://h/a/", "http://h/"}},
		{"http://h/a/", []string{"http://h/a/", "http://h/"}},
		{"http://h/", []string{"http://h/"}},
		{"http://h", []string{"http://h"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, prefixes(tt.url)); diff != "" {
			t.Errorf("prefixes(%q) (-want +got):\n%s", tt.url, diff)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, p := range []string{"http://h/a/", "http://h/a?", "http://h/a?x=", "http://h/a?x=1&", "http://h/\u00e9", "x\x7f"} {
		end := prefixEnd(p)
		if end <= p || !utf8.ValidString(end) {
			t.Errorf("prefixEnd(%q) = %q, want a valid string above it", p, end)
		}
		for _, s := range []string{p, p + "z", p + "\u00ff\u4e16", p + "~~~~"} {
			if s >= end {
				t.Errorf("%q starts with %q but is not below prefixEnd = %q", s, p, end)
			}
		}
		if next := p[:len(p)-1] + string(rune(p[len(p)-1]+1)); p[len(p)-1] < 0x7f && next < end {
			t.Errorf("%q does not start with %q but is below prefixEnd = %q", next, p, end)
		}
	}
}
