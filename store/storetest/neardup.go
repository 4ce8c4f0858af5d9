package storetest

import (
	"context"
	"testing"

	"github.com/crawler-dev/crawler/store"
)

// testNearDuplicate: a page's SimHash is found through the band index by
// a SimHash a few bits away, from the same host only, not for the page's
// own URL, not beyond the distance asked, and not when no 16-bit band is
// equal; a near-duplicate's own SimHash is not indexed.
func testNearDuplicate(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	const x = uint64(0x0123_4567_89ab_cdef)
	ids := CommitPages(t, s,
		Recorded{Page: &store.Page{FinalURL: Origin + "/a", Status: 200, SimHash: x, HasSimHash: true}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/c", Status: 200, SimHash: ^x, HasSimHash: true}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/e", Status: 200}},
	)
	added, err := s.Add(ctx, []store.NewURL{queued("/later", 5)}) // deeper than /b: claimed after it
	if err != nil {
		t.Fatal(err)
	}
	host := hostOf(t, added)
	// /b is a near-duplicate of /a: recorded, not indexed.
	idsB := CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/b", Status: 200, SimHash: x ^ 0b11,
		HasSimHash: true, NearDuplicateOf: ids[Origin+"/a"], NearReason: "simhash distance 2 to " + Origin + "/a"}})
	sp, err := s.PageByURL(ctx, Origin+"/b")
	if err != nil || sp.ID != idsB[Origin+"/b"] {
		t.Fatalf("page /b = %+v, %v", sp, err)
	}
	urlA := urlID(t, s, Origin+"/a")
	for _, c := range []struct {
		name    string
		host    int64
		h       uint64
		maxDist int
		urlID   int64
		want    string // URL found, "" for none
		dist    int
	}{
		{"one bit", host, x ^ 1<<40, 6, 0, "/a", 1},
		{"three bits, one per band", host, x ^ (1 | 1<<20 | 1<<40), 3, 0, "/a", 3},
		{"five bits, three bands untouched", host, x ^ 0b11111, 6, 0, "/a", 5},
		{"beyond the distance", host, x ^ 0b1111111, 6, 0, "", 0},
		{"no band equal", host, x ^ (1 | 1<<20 | 1<<40 | 1<<60), 6, 0, "", 0},
		{"own URL", host, x, 6, urlA, "", 0},
		{"other host", host + 1000, x, 6, 0, "", 0},
		{"the far page", host, ^x ^ 1, 2, 0, "/c", 1},
	} {
		m, ok, err := s.NearDuplicate(ctx, c.host, c.h, c.maxDist, c.urlID)
		switch {
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "" && ok:
			t.Errorf("%s: found %+v, want none", c.name, m)
		case c.want != "" && (!ok || m.URL != Origin+c.want || m.Distance != c.dist || m.PageID != ids[Origin+c.want]):
			t.Errorf("%s: %+v, %v; want %s at %d bits", c.name, m, ok, c.want, c.dist)
		}
	}
}

// urlID returns the frontier id of a URL.
func urlID(t *testing.T, s Store, url string) int64 {
	t.Helper()
	info, err := s.Explain(context.Background(), url, 0)
	if err != nil || info == nil {
		t.Fatalf("explain %s: %v", url, err)
	}
	return info.ID
}
