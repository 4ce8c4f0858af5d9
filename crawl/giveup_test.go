package crawl

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// TestRunEndsAfterGiveUp: a host whose robots.txt keeps failing is given
// up; URLs of it found later through links from another host end skipped
// with the host's reason, and the run ends by itself.
func TestRunEndsAfterGiveUp(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "internal error", http.StatusInternalServerError)
	}))
	defer down.Close()
	linking := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nAllow: /\n")
		case "/":
			fmt.Fprint(w, `<html><title>Home</title><a href="/1">1</a></html>`)
		case "/1":
			fmt.Fprintf(w, `<html><title>One</title><a href="%s/late">late</a> <a href="%s/later">later</a></html>`, down.URL, down.URL)
		default:
			http.NotFound(w, r)
		}
	}))
	defer linking.Close()
	cfg := testConfig(t, down.URL+"/")
	cfg.Scope.Hosts = []string{hostOf(down.URL), hostOf(linking.URL)}
	cfg.Politeness.RobotsRetries = 1
	e, db := seededEngine(t, cfg)
	defer db.Close()
	// The first run gives the host up.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := e.Run(ctx, time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("first run = %s, %v", out, err)
	}
	// The next run starts from the other host, which links to it.
	if _, err := db.Add(ctx, []store.NewURL{{URL: linking.URL + "/", Origin: linking.URL, Source: "seed", State: store.StateQueued}}); err != nil {
		t.Fatal(err)
	}
	e2, err := New(cfg, db, e.log)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e2.Run(ctx, time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("second run = %s, %v; want it to finish by itself", out, err)
	}
	got := queryMap(t, cfg.Database, `SELECT url, state || ': ' || coalesce(reason, '') FROM frontier`)
	const why = "skipped: robots.txt unavailable (HTTP 500) after 1 attempts"
	for _, u := range []string{down.URL + "/", down.URL + "/late", down.URL + "/later"} {
		if got[u] != why {
			t.Errorf("%s: %q, want %q", u, got[u], why)
		}
	}
}

func hostOf(u string) string {
	return u[len("http://"):]
}
