package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crawler-dev/crawler/store"
)

func testExplain(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	SmallCrawl(t, s)

	a := explain(t, s, "/a")
	if a.State != store.StateFailed || a.Reason != "HTTP 404" || a.Status != 404 || a.Attempts != 1 || a.Claims != 1 ||
		a.Depth != 1 || a.Source != "link" {
		t.Errorf("/a = %+v", a)
	}
	if a.ParentURL != Origin+"/" || a.ParentAnchor != "A page" {
		t.Errorf("/a parent = %q %q, want / with anchor %q", a.ParentURL, a.ParentAnchor, "A page")
	}
	if diff := cmp.Diff([]store.InboundLink{{From: Origin + "/", Anchor: "A page"}}, a.Inbound); diff != "" || a.InboundTotal != 1 {
		t.Errorf("/a inbound (-want +got):\n%s (total %d)", diff, a.InboundTotal)
	}
	if a.Page == nil || a.Page.Status != 404 || a.Page.Duration != 80*time.Millisecond || a.Page.BodyStored || a.Page.Truncated {
		t.Errorf("/a page = %+v, want the 404 response", a.Page)
	}
	if h := a.Host; h == nil || !h.RobotsFetched || h.RobotsStatus != 200 || string(h.RobotsBody) != "User-agent: *\nDisallow: /private/\n" {
		t.Errorf("/a host = %+v, want the robots.txt record", a.Host)
	}

	home := explain(t, s, "/")
	if home.ParentURL != "" || home.Source != "seed" || home.Page == nil || home.Page.Title != "Home" || home.Page.Links != 3 {
		t.Errorf("/ = %+v, page %+v", home, home.Page)
	}

	b := explain(t, s, "/b")
	if b.State != store.StateQueued || b.NextAttemptAt.IsZero() || b.Page != nil || b.Status != 503 {
		t.Errorf("/b = %+v, want queued for a retry, no page", b)
	}

	skipped, err := s.Explain(ctx, "http://other.example/", 5)
	if err != nil {
		t.Fatal(err)
	}
	if skipped.Host != nil || skipped.Reason != "out of scope" {
		t.Errorf("skipped seed = %+v, want no host, reason out of scope", skipped)
	}

	_, err = s.Explain(ctx, Origin+"/x", 5)
	if !errors.Is(err, store.ErrUnknownURL) {
		t.Fatalf("Explain(/x) = %v, want ErrUnknownURL", err)
	}
	in, n, err := s.Inbound(ctx, Origin+"/x", 5)
	if err != nil || n != 1 || len(in) != 1 || !in[0].Nofollow {
		t.Errorf("Inbound(/x) = %+v, %d, %v; want one nofollow link", in, n, err)
	}
}

func testSimilarURLs(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	SmallCrawl(t, s)
	tests := []struct {
		url  string
		n    int
		want []string
	}{
		{Origin + "/c", 5, []string{Origin + "/", Origin + "/a", Origin + "/b"}},
		{Origin + "/a/deeper?q=1", 2, []string{Origin + "/", Origin + "/a"}},
		{Origin + "/a", 5, []string{Origin + "/", Origin + "/b"}},
		{"http://nowhere.example/x", 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := s.SimilarURLs(ctx, tt.url, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("SimilarURLs(%q) (-want +got):\n%s", tt.url, diff)
			}
		})
	}
}

