package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

const testToken = "test-token-0123456789"

// startService opens a service on dir and serves it on loopback.
func startService(t *testing.T, dir string, maxJobs int) (*Service, *httptest.Server) {
	t.Helper()
	return startServiceWith(t, Options{Dir: dir, MaxJobs: maxJobs})
}

// startServiceWith opens a service with o (the test token, the test sites'
// loopback addresses allowed, a short grace unless o sets them) and serves
// it on loopback.
func startServiceWith(t *testing.T, o Options) (*Service, *httptest.Server) {
	t.Helper()
	if o.Token == "" {
		o.Token = testToken
	}
	if o.AllowAddresses == nil {
		o.AllowAddresses = []string{"127.0.0.0/8"}
	}
	if o.Grace == 0 {
		o.Grace = 2 * time.Second
	}
	svc, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	return svc, srv
}

func startSite(t *testing.T, o testsite.Options) *testsite.Site {
	t.Helper()
	site, err := testsite.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	return site
}

// jobConfig is a config for crawling a test site quickly; rate (requests
// per second per host, 0 = unlimited) slows it down for tests that need to
// catch a crawl in the middle.
func jobConfig(seeds []string, rate int, extra string) string {
	var b strings.Builder
	b.WriteString("seeds:\n")
	for _, s := range seeds {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	b.WriteString(`workers: 4
fetch:
  allow_addresses: ["127.0.0.0/8"]
  max_retries: 1
  retry_base: 10ms
politeness:
  max_in_flight: 2
  backoff_base: 10ms
`)
	fmt.Fprintf(&b, "  rate: %d\n", rate)
	b.WriteString(extra)
	return b.String()
}

const productRules = `extract:
  - name: product
    match: "*/product/*"
    fields:
      - {name: price, selector: .price, type: price}
      - {name: name, selector: h1.product-name, required: true}
`

// call sends a request with the test token (or none, if token is "") and
// decodes a JSON answer into out (when out is not nil).
func call(t *testing.T, method, url, token string, body io.Reader, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, b := send(t, req)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, url, b, err)
		}
	}
	return resp
}

// send sends req and returns the response and its body.
func send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func submit(t *testing.T, base, config string) string {
	t.Helper()
	var v view
	resp := call(t, "POST", base+"/api/jobs", testToken, strings.NewReader(config), &v)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submit: status %d, want 201", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); loc != "/api/jobs/"+v.ID {
		t.Errorf("submit: Location %q, want /api/jobs/%s", loc, v.ID)
	}
	return v.ID
}

func getJob(t *testing.T, base, id string) jobDetail {
	t.Helper()
	var d jobDetail
	if resp := call(t, "GET", base+"/api/jobs/"+id, testToken, nil, &d); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET job %s: status %d (%s)", id, resp.StatusCode, d.Error)
	}
	return d
}

