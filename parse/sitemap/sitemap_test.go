package sitemap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const base = "http://www.example.com/sitemap.xml"

func date(y int, m time.Month, d, hh, mm, ss int) time.Time {
	return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
}

func parseString(t *testing.T, sitemapURL, body string, o Options) *Result {
	t.Helper()
	res, err := Parse(sitemapURL, strings.NewReader(body), "", o)
	if err != nil {
		t.Fatalf("Parse(%q) error: %v", sitemapURL, err)
	}
	return res
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const urlsetXML = `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>http://www.example.com/</loc>
    <lastmod>2005-01-01</lastmod>
    <changefreq>monthly</changefreq>
    <priority>0.8</priority>
    <image:image><image:loc>http://www.example.com/image.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>http://www.example.com/catalog?item=12&amp;desc=vacation_hawaii</loc>
    <changefreq>Weekly</changefreq>
  </url>
  <url>
    <loc>http://www.example.com/catalog?item=74&amp;desc=vacation_newfoundland</loc>
    <lastmod>2004-12-23T18:00:15+01:00</lastmod>
    <priority>0.3</priority>
  </url>
  <url>
    <loc><![CDATA[http://www.example.com/cdata?a=1&b=2]]></loc>
    <lastmod>not a date</lastmod>
    <changefreq>sometimes</changefreq>
    <priority>1.5</priority>
  </url>
  <url><lastmod>2005-01-01</lastmod></url>
  <url><loc>http://other.example.com/</loc></url>
  <url><loc>/relative</loc></url>
</urlset>`

func TestParseURLSet(t *testing.T) {
	res := parseString(t, base, urlsetXML, Options{})
	want := &Result{
		Kind: KindURLSet,
		URLs: []Entry{
			{Loc: "http://www.example.com/", LastMod: date(2005, 1, 1, 0, 0, 0), ChangeFreq: "monthly", Priority: 0.8},
			{Loc: "http://www.example.com/catalog?item=12&desc=vacation_hawaii", ChangeFreq: "weekly"},
			{Loc: "http://www.example.com/catalog?item=74&desc=vacation_newfoundland", LastMod: date(2004, 12, 23, 17, 0, 15), Priority: 0.3},
			{Loc: "http://www.example.com/cdata?a=1&b=2"},
		},
		Skipped: 3, // no loc, other host, relative
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Parse(urlset) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseIndex(t *testing.T) {
	const index = `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>http://www.example.com/sitemap1.xml.gz</loc><lastmod>2004-10-01T18:23:17+00:00</lastmod></sitemap>
  <sitemap><loc>https://cdn.example.net/sitemap2.xml</loc><lastmod>2005-01-01</lastmod></sitemap>
  <sitemap>
    http://www.example.com/bare.xml
  </sitemap>
  <sitemap><loc>ftp://www.example.com/sitemap3.xml</loc></sitemap>
  <url><loc>http://www.example.com/not-a-sitemap</loc></url>
</sitemapindex>`
	res := parseString(t, "http://www.example.com/sitemaps/index.xml", index, Options{})
	want := &Result{
		Kind: KindIndex,
		Sitemaps: []Entry{
			{Loc: "http://www.example.com/sitemap1.xml.gz", LastMod: date(2004, 10, 1, 18, 23, 17)},
			// Child sitemaps are not held to the location rule.
			{Loc: "https://cdn.example.net/sitemap2.xml", LastMod: date(2005, 1, 1, 0, 0, 0)},
			{Loc: "http://www.example.com/bare.xml"},
		},
		Skipped: 1, // ftp
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Parse(index) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseGzip(t *testing.T) {
	for _, ct := range []string{"", "application/gzip", "application/octet-stream", "text/xml"} {
		t.Run(ct, func(t *testing.T) {
			res, err := Parse(base, bytes.NewReader(gzipped(t, urlsetXML)), ct, Options{})
			if err != nil {
				t.Fatalf("Parse(gzip, %q) error: %v", ct, err)
			}
			if res.Kind != KindURLSet || len(res.URLs) != 4 {
				t.Errorf("Parse(gzip, %q) = %s with %d URLs, want urlset with 4", ct, res.Kind, len(res.URLs))
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		res, err := Parse("http://www.example.com/sitemap.txt.gz",
			bytes.NewReader(gzipped(t, "http://www.example.com/a\nhttp://www.example.com/b\n")), "application/x-gzip", Options{})
		if err != nil || res.Kind != KindText || len(res.URLs) != 2 {
			t.Errorf("Parse(gzip text) = %+v, %v; want text with 2 URLs", res, err)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		gz := gzipped(t, urlsetXML)
		for _, b := range [][]byte{gz[:len(gz)/2], append([]byte{0x1f, 0x8b}, "not gzip at all"...)} {
			if _, err := Parse(base, bytes.NewReader(b), "", Options{}); err == nil {
				t.Errorf("Parse(corrupt gzip %d bytes) error = nil, want an error", len(b))
			}
		}
	})
}

func TestParseText(t *testing.T) {
	body := "\ufeffhttp://www.domain.com/page1.html\r\n" +
		"\r\n" +
		"  http://www.domain.com/page2.html  \n" +
		"not a url\n" +
		"mailto:someone@domain.com\n" +
		"http://www.domain.com/" + strings.Repeat("x", maxLine+10) + "\n" +
		"http://www.domain.com/sub/page3.html" // no final newline
	res := parseString(t, "http://www.domain.com/sitemap.txt", body, Options{})
	want := &Result{
		Kind: KindText,
		URLs: []Entry{
			{Loc: "http://www.domain.com/page1.html"},
			{Loc: "http://www.domain.com/page2.html"},
			{Loc: "http://www.domain.com/sub/page3.html"},
		},
		Skipped: 3, // not a url, mailto, over-long line
	}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Parse(text) mismatch (-want +got):\n%s", diff)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, body := range []string{"", "\ufeff", " \n\t\n"} {
		res := parseString(t, base, body, Options{})
		if res.Kind != KindText || len(res.URLs) != 0 {
			t.Errorf("Parse(%q) = %+v, want an empty text sitemap", body, res)
		}
	}
}

func TestLocationRule(t *testing.T) {
	const sm = "http://www.example.com/catalog/sitemap.xml"
	tests := []struct {
		loc  string
		keep bool
	}{
		{"http://www.example.com/catalog/", true},
		{"http://www.example.com/catalog/item?id=1", true},
		{"http://www.example.com/catalog/deep/er/page", true},
		{"http://WWW.EXAMPLE.COM/catalog/x", true},
		{"HTTP://www.example.com/catalog/x", true},
		{"http://www.example.com:80/catalog/x", true},
		{"http://www.example.com/catalog", false},
		{"http://www.example.com/", false},
		{"http://www.example.com/catalogue/x", false},
		{"http://www.example.com/Catalog/x", false},
		{"https://www.example.com/catalog/x", false},
		{"http://example.com/catalog/x", false},
		{"http://www.example.com:8080/catalog/x", false},
		{"http://evil.example/catalog/x", false},
	}
	for _, tt := range tests {
		body := "<urlset><url><loc>" + tt.loc + "</loc></url></urlset>"
		res := parseString(t, sm, body, Options{})
		if got := len(res.URLs) == 1; got != tt.keep {
			t.Errorf("Parse(%q under %q) kept = %v, want %v", tt.loc, sm, got, tt.keep)
		}
		res = parseString(t, sm, body, Options{AllowAnyLocation: true})
		if len(res.URLs) != 1 {
			t.Errorf("Parse(%q, AllowAnyLocation) kept nothing", tt.loc)
		}
	}

	// The query of the sitemap's URL does not count as its directory.
	res := parseString(t, "https://www.example.com/index.php?feed/rss",
		"https://www.example.com/blog/1\n", Options{})
	if len(res.URLs) != 1 {
		t.Errorf("Parse(text at /index.php?feed/rss) = %v, want the URL kept", res.URLs)
	}
}

func TestSitemapURLInvalid(t *testing.T) {
	for _, u := range []string{"", "/sitemap.xml", "ftp://example.com/sitemap.xml", "http://%zz/", "http:///x"} {
		res, err := Parse(u, strings.NewReader("http://example.com/\n"), "", Options{})
		if err == nil || res == nil {
			t.Errorf("Parse(sitemapURL %q) = %v, %v; want a non-nil Result and an error", u, res, err)
		}
	}
}

func urlsetOf(n int) string {
	var b strings.Builder
	b.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := range n {
		fmt.Fprintf(&b, "<url><loc>http://www.example.com/p%d</loc></url>\n", i)
	}
	b.WriteString("</urlset>")
	return b.String()
}

func TestMaxURLs(t *testing.T) {
	var text strings.Builder
	for i := range 10 {
		fmt.Fprintf(&text, "http://www.example.com/p%d\n", i)
	}
	var index strings.Builder
	index.WriteString("<sitemapindex>")
	for i := range 10 {
		fmt.Fprintf(&index, "<sitemap><loc>http://www.example.com/s%d.xml</loc></sitemap>", i)
	}
	index.WriteString("</sitemapindex>")

	tests := []struct {
		name, body string
	}{
		{"urlset", urlsetOf(10)},
		{"text", text.String()},
		{"index", index.String()},
	}
	for _, tt := range tests {
		for _, max := range []int{1, 9, 10, 11} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, max), func(t *testing.T) {
				res := parseString(t, base, tt.body, Options{MaxURLs: max})
				got := len(res.URLs) + len(res.Sitemaps)
				wantN, wantTrunc := min(max, 10), max < 10
				if got != wantN || res.Truncated != wantTrunc {
					t.Errorf("Parse(%s, MaxURLs=%d) = %d entries, Truncated %v; want %d, %v",
						tt.name, max, got, res.Truncated, wantN, wantTrunc)
				}
			})
		}
	}
}

func TestMaxBytes(t *testing.T) {
	body := urlsetOf(100)
	t.Run("exact", func(t *testing.T) {
		res, err := Parse(base, strings.NewReader(body), "", Options{MaxBytes: int64(len(body))})
		if err != nil || res.Truncated || len(res.URLs) != 100 {
			t.Errorf("Parse(%d bytes, MaxBytes same) = %d URLs, Truncated %v, %v; want 100, false, nil",
				len(body), len(res.URLs), res.Truncated, err)
		}
	})
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		{"plain", []byte(body)},
		{"gzip", gzipped(t, body)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(base, bytes.NewReader(tt.in), "", Options{MaxBytes: int64(len(body) / 2)})
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Parse(%s, half MaxBytes) error = %v, want ErrTooLarge", tt.name, err)
			}
			if !res.Truncated || len(res.URLs) == 0 || len(res.URLs) >= 100 {
				t.Errorf("Parse(%s, half MaxBytes) = %d URLs, Truncated %v; want a partial result",
					tt.name, len(res.URLs), res.Truncated)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		text := strings.Repeat("http://www.example.com/x\n", 100)
		res, err := Parse(base, strings.NewReader(text), "", Options{MaxBytes: 250})
		if !errors.Is(err, ErrTooLarge) || !res.Truncated || len(res.URLs) != 10 {
			t.Errorf("Parse(text, MaxBytes=250) = %d URLs, Truncated %v, %v; want 10, true, ErrTooLarge",
				len(res.URLs), res.Truncated, err)
		}
	})
	t.Run("gzip bomb", func(t *testing.T) {
		// 64 gzip members of 256 KiB of comments each (a valid multistream
		// file) decompress to 16 MiB from about 64 KiB.
		member := gzipped(t, strings.Repeat("<!-- padding -->\n", 1<<14))
		body := gzipped(t, `<urlset><url><loc>http://www.example.com/a</loc></url>`)
		body = append(body, bytes.Repeat(member, 64)...)
		res, err := Parse(base, bytes.NewReader(body), "application/gzip", Options{MaxBytes: 512 << 10})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "sitemap over") ||
			!res.Truncated || len(res.URLs) != 1 {
			t.Errorf("Parse(gzip bomb, %d bytes) = %d URLs, Truncated %v, %v; want 1, true, ErrTooLarge from MaxBytes",
				len(body), len(res.URLs), res.Truncated, err)
		}
	})
}

// countingReader yields n bytes produced by fill and counts what was read.
type countingReader struct {
	head  string
	fill  byte
	n     int64
	total int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.total >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.total)]
	for i := range p {
		if r.total+int64(i) < int64(len(r.head)) {
			p[i] = r.head[r.total+int64(i)]
		} else {
			p[i] = r.fill
		}
	}
	r.total += int64(len(p))
	return len(p), nil
}

