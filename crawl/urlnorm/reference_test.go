package urlnorm

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"
)

func TestResolveReference(t *testing.T) {
	base, err := url.Parse("https://example.com/dir/page?q=1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ ref, want string }{
		// Read as browsers read them, and as Resolve reads them.
		{`\\evil.com\x`, "https://evil.com/x"},
		{`/\evil.com/x`, "https://evil.com/x"},
		{"///evil.com/x", "https://evil.com/x"},
		{`\path\to?a\b`, `https://example.com/path/to?a\b`},
		{"/a%zz", "https://example.com/a%25zz"},
		{"/100%/x%2", "https://example.com/100%25/x%252"},
		{"/a b?c d#e f", "https://example.com/a%20b?c%20d#e%20f"},
		{" \n\t/trim \f", "https://example.com/trim"},
		{"/a\nb\tc\r", "https://example.com/abc"},
		{"http:other.example/p", "http://other.example/p"},
		{"https:rel", "https://example.com/dir/rel"},
		{"https:/rooted", "https://example.com/rooted"},
		// Resolution, with the fragment kept.
		{"../up", "https://example.com/up"},
		{"./a/../b/./c", "https://example.com/dir/b/c"},
		{"../../../../r", "https://example.com/r"},
		{"//other.org/p", "https://other.org/p"},
		{"?q=2", "https://example.com/dir/page?q=2"},
		{"#frag", "https://example.com/dir/page?q=1#frag"},
		{"", "https://example.com/dir/page?q=1"},
		{"/p#Sec%20tion", "https://example.com/p#Sec%20tion"},
		{"/caf\u00e9", "https://example.com/caf%C3%A9"},
		// Dot segments, also spelled with %2e, as WHATWG removes them.
		{"/a/b/%2e%2e/../c", "https://example.com/c"},
		{"/a/.%2E/b", "https://example.com/b"},
		{"/a/b/.", "https://example.com/a/b/"},
		{"/a/b/..", "https://example.com/a/"},
		{"/..", "https://example.com/"},
		{"..//x", "https://example.com//x"},
		{"/a/.b/..c/%2ex", "https://example.com/a/.b/..c/%2ex"},
		// The spelling is kept: this is not the canonical form.
		{"HTTP://Example.ORG:80/A/%7e?B&&C", "http://Example.ORG:80/A/%7e?B&&C"},
		{"http://user:pw@h.example/p", "http://user:pw@h.example/p"},
		{"http://b\u00fccher.example/", "http://b%C3%BCcher.example/"},
		// Other schemes are parsed as written.
		{"mailto:shop@example.com", "mailto:shop@example.com"},
		{"ftp://files.example.com/f", "ftp://files.example.com/f"},
		{"java\tscript:void(0)", "javascript:void(0)"},
		{"data:text/html,a b", "data:text/html,a%20b"},
	}
	for _, c := range cases {
		u, err := ResolveReference(base, c.ref)
		if err != nil || u.String() != c.want {
			t.Errorf("ResolveReference(%q, %q) = %v, %v; want %q", base, c.ref, u, err, c.want)
		}
	}
	// One Resolver, as a page's links use it, resolves each in turn alike.
	r := NewResolver(base)
	for _, c := range cases {
		u, err := r.Resolve(c.ref)
		if err != nil || u.String() != c.want {
			t.Errorf("Resolver(%q).Resolve(%q) = %v, %v; want %q", base, c.ref, u, err, c.want)
		}
	}
}

