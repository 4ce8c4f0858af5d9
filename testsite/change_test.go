package testsite

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
)

// changing is a small normal site where every kind of change happens.
var changing = Options{Hosts: 2, PagesPerHost: 120, Seed: 13, Duplicates: true,
	Changes: ChangeRates{Text: 0.1, Price: 0.1, Remove: 0.05, New: 0.05}}

// changingFast is its Fast-mode counterpart.
var changingFast = Options{Hosts: 2, PagesPerHost: 150, Seed: 13, Fast: true,
	Changes: ChangeRates{Text: 0.1, Remove: 0.05, New: 0.05}}

func setGeneration(t *testing.T, s *Site, g int) {
	t.Helper()
	if err := s.SetGeneration(g); err != nil {
		t.Fatalf("SetGeneration(%d): %v", g, err)
	}
}

func advance(t *testing.T, s *Site) int {
	t.Helper()
	g, err := s.Advance()
	if err != nil {
		t.Fatalf("Advance: %v", err)
	}
	return g
}

func changed(t *testing.T, s *Site, from, to int) map[string]ChangeKind {
	t.Helper()
	c, err := s.Changed(from, to)
	if err != nil {
		t.Fatalf("Changed(%d, %d): %v", from, to, err)
	}
	return c
}

func truth(t *testing.T, s *Site, g int) map[string]PageTruth {
	t.Helper()
	tr, err := s.Truth(g)
	if err != nil {
		t.Fatalf("Truth(%d): %v", g, err)
	}
	return tr
}

// do sends a request with the given header fields.
func do(t testing.TB, c *http.Client, method, u string, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(resp.Body); err != nil {
		t.Fatalf("%s %s: read body: %v", method, u, err)
	}
	return response{resp.StatusCode, resp.Header, body.Bytes()}
}

// fetchAll GETs every URL at the site's current generation.
func fetchAll(t *testing.T, c *http.Client, urls []string) map[string]response {
	t.Helper()
	out := make(map[string]response, len(urls))
	for _, u := range urls {
		out[u] = get(t, c, u)
	}
	return out
}

// TestChangedIsExact fetches every URL of Truth at consecutive
// generations and checks that exactly the URLs Changed lists differ in
// status or bytes, that the ETag and Last-Modified change with the bytes
// and only with them, and that Truth says what the server serves.
func TestChangedIsExact(t *testing.T) {
	// Without new pages, prices alone change the home page.
	prices := Options{Hosts: 2, PagesPerHost: 120, Seed: 13, Changes: ChangeRates{Price: 0.3, Text: 0.1}}
	for _, o := range []Options{changing, changingFast, prices} {
		t.Run(fmt.Sprintf("%+v", o.Changes), func(t *testing.T) {
			s := startSite(t, o)
			c := noRedirect(t)
			const gens = 4
			var all []string
			for g := range gens + 1 {
				all = append(all, slices.Collect(maps.Keys(truth(t, s, g)))...)
			}
			slices.Sort(all)
			all = slices.Compact(all)
			served := make([]map[string]response, gens+1)
			for g := range gens + 1 {
				setGeneration(t, s, g)
				served[g] = fetchAll(t, c, all)
				tr := truth(t, s, g)
				for u, want := range tr {
					r := served[g][u]
					got := PageTruth{Status: r.status, ETag: r.header.Get("ETag"), Hash: strconv.FormatUint(xxhash.Sum64(r.body), 16),
						Product: want.Product}
					if got.ETag != "" {
						got.LastModified, _ = http.ParseTime(r.header.Get("Last-Modified"))
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("generation %d: %s: Truth differs from what is served (-truth +served):\n%s", g, u, diff)
					}
				}
			}
			kinds := map[ChangeKind]int{}
			for from := range gens {
				for to := from + 1; to <= gens; to++ {
					ch := changed(t, s, from, to)
					for _, u := range all {
						a, b := served[from][u], served[to][u]
						differs := a.status != b.status || !bytes.Equal(a.body, b.body)
						if a.status != 200 && b.status != 200 {
							// Not there at either generation (perhaps
							// added and removed in between): not a change.
							differs = false
						}
						if k, listed := ch[u]; listed != differs {
							t.Errorf("%d -> %d: %s listed %v (%v), bytes or status differ %v (%d -> %d)", from, to, u, listed, k, differs, a.status, b.status)
						}
						if a.status == 200 && b.status == 200 {
							ea, eb := a.header.Get("ETag"), b.header.Get("ETag")
							la, lb := a.header.Get("Last-Modified"), b.header.Get("Last-Modified")
							if (ea != eb) != differs || (la != lb) != differs {
								t.Errorf("%d -> %d: %s: ETag %s -> %s, Last-Modified %s -> %s, body differs %v", from, to, u, ea, eb, la, lb, differs)
							}
						}
						if to == from+1 {
							kinds[ch[u]]++
						}
					}
					checkKinds(t, served[from], served[to], ch)
				}
			}
			t.Logf("URLs per change kind between consecutive generations: %v", kinds)
			for _, k := range []ChangeKind{ChangeText, ChangePrice, ChangeNew, ChangeRemoved, ChangeLinks} {
				if kinds[k] == 0 && (k != ChangePrice || o.Changes.Price > 0) && (k == ChangeText || k == ChangePrice || o.Changes.New > 0) {
					t.Errorf("no URL changed with kind %v", k)
				}
			}
		})
	}
}

