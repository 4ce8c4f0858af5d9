package service

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/testsite"
)

// TestPostgresJob: a job may name a PostgreSQL database the service lists
// (crawler serve --databases), exactly as listed: it crawls into the crawl
// its config names, its results are read from there, and no other job may
// name the same crawl; a database not listed is refused.
func TestPostgresJob(t *testing.T) {
	pg := pgtest.URL(t)
	name := pgtest.Name(t)
	site := startSite(t, testsite.Options{Hosts: 2, PagesPerHost: 30, Seed: 4})
	dir := t.TempDir()
	_, srv := startServiceWith(t, Options{Dir: dir, MaxJobs: 2, Databases: []string{pg}})
	cfg := jobConfig(site.Seeds(), 0, "database: "+pg+"\nname: "+name+"\n")

	other := strings.Replace(pg, "127.0.0.1", "localhost", 1)
	for _, bad := range []string{jobConfig(site.Seeds(), 0, "database: "+other+"\nname: "+name+"\n"),
		jobConfig(site.Seeds(), 0, "database: /tmp/x.db\n")} {
		var res struct{ Error string }
		resp := call(t, "POST", srv.URL+"/api/jobs", testToken, strings.NewReader(bad), &res)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(res.Error, "database: not allowed in a job") {
			t.Errorf("job naming another database: status %d, %q; want 400, database not allowed", resp.StatusCode, res.Error)
		}
	}

	id := submit(t, srv.URL, cfg)
	d := waitFor(t, srv.URL, id, "finished", stopped(StateFinished))
	var res struct {
		Rows  [][]any
		Error string
	}
	q := "SELECT count(*), count(DISTINCT url) FROM pages WHERE url LIKE 'http://%/product/%'"
	resp := call(t, "GET", srv.URL+"/api/jobs/"+id+"/query?sql="+url.QueryEscape(q), testToken, nil, &res)
	if resp.StatusCode != http.StatusOK || len(res.Rows) != 1 || res.Rows[0][0].(float64) == 0 || res.Rows[0][0] != res.Rows[0][1] {
		t.Errorf("query of the job's crawl: status %d, %+v; want its product pages, each once", resp.StatusCode, res)
	}
	if d.Progress.Pages == 0 || d.Outcome != "finished" {
		t.Errorf("job = %+v, want finished with pages", d)
	}
	var dup struct{ Error string }
	resp = call(t, "POST", srv.URL+"/api/jobs", testToken, strings.NewReader(cfg), &dup)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(dup.Error, "is job "+id+"'s") {
		t.Errorf("second job on the same crawl: status %d, %q; want 400 naming job %s", resp.StatusCode, dup.Error, id)
	}
}
