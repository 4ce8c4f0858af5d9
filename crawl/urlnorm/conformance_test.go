package urlnorm

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The conformance vectors live outside the repository (see SOURCES.md
// there); the tests skip when they are absent.
const testdataDir = "../../../shared/testdata"

func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testdataDir, name))
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("conformance vectors %s not present", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// checkDivergences fails the test for every failing case that is not
// listed in known and for every listed case that passes or does not exist,
// so the list stays honest.
func checkDivergences(t *testing.T, failed map[string]string, seen map[string]bool, known map[string]string) {
	t.Helper()
	keys := make([]string, 0, len(failed))
	for k := range failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := known[k]; !ok {
			t.Errorf("unlisted divergence %q: %s", k, failed[k])
		}
	}
	for k, reason := range known {
		if !seen[k] {
			t.Errorf("listed case %q (%s) is not in the vectors", k, reason)
		} else if _, ok := failed[k]; !ok {
			t.Errorf("listed case %q (%s) now passes; remove it from the list", k, reason)
		}
	}
}

// crawlerCommonsDivergences are the crawler-commons BasicURLNormalizer cases
// whose expected value differs from our documented form, keyed by input.
var crawlerCommonsDivergences = map[string]string{
	"file:///foo/bar.txt":                      "only http and https are accepted",
	"file:/path/index.html":                    "only http and https are accepted",
	"file:/var/www/html/////./bar/index.html":  "only http and https are accepted",
	"file:/var/www/html/foo/../bar/index.html": "only http and https are accepted",
	"ftp:/":                                  "only http and https are accepted",
	"ftp://foo.com/index.html":               "only http and https are accepted",
	"foo.com/index.html":                     "no scheme is guessed: a scheme-less string is a relative reference",
	"http:////":                              "a URL without a host is an error, not \"http:/\"",
	"http:///////":                           "a URL without a host is an error, not \"http:/\"",
	"http://[::ffff:127.0.0.1]/":             "IPv6 is written the WHATWG way, embedded IPv4 as hex: [::ffff:7f00:1]",
	"http://foo.com/index?&=1&a=1":           "a parameter with an empty name (\"=1\") is kept: the server still receives it",
	"http://foo.com/index?=1&b=1&a=1":        "a parameter with an empty name (\"=1\") is kept: the server still receives it",
	"http://foo.com/index?a=1&b=":            "\"b=\" is kept as written, not shortened to \"b\"",
	"http://foo.com/index?b=&a=1":            "\"b=\" is kept as written, not shortened to \"b\"",
	"http://schöne.xn--bcher-kva.de/":        "idnNormalization=NONE is not offered: hosts are always punycode",
	"http://xn--schne-lua.xn--bcher-kva.de/": "idnNormalization=UNICODE is not offered: hosts are always punycode",
	"https://xn--90ax2c.xn--p1ai/":           "idnNormalization=UNICODE is not offered: hosts are always punycode",
}

func TestCrawlerCommonsConformance(t *testing.T) {
	var data struct {
		Cases []struct {
			Input    string  `json:"input"`
			Expected *string `json:"expected"`
			Options  struct {
				QueryParamsToRemove []string `json:"queryParamsToRemove"`
				IDNNormalization    string   `json:"idnNormalization"`
			} `json:"options"`
			Note string `json:"note"`
		} `json:"cases"`
	}
	readVectors(t, "crawlercommons-basicurlnormalizer-cases.json", &data)
	failed, seen, nfail := map[string]string{}, map[string]bool{}, 0
	for _, c := range data.Cases {
		// BasicURLNormalizer sorts the query and merges slashes by default.
		n, err := New(Options{StripParams: c.Options.QueryParamsToRemove, SortQuery: true, MergeSlashes: true})
		if err != nil {
			t.Fatal(err)
		}
		seen[c.Input] = true
		got, err := n.CanonicalString(c.Input)
		msg := ""
		switch {
		case c.Expected == nil && err == nil:
			msg = "got " + got + ", want an error"
		case c.Expected != nil && err != nil:
			msg = "error " + err.Error() + ", want " + *c.Expected
		case c.Expected != nil && got != *c.Expected:
			msg = "got " + got + ", want " + *c.Expected
		}
		if msg != "" {
			failed[c.Input] = msg
			nfail++
		}
	}
	checkDivergences(t, failed, seen, crawlerCommonsDivergences)
	t.Logf("crawler-commons: %d cases, %d pass, %d fail as listed (%d distinct inputs)",
		len(data.Cases), len(data.Cases)-nfail, nfail, len(crawlerCommonsDivergences))
}

