package crawl

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// nearDupScore crawls a test site with duplicates under cfg and scores the
// near-duplicates it recorded against the site's clusters: a flag is right
// when the page and the page it names are in one cluster; of each cluster
// of n pages crawled, n-1 should be flagged.
func nearDupScore(t *testing.T, site *testsite.Site, cfg *Config) (right, flagged, want int) {
	t.Helper()
	if out := crawlOnce(t, cfg); out != OutcomeFinished {
		t.Fatalf("outcome %s", out)
	}
	cluster := map[string]int{}
	for i, c := range site.Duplicates() {
		cluster[c.Original] = i + 1
		for _, cp := range c.Copies {
			cluster[cp.URL] = i + 1
		}
	}
	of := queryMap(t, cfg.Database, `SELECT p.url, coalesce(o.url, '') FROM pages p LEFT JOIN pages o ON o.id = p.near_duplicate_of
		WHERE p.simhash IS NOT NULL`)
	members := map[int]int{}
	for u, orig := range of {
		if c := cluster[u]; c != 0 {
			members[c]++
		}
		if orig == "" {
			continue
		}
		flagged++
		if c := cluster[u]; c != 0 && cluster[orig] == c {
			right++
		} else {
			t.Logf("%s flagged as a near-duplicate of %s, which the site does not say", u, orig)
		}
	}
	for _, n := range members {
		want += n - 1
	}
	return right, flagged, want
}

// TestNearDuplicatesOfTheTestSite: on the test site's exact copies, print
// versions and editions, the detector flags the copies of a cluster as
// near-duplicates of its first page crawled, and flags no page outside.
func TestNearDuplicatesOfTheTestSite(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 120, Seed: 5, Duplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	cfg := testConfig(t, site.Seeds()[0])
	cfg.Seeds = site.Seeds()
	right, flagged, want := nearDupScore(t, site, cfg)
	if flagged == 0 || want == 0 {
		t.Fatalf("%d pages flagged, %d copies crawled", flagged, want)
	}
	precision, recall := float64(right)/float64(flagged), float64(right)/float64(want)
	t.Logf("near-duplicates: %d flagged, %d of them right, of %d copies crawled: precision %.3f, recall %.3f",
		flagged, right, want, precision, recall)
	if precision < 0.99 || recall < 0.88 {
		t.Errorf("precision %.3f, recall %.3f: want at least 0.99 and 0.88", precision, recall)
	}
	reasons := queryMap(t, cfg.Database, `SELECT url, near_duplicate_reason FROM pages WHERE near_duplicate_of IS NOT NULL`)
	for u, r := range reasons {
		if !strings.HasPrefix(r, "simhash distance ") {
			t.Errorf("%s: reason %q", u, r)
		}
	}
	// explain names the page a near-duplicate copies.
	db, err := sqlite.OpenReadOnly(context.Background(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for u, r := range reasons {
		e, err := Explain(context.Background(), db, cfg, u, ExplainOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if e.Page == nil || e.Page.NearReason != r || !strings.HasSuffix(r, " to "+e.Page.NearDuplicateOf) || len(e.Page.SimHash) != 16 {
			t.Errorf("explain %s: page %+v", u, e.Page)
		}
		break
	}
}

// TestNearDuplicateActions: skip_store keeps a near-duplicate's row with
// no body, text or links; skip_links keeps its links but follows none.
func TestNearDuplicateActions(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 60, Seed: 5, Duplicates: true})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	for _, action := range []string{NearSkipStore, NearSkipLinks} {
		cfg := testConfig(t, site.Seeds()[0])
		cfg.Dedup.NearDuplicates = action
		if out := crawlOnce(t, cfg); out != OutcomeFinished {
			t.Fatalf("%s: outcome %s", action, out)
		}
		rows := queryMap(t, cfg.Database, `SELECT p.url, (p.body IS NOT NULL) || ' ' || (SELECT count(*) FROM links WHERE from_id = p.id)
			|| ' ' || (SELECT count(*) FROM page_data WHERE page_id = p.id) || ' ' || f.reason
			FROM pages p JOIN frontier f ON f.id = p.url_id WHERE p.near_duplicate_of IS NOT NULL`)
		if len(rows) == 0 {
			t.Fatalf("%s: no near-duplicates", action)
		}
		for u, r := range rows {
			var body, links, data int
			var reason string
			fmt.Sscanf(r, "%d %d %d", &body, &links, &data)
			reason = strings.SplitN(r, " ", 4)[3]
			switch action {
			case NearSkipStore:
				if body != 0 || links != 0 || data != 0 || !strings.Contains(reason, "near-duplicate: content not stored") {
					t.Errorf("skip_store: %s: body %d, links %d, data %d, %q", u, body, links, data, reason)
				}
			case NearSkipLinks:
				if body != 1 || links == 0 || !strings.Contains(reason, "near-duplicate: links not followed") {
					t.Errorf("skip_links: %s: body %d, links %d, %q", u, body, links, reason)
				}
			}
		}
	}
}
