package service

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver, to write hostile rows into a job's database

	"github.com/crawler-dev/crawler/testsite"
)

// finishedJob crawls a small test site to the end and returns the job's id
// and database path.
func finishedJob(t *testing.T, srv *httptest.Server, dir string) (string, string) {
	t.Helper()
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 10, Seed: 11})
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 0, productRules))
	waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	return id, filepath.Join(dir, "jobs", id, "crawl.db")
}

// writeRows runs statements on a finished job's database, standing in for
// what a hostile site or an older crawler left in it.
func writeRows(t *testing.T, path string, stmts ...func(*sql.DB) error) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, f := range stmts {
		if err := f(db); err != nil {
			t.Fatal(err)
		}
	}
}

// insertPages adds n pages titled title, with url_ids no crawl uses.
func insertPages(n int, title string) func(*sql.DB) error {
	return func(db *sql.DB) error {
		for i := 0; i < n; i++ {
			if _, err := db.Exec(`INSERT INTO pages (url_id, url, final_url, status, fetched_at, duration_ms, size, depth, title)
				VALUES (?, ?, ?, 200, 1, 1, 1, 0, ?)`, 1_000_000+i, fmt.Sprintf("http://127.0.0.9/%d", i),
				fmt.Sprintf("http://127.0.0.9/%d", i), title); err != nil {
				return err
			}
		}
		return nil
	}
}

// get sends an authorized GET and returns status and body.
func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, b := send(t, req)
	return resp.StatusCode, b
}

// TestQueryBounds: one row cannot blow the /query answer or the service's
// memory, every answer fits in MaxResponseBytes, and queries beyond
// MaxConcurrentQueries are refused.
func TestQueryBounds(t *testing.T) {
	dir := t.TempDir()
	svc, srv := startService(t, dir, 1)
	id, _ := finishedJob(t, srv, dir)
	query := srv.URL + "/api/jobs/" + id + "/query?sql="
	for _, q := range []string{"SELECT hex(randomblob(100000000))", "SELECT length(randomblob(1e9))",
		"SELECT hex(randomblob(1500000)), hex(randomblob(1500000))"} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var e apiError
		resp := call(t, "GET", query+url.QueryEscape(q), testToken, nil, &e)
		runtime.ReadMemStats(&after)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, "bytes each of this statement's") {
			t.Errorf("%s: status %d %q, want 400 naming the limit", q, resp.StatusCode, e.Error)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
			t.Errorf("%s: the service allocated %d MB answering it", q, alloc>>20)
		}
	}
	// Rows of 2 MB each: the answer stops before MaxResponseBytes.
	code, body := get(t, query+url.QueryEscape(
		"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c LIMIT 10) SELECT hex(randomblob(1000000)) FROM c"))
	var res struct {
		Rows      [][]any
		Truncated bool
	}
	if err := json.Unmarshal(body, &res); err != nil || code != http.StatusOK {
		t.Fatalf("big rows: status %d, %v", code, err)
	}
	if len(body) > MaxResponseBytes || !res.Truncated || len(res.Rows) < 3 {
		t.Errorf("big rows: %d bytes, %d rows, truncated %v; want at most %d bytes, some rows and truncated",
			len(body), len(res.Rows), res.Truncated, MaxResponseBytes)
	}
	// Busy: every slot taken, the next query is refused at once.
	for range MaxConcurrentQueries {
		svc.queries <- struct{}{}
	}
	var e apiError
	resp := call(t, "GET", query+"SELECT+1", testToken, nil, &e)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(e.Error, "at once") {
		t.Errorf("query with every slot taken: status %d %q, want 429 with Retry-After", resp.StatusCode, e.Error)
	}
	<-svc.queries
	if resp := call(t, "GET", query+"SELECT+1", testToken, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("query with a slot free: status %d, want 200", resp.StatusCode)
	}
	for range MaxConcurrentQueries - 1 {
		<-svc.queries
	}
}