func testReport(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	start, retryAt := SmallCrawl(t, s)
	r, err := s.Report(ctx, start, 10)
	if err != nil {
		t.Fatal(err)
	}
	wantStates := map[string]int{store.StateQueued: 1, store.StateLeased: 0, store.StateDone: 1, store.StateFailed: 1, store.StateSkipped: 1}
	if diff := cmp.Diff(wantStates, r.ByState); diff != "" {
		t.Errorf("ByState (-want +got):\n%s", diff)
	}
	if r.Total != 4 || r.Pages != 2 || r.Bytes != 1234 {
		t.Errorf("Total, Pages, Bytes = %d, %d, %d; want 4, 2, 1234", r.Total, r.Pages, r.Bytes)
	}
	if diff := cmp.Diff([]store.StatusCount{{Status: 200, Count: 1}, {Status: 404, Count: 1}}, r.Statuses); diff != "" {
		t.Errorf("Statuses (-want +got):\n%s", diff)
	}
	wantCauses := []store.ReasonCount{{State: store.StateFailed, Reason: "HTTP 404", Count: 1},
		{State: store.StateSkipped, Reason: "out of scope", Count: 1}}
	if diff := cmp.Diff(wantCauses, r.Causes); diff != "" {
		t.Errorf("Causes (-want +got):\n%s", diff)
	}
	if r.Failed != Origin+"/a" {
		t.Errorf("Failed = %q, want %q", r.Failed, Origin+"/a")
	}
	if !r.NextDue.Equal(retryAt) {
		t.Errorf("NextDue = %v, want %v", r.NextDue, retryAt)
	}
	if len(r.SlowHosts) != 1 {
		t.Fatalf("SlowHosts = %+v, want the one host", r.SlowHosts)
	}
	if h := r.SlowHosts[0]; h.Fetched != 2 || h.AvgMS != 55 || h.MaxMS != 80 || h.LatencyMS != 55 || h.DelayMS != 500 {
		t.Errorf("SlowHosts[0] = %+v, want 2 pages, mean 55ms, max 80ms, smoothed latency 55ms, delay 500ms", h)
	}

	// A report since later than every change has whole-database totals only.
	r, err = s.Report(ctx, time.Now().Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Statuses) != 0 || len(r.Causes) != 0 || r.Failed != "" || r.Pages != 2 {
		t.Errorf("report since the future = %+v, want totals only", r)
	}

	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 4 || st.Pages != 2 || st.Bytes != 1234 || st.LastMinute != 2 || len(st.Hosts) != 1 ||
		st.Hosts[0].Origin != Origin || len(st.TopReasons) != 2 {
		t.Errorf("Status = %+v", st)
	}
}

func testHostList(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	_, retryAt := SmallCrawl(t, s)
	for _, order := range []store.HostOrder{"", store.ByQueued, store.ByPages, store.ByErrors, store.ByLatency, store.ByDelay} {
		t.Run(string(order), func(t *testing.T) {
			hs, total, err := s.HostList(ctx, order, 10)
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(hs) != 1 {
				t.Fatalf("HostList = %d hosts of %d, want 1 of 1", len(hs), total)
			}
			h := hs[0]
			if h.Origin != Origin || h.Queued != 1 || h.Leased != 0 || h.Pages != 2 || h.Errors != 1 ||
				h.BackoffLevel != 2 || h.DelayMS != 500 || h.Reason != "HTTP 503, backing off 1h (level 2)" {
				t.Errorf("host = %+v", h)
			}
			if got := h.PausedUntil(time.Now()); !got.Equal(retryAt) {
				t.Errorf("PausedUntil = %v, want %v", got, retryAt)
			}
			if got := h.PausedUntil(retryAt.Add(time.Second)); !got.IsZero() {
				t.Errorf("PausedUntil after the pause = %v, want zero", got)
			}
		})
	}
	if _, _, err := s.HostList(ctx, "fastest", 10); err == nil {
		t.Error("HostList with an unknown order succeeded")
	}
}

func testTotals(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	if got, err := s.Totals(ctx); err != nil || got != (store.Totals{}) {
		t.Errorf("Totals of an empty database = %+v, %v", got, err)
	}
	SmallCrawl(t, s)
	want := store.Totals{Pages: 2, Errors: 1, Queued: 1}
	if got, err := s.Totals(ctx); err != nil || got != want {
		t.Errorf("Totals = %+v, %v; want %+v", got, err, want)
	}
	hs, _, err := s.HostList(ctx, store.ByQueued, 1)
	if err != nil {
		t.Fatal(err)
	}
	tok := hostLease(t, s, hs[0].ID)
	if ls, _, err := s.Claim(ctx, tok, 1, time.Minute); err != nil || len(ls) != 0 {
		t.Fatalf("Claim of a URL not due = %v, %v; want none", ls, err)
	}
	// /b is due only in an hour: a retry claimed at once is not claimed.
	if got, err := s.Totals(ctx); err != nil || got.Leased != 0 || got.Queued != 1 {
		t.Errorf("Totals = %+v, %v; want 1 queued, none leased", got, err)
	}
	counts, err := s.FrontierCounts(ctx)
	wantCounts := map[string]int{store.StateQueued: 1, store.StateLeased: 0, store.StateDone: 1, store.StateFailed: 1, store.StateSkipped: 1}
	if diff := cmp.Diff(wantCounts, counts); err != nil || diff != "" {
		t.Errorf("FrontierCounts (-want +got): %v\n%s", err, diff)
	}
}

