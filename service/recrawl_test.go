package service

import (
	"net/http"
	"testing"

	"github.com/crawler-dev/crawler/testsite"
)

// TestContinuousJob: a job whose config has recrawl.continuous crawls, then
// stays running, sleeping until its next URL is due; pausing stops it and
// resuming starts it again.
func TestContinuousJob(t *testing.T) {
	site := startSite(t, testsite.Options{Hosts: 1, PagesPerHost: 20, Seed: 6})
	dir := t.TempDir()
	_, srv := startService(t, dir, 1)
	id := submit(t, srv.URL, jobConfig(site.Seeds(), 0, "recrawl: {enabled: true, continuous: true}\n"))
	asleep := func(d jobDetail) bool { return d.State == StateRunning && d.Progress.Sleeping && d.Progress.Pages > 0 }
	d := waitFor(t, srv.URL, id, "asleep", asleep)
	if d.Progress.NextDue == nil {
		t.Errorf("sleeping job without its next due time: %+v", d.Progress)
	}
	checkComplete(t, dir, id, site)
	var v view
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+id+"/pause", testToken, nil, &v); resp.StatusCode != http.StatusOK {
		t.Fatalf("pause: status %d", resp.StatusCode)
	}
	if d := waitFor(t, srv.URL, id, "paused", stopped(StatePaused)); d.Outcome != "interrupted" || d.Error != "" {
		t.Errorf("paused continuous job: outcome %q, error %q; want interrupted", d.Outcome, d.Error)
	}
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+id+"/resume", testToken, nil, &v); resp.StatusCode != http.StatusOK {
		t.Fatalf("resume: status %d", resp.StatusCode)
	}
	if d := waitFor(t, srv.URL, id, "asleep again", asleep); d.Runs != 2 {
		t.Errorf("runs = %d, want 2", d.Runs)
	}
}
