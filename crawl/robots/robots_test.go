package robots

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRFC9309 has one case per rule of RFC 9309 this package implements; the
// section is the first part of each name.
func TestRFC9309(t *testing.T) {
	tests := []struct {
		name   string
		robots string
		agent  string
		path   string
		want   bool
	}{
		{"2.1 rules before the first user-agent line are ignored",
			"Disallow: /\nUser-agent: other\nDisallow: /x\n", "foobot", "/a", true},
		{"2.1 consecutive user-agent lines share one group (first)",
			"User-agent: a\nUser-agent: foobot\nDisallow: /x\n", "a", "/x", false},
		{"2.1 consecutive user-agent lines share one group (second)",
			"User-agent: a\nUser-agent: foobot\nDisallow: /x\n", "foobot", "/x", false},
		{"2.1 a rule ends the run of user-agent lines",
			"User-agent: a\nDisallow: /x\nUser-agent: foobot\nDisallow: /y\n", "foobot", "/x", true},
		{"2.1 blank lines do not end a group",
			"User-agent: foobot\n\nDisallow: /x\n\nDisallow: /y\n", "foobot", "/y", false},
		{"2.1 a group with no rules allows everything",
			"User-agent: *\nDisallow: /\nUser-agent: foobot\n", "foobot", "/a", true},
		{"2.2 key names are case-insensitive",
			"USER-AGENT: foobot\nDISALLOW: /x\n", "foobot", "/x", false},
		{"2.2 a trailing comment is not part of the value",
			"User-agent: foobot # our bot\nDisallow: /x # private\n", "foobot", "/x", false},
		{"2.2 a comment line is ignored",
			"User-agent: foobot\n# Disallow: /\nDisallow: /x\n", "foobot", "/a", true},
		{"2.2 # in a value starts a comment",
			"User-agent: foobot\nDisallow: /a#b\n", "foobot", "/a", false},
		{"2.2 unknown keys are ignored",
			"User-agent: foobot\nNoindex: /x\n", "foobot", "/x", true},
		{"2.2 white space around the colon",
			"User-agent\t :  foobot\nDisallow :\t/x\n", "foobot", "/x", false},
		{"2.2 missing colon between exactly two words",
			"User-agent foobot\nDisallow /x\n", "foobot", "/x", false},
		{"2.2 missing colon with three words is not a line",
			"User-agent: foobot\nDisallow /x /y\n", "foobot", "/x", true},
		{"2.2 CR line endings",
			"User-agent: foobot\rDisallow: /x\r", "foobot", "/x", false},
		{"2.2 CRLF line endings",
			"User-agent: foobot\r\nDisallow: /x\r\n", "foobot", "/x", false},
		{"2.2 no final line break",
			"User-agent: foobot\nDisallow: /x", "foobot", "/x", false},
		{"2.2 byte order mark skipped",
			"\xEF\xBB\xBFUser-agent: foobot\nDisallow: /x\n", "foobot", "/x", false},
		{"2.2.1 product token matching is case-insensitive",
			"User-agent: FooBot\nDisallow: /x\n", "FOOBOT", "/x", false},
		{"2.2.1 the user-agent value is read up to the first non-token character",
			"User-agent: FooBot/1.0\nDisallow: /x\n", "foobot", "/x", false},
		{"2.2.1 product tokens match whole, not as prefixes",
			"User-agent: foo\nDisallow: /x\n", "foobot", "/x", true},
		{"2.2.1 groups naming the same token are merged",
			"User-agent: foobot\nDisallow: /x\n\nUser-agent: other\nDisallow: /\n\nUser-agent: FOOBOT\nDisallow: /y\n", "foobot", "/y", false},
		{"2.2.1 the specific group wins over *",
			"User-agent: *\nDisallow: /\n\nUser-agent: foobot\nDisallow: /x\n", "foobot", "/a", true},
		{"2.2.1 * applies when no group names the token",
			"User-agent: *\nDisallow: /x\n\nUser-agent: other\nDisallow: /\n", "foobot", "/x", false},
		{"2.2.1 the longest match is taken across merged groups",
			"User-agent: foobot\nDisallow: /x\n\nUser-agent: other\nDisallow: /\n\nUser-agent: foobot\nAllow: /x/y\n", "foobot", "/x/y", true},
		{"2.2.1 a token named twice in one run",
			"User-agent: foobot\nUser-agent: FOOBOT\nDisallow: /x\n", "foobot", "/x", false},
		{"2.2.1 * groups are merged",
			"User-agent: *\nDisallow: /x\n\nUser-agent: other\nDisallow: /\n\nUser-agent: *\nDisallow: /y\n", "foobot", "/y", false},
		{"2.2.1 no matching group and no * allows everything",
			"User-agent: other\nDisallow: /\n", "foobot", "/x", true},
		{"2.2.1 an agent that is not a product token matches only *",
			"User-agent: foo\nDisallow: /\n", "foo/1.0", "/x", true},
		{"2.2.2 matching starts at the first octet",
			"User-agent: foobot\nDisallow: /x\n", "foobot", "/a/x", true},
		{"2.2.2 rule values are prefixes",
			"User-agent: foobot\nDisallow: /x\n", "foobot", "/xyz/abc", false},
		{"2.2.2 matching is case-sensitive",
			"User-agent: foobot\nDisallow: /X\n", "foobot", "/x", true},
		{"2.2.2 the longest match wins (disallow)",
			"User-agent: foobot\nAllow: /a\nDisallow: /a/b\n", "foobot", "/a/b/c", false},
		{"2.2.2 the longest match wins (allow)",
			"User-agent: foobot\nDisallow: /a\nAllow: /a/b\n", "foobot", "/a/b/c", true},
		{"2.2.2 length counts the pattern's octets, wildcards included",
			"User-agent: foobot\nAllow: /page\nDisallow: /*.html\n", "foobot", "/page.html", false},
		{"2.2.2 on equal length Allow wins",
			"User-agent: foobot\nDisallow: /a\nAllow: /a\n", "foobot", "/a", true},
		{"2.2.2 an empty Disallow matches nothing",
			"User-agent: foobot\nDisallow:\n", "foobot", "/x", true},
		{"2.2.2 the query is part of the path",
			"User-agent: foobot\nDisallow: /a?b=1\n", "foobot", "/a?b=1&c=2", false},
		{"2.2.2 an empty path is /",
			"User-agent: foobot\nDisallow: /$\n", "foobot", "", false},
		{"2.2.2 non-ASCII in a rule is percent-encoded as UTF-8",
			"User-agent: foobot\nDisallow: /café\n", "foobot", "/caf%C3%A9", false},
		{"2.2.2 hex case in rule escapes is ignored",
			"User-agent: foobot\nDisallow: /a%3cd\n", "foobot", "/a%3Cd", false},
		{"2.2.2 hex case in path escapes is ignored",
			"User-agent: foobot\nDisallow: /a%3Cd\n", "foobot", "/a%3cd", false},
		{"2.2.2 escaped unreserved characters in the path are decoded",
			"User-agent: foobot\nDisallow: /~foo\n", "foobot", "/%7Efoo", false},
		{"2.2.2 escaped unreserved characters in a rule match the same escape",
			"User-agent: foobot\nDisallow: /%7Efoo\n", "foobot", "/%7efoo", false},
		{"2.2.2 escaped unreserved characters in a rule are not decoded",
			"User-agent: foobot\nDisallow: /%7Efoo\n", "foobot", "/~foo", true},
		{"2.2.2 escaped reserved characters in the path stay escaped",
			"User-agent: foobot\nDisallow: /a/b\n", "foobot", "/a%2Fb", true},
		{"2.2.2 unsafe characters in a rule match their escapes",
			"User-agent: foobot\nDisallow: /a b|c\n", "foobot", "/a%20b%7Cc", false},
		{"2.2.2 /robots.txt is always allowed",
			"User-agent: *\nDisallow: /\n", "foobot", "/robots.txt", true},
		{"2.2.3 * matches any run of characters",
			"User-agent: foobot\nDisallow: /a/*/c\n", "foobot", "/a/b/x/c/d", false},
		{"2.2.3 * matches the empty string",
			"User-agent: foobot\nDisallow: /a*b\n", "foobot", "/ab", false},
		{"2.2.3 $ anchors the end",
			"User-agent: foobot\nDisallow: /a$\n", "foobot", "/a/b", true},
		{"2.2.3 $ anchors the end (match)",
			"User-agent: foobot\nDisallow: /*.pdf$\n", "foobot", "/x/y.pdf", false},
		{"2.2.3 $ anchors the end (query)",
			"User-agent: foobot\nDisallow: /*.pdf$\n", "foobot", "/x/y.pdf?z", true},
		{"2.2.3 $ before the end is a literal",
			"User-agent: foobot\nDisallow: /a$b\n", "foobot", "/a$b", false},
		{"2.2.3 %2A in a rule matches a literal *",
			"User-agent: foobot\nDisallow: /file-with-a-%2A.html\n", "foobot", "/file-with-a-*.html", false},
		{"2.2.3 %24 in a rule matches a literal $",
			"User-agent: foobot\nDisallow: /foo-%24\n", "foobot", "/foo-$", false},
		{"2.2.3 %2A in a rule is not a wildcard",
			"User-agent: foobot\nDisallow: /a%2Ac\n", "foobot", "/abc", true},
		{"2.2.4 a Sitemap line does not end a group",
			"User-agent: foobot\nSitemap: https://x/s.xml\nUser-agent: other\nDisallow: /x\n", "foobot", "/x", false},
		{"2.2.4 a Crawl-delay line does not end a group",
			"User-agent: foobot\nCrawl-delay: 5\nUser-agent: other\nDisallow: /x\n", "foobot", "/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(tt.robots)).Test(tt.agent, tt.path)
			if got.Allowed != tt.want {
				t.Errorf("Parse(%q).Test(%q, %q) = %+v, want Allowed %v", tt.robots, tt.agent, tt.path, got, tt.want)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	const robots = "# robots.txt for example.com\r\n" +
		"User-agent: *\r\n" +
		"Disallow: /private/*   # staff only\r\n" +
		"Allow: /private/press/\r\n" +
		"\r\n" +
		"User-agent: MyBot\r\n" +
		"disallow: /search\r\n" +
		"User-agent: mybot\r\n" +
		"Disallow: /a\n" +
		"User-agent: twicebot\n" +
		"Disallow: /t\n" +
		"User-agent: twicebot\n" +
		"Disallow: /t\n" +
		"Disallow: /t/v\n" +
		"Allow: /t/v\n" +
		"user-agent: emptybot\n"
	r := Parse([]byte(robots))
	tests := []struct {
		agent, path string
		want        Verdict
	}{
		{"otherbot", "/private/x", Verdict{Allowed: false, Group: "*", Rule: "Disallow: /private/*", Line: 3}},
		{"otherbot", "/private/press/2024", Verdict{Allowed: true, Group: "*", Rule: "Allow: /private/press/", Line: 4}},
		{"otherbot", "/public", Verdict{Allowed: true, Group: "*"}},
		{"MYBOT", "/search?q=x", Verdict{Allowed: false, Group: "MyBot", Rule: "disallow: /search", Line: 7}},
		{"mybot", "/a/b", Verdict{Allowed: false, Group: "MyBot", Rule: "Disallow: /a", Line: 9}},
		{"mybot", "/private/x", Verdict{Allowed: true, Group: "MyBot"}},
		{"emptybot", "/private/x", Verdict{Allowed: true, Group: "emptybot"}},
		{"otherbot", "/robots.txt", Verdict{Allowed: true}},
		{"twicebot", "/t/u", Verdict{Allowed: false, Group: "twicebot", Rule: "Disallow: /t", Line: 11}},
		{"twicebot", "/t/v", Verdict{Allowed: true, Group: "twicebot", Rule: "Allow: /t/v", Line: 15}},
	}
	for _, tt := range tests {
		got := r.Test(tt.agent, tt.path)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Test(%q, %q) mismatch (-want +got):\n%s", tt.agent, tt.path, diff)
		}
	}
}

// TestLongRunOfAgents checks that the rules of a group with many user-agent
// lines are stored once, not once per token: 8,000 tokens and 8,000 rules
// would otherwise make 64 million rule copies out of a 200 KB file.
func TestLongRunOfAgents(t *testing.T) {
	const n = 8000
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "User-agent: bot%c%c%c\n", 'a'+i%26, 'a'+i/26%26, 'a'+i/676)
	}
	for i := range n {
		fmt.Fprintf(&b, "Disallow: /%d\n", i)
	}
	r := Parse([]byte(b.String()))
	if len(r.groups) != n {
		t.Fatalf("parsed %d groups, want %d", len(r.groups), n)
	}
	var set *ruleSet
	for _, g := range r.groups {
		if len(g.sets) != 1 || len(g.sets[0].rules) != n || set != nil && g.sets[0] != set {
			t.Fatalf("group %q does not share the one rule set of %d rules", g.name, n)
		}
		set = g.sets[0]
	}
	if got := r.Test("BOTZZK", "/7999"); got.Allowed || got.Line != 2*n {
		t.Errorf("Test(%q, %q) = %+v, want the rule on line %d", "BOTZZK", "/7999", got, 2*n)
	}
}