// waitFor polls the job until cond holds, failing after a generous deadline.
func waitFor(t *testing.T, base, id, what string, cond func(jobDetail) bool) jobDetail {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		d := getJob(t, base, id)
		if cond(d) {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s: gave up waiting for %s; last state %s, progress %+v, error %q", id, what, d.State, d.Progress, d.Error)
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

func stopped(state State) func(jobDetail) bool {
	return func(d jobDetail) bool { return d.State == state && !d.Active }
}

// pagesOf reads url -> status of the stored pages.
func pagesOf(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(`SELECT url, status FROM pages`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var u string
		var st int
		if err := rows.Scan(&u, &st); err != nil {
			t.Fatal(err)
		}
		got[u] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// checkComplete asserts that the job's database holds every page the site
// expects, with its status, and no page outside the site (sitemaps and
// sitemap-only pages are allowed: sitemap discovery may fetch them).
func checkComplete(t *testing.T, dir, id string, site *testsite.Site) {
	t.Helper()
	got := pagesOf(t, filepath.Join(dir, "jobs", id, "crawl.db"))
	want := site.Expected()
	extra := map[string]bool{}
	for _, u := range site.SitemapOnly() {
		extra[u] = true
	}
	for u, st := range want {
		if g, ok := got[u]; !ok {
			t.Errorf("page %s missing", u)
		} else if g != st {
			t.Errorf("page %s: status %d, want %d", u, g, st)
		}
	}
	for u := range got {
		if _, ok := want[u]; !ok && !extra[u] && !strings.HasSuffix(u, "/sitemap.xml") {
			t.Errorf("unexpected page %s", u)
		}
	}
	if t.Failed() {
		t.Logf("%d pages stored, %d expected", len(got), len(want))
	}
}

func TestAuth(t *testing.T) {
	_, srv := startService(t, t.TempDir(), 1)
	id := "0123456789abcdef"
	endpoints := []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/static/app.js"},
		{"GET", "/static/style.css"},
		{"POST", "/api/jobs"},
		{"GET", "/api/jobs"},
		{"GET", "/api/jobs/" + id},
		{"POST", "/api/jobs/" + id + "/pause"},
		{"POST", "/api/jobs/" + id + "/resume"},
		{"POST", "/api/jobs/" + id + "/cancel"},
		{"GET", "/api/jobs/" + id + "/query?sql=SELECT+1"},
		{"GET", "/api/jobs/" + id + "/pages"},
		{"GET", "/api/jobs/" + id + "/items"},
		{"GET", "/api/jobs/" + id + "/export?table=pages&format=jsonl"},
		{"GET", "/no/such/path"},
	}
	for _, e := range endpoints {
		for _, tok := range []string{"", "wrong-token", testToken + "x"} {
			t.Run(e.method+" "+e.path+" token="+tok, func(t *testing.T) {
				var body apiError
				resp := call(t, e.method, srv.URL+e.path, tok, strings.NewReader("seeds: [http://127.0.0.2/]"), &body)
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", resp.StatusCode)
				}
				if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer", h)
				}
				if body.Error == "" {
					t.Errorf("401 without a JSON error")
				}
			})
		}
	}
	t.Run("healthz", func(t *testing.T) {
		var body map[string]string
		if resp := call(t, "GET", srv.URL+"/healthz", "", nil, &body); resp.StatusCode != http.StatusOK || body["status"] != "ok" {
			t.Fatalf("GET /healthz = %d %v, want 200 ok", resp.StatusCode, body)
		}
	})
	t.Run("bearer", func(t *testing.T) {
		var list struct{ Jobs []view }
		if resp := call(t, "GET", srv.URL+"/api/jobs", testToken, nil, &list); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, want 200", resp.StatusCode)
		}
		if resp := call(t, "GET", srv.URL+"/api/jobs/"+id, testToken, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("unknown job: status %d, want 404", resp.StatusCode)
		}
	})
	t.Run("cookie", func(t *testing.T) {
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(srv.URL + "/?token=wrong")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
			t.Fatalf("/?token=wrong: status %d, cookies %v; want 401 and none", resp.StatusCode, resp.Cookies())
		}
		resp, err = noFollow.Get(srv.URL + "/?token=" + testToken)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("/?token=: status %d Location %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
		}
		cs := resp.Cookies()
		if len(cs) != 1 || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("cookies %+v, want one HttpOnly SameSite=Strict cookie", cs)
		}
		if strings.Contains(cs[0].Value, testToken) {
			t.Errorf("the cookie holds the token itself")
		}
		for _, path := range []string{"/", "/static/app.js", "/api/jobs"} {
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.AddCookie(cs[0])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s with the cookie: status %d, want 200", path, resp.StatusCode)
			}
		}
		req, _ := http.NewRequest("GET", srv.URL+"/api/jobs", nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: testToken})
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the raw token as cookie: status %d, want 401", resp.StatusCode)
		}
	})
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), Options{Dir: dir}); !errors.Is(err, ErrNoToken) {
		t.Errorf("Open without a token = %v, want ErrNoToken", err)
	}
	svc, err := Open(context.Background(), Options{Dir: dir, Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := Open(context.Background(), Options{Dir: dir, Token: testToken}); !errors.Is(err, ErrDirInUse) {
		t.Errorf("second Open on one directory = %v, want ErrDirInUse", err)
	}
}

func TestSubmitRejects(t *testing.T) {
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	big := "seeds: [http://127.0.0.2/]\n# " + strings.Repeat("x", MaxConfigSize) + "\n"
	tests := []struct {
		name, body string
		status     int
		line       int
		msg        string
	}{
		{"too large", big, http.StatusRequestEntityTooLarge, 0, "larger than"},
		{"unknown key", "seeds: [http://127.0.0.2/]\nworkers: 2\npoliteness:\n  rte: 3\n", http.StatusBadRequest, 4, `unknown key "rte"`},
		{"bad value", "seeds: [http://127.0.0.2/]\nworkers: 0\n", http.StatusBadRequest, 2, "workers"},
		{"database", "seeds: [http://127.0.0.2/]\ndatabase: ../other/crawl.db\n", http.StatusBadRequest, 2, "database"},
		{"urls_file", "urls_file: /etc/passwd\n", http.StatusBadRequest, 1, "urls_file"},
		{"nothing to crawl", "workers: 2\n", http.StatusBadRequest, 0, "nothing to crawl"},
		{"not yaml", "seeds: [\n", http.StatusBadRequest, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			resp := call(t, "POST", srv.URL+"/api/jobs", testToken, strings.NewReader(tt.body), &e)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, e.Error, tt.status)
			}
			if e.Line != tt.line {
				t.Errorf("line %d, want %d (%s)", e.Line, tt.line, e.Error)
			}
			if !strings.Contains(e.Error, tt.msg) {
				t.Errorf("error %q, want it to mention %q", e.Error, tt.msg)
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join(dir, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("rejected configs left %d job directories", len(entries))
	}
}

// TestJobSecretsRedacted: a job's header values and proxy credentials are
// neither shown by the API nor recorded in the job's runs table; job.json
// keeps the config as submitted, since resuming the job needs it.
func TestJobSecretsRedacted(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 5, Seed: 5})
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	config := "seeds: [" + strings.Join(site.Seeds(), ", ") + "]  # a comment: svc-comment-7\n" +
		"workers: 4\npoliteness: {rate: 0, max_in_flight: 2, backoff_base: 10ms}\n" +
		"fetch:\n  allow_addresses: [127.0.0.0/8]\n  max_retries: 1\n  retry_base: 10ms\n" +
		"  headers: {Authorization: Bearer svc-tok-9}\n" +
		"  hosts:\n    unused.example: {proxy: ['http://pu:svc-pw-8@proxy.example:3128']}\n"
	id := submit(t, srv.URL, config)
	d := waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	if d.Progress.Pages == 0 {
		t.Fatalf("the job stored no page: %+v", d)
	}
	db, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(dir, "jobs", id, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var recorded string
	if err := db.SQL().QueryRow(`SELECT config FROM runs`).Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"the API": d.Config, "the runs table": recorded} {
		for _, secret := range []string{"svc-tok-9", "svc-pw-8", "pu:", "svc-comment-7"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s shows %q:\n%s", where, secret, text)
			}
		}
		if !strings.Contains(text, "Authorization: REDACTED") || !strings.Contains(text, "http://REDACTED@proxy.example:3128") {
			t.Errorf("%s does not show the redacted header and proxy:\n%s", where, text)
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "jobs", id, "job.json")); err != nil || !strings.Contains(string(b), "svc-tok-9") {
		t.Errorf("job.json lost the submitted config (%v)", err)
	}
}

