package urlnorm

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func mustNew(t testing.TB, o Options) *Normalizer {
	t.Helper()
	n, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// canonCase is one CanonicalString expectation: want is the canonical URL,
// or err is the sentinel the error must wrap.
type canonCase struct {
	in, want string
	err      error
}

func runCanonical(t *testing.T, n *Normalizer, cases []canonCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := n.CanonicalString(c.in)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Errorf("CanonicalString(%q) = %q, %v; want error wrapping %v", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Errorf("CanonicalString(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestCanonicalSchemeAndHost(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "HTTP://Example.COM/Path", want: "http://example.com/Path"},
		{in: "HtTpS://WWW.example.org", want: "https://www.example.org/"},
		{in: "http://user:secret@example.com/", want: "http://example.com/"},
		{in: "http://a@b@example.com/", want: "http://example.com/"},
		{in: "http://example.com./", want: "http://example.com/"},
		{in: "http://example.com..:8080", want: "http://example.com:8080/"},
		{in: "http://foo_bar.example.com/", want: "http://foo_bar.example.com/"},
		{in: "http://r3---sn-abc.googlevideo.com/", want: "http://r3---sn-abc.googlevideo.com/"},
		{in: "http://exa%4Dple.com/", want: "http://example.com/"},
		{in: "http://exa mple.com/", err: ErrInvalid},
		{in: "http://exa<mple.com/", err: ErrInvalid},
		{in: "http://exa%zzmple.com/", err: ErrInvalid},
		{in: "http://exa%00mple.com/", err: ErrInvalid},
		{in: "http://exa{mple.com/", err: ErrInvalid},
		{in: "ftp://example.com/", err: ErrScheme},
		{in: "mailto:someone@example.com", err: ErrScheme},
		{in: "javascript:void(0)", err: ErrScheme},
		{in: "example.com/x", err: ErrScheme},
		{in: "//example.com/x", err: ErrScheme},
		{in: "", err: ErrScheme},
		{in: "http:///x", want: "http://x/"}, // browsers skip any number of slashes
		{in: "http://", err: ErrNoHost},
		{in: "http:///", err: ErrNoHost},
		{in: "http://:80/x", err: ErrNoHost},
		{in: "http://user@/x", err: ErrNoHost},
		{in: "http://./", err: ErrNoHost},
	})
}

func TestCanonicalIDNA(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "http://bücher.de/", want: "http://xn--bcher-kva.de/"},
		{in: "http://BÜCHER.de/", want: "http://xn--bcher-kva.de/"},
		{in: "http://b%C3%BCcher.de/", want: "http://xn--bcher-kva.de/"},
		{in: "http://XN--BCHER-KVA.de/", want: "http://xn--bcher-kva.de/"},
		{in: "https://нэб.рф/", want: "https://xn--90ax2c.xn--p1ai/"},
		{in: "http://ｅｘａｍｐｌｅ．ｃｏｍ/", want: "http://example.com/"}, // fullwidth letters and dot
		{in: "http://faß.de/", want: "http://xn--fa-hia.de/"},    // non-transitional: ß is kept
		{in: "http://xn--a.com/", err: ErrInvalid},               // bad punycode
		{in: "http://b%FCcher.de/", err: ErrInvalid},             // not UTF-8
		{in: "http://a\u05D0.com/", err: ErrInvalid},             // Bidi rule
		{in: "http://exa\uFF0Fmple.com/", err: ErrInvalid},       // fullwidth "/" maps to a forbidden "/"
	})
}

func TestCanonicalIP(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "http://127.0.0.1/", want: "http://127.0.0.1/"},
		{in: "http://0x7f.1/", want: "http://127.0.0.1/"},
		{in: "http://127.1/", want: "http://127.0.0.1/"},
		{in: "http://2130706433/", want: "http://127.0.0.1/"},
		{in: "http://0177.0.0.01/", want: "http://127.0.0.1/"},
		{in: "http://1.2.3.4./", want: "http://1.2.3.4/"},
		{in: "http://256.0.0.1/", err: ErrInvalid},
		{in: "http://1.2.3.4.5/", err: ErrInvalid},
		{in: "http://1.2.3.08/", err: ErrInvalid},
		{in: "http://foo.1/", err: ErrInvalid},
		{in: "http://4294967296/", err: ErrInvalid},
		{in: "http://[2001:DB8:0:0:0:0:0:1]/", want: "http://[2001:db8::1]/"},
		{in: "http://[1:0:0:2:0:0:0:3]/", want: "http://[1:0:0:2::3]/"},
		{in: "http://[1:0:2:0:3:0:4:0]/", want: "http://[1:0:2:0:3:0:4:0]/"},
		{in: "http://[::127.0.0.1]/", want: "http://[::7f00:1]/"},
		{in: "http://[::1]:80/", want: "http://[::1]/"},
		{in: "http://[::1]:8080/", want: "http://[::1]:8080/"},
		{in: "http://[::1%25eth0]/", err: ErrInvalid},
		{in: "http://[::1/", err: ErrInvalid},
		{in: "http://[::1]x/", err: ErrInvalid},
		{in: "http://[127.0.0.1]/", err: ErrInvalid},
	})
}

