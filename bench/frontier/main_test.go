package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// TestServedURLsArePages checks that the URLs enqueued for the first hosts
// are pages of a fast test site started with the same first address, port
// and pages per host, and that host i gets store host id i+1.
func TestServedURLsArePages(t *testing.T) {
	const hosts, urls, served = 300, 1200, 260 // served hosts cross 127.1.0.254 -> 127.1.1.1
	site, err := testsite.Start(testsite.Options{Hosts: served, PagesPerHost: urls / hosts, Fast: true,
		FirstAddr: "127.1.0.1", NoByPath: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()

	dir := t.TempDir()
	var out bytes.Buffer
	args := []string{"-urls", strconv.Itoa(urls), "-hosts", strconv.Itoa(hosts), "-checkpoints", "600", "-claims", "10",
		"-dir", dir, "-first-addr", "127.1.0.1", "-port", strconv.Itoa(site.Port())}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var sum Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatal(err)
	}
	if want := "http://" + site.Hosts()[0]; sum.Reached != urls || sum.FirstOrigin != want {
		t.Errorf("summary reached %d, first origin %q; want %d, %q", sum.Reached, sum.FirstOrigin, urls, want)
	}

	ctx := context.Background()
	db, err := sqlite.OpenReadOnly(ctx, filepath.Join(dir, "frontier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := site.Expected() // every page of the served hosts
	rows, err := db.SQL().QueryContext(ctx, `SELECT f.url, h.id, h.origin FROM frontier f JOIN hosts h ON h.id = f.host_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var u, origin string
		var id int64
		if err := rows.Scan(&u, &id, &origin); err != nil {
			t.Fatal(err)
		}
		if id > served {
			continue
		}
		if got, wantOrigin := origin, "http://"+site.Hosts()[id-1]; got != wantOrigin {
			t.Errorf("host id %d has origin %q, want %q", id, got, wantOrigin)
		}
		if _, ok := want[u]; !ok {
			t.Errorf("%s is enqueued for a served host but is not a page of the test site", u)
		}
		found++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if found != len(want) {
		t.Errorf("%d URLs enqueued for served hosts, want the site's %d pages", found, len(want))
	}
}
