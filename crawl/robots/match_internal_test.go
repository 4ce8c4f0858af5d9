package robots

import "testing"

func TestIsNormSpecial(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		want := b == '%' || b == '*' || b == '$' || mustEscape(b)
		if got := isNormSpecial(b); got != want {
			t.Errorf("isNormSpecial(%#x) = %v, want %v", b, got, want)
		}
	}
}

// referenceMatch is the position-set matcher of RFC 9309's reference parser:
// slow but plainly right, to check rule.match against.
func referenceMatch(path, pattern string) bool {
	pos := []int{0}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '$' && i == len(pattern)-1 {
			return pos[len(pos)-1] == len(path)
		}
		if c == '*' {
			start := pos[0]
			pos = pos[:0]
			for p := start; p <= len(path); p++ {
				pos = append(pos, p)
			}
			continue
		}
		next := pos[:0]
		for _, p := range pos {
			if p < len(path) && path[p] == c {
				next = append(next, p+1)
			}
		}
		pos = next
		if len(pos) == 0 {
			return false
		}
	}
	return true
}

func FuzzMatch(f *testing.F) {
	f.Add("/a*b*$", "/aXbYb")
	f.Add("/*.php$", "/x.php5")
	f.Add("*", "")
	f.Add("/a$b$", "/a$b")
	f.Add("/**/x*", "//x")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if pattern == "" {
			return
		}
		rl, ok := newRule(directive{kind: keyDisallow, value: pattern, text: pattern})
		if !ok {
			t.Fatalf("newRule(%q) made no rule", pattern)
		}
		// Compare on the comparison form, which is what match sees.
		want := referenceMatch(path, escapePattern(pattern))
		if got := rl.match(path); got != want {
			t.Errorf("match(%q, %q) = %v, want %v", escapePattern(pattern), path, got, want)
		}
	})
}

func TestComparisonForms(t *testing.T) {
	tests := []struct {
		in, sent, norm string
	}{
		{"/a/b?c=d", "/a/b?c=d", "/a/b?c=d"},
		{"", "/", "/"},
		{"?q", "/?q", "/?q"},
		{"/%7efoo", "/%7Efoo", "/~foo"},
		{"/%3c%2F", "/%3C%2F", "/%3C%2F"},
		{"/a*b$", "/a*b$", "/a%2Ab%24"},
		{"/100%", "/100%", "/100%25"},
		{"/a b|c", "/a b|c", "/a%20b%7Cc"},
		{"/ツ", "/ツ", "/ツ"},
	}
	for _, tt := range tests {
		var b0, b1 [8]byte
		sent, norm, same := comparisonForms(tt.in, b0[:0], b1[:0])
		// same may be false for equal forms; it only spares a second match.
		if sent != tt.sent || norm != tt.norm || same && sent != norm {
			t.Errorf("comparisonForms(%q) = %q, %q, %v; want %q, %q", tt.in, sent, norm, same, tt.sent, tt.norm)
		}
	}
}