// w3libDivergences are the w3lib canonicalize_url cases whose expected
// value differs from our documented form, keyed by input and, when
// present, the keyword arguments.
var w3libDivergences = map[string]string{
	"?b=1":                             "a relative reference needs a base",
	"a#frag":                           "a relative reference needs a base",
	"a?b=1#frag":                       "a relative reference needs a base",
	"a#frag {\"keep_fragments\":true}": "a relative reference needs a base",

	"http://[::1]/do?a=1#frag {\"keep_fragments\":true}":                                                                                          "fragments are always dropped",
	"http://www.example.com/path/to/%23/foo/bar#frag {\"keep_fragments\":true}":                                                                   "fragments are always dropped",
	"http://www.example.com/path/to/%23/foo/bar?url=http%3A%2F%2Fwww.example.com%2F%2Fpath%2Fto%2F%23%2Fbar%2Ffoo#frag {\"keep_fragments\":true}": "fragments are always dropped",
	"http://user:pass@www.example.com/do?a=1#frag {\"keep_fragments\":true}":                                                                      "fragments are always dropped",

	"http://user:pass@www.example.com/do?a=1#frag": "userinfo is dropped",
	"http://user:pass@www.example.com:81/do?now=1": "userinfo is dropped",
	"http://user:pass@例え.jp:8080/p":                "userinfo is dropped",
	"http://user@例え.jp/path":                       "userinfo is dropped",
	"sftp://UsEr:PaSsWoRd@www.EXAMPLE.com/":        "only http and https are accepted",

	"http://www.example.com/do?b=&a=2 {\"keep_blank_values\":false}":    "parameters with empty values are always kept",
	"http://www.example.com/do?b=&c&a=2 {\"keep_blank_values\":false}":  "parameters with empty values are always kept",
	"http://www.example.com/do?b=&c&a=2":                                "a parameter without \"=\" (\"c\") is kept as written, not rewritten \"c=\"",
	"http://www.example.com/do?1750,4":                                  "the query is not re-encoded as a form: \",\" is allowed and no \"=\" is added",
	"http://www.example.com/do?price(£)=500&a=1":                        "the query is not re-encoded as a form: \"(\" and \")\" are allowed",
	"http://www.example.com/do?q=a space&a=1":                           "a space becomes %20, not \"+\": \"+\" means space only in forms",
	"http://www.example.com/do?q=a%20space&a=1":                         "%20 stays %20, not \"+\": \"+\" means space only in forms",
	"http://www.example.com/do?c=3&b=5&b=2&a=50":                        "sorting is by name only and keeps the order of equal names, which servers may read as a list",
	"http://www.example.com/do?c=1;b=2;a=3 {\"query_separator\":\";\"}": "\";\" is not a parameter separator",

	"http://www.example.com/résumé?q=résumé {\"encoding\":\"latin1\"}":                                                      "the query is always encoded as UTF-8",
	"http://www.example.com/résumé?country=Россия {\"encoding\":\"cp1251\"}":                                                "the query is always encoded as UTF-8",
	"http://www.example.com/r\xe9sum\xe9?q=r\xe9sum\xe9 {\"_parse_url_encoding\":\"latin1\",\"_wrapped_in\":\"parse_url\"}": "bytes that are not UTF-8 are escaped as they are, not decoded as Latin-1",

	"http://.éxamplé.com/résumé?q=résumé": "IDNA as WHATWG does it allows an empty label; w3lib leaves the host unencoded",
	"http://www.éxamplééxamplééxamplééxamplééxamplééxamplééxamplééxamplééxamplééxamplééxamplé.com/résumé?q=résumé": "IDNA as WHATWG does it has no label length limit; w3lib leaves the host unencoded",
}

func TestW3libConformance(t *testing.T) {
	var data struct {
		Cases []struct {
			Input    json.RawMessage `json:"input"`
			Kwargs   map[string]any  `json:"kwargs"`
			Expected string          `json:"expected"`
		} `json:"cases"`
	}
	readVectors(t, "w3lib-canonicalize-url-cases.json", &data)
	// canonicalize_url sorts the query.
	n, err := New(Options{SortQuery: true})
	if err != nil {
		t.Fatal(err)
	}
	failed, seen, nfail := map[string]string{}, map[string]bool{}, 0
	for _, c := range data.Cases {
		var input string
		if err := json.Unmarshal(c.Input, &input); err != nil {
			var raw struct {
				B64 string `json:"bytes_b64"`
			}
			if err := json.Unmarshal(c.Input, &raw); err != nil {
				t.Fatalf("input %s: %v", c.Input, err)
			}
			b, err := base64.StdEncoding.DecodeString(raw.B64)
			if err != nil {
				t.Fatal(err)
			}
			input = string(b)
		}
		key := input
		if len(c.Kwargs) > 0 {
			kw, _ := json.Marshal(c.Kwargs)
			key += " " + string(kw)
		}
		seen[key] = true
		got, err := n.CanonicalString(input)
		msg := ""
		switch {
		case err != nil:
			msg = "error " + err.Error() + ", want " + c.Expected
		case got != c.Expected:
			msg = "got " + got + ", want " + c.Expected
		}
		if msg != "" {
			failed[key] = msg
			nfail++
		}
	}
	checkDivergences(t, failed, seen, w3libDivergences)
	t.Logf("w3lib: %d cases, %d pass, %d fail as listed (%d distinct inputs)",
		len(data.Cases), len(data.Cases)-nfail, nfail, len(w3libDivergences))
}

