package parse

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/net/html"
)

// This file checks the facts HTML reads from the token stream against the
// facts readTree reads from the tree html.Parse builds, for documents
// within maxDiffDepth: the stream reader reimplements tree construction,
// and this is what keeps it honest. readTree applies the definitions of
// Page's fields to the tree; it shares with the stream reader only what
// turns raw facts into Page values (URL resolution, whitespace collapsing,
// JSON-LD and social meta keys), none of which depends on structure.

// maxDiffDepth bounds the depth of the trees compared: the stream reader
// bounds its searches (maxScan) and the formatting elements it reopens
// (maxFormatting), and html.Parse gives up at 512 open elements.
const maxDiffDepth = 48

// treeFactsOf returns the facts of body as read from its html.Parse tree,
// or false when the tree is too deep to compare.
func treeFactsOf(pageURL *url.URL, body []byte, o Options) (*Page, bool) {
	root, err := html.ParseWithOptions(bytes.NewReader(body), html.ParseOptionEnableScripting(false))
	if err != nil || treeDepth(root) > maxDiffDepth {
		return nil, false
	}
	p := &Page{URL: pageURL, Base: pageURL}
	readTree(p, root, o)
	return p, true
}

// treeDepth returns the depth of the tree under n.
func treeDepth(n *html.Node) int {
	d := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		d = max(d, treeDepth(c))
	}
	return d + 1
}

// checkDifferential compares HTML's facts for body with the facts of its
// tree.
func checkDifferential(t *testing.T, body []byte) {
	t.Helper()
	pageURL, err := url.Parse("https://example.com/dir/page?q=1")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{StructuredData: true, MainText: true}
	p, err := HTML(pageURL, body, o)
	if err != nil {
		t.Fatalf("HTML(%q) error: %v", body, err)
	}
	checkTreeFacts(t, pageURL, body, o, p)
}

// checkTreeFacts checks, given p = HTML(u, body, o), that p holds the
// facts of body's tree.
func checkTreeFacts(t testing.TB, u *url.URL, body []byte, o Options, p *Page) {
	t.Helper()
	o.Tree = false
	want, ok := treeFactsOf(u, body, o)
	if !ok {
		return
	}
	if diff := factsDiff(want, p); diff != "" {
		t.Errorf("HTML(%q) facts differ from the tree's (-tree +stream):\n%s", body, diff)
	}
}

// FuzzHTMLFacts checks that the facts read from the token stream are the
// facts of the html.Parse tree. HTML reads UTF-8 (ToUTF8's output): bytes
// that are not become U+FFFD first, or the tree, which joins the text
// around an ignored tag, could join two halves of a character.
func FuzzHTMLFacts(f *testing.F) {
	for _, doc := range seedCorpus(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDifferential(t, bytes.ToValidUTF8(body, []byte("\uFFFD")))
	})
}

// TestHTMLFacts checks the facts of the differential seed corpus (which
// `go test` also runs as FuzzHTMLFacts's seeds) one by one, so that a
// divergence names its document.
func TestHTMLFactsDifferential(t *testing.T) {
	docs := seedCorpus(t)
	for _, doc := range docs {
		checkDifferential(t, doc)
	}
	t.Logf("%d documents", len(docs))
}

// seedCorpus returns the golden pages (decoded), the extraction rule test
// pages, FuzzHTML's seeds and the hostile documents below.
func seedCorpus(t testing.TB) [][]byte {
	var docs [][]byte
	for _, pattern := range []string{"testdata/html/*.html", "testdata/rules/*.html"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if f == filepath.Join("testdata", "html", "legacy-sjis.html") {
				b, _ = ToUTF8(b, "")
			}
			docs = append(docs, b)
		}
	}
	for _, s := range fuzzHTMLSeeds {
		docs = append(docs, []byte(s))
	}
	for _, s := range hostileDocs {
		docs = append(docs, []byte(s))
	}
	return docs
}

