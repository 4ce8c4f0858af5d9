package testsite

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
)

func TestHostileHosts(t *testing.T) {
	s := startSite(t, Options{Hosts: 2, PagesPerHost: 20, Hostile: true})
	roles := s.HostileHosts()
	if len(roles) != len(hostileRoles) {
		t.Fatalf("HostileHosts() has %d roles, want %d", len(roles), len(hostileRoles))
	}
	seeds := s.Seeds()
	if len(seeds) != 2+len(hostileRoles) {
		t.Errorf("len(Seeds()) = %d, want %d", len(seeds), 2+len(hostileRoles))
	}
	for i, role := range hostileRoles {
		if want := "http://" + roles[role] + "/"; seeds[2+i] != want {
			t.Errorf("Seeds()[%d] = %q, want %q", 2+i, seeds[2+i], want)
		}
		if want := "127.0.0." + strconv.Itoa(4+i) + ":" + strconv.Itoa(s.Port()); roles[role] != want {
			t.Errorf("HostileHosts()[%q] = %q, want %q", role, roles[role], want)
		}
	}
	c := noRedirect(t)
	for _, u := range seeds[2:] {
		if strings.Contains(u, roles[RoleRobots500]) || strings.Contains(u, roles[RoleRateLimited]) || strings.Contains(u, roles[RoleFlaky]) {
			continue // their "/" answers are tested below
		}
		if r := get(t, c, u); r.status != 200 || !bytes.Contains(r.body, []byte("<a href=")) {
			t.Errorf("GET %s: status %d, body %q; want 200 with links", u, r.status, r.body)
		}
	}
	expected := s.Expected()
	for u := range expected {
		for _, h := range roles {
			if strings.Contains(u, h) {
				t.Errorf("Expected() lists hostile URL %s", u)
			}
		}
	}

	type step struct {
		path     string
		status   int
		header   string // "Name: value", value "*" for any non-empty
		contains string
	}
	tests := []struct {
		role  string
		steps []step
	}{
		{RoleRobots404, []step{
			{"/robots.txt", 404, "", ""},
			{"/", 200, "", `href="/secret/1"`},
			{"/secret/1", 200, "", ""},
		}},
		{RoleRobots500, []step{
			{"/robots.txt", 500, "", ""},
			{"/", 200, "", `href="/page/1"`},
		}},
		{RoleRobotsRedirect, []step{
			{"/robots.txt", 301, "Location: /real-robots.txt", ""},
			{"/real-robots.txt", 200, "", "User-agent: *\nDisallow: /secret/\n"},
			{"/", 200, "", `href="/secret/2"`},
		}},
		{RoleCrawlDelay, []step{
			{"/robots.txt", 200, "", "Crawl-delay: 1\n"},
			{"/", 200, "", `href="/slow-headers"`},
			{"/page/5", 200, "", `href="http://` + roles[RoleRobots500] + `/page/3"`},
			{"/page/5", 200, "", `href="http://` + roles[RoleRobots500] + `/page/5"`},
			{"/page/5", 200, "", `href="http://` + roles[RoleDepthOrder] + `/r"`},
			{"/slow-headers", 200, "", "slow headers"},
		}},
		{RoleDepthOrder, []step{
			{"/", 200, "", `href="/step-a"`},
			{"/step-a", 200, "", `href="/step-b"`},
			{"/step-l", 200, "", `href="/target"`},
			{"/step-m", 404, "", ""},
			{"/r", 302, "Location: /target", ""},
			{"/target", 200, "", ""},
		}},
		{RoleBomb, []step{
			{"/robots.txt", 200, "", "Sitemap: http://" + roles[RoleBomb] + "/sitemap.xml\n"},
			{"/", 200, "", `href="/archive.gz"`},
		}},
		{RoleRateLimited, []step{
			{"/robots.txt", 200, "", "Allow: /"},
			{"/", 429, "Retry-After: 2", ""},
			{"/", 200, "", `href="/item/6"`},
			{"/item/1", 429, "Retry-After: 2", ""},
			{"/item/1", 200, "", ""},
			{"/item/2", 429, "Retry-After: 2", ""},
			{"/item/2", 503, "Retry-After: *", ""},
			{"/item/2", 200, "", ""},
			{"/item/2", 200, "", ""},
			{"/item/6", 429, "", ""},
			{"/item/6", 503, "", ""},
			{"/item/6", 200, "", `href="http://` + roles[RoleRobots500] + `/page/3"`},
		}},
		{RoleFlaky, []step{
			{"/p/3", 500, "", ""},
			{"/p/3", 500, "", ""},
			{"/p/3", 200, "", ""},
			{"/p/3", 200, "", ""},
			{"/", 500, "", ""},
		}},
		{RoleLoops, []step{
			{"/loop/a", 302, "Location: /loop/b", ""},
			{"/loop/b", 302, "Location: /loop/a", ""},
			{"/loop/self", 301, "Location: /loop/self", ""},
			{"/chain/0", 302, "Location: /chain/1", ""},
			{"/chain/19", 302, "Location: /chain/20", ""},
			{"/chain/20", 200, "", ""},
			{"/chain/21", 404, "", ""},
		}},
		{RoleTraps, []step{
			{"/", 200, "", `href="a/"`},
			{"/calendar/2026/11", 200, "", `href="/calendar/2026/12"`},
			{"/calendar/2026/12", 200, "", `href="/calendar/2027/1"`},
			{"/calendar/2026/1", 200, "", `href="/calendar/2025/12"`},
			{"/calendar/2026/13", 404, "", ""},
			{"/a/a/a/", 200, "", `href="a/"`},
			{"/search?q=7&sort=name", 200, "", `href="/search?q=8&amp;sort=`},
			{"/search?q=7&sort=name&page=3", 200, "", `href="/search?q=7&amp;sort=name&amp;page=4"`},
		}},
		{RoleSSRF, []step{
			{"/", 200, "", `href="http://169.254.169.254/latest/meta-data/"`},
			{"/", 200, "", `href="http://[::1]:` + strconv.Itoa(s.Port()) + `/"`},
			{"/", 200, "", `href="http://localhost:` + strconv.Itoa(s.Port()) + `/"`},
			{"/", 200, "", `href="http://10.0.0.1/"`},
			{"/go-private", 302, "Location: http://169.254.169.254/", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.role, func(t *testing.T) {
			base := "http://" + roles[tt.role]
			for i, st := range tt.steps {
				r := get(t, c, base+st.path)
				if r.status != st.status {
					t.Errorf("step %d: GET %s: status %d, want %d", i, st.path, r.status, st.status)
				}
				if st.header != "" {
					name, want, _ := strings.Cut(st.header, ": ")
					got := r.header.Get(name)
					if want == "*" && got == "" || want != "*" && got != want {
						t.Errorf("step %d: GET %s: %s = %q, want %q", i, st.path, name, got, want)
					}
				}
				if !bytes.Contains(r.body, []byte(st.contains)) {
					t.Errorf("step %d: GET %s: body %q lacks %q", i, st.path, r.body, st.contains)
				}
			}
		})
	}

	t.Run("ratelimited-http-date", func(t *testing.T) {
		base := "http://" + roles[RoleRateLimited]
		get(t, c, base+"/item/4")
		r := get(t, c, base+"/item/4")
		when, err := http.ParseTime(r.header.Get("Retry-After"))
		if r.status != 503 || err != nil {
			t.Fatalf("second GET /item/4: status %d, Retry-After %q (%v); want 503 with an HTTP date", r.status, r.header.Get("Retry-After"), err)
		}
		if when.Before(time.Now().Add(-time.Minute)) {
			t.Errorf("Retry-After %v is in the past", when)
		}
	})

	t.Run("drip", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		resp := readDrip(ctx, t, roles[RoleDrip])
		if resp.ContentLength != -1 {
			t.Errorf("drip Content-Length = %d, want unknown", resp.ContentLength)
		}
		cancel()
		resp.Body.Close()
		select {
		case <-s.bad.dripExit:
		case <-time.After(30 * time.Second):
			t.Fatalf("drip handler still writing 30 s after the client left")
		}
	})

	t.Run("huge", func(t *testing.T) {
		for _, p := range []string{"/huge", "/huge-length"} {
			resp, err := c.Get("http://" + roles[RoleHuge] + p)
			if err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			wantLen := int64(-1)
			if p == "/huge-length" {
				wantLen = HugeSize
			}
			if resp.ContentLength != wantLen {
				t.Errorf("GET %s: Content-Length %d, want %d", p, resp.ContentLength, wantLen)
			}
			head := make([]byte, 15)
			io.ReadFull(resp.Body, head)
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if string(head) != "<!DOCTYPE html>" || err != nil || n+15 != HugeSize {
				t.Errorf("GET %s: %q then %d bytes (%v), want <!DOCTYPE html> and %d bytes in all", p, head, n, err, HugeSize)
			}
		}
	})

	t.Run("bomb", func(t *testing.T) {
		for _, tc := range []struct {
			path, encoding string
			decode         func(io.Reader) (io.Reader, error)
		}{
			{"/bomb.html", "gzip", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
			{"/bomb-br.html", "br", func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil }},
		} {
			r := get(t, c, "http://"+roles[RoleBomb]+tc.path)
			if got := r.header.Get("Content-Encoding"); r.status != 200 || got != tc.encoding {
				t.Errorf("GET %s: status %d, Content-Encoding %q, want 200 and %q", tc.path, r.status, got, tc.encoding)
			}
			if n := len(r.body); n >= 2<<20 {
				t.Errorf("GET %s: %d compressed bytes, want under 2 MB", tc.path, n)
			}
			t.Logf("%s: %d bytes", tc.path, len(r.body))
			if tc.encoding == "gzip" && len(r.body) > 4 {
				if size := binary.LittleEndian.Uint32(r.body[len(r.body)-4:]); size != uint32(GzipBombSize) {
					t.Errorf("gzip trailer size %d, want %d", size, uint32(GzipBombSize))
				}
			}
			// Inflate only the first MiB.
			zr, err := tc.decode(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("%s: %v", tc.path, err)
			}
			first := make([]byte, 1<<20)
			if _, err := io.ReadFull(zr, first); err != nil || bytes.ContainsFunc(first, func(r rune) bool { return r != 0 }) {
				t.Errorf("%s: first MiB inflated with error %v or non-zero bytes", tc.path, err)
			}
		}
	})

	t.Run("slow-headers", func(t *testing.T) {
		start := time.Now()
		r := get(t, c, "http://"+roles[RoleCrawlDelay]+"/slow-headers")
		if took := time.Since(start); r.status != 200 || took < SlowHeaders {
			t.Errorf("GET /slow-headers: status %d after %v, want 200 after at least %v", r.status, took, SlowHeaders)
		}
	})

	t.Run("content-type-gzip", func(t *testing.T) {
		for _, p := range []string{"/sitemap.xml", "/archive.gz"} {
			r := get(t, c, "http://"+roles[RoleBomb]+p)
			if r.status != 200 || r.header.Get("Content-Type") != "application/x-gzip" || r.header.Get("Content-Encoding") != "" {
				t.Errorf("GET %s: status %d, Content-Type %q, Content-Encoding %q; want 200, application/x-gzip and none",
					p, r.status, r.header.Get("Content-Type"), r.header.Get("Content-Encoding"))
			}
			if n := len(r.body); n >= 2<<20 {
				t.Errorf("GET %s: %d bytes, want under 2 MB", p, n)
			}
			if len(r.body) > 4 {
				if size := binary.LittleEndian.Uint32(r.body[len(r.body)-4:]); size != uint32(GzipBombSize) {
					t.Errorf("%s: gzip trailer size %d, want %d", p, size, uint32(GzipBombSize))
				}
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			first := make([]byte, 1<<20)
			if _, err := io.ReadFull(zr, first); err != nil || bytes.ContainsFunc(first, func(r rune) bool { return r != ' ' }) {
				t.Errorf("%s: first MiB inflated with error %v or bytes other than spaces", p, err)
			}
		}
	})

	t.Run("charsets", func(t *testing.T) {
		tests := []struct {
			path, ctype, title, text string
		}{
			{"/latin1.html", "text/html; charset=ISO-8859-1", Latin1Title, Latin1Text},
			{"/cp1252.html", "text/html", CP1252Title, CP1252Text},
			{"/utf16.html", "text/html", UTF16Title, UTF16Text},
			{"/invalid-utf8.html", "text/html; charset=utf-8", InvalidTitle, "bad \ufffd\ufffd bytes"},
			{"/malformed.html", "text/html; charset=utf-8", "Malformed page", MalformedText},
		}
		for _, tt := range tests {
			r := get(t, c, "http://"+roles[RoleCharsets]+tt.path)
			if got := r.header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.ctype)
			}
			dec, err := charset.NewReader(bytes.NewReader(r.body), r.header.Get("Content-Type"))
			if err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			doc, err := html.Parse(dec)
			if err != nil {
				t.Fatalf("%s: %v", tt.path, err)
			}
			title, text, links := textOf(doc)
			if title != tt.title {
				t.Errorf("%s: title %q, want %q", tt.path, title, tt.title)
			}
			if !strings.Contains(text, tt.text) {
				t.Errorf("%s: text %q lacks %q", tt.path, text, tt.text)
			}
			// The HTML5 parser reopens the unclosed <a> inside the <div>,
			// so /latin1.html appears more than once.
			if slices.Sort(links); tt.path == "/malformed.html" && !slices.Equal(slices.Compact(links), []string{"/latin1.html", "/utf16.html"}) {
				t.Errorf("%s: links %q, want /latin1.html and /utf16.html", tt.path, links)
			}
		}
		if r := get(t, c, "http://"+roles[RoleCharsets]+"/latin1.html"); !bytes.Contains(r.body, []byte("Caf\xe9")) {
			t.Errorf("latin1.html is not Latin-1 encoded: %q", r.body)
		}
		if r := get(t, c, "http://"+roles[RoleCharsets]+"/utf16.html"); !bytes.HasPrefix(r.body, []byte{0xff, 0xfe, '<', 0}) {
			t.Errorf("utf16.html does not start with a UTF-16LE BOM: % x", r.body[:4])
		}
	})
}