// wptDivergences are the WPT URL parser cases where Resolve differs from the
// URL Standard after both sides are put in canonical form, keyed by input
// and base.
var wptDivergences = map[string]string{
	"http://!\"$&'()*+,-.;=_`{}~/": "a host may hold only RFC 3986 reg-name characters; '\"', '`', '{' and '}' are not",
	"http://./":                    "a host of dots only is empty once trailing dots are removed",
	"http://../":                   "a host of dots only is empty once trailing dots are removed",
	"http://foo.09..":              "all trailing dots go before the IPv4 check, so \"foo.09\" is a bad IPv4 address (keeps the form a fixed point)",
	"http://host/?'":               "\"'\" is a sub-delim and stays in the query; WHATWG escapes it in special URLs",
	"https://www.example.com/path{\x7fpath.html?query'\x7f=query#fragment<\x7ffragment": "\"'\" is a sub-delim and stays in the query; WHATWG escapes it in special URLs",
	"https://xn--/":               "x/net/idna decodes the label \"xn--\" to nothing, leaving no host",
	"http://10.0.0.xn--pokxncvks": "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
	"http://10.0.0.XN--pokxncvks": "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
	"http://10.0.0.xN--pokxncvks": "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
	"http://a.b.c.xn--pokxncvks":  "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
	"http://a.b.c.XN--pokxncvks":  "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
	"http://a.b.c.Xn--pokxncvks":  "x/net/idna rejects a punycode label that decodes to characters UTS 46 maps",
}

func TestWPTConformance(t *testing.T) {
	var raw []json.RawMessage
	readVectors(t, "wpt-urltestdata.json", &raw)
	n, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	failed, seen := map[string]string{}, map[string]bool{}
	var valid, withBase, invalid, other, nfail int
	for _, r := range raw {
		var c struct {
			Input    string  `json:"input"`
			Base     *string `json:"base"`
			Href     string  `json:"href"`
			Protocol string  `json:"protocol"`
			Failure  bool    `json:"failure"`
		}
		if json.Unmarshal(r, &c) != nil {
			continue // a comment string
		}
		key := c.Input
		var base *url.URL
		if c.Base != nil {
			key += " against " + *c.Base
			if base, err = url.Parse(*c.Base); err != nil {
				base = nil
				key += " (base unparsable by net/url)"
			}
		}
		seen[key] = true
		got, err := n.Resolve(base, c.Input)
		msg := ""
		switch {
		case c.Failure:
			invalid++
			if err == nil {
				msg = "got " + got + ", want an error"
			}
		case c.Protocol != "http:" && c.Protocol != "https:":
			other++
			if !errors.Is(err, ErrScheme) {
				msg = "got " + got + ", want ErrScheme for " + c.Href
			}
		default:
			valid++
			if base != nil {
				withBase++
			}
			want, werr := canonicalOfHref(n, c.Href)
			switch {
			case werr != nil:
				msg = "canonical of href " + c.Href + ": " + werr.Error()
			case err != nil:
				msg = "error " + err.Error() + ", want " + want
			case got != want:
				msg = "got " + got + ", want " + want
			}
		}
		if msg != "" {
			failed[key] = msg
			nfail++
		}
	}
	checkDivergences(t, failed, seen, wptDivergences)
	t.Logf("WPT: %d cases (%d valid http(s), %d of them with a base; %d other schemes; %d failures): %d pass, %d fail as listed",
		valid+other+invalid, valid, withBase, other, invalid, valid+other+invalid-nfail, nfail)
}

// canonicalOfHref applies Canonical to WPT's expected href as parsed by
// net/url, which also checks that Canonical and Resolve agree. A few hrefs
// net/url rejects (a host with "{") go through CanonicalString instead.
func canonicalOfHref(n *Normalizer, href string) (string, error) {
	u, err := url.Parse(href)
	if err != nil {
		return n.CanonicalString(href)
	}
	return n.Canonical(u)
}
