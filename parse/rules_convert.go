package parse

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
)

// convert turns extracted text into the field's type.
func (t ruleType) convert(s string, base *url.URL) (any, error) {
	switch t {
	case ruleTypeInt:
		return ruleParseInt(s)
	case ruleTypeFloat:
		return ruleParseFloat(s)
	case ruleTypePrice:
		return ruleParsePrice(s)
	case ruleTypeBool:
		return ruleParseBool(s)
	case ruleTypeURL:
		return ruleResolveURL(s, base)
	case ruleTypeDate:
		return ruleParseDate(s)
	}
	return s, nil
}

// errRuleNoDigits is returned when a number is asked of text without one.
var errRuleNoDigits = errors.New("no digits")

// ruleNumber is a number found in text, split into its parts.
type ruleNumber struct {
	neg  bool
	intg string // integer digits, grouping removed
	frac string // fractional digits, "" when none
}

// ruleQuote shortens s for error messages: a price field can select a
// whole page by mistake.
func ruleQuote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// ruleIsDigit reports whether c is an ASCII digit.
func ruleIsDigit(c byte) bool { return '0' <= c && c <= '9' }

// ruleDigits returns the length of the run of ASCII digits at the start of s.
func ruleDigits(s string) int {
	n := 0
	for n < len(s) && ruleIsDigit(s[n]) {
		n++
	}
	return n
}

// ruleGroupSpace reports whether r may only group thousands: spaces
// (including no-break and thin spaces) and apostrophes.
func ruleGroupSpace(r rune) bool {
	switch r {
	case ' ', '\u00a0', '\u2009', '\u202f', '\'', '\u2019':
		return true
	}
	return false
}

// ruleScanNumber finds the first number in s and decides which separator,
// if any, is the decimal one. See CompileRules for the rules.
func ruleScanNumber(s string) (ruleNumber, error) {
	start := strings.IndexFunc(s, func(r rune) bool { return r < utf8.RuneSelf && ruleIsDigit(byte(r)) })
	if start < 0 {
		return ruleNumber{}, errRuleNoDigits
	}
	var num ruleNumber
	// A leading decimal separator (".99", "€ ,50") makes a pure fraction,
	// unless it ends a word ("v.2").
	leadFrac := false
	if start > 0 && (s[start-1] == '.' || s[start-1] == ',') {
		before, _ := utf8.DecodeLastRuneInString(s[:start-1])
		if start == 1 || unicode.IsSpace(before) || unicode.Is(unicode.Sc, before) || before == '-' || before == '\u2212' || before == '(' {
			leadFrac = true
			start--
		}
	}
	// A minus sign directly before the digits, or before a currency symbol
	// that precedes them ("-$5", "$-5"), but not inside a word ("SKU-5").
	k := start
	for k > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:k])
		if !unicode.Is(unicode.Sc, r) {
			break
		}
		k -= size
	}
	if r, size := utf8.DecodeLastRuneInString(s[:k]); r == '-' || r == '\u2212' {
		before, _ := utf8.DecodeLastRuneInString(s[:k-size])
		if k-size == 0 || unicode.IsSpace(before) || unicode.Is(unicode.Sc, before) || before == '(' || before == ':' {
			num.neg = true
		}
	}

	if leadFrac {
		num.intg, num.frac = "0", s[start+1:start+1+ruleDigits(s[start+1:])]
		return num, nil
	}

	// Collect digit groups and the separators between them.
	var (
		groups []string
		seps   []rune
	)
	i := start
	for {
		n := ruleDigits(s[i:])
		groups = append(groups, s[i:i+n])
		i += n
		if i >= len(s) {
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		rest := s[i+size:]
		next := ruleDigits(rest)
		if r == '.' || r == ',' {
			if next == 0 {
				break
			}
		} else if !ruleGroupSpace(r) || next != 3 {
			// A space or apostrophe groups only a full group of three.
			break
		}
		seps = append(seps, r)
		i += size
	}
	if len(seps) == 0 {
		num.intg = groups[0]
		return num, nil
	}

	// The last separator is the decimal point when it is '.' or ',', occurs
	// once, and is not plainly a thousands separator.
	last := seps[len(seps)-1]
	decimal := false
	if last == '.' || last == ',' {
		count, otherKind := 0, false
		for _, r := range seps {
			if r == last {
				count++
			} else {
				otherKind = true
			}
		}
		if count == 1 {
			fracLen := len(groups[len(groups)-1])
			lead := groups[0]
			decimal = otherKind || fracLen != 3 || (len(seps) == 1 && (strings.Trim(lead, "0") == "" || len(lead) > 3))
		}
	}
	intGroups, groupSeps := groups, seps
	if decimal {
		intGroups, groupSeps = groups[:len(groups)-1], seps[:len(seps)-1]
		num.frac = groups[len(groups)-1]
	}
	for _, r := range groupSeps {
		if r != groupSeps[0] && !(ruleGroupSpace(r) && ruleGroupSpace(groupSeps[0])) {
			return ruleNumber{}, fmt.Errorf("mixed thousands separators in %s", ruleQuote(s))
		}
	}
	// Thousands groups have three digits; two-digit groups before the last
	// one allow Indian grouping ("12,34,567").
	for j, g := range intGroups {
		switch {
		case j == 0:
			if len(intGroups) > 1 && len(g) > 3 {
				return ruleNumber{}, fmt.Errorf("bad digit grouping in %s", ruleQuote(s))
			}
		case j == len(intGroups)-1:
			if len(g) != 3 {
				return ruleNumber{}, fmt.Errorf("bad digit grouping in %s", ruleQuote(s))
			}
		default:
			if len(g) != 2 && len(g) != 3 {
				return ruleNumber{}, fmt.Errorf("bad digit grouping in %s", ruleQuote(s))
			}
		}
	}
	num.intg = strings.Join(intGroups, "")
	return num, nil
}