// textOf returns a parsed document's title, its body text and its <a href>s.
func textOf(doc *html.Node) (title, text string, links []string) {
	var b strings.Builder
	var walk func(n *html.Node, inTitle bool)
	walk = func(n *html.Node, inTitle bool) {
		switch {
		case n.Type == html.TextNode && inTitle:
			title += n.Data
		case n.Type == html.TextNode:
			b.WriteString(n.Data)
		case n.Type == html.ElementNode && n.Data == "a":
			for _, a := range n.Attr {
				if a.Key == "href" {
					links = append(links, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inTitle || n.Type == html.ElementNode && n.Data == "title")
		}
	}
	walk(doc, false)
	return title, b.String(), links
}

func TestBombBuilders(t *testing.T) {
	const size = 8 << 20
	gz := gzipFill(0, size, gzipBombChunk)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	// gzip.Reader checks the CRC-32 and size at the end.
	n, err := io.Copy(zeroChecker{t}, zr)
	if err != nil || n != size {
		t.Errorf("gzipFill(0, %d) inflated to %d bytes, err %v", size, n, err)
	}
	br := brotliZeros(size, brotliBombChunk)
	if len(br) > 1000 {
		t.Errorf("brotliZeros(%d) is %d bytes: the encoder never reached a steady state", size, len(br))
	}
	n, err = io.Copy(zeroChecker{t}, brotli.NewReader(bytes.NewReader(br)))
	if err != nil || n != size {
		t.Errorf("brotliZeros(%d) inflated to %d bytes, err %v", size, n, err)
	}
}

type zeroChecker struct{ t *testing.T }

func (z zeroChecker) Write(p []byte) (int, error) {
	if bytes.ContainsFunc(p, func(r rune) bool { return r != 0 }) {
		z.t.Errorf("inflated bomb has non-zero bytes")
	}
	return len(p), nil
}
