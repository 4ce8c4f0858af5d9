package parse

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
	"unicode/utf8"
)

// fuzzHTMLSeeds are FuzzHTML's seed documents.
var fuzzHTMLSeeds = []string{
	"",
	"<title>t</title><a href=/a>a</a>",
	`<base href="../b/"><a href="c?d#e">x</a><link rel=canonical href="//h/p">`,
	`<a href="  java&#9;script:x">j</a><a href="\\x\\y">b</a><a href="%zz">p</a>`,
	`<meta name=robots content="NOINDEX"><meta property=og:title content=T><meta name=twitter:card content=c>`,
	`<script type="application/ld+json">[{"a":1}]</script><script type="application/ld+json">{</script>`,
	`<main><nav>n</nav><p>text</p></main><article>a</article>`,
	`<frameset><frame src=f></frameset><iframe src=i></iframe><map><area href=m alt=M></map>`,
	`<table><a href=/t>t</a><tr><td><svg><a href=/s>s</a></svg>`,
	"<div><div><div><div><div><div><div><div><div><div><div><div><div><div><div><div>",
	"<a href=\"\xff\xfe\">\x00\x80</a>",
	`<p><a href=/open>open<p>continued</a><b><a href=/b>x</b>y`,
	`<svg><foreignObject><a href=/fo>f</a></foreignObject><title>s</title></svg><math><mi>m</mi></math>`,
	`<head><noscript><link rel=alternate href=/n><a href=/x>x</a></noscript><template><a href=/t>t</a></template>`,
	`<div hidden><main>h</main></div><article><article>in</article></article><xmp><a href=/no></xmp>`,
	`<select><option><a href=/o>o</a></select><textarea><a href=/no></textarea><plaintext><a href=/no>`,
	`<a href=/f></a><frameset><frame src=/fr>`,
}

// FuzzHTML checks that HTML never fails or panics on an absolute page URL,
// that every link it returns is absolute, that the text it returns is valid
// UTF-8 within its limits, and that the facts are the same with the tree
// built as without.
func FuzzHTML(f *testing.F) {
	for _, s := range fuzzHTMLSeeds {
		f.Add([]byte(s))
	}
	f.Add(benchPage())
	pageURL, err := url.Parse("https://example.com/dir/page?q=1")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		o := Options{StructuredData: true, MainText: true}
		p, err := HTML(pageURL, body, o)
		if err != nil {
			t.Fatalf("HTML(%q) error: %v", body, err)
		}
		checkTreeIndependent(t, pageURL, body, o, p)
		if p.Base == nil || !p.Base.IsAbs() {
			t.Errorf("HTML(%q).Base = %v, want an absolute URL", body, p.Base)
		}
		for _, l := range p.Links {
			if l.URL == nil || !l.URL.IsAbs() {
				t.Errorf("HTML(%q) link %v is not absolute", body, l.URL)
				continue
			}
			if droppedScheme(l.URL.Scheme) {
				t.Errorf("HTML(%q) link %v has a dropped scheme", body, l.URL)
			}
			if utf8.RuneCountInString(l.Text) > maxLinkTextRunes || !utf8.ValidString(l.Text) {
				t.Errorf("HTML(%q) link text %q is too long or invalid UTF-8", body, l.Text)
			}
		}
		if p.Canonical != "" {
			if u, err := url.Parse(p.Canonical); err != nil || !u.IsAbs() {
				t.Errorf("HTML(%q).Canonical = %q, want an absolute URL", body, p.Canonical)
			}
		}
		for _, s := range []string{p.Title, p.Description, p.MetaRobots, p.MainText} {
			if !utf8.ValidString(s) {
				t.Errorf("HTML(%q) returned invalid UTF-8 %q", body, s)
			}
		}
		if len(p.MainText) > maxMainTextBytes {
			t.Errorf("HTML(%q).MainText has %d bytes, want at most %d", body, len(p.MainText), maxMainTextBytes)
		}
		for _, raw := range p.JSONLD {
			if !json.Valid(raw) || !utf8.Valid(raw) {
				t.Errorf("HTML(%q) JSON-LD %q is not valid UTF-8 JSON", body, raw)
			}
		}
	})
}

// FuzzToUTF8 checks that ToUTF8 always returns valid UTF-8 and an encoding
// name, and returns valid UTF-8 input unchanged when nothing declares
// another encoding.
func FuzzToUTF8(f *testing.F) {
	for _, s := range []struct{ body, contentType string }{
		{"", ""},
		{"plain ascii", ""},
		{"caf\xc3\xa9", ""},
		{"caf\xe9", ""},
		{"\xef\xbb\xbfbom", ""},
		{"\xff\xfeu\x00t\x00f\x00", ""},
		{"\xfe\xff\x00u\x00t", ""},
		{"<meta charset=shift_jis>\x83\x65\x83", ""},
		{"<meta http-equiv=content-type content='text/html; charset=euc-jp'>\xa4\xa2", ""},
		{"\x1b$B$\"\x1b(B", "text/html; charset=iso-2022-jp"},
		{"\x81\x30\x81\x30", "text/html; charset=gb18030"},
		{"<!-- x --><meta charset=utf-16le>", ""},
		{"<\x00?\x00x\x00m\x00l\x00", ""},
		{"abc", "text/html; charset=iso-2022-kr"},
		{"\xa4\x40", "text/html;charset=big5"},
	} {
		f.Add([]byte(s.body), s.contentType)
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		orig := bytes.Clone(body)
		got, enc := ToUTF8(body, contentType)
		if !utf8.Valid(got) {
			t.Errorf("ToUTF8(%q, %q) = %q (%s), not valid UTF-8", body, contentType, got, enc)
		}
		if enc == "" {
			t.Errorf("ToUTF8(%q, %q) returned no encoding name", body, contentType)
		}
		if !bytes.Equal(body, orig) {
			t.Errorf("ToUTF8(%q, %q) modified its input", orig, contentType)
		}
		if enc == "utf-8" && utf8.Valid(body) && !bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) && !bytes.Equal(got, body) {
			t.Errorf("ToUTF8(%q, %q) = %q, want the valid UTF-8 input unchanged", body, contentType, got)
		}
	})
}
