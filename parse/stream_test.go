package parse

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStreamStructure checks that facts read from the token stream follow
// the structure the HTML parser gives a document, where it matters to them:
// implied and ignored tags, foreign content, templates, framesets and
// reopened formatting elements.
func TestStreamStructure(t *testing.T) {
	type facts struct {
		Title    string
		Links    []string // URL and text
		MainText string
	}
	tests := []struct {
		name string
		body string
		want facts
	}{
		{"text before body", `<head><title>T</title></head>before<body>after`, facts{Title: "T", MainText: "beforeafter"}},
		{"text after body", `<p>in</p></body>after</html>more`, facts{MainText: "in aftermore"}},
		{"title in body", `<body><p>x</p><title>T</title>`, facts{Title: "T", MainText: "x"}},
		{"unmatched end tags ignored", `<div>a</span>b</div></p>c`, facts{MainText: "ab c"}},
		{"void elements", `<a href=/v>x<br>y<img alt=I>z</a>`, facts{Links: []string{"/v x yz"}, MainText: "x yz"}},
		{"unclosed at end", `<div><a href=/u>open`, facts{Links: []string{"/u open"}, MainText: "open"}},
		{"block closes hidden paragraph", `<p hidden>secret<div>shown</div>`, facts{MainText: "shown"}},
		{"list item closes hidden item", `<ul><li hidden>a<li>b</ul>`, facts{MainText: "b"}},
		{"cell closes hidden cell", `<table><tr><td hidden>a<td>b</table>`, facts{MainText: "b"}},
		{"link goes on after block", `<p><a href=/c>one</p><p>two</a>`, facts{Links: []string{"/c one", "/c two"}, MainText: "one two"}},
		{"hidden formatting goes on", `<p><b hidden>x</p><p>y</p>z`, facts{}},
		{"block ends svg", `<svg><p><a href=/h>h</a>`, facts{Links: []string{"/h h"}, MainText: "h"}},
		{"br end tag ends svg", `<svg></br><title>T</title>`, facts{Title: "T"}},
		{"p end tag ends math", `<math></p><title>T</title>`, facts{Title: "T"}},
		{"reopened font closes svg", `<p><font>x</p><svg></font><title>T</title>`, facts{Title: "T", MainText: "x"}},
		{"svg title is no title", `<svg><title>S</title><foreignObject><title>F</title></foreignObject></svg><title>T</title>`, facts{Title: "T"}},
		{"math text is visible", `<p>a<math><mi>x</mi><mo>=</mo></math>b`, facts{MainText: "a x = b"}},
		{"table text of hidden table", `<table hidden>foster<tr><td>cell</table>`, facts{MainText: "foster"}},
		{"links in select", `<select><option><a href=/o>o</a></select>`, facts{Links: []string{"/o o"}}},
		{"head noscript text is body text", `<head><noscript>Enable JS</noscript></head><p>x`, facts{MainText: "Enable JS x"}},
		{"plaintext", `<a href=/p>x<plaintext><a href=/no>`, facts{Links: []string{"/p x <a href=/no>"}, MainText: "x <a href=/no>"}},
		{"xmp and textarea", `<xmp><b>shown</b></xmp><textarea>typed</textarea>`, facts{MainText: "<b>shown</b>"}},
		{"frameset drops the body", `<a href=/gone></a><title>T</title><frameset><frame src=/f><a href=/no>`, facts{Links: []string{"/f "}}},
		{"frameset after text ignored", `x<frameset><frame src=/f>`, facts{MainText: "x"}},
		{"template content ignored", `<template><title>T</title><a href=/t>t</a><main>m</main></template><p>x`, facts{MainText: "x"}},
		{"main in hidden element is no candidate", `<div hidden><main>h</main></div><p>body`, facts{MainText: "body"}},
		{"main in noscript is no candidate", `<body><noscript><main>n</main></noscript><p>body`, facts{MainText: "body"}},
		{"head noscript holds no main", `<noscript><main>n</main></noscript><p>body`, facts{MainText: "n"}},
		{"article in hidden element is no candidate", `<div hidden><article>h</article></div><p>body`, facts{MainText: "body"}},
		{"nested links across cells", `<a href=/out>o<table><tr><td><a href=/in>i</a></table></a>`,
			facts{Links: []string{"/out o i", "/in i"}, MainText: "o i"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{MainText: true})
			got := facts{Title: p.Title, MainText: p.MainText}
			for _, l := range p.Links {
				got.Links = append(got.Links, strings.TrimPrefix(l.URL.String(), "https://example.com")+" "+l.Text)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("HTML(%q) facts differ (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// manyAttrs returns n attributes with distinct names.
func manyAttrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d=%d", i, i)
	}
	return b.String()
}

// TestStreamAdversarial reads documents built to make the work per token
// grow with the number of open elements, and checks their facts. Were that
// work not bounded, each would take minutes.
func TestStreamAdversarial(t *testing.T) {
	const n = 20000
	tests := []struct {
		name      string
		body      string
		links     int
		lastLink  string // text of the last link
		mainStart string
	}{
		{"links nested across objects", strings.Repeat("<object><a href=/x>x", n), n, "x", ""},
		{"links nested across cells", strings.Repeat("<table><tr><td><a href=/x>x", n), n, "x", "x x x"},
		{"formatting end tags under blocks", strings.Repeat("<b>", 100) + strings.Repeat("<div>", n) + strings.Repeat("</b>x", n), 0, "", "xxx"},
		{"unmatched end tags under inline elements", strings.Repeat("<span>", n) + strings.Repeat("</x>y", n), 0, "", "yyy"},
		{"unmatched end tags in svg", "<svg>" + strings.Repeat("<g>", n) + strings.Repeat("</x>", n) + "<p>z", 0, "", "z"},
		{"list items under divs", "<ul>" + strings.Repeat("<div>", n) + strings.Repeat("<li>w", n), 0, "", "w w w"},
		{"distinct formatting elements", strings.Repeat(`<font size=1><font size=2><font size=3><font size=4>`, n/4) + strings.Repeat("</font>f", n), 0, "", "ffff"},
		{"hidden forms", strings.Repeat("<form hidden><div>", n) + strings.Repeat("</form>", n) + "v", 0, "", ""},
		// What the tokenizer reads byte by byte, or compares with what it
		// read before.
		{"attributes", "<a href=/x" + strings.Repeat(" b", n) + manyAttrs(n) + ">t</a>", 1, "t", "t"},
		{"attribute value", `<a href="/` + strings.Repeat("x", 50*n) + `">t</a>`, 1, "t", "t"},
		{"references in a value", `<a href="/` + strings.Repeat("&amp;&#x26;&notit;", n) + `">t</a>`, 1, "t", "t"},
		{"long reference names", "<p>&" + strings.Repeat("a", 50*n) + " <a title=&" + strings.Repeat("b", 50*n) + " href=/x>t</a>", 1, "t", "&aaa"},
		{"unterminated comment", "<a href=/x>t</a><!--" + strings.Repeat("-!", 10*n), 1, "t", "t"},
		{"unterminated tag", "<p>p<a href=/x " + strings.Repeat(`a="b" `, 10*n), 0, "", "p"},
		{"script escapes", "<script><!--" + strings.Repeat("<script></scrip<script/-->", n) + "</script><p>s", 0, "", "s"},
		{"raw text end tags", "<title>" + strings.Repeat("</titl</tit", n) + "</title><p>w", 0, "", "w"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := HTML(mustParseURL(t, testPageURL), []byte(tt.body), Options{MainText: true})
			if err != nil {
				t.Fatalf("HTML error: %v", err)
			}
			last := ""
			if len(p.Links) > 0 {
				last = p.Links[len(p.Links)-1].Text
			}
			if len(p.Links) != tt.links || last != tt.lastLink || !strings.HasPrefix(p.MainText, tt.mainStart) {
				t.Errorf("HTML(%.40q...) = %d links, last %q, main text %.20q; want %d, %q, text starting %q",
					tt.body, len(p.Links), last, p.MainText, tt.links, tt.lastLink, tt.mainStart)
			}
		})
	}
}

// TestLinkTextCut: anchor text past 256 runes is cut, and the link says so.
func TestLinkTextCut(t *testing.T) {
	for _, tt := range []struct {
		body string
		cut  bool
	}{
		{`<a href=/a>` + strings.Repeat("é", 256) + `</a>`, false},
		{`<a href=/a>` + strings.Repeat("é", 257) + `</a>`, true},
		{`<map><area href=/m alt="` + strings.Repeat("x", 300) + `"></map>`, true},
	} {
		p, err := HTML(mustParseURL(t, testPageURL), []byte(tt.body), Options{})
		if err != nil || len(p.Links) != 1 {
			t.Fatalf("HTML(%.30q) = %v, %v", tt.body, p, err)
		}
		if l := p.Links[0]; l.TextCut != tt.cut || len([]rune(l.Text)) > 256 {
			t.Errorf("HTML(%.30q...): %d runes, TextCut %v; want at most 256, %v", tt.body, len([]rune(l.Text)), l.TextCut, tt.cut)
		}
	}
}
