package crawl

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/parse"
)

// TestFieldCaps: a page's title and description, its links' anchor texts
// and its items' field values are cut at their caps, on a UTF-8 boundary,
// and the cut is recorded where SQL finds it.
func TestFieldCaps(t *testing.T) {
	long := strings.Repeat("é", 20000) // 40,000 bytes
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		case "/":
			fmt.Fprintf(w, `<html><head><title>%s</title><meta name="description" content="%s"></head>
				<body><a href="/short">short</a> <a href="/long">%s</a>
				<div class="p"><h1>%s</h1><p>ab</p><p>%s</p><p>%s</p></div></body></html>`, long, long, long, long, long, long)
		case "/short":
			fmt.Fprint(w, `<html><head><title>Short</title></head><body><a href="/">home</a><div class="p"><h1>ok</h1></div></body></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Parse.MaxTitle = 1000
	cfg.Parse.MaxDescription = 2001
	cfg.Parse.MaxAnchor = 101
	cfg.Parse.MaxItemField = 3000
	cfg.Extract = []parse.RuleSet{{Name: "p", Match: "*", Root: "div.p", Fields: []parse.Field{
		{Name: "name", Selector: "h1"},
		{Name: "paras", Selector: "p", Many: true},
	}}}
	crawlOnce(t, cfg)
	pages := queryMap(t, cfg.Database, `SELECT url, coalesce(length(CAST(title AS BLOB)), 0) || ' ' ||
		coalesce(length(CAST(description AS BLOB)), 0) || ' ' || coalesce(fields_truncated, '-') FROM pages`)
	for u, want := range map[string]string{srv.URL + "/": "1000 2000 title,description,anchor", srv.URL + "/short": "5 0 -"} {
		if got := pages[u]; got != want {
			t.Errorf("page %s: title bytes, description bytes, fields_truncated = %q, want %q", u, got, want)
		}
	}
	anchors := queryMap(t, cfg.Database, `SELECT to_url, anchor FROM links`)
	if a := anchors[srv.URL+"/long"]; len(a) != 100 || !utf8.ValidString(a) {
		t.Errorf("anchor of /long: %d bytes (valid UTF-8: %v), want 100", len(a), utf8.ValidString(a))
	}
	items := queryMap(t, cfg.Database, `SELECT url, length(CAST(json_extract(data, '$.name') AS BLOB)) || ' ' ||
		coalesce((SELECT sum(length(CAST(value AS BLOB))) FROM json_each(data, '$.paras')), 0) || ' ' ||
		coalesce(truncated, '-') FROM items`)
	// name: 3,000 bytes; paras: "ab", then what fits of 3,000 bytes in all.
	for u, want := range map[string]string{srv.URL + "/": "3000 3000 name,paras", srv.URL + "/short": "2 0 -"} {
		if got := items[u]; got != want {
			t.Errorf("item of %s: name bytes, paras bytes, truncated = %q, want %q", u, got, want)
		}
	}
}