func TestTokenCap(t *testing.T) {
	// A text node far larger than maxToken is refused early, without reading
	// (or holding) the rest of the input. TestTokenGuard covers the other
	// kinds of token with a small cap.
	r := &countingReader{head: "<urlset><url><loc>http://www.example.com/", fill: 'a', n: 1 << 30}
	res, err := Parse(base, r, "", Options{MaxBytes: 1 << 40})
	if !errors.Is(err, ErrTooLarge) || !res.Truncated {
		t.Errorf("Parse(1 GiB text node) error = %v, Truncated %v; want ErrTooLarge, true", err, res.Truncated)
	}
	if r.total > 2*maxToken {
		t.Errorf("Parse(1 GiB text node) read %d bytes before refusing, want at most %d", r.total, 2*maxToken)
	}
}

func TestTokenGuard(t *testing.T) {
	const max = 32
	long := strings.Repeat("a", max+1)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"small tokens", strings.Repeat("<a b='1'>text</a>", 20), true},
		{"long text", "<a>" + long + "</a>", false},
		{"long tag", "<a " + long + ">", false},
		{"quoted > in attribute", `<a b="` + strings.Repeat(">", max) + `">`, false},
		{"comment with < and >", strings.Repeat("<!-- <a> -> --->", 10), true},
		{"long comment", "<!--" + strings.Repeat("<a>", max) + "-->", false},
		{"comment ends only at -->", "<!-- -> " + long + "-->", false},
		{"cdata", strings.Repeat("<![CDATA[ ]> ]] ]]]>", 10), true},
		{"long cdata", "<![CDATA[" + strings.Repeat("<a>]>", max) + "]]>", false},
		{"processing instructions", strings.Repeat("<?pi > ??>", 10), true},
		{"long processing instruction", "<?pi " + strings.Repeat(">", max) + "?>", false},
		{"doctype", strings.Repeat("<!DOCTYPE a>", 10), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte per Read, and all at once, must agree.
			for _, chunk := range []int{1, len(tt.in)} {
				g := &tokenGuard{r: &chunkReader{s: tt.in, n: chunk}, max: max}
				got, err := io.ReadAll(g)
				if tt.ok && (err != nil || string(got) != tt.in) {
					t.Errorf("tokenGuard(%q, chunks of %d) = %q, %v; want the input back", tt.in, chunk, got, err)
				}
				if !tt.ok && !errors.Is(err, ErrTooLarge) {
					t.Errorf("tokenGuard(%q, chunks of %d) error = %v, want ErrTooLarge", tt.in, chunk, err)
				}
			}
		})
	}
}