func TestCrawlToFinish(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 2, PagesPerHost: 40, Seed: 3})
	dir := t.TempDir()
	_, srv := startService(t, dir, 2)
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 0, ""))
	d := waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	checkComplete(t, dir, id, site)
	got := pagesOf(t, filepath.Join(dir, "jobs", id, "crawl.db"))
	if d.Progress.Pages != int64(len(got)) {
		t.Errorf("progress.pages = %d, database has %d pages", d.Progress.Pages, len(got))
	}
	if d.Progress.Queued != 0 {
		t.Errorf("progress.queued = %d after finishing, want 0", d.Progress.Queued)
	}
	if d.Status == nil || d.Status.Pages != len(got) || d.Status.ByState["queued"] != 0 {
		t.Errorf("status = %+v, want %d pages and nothing queued", d.Status, len(got))
	}
	if d.Outcome != "finished" || d.Runs != 1 || d.Error != "" {
		t.Errorf("outcome %q, runs %d, error %q; want finished, 1, none", d.Outcome, d.Runs, d.Error)
	}
	var list struct{ Jobs []view }
	call(t, "GET", srv.URL+"/api/jobs", testToken, nil, &list)
	if len(list.Jobs) != 1 || list.Jobs[0].ID != id || list.Jobs[0].Progress.Pages != d.Progress.Pages || list.Jobs[0].Config != "" {
		t.Errorf("list = %+v, want the one job with its progress and without its config", list.Jobs)
	}
	// A finished job cannot be resumed or cancelled; pausing it is a conflict too.
	for _, act := range []string{"pause", "resume", "cancel"} {
		if resp := call(t, "POST", srv.URL+"/api/jobs/"+id+"/"+act, testToken, nil, nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("%s of a finished job: status %d, want 409", act, resp.StatusCode)
		}
	}
}