// hostileDocs exercise the corners of tree construction.
var hostileDocs = []string{
	`<a href=/u>x<div>y</a>z`,
	`<a href=/u><div>y</a>`,
	`<a href=/u><b>x<div>y</a>z</b>`,
	`<table><tr><td>a</td></tr>x<a href=/f>f</a></table>`,
	`p<table>x<tr><td>c</table>`,
	`<b hidden>x<main>y</b>z</main>`,
	`<div hidden><a href=/h>h</a></div><a href=/v>v<img hidden alt=A></a>`,
	`<p><b><i><a href=/c>one</p><p>two</a>`,
	`<svg><template><a href=/t>t</a></template></svg><a href=/after>a</a>`,
	`<math><mi><main>m</main></mi></math><article>a</article>`,
	`<frameset><noframes><a href=/n>n</a></noframes></frameset>`,
	`<select><option>a<a href=/o>o</a></select><textarea><a href=/no></textarea>`,
	`<form hidden><div>x</form>y`,
	`<nobr>a<nobr>b<nobr>c</nobr>`,
	`<table><caption><a href=/c>c</caption><tr><td><a href=/d>d</table>`,
	"<a href=/n>\x00x\x00<svg>\x00</svg></a>",
	`<ruby>a<rt>b</rt></ruby><dl><dt>t<dd>d</dl>`,
	`<head><noscript><meta name=description content=D><p>x</noscript>`,
	`<html lang=en><body><html lang=fr><title>T</title>`,
	`<object><a href=/1>1<object><a href=/2>2</object></a></object>`,
	`<table><colgroup><col><template><a href=/t>t</a></template></colgroup><caption>c<table>x</table></caption></table>`,
	`<table><tbody><tr><th>h<td>d<tr><td><select><option>o</select></table><p>after`,
	`<table><input type=hidden name=x><form><tr><td>in form</td></tr></form></table>`,
	`<select><optgroup><option>a<option>b</optgroup><hr><input></select><keygen>k`,
	`<template><tr><td>a</td></tr></template><template><col></template><template><td>d</template>x`,
	`<frameset><frame src=/a><frameset><frame src=/b></frameset><noframes>n</noframes></frameset><a href=/late>l</a>`,
	`<body><p>a<frameset><frame src=/f>`,
	`<button><p>a<button>b</button></button><p>c</p></br></p><p>d`,
	`<ul><li>a<li>b<ol><li>c</ol></ul><dl><dd>x<dt>y</dl><h1>t<h2>u</h1>`,
	`<svg><desc><p>d</p></desc><foreignObject><main>f</main></foreignObject><title>s</title></svg>`,
	`<math><annotation-xml encoding=text/html><div><a href=/m>m</a></div></annotation-xml><mtext><b>t</b></mtext></math>`,
	`<svg><font color=red>x</font><path/><p>y`,
	`<nav><main>m<nav>n</nav></main></nav><article><header>h</header><aside>a</aside>t</article>`,
	`<header><article>a</article></header><footer>f</footer><p>b`,
	`<div hidden><article>h</article></div><main hidden>m</main><main>n</main><main>o</main>`,
	`<a href=/x><img alt=" "><img alt=Y><span hidden><img alt=Z></span></a><a href=/e></a>`,
	`<p><a href=/r rel="NoFollow UGC">r</a><area href=/ar alt=A rel=sponsored><iframe src=/if></iframe><frame src=/fr>`,
	`<link rel=canonical href=""><link rel="canonical" href=/c><base><base href=""><base href=/b/>`,
	`<meta name=Robots content=NoIndex><meta name=robots content=" none "><meta property=og:Title content=t><meta name=twitter:card content=c property=og:x>`,
	`<script type="application/ld+json; charset=utf-8">{"a":1}</script><script type=application/LD+JSON></script><svg><script type=application/ld+json>{}</script></svg>`,
	`<head><noscript><link rel=alternate href=/n></noscript><style>a</style><template><meta name=description content=T></template></head><body><title>late</title>`,
	`<plaintext><a href=/no>`,
	`<xmp hidden>x</xmp><textarea>t</textarea><noembed>e</noembed><iframe>i</iframe><noframes>f</noframes>`,
	`<b><i><u><s><a href=/f>x</b>y</i>z</u>w`,
	`<a href=/1>1<table><a href=/2>2</table>`,
	`<table><td><a href=/c>c</td><td>d</a></table>`,
	`<object><p><a href=/o>o</object>after</a>`,
	`<marquee><a href=/m>m</marquee>`,
	`<p><font><font><font><font>x</p><p>y`,
	`<form><form hidden>x</form>y</form>z`,
	`<div><form hidden><span>a</div>b</form>c`,
	`<ruby><rb>a<rtc>b<rp>(<rt>c</ruby>`,
	`<a href=/1>x<math><mi><a href=/2>y</a></mi></math>z</a>`,
	`<a href=/1 hidden>x<svg><foreignObject><a href=/2>y</a></foreignObject></svg>z</a>w`,
	"<html hidden><body>x",
	"<body hidden>x<body>y",
	"<!DOCTYPE html><p>a<table>b",
	"<image alt=I src=/i><isindex><a href=/im><image alt=J></a>",
	`<a href=/i><img hidden alt=H><img alt=" "><img alt=V></a><a href=/j><span hidden><img alt=S></span></a>`,
	`<object><a href=/1><object><a href=/2><object><a href=/3><object><a href=/4><object><a href=/5><object><a href=/6>` +
		`<object><a href=/7><object><a href=/8><object><a href=/9>deep</a>`,
}

// TestParserReuse: a Parser reading the corpus one document after the
// other, forwards and backwards (so that every document meets buffers a
// longer or shorter one left behind), reads the facts HTML reads.
func TestParserReuse(t *testing.T) {
	pageURL, err := url.Parse("https://example.com/dir/page?q=1")
	if err != nil {
		t.Fatal(err)
	}
	docs := seedCorpus(t)
	for _, o := range []Options{{}, {MainText: true}, {StructuredData: true, MainText: true}} {
		var ps Parser
		for pass := range 2 {
			for i := range docs {
				if pass == 1 {
					i = len(docs) - 1 - i
				}
				want, err := HTML(pageURL, docs[i], o)
				if err != nil {
					t.Fatal(err)
				}
				got, err := ps.HTML(pageURL, docs[i], o)
				if err != nil {
					t.Fatal(err)
				}
				if diff := factsDiff(want, got); diff != "" {
					t.Fatalf("Parser.HTML(%q) after %d documents (-HTML +Parser):\n%s", docs[i], i, diff)
				}
			}
		}
	}
}
