package sitemap

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []string{
		urlsetXML,
		urlsetOf(8),
		`<sitemapindex><sitemap><loc>http://www.example.com/s.xml</loc><lastmod>2005-01-01</lastmod></sitemap><sitemap>http://www.example.com/t.xml</sitemap></sitemapindex>`,
		"\ufeffhttp://www.example.com/a\r\nhttp://www.example.com/b\n",
		`<rss><channel><pubDate>Thu, 05 Jan 17 13:34:52 +0100</pubDate><item><link>http://www.example.com/a</link><guid>http://www.example.com/b</guid></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="http://www.example.com/a"/><updated>2003-12-13T18:30:02Z</updated></entry></feed>`,
		`<!DOCTYPE x [<!ENTITY a "b">]><urlset/>`,
		`<urlset><url><loc><![CDATA[http://www.example.com/?a&b]]></loc><!-- > --></url></urlset>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Add(gzipped(f, urlsetOf(3)), true)
	// The conformance fixtures, when present, make good seeds too.
	if files, err := filepath.Glob(filepath.Join(conformanceDir, "*")); err == nil {
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil && filepath.Ext(name) != ".json" {
				f.Add(b, false)
			}
		}
	}

	base, _ := url.Parse("http://www.example.com/sitemap.xml")
	kinds := map[string]bool{"": true, KindURLSet: true, KindIndex: true, KindText: true, KindRSS: true, KindAtom: true}
	f.Fuzz(func(t *testing.T, data []byte, strict bool) {
		o := Options{MaxBytes: 4096, MaxURLs: 5, StrictNamespace: strict}
		res, err := Parse(base.String(), bytes.NewReader(data), "", o)
		if res == nil {
			t.Fatalf("Parse returned a nil Result (err %v)", err)
		}
		if !kinds[res.Kind] {
			t.Errorf("Parse Kind = %q", res.Kind)
		}
		if len(res.URLs) > o.MaxURLs || len(res.Sitemaps) > o.MaxURLs {
			t.Errorf("Parse kept %d URLs and %d sitemaps, cap %d", len(res.URLs), len(res.Sitemaps), o.MaxURLs)
		}
		if errors.Is(err, ErrTooLarge) && !res.Truncated {
			t.Errorf("Parse error %v without Truncated", err)
		}
		if res.Kind == KindIndex && len(res.URLs) > 0 || res.Kind != KindIndex && len(res.Sitemaps) > 0 {
			t.Errorf("Parse(%s) put entries in the wrong list: %d URLs, %d sitemaps", res.Kind, len(res.URLs), len(res.Sitemaps))
		}
		for _, e := range append(append([]Entry(nil), res.URLs...), res.Sitemaps...) {
			u, perr := url.Parse(e.Loc)
			if perr != nil || !isHTTP(u) {
				t.Errorf("Parse kept invalid URL %q", e.Loc)
			}
			if res.Kind != KindIndex && !under(u, base) {
				t.Errorf("Parse kept %q outside %s", e.Loc, base)
			}
			if e.Priority < 0 || e.Priority > 1 || e.ChangeFreq != "" && !changeFreqs[e.ChangeFreq] {
				t.Errorf("Parse kept entry %+v with invalid fields", e)
			}
		}
	})
}

// FuzzTokenGuard checks that the guard's fast path (whole reads) and its
// byte-at-a-time path agree, and that it never alters the bytes.
func FuzzTokenGuard(f *testing.F) {
	for _, s := range []string{
		"<a b='>'>text</a>", "<!-- <a> -> --->x", "<![CDATA[ ]> ]]>", "<?pi ? >?>", "<!DOCTYPE a [<!ENTITY b 'c'>]>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		const max = 16
		whole, errWhole := io.ReadAll(&tokenGuard{r: &chunkReader{s: in, n: len(in) + 1}, max: max})
		bytewise, errByte := io.ReadAll(&tokenGuard{r: &chunkReader{s: in, n: 1}, max: max})
		if (errWhole == nil) != (errByte == nil) {
			t.Fatalf("tokenGuard(%q): whole read error %v, byte reads error %v", in, errWhole, errByte)
		}
		if errWhole == nil && (string(whole) != in || string(bytewise) != in) {
			t.Fatalf("tokenGuard(%q) altered the input: %q, %q", in, whole, bytewise)
		}
	})
}