func TestResolveReferenceErrors(t *testing.T) {
	httpBase, _ := url.Parse("http://example.com/a/")
	cases := []struct {
		base *url.URL
		ref  string
		err  error
	}{
		{nil, "/x", ErrScheme},
		{nil, "x", ErrScheme},
		{nil, "//example.com/x", ErrScheme},
		{httpBase, "http://", ErrNoHost},
		{httpBase, "https:", ErrNoHost},
		{httpBase, "//", ErrNoHost},
		{httpBase, "http://[::1", ErrInvalid},
		{httpBase, "http://a{b}/", ErrInvalid},
	}
	for _, c := range cases {
		got, err := ResolveReference(c.base, c.ref)
		if !errors.Is(err, c.err) {
			t.Errorf("ResolveReference(%v, %q) = %v, %v; want error wrapping %v", c.base, c.ref, got, err, c.err)
		}
	}
	if got, err := ResolveReference(nil, "http://example.com/x#f"); err != nil || got.String() != "http://example.com/x#f" {
		t.Errorf("ResolveReference(nil, %q) = %v, %v; want it as written", "http://example.com/x#f", got, err)
	}
}

// TestResolveReferenceWPT checks ResolveReference against Resolve on the WPT
// URL parser cases: the URL it returns has the canonical form Resolve
// gives, and an input Resolve rejects is rejected by one of
// ResolveReference and Canonical.
func TestResolveReferenceWPT(t *testing.T) {
	var raw []json.RawMessage
	readVectors(t, "wpt-urltestdata.json", &raw)
	n := mustNew(t, Options{})
	cases := 0
	for _, r := range raw {
		var c struct {
			Input string  `json:"input"`
			Base  *string `json:"base"`
		}
		if json.Unmarshal(r, &c) != nil {
			continue // a comment string
		}
		var base *url.URL
		if c.Base != nil {
			var err error
			if base, err = url.Parse(*c.Base); err != nil {
				continue
			}
		}
		cases++
		checkReference(t, n, base, c.Input)
	}
	t.Logf("WPT: %d cases checked", cases)
}

// checkReference checks that ResolveReference and Resolve read ref alike.
func checkReference(t *testing.T, n *Normalizer, base *url.URL, ref string) {
	t.Helper()
	want, werr := n.Resolve(base, ref)
	u, err := ResolveReference(base, ref)
	got, gerr := "", err
	if err == nil {
		if !u.IsAbs() {
			t.Errorf("ResolveReference(%v, %q) = %v, not absolute", base, ref, u)
		}
		// Its fields say what net/url reads in the URL it writes.
		if again, err := url.Parse(u.String()); err != nil || again.String() != u.String() || again.Path != u.Path ||
			again.EscapedPath() != u.EscapedPath() || again.Fragment != u.Fragment || again.RawQuery != u.RawQuery {
			t.Errorf("ResolveReference(%v, %q) = %#v, but net/url parses its %q as %#v, %v", base, ref, u, u.String(), again, err)
		}
		got, gerr = n.Canonical(u)
	}
	switch {
	case werr == nil && gerr != nil:
		t.Errorf("ResolveReference(%v, %q) = %v, %v; its canonical form: %v; want %q", base, ref, u, err, gerr, want)
	case werr == nil && got != want:
		t.Errorf("ResolveReference(%v, %q) = %v with canonical form %q; want %q", base, ref, u, got, want)
	case werr != nil && gerr == nil:
		t.Errorf("ResolveReference(%v, %q) = %v with canonical form %q; want an error as Resolve gives: %v", base, ref, u, got, werr)
	}
}

func FuzzResolveReference(f *testing.F) {
	for _, s := range []string{
		`\\evil.com\x`, "/a%zz", "../a?b#c", "http:x", "///x/y", "HTTP://Ex%41mple.COM:80/a/./b/../%7e?b=1#f",
		"https://bücher.de/é?q=é", "http://[::1]:8080/a", "mailto:x", " java\tscript:x", "http://u:p@h/",
		"?", "#", "", "http://0x7f.1/", "//h:99999/", "/%2e%2e/x", "g;x=1/../y",
	} {
		f.Add("http://example.com/dir/page?x=1", s)
	}
	f.Add("https://user@B%C3%BCcher.DE:8080/a/./b/c?x#f", "../d")
	f.Add("http:opaque", "x")
	n := mustNew(f, Options{})
	f.Fuzz(func(t *testing.T, rawBase, ref string) {
		base, err := url.Parse(rawBase)
		if err != nil {
			return
		}
		checkReference(t, n, base, ref)
	})
}
