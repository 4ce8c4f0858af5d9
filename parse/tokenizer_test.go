package parse

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// tokenizerSeeds exercise the corners of tokenization: each is also run
// with CDATA allowed and with raw text turned off after each start tag.
var tokenizerSeeds = []string{
	"",
	"plain text",
	"a<b>c</b>d",
	"<a href=x>t</a>",
	"<<a>>",
	"< a>",
	"a<",
	"a</",
	"</>x",
	"</ x>y",
	"</1>",
	"<a",
	"<a href='x",
	"<a href=x",
	"<a href",
	"<a/href=x/ TITLE='t' title=u =eq ==x a= b c=>",
	`<a b=x/ b=y/>`,
	`<img alt="" src = "y"/><p/><p a=/><p a="/"/><p a/>`,
	`<meta name=og:title content="a 'b' c"><div a"b=c'd e<f=>`,
	`<x a=1 a=2 A=3 b b=4>`,
	"<x A\x00=1 a\x00=2 a\uFFFD=3 \x00>",
	"<a href=\"a\r\nb\rc\x00d\">",
	`<a href="?a=1&b=2&amp;c=3&ampd=4&amp=5&copy=6&copy;&#38;&#x26;&#X26&#;&#x;&#9999999999;&#0;&#128;&#xD800;">`,
	`<a title="&notit; &notin; &noti &amp &ampx &AMP; &Aacute &Aacute; &fjlig; &nvlt; &a;&bogus; &">`,
	"x &notit; &notin; &noti &amp &ampx &AMP; &Aacute &Aacute; &fjlig; &nvlt; &#65 &#x41;&#128;&#0; &",
	"a\r\nb\rc\r\r\nd\x00e",
	"<!---->x<!-->y<!--->z<!-- a -- b --!>w<!--a--!-b-->v<!--a",
	"<!--a-",
	"<!--a--",
	"<!--a--!",
	"<!--",
	"<!-",
	"<!",
	"<!>",
	"<!>x",
	"<!x>y",
	"<?xml version=1?>z",
	"<!DOCTYPE html><!doctype HTML PUBLIC 'x'><!DOCTYPE",
	"<!DOCTYPE   ",
	"<!DOCTYP",
	"<!DOCTYPEhtml>",
	"<![CDATA[a]b]]c]]]>d<![CDATA[x",
	"<![CDATA",
	"<title>a<b>&amp;</title >c</TITLE>",
	"<textarea>\x00&lt;</textareax></textarea/>",
	"<style>a</styl</style",
	"<style>a</style",
	"<title>",
	"<iframe>x</iframe><noembed>y</noembed><noframes>z</noframes><noscript>n</noscript><xmp>&amp;</xmp>",
	"<plaintext>a</plaintext><b>\x00",
	"<plaintext>",
	"<script>a<b</script>c",
	"<script>x<!--y</script>z",
	"<script><!--a<script>b</script>c</script>d-->e</script>f",
	"<script><!--<script></script--></script>",
	"<script><!--a--><b</script>",
	"<script><!-- a -- > </script>",
	"<script><!--<SCRIPT>x</script>y--></script>z",
	"<script><!--<scrip>x</script>",
	"<script><!--<script",
	"<script><!--<script>-",
	"<script><!--<script><",
	"<script><!--<script></scri",
	"<script><!",
	"<script><!-",
	"<script></",
	"<script>\x00</script\t>",
	"<script><!--<a></script>",
	"<script><!--<s></script>",
	"<svg><![CDATA[<a>]]></svg><math><title>x</title></math>",
	"<p\x00 a\x00=b\x00>\x00",
	"<A HREF=X>Y</A>",
	strings.Repeat("<a x", 40) + ">",
	"<p " + strings.Repeat("a ", 40) + "a=1 b=2/>",
}

// FuzzTokenizer checks that the tokenizer returns the tokens
// html.Tokenizer returns, with the same bytes, text, names and attributes,
// when both are told the same about CDATA and raw text (ctl's bits).
func FuzzTokenizer(f *testing.F) {
	for i, s := range tokenizerSeeds {
		f.Add([]byte(s), uint64(0))
		f.Add([]byte(s), uint64(0x5555555555555555)+uint64(i))
	}
	f.Add(benchPage(), uint64(0))
	f.Fuzz(func(t *testing.T, doc []byte, ctl uint64) {
		if err := compareTokenizers(doc, ctl); err != nil {
			t.Error(err)
		}
	})
}

