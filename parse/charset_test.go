package parse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

const prescanCases = "../../shared/testdata/html5lib-encoding-prescan-cases.json"

// TestPrescanConformance checks the encoding picked from a BOM or a <meta>
// prescan against the html5lib-tests encoding cases, which assume no
// transport-layer charset and a windows-1252 default.
//
// Cases tests1.dat#47 to #53 put the <meta> after the first 1024 bytes, where
// a strict prescan stops; they expect the parser's later "change the
// encoding" step to honour it. They pass because the prescan, like
// Chromium's, carries on while the document is still in its <head>.
func TestPrescanConformance(t *testing.T) {
	// prescanDivergences lists cases whose expected encoding the sniffer
	// intentionally does not pick, keyed "file#index", with the reason. The
	// test fails if a listed case starts passing.
	prescanDivergences := map[string]string{}
	data, err := os.ReadFile(prescanCases)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found", prescanCases)
	}
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Cases []struct {
			File       string  `json:"file"`
			Index      int     `json:"index"`
			Data       *string `json:"data"`
			DataBase64 string  `json:"data_base64"`
			Encoding   string  `json:"encoding"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("decode %s: %v", prescanCases, err)
	}
	if len(file.Cases) == 0 {
		t.Fatalf("%s holds no cases", prescanCases)
	}
	passed := 0
	seen := map[string]bool{}
	for _, c := range file.Cases {
		name := fmt.Sprintf("%s#%d", path.Base(c.File), c.Index)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			input := []byte(nil)
			if c.Data != nil {
				input = []byte(*c.Data)
			} else {
				input, err = base64.StdEncoding.DecodeString(c.DataBase64)
				if err != nil {
					t.Fatalf("decode data_base64: %v", err)
				}
			}
			_, want := lookupEncoding([]byte(c.Encoding))
			if want == "" {
				t.Fatalf("expected encoding %q is not a WHATWG label", c.Encoding)
			}
			_, got, _, _ := sniffEncoding(input, "")
			if got == "" {
				got = "windows-1252"
			}
			reason, divergent := prescanDivergences[name]
			switch {
			case got == want && divergent:
				t.Errorf("sniffEncoding(%.60q) = %q as expected, but the case is listed as a divergence (%s)", input, got, reason)
			case got != want && !divergent:
				t.Errorf("sniffEncoding(%.60q) = %q, want %q", input, got, want)
			}
			if got == want {
				passed++
			}
		})
	}
	for name := range prescanDivergences {
		if !seen[name] {
			t.Errorf("divergence %s names no case", name)
		}
	}
	t.Logf("html5lib encoding cases: %d/%d pass, %d listed divergences", passed, len(file.Cases), len(prescanDivergences))
}

func TestToUTF8(t *testing.T) {
	long := strings.Repeat("<!-- padding -->\n", 100) // 1700 bytes
	tests := []struct {
		name        string
		body        string
		contentType string
		want        string
		wantEnc     string
	}{
		{"ascii", "<p>hello</p>", "", "<p>hello</p>", "utf-8"},
		{"utf-8 no declaration", "<p>h\u00e9llo</p>", "", "<p>h\u00e9llo</p>", "utf-8"},
		{"latin-1 no declaration", "<p>h\xe9llo \x80</p>", "", "<p>h\u00e9llo \u20ac</p>", "windows-1252"},
		{"latin-1 header", "<p>h\xe9llo</p>", "text/html; charset=ISO-8859-1", "<p>h\u00e9llo</p>", "windows-1252"},
		{"windows-1252 header quoted", "\x93q\x94", `text/html; charset="windows-1252"`, "\u201cq\u201d", "windows-1252"},
		{"header without space", "\xe9", "text/html;charset=latin1", "\u00e9", "windows-1252"},
		{"iso-8859-2 meta", `<meta charset="iso-8859-2"><p>` + "\xb1", "", `<meta charset="iso-8859-2"><p>` + "\u0105", "iso-8859-2"},
		{"shift_jis meta", `<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>` + "\x93\xfa\x96\x7b",
			"", `<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>日本`, "shift_jis"},
		{"shift_jis header", "\x83\x65\x83\x58\x83\x67", "text/html; charset=sjis", "テスト", "shift_jis"},
		{"euc-jp meta", `<meta charset=euc-jp>` + "\xc6\xfc\xcb\xdc", "", `<meta charset=euc-jp>日本`, "euc-jp"},
		{"header beats meta", `<meta charset="shift_jis">` + "\xe9", "text/html; charset=iso-8859-1", `<meta charset="shift_jis">` + "\u00e9", "windows-1252"},
		{"unknown header charset falls to meta", `<meta charset="iso-8859-2">` + "\xb1", "text/html; charset=bogus", `<meta charset="iso-8859-2">` + "\u0105", "iso-8859-2"},
		{"header utf-8 with invalid bytes", "a\xffb\xc3", "text/html; charset=utf-8", "a\uFFFDb\uFFFD", "utf-8"},
		{"utf-8 BOM", "\xef\xbb\xbf<p>\u00e9</p>", "text/html; charset=iso-8859-1", "<p>\u00e9</p>", "utf-8"},
		{"utf-8 BOM beats meta", "\xef\xbb\xbf<meta charset=latin1>\u00e9", "", "<meta charset=latin1>\u00e9", "utf-8"},
		{"utf-16le BOM", "\xff\xfe<\x00p\x00>\x00\xe9\x00", "text/html; charset=utf-8", "<p>\u00e9", "utf-16le"},
		{"utf-16be BOM", "\xfe\xff\x00<\x00p\x00>\x00\xe9", "", "<p>\u00e9", "utf-16be"},
		{"utf-16be BOM odd length", "\xfe\xff\x00a\x00", "", "a\uFFFD", "utf-16be"},
		{"utf-16 header no BOM", "a\x00b\x00", "text/html; charset=utf-16", "ab", "utf-16le"},
		{"meta utf-16 means utf-8", `<meta charset="utf-16">` + "\u00e9", "", `<meta charset="utf-16">` + "\u00e9", "utf-8"},
		{"meta x-user-defined means windows-1252", `<meta charset="x-user-defined">` + "\x80", "", `<meta charset="x-user-defined">` + "\u20ac", "windows-1252"},
		{"meta after 1024 bytes in head", long + `<meta charset="koi8-r">` + "\xc1", "", long + `<meta charset="koi8-r">` + "\u0430", "koi8-r"},
		{"meta after 1024 bytes in body", "<body>" + long + `<meta charset="koi8-r">` + "\xc1", "", "<body>" + long + `<meta charset="koi8-r">` + "\u00c1", "windows-1252"},
		{"truncated utf-8 tail stays utf-8", "<p>\u00e9\u00e9\xe6\x97", "", "<p>\u00e9\u00e9\uFFFD\uFFFD", "utf-8"},
		{"replacement encoding", "abc", "text/html; charset=iso-2022-kr", "\uFFFD", "replacement"},
		{"ascii in legacy encoding", "<p>plain</p>", "text/html; charset=shift_jis", "<p>plain</p>", "shift_jis"},
		{"empty", "", "", "", "utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, enc := ToUTF8([]byte(tt.body), tt.contentType)
			if string(got) != tt.want || enc != tt.wantEnc {
				t.Errorf("ToUTF8(%.80q, %q) = %.80q, %q, want %.80q, %q", tt.body, tt.contentType, got, enc, tt.want, tt.wantEnc)
			}
			if !utf8.Valid(got) {
				t.Errorf("ToUTF8(%.80q, %q) returned invalid UTF-8", tt.body, tt.contentType)
			}
		})
	}
}

// TestToUTF8FastPath checks that a body needing no conversion is returned
// without a copy.
func TestToUTF8FastPath(t *testing.T) {
	for _, tt := range []struct {
		body, contentType string
	}{
		{"<p>h\u00e9llo</p>", ""},
		{"<p>hello</p>", "text/html; charset=windows-1252"},
		{"\xef\xbb\xbf<p>h\u00e9llo</p>", ""},
	} {
		body := []byte(tt.body)
		got, _ := ToUTF8(body, tt.contentType)
		if len(got) == 0 || &got[len(got)-1] != &body[len(body)-1] {
			t.Errorf("ToUTF8(%q, %q) copied the body", tt.body, tt.contentType)
		}
	}
}

// TestCharsetPackageLacks checks what golang.org/x/net/html/charset gets
// wrong that ToUTF8 gets right, the reason ToUTF8 does not use it (see
// charset.go). When this test fails, x/net has caught up: use it.
func TestCharsetPackageLacks(t *testing.T) {
	head := "<head><title>t</title>" + strings.Repeat("<!-- padding -->\n", 70)
	tests := []struct {
		name, body, want string
	}{
		{"meta in script", `<script>document.write('<meta charset="iso-8859-2">')</script>` + "\xb1", "iso-8859-2"},
		{"meta after 1024 bytes of head", head + `<meta charset="koi8-r">` + "\xc1", "koi8-r"},
		{"utf-8 after an ascii kilobyte", strings.Repeat("a", 1100) + "\u00e9", "utf-8"},
	}
	for _, tt := range tests {
		if _, got := ToUTF8([]byte(tt.body), ""); got != tt.want {
			t.Errorf("%s: ToUTF8 picks %s, want %s", tt.name, got, tt.want)
		}
		if _, got, _ := charset.DetermineEncoding([]byte(tt.body), ""); got == tt.want {
			t.Errorf("%s: charset.DetermineEncoding now picks %s too: base ToUTF8 on it", tt.name, got)
		}
	}
}

func TestMetaCharset(t *testing.T) {
	tests := []struct {
		in   string
		want string // "-" for none
	}{
		{"text/html; charset=utf-8", "utf-8"},
		{"text/html;charset=UTF-8", "UTF-8"},
		{"text/html; CHARSET = 'koi8-r'", "koi8-r"},
		{`text/html; charset="shift_jis"; foo=bar`, "shift_jis"},
		{"text/html; charset=utf-8;q=1", "utf-8"},
		{"text/html; charset='utf-8", "-"},
		{"text/html; charset=", "-"},
		{"text/html; charsetx=1; charset=gbk", "gbk"},
		{"text/html", "-"},
		{"", "-"},
	}
	for _, tt := range tests {
		got := metaCharset([]byte(tt.in))
		want := []byte(tt.want)
		if tt.want == "-" {
			want = nil
		}
		if !bytes.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("metaCharset(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkToUTF8(b *testing.B) {
	page := benchPage()
	latin := bytes.ReplaceAll(page, []byte("e"), []byte("\xe9"))
	for _, bb := range []struct {
		name        string
		body        []byte
		contentType string
	}{
		{"utf8", page, ""},
		{"utf8-header", page, "text/html; charset=utf-8"},
		{"windows-1252", latin, "text/html; charset=windows-1252"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			b.ReportAllocs()
			for b.Loop() {
				ToUTF8(bb.body, bb.contentType)
			}
		})
	}
}

func TestCharsetSource(t *testing.T) {
	tests := []struct {
		body, contentType, want string
	}{
		{"\xEF\xBB\xBF<p>x", "text/html; charset=iso-8859-1", "byte order mark"},
		{"<p>x", "text/html; charset=iso-8859-1", "Content-Type header"},
		{`<meta charset="windows-1252"><p>x`, "text/html", "<meta> in the document"},
		{"<p>caf\xc3\xa9", "text/html", "no declaration: valid UTF-8"},
		{"<p>caf\xe9 au lait", "text/html", "no declaration: not valid UTF-8, read as windows-1252"},
	}
	for _, tt := range tests {
		if got := CharsetSource([]byte(tt.body), tt.contentType); got != tt.want {
			t.Errorf("CharsetSource(%q, %q) = %q, want %q", tt.body, tt.contentType, got, tt.want)
		}
	}
}