func TestCanonicalPort(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "http://example.com:80/", want: "http://example.com/"},
		{in: "https://example.com:443/", want: "https://example.com/"},
		{in: "http://example.com:443/", want: "http://example.com:443/"},
		{in: "https://example.com:80/", want: "https://example.com:80/"},
		{in: "http://example.com:/", want: "http://example.com/"},
		{in: "http://example.com:0080/", want: "http://example.com/"},
		{in: "http://example.com:08080/", want: "http://example.com:8080/"},
		{in: "http://example.com:0/", want: "http://example.com:0/"},
		{in: "http://example.com:65535/", want: "http://example.com:65535/"},
		{in: "http://example.com:65536/", err: ErrInvalid},
		{in: "http://example.com:8a/", err: ErrInvalid},
		{in: "http://example.com:-1/", err: ErrInvalid},
		{in: "http://example.com:80:80/", err: ErrInvalid},
	})
}

func TestCanonicalPath(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "http://example.com", want: "http://example.com/"},
		{in: "http://example.com?x", want: "http://example.com/?x"},
		{in: "http://example.com/a/./b/../c", want: "http://example.com/a/c"},
		{in: "http://example.com/a/b/..", want: "http://example.com/a/"},
		{in: "http://example.com/a/.", want: "http://example.com/a/"},
		{in: "http://example.com/../../a", want: "http://example.com/a"},
		{in: "http://example.com/a/%2e%2E/b", want: "http://example.com/b"},
		{in: "http://example.com/a/.%2e", want: "http://example.com/"},
		{in: "http://example.com/a/..b/c./.d", want: "http://example.com/a/..b/c./.d"},
		{in: "http://example.com/a//../b", want: "http://example.com/a/b"},
		{in: "http://example.com//a//b//", want: "http://example.com//a//b//"}, // duplicate slashes are kept
		{in: "http://example.com/a\\b\\..\\c", want: "http://example.com/a/c"},
		{in: "http://example.com/a/b?c/../d", want: "http://example.com/a/b?c/../d"}, // not in the query
		{in: "http://example.com/Case/Kept", want: "http://example.com/Case/Kept"},
	})
	runCanonical(t, mustNew(t, Options{MergeSlashes: true}), []canonCase{
		{in: "http://example.com//a///b//", want: "http://example.com/a/b/"},
		{in: "http://example.com//", want: "http://example.com/"},
		{in: "http://example.com/a//../b", want: "http://example.com/b"},
	})
}

