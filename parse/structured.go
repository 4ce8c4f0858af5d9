package parse

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// script records a <script> element holding JSON-LD.
func (c *collector) script(n *html.Node) {
	typ, _ := attr(n, "type")
	if typ, _, _ = strings.Cut(typ, ";"); !strings.EqualFold(strings.TrimSpace(typ), "application/ld+json") {
		return
	}
	if raw := jsonLD(childText(n)); raw != nil {
		c.page.JSONLD = append(c.page.JSONLD, raw)
	} else {
		c.page.InvalidJSONLD++
	}
}

// jsonLD returns the JSON in the content of a JSON-LD script, or nil if it is
// not valid JSON. The HTML comment and CDATA wrappers some pages put around
// it are removed, and invalid UTF-8 inside strings becomes U+FFFD.
func jsonLD(s string) json.RawMessage {
	b := bytes.TrimSpace([]byte(s))
	for _, w := range [...][2]string{{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"//<![CDATA[", "//]]>"}} {
		if bytes.HasPrefix(b, []byte(w[0])) && bytes.HasSuffix(b, []byte(w[1])) && len(b) >= len(w[0])+len(w[1]) {
			b = bytes.TrimSpace(b[len(w[0]) : len(b)-len(w[1])])
		}
	}
	if !json.Valid(b) {
		return nil
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return json.RawMessage(b)
}

// socialMeta records an OpenGraph (og:*) or Twitter card (twitter:*) meta
// element; key is the lowercased property or name.
func (c *collector) socialMeta(key, content string) {
	var m *map[string]string
	switch {
	case strings.HasPrefix(key, "og:"):
		m, key = &c.page.OpenGraph, key[len("og:"):]
	case strings.HasPrefix(key, "twitter:"):
		m, key = &c.page.Twitter, key[len("twitter:"):]
	default:
		return
	}
	if key == "" {
		return
	}
	key = strings.ToValidUTF8(key, "\uFFFD")
	if *m == nil {
		*m = make(map[string]string)
	}
	if _, ok := (*m)[key]; !ok {
		(*m)[key] = strings.ToValidUTF8(strings.TrimSpace(content), "\uFFFD")
	}
}
