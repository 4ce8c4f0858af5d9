package crawl

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// gzipped returns body gzip-compressed.
func gzipped(t *testing.T, body []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if _, err := zw.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestGzipContentTypeCapped: a response whose Content-Type (not its
// Content-Encoding) says gzip, or whose path ends in .xml.gz, is kept as
// sent, within max_body_size: nothing inflates it past the cap. Gzipped
// sitemaps still work, whatever they are labelled.
func TestGzipContentTypeCapped(t *testing.T) {
	const maxBody = 64 << 10
	bomb := gzipped(t, bytes.Repeat([]byte(" "), 8<<20)) // 8 MiB of spaces, ~8 KB sent
	sitemap := func(paths ...string) []byte {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
		for _, p := range paths {
			fmt.Fprintf(&b, "<url><loc>%s</loc></url>", p)
		}
		b.WriteString("</urlset>")
		return gzipped(t, b.Bytes())
	}
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		send := func(ctype string, body []byte) {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body)
		}
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nAllow: /\nSitemap: %s/bomb.xml\nSitemap: %s/x-gzip.xml\nSitemap: %s/plain.xml.gz\n", base, base, base)
		case "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/data.gz">data</a> <a href="/page.xml.gz">xml.gz</a></html>`)
		case "/bomb.xml", "/data.gz":
			send("application/x-gzip", bomb)
		case "/page.xml.gz":
			send("text/html", bomb)
		case "/x-gzip.xml":
			send("application/x-gzip", sitemap(base+"/from-x-gzip"))
		case "/plain.xml.gz":
			send("application/octet-stream", sitemap(base+"/from-xml-gz"))
		default:
			fmt.Fprint(w, `<html><title>Leaf</title></html>`)
		}
	}))
	defer srv.Close()
	base = srv.URL
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxBodySize = maxBody
	crawlOnce(t, cfg)

	sizes := queryMap(t, cfg.Database, `SELECT url, size || ' ' || truncated FROM pages`)
	for _, p := range []string{"/bomb.xml", "/data.gz", "/page.xml.gz"} {
		got, ok := sizes[base+p]
		if !ok {
			t.Errorf("%s: no page row", p)
			continue
		}
		var size, trunc int
		fmt.Sscan(got, &size, &trunc)
		if size > maxBody || size != len(bomb) {
			t.Errorf("%s: stored %d bytes (truncated %d), want the %d bytes sent, under the %d-byte cap", p, size, trunc, len(bomb), maxBody)
		}
	}
	for _, p := range []string{"/from-x-gzip", "/from-xml-gz"} {
		if _, ok := sizes[base+p]; !ok {
			t.Errorf("%s, listed in a gzipped sitemap, was not fetched", p)
		}
	}
}
