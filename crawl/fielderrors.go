package crawl

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// FieldErrorCount is how many items got one kind of extraction error in
// one field: "product.price: parse number …: no digits", 12 times.
type FieldErrorCount struct {
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Reason  string `json:"reason"` // the error with the values it quotes left out
	Count   int    `json:"count"`
	Example string `json:"example"` // one such error as written, values included
	URL     string `json:"url"`     // a page it happened on
}

// fieldError splits an item's error, `field "price": parse number "n/a":
// no digits` (or `field "tags"[2]: ...` for a many field), into the field
// and the reason.
var fieldError = regexp.MustCompile(`^field "([^"]*)"(?:\[\d+\])?: (.*)$`)

// quoted matches the values an error quotes (ruleQuote's "..." form).
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// fieldErrorTally counts extraction errors by rule set, field and reason.
type fieldErrorTally map[[3]string]*FieldErrorCount

// add counts the errors of one item of rule found on pageURL.
func (t fieldErrorTally) add(rule, pageURL string, errs []string) {
	for _, e := range errs {
		field, reason := "", e
		if m := fieldError.FindStringSubmatch(e); m != nil {
			field, reason = m[1], m[2]
		}
		example := reason
		reason = quoted.ReplaceAllString(reason, "…")
		k := [3]string{rule, field, reason}
		c := t[k]
		if c == nil {
			c = &FieldErrorCount{Rule: rule, Field: field, Reason: reason, Example: example, URL: pageURL}
			t[k] = c
		}
		c.Count++
	}
}

// top returns the n most frequent errors, most frequent first.
func (t fieldErrorTally) top(n int) []FieldErrorCount {
	out := make([]FieldErrorCount, 0, len(t))
	for _, c := range t {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b FieldErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Field, b.Field),
			strings.Compare(a.Reason, b.Reason))
	})
	return out[:min(n, len(out))]
}
