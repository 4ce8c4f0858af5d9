package crawl

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Names of the page fields listed in pages.fields_truncated.
const (
	fieldTitle       = "title"
	fieldDescription = "description"
	fieldAnchor      = "anchor"
)

// cutUTF8 returns s cut to at most n bytes, on a character boundary, and
// whether it was cut.
func cutUTF8(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n]), true
}

// storeItems converts extracted items to the rows the store writes, each
// field value within parse.max_item_field bytes: a longer string is cut,
// and the values of a many field share the cap (those past it are
// dropped). The names of the fields cut go to the item's Truncated.
func storeItems(cfg *Config, items []parse.Item) []store.Item {
	max := int(cfg.Parse.MaxItemField)
	out := make([]store.Item, len(items))
	for i, it := range items {
		si := store.Item{Rule: it.Set, Index: it.Index, Data: it.Fields, Errors: it.Errors}
		for name, v := range it.Fields {
			if capped, cut := capValue(v, max); cut {
				si.Data[name] = capped
				si.Truncated = append(si.Truncated, name)
			}
		}
		slices.Sort(si.Truncated)
		out[i] = si
	}
	return out
}

// capValue cuts a field value (string, number, bool or a list of those) to
// max bytes of text; a number or bool counts as 8 bytes.
func capValue(v any, max int) (any, bool) {
	switch v := v.(type) {
	case string:
		return cutUTF8(v, max)
	case []any:
		left := max
		for i, e := range v {
			s, ok := e.(string)
			size := 8
			if ok {
				size = len(s)
			}
			if size <= left {
				left -= size
				continue
			}
			kept := v[:i:i]
			if ok && left > 0 {
				s, _ = cutUTF8(s, left)
				kept = append(kept, s)
			}
			return kept, true
		}
	}
	return v, false
}