// TestTokenizerCorpus compares the tokenizers on the seeds and the
// differential corpus, one document at a time.
func TestTokenizerCorpus(t *testing.T) {
	docs := seedCorpus(t)
	for _, s := range tokenizerSeeds {
		docs = append(docs, []byte(s))
	}
	for _, doc := range docs {
		for _, ctl := range []uint64{0, ^uint64(0), 0x5555555555555555, 0xaaaaaaaaaaaaaaaa, 0x123456789abcdef} {
			if err := compareTokenizers(doc, ctl); err != nil {
				t.Error(err)
			}
		}
	}
}

// compareTokenizers reads doc with both tokenizers. Token i is read with
// CDATA allowed when bit 2i%64 of ctl is set, and raw text is turned off
// after a start tag when bit (2i+1)%64 is.
func compareTokenizers(doc []byte, ctl uint64) error {
	want := html.NewTokenizer(bytes.NewReader(doc))
	got := newTokenizer(doc)
	for i := 0; ; i++ {
		bit := func(k int) bool { return ctl>>((2*i+k)%64)&1 == 1 }
		want.AllowCDATA(bit(0))
		got.setAllowCDATA(bit(0))
		wt, gt := want.Next(), got.next()
		// Raw first: Text changes html.Tokenizer's buffer.
		wraw := bytes.Clone(want.Raw())
		fail := func(what string, w, g any) error {
			return fmt.Errorf("document %q, token %d (%v %q): %s = %q, want %q", doc, i, wt, wraw, what, g, w)
		}
		if wt != gt {
			return fail("type", wt.String(), gt.String())
		}
		if !bytes.Equal(wraw, got.rawBytes()) {
			return fail("raw", wraw, got.rawBytes())
		}
		switch wt {
		case html.ErrorToken:
			if want.Err() != io.EOF {
				return fail("error", want.Err(), io.EOF)
			}
			return nil
		case html.TextToken, html.CommentToken, html.DoctypeToken:
			if w, g := want.Text(), got.text(); !bytes.Equal(w, g) {
				return fail("text", w, g)
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			wname, _ := want.TagName()
			if g := got.tagName(); !bytes.Equal(wname, g) {
				return fail("name", wname, g)
			}
			var wattrs, gattrs []string
			for more := true; more; {
				var k, v []byte
				k, v, more = want.TagAttr()
				if k != nil {
					wattrs = append(wattrs, fmt.Sprintf("%s=%q", k, v))
				}
			}
			for _, a := range got.tagAttrs() {
				gattrs = append(gattrs, fmt.Sprintf("%s=%q", got.attrKey(a), got.attrVal(a)))
			}
			if fmt.Sprint(wattrs) != fmt.Sprint(gattrs) {
				return fail("attributes", wattrs, gattrs)
			}
			if wt != html.EndTagToken && bit(1) {
				want.NextIsNotRawText()
				got.nextIsNotRawText()
			}
		}
	}
}

// TestNamedRefs checks the named character references the tokenizer
// decodes itself against x/net/html's table.
func TestNamedRefs(t *testing.T) {
	for _, name := range []string{"amp;", "lt;", "gt;", "quot;", "apos;", "nbsp;", "copy;", "reg;",
		"trade;", "ndash;", "mdash;", "hellip;", "laquo;", "raquo;", "lsquo;", "rsquo;", "ldquo;",
		"rdquo;", "bull;", "middot;", "times;", "euro;"} {
		v := namedRef([]byte(name))
		if want := html.UnescapeString("&" + name); v == "" || v != want {
			t.Errorf("namedRef(%q) = %q, want %q", name, v, want)
		}
	}
	for _, name := range []string{"amp", "AMP;", "bogus;", ""} {
		if v := namedRef([]byte(name)); v != "" {
			t.Errorf("namedRef(%q) = %q, want none", name, v)
		}
	}
}