// ruleParsePrice reads the first number in s, tolerating currency symbols
// and codes and either decimal convention: "$1,299.99", "1.299,99 €",
// "€ 12,50", "12.50 USD" and "1 299,99".
func ruleParsePrice(s string) (float64, error) {
	num, err := ruleScanNumber(s)
	if err != nil {
		return 0, fmt.Errorf("parse number %s: %w", ruleQuote(s), err)
	}
	return num.float(s)
}

func (num ruleNumber) float(s string) (float64, error) {
	var b strings.Builder
	if num.neg {
		b.WriteByte('-')
	}
	b.WriteString(num.intg)
	if num.frac != "" {
		b.WriteByte('.')
		b.WriteString(num.frac)
	}
	f, err := strconv.ParseFloat(b.String(), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("parse number %s: out of range", ruleQuote(s))
	}
	return f, nil
}

// ruleParseFloat reads s as a Go float when all of it is one ("1.234" is
// 1.234, "1e-3" works), otherwise like a price ("1,5 kg" is 1.5).
func ruleParseFloat(s string) (float64, error) {
	if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return f, nil
	}
	return ruleParsePrice(s)
}

// ruleParseInt reads the first number in s as an integer; grouping
// separators are allowed ("1,234", "1 234") and a zero fraction ("3.00") is
// dropped, any other fraction is an error.
func ruleParseInt(s string) (int64, error) {
	num, err := ruleScanNumber(s)
	if err != nil {
		return 0, fmt.Errorf("parse integer %s: %w", ruleQuote(s), err)
	}
	if strings.Trim(num.frac, "0") != "" {
		return 0, fmt.Errorf("parse integer %s: has a fraction", ruleQuote(s))
	}
	digits := num.intg
	if num.neg {
		digits = "-" + digits
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse integer %s: out of range", ruleQuote(s))
	}
	return n, nil
}