func TestPauseResumeCancel(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 2, PagesPerHost: 100, Seed: 4})
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	cfg := jobConfig(site.Seeds(), 40, "")
	first := submit(t, srv.URL, cfg)
	second := submit(t, srv.URL, cfg)
	waitFor(t, srv.URL, first, "progress", func(d jobDetail) bool { return d.Progress.Pages >= 5 })
	// One slot: the second job waits while the first holds it.
	if d := getJob(t, srv.URL, second); d.State != StateQueued || d.Active {
		t.Fatalf("second job %s (active %v) while the first runs, want queued", d.State, d.Active)
	}
	var v view
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+first+"/pause", testToken, nil, &v); resp.StatusCode != http.StatusOK || v.State != StatePaused {
		t.Fatalf("pause: status %d state %s, want 200 paused", resp.StatusCode, v.State)
	}
	paused := waitFor(t, srv.URL, first, "paused", stopped(StatePaused))
	if paused.Outcome != "interrupted" {
		t.Errorf("paused job outcome %q, want interrupted", paused.Outcome)
	}
	if paused.Status.ByState["leased"] != 0 {
		t.Errorf("%d URLs still leased after pausing", paused.Status.ByState["leased"])
	}
	if paused.Status.ByState["queued"] == 0 {
		t.Errorf("nothing left to crawl after pausing: the test site is too small")
	}
	// The freed slot goes to the second job; cancel it there.
	waitFor(t, srv.URL, second, "progress", func(d jobDetail) bool { return d.Progress.Pages > 0 })
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+second+"/cancel", testToken, nil, &v); resp.StatusCode != http.StatusOK || v.State != StateCancelled {
		t.Fatalf("cancel: status %d state %s, want 200 cancelled", resp.StatusCode, v.State)
	}
	cancelled := waitFor(t, srv.URL, second, "cancelled", stopped(StateCancelled))
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+second+"/resume", testToken, nil, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("resume of a cancelled job: status %d, want 409", resp.StatusCode)
	}
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+first+"/resume", testToken, nil, &v); resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: status %d", resp.StatusCode)
	}
	d := waitFor(t, srv.URL, first, "finished", stopped(StateFinished))
	if d.Runs != 2 {
		t.Errorf("runs = %d, want 2", d.Runs)
	}
	checkComplete(t, dir, first, site)
	// The cancelled job keeps what it stored.
	if again := getJob(t, srv.URL, second); again.State != StateCancelled || again.Status == nil || again.Status.Pages != cancelled.Status.Pages {
		t.Errorf("cancelled job later: %s with %+v, want cancelled with %d pages", again.State, again.Status, cancelled.Status.Pages)
	}
}

