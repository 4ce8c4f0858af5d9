package crawl

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrawlBehindLogin crawls a site that answers 403 without a session
// cookie, with the cookie loaded from a cookies.txt file named relative
// to the config file. The site's log is the judge: every request carried
// the session cookie, path-limited cookies went to their paths only, and
// neither the expired cookie nor any cookie went to another host. The cookies' values are in neither the log nor
// the database.
func TestCrawlBehindLogin(t *testing.T) {
	site := &loggedSite{pages: 3, needCookie: "session=sess-cookie-5150"}
	other := &loggedSite{pages: 1}
	srv, otherSrv := httptest.NewServer(site), httptest.NewServer(other)
	defer srv.Close()
	defer otherSrv.Close()
	otherURL := strings.Replace(otherSrv.URL, "127.0.0.1", "localhost", 1) // another host on the same machine
	dir := t.TempDir()
	cookies := "# Netscape HTTP Cookie File\n\n" +
		"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tsess-cookie-5150\n" +
		"127.0.0.1\tFALSE\t/p/\tFALSE\t4102444800\tpathy\tpath-cookie-1\r\n" +
		".127.0.0.1\tTRUE\t/\tFALSE\t1000000000\told\texpired-cookie-2\n"
	if err := os.WriteFile(filepath.Join(dir, "login.txt"), []byte(cookies), 0o600); err != nil {
		t.Fatal(err)
	}
	config := "database: db/crawl.db\nseeds: [" + srv.URL + "/, " + otherURL + "/]\nworkers: 4\n" +
		"politeness: {rate: 0, max_in_flight: 2}\n" +
		"fetch:\n  allow_addresses: [127.0.0.0/8, localhost]\n  cookies_file: login.txt\n"
	if err := os.WriteFile(filepath.Join(dir, "crawl.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, "crawl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	logs := crawlLogged(t, cfg)

	reqs := site.log()
	if len(reqs) < 5 {
		t.Fatalf("the site received %d requests, want robots.txt, / and 3 pages", len(reqs))
	}
	for _, r := range reqs {
		want := "session=sess-cookie-5150"
		if strings.HasPrefix(r.path, "/p/") {
			want = "pathy=path-cookie-1; session=sess-cookie-5150"
		}
		if got := strings.Join(r.header.Values("Cookie"), "; "); got != want {
			t.Errorf("%s carried Cookie %q, want %q", r.path, got, want)
		}
	}
	if len(other.log()) < 2 {
		t.Errorf("the other host received %d requests, want robots.txt and its pages", len(other.log()))
	}
	for _, r := range other.log() {
		if c := r.header.Values("Cookie"); len(c) > 0 {
			t.Errorf("the other host received cookies %q on %s", c, r.path)
		}
	}
	for u, state := range queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`) {
		if !strings.HasPrefix(state, "done") {
			t.Errorf("%s ended %s, want done", u, state)
		}
	}
	assertNowhere(t, cfg.Database, logs, "sess-cookie-5150", "path-cookie-1")
}

// TestCookiesFileErrors: a cookies file that cannot be used is an error
// naming the file and line and what is wrong, never a cookie's value.
func TestCookiesFileErrors(t *testing.T) {
	good := "a.example\tFALSE\t/\tFALSE\t0\tok\tv-ok\n"
	for _, tt := range []struct {
		name, file, want string
	}{
		{"six fields", good + "a.example\tFALSE\t/\tFALSE\t0\tsid-v-77\n",
			":2: want 7 fields separated by tabs (domain, include subdomains, path, secure, expires, name, value), found 6"},
		{"spaces for tabs", "a.example FALSE / FALSE 0 sid v-77\n", ":1: want 7 fields separated by tabs"},
		{"bad flag", "a.example\tYES\t/\tFALSE\t0\tsid\tv-77\n", `:1: field 2 (include subdomains): "YES" is not TRUE or FALSE`},
		{"bad secure", "a.example\tTRUE\t/\t1\t0\tsid\tv-77\n", `:1: field 4 (secure): "1" is not TRUE or FALSE`},
		{"bad path", "a.example\tFALSE\tx\tFALSE\t0\tsid\tv-77\n", `:1: field 3 (path): "x" does not start with /`},
		{"bad expiry", "a.example\tFALSE\t/\tFALSE\tsoon\tsid\tv-77\n", `:1: field 5 (expires): "soon" is not a Unix time in seconds`},
		{"bad domain", "a b\tFALSE\t/\tFALSE\t0\tsid\tv-77\n", `:1: field 1 (domain): "a b" is not a host name`},
		{"domain with port", "a.example:8080\tFALSE\t/\tFALSE\t0\tsid\tv-77\n", `:1: field 1 (domain): "a.example:8080" is not a host name`},
		{"bad name", "a.example\tFALSE\t/\tFALSE\t0\ts id\tv-77\n", ":1: field 6 (name) is not a cookie name"},
		{"bad value", "a.example\tFALSE\t/\tFALSE\t0\tsid\tv-77;x\n", `:1: field 7 (the value of cookie "sid") has a character a Cookie header cannot carry`},
		{"all expired", "a.example\tFALSE\t/\tFALSE\t1000000000\tsid\tv-77\n", ": all 1 cookies have expired, the last at 2001-09-09 01:46:40"},
		{"empty", "# Netscape HTTP Cookie File\n\n", ": no cookies in the file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cookies.txt")
			if err := os.WriteFile(path, []byte(tt.file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg := singleConfig()
			cfg.Fetch.CookiesFile = path
			_, err := newFetcher(cfg, newAddrPolicy(nil))
			if err == nil || !strings.Contains(err.Error(), path+tt.want) || strings.Contains(err.Error(), "v-77") {
				t.Errorf("newFetcher with cookies %q: %v, want %q, without the value", tt.file, err, path+tt.want)
			}
		})
	}
	cfg := singleConfig()
	cfg.Fetch.CookiesFile = filepath.Join(t.TempDir(), "missing.txt")
	if _, err := newFetcher(cfg, newAddrPolicy(nil)); err == nil || !strings.Contains(err.Error(), "fetch.cookies_file: open "+cfg.Fetch.CookiesFile) {
		t.Errorf("newFetcher with a missing cookies file: %v", err)
	}
}
