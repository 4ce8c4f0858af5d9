package testsite

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

// TestDuplicates fetches every cluster of Duplicates and checks that its
// copies are what their kind says, that every copy is reachable, and that
// no other two pages a crawl meets have the same bytes.
func TestDuplicates(t *testing.T) {
	s := startSite(t, changing)
	setGeneration(t, s, 2)
	c := noRedirect(t)
	clusters := s.Duplicates()
	expected := s.Expected()
	inCluster := map[string]bool{}
	kinds := map[DupKind]int{}
	canonicalRE := regexp.MustCompile(`<link rel="canonical" href="[^"]*">\n`)
	editionRE := regexp.MustCompile(`<p class="edition">[^\n]*</p>\n`)
	articleRE := regexp.MustCompile(`(?s)<article>.*</article>`)
	for _, cl := range clusters {
		orig := get(t, c, cl.Original)
		if orig.status != 200 || expected[cl.Original] != 200 {
			t.Errorf("original %s: status %d, Expected() %d", cl.Original, orig.status, expected[cl.Original])
		}
		if inCluster[cl.Original] {
			t.Errorf("%s is in two clusters", cl.Original)
		}
		inCluster[cl.Original] = true
		if len(cl.Copies) == 0 {
			t.Errorf("cluster of %s has no copies", cl.Original)
		}
		for _, cp := range cl.Copies {
			kinds[cp.Kind]++
			if inCluster[cp.URL] {
				t.Errorf("%s is in two clusters", cp.URL)
			}
			inCluster[cp.URL] = true
			r := get(t, c, cp.URL)
			if r.status != 200 || expected[cp.URL] != 200 {
				t.Errorf("copy %s: status %d, Expected() %d", cp.URL, r.status, expected[cp.URL])
				continue
			}
			switch cp.Kind {
			case DupExact:
				if !bytes.Equal(r.body, orig.body) {
					t.Errorf("exact copy %s differs from %s", cp.URL, cl.Original)
				}
			case DupNear:
				// The edition line is the only addition; editions have
				// no rel=canonical.
				if bytes.Equal(r.body, orig.body) {
					t.Errorf("near copy %s is identical to %s", cp.URL, cl.Original)
				}
				a := canonicalRE.ReplaceAll(orig.body, nil)
				b := editionRE.ReplaceAll(r.body, nil)
				if !bytes.Equal(a, b) {
					t.Errorf("near copy %s differs from %s by more than its edition line", cp.URL, cl.Original)
				}
			case DupPrint:
				a, b := articleRE.Find(orig.body), articleRE.Find(r.body)
				if a == nil || !bytes.Equal(a, b) {
					t.Errorf("print copy %s: its <article> differs from %s's", cp.URL, cl.Original)
				}
				if bytes.Contains(r.body, []byte(`class="main-nav"`)) || bytes.Contains(r.body, []byte("site-footer")) {
					t.Errorf("print copy %s has the site's navigation or footer", cp.URL)
				}
			default:
				t.Errorf("copy %s: kind %v", cp.URL, cp.Kind)
			}
		}
	}
	t.Logf("%d clusters, copies by kind %v", len(clusters), kinds)
	for _, k := range []DupKind{DupExact, DupPrint, DupNear} {
		if kinds[k] == 0 {
			t.Errorf("no copy of kind %v", k)
		}
	}

	// No two other pages share their bytes.
	byHash := map[string]string{}
	for u, tr := range truth(t, s, 2) {
		if tr.Status != 200 || inCluster[u] {
			continue
		}
		if other, ok := byHash[tr.Hash]; ok {
			t.Errorf("%s and %s serve the same bytes but are in no cluster", u, other)
		}
		byHash[tr.Hash] = u
	}
}

// TestNoDuplicatesByDefault checks that a default site has no duplicate
// clusters and no copy pages.
func TestNoDuplicatesByDefault(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 60, Seed: 13})
	if d := s.Duplicates(); d != nil {
		t.Errorf("Duplicates() = %v without Options.Duplicates, want nil", d)
	}
	c := noRedirect(t)
	for _, p := range []string{"/article/1/print", "/article/5/edition/1", "/a/2"} {
		if r := get(t, c, "http://"+s.Hosts()[0]+p); r.status != 404 {
			t.Errorf("GET %s: status %d, want 404", p, r.status)
		}
	}
	byHash := map[string]string{}
	for u, tr := range truth(t, s, 0) {
		if strings.Contains(u, "/category/") && !strings.Contains(u, "?") {
			t.Errorf("a crawl meets %s", u)
		}
		if other, ok := byHash[tr.Hash]; ok && tr.Status == 200 {
			t.Errorf("%s and %s serve the same bytes", u, other)
		}
		byHash[tr.Hash] = u
	}
}
