package crawl

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLocationResolvesLikeLinks checks that a redirect's Location is read
// as links on pages are, by urlnorm.ResolveReference.
func TestLocationResolvesLikeLinks(t *testing.T) {
	base, err := url.Parse("https://example.com/dir/page")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ loc, want string }{
		{"/next", "https://example.com/next"},
		{" ../up ", "https://example.com/up"},
		{"/a%zz", "https://example.com/a%25zz"},
		{`\\other.example\x`, "https://other.example/x"},
		{"http:other.example/p", "http://other.example/p"},
		{"https://x.example/a b", "https://x.example/a%20b"},
		{"", ""},
		{" \t", ""},
		{"http://[::1", ""},
	}
	for _, tt := range tests {
		u, ok := location(base, http.Header{"Location": {tt.loc}})
		got := ""
		if ok {
			got = u.String()
		}
		if got != tt.want {
			t.Errorf("location(%q) = %q, want %q", tt.loc, got, tt.want)
		}
	}
}
