package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestExplain(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	smallCrawl(t, db)

	a, err := db.Explain(ctx, testOrigin+"/a", 5)
	if err != nil {
		t.Fatal(err)
	}
	if a.State != StateFailed || a.Reason != "HTTP 404" || a.Status != 404 || a.Attempts != 1 || a.Claims != 1 ||
		a.Depth != 1 || a.Source != "link" {
		t.Errorf("/a = %+v", a)
	}
	if a.ParentURL != testOrigin+"/" || a.ParentAnchor != "A page" {
		t.Errorf("/a parent = %q %q, want / with anchor %q", a.ParentURL, a.ParentAnchor, "A page")
	}
	if diff := cmp.Diff([]InboundLink{{From: testOrigin + "/", Anchor: "A page"}}, a.Inbound); diff != "" || a.InboundTotal != 1 {
		t.Errorf("/a inbound (-want +got):\n%s (total %d)", diff, a.InboundTotal)
	}
	if a.Page == nil || a.Page.Status != 404 || a.Page.Duration != 80*time.Millisecond {
		t.Errorf("/a page = %+v, want the 404 response", a.Page)
	}
	if h := a.Host; h == nil || !h.RobotsFetched || h.RobotsStatus != 200 || string(h.RobotsBody) != "User-agent: *\nDisallow: /private/\n" {
		t.Errorf("/a host = %+v, want the robots.txt record", a.Host)
	}

	home, err := db.Explain(ctx, testOrigin+"/", 5)
	if err != nil {
		t.Fatal(err)
	}
	if home.ParentURL != "" || home.Source != "seed" || home.Page == nil || home.Page.Title != "Home" || home.Page.Links != 3 {
		t.Errorf("/ = %+v, page %+v", home, home.Page)
	}

	b, err := db.Explain(ctx, testOrigin+"/b", 5)
	if err != nil {
		t.Fatal(err)
	}
	if b.State != StateQueued || b.NextAttemptAt.IsZero() || b.Page != nil || b.Status != 503 {
		t.Errorf("/b = %+v, want queued for a retry, no page", b)
	}

	skipped, err := db.Explain(ctx, "http://other.example/", 5)
	if err != nil {
		t.Fatal(err)
	}
	if skipped.Host != nil || skipped.Reason != "out of scope" {
		t.Errorf("skipped seed = %+v, want no host, reason out of scope", skipped)
	}

	_, err = db.Explain(ctx, testOrigin+"/x", 5)
	if !errors.Is(err, ErrUnknownURL) {
		t.Fatalf("Explain(/x) = %v, want ErrUnknownURL", err)
	}
	in, n, err := db.Inbound(ctx, testOrigin+"/x", 5)
	if err != nil || n != 1 || len(in) != 1 || !in[0].Nofollow {
		t.Errorf("Inbound(/x) = %+v, %d, %v; want one nofollow link", in, n, err)
	}
}

func TestSimilarURLs(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	smallCrawl(t, db)
	tests := []struct {
		url  string
		n    int
		want []string
	}{
		{testOrigin + "/c", 5, []string{testOrigin + "/", testOrigin + "/a", testOrigin + "/b"}},
		{testOrigin + "/a/deeper?q=1", 2, []string{testOrigin + "/", testOrigin + "/a"}},
		{testOrigin + "/a", 5, []string{testOrigin + "/", testOrigin + "/b"}},
		{"http://nowhere.example/x", 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := db.SimilarURLs(ctx, tt.url, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SimilarURLs(%q) (-want +got):\n%s", tt.url, diff)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	tests := []struct {
		url  string
		want []string
	}{
		{"http://h/a/b?x=1&y=2", []string{"http://h/a/b?x=1&y=", "http://h/a/b?x=1&", "http://h/a/b?x=", "http://h/a/b?", "http://h/a/", "http://h/"}},
		{"http://h/a/", []string{"http://h/a/", "http://h/"}},
		{"http://h/", []string{"http://h/"}},
		{"http://h", []string{"http://h"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, prefixes(tt.url)); diff != "" {
			t.Errorf("prefixes(%q) (-want +got):\n%s", tt.url, diff)
		}
	}
}