func TestCanonicalPercentEncoding(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		// Unreserved characters are decoded.
		{in: "http://example.com/%7euser/%41%62%2D%5F%2e", want: "http://example.com/~user/Ab-_."},
		{in: "http://example.com/?q=%7e%30", want: "http://example.com/?q=~0"},
		// Reserved characters are never decoded; their hex is uppercased.
		{in: "http://example.com/a%2fb%2Fc", want: "http://example.com/a%2Fb%2Fc"},
		{in: "http://example.com/c%2b%2b", want: "http://example.com/c%2B%2B"},
		{in: "http://example.com/a%3fb%23c", want: "http://example.com/a%3Fb%23c"},
		{in: "http://example.com/?q=c%2b%2b&r=a%26b%3dc", want: "http://example.com/?q=c%2B%2B&r=a%26b%3Dc"},
		{in: "http://example.com/?u=http%3a%2f%2fx.com%2f%3fa%3d1%26b%3d2%23f", want: "http://example.com/?u=http%3A%2F%2Fx.com%2F%3Fa%3D1%26b%3D2%23f"},
		{in: "http://example.com/%e9t%C3%a9", want: "http://example.com/%E9t%C3%A9"},
		{in: "http://example.com/%25", want: "http://example.com/%25"},
		// "+" and %20 are different and both kept.
		{in: "http://example.com/a+b%20c?q=a+b%20c", want: "http://example.com/a+b%20c?q=a+b%20c"},
		// A "%" that starts no escape is escaped itself.
		{in: "http://example.com/100%", want: "http://example.com/100%25"},
		{in: "http://example.com/%zz%4", want: "http://example.com/%25zz%254"},
		{in: "http://example.com/?q=%", want: "http://example.com/?q=%25"},
		// Bytes not allowed in the component are escaped.
		{in: "http://example.com/a b", want: "http://example.com/a%20b"},
		{in: "http://example.com/été?q=été", want: "http://example.com/%C3%A9t%C3%A9?q=%C3%A9t%C3%A9"},
		{in: "http://example.com/\x01\x7f", want: "http://example.com/%01%7F"},
		{in: "http://example.com/\"<>[]^`{|}", want: "http://example.com/%22%3C%3E%5B%5D%5E%60%7B%7C%7D"},
		{in: "http://example.com/?q=\"<>[]\\^`{|}", want: "http://example.com/?q=%22%3C%3E%5B%5D%5C%5E%60%7B%7C%7D"},
		{in: "http://example.com/\xff", want: "http://example.com/%FF"},
		// Characters RFC 3986 allows are kept as they are.
		{in: "http://example.com/!$&'()*+,;=:@-._~", want: "http://example.com/!$&'()*+,;=:@-._~"},
		{in: "http://example.com/?a/b?c:d@e!$'()*+,;", want: "http://example.com/?a/b?c:d@e!$'()*+,;"},
		// The fragment is dropped; an escaped "#" is not a fragment.
		{in: "http://example.com/a%23b#c", want: "http://example.com/a%23b"},
		{in: "http://example.com/a#b?c", want: "http://example.com/a"},
	})
}

func TestCanonicalQuery(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: "http://example.com/?", want: "http://example.com/"},
		{in: "http://example.com/a?#f", want: "http://example.com/a"},
		{in: "http://example.com/?a=&b", want: "http://example.com/?a=&b"},
		{in: "http://example.com/?b=2&a=1&b=1", want: "http://example.com/?b=2&a=1&b=1"}, // order kept without SortQuery
		{in: "http://example.com/?&a=1&&b=2&", want: "http://example.com/?a=1&b=2"},
		{in: "http://example.com/?&&", want: "http://example.com/"},
		{in: "http://example.com/?=1", want: "http://example.com/?=1"},
		{in: "http://example.com/?a==1", want: "http://example.com/?a==1"},
		{in: "http://example.com/?a;b=1", want: "http://example.com/?a;b=1"},
	})
}

func TestCanonicalSortQuery(t *testing.T) {
	var many, sorted []string
	for i := 40; i > 0; i-- {
		many = append(many, fmt.Sprintf("k%02d=%d", i%20, i))
	}
	for i := 0; i < 20; i++ {
		// Equal names keep their order: the higher value came first.
		sorted = append(sorted, fmt.Sprintf("k%02d=%d", i, i+20), fmt.Sprintf("k%02d=%d", i, i))
	}
	sorted[0], sorted[1] = "k00=40", "k00=20"
	runCanonical(t, mustNew(t, Options{SortQuery: true}), []canonCase{
		{in: "http://example.com/?b=2&a=1&b=1", want: "http://example.com/?a=1&b=2&b=1"},
		{in: "http://example.com/?b&a&c=", want: "http://example.com/?a&b&c="},
		{in: "http://example.com/?a=1&a=0", want: "http://example.com/?a=1&a=0"},
		{in: "http://example.com/?ab=1&a=2&a%3D=3", want: "http://example.com/?a=2&a%3D=3&ab=1"},
		{in: "http://example.com/?" + strings.Join(many, "&"), want: "http://example.com/?" + strings.Join(sorted, "&")},
	})
}