// chunkReader returns s in reads of at most n bytes.
type chunkReader struct {
	s string
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], r.s)
	r.s = r.s[k:]
	return k, nil
}

func TestDepthCap(t *testing.T) {
	body := "<urlset>" + strings.Repeat("<a>", 10*maxDepth)
	res, err := Parse(base, strings.NewReader(body), "", Options{})
	if !errors.Is(err, ErrTooLarge) || !res.Truncated {
		t.Errorf("Parse(deep nesting) error = %v, Truncated %v; want ErrTooLarge, true", err, res.Truncated)
	}
}

func TestRefuseDTD(t *testing.T) {
	tests := []struct {
		name, body string
		want       error
	}{
		{"billion laughs", `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<urlset><url><loc>http://www.example.com/&lol4;</loc></url></urlset>`, ErrEntity},
		{"xxe", `<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>http://www.example.com/&xxe;</loc></url></urlset>`, ErrEntity},
		{"parameter entity", `<!DOCTYPE urlset [<!ENTITY % p SYSTEM "http://127.0.0.1/evil.dtd"> %p;]><urlset/>`, ErrEntity},
		{"external dtd", `<!DOCTYPE urlset SYSTEM "http://127.0.0.1/sitemap.dtd"><urlset/>`, ErrEntity},
		{"lowercase doctype", `<!doctype urlset><urlset/>`, ErrEntity},
		{"html doctype with entities", `<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html>&xxe;</html>`, ErrEntity},
		{"html page", "<!DOCTYPE html>\n<html><body><a href=\"http://www.example.com/x\">x</a></body></html>", ErrFormat},
		{"xhtml page", `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html/>`, ErrFormat},
		{"html without doctype", "<html><body>http://www.example.com/x</body></html>", ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(base, strings.NewReader(tt.body), "text/xml", Options{})
			if !errors.Is(err, tt.want) {
				t.Errorf("Parse(%s) error = %v, want %v", tt.name, err, tt.want)
			}
			if len(res.URLs) != 0 {
				t.Errorf("Parse(%s) URLs = %v, want none", tt.name, res.URLs)
			}
		})
	}
}

