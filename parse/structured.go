package parse

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// jsonLD records the content of a JSON-LD script; nil is an empty script.
func (s *streamReader) jsonLD(content []byte) {
	if raw := jsonLD(content); raw != nil {
		s.page.JSONLD = append(s.page.JSONLD, raw)
	} else {
		s.page.InvalidJSONLD++
	}
}

// jsonLD returns a copy of the JSON in the content of a JSON-LD script, or
// nil if it is not valid JSON. The HTML comment and CDATA wrappers some pages
// put around it are removed, and invalid UTF-8 inside strings becomes U+FFFD.
func jsonLD(s []byte) json.RawMessage {
	b := bytes.TrimSpace(s)
	for _, w := range [...][2]string{{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"//<![CDATA[", "//]]>"}} {
		if bytes.HasPrefix(b, []byte(w[0])) && bytes.HasSuffix(b, []byte(w[1])) && len(b) >= len(w[0])+len(w[1]) {
			b = bytes.TrimSpace(b[len(w[0]) : len(b)-len(w[1])])
		}
	}
	if !json.Valid(b) {
		return nil
	}
	if !utf8.Valid(b) {
		return json.RawMessage(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	return json.RawMessage(bytes.Clone(b))
}

// socialMeta records an OpenGraph (og:*) or Twitter card (twitter:*) meta
// element; key is the lowercased property or name.
func (s *streamReader) socialMeta(key string, content []byte) {
	var m *map[string]string
	switch {
	case strings.HasPrefix(key, "og:"):
		m, key = &s.page.OpenGraph, key[len("og:"):]
	case strings.HasPrefix(key, "twitter:"):
		m, key = &s.page.Twitter, key[len("twitter:"):]
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
		(*m)[key] = strings.ToValidUTF8(string(bytes.TrimSpace(content)), "\uFFFD")
		if s.bodyStarted && s.framesetOK {
			s.bodyMark.socialKeys = append(s.bodyMark.socialKeys, socialKey{m, key})
		}
	}
}
