package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

// bufSite serves pages whose bodies, titles, links and texts all differ,
// of sizes from a few hundred bytes to about 90 KB, so that a body buffer
// reused for the next page overwrites every byte a page might still refer
// to. Every third page is sent gzipped (the body's size is unknown until
// it is decoded), every third with a Content-Length, the others chunked.
type bufSite struct{ pages int }

func (s bufSite) path(i int) string { return "/p/" + strconv.Itoa(i) }

// links are the pages page i links to.
func (s bufSite) links(i int) []int {
	return []int{(i + 1) % s.pages, (i*7 + 3) % s.pages, (i*13 + 5) % s.pages}
}

func (s bufSite) title(i int) string { return fmt.Sprintf("Page %d of the buffer site", i) }

// text is page i's paragraph: words that name the page, repeated to a
// length that varies from page to page.
func (s bufSite) text(i int) string {
	word := fmt.Sprintf("w%dx ", i)
	return strings.TrimSpace(strings.Repeat(word, (i*7919)%(90000/len(word))+20))
}

func (s bufSite) anchor(i, j int) string { return fmt.Sprintf("from %d to %d", i, j) }

func (s bufSite) body(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html><html><head><title>%s</title></head><body><main><p>%s</p>\n", s.title(i), s.text(i))
	for _, j := range s.links(i) {
		fmt.Fprintf(&b, "<a href=%q>%s</a>\n", s.path(j), s.anchor(i, j))
	}
	b.WriteString("</main></body></html>\n")
	return b.Bytes()
}

func (s bufSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/p/"))
	if err != nil || i < 0 || i >= s.pages || r.URL.Path != s.path(i) {
		http.NotFound(w, r)
		return
	}
	body := s.body(i)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch i % 3 {
	case 0:
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write(body)
		zw.Close()
	case 1:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	default:
		// Two writes, the first flushed: chunked, no length.
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		w.Write(body[len(body)/2:])
	}
}

// bufPage is what the crawl recorded of one page.
type bufPage struct {
	body     []byte
	title    string
	mainText string
	links    []string // "URL anchor", sorted
}

