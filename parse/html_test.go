package parse

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/andybalholm/cascadia"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/html"
	"reflect"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

const testPageURL = "https://example.com/dir/page.html?x=1"

func mustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// parseTestPage runs HTML on body fetched from testPageURL, and checks
// that the facts are the same with the tree built as without, and are
// those of the document's tree.
func parseTestPage(t testing.TB, body string, o Options) *Page {
	t.Helper()
	u := mustParseURL(t, testPageURL)
	p, err := HTML(u, []byte(body), o)
	if err != nil {
		t.Fatalf("HTML(%.60q) error: %v", body, err)
	}
	checkTreeIndependent(t, u, []byte(body), o, p)
	checkTreeFacts(t, u, []byte(body), o, p)
	return p
}

// checkTreeIndependent checks, given p = HTML(u, body, o), that HTML returns
// the same facts with o.Tree flipped, and Page.Doc only with o.Tree.
func checkTreeIndependent(t testing.TB, u *url.URL, body []byte, o Options, p *Page) {
	t.Helper()
	o2 := o
	o2.Tree = !o.Tree
	q, err := HTML(u, body, o2)
	if err != nil {
		t.Fatalf("HTML(%.60q, Tree: %v) error: %v", body, o2.Tree, err)
	}
	if diff := factsDiff(p, q); diff != "" {
		t.Errorf("HTML(%.60q) facts with Tree %v and %v differ (-%[2]v +%[3]v):\n%[4]s", body, o.Tree, o2.Tree, diff)
	}
	withTree, withoutTree := p, q
	if !o.Tree {
		withTree, withoutTree = q, p
	}
	if withTree.Doc == nil || withoutTree.Doc != nil {
		t.Errorf("HTML(%.60q).Doc = %p with Tree and %p without, want a document only with Tree", body, withTree.Doc, withoutTree.Doc)
	}
}

// factsDiff compares the facts of two pages, leaving out Doc.
func factsDiff(a, b *Page) string {
	return cmp.Diff(a, b, cmpopts.IgnoreFields(Page{}, "Doc"),
		cmp.Comparer(func(x, y *url.URL) bool { return x.String() == y.String() }))
}