func TestNoGroupVerdict(t *testing.T) {
	r := Parse([]byte("User-agent: other\nDisallow: /\n"))
	if got, want := r.Test("foobot", "/x"), (Verdict{Allowed: true}); got != want {
		t.Errorf("Test(%q, %q) = %+v, want %+v", "foobot", "/x", got, want)
	}
}

func TestAllowAllDisallowAll(t *testing.T) {
	tests := []struct {
		name string
		r    *Robots
		path string
		want Verdict
	}{
		{"allow all", AllowAll(), "/x", Verdict{Allowed: true}},
		{"disallow all", DisallowAll(), "/x", Verdict{Allowed: false, Group: "*", Rule: "Disallow: /"}},
		{"disallow all root", DisallowAll(), "", Verdict{Allowed: false, Group: "*", Rule: "Disallow: /"}},
		{"disallow all keeps robots.txt", DisallowAll(), "/robots.txt", Verdict{Allowed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Test("foobot", tt.path); got != tt.want {
				t.Errorf("Test(%q, %q) = %+v, want %+v", "foobot", tt.path, got, tt.want)
			}
			if d, ok := tt.r.CrawlDelay("foobot"); ok {
				t.Errorf("CrawlDelay(%q) = %v, true; want none", "foobot", d)
			}
			if s := tt.r.Sitemaps(); len(s) != 0 {
				t.Errorf("Sitemaps() = %q, want none", s)
			}
		})
	}
}