func TestCanonicalStripParams(t *testing.T) {
	runCanonical(t, mustNew(t, Options{StripParams: DefaultStripParams}), []canonCase{
		{in: "http://example.com/?utm_source=x&id=1&utm_medium=y", want: "http://example.com/?id=1"},
		{in: "http://example.com/?UTM_Campaign=x&id=1", want: "http://example.com/?id=1"},
		{in: "http://example.com/?utm%5Fsource=x&id=1", want: "http://example.com/?id=1"},
		{in: "http://example.com/?gclid=abc", want: "http://example.com/"},
		{in: "http://example.com/?fbclid&a=1", want: "http://example.com/?a=1"},
		{in: "http://example.com/?a=1&PHPSESSID=42&b=2", want: "http://example.com/?a=1&b=2"},
		{in: "http://example.com/?ASPSESSIONIDQQGGGNCG=x", want: "http://example.com/"},
		{in: "http://example.com/?sid=1&sessionid=2&jsessionid=3", want: "http://example.com/"},
		{in: "http://example.com/?utm=1&session=2&xgclid=3&q=utm_source", want: "http://example.com/?utm=1&session=2&xgclid=3&q=utm_source"},
		{in: "http://example.com/a;jsessionid=ABC123?x=1", want: "http://example.com/a?x=1"},
		{in: "http://example.com/a;JSESSIONID=1;v=2/b;jsessionid=3", want: "http://example.com/a;v=2/b"},
		{in: "http://example.com/a;v=1;w", want: "http://example.com/a;v=1;w"},
		{in: "http://example.com/;jsessionid=1", want: "http://example.com/"},
		{in: "http://example.com/a/..;jsessionid=1/b", want: "http://example.com/b"},
		{in: "http://example.com/a%3Bjsessionid=1", want: "http://example.com/a%3Bjsessionid=1"},
	})
	runCanonical(t, mustNew(t, Options{StripParams: []string{"filter[x]", "Ref*"}}), []canonCase{
		{in: "http://example.com/?filter%5bx%5d=1&filter[y]=2&referrer=a&ref=b", want: "http://example.com/?filter%5By%5D=2"},
	})
}

func TestNewRejectsBadPatterns(t *testing.T) {
	for _, p := range []string{"", "*", "a*b", "**", "a b", "a=b", "a&b", "a#", "\x00"} {
		if _, err := New(Options{StripParams: []string{p}}); err == nil {
			t.Errorf("New with StripParams %q: want an error", p)
		}
	}
	if _, err := New(Options{StripParams: DefaultStripParams, SortQuery: true, MergeSlashes: true}); err != nil {
		t.Errorf("New with DefaultStripParams: %v", err)
	}
}

func TestCanonicalBrowserReading(t *testing.T) {
	runCanonical(t, mustNew(t, Options{}), []canonCase{
		{in: " \t http://example.com/a \n", want: "http://example.com/a"},
		{in: "\x00http://example.com/\x1f", want: "http://example.com/"},
		{in: "http://exa\tmple.com/a\r\nb?q=a\tb", want: "http://example.com/ab?q=ab"},
		{in: "http:\\\\example.com\\a\\b", want: "http://example.com/a/b"},
		{in: "http:example.com/a", want: "http://example.com/a"},
		{in: "http:/example.com/a", want: "http://example.com/a"},
		{in: "https:////example.com", want: "https://example.com/"},
	})
}