// checkKinds checks that each listed change is of the kind the two
// answers show.
func checkKinds(t *testing.T, was, is map[string]response, ch map[string]ChangeKind) {
	t.Helper()
	for u, k := range ch {
		a, b := was[u], is[u]
		switch {
		case k&ChangeNew != 0:
			if a.status == 200 || b.status != 200 || k != ChangeNew {
				t.Errorf("%s: %v, status %d -> %d", u, k, a.status, b.status)
			}
		case k&ChangeRemoved != 0:
			if a.status != 200 || (b.status != 404 && b.status != 410) || k != ChangeRemoved {
				t.Errorf("%s: %v, status %d -> %d", u, k, a.status, b.status)
			}
		default:
			if a.status != 200 || b.status != 200 {
				t.Errorf("%s: %v, status %d -> %d", u, k, a.status, b.status)
			}
		}
	}
}

// TestChangeShares checks that each generation changes exactly the share
// of products and articles (Fast: pages) the rates ask for.
func TestChangeShares(t *testing.T) {
	for _, o := range []Options{changing, changingFast} {
		t.Run(fmt.Sprintf("fast=%v", o.Fast), func(t *testing.T) {
			s := startSite(t, o)
			pageRE := regexp.MustCompile(`^http://([^/]+)/(product|article|p)/\d+$`)
			// live counts the live pages of each host and class.
			live := func(g int) map[string]int {
				n := map[string]int{}
				for u, tr := range truth(t, s, g) {
					if m := pageRE.FindStringSubmatch(u); m != nil && tr.Status == 200 {
						n[m[1]+" "+m[2]]++
					}
				}
				return n
			}
			r := o.Changes
			for g := 1; g <= 3; g++ {
				before := live(g - 1)
				got := map[string]map[ChangeKind]int{}
				for u, k := range changed(t, s, g-1, g) {
					if m := pageRE.FindStringSubmatch(u); m != nil {
						key := m[1] + " " + m[2]
						if got[key] == nil {
							got[key] = map[ChangeKind]int{}
						}
						got[key][k]++
					}
				}
				want := map[string]map[ChangeKind]int{}
				for key, n := range before {
					kr := round(r.Remove, n)
					kt := round(r.Text, n)
					w := map[ChangeKind]int{ChangeRemoved: kr, ChangeText: kt, ChangeNew: round(r.New, n)}
					if strings.HasSuffix(key, " product") {
						w[ChangePrice] = round(r.Price, n)
					}
					maps.DeleteFunc(w, func(_ ChangeKind, v int) bool { return v == 0 })
					want[key] = w
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("generation %d: changed pages per host and class (-want +got):\n%s", g, diff)
				}
				if g == 1 {
					t.Logf("generation 1: live pages %v, changed %v", before, got)
				}
			}
		})
	}
}

func round(share float64, n int) int { return int(math.Round(share * float64(n))) }

