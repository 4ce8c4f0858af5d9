package parse

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCollapseSpace(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{"a b", "a b"},
		{"  a  ", "a"},
		{"a  b", "a b"},
		{"a\tb\nc\r\nd\fe\vf", "a b c d e f"},
		{"\u00a0a\u2003b\u3000", "a b"},
		{" \n\t ", ""},
		{"caf\u00e9  bar", "caf\u00e9 bar"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
	}
	for _, tt := range tests {
		if got := collapseSpace(tt.in); got != tt.want {
			t.Errorf("collapseSpace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMainText(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"body", `<p>Hello   <b>bold</b>world</p><p>Second</p>`, "Hello boldworld Second"},
		{"body without chrome", `<header>Site</header><nav>Menu</nav><div>Story</div><aside>Ads</aside><footer>(c)</footer>`, "Story"},
		{"invisible left out", `<head><title>T</title><style>p{}</style></head><body><script>x()</script>` +
			`<noscript>Enable JS</noscript><template>tpl</template><svg><text>svg</text></svg><p>Visible</p>` +
			`<div hidden>Hidden</div><select><option>Opt</select><textarea>Typed</textarea>`, "Visible"},
		{"main preferred", `<header>Site</header><main><h1>Title</h1><nav>Crumbs</nav><p>Body</p></main><article>Other</article>`, "Title Body"},
		{"main keeps its header", `<main><header><h1>Head</h1></header><p>Text</p><footer>By me</footer></main>`, "Head Text By me"},
		{"first main only", `<main>One</main><main>Two</main>`, "One"},
		{"hidden main skipped", `<main hidden>Old</main><main>New</main>`, "New"},
		{"articles", `<nav>n</nav><article><h2>A</h2><aside>x</aside><p>a</p></article><div>between</div><article>B</article>`, "A a B"},
		{"nested articles once", `<article>Outer <article>Inner</article></article>`, "Outer Inner"},
		{"blocks separate words", `<div>a</div><div>b</div>c<br>d<li>e</li><td>f`, "a b c d e f"},
		{"inline joins", `<span>un</span><em>broken</em>`, "unbroken"},
		{"entities", `<p>Fish &amp; chips&nbsp;&mdash; &lt;tag&gt;</p>`, "Fish & chips \u2014 <tag>"},
		{"frameset", `<frameset><frame src=a></frameset>`, ""},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{MainText: true})
			if p.MainText != tt.want {
				t.Errorf("HTML(%q).MainText = %q, want %q", tt.body, p.MainText, tt.want)
			}
		})
	}
}

func TestMainTextCap(t *testing.T) {
	word := "\u00e9t\u00e9 " // 6 bytes
	body := "<p>" + strings.Repeat(word, (maxMainTextBytes/len(word))+1000) + "</p>"
	p := parseTestPage(t, body, Options{MainText: true})
	if len(p.MainText) > maxMainTextBytes || len(p.MainText) < maxMainTextBytes-len(word) {
		t.Errorf("len(MainText) = %d, want at most and about %d", len(p.MainText), maxMainTextBytes)
	}
	if !utf8.ValidString(p.MainText) {
		t.Errorf("capped MainText is not valid UTF-8")
	}
	if p2 := parseTestPage(t, body, Options{}); p2.MainText != "" {
		t.Errorf("MainText without Options.MainText = %.20q..., want empty", p2.MainText)
	}
}

// TestTextBufWrite checks textBuf.write against the rule it implements,
// rune by rune, on every string of up to 6 telling bytes, written in one
// piece and in two.
func TestTextBufWrite(t *testing.T) {
	alphabet := []byte{'a', ' ', '\n', 0x7f, 0x1f, 0xc3, 0xa9, 0x80}
	want := func(b []byte) string {
		var out []rune
		space := false
		for _, r := range string(b) {
			switch {
			case unicode.IsSpace(r):
				space = true
			default:
				if space && len(out) > 0 {
					out = append(out, ' ')
				}
				space = false
				out = append(out, r)
			}
		}
		return string(out)
	}
	b := make([]byte, 0, 6)
	var rec func()
	rec = func() {
		w := want(b)
		for split := 0; split <= len(b); split += max(1, len(b)) {
			var tb textBuf
			tb.write(b[:split])
			tb.write(b[split:])
			if got := tb.String(); got != w {
				t.Fatalf("write(%q) in two at %d = %q, want %q", b, split, got, w)
			}
		}
		if len(b) == cap(b) {
			return
		}
		for _, c := range alphabet {
			b = append(b, c)
			rec()
			b = b[:len(b)-1]
		}
	}
	rec()
	// Longer strings, whose runs are read 8 bytes at a time.
	r := rand.New(rand.NewPCG(1, 2))
	long := make([]byte, 40)
	for range 100000 {
		for i := range long {
			const chars = "aaaaaaaa  \n\x7f\xc3\xa9"
			long[i] = chars[r.IntN(len(chars))]
		}
		var tb textBuf
		tb.write(long)
		if got, w := tb.String(), want(long); got != w {
			t.Fatalf("write(%q) = %q, want %q", long, got, w)
		}
	}
	for _, s := range []string{
		"Words of a sentence, and more words; then some more words.",
		"two  spaces in a long enough line\nand a newline, then a tab\there",
		"a trailing space before a newline in a long line \nnext line",
		"non-ASCII caf\u00e9 in a long line of words, and \x7f\x1f too",
	} {
		var tb textBuf
		tb.write([]byte(s))
		if got, w := tb.String(), want([]byte(s)); got != w {
			t.Errorf("write(%q) = %q, want %q", s, got, w)
		}
	}
}