func TestUnknownEntitiesKeptAsText(t *testing.T) {
	// Without a DTD nothing can be expanded; raw '&' (common in hand-made
	// sitemaps) and undeclared entities stay as written.
	body := `<urlset><url><loc>http://www.example.com/?a=1&b=2&amp;c=3&nbsp;</loc></url></urlset>`
	res := parseString(t, base, body, Options{})
	want := []Entry{{Loc: "http://www.example.com/?a=1&b=2&c=3&nbsp;"}}
	if diff := cmp.Diff(want, res.URLs); diff != "" {
		t.Errorf("Parse(raw ampersands) mismatch (-want +got):\n%s", diff)
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name, body string
		want       error // nil: any error
	}{
		{"truncated", `<urlset><url><loc>http://www.example.com/a</loc></url><url><loc>http://www.exa`, nil},
		{"unclosed tag", `<urlset><url><loc`, nil},
		{"bad attribute", `<urlset <url>`, nil},
		{"unknown root", `<foo><url><loc>http://www.example.com/a</loc></url></foo>`, ErrFormat},
		{"only a declaration", `<?xml version="1.0"?>`, ErrFormat},
		{"only a comment", `<!-- nothing -->`, ErrFormat},
		{"unknown charset", `<?xml version="1.0" encoding="x-no-such-charset"?><urlset/>`, nil},
		{"bad xml declaration", `<?xml version="2.0"?><urlset/>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(base, strings.NewReader(tt.body), "", Options{})
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Parse(%q) error = %v, want %v", tt.body, err, tt.want)
			}
			if res == nil {
				t.Errorf("Parse(%q) returned a nil Result", tt.body)
			}
		})
	}

	// What was parsed before a syntax error is kept.
	res, err := Parse(base, strings.NewReader(tests[0].body), "", Options{})
	if err == nil || len(res.URLs) != 1 || res.Kind != KindURLSet {
		t.Errorf("Parse(truncated) = %+v, %v; want the first URL and an error", res, err)
	}
}

func TestContentTypeGuard(t *testing.T) {
	tests := []struct {
		body, contentType string
		wantKind          string
		wantErr           error
	}{
		{"http://www.example.com/a\n", "text/plain; charset=utf-8", KindText, nil},
		{"http://www.example.com/a\n", "", KindText, nil},
		{"http://www.example.com/a\n", "application/octet-stream", KindText, nil},
		{"Not found\n", "text/html; charset=utf-8", "", ErrFormat},
		{`{"urls": []}`, "application/xml", "", ErrFormat},
		// Mislabelled XML is still read as XML.
		{urlsetOf(1), "text/plain", KindURLSet, nil},
		{urlsetOf(1), "text/html", KindURLSet, nil},
	}
	for _, tt := range tests {
		res, err := Parse(base, strings.NewReader(tt.body), tt.contentType, Options{})
		if res.Kind != tt.wantKind || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("Parse(%.20q, %q) = %q, %v; want %q, %v", tt.body, tt.contentType, res.Kind, err, tt.wantKind, tt.wantErr)
		}
	}
}

func TestStrictNamespace(t *testing.T) {
	const mixed = `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:x="http://example.com/ns">
  <url><loc>http://www.example.com/a</loc></url>
  <x:url><x:loc>http://www.example.com/b</x:loc></x:url>
  <url><x:loc>http://www.example.com/c</x:loc></url>
</urlset>`
	tests := []struct {
		name, body string
		strict     bool
		want       int
		err        error
	}{
		{"strict keeps sitemaps.org elements only", mixed, true, 1, nil},
		{"lenient matches local names", mixed, false, 3, nil},
		{"strict refuses no namespace", `<urlset><url><loc>http://www.example.com/a</loc></url></urlset>`, true, 0, ErrNamespace},
		{"lenient accepts no namespace", `<urlset><url><loc>http://www.example.com/a</loc></url></urlset>`, false, 1, nil},
		{"strict accepts https variant", `<urlset xmlns="https://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://www.example.com/a</loc></url></urlset>`, true, 1, nil},
		{"strict accepts google 0.84", `<urlset xmlns="http://www.google.com/schemas/sitemap/0.84"><url><loc>http://www.example.com/a</loc></url></urlset>`, true, 1, nil},
		{"strict refuses index in other namespace", `<sitemapindex xmlns="http://example.com/"><sitemap><loc>http://www.example.com/s.xml</loc></sitemap></sitemapindex>`, true, 0, ErrNamespace},
		{"strict does not apply to feeds", `<rss><channel><item><link>http://www.example.com/a</link></item></channel></rss>`, true, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Parse(base, strings.NewReader(tt.body), "", Options{StrictNamespace: tt.strict})
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Errorf("Parse(strict=%v) error = %v, want %v", tt.strict, err, tt.err)
			}
			if got := len(res.URLs) + len(res.Sitemaps); got != tt.want {
				t.Errorf("Parse(strict=%v) = %d entries, want %d: %v", tt.strict, got, tt.want, res.URLs)
			}
		})
	}
}