// TestQueryPragmas: the pragmas that describe the schema work through the
// API; those that change anything do not.
func TestQueryPragmas(t *testing.T) {
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id, _ := finishedJob(t, srv, dir)
	query := srv.URL + "/api/jobs/" + id + "/query?sql="
	for _, q := range []string{"PRAGMA table_info(pages)", "SELECT name, type FROM pragma_table_info('pages')",
		"PRAGMA index_list(frontier)", "PRAGMA index_info(frontier_state)", "PRAGMA foreign_key_list(page_links)"} {
		var res struct{ Rows [][]any }
		if resp := call(t, "GET", query+url.QueryEscape(q), testToken, nil, &res); resp.StatusCode != http.StatusOK || len(res.Rows) == 0 {
			t.Errorf("%s: status %d, %d rows; want 200 with rows", q, resp.StatusCode, len(res.Rows))
		}
	}
	for _, q := range []string{"PRAGMA query_only = 0", "PRAGMA journal_mode = delete", "PRAGMA table_info(pages); DELETE FROM pages"} {
		if resp := call(t, "GET", query+url.QueryEscape(q), testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
		}
	}
}

// TestAnswersWithinBudget: pages and items with huge fields are cut, and a
// page of /pages or /items ends before MaxResponseBytes, with next_after to
// go on; paging still visits every row once.
func TestAnswersWithinBudget(t *testing.T) {
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id, path := finishedJob(t, srv, dir)
	// & becomes \u0026 in JSON: six bytes for one.
	writeRows(t, path, insertPages(150, strings.Repeat("&", 20000)), func(db *sql.DB) error {
		_, err := db.Exec(`INSERT INTO items (page_id, url, rule, idx, data, extracted_at)
			VALUES (1, 'http://127.0.0.9/item', 'big', 0, json_object('blob', ?), 1)`, strings.Repeat("x", 1<<20))
		return err
	})
	base := srv.URL + "/api/jobs/" + id
	var total int
	_, body := get(t, base+"/query?sql=SELECT+count(*)+FROM+pages")
	var cnt struct{ Rows [][]float64 }
	json.Unmarshal(body, &cnt)
	total = int(cnt.Rows[0][0])
	seen, answers := map[int64]bool{}, 0
	after := int64(0)
	for range 100 {
		code, body := get(t, fmt.Sprintf("%s/pages?limit=1000&after=%d", base, after))
		if code != http.StatusOK {
			t.Fatalf("pages: status %d: %s", code, body)
		}
		answers++
		if len(body) > MaxResponseBytes {
			t.Errorf("pages after %d: %d bytes, more than %d", after, len(body), MaxResponseBytes)
		}
		var page struct {
			Pages     []pageRow
			NextAfter *int64 `json:"next_after"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Pages {
			if seen[p.ID] {
				t.Fatalf("page %d twice", p.ID)
			}
			seen[p.ID] = true
			if strings.HasPrefix(p.Title, "&") && (len(p.Title) != maxFieldChars || strings.Join(p.Cut, ",") != "title") {
				t.Errorf("page %d: title of %d bytes, cut %v; want %d and [title]", p.ID, len(p.Title), p.Cut, maxFieldChars)
			}
		}
		if page.NextAfter == nil {
			break
		}
		after = *page.NextAfter
	}
	if len(seen) != total || answers < 2 {
		t.Errorf("paged through %d of %d pages in %d answers; want all, in more than one answer", len(seen), total, answers)
	}
	code, body := get(t, base+"/items?rule=big")
	var items struct{ Items []itemRow }
	if err := json.Unmarshal(body, &items); err != nil || code != http.StatusOK || len(items.Items) != 1 {
		t.Fatalf("items: status %d, %v: %.200s", code, err, body)
	}
	if it := items.Items[0]; string(it.Data) != "null" && it.Data != nil || strings.Join(it.Cut, ",") != "data" {
		t.Errorf("item with 1 MB of data: data %.40s, cut %v; want it left out and named", it.Data, it.Cut)
	}
}

// TestExportCSVFormulas: a title that a spreadsheet would run is exported
// as text through the API.
func TestExportCSVFormulas(t *testing.T) {
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id, path := finishedJob(t, srv, dir)
	writeRows(t, path, insertPages(1, `=cmd|' /C calc'!A0`))
	code, body := get(t, srv.URL+"/api/jobs/"+id+"/export?table=pages&format=csv")
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if code != http.StatusOK || err != nil {
		t.Fatalf("export: status %d, %v", code, err)
	}
	col := -1
	for i, c := range recs[0] {
		if c == "title" {
			col = i
		}
	}
	found := false
	for _, r := range recs[1:] {
		if strings.Contains(r[col], "cmd|") {
			found = true
			if r[col] != `'=cmd|' /C calc'!A0` {
				t.Errorf("title cell %q, want it prefixed with a quote", r[col])
			}
		}
	}
	if !found {
		t.Errorf("the page is not in the export")
	}
}

