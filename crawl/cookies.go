package crawl

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// loadCookies reads a cookies file in the Netscape format, as curl, wget,
// yt-dlp and the "cookies.txt" browser extensions write it, into jar: a
// line per cookie with seven tab-separated fields (domain, include
// subdomains, path, secure, expires, name, value), "#HttpOnly_" before
// the domain of an HttpOnly cookie, other lines starting with # and blank
// lines left out. Cookies that have expired are left out; a file with no
// cookie left is an error, since a crawl behind a login would then run
// logged out without a word. Errors name the file and line, never a
// cookie's value.
func loadCookies(jar http.CookieJar, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("fetch.cookies_file: %w", err)
	}
	defer f.Close()
	now := time.Now()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line, loaded, expired := 0, 0, 0
	var newest time.Time
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		httpOnly := false
		if rest, ok := strings.CutPrefix(text, "#HttpOnly_"); ok {
			text, httpOnly = rest, true
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		c, u, err := parseCookieLine(text)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		c.HttpOnly = httpOnly
		if !c.Expires.IsZero() && !c.Expires.After(now) {
			expired++
			if c.Expires.After(newest) {
				newest = c.Expires
			}
			continue
		}
		jar.SetCookies(u, []*http.Cookie{c})
		loaded++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read cookies file %s: %w", path, err)
	}
	switch {
	case loaded == 0 && expired > 0:
		return fmt.Errorf("%s: all %d cookies have expired, the last at %s: export them again after logging in",
			path, expired, newest.UTC().Format(time.DateTime))
	case loaded == 0:
		return fmt.Errorf("%s: no cookies in the file (one a line: domain, include subdomains, path, secure, expires, name, value, separated by tabs)", path)
	}
	return nil
}

// parseCookieLine reads one cookie line of a Netscape cookies file, and
// the URL to set it for.
func parseCookieLine(text string) (*http.Cookie, *url.URL, error) {
	fields := strings.Split(text, "\t")
	if len(fields) != 7 {
		return nil, nil, fmt.Errorf("want 7 fields separated by tabs (domain, include subdomains, path, secure, expires, name, value), found %d",
			len(fields))
	}
	domain := strings.TrimPrefix(strings.TrimSpace(fields[0]), ".")
	k, err := parseHostKey(domain)
	if err != nil || k.port != 0 || k.name == "" {
		return nil, nil, fmt.Errorf("field 1 (domain): %q is not a host name", fields[0])
	}
	sub, err := cookieFlag(fields[1], "2 (include subdomains)")
	if err != nil {
		return nil, nil, err
	}
	path := fields[2]
	if !strings.HasPrefix(path, "/") {
		return nil, nil, fmt.Errorf("field 3 (path): %q does not start with /", path)
	}
	secure, err := cookieFlag(fields[3], "4 (secure)")
	if err != nil {
		return nil, nil, err
	}
	exp, err := strconv.ParseFloat(strings.TrimSpace(fields[4]), 64)
	if err != nil || exp < 0 || math.IsInf(exp, 0) || exp > 1<<40 {
		return nil, nil, fmt.Errorf("field 5 (expires): %q is not a Unix time in seconds (0 for a session cookie)", fields[4])
	}
	name, value := fields[5], fields[6]
	if !httpguts.ValidHeaderFieldName(name) {
		return nil, nil, errors.New("field 6 (name) is not a cookie name")
	}
	if v, ok := strings.CutPrefix(value, `"`); ok && len(v) > 0 && strings.HasSuffix(v, `"`) {
		value = v[:len(v)-1]
	}
	for i := 0; i < len(value); i++ {
		if b := value[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return nil, nil, fmt.Errorf("field 7 (the value of cookie %q) has a character a Cookie header cannot carry", name)
		}
	}
	c := &http.Cookie{Name: name, Value: value, Path: path, Secure: secure}
	if exp > 0 {
		c.Expires = time.Unix(int64(exp), 0)
	}
	if sub {
		c.Domain = k.name
	}
	u := &url.URL{Scheme: "http", Host: k.name, Path: path}
	if strings.Contains(k.name, ":") {
		u.Host = "[" + k.name + "]"
	}
	if secure {
		u.Scheme = "https"
	}
	return c, u, nil
}

// cookieFlag reads a TRUE or FALSE field.
func cookieFlag(s, field string) (bool, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "TRUE":
		return true, nil
	case "FALSE":
		return false, nil
	}
	return false, fmt.Errorf("field %s: %q is not TRUE or FALSE", field, s)
}