// TestRevisit is a revisit as a crawler with conditional requests does
// it: every URL known from generation 0 is fetched again at generation 1
// with its validators. Unchanged pages answer 304 with no body, changed
// ones 200 with a new ETag, removed ones 404 or 410, and the server's log
// counts it all.
func TestRevisit(t *testing.T) {
	s := startSite(t, changing)
	c := noRedirect(t)
	known := map[string]response{}
	for u, st := range s.Expected() {
		if st == 200 {
			known[u] = get(t, c, u)
		}
	}
	g := advance(t, s)
	ch := changed(t, s, 0, g)
	statsBefore := s.Stats()
	var unchanged, conditional int
	var bytesSent int64
	for u, old := range known {
		r := do(t, c, "GET", u, map[string]string{"If-None-Match": old.header.Get("ETag"),
			"If-Modified-Since": old.header.Get("Last-Modified")})
		conditional++
		k, isChanged := ch[u]
		switch {
		case !isChanged:
			unchanged++
			if r.status != 304 || len(r.body) != 0 || r.header.Get("ETag") != old.header.Get("ETag") {
				t.Errorf("unchanged %s: status %d, %d body bytes, ETag %s, want 304, none, %s",
					u, r.status, len(r.body), r.header.Get("ETag"), old.header.Get("ETag"))
			}
		case k == ChangeRemoved:
			if r.status != 404 && r.status != 410 {
				t.Errorf("removed %s: status %d, want 404 or 410", u, r.status)
			}
			bytesSent += int64(len(r.body))
		default:
			bytesSent += int64(len(r.body))
			if r.status != 200 || r.header.Get("ETag") == old.header.Get("ETag") || len(r.body) == 0 {
				t.Errorf("changed (%v) %s: status %d, ETag %s (was %s), want 200 and a new ETag", k, u, r.status,
					r.header.Get("ETag"), old.header.Get("ETag"))
			}
		}
	}
	if unchanged == 0 || unchanged == len(known) {
		t.Fatalf("%d of %d pages unchanged, want some of each", unchanged, len(known))
	}
	var got HostStats
	for h, st := range s.Stats() {
		b := statsBefore[h]
		got.Requests += st.Requests - b.Requests
		got.Conditional += st.Conditional - b.Conditional
		got.NotModified += st.NotModified - b.NotModified
		got.Bytes += st.Bytes - b.Bytes
	}
	want := HostStats{Requests: len(known), Conditional: conditional, NotModified: unchanged, Bytes: bytesSent}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server-side counts of the revisit (-want +got):\n%s", diff)
	}
	var first int
	for _, r := range known {
		first += len(r.body)
	}
	t.Logf("revisit at generation %d: %d requests, %d answered 304, %d body bytes (the first visit: %d)",
		g, got.Requests, got.NotModified, got.Bytes, first)

	// New pages are found from the home page.
	for u, k := range ch {
		if k == ChangeNew {
			if st := s.Expected()[u]; st != 200 {
				t.Errorf("new page %s: Expected() status %d, want 200", u, st)
			}
		}
	}
}