func TestRestartResumes(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 2, PagesPerHost: 100, Seed: 5})
	dir := t.TempDir()
	svc, err := Open(context.Background(), Options{Dir: dir, Token: testToken, AllowAddresses: []string{"127.0.0.0/8"},
		MaxJobs: 2, Grace: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, shutdown := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- svc.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	id := submit(t, base, jobConfig(site.Seeds(), 40, ""))
	waitFor(t, base, id, "progress", func(d jobDetail) bool { return d.Progress.Pages >= 10 })
	// Shut down as on SIGTERM: stop accepting, stop the job, wait for it.
	shutdown()
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if resp, err := http.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("the service still answers after shutting down")
	}
	j, err := loadJob(filepath.Join(dir, "jobs", id))
	if err != nil {
		t.Fatal(err)
	}
	if j.rec.State != StateRunning || j.rec.Outcome != "interrupted" {
		t.Fatalf("after shutdown: state %s outcome %q, want running and interrupted", j.rec.State, j.rec.Outcome)
	}
	db, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(dir, "jobs", id, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.Status(context.Background())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.ByState["leased"] != 0 {
		t.Errorf("%d URLs still leased after shutdown, want their leases released", st.ByState["leased"])
	}
	before := pagesOf(t, filepath.Join(dir, "jobs", id, "crawl.db"))
	if len(before) >= len(site.Expected()) {
		t.Fatalf("the crawl finished (%d pages) before the service stopped: the test site is too small", len(before))
	}

	_, srv2 := startService(t, dir, 2)
	d := waitFor(t, srv2.URL, id, "finished", stopped(StateFinished))
	if d.Runs != 2 {
		t.Errorf("runs = %d, want 2", d.Runs)
	}
	checkComplete(t, dir, id, site)
	after := pagesOf(t, filepath.Join(dir, "jobs", id, "crawl.db"))
	for u, st := range before {
		if after[u] != st {
			t.Errorf("page %s changed from %d to %d across the restart", u, st, after[u])
		}
	}
}

func TestResults(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 60, Seed: 6})
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 0, productRules))
	d := waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	total := d.Status.Pages
	base := srv.URL + "/api/jobs/" + id

	t.Run("query", func(t *testing.T) {
		var res struct {
			Columns   []string
			Rows      [][]any
			Truncated bool
		}
		resp := call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT count(*) AS n, 'x' AS s FROM pages"), testToken, nil, &res)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if strings.Join(res.Columns, ",") != "n,s" || len(res.Rows) != 1 || res.Rows[0][0] != float64(total) || res.Truncated {
			t.Errorf("got %+v, want n=%d", res, total)
		}
		resp = call(t, "GET", base+"/query?limit=5&sql="+url.QueryEscape("SELECT id, body FROM pages"), testToken, nil, &res)
		if resp.StatusCode != http.StatusOK || len(res.Rows) != 5 || !res.Truncated {
			t.Errorf("limit=5: status %d, %d rows, truncated %v; want 200, 5, true", resp.StatusCode, len(res.Rows), res.Truncated)
		}
	})
	t.Run("query refuses", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "other.db")
		odb, err := sqlite.Open(context.Background(), other)
		if err != nil {
			t.Fatal(err)
		}
		odb.Close()
		for _, q := range []string{
			"ATTACH DATABASE '" + other + "' AS o",
			"SELECT 1; ATTACH DATABASE '" + other + "' AS o",
			"DELETE FROM pages",
			"CREATE TEMP TABLE t (x)",
			"PRAGMA query_only = 0",
			"VACUUM INTO '" + filepath.Join(t.TempDir(), "copy.db") + "'",
			"SELECT load_extension('x')",
			"SELECT nonsense FROM nowhere",
			"",
		} {
			var e apiError
			resp := call(t, "GET", base+"/query?sql="+url.QueryEscape(q), testToken, nil, &e)
			if resp.StatusCode != http.StatusBadRequest || e.Error == "" {
				t.Errorf("%q: status %d %q, want 400 with an error", q, resp.StatusCode, e.Error)
			}
		}
		// The database is untouched.
		var res struct{ Rows [][]any }
		call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT count(*) FROM pages"), testToken, nil, &res)
		if len(res.Rows) != 1 || res.Rows[0][0] != float64(total) {
			t.Errorf("pages after refused statements: %v, want %d", res.Rows, total)
		}
	})
	t.Run("pages", func(t *testing.T) {
		seen := map[int64]bool{}
		after, last := int64(0), int64(0)
		for i := 0; i < 1000; i++ {
			var page struct {
				Pages     []pageRow
				NextAfter *int64 `json:"next_after"`
			}
			if resp := call(t, "GET", fmt.Sprintf("%s/pages?after=%d&limit=7", base, after), testToken, nil, &page); resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if len(page.Pages) > 7 {
				t.Fatalf("%d rows with limit=7", len(page.Pages))
			}
			for _, p := range page.Pages {
				if p.ID <= last || seen[p.ID] || p.URL == "" || p.Status == 0 {
					t.Fatalf("bad or out-of-order row %+v after id %d", p, last)
				}
				seen[p.ID], last = true, p.ID
			}
			if page.NextAfter == nil {
				break
			}
			if *page.NextAfter != last {
				t.Fatalf("next_after %d, last id %d", *page.NextAfter, last)
			}
			after = *page.NextAfter
		}
		if len(seen) != total {
			t.Errorf("paged through %d pages, want %d", len(seen), total)
		}
	})
	t.Run("items", func(t *testing.T) {
		var res struct{ Rows [][]any }
		call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT count(*) FROM items WHERE rule = 'product'"), testToken, nil, &res)
		want := int(res.Rows[0][0].(float64))
		if want == 0 {
			t.Fatal("no product items extracted")
		}
		n, after := 0, int64(0)
		for i := 0; i < 1000; i++ {
			var page struct {
				Items     []itemRow
				NextAfter *int64 `json:"next_after"`
			}
			call(t, "GET", fmt.Sprintf("%s/items?rule=product&after=%d&limit=4", base, after), testToken, nil, &page)
			for _, it := range page.Items {
				var data map[string]any
				if err := json.Unmarshal(it.Data, &data); err != nil || data["name"] == nil || it.Rule != "product" || it.ID <= after {
					t.Fatalf("bad item %+v (%v)", it, err)
				}
				after = it.ID
				n++
			}
			if page.NextAfter == nil {
				break
			}
		}
		if n != want {
			t.Errorf("paged through %d items, want %d", n, want)
		}
		var none struct{ Items []itemRow }
		call(t, "GET", base+"/items?rule=nosuchrule", testToken, nil, &none)
		if none.Items == nil || len(none.Items) != 0 {
			t.Errorf("unknown rule: %+v, want an empty list", none.Items)
		}
	})
	t.Run("export", func(t *testing.T) {
		var res struct{ Rows [][]any }
		call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM links)"), testToken, nil, &res)
		items, links := int(res.Rows[0][0].(float64)), int(res.Rows[0][1].(float64))
		tests := []struct {
			query, ctype string
			rows         int
		}{
			{"table=pages&format=jsonl", "application/x-ndjson", total},
			{"table=pages&format=jsonl&bodies=true", "application/x-ndjson", total},
			{"table=items&format=csv&rule=product", "text/csv", items + 1},
			{"table=links", "application/x-ndjson", links},
			{"table=pages&since=2999-01-01T00:00:00Z", "application/x-ndjson", 0},
		}
		for _, tt := range tests {
			req, _ := http.NewRequest("GET", base+"/export?"+tt.query, nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s: %v", tt.query, err)
			}
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) {
				t.Errorf("%s: status %d, type %q; want 200 %s", tt.query, resp.StatusCode, resp.Header.Get("Content-Type"), tt.ctype)
				continue
			}
			if n := bytes.Count(body, []byte("\n")); n != tt.rows {
				t.Errorf("%s: %d lines, want %d", tt.query, n, tt.rows)
			}
			// CSV columns of items follow the rule's fields, as crawler export's do.
			if head, _, _ := bytes.Cut(body, []byte("\n")); tt.ctype == "text/csv" &&
				string(head) != "id,page_id,url,rule,index,extracted_at,price,name,errors" {
				t.Errorf("%s: header %q, want the rule's fields in its order", tt.query, head)
			}
			if strings.HasPrefix(tt.ctype, "application/x-ndjson") && len(body) > 0 {
				first, _, _ := bytes.Cut(body, []byte("\n"))
				var obj map[string]any
				if err := json.Unmarshal(first, &obj); err != nil {
					t.Errorf("%s: first line %q is not JSON: %v", tt.query, first, err)
				}
				if strings.Contains(tt.query, "bodies=true") && obj["body"] == nil {
					t.Errorf("%s: no body in %v", tt.query, obj)
				}
			}
		}
		for _, q := range []string{"table=hosts", "format=xml", "table=pages&rule=product", "since=yesterday", "table=links&bodies=true"} {
			if resp := call(t, "GET", base+"/export?"+q, testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("export?%s: status %d, want 400", q, resp.StatusCode)
			}
		}
	})
	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"/pages?after=-1", "/pages?limit=x", "/pages?limit=100000", "/items?after=1.5", "/query?sql=SELECT+1&limit=100000000"} {
			if resp := call(t, "GET", base+q, testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", q, resp.StatusCode)
			}
		}
	})
}