func TestResolve(t *testing.T) {
	n := mustNew(t, Options{})
	base, err := url.Parse("http://a/b/c/d;p?q")
	if err != nil {
		t.Fatal(err)
	}
	// RFC 3986 section 5.4, fragments dropped, plus browser readings.
	cases := []struct{ ref, want string }{
		{"g", "http://a/b/c/g"},
		{"./g", "http://a/b/c/g"},
		{"g/", "http://a/b/c/g/"},
		{"/g", "http://a/g"},
		{"//g", "http://g/"},
		{"?y", "http://a/b/c/d;p?y"},
		{"g?y", "http://a/b/c/g?y"},
		{"#s", "http://a/b/c/d;p?q"},
		{"g#s", "http://a/b/c/g"},
		{"g?y#s", "http://a/b/c/g?y"},
		{";x", "http://a/b/c/;x"},
		{"g;x", "http://a/b/c/g;x"},
		{"g;x?y#s", "http://a/b/c/g;x?y"},
		{"", "http://a/b/c/d;p?q"},
		{".", "http://a/b/c/"},
		{"./", "http://a/b/c/"},
		{"..", "http://a/b/"},
		{"../", "http://a/b/"},
		{"../g", "http://a/b/g"},
		{"../..", "http://a/"},
		{"../../", "http://a/"},
		{"../../g", "http://a/g"},
		{"../../../g", "http://a/g"},
		{"../../../../g", "http://a/g"},
		{"/./g", "http://a/g"},
		{"/../g", "http://a/g"},
		{"g.", "http://a/b/c/g."},
		{".g", "http://a/b/c/.g"},
		{"g..", "http://a/b/c/g.."},
		{"..g", "http://a/b/c/..g"},
		{"./../g", "http://a/b/g"},
		{"./g/.", "http://a/b/c/g/"},
		{"g/./h", "http://a/b/c/g/h"},
		{"g/../h", "http://a/b/c/h"},
		{"g;x=1/./y", "http://a/b/c/g;x=1/y"},
		{"g;x=1/../y", "http://a/b/c/y"},
		{"g?y/./x", "http://a/b/c/g?y/./x"},
		{"g?y/../x", "http://a/b/c/g?y/../x"},
		{"g#s/./x", "http://a/b/c/g"},
		{"http:g", "http://a/b/c/g"},
		{"  g\t\n", "http://a/b/c/g"},
		{"g\nh", "http://a/b/c/gh"},
		{"\\g", "http://a/g"},
		{"\\\\g\\h", "http://g/h"},
		{"https:g", "https://g/"},
		{"HTTP://G:80/%7Eh", "http://g/~h"},
		{"?", "http://a/b/c/d;p"},
		{"g h", "http://a/b/c/g%20h"},
	}
	for _, c := range cases {
		got, err := n.Resolve(base, c.ref)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", base, c.ref, got, err, c.want)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	n := mustNew(t, Options{})
	httpBase, _ := url.Parse("http://example.com/a/")
	ftpBase, _ := url.Parse("ftp://example.com/a/")
	opaqueBase, _ := url.Parse("http:opaque")
	cases := []struct {
		base *url.URL
		ref  string
		err  error
	}{
		{nil, "/x", ErrScheme},
		{nil, "//example.com/x", ErrScheme},
		{httpBase, "mailto:x@example.com", ErrScheme},
		{httpBase, "javascript:alert(1)", ErrScheme},
		{httpBase, "data:text/plain,x", ErrScheme},
		{httpBase, "ftp://example.com/", ErrScheme},
		{ftpBase, "x", ErrScheme},
		{ftpBase, "//example.com/x", ErrScheme},
		{httpBase, "http://", ErrNoHost},
		{httpBase, "https:", ErrNoHost},
		{httpBase, "//", ErrNoHost},
		{opaqueBase, "x", ErrNoHost},
		{httpBase, "http://example.com:99999/", ErrInvalid},
	}
	for _, c := range cases {
		got, err := n.Resolve(c.base, c.ref)
		if !errors.Is(err, c.err) {
			t.Errorf("Resolve(%v, %q) = %q, %v; want error wrapping %v", c.base, c.ref, got, err, c.err)
		}
	}
	// A base of another scheme does not matter to an absolute ref.
	if got, err := n.Resolve(ftpBase, "http://example.com/x"); err != nil || got != "http://example.com/x" {
		t.Errorf("Resolve(%v, %q) = %q, %v; want %q", ftpBase, "http://example.com/x", got, err, "http://example.com/x")
	}
}

func TestResolveNormalisesBase(t *testing.T) {
	n := mustNew(t, Options{StripParams: DefaultStripParams})
	base, err := url.Parse("http://user@B%C3%BCcher.DE:80/a/./b/c?utm_source=x&p=1#frag")
	if err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]string{
		"":     "http://xn--bcher-kva.de/a/b/c?p=1",
		"d":    "http://xn--bcher-kva.de/a/b/d",
		"../d": "http://xn--bcher-kva.de/a/d",
		"?q=1": "http://xn--bcher-kva.de/a/b/c?q=1",
	} {
		if got, err := n.Resolve(base, ref); err != nil || got != want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", base, ref, got, err, want)
		}
	}
}

// TestCanonicalMatchesCanonicalString checks that the net/url entry point
// and the string entry point agree on ordinary URLs.
func TestCanonicalMatchesCanonicalString(t *testing.T) {
	n := mustNew(t, Options{StripParams: DefaultStripParams, SortQuery: true})
	for _, raw := range []string{
		"http://Example.com:80/a/./b/../c%7e%2f?b=2&a=1&utm_source=x#f",
		"https://user:pw@BÜCHER.de:443/%C3%A9t%c3%a9/;jsessionid=1?q=a+b%20c",
		"http://[2001:DB8::1]:8080/x?",
		"http://127.1/a%7E%7e",
		"http://example.com",
		"http://example.com/a b?c d",
		"http://example.com/?q=%E2%82%AC&r=€",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		got, err1 := n.Canonical(u)
		want, err2 := n.CanonicalString(raw)
		if err1 != nil || err2 != nil || got != want {
			t.Errorf("Canonical(%q) = %q, %v; CanonicalString = %q, %v", raw, got, err1, want, err2)
		}
	}
}

