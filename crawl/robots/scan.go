package robots

import "strings"

// key is the kind of a robots.txt line.
type key uint8

const (
	keyUnknown key = iota
	keyUserAgent
	keyAllow
	keyDisallow
	keySitemap
	keyCrawlDelay
)

// directive is one "key: value" line of a robots.txt file.
type directive struct {
	line  int    // 1-based
	kind  key    // keyUnknown for keys this package does not read
	value string // without surrounding white space
	text  string // the whole line without its comment and surrounding white space; value is a suffix of it
}

// scan calls fn for each line of body that holds a key and a value, in order.
// Lines end at CR, LF or CRLF; a prefix of a UTF-8 byte order mark at the very
// start is skipped.
func scan(body string, fn func(directive)) {
	const bom = "\xEF\xBB\xBF"
	i := 0
	for i < len(bom) && i < len(body) && body[i] == bom[i] {
		i++
	}
	body = body[i:]
	for n := 1; ; n++ {
		end := strings.IndexAny(body, "\r\n")
		line := body
		if end >= 0 {
			line = body[:end]
		}
		if d, ok := parseLine(n, line); ok {
			fn(d)
		}
		if end < 0 {
			return
		}
		if body[end] == '\r' && end+1 < len(body) && body[end+1] == '\n' {
			end++
		}
		body = body[end+1:]
	}
}

// parseLine splits one line into a key and a value. The separator is the first
// colon; a line with no colon is accepted only as exactly two words separated
// by white space, as the RFC 9309 reference parser accepts "disallow /x".
func parseLine(n int, line string) (directive, bool) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	line = trimSpace(line)
	var k, v string
	if i := strings.IndexByte(line, ':'); i >= 0 {
		k, v = trimSpace(line[:i]), trimSpace(line[i+1:])
	} else {
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			return directive{}, false
		}
		k, v = line[:i], trimSpace(line[i:])
		if strings.ContainsAny(v, " \t") {
			return directive{}, false
		}
	}
	if k == "" {
		return directive{}, false
	}
	return directive{line: n, kind: keyKind(k), value: v, text: line}, true
}

// keyKind classifies a key, ignoring ASCII case.
func keyKind(k string) key {
	switch {
	case equalFoldASCII(k, "user-agent"):
		return keyUserAgent
	case equalFoldASCII(k, "allow"):
		return keyAllow
	case equalFoldASCII(k, "disallow"):
		return keyDisallow
	case equalFoldASCII(k, "sitemap"):
		return keySitemap
	case equalFoldASCII(k, "crawl-delay"):
		return keyCrawlDelay
	}
	return keyUnknown
}

// equalFoldASCII is strings.EqualFold without Unicode folding, so that
// "uſer-agent" (with a long s) is not a user-agent line.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if toLower(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// isSpace reports ASCII white space other than line breaks.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}
