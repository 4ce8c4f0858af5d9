package sitemap

import (
	"strconv"
	"strings"
	"time"
)

// w3cLayouts are the W3C datetime profile sitemaps.org uses for lastmod, from
// the longest form down to a bare year, followed by forms seen in the wild
// (no time zone, a space instead of 'T', an offset without a colon). time.Parse
// accepts fractional seconds after the seconds field without them being in
// the layout. A time without a zone is taken as UTC.
var w3cLayouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
	"2006-01",
	"2006",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05",
}

// parseTime reads a lastmod, RSS pubDate, dc:date or Atom date and returns it
// in UTC, or the zero time if s is empty or matches no known form.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if len(s) >= 4 && isDigits(s[:4]) && (len(s) == 4 || s[4] == '-') {
		for _, l := range w3cLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC()
			}
		}
		return time.Time{}
	}
	return parseRFC822(s)
}

// parseRFC822 reads the date-time of RFC 822 as updated by RFC 2822 §3.3 and
// §4.3, the format of RSS pubDate: "[Mon,] 2 Jan [20]06 15:04[:05] [zone]".
// The weekday is ignored; a two-digit year is 20xx below 50 and 19xx from 50
// on; a missing or unknown zone is taken as UTC, as RFC 2822 says of unknown
// zones ("-0000"); a trailing "(comment)" is ignored.
func parseRFC822(s string) time.Time {
	if i := strings.IndexByte(s, '('); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexByte(s, ','); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 4 || len(f) > 5 {
		return time.Time{}
	}
	day, ok := number(f[0], 1, 2)
	if !ok || day < 1 {
		return time.Time{}
	}
	month := monthOf(f[1])
	if month == 0 {
		return time.Time{}
	}
	year, ok := number(f[2], 2, 4)
	switch {
	case !ok:
		return time.Time{}
	case len(f[2]) == 2 && year < 50:
		year += 2000
	case len(f[2]) < 4:
		year += 1900
	}
	hms := strings.Split(f[3], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}
	}
	var clock [3]int
	for i, part := range hms {
		v, ok := number(part, 1, 2)
		if !ok {
			return time.Time{}
		}
		clock[i] = v
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return time.Time{}
	}
	offset := 0
	if len(f) == 5 {
		if offset, ok = zoneOffset(f[4]); !ok {
			return time.Time{}
		}
	}
	t := time.Date(year, month, day, clock[0], clock[1], clock[2], 0, time.FixedZone("", offset))
	if t.Day() != day {
		return time.Time{} // 31 Feb and the like
	}
	return t.UTC()
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

var fullMonths = [...]string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// monthOf reads an English month name, abbreviated or in full, any case;
// 0 if s is not one.
func monthOf(s string) time.Month {
	s = strings.ToLower(s)
	for i := range months {
		if s == months[i] || s == fullMonths[i] {
			return time.Month(i + 1)
		}
	}
	return 0
}

// zones are the named zones of RFC 822; other names count as UTC.
var zones = map[string]int{
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
	"MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}

// zoneOffset reads "+hhmm", "-hh:mm" or a zone name and returns its offset
// in seconds east of UTC.
func zoneOffset(z string) (int, bool) {
	if z[0] == '+' || z[0] == '-' {
		d := strings.Replace(z[1:], ":", "", 1)
		if len(d) != 4 || !isDigits(d) {
			return 0, false
		}
		h, _ := strconv.Atoi(d[:2])
		m, _ := strconv.Atoi(d[2:])
		if h > 23 || m > 59 {
			return 0, false
		}
		off := h*3600 + m*60
		if z[0] == '-' {
			off = -off
		}
		return off, true
	}
	for _, r := range z {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return 0, false
		}
	}
	return zones[strings.ToUpper(z)] * 3600, true
}

// number reads a decimal of minLen to maxLen digits.
func number(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen || !isDigits(s) {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