func TestCanonicalURLErrors(t *testing.T) {
	n := mustNew(t, Options{})
	cases := []struct {
		u   *url.URL
		err error
	}{
		{&url.URL{Scheme: "ftp", Host: "example.com"}, ErrScheme},
		{&url.URL{Path: "/relative"}, ErrScheme},
		{&url.URL{Scheme: "http", Path: "/x"}, ErrNoHost},
		{&url.URL{Scheme: "http", Opaque: "example.com"}, ErrNoHost},
		{&url.URL{Scheme: "http", Host: "example.com:http"}, ErrInvalid},
		{&url.URL{Scheme: "http", Host: "a%41.com"}, ErrInvalid}, // Host is already decoded: "%" is literal
	}
	for _, c := range cases {
		got, err := n.Canonical(c.u)
		if !errors.Is(err, c.err) {
			t.Errorf("Canonical(%q) = %q, %v; want error wrapping %v", c.u, got, err, c.err)
		}
	}
	// A hand-built URL with a relative-looking path still gets a "/".
	u := &url.URL{Scheme: "HTTP", Host: "Example.com", Path: "a b", RawQuery: "x=1#2"}
	if got, err := n.Canonical(u); err != nil || got != "http://example.com/a%20b?x=1%232" {
		t.Errorf("Canonical(%q) = %q, %v; want %q", u, got, err, "http://example.com/a%20b?x=1%232")
	}
}

