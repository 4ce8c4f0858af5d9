package service

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/testsite"
)

// siteRequests counts the requests the test site has answered.
func siteRequests(site *testsite.Site) int {
	n := 0
	for _, h := range site.Stats() {
		for _, c := range h.ByPath {
			n += c
		}
	}
	return n
}

// TestInspect explains URLs, lists hosts and re-runs the extraction rules
// of a finished job over the API.
func TestInspect(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 60, Seed: 6})
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 0, productRules))
	waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	base := srv.URL + "/api/jobs/" + id
	home := "http://" + site.Hosts()[0] + "/"

	t.Run("explain", func(t *testing.T) {
		var e crawl.Explanation
		resp := call(t, "GET", base+"/explain?url="+url.QueryEscape(home+"?utm_source=x"), testToken, nil, &e)
		if resp.StatusCode != http.StatusOK || e.URL != home || e.Given != home+"?utm_source=x" || e.State != "done" ||
			e.Robots.Verdict != "allowed" || e.Host == nil || e.Host.DelaySource != "config" || e.Page == nil || e.Page.Status != 200 {
			t.Errorf("explain %s: status %d, %+v", home, resp.StatusCode, e)
		}
		var private crawl.Explanation
		call(t, "GET", base+"/explain?url="+url.QueryEscape(home+"private/1"), testToken, nil, &private)
		if private.State != "skipped" || private.Robots.Verdict != "disallowed" || private.Robots.Rule != "Disallow: /private/" ||
			private.Parent != home {
			t.Errorf("explain of a disallowed URL: %+v", private)
		}
		var unknown struct {
			Error   string
			URL     string
			Similar []string
		}
		resp = call(t, "GET", base+"/explain?url="+url.QueryEscape(home+"no/such/page"), testToken, nil, &unknown)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(unknown.Error, "not in the frontier") ||
			unknown.URL != home+"no/such/page" || len(unknown.Similar) == 0 || unknown.Similar[0] != home {
			t.Errorf("explain of an unknown URL: status %d, %+v", resp.StatusCode, unknown)
		}
		for _, q := range []string{"", "?url=" + url.QueryEscape("mailto:someone@example.com"), "?url=x&links=-1"} {
			if resp := call(t, "GET", base+"/explain"+q, testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("explain%s: status %d, want 400", q, resp.StatusCode)
			}
		}
	})

	t.Run("hosts", func(t *testing.T) {
		var hl struct {
			Total int
			Hosts []crawl.HostPace
		}
		resp := call(t, "GET", base+"/hosts?sort=pages&limit=5", testToken, nil, &hl)
		if resp.StatusCode != http.StatusOK || hl.Total != 1 || len(hl.Hosts) != 1 || hl.Hosts[0].Origin+"/" != home ||
			hl.Hosts[0].Pages < 50 || hl.Hosts[0].DelaySource != "config" || hl.Hosts[0].RatePerSec != nil {
			t.Errorf("hosts: status %d, %+v; want the site's host with its pages and the configured unlimited rate", resp.StatusCode, hl)
		}
		for _, q := range []string{"?sort=fastest", "?limit=x", "?limit=100000"} {
			if resp := call(t, "GET", base+"/hosts"+q, testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("hosts%s: status %d, want 400", q, resp.StatusCode)
			}
		}
	})

	t.Run("reextract", func(t *testing.T) {
		var before struct{ Rows [][]any }
		call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT count(*), group_concat(data, '|') FROM (SELECT data FROM items ORDER BY page_id)"),
			testToken, nil, &before)
		items := int(before.Rows[0][0].(float64))
		requests := siteRequests(site)
		var res struct {
			Pages       int
			Items       int
			ByRule      map[string]int `json:"by_rule"`
			TookSeconds *float64       `json:"took_seconds"`
		}
		resp := call(t, "POST", base+"/reextract", testToken, nil, &res)
		if resp.StatusCode != http.StatusOK || res.Pages == 0 || res.Items != items || res.ByRule["product"] != items || res.TookSeconds == nil {
			t.Errorf("reextract: status %d, %+v; want %d product items", resp.StatusCode, res, items)
		}
		var after struct{ Rows [][]any }
		call(t, "GET", base+"/query?sql="+url.QueryEscape("SELECT count(*), group_concat(data, '|') FROM (SELECT data FROM items ORDER BY page_id)"),
			testToken, nil, &after)
		if after.Rows[0][1] != before.Rows[0][1] {
			t.Errorf("reextract with the job's own rules changed the items")
		}
		if n := siteRequests(site) - requests; n != 0 {
			t.Errorf("reextract made %d requests to the site, want none", n)
		}
		if resp := call(t, "POST", base+"/reextract?rule=nosuchrule", testToken, nil, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("reextract of an unknown rule set: status %d, want 400", resp.StatusCode)
		}
		if d := getJob(t, srv.URL, id); d.State != StateFinished || d.Active {
			t.Errorf("after reextract the job is %s (active %v), want finished and idle", d.State, d.Active)
		}
	})
}

// TestInspectRunning checks that a crawling job can be explained but not
// reextracted, and that once paused it can, and then resumes.
func TestInspectRunning(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 100, Seed: 8})
	_, srv := startService(t, t.TempDir(), 1)
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 40, productRules))
	base := srv.URL + "/api/jobs/" + id
	d := waitFor(t, srv.URL, id, "live progress", func(d jobDetail) bool { return d.Live != nil && d.Live.Pages >= 5 })
	if d.Live.Started.IsZero() || d.Live.Hosts.Active == 0 {
		t.Errorf("live = %+v, want the run's start and its host", d.Live)
	}
	// Pages per second has one name in the job's progress and in live.
	var raw struct{ Progress, Live map[string]any }
	call(t, "GET", base, testToken, nil, &raw)
	for part, m := range map[string]map[string]any{"progress": raw.Progress, "live": raw.Live} {
		if _, ok := m["pages_per_second"]; !ok {
			t.Errorf("%s has no pages_per_second: %v", part, m)
		}
	}
	if resp := call(t, "GET", base+"/explain?url="+url.QueryEscape(site.Seeds()[0]), testToken, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("explain while crawling: status %d, want 200", resp.StatusCode)
	}
	var e apiError
	if resp := call(t, "POST", base+"/reextract", testToken, nil, &e); resp.StatusCode != http.StatusConflict || !strings.Contains(e.Error, "pause it") {
		t.Errorf("reextract while crawling: status %d %q, want 409", resp.StatusCode, e.Error)
	}
	call(t, "POST", base+"/pause", testToken, nil, nil)
	waitFor(t, srv.URL, id, "paused", stopped(StatePaused))
	if resp := call(t, "POST", base+"/reextract", testToken, nil, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("reextract of a paused job: status %d, want 200", resp.StatusCode)
	}
	call(t, "POST", base+"/resume", testToken, nil, nil)
	if d := waitFor(t, srv.URL, id, "finished", stopped(StateFinished)); d.Runs != 2 {
		t.Errorf("runs = %d, want 2", d.Runs)
	}
}