func TestHTMLFacts(t *testing.T) {
	type facts struct {
		Title, Description, Canonical, MetaRobots, Lang, Base string
	}
	base := testPageURL
	tests := []struct {
		name string
		body string
		want facts
	}{
		{"empty document", "", facts{Base: base}},
		{"title whitespace collapsed",
			"<title>  Hello \n\t World  </title>", facts{Title: "Hello World", Base: base}},
		{"title entities",
			"<title>Tom &amp; Jerry&nbsp;&lt;3</title>", facts{Title: "Tom & Jerry <3", Base: base}},
		{"first title wins",
			"<title>One</title><title>Two</title>", facts{Title: "One", Base: base}},
		{"svg title ignored",
			"<body><svg><title>Icon</title></svg><title>Real</title>", facts{Title: "Real", Base: base}},
		{"title with markup is text",
			"<title>a <b>b</b></title>", facts{Title: "a <b>b</b>", Base: base}},
		{"description",
			`<meta name="Description" content="  A  short
			 summary ">`, facts{Description: "A short summary", Base: base}},
		{"first description wins",
			`<meta name=description content=one><meta name=description content=two>`, facts{Description: "one", Base: base}},
		{"description without content ignored",
			`<meta name=description><meta name=description content=two>`, facts{Description: "two", Base: base}},
		{"canonical relative",
			`<link rel=canonical href="/a/../b?c=d#e">`, facts{Canonical: "https://example.com/b?c=d#e", Base: base}},
		{"canonical rel case and tokens",
			`<link rel="Canonical Other" href="https://Other.example/x">`, facts{Canonical: "https://Other.example/x", Base: base}},
		{"canonical invalid",
			`<link rel=canonical href="http://[::1">`, facts{Base: base}},
		{"canonical javascript",
			`<link rel=canonical href="javascript:void(0)">`, facts{Base: base}},
		{"canonical empty",
			`<link rel=canonical href="">`, facts{Base: base}},
		{"canonical resolved against base",
			`<base href="https://cdn.example.net/root/"><link rel=canonical href="p">`,
			facts{Canonical: "https://cdn.example.net/root/p", Base: "https://cdn.example.net/root/"}},
		{"first canonical wins",
			`<link rel=canonical href=/one><link rel=canonical href=/two>`, facts{Canonical: "https://example.com/one", Base: base}},
		{"meta robots lowercased",
			`<meta name="ROBOTS" content=" NoIndex,  NoFollow ">`, facts{MetaRobots: "noindex, nofollow", Base: base}},
		{"meta robots joined",
			`<meta name=robots content=noindex><meta name=robots content=nofollow>`, facts{MetaRobots: "noindex, nofollow", Base: base}},
		{"meta googlebot ignored",
			`<meta name=googlebot content=noindex>`, facts{Base: base}},
		{"lang",
			`<html lang=" de-CH "><p>x`, facts{Lang: "de-CH", Base: base}},
		{"lang of body ignored",
			`<body lang=fr>`, facts{Base: base}},
		{"relative base",
			`<base href="../other/">`, facts{Base: "https://example.com/other/"}},
		{"protocol-relative base",
			`<base href="//static.example.org/s/">`, facts{Base: "https://static.example.org/s/"}},
		{"invalid base ignored",
			`<base href="http://[bad">`, facts{Base: base}},
		{"javascript base ignored",
			`<base href="javascript:alert(1)">`, facts{Base: base}},
		{"data base ignored",
			`<base href="data:text/html,x">`, facts{Base: base}},
		{"base without href skipped",
			`<base target=_blank><base href="/b/"><base href="/c/">`, facts{Base: "https://example.com/b/"}},
		{"base in body still counts",
			`<body><p>x</p><base href="/late/">`, facts{Base: "https://example.com/late/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{})
			got := facts{p.Title, p.Description, p.Canonical, p.MetaRobots, p.Lang, p.Base.String()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("HTML(%q) facts differ (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestNoIndexNoFollow(t *testing.T) {
	tests := []struct {
		robots            string
		noindex, nofollow bool
	}{
		{"", false, false},
		{"index, follow", false, false},
		{"noindex", true, false},
		{"nofollow", false, true},
		{"noindex, nofollow", true, true},
		{"noindex,nofollow", true, true},
		{"noindex nofollow", true, true},
		{"none", true, true},
		{"all", false, false},
		{"noindexed, nofollowing", false, false},
		{"max-snippet:-1, noindex", true, false},
	}
	for _, tt := range tests {
		p := &Page{MetaRobots: tt.robots}
		if got := p.NoIndex(); got != tt.noindex {
			t.Errorf("Page{MetaRobots: %q}.NoIndex() = %v, want %v", tt.robots, got, tt.noindex)
		}
		if got := p.NoFollow(); got != tt.nofollow {
			t.Errorf("Page{MetaRobots: %q}.NoFollow() = %v, want %v", tt.robots, got, tt.nofollow)
		}
	}
}

func TestRobotsDirectives(t *testing.T) {
	tests := []struct {
		name              string
		values            []string
		agent             string
		noindex, nofollow bool
	}{
		{"none given", nil, "crawlerbot", false, false},
		{"plain", []string{"noindex"}, "crawlerbot", true, false},
		{"both", []string{"noindex, nofollow"}, "crawlerbot", true, true},
		{"case", []string{"NoIndex,NOFOLLOW"}, "crawlerbot", true, true},
		{"none directive", []string{"none"}, "crawlerbot", true, true},
		{"several headers", []string{"noarchive", "nofollow"}, "crawlerbot", false, true},
		{"other agent", []string{"googlebot: noindex"}, "crawlerbot", false, false},
		{"our agent", []string{"CrawlerBot: noindex"}, "crawlerbot", true, false},
		{"agent scope continues", []string{"crawlerbot: noindex, nofollow"}, "crawlerbot", true, true},
		{"agent scope switches", []string{"crawlerbot: noindex, googlebot: nofollow"}, "crawlerbot", true, false},
		{"agent scope ends with header", []string{"googlebot: noindex", "nofollow"}, "crawlerbot", false, true},
		{"unavailable_after is not an agent", []string{"unavailable_after: Friday, 25-Jun-2010 15:00:00 PST, noindex"}, "crawlerbot", true, false},
		{"max-snippet is not an agent", []string{"max-snippet: 20, nofollow"}, "crawlerbot", false, true},
		{"all", []string{"all"}, "crawlerbot", false, false},
		{"empty items", []string{" , ,noindex,"}, "crawlerbot", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noindex, nofollow := RobotsDirectives(tt.values, tt.agent)
			if noindex != tt.noindex || nofollow != tt.nofollow {
				t.Errorf("RobotsDirectives(%q, %q) = %v, %v, want %v, %v", tt.values, tt.agent, noindex, nofollow, tt.noindex, tt.nofollow)
			}
		})
	}
}

// testLink is a Link with its URL as a string, for comparison.
type testLink struct {
	URL      string `json:"url"`
	Text     string `json:"text,omitempty"`
	Rel      string `json:"rel,omitempty"`
	Nofollow bool   `json:"nofollow,omitempty"`
	Tag      string `json:"tag"`
}

func testLinks(links []Link) []testLink {
	var out []testLink
	for _, l := range links {
		out = append(out, testLink{l.URL.String(), l.Text, l.Rel, l.Nofollow, l.Tag})
	}
	return out
}

// TestLinksShareURL checks that links with the same href share one URL,
// resolved once, and that links with other hrefs do not, below and above
// the number of hrefs the resolver looks through one by one.
func TestLinksShareURL(t *testing.T) {
	for _, distinct := range []int{3, maxLinearHrefs + 10} {
		var b strings.Builder
		for round := range 2 {
			for i := range distinct {
				fmt.Fprintf(&b, `<a href="/p/%d">%d.%d</a> `, i, round, i)
			}
		}
		b.WriteString(`<a href="/p/0#top">top</a><a href=" /p/0">space</a>`)
		p := parseTestPage(t, b.String(), Options{})
		if len(p.Links) != 2*distinct+2 {
			t.Fatalf("%d hrefs: %d links, want %d", distinct, len(p.Links), 2*distinct+2)
		}
		for i := range distinct {
			first, again := p.Links[i], p.Links[distinct+i]
			if first.URL != again.URL {
				t.Errorf("%d hrefs: links %d and %d to %v do not share a URL", distinct, i, distinct+i, first.URL)
			}
			if i > 0 && first.URL == p.Links[0].URL {
				t.Errorf("%d hrefs: link %d to %v shares the URL of link 0", distinct, i, first.URL)
			}
		}
		for _, l := range p.Links[2*distinct:] {
			if l.URL == p.Links[0].URL {
				t.Errorf("%d hrefs: link %q to %v shares the URL of href /p/0", distinct, l.Text, l.URL)
			}
		}
	}
}

func TestHTMLLinks(t *testing.T) {
	a := func(u, text string) testLink { return testLink{URL: u, Text: text, Tag: "a"} }
	tests := []struct {
		name string
		body string
		want []testLink
	}{
		{"parent directory", `<a href="../up">x</a>`, []testLink{a("https://example.com/up", "x")}},
		{"dot segments", `<a href="./a/../b/./c">x</a>`, []testLink{a("https://example.com/dir/b/c", "x")}},
		{"too many dot segments", `<a href="../../../../r">x</a>`, []testLink{a("https://example.com/r", "x")}},
		{"protocol relative", `<a href="//other.org/p">x</a>`, []testLink{a("https://other.org/p", "x")}},
		{"query only", `<a href="?q=2">x</a>`, []testLink{a("https://example.com/dir/page.html?q=2", "x")}},
		{"fragment only", `<a href="#frag">x</a>`, []testLink{a("https://example.com/dir/page.html?x=1#frag", "x")}},
		{"fragment kept", `<a href="/p#Sec%20tion">x</a>`, []testLink{a("https://example.com/p#Sec%20tion", "x")}},
		{"absolute", `<a href="HTTP://Example.ORG/A?B">x</a>`, []testLink{a("http://Example.ORG/A?B", "x")}},
		{"surrounding whitespace", "<a href=\" \n\t/trim \f\">x</a>", []testLink{a("https://example.com/trim", "x")}},
		{"inner newlines and tabs removed", "<a href=\"/a\nb\tc\r\">x</a>", []testLink{a("https://example.com/abc", "x")}},
		{"inner space escaped", `<a href="/a b">x</a>`, []testLink{a("https://example.com/a%20b", "x")}},
		{"backslashes", `<a href="\path\to?a\b">x</a>`, []testLink{a(`https://example.com/path/to?a\b`, "x")}},
		{"stray percent", `<a href="/100%/x%zz">x</a>`, []testLink{a("https://example.com/100%25/x%25zz", "x")}},
		{"entities in href", `<a href="/s?a=1&amp;b=2&c=3">x</a>`, []testLink{a("https://example.com/s?a=1&b=2&c=3", "x")}},
		{"non-ASCII path", `<a href="/caf&eacute;">x</a>`, []testLink{a("https://example.com/caf%C3%A9", "x")}},
		{"other scheme kept", `<a href="ftp://files.example.com/f">x</a>`, []testLink{a("ftp://files.example.com/f", "x")}},
		{"dropped", `<a href="">e</a><a href="  ">s</a><a>none</a><a href="javascript:alert(1)">j</a>` +
			`<a href="JavaScript:void(0)">J</a><a href="java&#10;script:x">n</a><a href="mailto:a@example.com">m</a>` +
			`<a href="tel:+15551234">t</a><a href="data:text/html,hi">d</a><a href="http://[::1">bad</a>` +
			`<a href="http://">nohost</a><a href="http:">nohost2</a><a href="/kept">k</a>`,
			[]testLink{a("https://example.com/kept", "k")}},
		{"same scheme without host is the page", `<a href="https:">self</a>`, []testLink{a(testPageURL, "self")}},
		{"duplicates kept", `<a href="/d">1</a><a href="/d">2</a>`,
			[]testLink{a("https://example.com/d", "1"), a("https://example.com/d", "2")}},
		{"rel nofollow", `<a href="/n" rel="NoFollow">x</a>`,
			[]testLink{{URL: "https://example.com/n", Text: "x", Rel: "nofollow", Nofollow: true, Tag: "a"}}},
		{"rel ugc", `<a href="/u" rel="ugc">x</a>`,
			[]testLink{{URL: "https://example.com/u", Text: "x", Rel: "ugc", Nofollow: true, Tag: "a"}}},
		{"rel sponsored among others", `<a href="/s" rel=" noopener  Sponsored ">x</a>`,
			[]testLink{{URL: "https://example.com/s", Text: "x", Rel: "noopener sponsored", Nofollow: true, Tag: "a"}}},
		{"rel without nofollow", `<a href="/f" rel="noopener noreferrer">x</a>`,
			[]testLink{{URL: "https://example.com/f", Text: "x", Rel: "noopener noreferrer", Tag: "a"}}},
		{"rel nofollowed is not nofollow", `<a href="/f" rel="nofollowed">x</a>`,
			[]testLink{{URL: "https://example.com/f", Text: "x", Rel: "nofollowed", Tag: "a"}}},
		{"base applies to earlier links", `<a href="p">x</a><base href="https://b.example/d/">`,
			[]testLink{a("https://b.example/d/p", "x")}},
		{"relative base", `<base href="/b/"><a href="p">x</a><a href="../q">y</a>`,
			[]testLink{a("https://example.com/b/p", "x"), a("https://example.com/q", "y")}},
		{"invalid base", `<base href="http://[bad"><a href="p">x</a>`,
			[]testLink{a("https://example.com/dir/p", "x")}},
		{"area", `<map name=m><area href="/area" alt=" Area  one " rel=nofollow></map>`,
			[]testLink{{URL: "https://example.com/area", Text: "Area one", Rel: "nofollow", Nofollow: true, Tag: "area"}}},
		{"link elements", `<link rel=alternate hreflang=de href="/de"><link rel=next href="?page=2">` +
			`<link rel=prev href="?page=0"><link rel=stylesheet href="/s.css"><link rel="alternate stylesheet" href="/alt.css">` +
			`<link rel=icon href="/i.ico"><link rel=canonical href="/c"><link rel=preload href="/p.js"><link rel=next>`,
			[]testLink{
				{URL: "https://example.com/de", Rel: "alternate", Tag: "link"},
				{URL: "https://example.com/dir/page.html?page=2", Rel: "next", Tag: "link"},
				{URL: "https://example.com/dir/page.html?page=0", Rel: "prev", Tag: "link"},
			}},
		{"iframe", `<p><iframe src="/embed/1">fallback <a href="/no">no</a></iframe><iframe></iframe>`,
			[]testLink{{URL: "https://example.com/embed/1", Tag: "iframe"}}},
		{"frames", `<frameset><frame src="top.html"><frame src="javascript:''"><frame src="main.html"></frameset>`,
			[]testLink{{URL: "https://example.com/dir/top.html", Tag: "frame"}, {URL: "https://example.com/dir/main.html", Tag: "frame"}}},
		{"document order", `<link rel=next href=/1><a href=/2>2</a><iframe src=/3></iframe><map><area href=/4></map>`,
			[]testLink{{URL: "https://example.com/1", Rel: "next", Tag: "link"}, a("https://example.com/2", "2"),
				{URL: "https://example.com/3", Tag: "iframe"}, {URL: "https://example.com/4", Tag: "area"}}},
		{"anchor text collapsed", "<a href=/t>  Hello <b>big</b>\n\t world  </a>", []testLink{a("https://example.com/t", "Hello big world")}},
		{"anchor text inline joins", "<a href=/t>foo<b>bar</b></a>", []testLink{a("https://example.com/t", "foobar")}},
		{"anchor text blocks separate", "<a href=/t><div>one</div><div>two</div>three<br>four</a>", []testLink{a("https://example.com/t", "one two three four")}},
		{"anchor text skips script", "<a href=/t>x<script>var y</script><style>.z{}</style></a>", []testLink{a("https://example.com/t", "x")}},
		{"anchor image alt", `<a href=/i><img src=a.png alt=""><img src=l.png alt=" Logo "></a>`, []testLink{a("https://example.com/i", "Logo")}},
		{"anchor text beats alt", `<a href=/i><img alt=Logo> Home</a>`, []testLink{a("https://example.com/i", "Home")}},
		{"anchor nbsp", "<a href=/t>a&nbsp;&nbsp;b</a>", []testLink{a("https://example.com/t", "a b")}},
		{"anchor text capped", "<a href=/t>" + strings.Repeat("é", 300) + "</a>", []testLink{a("https://example.com/t", strings.Repeat("é", 256))}},
		{"anchor text capped mid-word", "<a href=/t>" + strings.Repeat("ab ", 100) + "</a>",
			[]testLink{a("https://example.com/t", strings.Repeat("ab ", 85)+"a")}},
		{"template ignored", `<template><a href="/tpl">t</a></template><a href="/real">r</a>`, []testLink{a("https://example.com/real", "r")}},
		{"noscript kept", `<noscript><a href="/ns">ns</a></noscript>`, []testLink{a("https://example.com/ns", "ns")}},
		{"noscript in head kept", `<head><noscript><link rel=alternate href="/alt"></noscript></head>`,
			[]testLink{{URL: "https://example.com/alt", Rel: "alternate", Tag: "link"}}},
		{"svg links ignored", `<svg><a href="/svg"><text>s</text></a></svg><a href="/html">h</a>`, []testLink{a("https://example.com/html", "h")}},
		{"nested anchors split", `<a href=/1>one<a href=/2>two</a></a>`,
			[]testLink{a("https://example.com/1", "one"), a("https://example.com/2", "two")}},
		{"link in table", `<table><tr><td><a href=/cell>c</a></table>`, []testLink{a("https://example.com/cell", "c")}},
		{"foster parented link", `<table><a href=/f>f</a><tr><td>x</table>`, []testLink{a("https://example.com/f", "f")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{})
			if diff := cmp.Diff(tt.want, testLinks(p.Links)); diff != "" {
				t.Errorf("HTML(%q) links differ (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestHTMLMalformed(t *testing.T) {
	deep := func(open string, n int) string {
		return "<title>Deep</title>" + strings.Repeat(open, n) + `<a href="/bottom">bottom</a>`
	}
	tests := []struct {
		name      string
		body      string
		title     string
		wantLinks []string // a subset, in order
	}{
		{"unclosed tags", `<title>T</title><div><p><a href=/a>one<a href=/b>two<ul><li>x<li><a href=/c>three`, "T",
			[]string{"https://example.com/a", "https://example.com/b", "https://example.com/c"}},
		{"stray end tags", `</a></div></p></body></html><title>T</title></title><a href=/x>x`, "T", []string{"https://example.com/x"}},
		{"unterminated attribute", `<title>T</title><a href="/never-closed>text`, "T", nil},
		{"unterminated tag", `<title>T</title><a href=/ok>ok</a><a href="/x"`, "T", []string{"https://example.com/ok"}},
		{"unterminated comment", `<title>T</title><a href=/ok>ok</a><!-- <a href=/hidden>`, "T", []string{"https://example.com/ok"}},
		{"garbage bytes", "<title>T\xff\xfe</title>\x00\x01<<>>&&&#xdeadbeef;&#0;<a href=/g\xff>\xfe\xfd</a>", "T\uFFFD\uFFFD",
			[]string{"https://example.com/g%FF"}},
		{"NUL in tags", "<title>T</title><a\x00 href=/n>x</a><a href=/m\x00>y</a>", "T", nil},
		{"binary", strings.Repeat("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 200), "", nil},
		{"mismatched formatting", "<title>T</title><b><i><a href=/f>x</b></i></a><p>tail", "T", []string{"https://example.com/f"}},
		{"misnested table", "<title>T</title><table><tr><a href=/t1>x</a><td><table><a href=/t2>y</table>", "T",
			[]string{"https://example.com/t1", "https://example.com/t2"}},
		{"deep div", deep("<div>", 100000), "Deep", []string{"https://example.com/bottom"}},
		{"deep span", deep("<span>", 20000), "Deep", []string{"https://example.com/bottom"}},
		{"deep table", deep("<table><tr><td>", 5000), "Deep", []string{"https://example.com/bottom"}},
		{"deep formatting", deep("<b><i><u>", 5000), "Deep", []string{"https://example.com/bottom"}},
		{"deep distinct formatting", deep(`<font size=1><font size=2><font size=3><font size=4>`, 5000), "Deep", []string{"https://example.com/bottom"}},
		{"deep anchors", "<title>Deep</title>" + strings.Repeat(`<a href="/n">n`, 10000), "Deep", []string{"https://example.com/n"}},
		{"deep svg", deep("<svg><g>", 10000), "Deep", nil},
		{"deep lists", deep("<ul><li>", 10000), "Deep", []string{"https://example.com/bottom"}},
		{"deep closed divs", "<title>Deep</title>" + strings.Repeat("<div>", 20000) + strings.Repeat("</div>", 20000) + `<a href="/after">a</a>`,
			"Deep", []string{"https://example.com/after"}},
		{"deep div after foster parenting", "<table>stray<tr><td>c</table>" + deep("<div>", 100000), "Deep", []string{"https://example.com/bottom"}},
		{"foster parenting deep down", deep("<div>", 100000) + "<table>stray<a href=/f>f</a><tr><td>c</table>", "Deep",
			[]string{"https://example.com/bottom", "https://example.com/f"}},
		{"misnested link deep down", deep("<span>", 20000) + "<a href=/m>x<div>y</a>", "Deep",
			[]string{"https://example.com/bottom", "https://example.com/m"}},
		{"many attributes", `<title>T</title><a ` + strings.Repeat(`x=1 `, 20000) + `href=/attrs>a</a>`, "T", []string{"https://example.com/attrs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{StructuredData: true, MainText: true, Tree: true})
			if p.Title != tt.title {
				t.Errorf("HTML(%.60q).Title = %q, want %q", tt.body, p.Title, tt.title)
			}
			got := make([]string, 0, len(p.Links))
			for _, l := range p.Links {
				if !l.URL.IsAbs() {
					t.Errorf("HTML(%.60q) link %q is not absolute", tt.body, l.URL)
				}
				got = append(got, l.URL.String())
			}
			i := 0
			for _, u := range got {
				if i < len(tt.wantLinks) && u == tt.wantLinks[i] {
					i++
				}
			}
			if i < len(tt.wantLinks) {
				t.Errorf("HTML(%.60q) links = %.10q, want them to include %q in order", tt.body, got, tt.wantLinks)
			}
			if p.Doc == nil || len(cascadia.QueryAll(p.Doc, cascadia.MustCompile("html"))) != 1 {
				t.Errorf("HTML(%.60q).Doc has no <html> element", tt.body)
			}
		})
	}
}

// TestFlattenLastResort checks the fallback used to build the tree when
// even a flattened document nests too deeply: text, links and metadata
// survive for extraction rules.
func TestFlattenLastResort(t *testing.T) {
	body := `<html lang=en><title>T &amp; U</title><script type="application/ld+json">{"a":"<b>"}</script>` +
		strings.Repeat(`<div><table><tr><td><b>`, 5000) + `<p>text <a href="/one">one<a href="/two">two</a> after` +
		`<noscript><a href="/ns">ns</a></noscript><img src=x.png><textarea><a href=/no></textarea>`
	flat := flatten([]byte(body), false)
	root, err := parseDocument(flat)
	if err != nil {
		t.Fatalf("parseDocument(flatten(...)) error: %v", err)
	}
	title, lang := nodeText(queryOne(root, "title")), attrOf(queryOne(root, "html"), "lang")
	scripts := len(cascadia.QueryAll(root, cascadia.MustCompile(`script[type="application/ld+json"]`)))
	text := strings.Join(strings.Fields(nodeText(queryOne(root, "body"))), " ")
	if title != "T & U" || lang != "en" || scripts != 1 || !strings.HasPrefix(text, "text onetwo after ns") {
		t.Errorf("flattened tree = title %q, lang %q, %d JSON-LD, text %q; want %q, %q, 1, text starting %q",
			title, lang, scripts, text, "T & U", "en", "text onetwo after ns")
	}
	var links []string
	for _, a := range cascadia.QueryAll(root, cascadia.MustCompile("a")) {
		links = append(links, attrOf(a, "href")+" "+nodeText(a))
	}
	if want := []string{"/one one", "/two two", "/ns ns"}; !slices.Equal(links, want) {
		t.Errorf("flattened tree links = %q, want %q", links, want)
	}
}

func TestHTMLRejectsRelativePageURL(t *testing.T) {
	for _, u := range []*url.URL{nil, {Path: "/relative"}} {
		if _, err := HTML(u, []byte("<p>x"), Options{}); err == nil {
			t.Errorf("HTML(%v, ...) error = nil, want an error", u)
		}
	}
}

// TestHTMLDoc checks that the returned document is usable for selectors.
func TestHTMLDoc(t *testing.T) {
	p := parseTestPage(t, `<ul><li class=item>a</li><li class=item>b</li></ul><noscript><p id=ns>n</p></noscript>`, Options{Tree: true})
	if got := len(cascadia.QueryAll(p.Doc, cascadia.MustCompile("li.item"))); got != 2 {
		t.Errorf(`li.item matches %d elements, want 2`, got)
	}
	if got := nodeText(queryOne(p.Doc, "#ns")); got != "n" {
		t.Errorf(`#ns has text %q, want "n"`, got)
	}
	if p.URL == nil || p.URL.String() != testPageURL {
		t.Errorf("URL = %v, want %s", p.URL, testPageURL)
	}
}

// queryOne returns the first element under n that sel matches, or nil.
func queryOne(n *html.Node, sel string) *html.Node {
	return cascadia.Query(n, cascadia.MustCompile(sel))
}

// nodeText returns the text of the text nodes under n.
func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n == nil {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// attrOf returns the value of n's attribute key, or "".
func attrOf(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// goldenPage is the JSON form of a Page kept in testdata.
type goldenPage struct {
	Encoding      string            `json:"encoding"`
	Title         string            `json:"title"`
	Description   string            `json:"description"`
	Canonical     string            `json:"canonical"`
	MetaRobots    string            `json:"meta_robots"`
	NoIndex       bool              `json:"noindex"`
	NoFollow      bool              `json:"nofollow"`
	Lang          string            `json:"lang"`
	Base          string            `json:"base"`
	Links         []testLink        `json:"links"`
	JSONLD        []json.RawMessage `json:"json_ld"`
	InvalidJSONLD int               `json:"invalid_json_ld"`
	OpenGraph     map[string]string `json:"open_graph"`
	Twitter       map[string]string `json:"twitter"`
	MainText      string            `json:"main_text"`
}

// TestGolden parses each testdata/html/*.html page (decoded with ToUTF8)
// and compares the facts with the .golden.json file beside it. Run with
// -update to rewrite the golden files.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "html", "*.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden inputs in testdata/html")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			body, encName := ToUTF8(raw, "text/html")
			pageURL := "https://news.example.com/technology/2024/05/" + strings.TrimSuffix(filepath.Base(file), ".html") + "?utm_source=feed"
			o := Options{StructuredData: true, MainText: true}
			p, err := HTML(mustParseURL(t, pageURL), body, o)
			if err != nil {
				t.Fatalf("HTML(%s): %v", file, err)
			}
			checkTreeIndependent(t, mustParseURL(t, pageURL), body, o, p)
			g := goldenPage{
				Encoding: encName, Title: p.Title, Description: p.Description, Canonical: p.Canonical,
				MetaRobots: p.MetaRobots, NoIndex: p.NoIndex(), NoFollow: p.NoFollow(), Lang: p.Lang,
				Base: p.Base.String(), Links: testLinks(p.Links), JSONLD: p.JSONLD, InvalidJSONLD: p.InvalidJSONLD,
				OpenGraph: p.OpenGraph, Twitter: p.Twitter, MainText: p.MainText,
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := strings.TrimSuffix(file, ".html") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("facts of %s differ from %s (-want +got):\n%s", file, golden, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// TestFactsIndependentOfTree checks that building the tree changes no fact
// for the documents of the seed corpus. (parseTestPage checks the same for
// every document of the table tests.)
func TestFactsIndependentOfTree(t *testing.T) {
	u := mustParseURL(t, testPageURL)
	for _, doc := range seedCorpus(t) {
		for _, o := range []Options{{}, {StructuredData: true, MainText: true}} {
			p, err := HTML(u, doc, o)
			if err != nil {
				t.Fatalf("HTML(%.60q) error: %v", doc, err)
			}
			checkTreeIndependent(t, u, doc, o, p)
		}
	}
}

// benchPage returns a realistic news article of about 30 KB with about 50
// links.
func benchPage() []byte {
	b, err := os.ReadFile(filepath.Join("testdata", "html", "news.html"))
	if err != nil {
		panic(err)
	}
	return b
}

func BenchmarkHTML(b *testing.B) {
	benchHTML(b, "https://news.example.com/technology/2024/05/crawlers-changing-web", benchPage(), 40, []benchOptions{
		{"links", Options{}},
		{"all", Options{StructuredData: true, MainText: true}},
		{"all+parser", Options{StructuredData: true, MainText: true}},
		{"links+tree", Options{Tree: true}},
		{"all+tree", Options{StructuredData: true, MainText: true, Tree: true}},
	})
}

// bigIndexPage returns a documentation contents page like the largest of
// the Python documentation (2.5 MB, 14,000-17,000 links): n links to
// sections of 500 documents, every href distinct, in lists nested in one
// list item per 500.
func bigIndexPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Python Documentation contents</title>
<link rel="stylesheet" href="_static/pygments.css" type="text/css">
<link rel="index" title="Index" href="genindex.html"><link rel="next" title="What's New" href="whatsnew/index.html">
</head><body><div class="body" role="main"><h1>Python Documentation contents</h1><ul>
`)
	for i := range n {
		doc, part := i%500, i/500
		if doc == 0 {
			if i > 0 {
				b.WriteString("</ul></li>\n")
			}
			fmt.Fprintf(&b, `<li class="toctree-l1"><a class="reference internal" href="part%d.html">Part %d</a><ul>`+"\n", part, part)
		}
		fmt.Fprintf(&b, `<li class="toctree-l2"><a class="reference internal" href="library/module%d.html#section-%d-%d">%d.%d. Section %d of the documentation of module %d</a></li>`+"\n",
			doc, part, i, doc, part, part, doc)
	}
	b.WriteString("</ul></li></ul></div></body></html>\n")
	return b.Bytes()
}

// BenchmarkHTMLBigIndex measures a page with 17,000 links (2.4 MB): the
// cost per link is that of the page divided by 17,000.
func BenchmarkHTMLBigIndex(b *testing.B) {
	const links = 17000
	benchHTML(b, "https://docs.example.com/3/contents.html", bigIndexPage(links), links, []benchOptions{
		{"links", Options{}},
		{"all", Options{StructuredData: true, MainText: true}},
	})
}

// benchOptions names a set of options a benchmark measures; a name that
// ends in +parser has the pages read by one Parser, as a crawler's worker
// reads them.
type benchOptions struct {
	name string
	opts Options
}

// benchHTML measures HTML on body, fetched from pageURL, with each set of
// options, checking that it finds at least minLinks links.
func benchHTML(b *testing.B, pageURL string, body []byte, minLinks int, sets []benchOptions) {
	u, err := url.Parse(pageURL)
	if err != nil {
		b.Fatal(err)
	}
	for _, set := range sets {
		b.Run(set.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var ps *Parser
			if strings.HasSuffix(set.name, "+parser") {
				ps = new(Parser)
			}
			for b.Loop() {
				p, err := ps.HTML(u, body, set.opts)
				if err != nil || len(p.Links) < minLinks {
					b.Fatalf("HTML: %d links, err %v", len(p.Links), err)
				}
			}
		})
	}
}

// BenchmarkHTMLDeep measures a document nested far beyond the parser's
// limit. The facts are read in one pass at any depth; the tree is built
// from a flattened document, parsed a second time.
func BenchmarkHTMLDeep(b *testing.B) {
	body := []byte("<title>Deep</title>" + strings.Repeat("<div>", 100000) + `<a href="/bottom">bottom</a>`)
	u, err := url.Parse(testPageURL)
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name string
		opts Options
	}{
		{"facts", Options{MainText: true}},
		{"tree", Options{MainText: true, Tree: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := HTML(u, body, bb.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestLinkSize: a Link fits in 64 bytes, a cache line, with its two flags
// together after the strings. A page of 17,000 links holds 17,000 of them.
func TestLinkSize(t *testing.T) {
	if got := reflect.TypeFor[Link]().Size(); got > 64 {
		t.Errorf("Link is %d bytes, want at most 64", got)
	}
}