// check compares what was recorded of page i with what the site served.
func (s bufSite) check(t *testing.T, origin string, i int, got bufPage) {
	t.Helper()
	if want := s.body(i); !bytes.Equal(got.body, want) {
		t.Errorf("page %d: body of %d bytes differs from the %d bytes served", i, len(got.body), len(want))
	}
	if want := s.title(i); got.title != want {
		t.Errorf("page %d: title %.60q, want %q", i, got.title, want)
	}
	if want := s.text(i); !strings.Contains(got.mainText, want) {
		t.Errorf("page %d: main text %.60q... does not hold the page's text", i, got.mainText)
	}
	var want []string
	for _, j := range s.links(i) {
		want = append(want, origin+s.path(j)+" "+s.anchor(i, j))
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if !slices.Equal(got.links, want) {
		t.Errorf("page %d: links %q, want %q", i, got.links, want)
	}
}

// recorded returns what an outcome holds of its page.
func recorded(t *testing.T, o store.Outcome) bufPage {
	t.Helper()
	if o.Page == nil || o.Page.Data == nil {
		t.Fatalf("%s: no page row or page data (%s %s)", o.Lease.URL, o.State, o.Reason)
	}
	body, err := store.DecodeBody(o.Page.Body, o.Page.BodyEncoding)
	if err != nil {
		t.Fatalf("%s: %v", o.Lease.URL, err)
	}
	p := bufPage{body: body, title: o.Page.Title, mainText: o.Page.Data.MainText}
	for _, l := range o.Links {
		p.links = append(p.links, l.URL+" "+l.Anchor)
	}
	slices.Sort(p.links)
	return p
}

// TestBodyBufferReuse drives one worker through pages one after another,
// as the crawl does, and scribbles over the body buffer it hands back after
// each page: an outcome that still referred to a byte of its body (a body
// stored as it is, a title or link cut out of the document) would show the
// scribble or the next page instead of its own.
func TestBodyBufferReuse(t *testing.T) {
	site := bufSite{pages: 60}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	for _, bodies := range []string{"identity", "zstd"} {
		t.Run(bodies, func(t *testing.T) {
			cfg := testConfig(t, srv.URL+site.path(0))
			cfg.Store.Bodies = bodies
			cfg.Parse.MainText = true
			e, db := seededEngine(t, cfg)
			t.Cleanup(func() { db.Close() })
			t.Cleanup(e.fetch.close)
			e.fetchCtx = context.Background()
			e.done = make(chan done, 1)
			e.results = make(chan store.Outcome, site.pages)
			codec, err := store.NewBodyCodec(bodies)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(codec.Close)
			w := &worker{e: e, client: e.fetch.newClient(), body: codec.Encoder()}
			reused := 0
			for i := range site.pages {
				w.page(context.Background(), job{kind: jobPage, lease: store.Lease{ID: int64(i + 1), URL: srv.URL + site.path(i)}})
				<-e.done
				buf := w.client.buf[:cap(w.client.buf)]
				if len(buf) > 0 {
					reused++
				}
				for k := range buf {
					buf[k] = 0xee
				}
			}
			if reused < site.pages/2 {
				t.Fatalf("the worker kept its body buffer after %d of %d pages: the test checks nothing", reused, site.pages)
			}
			close(e.results)
			n := 0
			for o := range e.results {
				i, _ := strconv.Atoi(strings.TrimPrefix(o.Lease.URL, srv.URL+"/p/"))
				site.check(t, srv.URL, i, recorded(t, o))
				n++
			}
			if n != site.pages {
				t.Errorf("%d outcomes, want %d", n, site.pages)
			}
		})
	}
}

// TestConcurrentBodies crawls many pages with many workers at once and
// compares every stored body, title, main text and link with what the
// site served: with reused body buffers, a page that kept a reference to
// its buffer would be overwritten by another page before the writer
// stores it. Run with -race.
func TestConcurrentBodies(t *testing.T) {
	site := bufSite{pages: 300}
	srv := httptest.NewServer(site)
	t.Cleanup(srv.Close)
	for _, bodies := range []string{"identity", "s2"} {
		t.Run(bodies, func(t *testing.T) {
			cfg := testConfig(t, srv.URL+site.path(0))
			cfg.Store.Bodies = bodies
			cfg.Parse.MainText = true
			cfg.SitemapDiscovery = false
			cfg.Workers = 16
			cfg.Politeness.MaxInFlight = 16
			cfg.Limits.MaxDepth = 1000
			if out := crawlOnce(t, cfg); out != OutcomeFinished {
				t.Fatalf("crawl ended %s", out)
			}
			ctx := context.Background()
			db, err := sqlite.OpenReadOnly(ctx, cfg.Database)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			pages := map[string]*bufPage{}
			rows, err := db.SQL().QueryContext(ctx, `SELECT p.url, p.title, p.body, p.body_encoding, t.main_text
				FROM pages p JOIN page_text t ON t.page_id = p.id WHERE p.status = 200`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var u, title, enc, text string
				var raw []byte
				if err := rows.Scan(&u, &title, &raw, &enc, &text); err != nil {
					t.Fatal(err)
				}
				body, err := store.DecodeBody(raw, enc)
				if err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				pages[u] = &bufPage{body: body, title: title, mainText: text}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			rows, err = db.SQL().QueryContext(ctx, `SELECT p.url, l.to_url, l.anchor FROM links l JOIN pages p ON p.id = l.from_id`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var from, to, anchor string
				if err := rows.Scan(&from, &to, &anchor); err != nil {
					t.Fatal(err)
				}
				if p := pages[from]; p != nil {
					p.links = append(p.links, to+" "+anchor)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if len(pages) != site.pages {
				t.Errorf("%d pages stored, want %d", len(pages), site.pages)
			}
			for i := range site.pages {
				p := pages[srv.URL+site.path(i)]
				if p == nil {
					t.Errorf("page %d not stored", i)
					continue
				}
				slices.Sort(p.links)
				site.check(t, srv.URL, i, *p)
			}
		})
	}
}

// errAfter yields n bytes of 'x', then fails with err.
type errAfter struct {
	n   int
	err error
}

func (r *errAfter) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

// TestReadBody: readBody reads whole bodies of every size, known or not,
// into buffers of any capacity, returns the reader's error, and allocates
// nothing when the buffer is large enough.
func TestReadBody(t *testing.T) {
	for _, size := range []int{0, 1, 100, minBodyBuffer - 1, minBodyBuffer, minBodyBuffer + 1, 100000} {
		want := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		for _, known := range []bool{false, true} {
			for _, capacity := range []int{0, 7, size, size + 1, 2*size + 64} {
				hint := int64(-1)
				if known {
					hint = int64(size)
				}
				got, err := readBody(make([]byte, 0, capacity), bytes.NewReader(want), hint)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("readBody(cap %d, %d bytes, size %d) = %d bytes, %v; want the %d bytes", capacity, size, hint, len(got), err, size)
				}
			}
			if known {
				buf := make([]byte, 0, size+1)
				if n := testing.AllocsPerRun(10, func() { readBody(buf, bytes.NewReader(want), int64(size)) }); n > 1 {
					// bytes.NewReader is the one allocation.
					t.Errorf("readBody of %d bytes of known size into a buffer of %d: %v allocations, want none", size, cap(buf), n-1)
				}
			}
		}
	}
	boom := fmt.Errorf("connection reset")
	if got, err := readBody(nil, &errAfter{n: 50000, err: boom}, -1); err != boom || len(got) != 50000 {
		t.Errorf("readBody of a failing body = %d bytes, %v; want 50000 bytes and %v", len(got), err, boom)
	}
}
