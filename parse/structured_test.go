package parse

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestJSONLD(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []string
		invalid int
	}{
		{"none", `<script>var x = {"a": 1}</script>`, nil, 0},
		{"object", `<script type="application/ld+json">
			{"@context": "https://schema.org", "@type": "Article", "headline": "H"}
		</script>`, []string{`{"@context": "https://schema.org", "@type": "Article", "headline": "H"}`}, 0},
		{"array stays one value", `<script type="application/ld+json">[{"@type":"A"},{"@type":"B"}]</script>`,
			[]string{`[{"@type":"A"},{"@type":"B"}]`}, 0},
		{"type case and parameters", `<script type=" Application/LD+JSON; charset=utf-8 ">{"a":1}</script>`, []string{`{"a":1}`}, 0},
		{"several in order", `<head><script type="application/ld+json">{"n":1}</script></head>` +
			`<body><script type="application/ld+json">{"n":2}</script>`, []string{`{"n":1}`, `{"n":2}`}, 0},
		{"invalid skipped and counted", `<script type="application/ld+json">{"a":1,}</script>` +
			`<script type="application/ld+json">{"b":2}</script><script type="application/ld+json"></script>`,
			[]string{`{"b":2}`}, 2},
		{"markup inside strings", `<script type="application/ld+json">{"html":"<p>x</p> &amp; </scrip"}</script>`,
			[]string{`{"html":"<p>x</p> &amp; </scrip"}`}, 0},
		{"comment wrapper", "<script type=\"application/ld+json\"><!--\n{\"a\":1}\n--></script>", []string{`{"a":1}`}, 0},
		{"CDATA wrapper", "<script type=\"application/ld+json\">//<![CDATA[\n{\"a\":1}\n//]]></script>", []string{`{"a":1}`}, 0},
		{"invalid UTF-8 replaced", "<script type=\"application/ld+json\">{\"a\":\"\xff\"}</script>", []string{"{\"a\":\"\uFFFD\"}"}, 0},
		{"in template ignored", `<template><script type="application/ld+json">{"a":1}</script></template>`, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{StructuredData: true})
			var got []string
			for _, raw := range p.JSONLD {
				if !json.Valid(raw) {
					t.Errorf("JSONLD value %q is not valid JSON", raw)
				}
				got = append(got, string(raw))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || p.InvalidJSONLD != tt.invalid {
				t.Errorf("HTML(%q) JSON-LD (-want +got):\n%s\nInvalidJSONLD = %d, want %d", tt.body, diff, p.InvalidJSONLD, tt.invalid)
			}
		})
	}
}

func TestSocialMetadata(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		og, twt map[string]string
	}{
		{"none", `<meta name=description content=d>`, nil, nil},
		{"open graph", `<meta property="og:title" content=" Title "><meta property="og:image" content="https://i.example/a.png">` +
			`<meta property="og:image:width" content="1200"><meta property="OG:Type" content="article">`,
			map[string]string{"title": "Title", "image": "https://i.example/a.png", "image:width": "1200", "type": "article"}, nil},
		{"first value wins", `<meta property="og:image" content="one"><meta property="og:image" content="two">`,
			map[string]string{"image": "one"}, nil},
		{"og in name attribute", `<meta name="og:site_name" content="Site">`, map[string]string{"site_name": "Site"}, nil},
		{"twitter", `<meta name="twitter:card" content="summary"><meta name="twitter:site" content="@site">` +
			`<meta property="twitter:creator" content="@me">`,
			nil, map[string]string{"card": "summary", "site": "@site", "creator": "@me"}},
		{"both", `<meta property="og:title" content="T"><meta name="twitter:title" content="TT">`,
			map[string]string{"title": "T"}, map[string]string{"title": "TT"}},
		{"empty content kept", `<meta property="og:description" content="">`, map[string]string{"description": ""}, nil},
		{"no content ignored", `<meta property="og:description">`, nil, nil},
		{"bare prefix ignored", `<meta property="og:" content="x"><meta name="twitter:" content="y">`, nil, nil},
		{"other namespaces ignored", `<meta property="article:author" content="a"><meta property="fb:app_id" content="1">`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseTestPage(t, tt.body, Options{StructuredData: true})
			if diff := cmp.Diff(tt.og, p.OpenGraph); diff != "" {
				t.Errorf("HTML(%q).OpenGraph (-want +got):\n%s", tt.body, diff)
			}
			if diff := cmp.Diff(tt.twt, p.Twitter); diff != "" {
				t.Errorf("HTML(%q).Twitter (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

// TestStructuredDataOff checks that structured data is left alone unless
// asked for.
func TestStructuredDataOff(t *testing.T) {
	p := parseTestPage(t, `<meta property="og:title" content="T"><meta name="twitter:card" content="c">`+
		`<script type="application/ld+json">{"a":1}</script><script type="application/ld+json">bad</script>`, Options{})
	if p.OpenGraph != nil || p.Twitter != nil || p.JSONLD != nil || p.InvalidJSONLD != 0 {
		t.Errorf("HTML without StructuredData = %v, %v, %q, %d; want nothing", p.OpenGraph, p.Twitter, p.JSONLD, p.InvalidJSONLD)
	}
}