func testRemainingAndNextDue(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	_, retryAt := SmallCrawl(t, s)
	q, l, err := s.Remaining(ctx)
	if err != nil || q != 1 || l != 0 {
		t.Errorf("Remaining = %d, %d, %v; want 1 queued, 0 leased", q, l, err)
	}
	next, due, err := s.NextDue(ctx, time.Now())
	if err != nil || !next.Equal(retryAt) || due != 0 {
		t.Errorf("NextDue(now) = %v, %d, %v; want %v, 0 due", next, due, err, retryAt)
	}
	if _, due, _ := s.NextDue(ctx, retryAt); due != 1 {
		t.Errorf("NextDue(retry time) due = %d, want 1", due)
	}
}

func testPagesWithBodies(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	var pages []Recorded
	want := []string{}
	for i := range 7 {
		p := &store.Page{FinalURL: fmt.Sprintf("%s/p/%d", Origin, i), Status: 200, ContentType: "text/html",
			Body: []byte(fmt.Sprintf("<p>%d</p>", i))}
		switch i {
		case 2:
			p.Status = 404 // an error page, even with a body, is not extracted
		case 4:
			p.Body = nil // not stored (noindex, duplicate)
		default:
			want = append(want, p.FinalURL)
		}
		pages = append(pages, Recorded{Page: p})
	}
	CommitPages(t, s, pages...)
	var got []string
	var after int64
	for range 10 {
		batch, err := s.PagesWithBodies(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) > 2 {
			t.Fatalf("PagesWithBodies(limit 2) returned %d pages", len(batch))
		}
		if len(batch) == 0 {
			break
		}
		for _, p := range batch {
			if p.ID <= after {
				t.Fatalf("page id %d after %d: not in id order", p.ID, after)
			}
			after = p.ID
			if string(p.Body) == "" || p.Status != 200 {
				t.Errorf("page %s: status %d, body %q", p.URL, p.Status, p.Body)
			}
			got = append(got, p.URL)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("PagesWithBodies pages = %v, want %v", got, want)
	}
}

func testPageByURL(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	u := Origin + "/product/1"
	fetched := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: u, Status: 200, ContentType: "text/html; charset=utf-8",
		Body: []byte("x"), BodyEncoding: "identity", FetchedAt: fetched}})
	p, err := s.PageByURL(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL != u || string(p.Body) != "x" || p.BodyEncoding != "identity" || p.ContentType != "text/html; charset=utf-8" ||
		p.Status != 200 || !p.FetchedAt.Equal(fetched) {
		t.Errorf("PageByURL(%s) = %+v", u, p)
	}
	if _, err := s.PageByURL(ctx, Origin+"/nope"); !errors.Is(err, store.ErrNoPage) {
		t.Errorf("PageByURL(unknown) error = %v, want ErrNoPage", err)
	}
}

// items returns a page's items as rule, index, data and errors, sorted,
// read back through an export.
func items(t *testing.T, s Store, pageID int64) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := s.Export(context.Background(), &b, store.ExportOptions{Table: "items"}); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var it struct {
			PageID int64           `json:"page_id"`
			Rule   string          `json:"rule"`
			Index  int             `json:"index"`
			Data   json.RawMessage `json:"data"`
			Errors json.RawMessage `json:"errors"`
		}
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatal(err)
		}
		if it.PageID != pageID {
			continue
		}
		errs := string(it.Errors)
		if errs == "null" {
			errs = ""
		}
		out = append(out, fmt.Sprintf("%s%d=%s%s", it.Rule, it.Index, it.Data, errs))
	}
	sort.Strings(out)
	return fmt.Sprint(out)
}

func testReplacePageItems(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	u := Origin + "/product/1"
	ids := CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: u, Status: 200, Items: []store.Item{
		{Rule: "a", Index: 0, Data: map[string]any{"v": "a0"}},
		{Rule: "b", Index: 0, Data: map[string]any{"v": "b0"}},
		{Rule: "b", Index: 1, Data: map[string]any{"v": "b1"}},
	}}})
	id := ids[u]
	if got, want := items(t, s, id), `[a0={"v":"a0"} b0={"v":"b0"} b1={"v":"b1"}]`; got != want {
		t.Fatalf("items as recorded = %s, want %s", got, want)
	}
	tests := []struct {
		name  string
		rules []string
		items []store.Item
		want  string
	}{
		{"one rule", []string{"b"}, []store.Item{{Rule: "b", Index: 0, Data: map[string]any{"v": "new"}, Errors: []string{"e"}}},
			`[a0={"v":"a0"} b0={"v":"new"}["e"]]`},
		{"all rules", nil, []store.Item{{Rule: "c", Index: 2, Data: map[string]any{"n": 1}}}, `[c2={"n":1}]`},
		{"none left", nil, nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.ReplacePageItems(ctx, tt.rules, []store.PageItems{{PageID: id, URL: u, Items: tt.items}}); err != nil {
				t.Fatal(err)
			}
			if got := items(t, s, id); got != tt.want {
				t.Errorf("items after ReplacePageItems(%v) = %s, want %s", tt.rules, got, tt.want)
			}
		})
	}
}