// TestFromResponse: the status of a robots.txt answer decides, as RFC 9309
// §2.3.1 says, with 429 read as unreachable.
func TestFromResponse(t *testing.T) {
	body := []byte("User-agent: *\nDisallow: /private\n")
	tests := []struct {
		status  int
		want    Availability
		private bool // /private is allowed
		public  bool // /public is allowed
	}{
		{200, Available, false, true},
		{204, Available, true, true}, // an empty body has no rules
		{301, Unrestricted, true, true},
		{308, Unrestricted, true, true},
		{400, Unrestricted, true, true},
		{401, Unrestricted, true, true},
		{403, Unrestricted, true, true},
		{404, Unrestricted, true, true},
		{410, Unrestricted, true, true},
		{429, Unreachable, false, false},
		{500, Unreachable, false, false},
		{503, Unreachable, false, false},
		{599, Unreachable, false, false},
		{0, Unreachable, false, false}, // no answer
		{100, Unreachable, false, false},
		{600, Unreachable, false, false},
	}
	for _, tt := range tests {
		b := body
		if tt.status == 204 {
			b = nil
		}
		r, got := FromResponse(tt.status, b)
		if got != tt.want {
			t.Errorf("FromResponse(%d) availability = %d, want %d", tt.status, got, tt.want)
		}
		if v := r.Test("foobot", "/private"); v.Allowed != tt.private {
			t.Errorf("FromResponse(%d): /private allowed = %v, want %v", tt.status, v.Allowed, tt.private)
		}
		if v := r.Test("foobot", "/public"); v.Allowed != tt.public {
			t.Errorf("FromResponse(%d): /public allowed = %v, want %v", tt.status, v.Allowed, tt.public)
		}
	}
}