// TestConditional checks the answers to each kind of precondition.
func TestConditional(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 40, Seed: 2})
	fs := startSite(t, Options{Hosts: 1, PagesPerHost: 40, Seed: 2, Fast: true, FirstAddr: "127.0.0.20"})
	c := noRedirect(t)
	for _, u := range []string{"http://" + s.Hosts()[0] + "/product/3", "http://" + s.Hosts()[0] + "/robots.txt",
		"http://" + fs.Hosts()[0] + "/p/7", "http://" + fs.Hosts()[0] + "/robots.txt"} {
		first := get(t, c, u)
		etag, lm := first.header.Get("ETag"), first.header.Get("Last-Modified")
		mod, err := http.ParseTime(lm)
		if first.status != 200 || !regexp.MustCompile(`^"[0-9a-f]+"$`).MatchString(etag) || err != nil {
			t.Fatalf("GET %s: status %d, ETag %q, Last-Modified %q (%v)", u, first.status, etag, lm, err)
		}
		before, after := mod.Add(-time.Second).Format(http.TimeFormat), mod.Add(time.Second).Format(http.TimeFormat)
		tests := []struct {
			name   string
			method string
			header map[string]string
			want   int
		}{
			{"none", "GET", nil, 200},
			{"If-None-Match", "GET", map[string]string{"If-None-Match": etag}, 304},
			{"If-None-Match HEAD", "HEAD", map[string]string{"If-None-Match": etag}, 304},
			{"If-None-Match list", "GET", map[string]string{"If-None-Match": `"x", ` + etag}, 304},
			{"If-None-Match weak", "GET", map[string]string{"If-None-Match": "W/" + etag}, 304},
			{"If-None-Match star", "GET", map[string]string{"If-None-Match": "*"}, 304},
			{"If-None-Match other", "GET", map[string]string{"If-None-Match": `"x"`}, 200},
			{"If-None-Match malformed", "GET", map[string]string{"If-None-Match": strings.Trim(etag, `"`)}, 200},
			{"If-Modified-Since same", "GET", map[string]string{"If-Modified-Since": lm}, 304},
			{"If-Modified-Since later", "GET", map[string]string{"If-Modified-Since": after}, 304},
			{"If-Modified-Since earlier", "GET", map[string]string{"If-Modified-Since": before}, 200},
			{"If-Modified-Since invalid", "GET", map[string]string{"If-Modified-Since": "yesterday"}, 200},
			// RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since.
			{"If-None-Match other wins", "GET", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": lm}, 200},
			{"If-None-Match match wins", "GET", map[string]string{"If-None-Match": etag, "If-Modified-Since": before}, 304},
			{"If-Match", "GET", map[string]string{"If-Match": etag}, 200},
			{"If-Match weak", "GET", map[string]string{"If-Match": "W/" + etag}, 412},
			{"If-Match other", "GET", map[string]string{"If-Match": `"x"`}, 412},
			{"If-Unmodified-Since earlier", "GET", map[string]string{"If-Unmodified-Since": before}, 412},
			{"If-Unmodified-Since same", "GET", map[string]string{"If-Unmodified-Since": lm}, 200},
			{"If-Match wins", "GET", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, 200},
		}
		for _, tt := range tests {
			r := do(t, c, tt.method, u, tt.header)
			if r.status != tt.want {
				t.Errorf("%s %s %s: status %d, want %d", tt.method, u, tt.name, r.status, tt.want)
			}
			if r.status == 304 {
				if len(r.body) != 0 || r.header.Get("ETag") != etag || r.header.Get("Last-Modified") != lm ||
					r.header.Get("Content-Type") != "" {
					t.Errorf("%s %s %s: 304 with %d body bytes, header %v", tt.method, u, tt.name, len(r.body), r.header)
				}
			}
		}
	}
	// Preconditions do not apply to errors and redirects.
	for _, p := range []string{"/missing/1", "/old/1", "/broken/1"} {
		r := do(t, c, "GET", "http://"+s.Hosts()[0]+p, map[string]string{"If-None-Match": "*"})
		if r.status == 304 || r.header.Get("ETag") != "" {
			t.Errorf("GET %s with If-None-Match: *: status %d, ETag %q", p, r.status, r.header.Get("ETag"))
		}
	}
}

func TestMatchETag(t *testing.T) {
	tests := []struct {
		list string
		weak bool
		want bool
	}{
		{`"a"`, false, true},
		{`"b", "a"`, false, true},
		{` "b" ,, "a" `, true, true},
		{`W/"a"`, true, true},
		{`W/"a"`, false, false},
		{`*`, false, true},
		{` * `, true, true},
		{`"b"`, true, false},
		{`a`, true, false},
		{`"a`, true, false},
		{`"b" "a"`, true, false},
		{`"b", a, "a"`, true, false},
		{``, true, false},
		{`,`, true, false},
	}
	for _, tt := range tests {
		if got := matchETag(tt.list, `"a"`, tt.weak); got != tt.want {
			t.Errorf("matchETag(%q, %q, weak %v) = %v, want %v", tt.list, `"a"`, tt.weak, got, tt.want)
		}
	}
}