func testPageSummaries(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	long := strings.Repeat("é", 30)
	fetched := time.Now().Truncate(time.Millisecond)
	CommitPages(t, s,
		Recorded{Page: &store.Page{FinalURL: Origin + "/1", Status: 200, ContentType: "text/html", Title: long,
			FetchedAt: fetched, Duration: 7 * time.Millisecond, Size: 99}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/2", Status: 404, FetchedAt: fetched}},
		Recorded{Page: &store.Page{FinalURL: Origin + "/3", Status: 200, ContentType: "text/plain", FetchedAt: fetched}},
	)
	var got []store.PageSummary
	for p, err := range s.PageSummaries(ctx, 0, 2, 20) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
	}
	if len(got) != 2 {
		t.Fatalf("PageSummaries(limit 2) = %d pages, want 2", len(got))
	}
	p := got[0]
	if p.URL != (Origin + "/1")[:20] || p.FinalURL != p.URL || p.Status != 200 || p.ContentType != "text/html" ||
		p.Title != strings.Repeat("é", 20) || !p.FetchedAt.Equal(fetched) || p.DurationMS != 7 || p.Size != 99 {
		t.Errorf("first page = %+v", p)
	}
	if diff := cmp.Diff([]string{"url", "final_url", "title"}, p.Cut); diff != "" {
		t.Errorf("fields cut at 20 characters (-want +got):\n%s", diff)
	}
	if got[1].Status != 404 || got[1].ContentType != "" || got[1].Title != "" {
		t.Errorf("second page = %+v", got[1])
	}
	n := 0
	for p, err := range s.PageSummaries(ctx, got[1].ID, 10, 1000) {
		if err != nil || p.URL != Origin+"/3" || p.Cut != nil {
			t.Errorf("page after %d = %+v, %v; want /3, nothing cut", got[1].ID, p, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d pages after the second, want 1", n)
	}
	// Stopping early releases the rows.
	for range s.PageSummaries(ctx, 0, 10, 1000) {
		break
	}
}

func testItemSummaries(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Open(t)
	big := strings.Repeat("x", 200)
	CommitPages(t, s, Recorded{Page: &store.Page{FinalURL: Origin + "/p", Status: 200, Items: []store.Item{
		{Rule: "product", Index: 0, Data: map[string]any{"name": "Lamp"}},
		{Rule: "product", Index: 1, Data: map[string]any{"name": big}, Errors: []string{"e"}},
		{Rule: "other", Index: 0, Data: map[string]any{"n": 1}},
	}}})
	var got []store.ItemSummary
	for it, err := range s.ItemSummaries(ctx, 0, 10, "product", 1000, 100) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it)
	}
	if len(got) != 2 {
		t.Fatalf("ItemSummaries(product) = %+v, want 2 items", got)
	}
	if it := got[0]; it.Rule != "product" || it.Index != 0 || string(it.Data) != `{"name":"Lamp"}` || it.Errors != nil ||
		it.Cut != nil || it.URL != Origin+"/p" || it.ExtractedAt.IsZero() {
		t.Errorf("first item = %+v", it)
	}
	if it := got[1]; it.Data != nil || string(it.Errors) != `["e"]` || fmt.Sprint(it.Cut) != "[data]" {
		t.Errorf("second item = %+v (data %s), want its data left out", it, it.Data)
	}
	n := 0
	for it, err := range s.ItemSummaries(ctx, got[0].ID, 1, "", 3, 1000) {
		if err != nil || it.ID <= got[0].ID || it.URL != Origin[:3] || fmt.Sprint(it.Cut) != "[url rule]" {
			t.Errorf("item after %d = %+v, %v; want URL and rule cut at 3 characters", got[0].ID, it, err)
		}
		n++
	}
	if n != 1 {
		t.Errorf("%d items with limit 1", n)
	}
}