func TestJobWithoutDatabase(t *testing.T) {
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	// A paused job never started: it has no database yet.
	svcJob := submitPaused(t, srv.URL)
	base := srv.URL + "/api/jobs/" + svcJob
	var pages struct{ Pages []pageRow }
	if resp := call(t, "GET", base+"/pages", testToken, nil, &pages); resp.StatusCode != http.StatusOK || pages.Pages == nil {
		t.Errorf("pages: status %d %v, want 200 and an empty list", resp.StatusCode, pages.Pages)
	}
	if resp := call(t, "GET", base+"/query?sql=SELECT+1", testToken, nil, nil); resp.StatusCode != http.StatusConflict {
		t.Errorf("query: status %d, want 409", resp.StatusCode)
	}
	for _, q := range []string{"GET /explain?url=http://example.com/", "GET /hosts", "POST /reextract"} {
		method, path, _ := strings.Cut(q, " ")
		if resp := call(t, method, base+path, testToken, nil, nil); resp.StatusCode != http.StatusConflict {
			t.Errorf("%s: status %d, want 409", q, resp.StatusCode)
		}
	}
	if d := getJob(t, srv.URL, svcJob); d.Status != nil {
		t.Errorf("status of a job without a database: %+v, want none", d.Status)
	}
}

// submitPaused returns a job that never started: on a service with one
// slot, a first job takes the slot, the second is paused while it waits in
// the queue, and the first is cancelled.
func submitPaused(t *testing.T, base string) string {
	t.Helper()
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 20, Seed: 7, Latency: 50 * time.Millisecond})
	first := submit(t, base, jobConfig(site.Seeds(), 0, ""))
	second := submit(t, base, jobConfig(site.Seeds(), 0, ""))
	var v view
	if resp := call(t, "POST", base+"/api/jobs/"+second+"/pause", testToken, nil, &v); resp.StatusCode != http.StatusOK || v.State != StatePaused || v.Active {
		t.Fatalf("pause of a queued job: status %d, %+v", resp.StatusCode, v)
	}
	call(t, "POST", base+"/api/jobs/"+first+"/cancel", testToken, nil, nil)
	return second
}