// TestJobCannotWidenGuard: a job may allow only what the service allows,
// however the YAML spells it; the forbidden keys are checked the same way.
func TestJobCannotWidenGuard(t *testing.T) {
	dir := t.TempDir()
	_, srv := startServiceWith(t, Options{Dir: dir, MaxJobs: 1, AllowAddresses: []string{"127.0.0.0/8", "10.0.0.5:8080"}})
	const seed = "seeds: [http://127.0.0.2/]\n"
	tests := []struct {
		name, body, key string
	}{
		{"everything", seed + "fetch:\n  allow_addresses: [0.0.0.0/0]\n", "fetch.allow_addresses[0]"},
		{"metadata", seed + "fetch:\n  allow_addresses: [127.0.0.1, 169.254.169.254]\n", "fetch.allow_addresses[1]"},
		{"other port", seed + "fetch:\n  allow_addresses: ['10.0.0.5:8081']\n", "fetch.allow_addresses[0]"},
		{"host name", seed + "fetch:\n  allow_addresses: [metadata.google.internal]\n", "fetch.allow_addresses[0]"},
		{"merge key", seed + "fetch:\n  <<: {allow_addresses: [0.0.0.0/0]}\n", "fetch.allow_addresses[0]"},
		{"anchor", "seeds: [http://127.0.0.2/]\nsitemaps: []\nfetch:\n  user_agent: &all 0.0.0.0/0\n  allow_addresses: [*all]\n", "fetch.allow_addresses[0]"},
		{"merged database", "<<: {database: ../other/crawl.db}\n" + seed, "database"},
		{"merged urls_file", "<<: {urls_file: /etc/passwd}\n" + seed, "urls_file"},
		{"aliased key", "fetch:\n  user_agent: &k urls_file\n*k : /etc/passwd\n" + seed, "urls_file"},
		{"cookies file", seed + "fetch:\n  cookies_file: /etc/passwd\n", "fetch.cookies_file"},
		{"merged cookies file", seed + "fetch:\n  <<: {cookies_file: ../other/cookies.txt}\n", "fetch.cookies_file"},
		{"feed file", seed + "feeds: [{path: /etc/cron.d/x}]\n", "feeds"},
		{"environment", seed + "fetch:\n  proxy: ['http://u:${AWS_SECRET_ACCESS_KEY}@proxy.example:3128']\n", "fetch.proxy[0]"},
		{"environment per host", seed + "fetch:\n  hosts:\n    a.example: {proxy: [direct, 'socks5://${USER}:x@p.example']}\n",
			"fetch.hosts.a.example.proxy[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			resp := call(t, "POST", srv.URL+"/api/jobs", testToken, strings.NewReader(tt.body), &e)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, tt.key+": not allowed in a job") {
				t.Errorf("status %d %q, want 400 naming %s", resp.StatusCode, e.Error, tt.key)
			}
		})
	}
	for _, ok := range []string{"[127.0.0.0/8]", "[127.0.0.2, '127.0.0.3:8080']", "['10.0.0.5:8080']", "[]"} {
		var v view
		resp := call(t, "POST", srv.URL+"/api/jobs", testToken, strings.NewReader(seed+"fetch:\n  allow_addresses: "+ok+"\n"), &v)
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("allow_addresses: %s: status %d, want 201", ok, resp.StatusCode)
		}
	}
	_, strict := startServiceWith(t, Options{Dir: t.TempDir(), MaxJobs: 1, AllowAddresses: []string{}})
	var e apiError
	resp := call(t, "POST", strict.URL+"/api/jobs", testToken, strings.NewReader(seed+"fetch:\n  allow_addresses: [127.0.0.2]\n"), &e)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error, "--allow-addresses") {
		t.Errorf("a service allowing nothing: status %d %q, want 400 pointing at --allow-addresses", resp.StatusCode, e.Error)
	}
	if _, err := Open(context.Background(), Options{Dir: t.TempDir(), Token: testToken, AllowAddresses: []string{"10.0.0.0/8:80"}}); err == nil {
		t.Errorf("Open accepted an invalid AllowAddresses entry")
	}
}

// login trades the token for a session cookie as a browser does.
func login(t *testing.T, srv *httptest.Server) *http.Cookie {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/?token=" + testToken)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 {
		t.Fatalf("no session cookie: %v", resp.Cookies())
	}
	return resp.Cookies()[0]
}