// TestRequestLog checks the server-side record of each request.
func TestRequestLog(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 40, Seed: 2, Changes: ChangeRates{Text: 0.5}})
	c := noRedirect(t)
	h := s.Hosts()[0]
	first := get(t, c, "http://"+h+"/product/2")
	do(t, c, "GET", "http://"+h+"/product/2", map[string]string{"If-None-Match": first.header.Get("ETag")})
	advance(t, s)
	missing := get(t, c, "http://"+h+"/missing/7?x=1")
	got := s.Requests(h)
	want := []Request{
		{Method: "GET", Target: "/product/2", Generation: 0, Status: 200, Bytes: int64(len(first.body))},
		{Method: "GET", Target: "/product/2", Generation: 0, Conditional: true, Status: 304},
		{Method: "GET", Target: "/missing/7?x=1", Generation: 1, Status: 404, Bytes: int64(len(missing.body))},
	}
	if diff := cmp.Diff(want, got, cmpIgnoreStart); diff != "" {
		t.Errorf("Requests(%s) (-want +got):\n%s", h, diff)
	}
	for i := 1; i < len(got); i++ {
		if got[i].Start < got[i-1].Start {
			t.Errorf("request %d started at %v, before request %d at %v", i, got[i].Start, i-1, got[i-1].Start)
		}
	}
	st := s.Stats()[h]
	if st.Conditional != 1 || st.NotModified != 1 || st.Bytes != int64(len(first.body)+len(missing.body)) {
		t.Errorf("Stats()[%s] = %+v, want 1 conditional, 1 not modified, %d bytes", h, st, len(first.body)+len(missing.body))
	}
	if r := s.Requests("127.0.0.1:1"); r != nil {
		t.Errorf("Requests(unknown host) = %v, want nil", r)
	}

	// The log is bounded by LogSize and off with NoByPath.
	b := startSite(t, Options{Hosts: 1, PagesPerHost: 10, LogSize: 4, FirstAddr: "127.0.0.30"})
	nb := startSite(t, Options{Hosts: 1, PagesPerHost: 10, NoByPath: true, FirstAddr: "127.0.0.31"})
	for i := range 6 {
		get(t, c, "http://"+b.Hosts()[0]+"/?n="+strconv.Itoa(i))
		get(t, c, "http://"+nb.Hosts()[0]+"/")
	}
	var targets []string
	for _, r := range b.Requests(b.Hosts()[0]) {
		targets = append(targets, r.Target)
	}
	if want := []string{"/?n=2", "/?n=3", "/?n=4", "/?n=5"}; !slices.Equal(targets, want) {
		t.Errorf("Requests with LogSize 4 = %v, want %v", targets, want)
	}
	if r := nb.Requests(nb.Hosts()[0]); r != nil {
		t.Errorf("Requests with NoByPath = %v, want nil", r)
	}
	if st := nb.Stats()[nb.Hosts()[0]]; st.Requests != 6 || st.Bytes == 0 {
		t.Errorf("Stats with NoByPath = %+v, want 6 requests and their bytes", st)
	}
}

var cmpIgnoreStart = cmp.Transformer("noStart", func(r Request) Request {
	r.Start = 0
	return r
})

// TestGenerations checks the generation counter and its errors, and that
// going back to generation 0 serves generation 0 again.
func TestGenerations(t *testing.T) {
	s := startSite(t, changing)
	zero := truth(t, s, 0)
	if g := s.Generation(); g != 0 {
		t.Fatalf("Generation() = %d after Start, want 0", g)
	}
	for want := 1; want <= 3; want++ {
		if g := advance(t, s); g != want || s.Generation() != want {
			t.Errorf("Advance() = %d, Generation() = %d, want %d", g, s.Generation(), want)
		}
	}
	if len(changed(t, s, 0, 3)) == 0 {
		t.Errorf("nothing changed in 3 generations")
	}
	setGeneration(t, s, 0)
	c := noRedirect(t)
	for u, tr := range zero {
		if r := get(t, c, u); r.status != tr.Status || strconv.FormatUint(xxhash.Sum64(r.body), 16) != tr.Hash {
			t.Errorf("back at generation 0: %s: status %d, want %d (or the body differs)", u, r.status, tr.Status)
		}
	}
	for _, g := range []int{-1, MaxGeneration + 1} {
		if err := s.SetGeneration(g); err == nil {
			t.Errorf("SetGeneration(%d) succeeded", g)
		}
		if _, err := s.Truth(g); err == nil {
			t.Errorf("Truth(%d) succeeded", g)
		}
		if _, err := s.DuplicatesAt(g); err == nil {
			t.Errorf("DuplicatesAt(%d) succeeded", g)
		}
		if e := s.ExpectedAt(g); e != nil {
			t.Errorf("ExpectedAt(%d) = %d URLs, want nil", g, len(e))
		}
	}
	if _, err := s.Changed(2, 1); err == nil {
		t.Errorf("Changed(2, 1) succeeded")
	}

	// Without change rates, generations change nothing.
	still := startSite(t, Options{Hosts: 1, PagesPerHost: 40})
	setGeneration(t, still, 5)
	if ch := changed(t, still, 0, 5); len(ch) != 0 {
		t.Errorf("Changed(0, 5) without rates = %v, want none", ch)
	}
	if diff := cmp.Diff(still.ExpectedAt(0), still.Expected()); diff != "" {
		t.Errorf("Expected() at generation 5 without rates differs from generation 0:\n%s", diff)
	}
	setGeneration(t, still, MaxGeneration-1)
	if g := advance(t, still); g != MaxGeneration {
		t.Errorf("Advance() = %d, want %d", g, MaxGeneration)
	}
	if _, err := still.Advance(); err == nil || still.Generation() != MaxGeneration {
		t.Errorf("Advance() past MaxGeneration: %v, Generation() = %d", err, still.Generation())
	}
}