// ruleParseBool reads the usual spellings of yes and no, including stock
// availability as shops and schema.org write it.
func ruleParseBool(s string) (bool, error) {
	v := strings.ToLower(strings.Join(strings.Fields(s), " "))
	v = strings.TrimRight(v, ".!")
	if i := strings.Index(v, "schema.org/"); i >= 0 {
		v = v[i+len("schema.org/"):]
	}
	switch v {
	case "true", "yes", "y", "1", "on", "in stock", "instock", "available":
		return true, nil
	case "false", "no", "n", "0", "off", "out of stock", "outofstock", "sold out", "soldout", "unavailable":
		return false, nil
	}
	return false, fmt.Errorf("parse bool %s: not a known true or false word", ruleQuote(s))
}

// ruleResolveURL resolves s against base (the page's base URL) as the
// page's links are resolved. Without a base, only an absolute s is
// accepted.
func ruleResolveURL(s string, base *url.URL) (string, error) {
	u, err := urlnorm.ResolveReference(base, s)
	if err != nil {
		return "", fmt.Errorf("parse url %s: %w", ruleQuote(s), err)
	}
	return u.String(), nil
}

// ruleDateLayouts are tried in order. Layouts without a zone are read as UTC.
var ruleDateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02",
	"2006/1/2",
	"02.01.2006",
	"2.1.2006",
	"2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04",
	"2 Jan 2006",
	"2 January 2006",
	"2-Jan-2006",
	"Jan 2, 2006 15:04",
	"Jan 2, 2006",
	"January 2, 2006",
	"Jan 2 2006",
	"January 2 2006",
	"Jan _2 15:04:05 2006",
	"Jan _2 15:04:05 MST 2006",
}

var (
	// ruleWeekdayRE matches a leading weekday ("Mon, ", "Tuesday ").
	ruleWeekdayRE = regexp.MustCompile(`(?i)^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(day|sday|nesday|rsday|urday)?\.?,?\s+`)
	// ruleOrdinalRE matches an ordinal suffix after a day number ("2nd").
	ruleOrdinalRE = regexp.MustCompile(`(?i)\b(\d{1,2})(st|nd|rd|th)\b`)
	// ruleSlashDateRE matches a numeric a/b/yyyy date with an optional time.
	ruleSlashDateRE = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$`)
)

// ruleParseDate reads a date in one of several common forms and returns
// it as RFC 3339. See CompileRules for the accepted forms.
func ruleParseDate(s string) (string, error) {
	v := strings.Join(strings.Fields(s), " ")
	v = ruleWeekdayRE.ReplaceAllString(v, "")
	v = ruleOrdinalRE.ReplaceAllString(v, "$1")
	if m := ruleSlashDateRE.FindStringSubmatch(v); m != nil {
		return ruleSlashDate(s, m)
	}
	for _, layout := range ruleDateLayouts {
		// In UTC, not time.Local, so that the result does not depend on
		// the machine's zone.
		t, err := time.ParseInLocation(layout, v, time.UTC)
		if err != nil {
			continue
		}
		// A zone abbreviation Go does not know ("EST") parses with a made-up
		// zero offset; a wrong time is worse than none.
		if name, off := t.Zone(); off == 0 && name != "UTC" && name != "GMT" {
			return "", fmt.Errorf("parse date %s: unknown time zone %q", ruleQuote(s), name)
		}
		return t.Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("parse date %s: unknown layout", ruleQuote(s))
}

// ruleSlashDate builds the date from an a/b/yyyy match: month/day unless
// the first number cannot be a month.
func ruleSlashDate(s string, m []string) (string, error) {
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	year, _ := strconv.Atoi(m[3])
	month, day := a, b
	if a > 12 {
		month, day = b, a
	}
	var hh, mm, ss int
	if m[4] != "" {
		hh, _ = strconv.Atoi(m[4])
		mm, _ = strconv.Atoi(m[5])
		if m[6] != "" {
			ss, _ = strconv.Atoi(m[6])
		}
	}
	t := time.Date(year, time.Month(month), day, hh, mm, ss, 0, time.UTC)
	// time.Date normalises 31/02 to March; reject instead.
	if month < 1 || month > 12 || t.Day() != day || int(t.Month()) != month || hh > 23 || mm > 59 || ss > 59 {
		return "", fmt.Errorf("parse date %s: no such date", ruleQuote(s))
	}
	return t.Format(time.RFC3339Nano), nil
}