func TestConcurrentUse(t *testing.T) {
	n := mustNew(t, Options{StripParams: DefaultStripParams, SortQuery: true})
	base, _ := url.Parse("http://example.com/a/b")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				got, err := n.Resolve(base, fmt.Sprintf("../c?z=%d&utm_source=x&a=1", j))
				if want := fmt.Sprintf("http://example.com/c?a=1&z=%d", j); err != nil || got != want {
					t.Errorf("Resolve = %q, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func FuzzCanonical(f *testing.F) {
	for _, s := range []string{
		"http://example.com/", "HTTP://Ex%41mple.COM:80/a/./b/../%7e?b=1&a=&utm_source=x#f",
		"https://bücher.de/é?q=é", "http://[::1]:8080/a;jsessionid=1/b", "http://0x7f.1/",
		"http:\\\\a\\b", "//x/y", "../a?b#c", "http://a/%zz%2f%2B?%3d=%26", "http://a/?&&=&a",
		"http://xn--bcher-kva.de/", "http://a.b.c.xn--pokxncvks/", "http://1.2.3.4../",
	} {
		f.Add(s)
	}
	n := mustNew(f, Options{StripParams: DefaultStripParams, SortQuery: true})
	base, _ := url.Parse("http://example.com/dir/page?x=1")
	f.Fuzz(func(t *testing.T, s string) {
		check := func(op, out string) {
			again, err := n.CanonicalString(out)
			if err != nil || again != out {
				t.Fatalf("%s(%q) = %q, but CanonicalString of that = %q, %v", op, s, out, again, err)
			}
			u, err := url.Parse(out)
			if err != nil {
				t.Fatalf("%s(%q) = %q, which net/url cannot parse: %v", op, s, out, err)
			}
			if u.String() != out {
				t.Fatalf("%s(%q) = %q, which net/url writes back as %q", op, s, out, u.String())
			}
			if c, err := n.Canonical(u); err != nil || c != out {
				t.Fatalf("%s(%q) = %q, but Canonical of it parsed = %q, %v", op, s, out, c, err)
			}
		}
		if out, err := n.CanonicalString(s); err == nil {
			check("CanonicalString", out)
		}
		if out, err := n.Resolve(base, s); err == nil {
			check("Resolve", out)
		}
		if u, err := url.Parse(s); err == nil {
			if out, err := n.Canonical(u); err == nil {
				check("Canonical", out)
			}
		}
	})
}

var benchURLs = []string{
	"https://www.example.com/",
	"https://www.example.com/products/widgets/blue-widget-2000.html",
	"https://news.example.org/2024/05/17/some-long-article-slug-here?utm_source=twitter&utm_medium=social",
	"http://Example.COM:80/a/./b/../c/%7euser/index.php?id=42&page=2&sort=desc",
	"https://shop.example.net/search?q=red+shoes&size=42&color=red&ref=nav#results",
	"https://example.com/wiki/Caf%C3%A9_au_lait",
}

func BenchmarkCanonical(b *testing.B) {
	n := mustNew(b, Options{StripParams: DefaultStripParams, SortQuery: true})
	us := make([]*url.URL, len(benchURLs))
	for i, s := range benchURLs {
		var err error
		if us[i], err = url.Parse(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := n.Canonical(us[i%len(us)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalString(b *testing.B) {
	n := mustNew(b, Options{StripParams: DefaultStripParams, SortQuery: true})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := n.CanonicalString(benchURLs[i%len(benchURLs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	n := mustNew(b, Options{StripParams: DefaultStripParams, SortQuery: true})
	base, _ := url.Parse("https://www.example.com/section/page.html?x=1")
	refs := []string{"/about", "../other/page.html?id=7", "item-42.html", "https://cdn.example.net/a.js", "?page=3", "#top"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := n.Resolve(base, refs[i%len(refs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalIDN(b *testing.B) {
	n := mustNew(b, Options{})
	u, _ := url.Parse("https://bücher.example/ä")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Canonical(u); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCharSets checks the byte masks against RFC 3986 spelled out.
func TestCharSets(t *testing.T) {
	const (
		unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
		pchar      = unreserved + "!$&'()*+,;=:@"
		query      = pchar + "/?"
	)
	for c := 0; c < 256; c++ {
		b := byte(c)
		if got, want := isUnreserved(b), strings.IndexByte(unreserved, b) >= 0; got != want {
			t.Errorf("isUnreserved(%q) = %v, want %v", b, got, want)
		}
		lo, hi := pathChars.masks()
		if got, want := inMasks(b, lo, hi), strings.IndexByte(pchar, b) >= 0; got != want {
			t.Errorf("path allows %q = %v, want %v", b, got, want)
		}
		lo, hi = queryChars.masks()
		if got, want := inMasks(b, lo, hi), strings.IndexByte(query, b) >= 0; got != want {
			t.Errorf("query allows %q = %v, want %v", b, got, want)
		}
	}
}

// TestNetPathSet checks netPathSet against what net/url leaves unescaped
// in a path it holds no RawPath for.
func TestNetPathSet(t *testing.T) {
	for c := 0; c < 256; c++ {
		p := "/a" + string([]byte{byte(c)})
		u := &url.URL{Path: p}
		if got, want := netPathSet[byte(c)], u.EscapedPath() == p; got != want {
			t.Errorf("netPathSet[%q] = %v, but net/url writes path %q as %q", byte(c), got, p, u.EscapedPath())
		}
	}
}

// pathAlphabet are the bytes short paths are made of in the exhaustive
// tests below: separators, dots, escapes, parameters, and bytes that are
// escaped or kept in different components.
const pathAlphabet = "/.;%2eaB\\ ~!?é"

// forShortPaths calls f with every string of up to max bytes of alphabet.
func forShortPaths(alphabet string, max int, f func(string)) {
	var walk func(prefix []byte)
	walk = func(prefix []byte) {
		f(string(prefix))
		if len(prefix) == max {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			walk(append(prefix, alphabet[i]))
		}
	}
	walk(nil)
}

// TestPlainPath: a path plainPath takes as its own canonical form is the
// one appendPathSegments writes, for every short path and every option.
func TestPlainPath(t *testing.T) {
	for _, o := range []Options{{}, {StripParams: DefaultStripParams}, {MergeSlashes: true}} {
		n := mustNew(t, o)
		plain := 0
		forShortPaths(pathAlphabet, 5, func(p string) {
			if !n.plainPath(p) {
				return
			}
			plain++
			if got, want := string(n.appendPath(nil, "", p)), string(n.appendPathSegments(nil, "", p)); got != want {
				t.Errorf("%+v: appendPath(%q) = %q, want %q", o, p, got, want)
			}
		})
		if plain == 0 {
			t.Errorf("%+v: no path is plain", o)
		}
	}
}

// TestEscapedPath: escapedPath gives what net/url's EscapedPath gives, for
// URLs built with and without RawPath.
func TestEscapedPath(t *testing.T) {
	forShortPaths(pathAlphabet, 4, func(p string) {
		for _, u := range []*url.URL{{Path: "/" + p}, {Path: "/" + unescape(p), RawPath: "/" + p}} {
			if got, want := escapedPath(u), u.EscapedPath(); got != want {
				t.Errorf("escapedPath(%#v) = %q, want %q", u, got, want)
			}
		}
	})
}

// TestCleanRef checks cleanRef's removal of tabs and newlines, found 8
// bytes at a time, for every byte at every position of short references.
func TestCleanRef(t *testing.T) {
	for n := 1; n <= 20; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				want := strings.Map(func(r rune) rune {
					if r == '\t' || r == '\n' || r == '\r' {
						return -1
					}
					return r
				}, strings.Trim(string(b), "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
				if c >= 0x80 {
					// strings.Map would turn an invalid byte into U+FFFD.
					want = string(b)
				}
				if got := cleanRef(string(b)); got != want {
					t.Fatalf("cleanRef(%q) = %q, want %q", b, got, want)
				}
			}
		}
	}
}

// TestAppendRefBytes checks, byte by byte, what appendRef escapes in each
// component.
func TestAppendRefBytes(t *testing.T) {
	const pchar = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@"
	for c := 0; c < 256; c++ {
		s := string([]byte{'a', byte(c), 'b'})
		esc := fmt.Sprintf("a%%%02Xb", c)
		for _, comp := range []struct {
			name string
			comp int
			want string
		}{
			{"other", escOther, map[bool]string{true: esc, false: s}[c <= ' ' || c == 0x7f || c == '%']},
			{"path", escPath, map[bool]string{true: s, false: esc}[strings.IndexByte(pchar+"/[]", byte(c)) >= 0]},
			{"userinfo", escUserinfo, map[bool]string{true: s, false: esc}[strings.IndexByte(pchar, byte(c)) >= 0]},
		} {
			want := comp.want
			if comp.comp == escPath && c == '\\' {
				want = "a/b"
			}
			if got := string(appendRef(nil, s, comp.comp)); got != want {
				t.Errorf("appendRef(%q, %s) = %q, want %q", s, comp.name, got, want)
			}
		}
	}
	for _, c := range []struct{ s, want string }{
		{"%41", "%41"}, {"a%2Fb", "a%2Fb"}, {"%4", "%254"}, {"%", "%25"}, {"%%41", "%25%41"}, {"%g1", "%25g1"},
	} {
		for _, comp := range []int{escOther, escPath, escUserinfo} {
			if got := string(appendRef(nil, c.s, comp)); got != c.want {
				t.Errorf("appendRef(%q, %d) = %q, want %q", c.s, comp, got, c.want)
			}
		}
	}
}

// TestKeyOf: changing any field of a URL that its canonical form depends
// on changes its key, so that links with equal keys may share one
// canonical form.
func TestKeyOf(t *testing.T) {
	n := mustNew(t, Options{StripParams: DefaultStripParams, SortQuery: true})
	base := url.URL{Scheme: "http", User: url.UserPassword("u", "p"), Host: "Example.com:8080", Path: "/a b/c",
		RawPath: "/a%20b/c", RawQuery: "b=1&a=2", Fragment: "f g", RawFragment: "f%20g"}
	values := []any{"", "https", "HTTP", "other.example", "/x/../y", "/a%20b/d", "q=1", "opaque", true, url.User("v")}
	v := reflect.ValueOf(&base).Elem()
	for i := 0; i < v.NumField(); i++ {
		for _, val := range values {
			f := v.Type().Field(i)
			if reflect.TypeOf(val) != f.Type {
				continue
			}
			u := base
			reflect.ValueOf(&u).Elem().Field(i).Set(reflect.ValueOf(val))
			c1, err1 := n.Canonical(&base)
			c2, err2 := n.Canonical(&u)
			if (c1 != c2 || (err1 == nil) != (err2 == nil)) && KeyOf(&base) == KeyOf(&u) {
				t.Errorf("URL.%s = %v changes the canonical form (%q, %v to %q, %v) but not the key", f.Name, val, c1, err1, c2, err2)
			}
		}
	}
}

// TestDottedDecimal checks dottedDecimal against parsing and writing the
// address back, for every short string of digits and dots.
func TestDottedDecimal(t *testing.T) {
	n := 0
	forShortPaths("0125.9", 7, func(h string) {
		ip, err := netip.ParseAddr(h)
		want := err == nil && ip.Is4() && ip.String() == h
		if got := dottedDecimal([]byte(h)); got != want {
			t.Errorf("dottedDecimal(%q) = %v, want %v", h, got, want)
		}
		if want {
			n++
		}
	})
	for _, h := range []string{"255.255.255.255", "256.1.1.1", "1.2.3.4.5", "1.2.3", "01.2.3.4", "1.2.3.4."} {
		ip, err := netip.ParseAddr(h)
		if got, want := dottedDecimal([]byte(h)), err == nil && ip.String() == h; got != want {
			t.Errorf("dottedDecimal(%q) = %v, want %v", h, got, want)
		}
	}
	if n == 0 {
		t.Error("no address among the strings tried")
	}
}