func TestParseFeeds(t *testing.T) {
	tests := []struct {
		name, body string
		want       *Result
	}{
		{"rss 2.0", `<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <link>http://www.example.com/</link>
  <atom:link href="http://www.example.com/feed.xml" rel="self"/>
  <pubDate>Thu, 05 Jan 2017 12:34:50 GMT</pubDate>
  <lastBuildDate>Fri, 06 Jan 2017 08:00:00 +0100</lastBuildDate>
  <item>
    <atom:link href="http://www.example.com/wrong" rel="alternate"/>
    <link>http://www.example.com/a</link>
    <pubDate>Thu, 05 Jan 17 13:34:52 +0100</pubDate>
  </item>
  <item><guid>http://www.example.com/b</guid><dc:date>2017-01-02T03:04:05Z</dc:date></item>
  <item><guid isPermaLink="false">7bd204c6-1655</guid></item>
  <item><title>no link</title></item>
</channel>
</rss>`, &Result{
			Kind:    KindRSS,
			LastMod: date(2017, 1, 6, 7, 0, 0),
			URLs: []Entry{
				{Loc: "http://www.example.com/a", LastMod: date(2017, 1, 5, 12, 34, 52)},
				{Loc: "http://www.example.com/b", LastMod: date(2017, 1, 2, 3, 4, 5)},
			},
			Skipped: 2,
		}},
		{"rss 1.0", `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://www.example.com/"><link>http://www.example.com/</link><dc:date>2020-02-02</dc:date></channel>
  <item rdf:about="http://www.example.com/a"><link>http://www.example.com/a</link><dc:date>2020-01-01T10:00+02:00</dc:date></item>
</rdf:RDF>`, &Result{
			Kind:    KindRSS,
			LastMod: date(2020, 2, 2, 0, 0, 0),
			URLs:    []Entry{{Loc: "http://www.example.com/a", LastMod: date(2020, 1, 1, 8, 0, 0)}},
		}},
		{"atom", `<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://www.example.com/feed" rel="self"/>
  <updated>2003-12-13T18:30:02Z</updated>
  <entry>
    <link rel="edit" href="http://www.example.com/a/edit"/>
    <link rel="alternate" href="http://www.example.com/a"/>
    <link href="http://www.example.com/a2"/>
    <published>2003-12-12T00:00:00Z</published>
    <updated>2003-12-13T18:30:02.25+01:00</updated>
    <source><link href="http://www.example.com/not-this"/></source>
  </entry>
  <entry>
    <link rel="enclosure" href="http://www.example.com/b.mp3"/>
    <link href="http://www.example.com/b"/>
    <published>2003-12-12T00:00:00Z</published>
  </entry>
  <entry><id>urn:uuid:1</id><link rel="related" href="http://www.example.com/c"/></entry>
</feed>`, &Result{
			Kind:    KindAtom,
			LastMod: date(2003, 12, 13, 18, 30, 2),
			URLs: []Entry{
				{Loc: "http://www.example.com/a", LastMod: time.Date(2003, 12, 13, 17, 30, 2, 250e6, time.UTC)},
				{Loc: "http://www.example.com/b", LastMod: date(2003, 12, 12, 0, 0, 0)},
			},
			Skipped: 1,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseString(t, "http://www.example.com/feed.xml", tt.body, Options{})
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("Parse(%s) mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestCharset(t *testing.T) {
	body := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<urlset><url><loc>http://www.example.com/caf\xe9</loc></url></urlset>")
	res, err := Parse(base, bytes.NewReader(body), "", Options{})
	if err != nil {
		t.Fatalf("Parse(latin-1) error: %v", err)
	}
	want := []Entry{{Loc: "http://www.example.com/café"}}
	if diff := cmp.Diff(want, res.URLs); diff != "" {
		t.Errorf("Parse(latin-1) mismatch (-want +got):\n%s", diff)
	}

	// A UTF-8 byte order mark before the XML declaration is tolerated.
	res = parseString(t, base, "\ufeff"+urlsetOf(2), Options{})
	if res.Kind != KindURLSet || len(res.URLs) != 2 {
		t.Errorf("Parse(BOM + urlset) = %+v, want urlset with 2 URLs", res)
	}
}

func TestTrailingContentIgnored(t *testing.T) {
	body := urlsetOf(1) + "\n<urlset><url><loc>http://www.example.com/second-root</loc></url></urlset> junk <<<"
	res := parseString(t, base, body, Options{})
	if len(res.URLs) != 1 {
		t.Errorf("Parse(two roots) = %v, want only the first root's URL", res.URLs)
	}
}

func TestLongFieldDiscarded(t *testing.T) {
	long := "http://www.example.com/" + strings.Repeat("a", maxField)
	body := "<urlset><url><loc>" + long + "</loc></url>" +
		"<url><loc>http://www.example.com/ok</loc><lastmod>" + strings.Repeat("9", maxField+1) + "</lastmod></url></urlset>"
	res := parseString(t, base, body, Options{})
	want := &Result{Kind: KindURLSet, URLs: []Entry{{Loc: "http://www.example.com/ok"}}, Skipped: 1}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("Parse(over-long fields) mismatch (-want +got):\n%s", diff)
	}
}