func TestChangeRatesErrors(t *testing.T) {
	for _, o := range []Options{
		{Changes: ChangeRates{Text: -0.1}},
		{Changes: ChangeRates{New: 1.5}},
		{Changes: ChangeRates{Price: math.NaN()}},
		{Changes: ChangeRates{Text: 0.5, Price: 0.3, Remove: 0.3}},
		{Fast: true, Changes: ChangeRates{Price: 0.1}},
		{Fast: true, Duplicates: true},
	} {
		if s, err := Start(o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded, want an error", o)
		} else {
			t.Logf("Start(%+v): %v", o.Changes, err)
		}
	}
}

// TestExpectedAtMatchesCrawl crawls a changing site with duplicates at a
// later generation and compares with ExpectedAt.
func TestExpectedAtMatchesCrawl(t *testing.T) {
	for _, o := range []Options{changing, changingFast} {
		s := startSite(t, o)
		setGeneration(t, s, 3)
		want := s.ExpectedAt(3)
		for _, obey := range []bool{true, false} {
			got := crawl(t, s.Seeds(), s.Hosts(), obey)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fast=%v: crawl at generation 3 (obey nofollow %v) differs from ExpectedAt(3) (-want +got):\n%s", o.Fast, obey, diff)
			}
		}
		if s.normal != nil {
			s.hist.rlock()
			_, depth := view{s.normal, 3}.expected(false)
			s.hist.runlock()
			if depth > 6 {
				t.Errorf("deepest URL at generation 3 is %d links from a seed, want <= 6", depth)
			}
		}
		statuses := map[int]int{}
		for _, st := range want {
			statuses[st]++
		}
		if statuses[404] == 0 || statuses[410] == 0 {
			t.Errorf("fast=%v: ExpectedAt(3) statuses %v, want removed pages (404 and 410) still linked", o.Fast, statuses)
		}
	}
}

// TestCountedBeforeSent checks that a request is counted on the server
// side before its answer reaches the client: a client that has read a
// whole answer finds its bytes and status in Stats and Requests at once.
func TestCountedBeforeSent(t *testing.T) {
	s := startSite(t, Options{Hosts: 1, PagesPerHost: 40, Seed: 3})
	c := noRedirect(t)
	host := s.Hosts()[0]
	var pages []string
	for u, st := range s.Expected() {
		if st == 200 && strings.Contains(u, "/article/") {
			pages = append(pages, u) // the largest pages: several writes each
		}
	}
	slices.Sort(pages)
	var bytes int64
	for i := 0; i < 500; i++ {
		u := pages[i%len(pages)]
		r := get(t, c, u)
		bytes += int64(len(r.body))
		st := s.Stats()[host]
		if st.Bytes != bytes || st.Requests != i+1 {
			t.Fatalf("after %d answers read: server counted %d requests and %d bytes, want %d and %d",
				i+1, st.Requests, st.Bytes, i+1, bytes)
		}
		reqs := s.Requests(host)
		if last := reqs[len(reqs)-1]; last.Status != 200 || last.Bytes != int64(len(r.body)) {
			t.Fatalf("request %d logged as status %d with %d bytes, want 200 with %d", i+1, last.Status, last.Bytes, len(r.body))
		}
	}
}