func TestCrawlDelay(t *testing.T) {
	tests := []struct {
		name   string
		robots string
		agent  string
		want   time.Duration
		wantOK bool
	}{
		{"whole seconds", "User-agent: *\nCrawl-delay: 10\n", "foobot", 10 * time.Second, true},
		{"decimal seconds", "User-agent: *\nCrawl-delay: 0.5\n", "foobot", 500 * time.Millisecond, true},
		{"leading dot", "User-agent: *\ncrawl-delay: .25\n", "foobot", 250 * time.Millisecond, true},
		{"specific group", "User-agent: *\nCrawl-delay: 10\n\nUser-agent: foobot\nCrawl-delay: 2\n", "FooBot", 2 * time.Second, true},
		{"specific group without delay does not fall back to *", "User-agent: *\nCrawl-delay: 10\n\nUser-agent: foobot\nDisallow: /x\n", "foobot", 0, false},
		{"applies to user-agent lines above it", "User-agent: foobot\nCrawl-delay: 3\nUser-agent: other\nDisallow: /\n", "other", 0, false},
		{"each user-agent line of a run gets its own", "User-agent: *\nCrawl-delay: 10\nUser-agent: foobot\nCrawl-delay: 2\nDisallow: /x\n", "foobot", 2 * time.Second, true},
		{"the * line keeps the first", "User-agent: *\nCrawl-delay: 10\nUser-agent: foobot\nCrawl-delay: 2\nDisallow: /x\n", "other", 10 * time.Second, true},
		{"first of several", "User-agent: foobot\nCrawl-delay: 3\n\nUser-agent: foobot\nCrawl-delay: 7\nCrawl-delay: 1\n", "foobot", 3 * time.Second, true},
		{"before any user-agent", "Crawl-delay: 3\nUser-agent: *\nDisallow: /x\n", "foobot", 0, false},
		{"with a comment", "User-agent: *\nCrawl-delay: 4 # be gentle\n", "foobot", 4 * time.Second, true},
		{"negative", "User-agent: *\nCrawl-delay: -1\n", "foobot", 0, false},
		{"unit suffix", "User-agent: *\nCrawl-delay: 5s\n", "foobot", 0, false},
		{"not a number", "User-agent: *\nCrawl-delay: NaN\n", "foobot", 0, false},
		{"huge is clamped", "User-agent: *\nCrawl-delay: 99999999999999999999\n", "foobot", time.Duration(math.MaxInt64), true},
		{"no group", "User-agent: other\nCrawl-delay: 5\n", "foobot", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Parse([]byte(tt.robots)).CrawlDelay(tt.agent)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("CrawlDelay(%q) of %q = %v, %v; want %v, %v", tt.agent, tt.robots, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSitemaps(t *testing.T) {
	const robots = "Sitemap: https://example.com/a.xml\n" +
		"User-agent: *\n" +
		"Disallow: /x\n" +
		"sitemap:https://example.com/b.xml # second\n" +
		"SITEMAP: https://example.com/a.xml\n" +
		"Sitemap:\n" +
		"User-agent: other\n" +
		"Sitemap: https://example.com/c.xml?x=1\n"
	r := Parse([]byte(robots))
	want := []string{"https://example.com/a.xml", "https://example.com/b.xml", "https://example.com/c.xml?x=1"}
	got := r.Sitemaps()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sitemaps() mismatch (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if r.Sitemaps()[0] != want[0] {
		t.Error("Sitemaps() returned the Robots' own slice")
	}
}

func TestProductToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"MyCrawler/1.2 (+https://x/bot)", "MyCrawler"},
		{"my_crawler-bot", "my_crawler-bot"},
		{"  Foo Bar", "Foo"},
		{"Googlebot-Image/1.0", "Googlebot-Image"},
		{"bot2", "bot"},
		{"/1.0", ""},
		{"", ""},
		{"ツbot", ""},
	}
	for _, tt := range tests {
		if got := ProductToken(tt.in); got != tt.want {
			t.Errorf("ProductToken(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestTruncatedBody checks that a body cut at MaxSize loses its partial last
// line: "Allow: /p" cut from "Allow: /private-report" must not allow /public.
func TestTruncatedBody(t *testing.T) {
	const head = "User-agent: *\nDisallow: /\n"
	// padTo returns head and one comment line, n bytes in all.
	padTo := func(n int) string {
		return head + strings.Repeat("#", n-len(head)-1) + "\n"
	}
	cut := padTo(MaxSize-len("Allow: /p")) + "Allow: /private-report\n"
	if v := Parse([]byte(cut)).Test("foobot", "/public"); v.Allowed {
		t.Errorf("Test(%q) = %+v on a body cut mid-line, want disallowed", "/public", v)
	}
	full := padTo(MaxSize-len("Allow: /p\n")) + "Allow: /p\n"
	if v := Parse([]byte(full)).Test("foobot", "/public"); !v.Allowed {
		t.Errorf("Test(%q) = %+v with a complete last line at the limit, want allowed", "/public", v)
	}
	if v := Parse([]byte(head+"Allow: /p")).Test("foobot", "/public"); !v.Allowed {
		t.Errorf("Test(%q) = %+v on a short body without a final line break, want allowed", "/public", v)
	}
}

func TestTestDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	r := Parse([]byte(benchRobots))
	for _, path := range []string{"/shop/cart/view?id=12", "/a%7eb/%2a?q=$", "/images/photo.JPG", ""} {
		allocs := testing.AllocsPerRun(100, func() {
			r.Test("FooBot", path)
		})
		if allocs != 0 {
			t.Errorf("Test(%q, %q) allocates %v times per call, want 0", "FooBot", path, allocs)
		}
	}
}

const benchRobots = `# A robots.txt of typical size.
User-agent: *
Disallow: /cgi-bin/
Disallow: /tmp/
Disallow: /search
Disallow: /*?sessionid=
Disallow: /*.pdf$
Allow: /search/about
Disallow: /account/
Disallow: /checkout/
Disallow: /shop/cart/
Allow: /shop/cart/help
Crawl-delay: 1

User-agent: FooBot
Disallow: /private/
Disallow: /*/print$
Disallow: /*.JPG$
Allow: /private/press/
Disallow: /shop/*/view
Disallow: /drafts
Allow: /drafts/public
Disallow: /api/v1/
Disallow: /api/v2/
Disallow: /*?*sort=
Disallow: /users/*/settings

Sitemap: https://example.com/sitemap.xml
`

func BenchmarkTest(b *testing.B) {
	r := Parse([]byte(benchRobots))
	for _, bb := range []struct{ name, path string }{
		{"early_match", "/private/x.html"},
		{"late_match", "/users/alice/settings"},
		{"no_match", "/blog/2024/03/some-post-title"},
		{"escapes", "/a%7eb/%2a?q=$"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Test("FooBot", bb.path)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	body := []byte(benchRobots)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		Parse(body)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(benchRobots), "FooBot", "/shop/cart/view?id=12")
	f.Add([]byte("User-agent: *\nDisallow: /*a*b*$\nAllow: /%7e\n"), "x", "/%7Ea*b$")
	f.Add([]byte("\xEF\xBBuser-agent foo\rdisallow /\r\nsitemap: x\n"), "foo", "")
	f.Add([]byte("User-agent: *\nDisallow: /ツ%zz%\n"), "", "?a#b")
	f.Fuzz(func(t *testing.T, body []byte, agent, path string) {
		r := Parse(body)
		again := Parse(bytes.Clone(body))
		v := r.Test(agent, path)
		if w := again.Test(agent, path); v != w {
			t.Fatalf("Test(%q, %q) = %+v, then %+v on a second parse", agent, path, v, w)
		}
		d1, ok1 := r.CrawlDelay(agent)
		d2, ok2 := again.CrawlDelay(agent)
		if d1 != d2 || ok1 != ok2 || d1 < 0 {
			t.Fatalf("CrawlDelay(%q) = %v, %v then %v, %v", agent, d1, ok1, d2, ok2)
		}
		if diff := cmp.Diff(r.Sitemaps(), again.Sitemaps()); diff != "" {
			t.Fatalf("Sitemaps() differ between parses:\n%s", diff)
		}
		if (v.Rule == "") != (v.Line == 0) {
			t.Fatalf("Test(%q, %q) = %+v: Rule and Line disagree", agent, path, v)
		}
		if v.Rule != "" && !strings.Contains(strings.ToLower(v.Rule), "allow") {
			t.Fatalf("Test(%q, %q) = %+v: deciding rule is not an allow line", agent, path, v)
		}
		if v.Line > 0 && v.Line > bytes.Count(body, []byte("\n"))+bytes.Count(body, []byte("\r"))+1 {
			t.Fatalf("Test(%q, %q) = %+v: line past the end of the file", agent, path, v)
		}
		if !v.Allowed && v.Group == "" {
			t.Fatalf("Test(%q, %q) = %+v: disallowed without a group", agent, path, v)
		}
	})
}