// TestCrossOriginRefused: a state-changing request riding on the session
// cookie must come from the service's own origin with a YAML or JSON body;
// bearer requests are not cookie-riding and need neither.
func TestCrossOriginRefused(t *testing.T) {
	_, srv := startService(t, t.TempDir(), 1)
	cookie := login(t, srv)
	own := srv.URL
	u, _ := url.Parse(srv.URL)
	other := "http://" + u.Hostname() + ":1" // another port of the same host: the same site
	const cfg = "seeds: [http://127.0.0.2/]\n"
	post := func(path string, h map[string]string, withCookie bool) int {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(cfg))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		if withCookie {
			req.AddCookie(cookie)
		}
		resp, _ := send(t, req)
		return resp.StatusCode
	}
	tests := []struct {
		name   string
		h      map[string]string
		cookie bool
		want   int
	}{
		{"same origin, YAML", map[string]string{"Origin": own, "Content-Type": "application/yaml"}, true, http.StatusCreated},
		{"same origin by Referer", map[string]string{"Referer": own + "/", "Content-Type": "application/yaml"}, true, http.StatusCreated},
		{"Sec-Fetch-Site same-origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}, true, http.StatusCreated},
		{"other port", map[string]string{"Origin": other, "Content-Type": "application/yaml"}, true, http.StatusForbidden},
		{"other site", map[string]string{"Origin": "http://evil.example", "Content-Type": "application/yaml"}, true, http.StatusForbidden},
		{"null origin", map[string]string{"Origin": "null", "Content-Type": "application/yaml"}, true, http.StatusForbidden},
		{"same-site fetch", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": own, "Content-Type": "application/yaml"}, true, http.StatusForbidden},
		{"no origin", map[string]string{"Content-Type": "application/yaml"}, true, http.StatusForbidden},
		{"text/plain form", map[string]string{"Origin": own, "Content-Type": "text/plain"}, true, http.StatusForbidden},
		{"urlencoded form", map[string]string{"Origin": own, "Content-Type": "application/x-www-form-urlencoded"}, true, http.StatusForbidden},
		{"bearer from anywhere", map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://evil.example",
			"Content-Type": "text/plain"}, false, http.StatusCreated},
	}
	for _, tt := range tests {
		if got := post("/api/jobs", tt.h, tt.cookie); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	id := submitPaused(t, srv.URL)
	if got := post("/api/jobs/"+id+"/cancel", map[string]string{"Origin": other}, true); got != http.StatusForbidden {
		t.Errorf("cancel from another port: status %d, want 403", got)
	}
	if got := post("/api/jobs/"+id+"/cancel", map[string]string{"Origin": own}, true); got != http.StatusOK {
		t.Errorf("cancel from the status page: status %d, want 200", got)
	}
}

// TestSessionExpires: the session cookie carries Max-Age and is refused
// once expired or altered; the clock is the service's own.
func TestSessionExpires(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
	_, srv := startServiceWith(t, Options{Dir: t.TempDir(), MaxJobs: 1, Now: func() time.Time { return time.Unix(now.Load(), 0) }})
	cookie := login(t, srv)
	if cookie.MaxAge != int(SessionTTL/time.Second) {
		t.Errorf("cookie Max-Age %d, want %d", cookie.MaxAge, int(SessionTTL/time.Second))
	}
	status := func(c *http.Cookie) int {
		req, _ := http.NewRequest("GET", srv.URL+"/api/jobs", nil)
		req.AddCookie(c)
		resp, _ := send(t, req)
		return resp.StatusCode
	}
	if got := status(cookie); got != http.StatusOK {
		t.Fatalf("fresh cookie: status %d, want 200", got)
	}
	exp, sig, _ := strings.Cut(cookie.Value, ".")
	forged := *cookie
	forged.Value = fmt.Sprintf("%s9.%s", exp, sig)
	if got := status(&forged); got != http.StatusUnauthorized {
		t.Errorf("cookie with a later expiry: status %d, want 401", got)
	}
	now.Add(int64(SessionTTL/time.Second) - 1)
	if got := status(cookie); got != http.StatusOK {
		t.Errorf("cookie just before expiry: status %d, want 200", got)
	}
	now.Add(1)
	if got := status(cookie); got != http.StatusUnauthorized {
		t.Errorf("expired cookie: status %d, want 401", got)
	}
}

func TestShortTokenRefused(t *testing.T) {
	_, err := Open(context.Background(), Options{Dir: t.TempDir(), Token: "x"})
	if err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("Open with a one-character token: %v, want an error asking for 16", err)
	}
}
