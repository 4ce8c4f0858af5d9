package crawl

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/crawler-dev/crawler/parse"
)

// singleSite serves robots.txt with a disallowed /private/, pages, a
// redirect chain, a redirect into /private/, and a Latin-1 page.
type singleSite struct {
	mu   sync.Mutex
	hits map[string]int // guarded by mu
}

func (s *singleSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.mu.Unlock()
	p := r.URL.Path
	switch {
	case p == "/robots.txt":
		fmt.Fprint(w, "User-agent: *\nAllow: /private/open\nDisallow: /private/\n")
	case strings.HasPrefix(p, "/chain/"):
		var n int
		fmt.Sscanf(p, "/chain/%d", &n)
		if n == 0 {
			fmt.Fprint(w, `<html><title>end</title><h1 class="name">Chain end</h1></html>`)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	case p == "/to-private":
		http.Redirect(w, r, "/private/secret", http.StatusMovedPermanently)
	case p == "/latin1":
		w.Header().Set("Content-Type", "text/html; charset=iso-8859-1")
		w.Write([]byte("<html><h1 class=\"name\">Caf\xe9 cr\xe8me</h1><p class=\"price\">12,50 \x80</p></html>"))
	case p == "/product", p == "/private/open":
		fmt.Fprint(w, `<html><h1 class="name">Lamp</h1><p class="price">$1,299.99</p></html>`)
	default:
		http.NotFound(w, r)
	}
}

func (s *singleSite) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func singleConfig() *Config {
	cfg := Defaults()
	cfg.Politeness.Rate = 0
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	cfg.Limits.MaxRedirects = 3
	return &cfg
}

func TestFetchOne(t *testing.T) {
	site := &singleSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	tests := []struct {
		path       string
		wantURL    string // path of the final URL
		wantStatus int
		wantBody   string // substring of the UTF-8 body
		wantHops   int
		wantErr    string // substring of the error; "" for success
		robots     bool   // the error wraps ErrRobotsDisallowed
	}{
		{path: "/product", wantURL: "/product", wantStatus: 200, wantBody: "Lamp"},
		{path: "/product?utm_source=x", wantURL: "/product", wantStatus: 200, wantBody: "Lamp"},
		{path: "/private/open", wantURL: "/private/open", wantStatus: 200, wantBody: "Lamp"},
		{path: "/latin1", wantURL: "/latin1", wantStatus: 200, wantBody: "Café crème</h1><p class=\"price\">12,50 €"},
		{path: "/chain/3", wantURL: "/chain/0", wantStatus: 200, wantBody: "Chain end", wantHops: 3},
		{path: "/nothing", wantURL: "/nothing", wantStatus: 404},
		{path: "/chain/4", wantErr: "more than limits.max_redirects (3) redirects"},
		{path: "/private/x", wantErr: `"Disallow: /private/" (` + srv.URL + `/robots.txt line 3, user-agent group "*")`, robots: true},
		{path: "/to-private", wantErr: `/private/secret: disallowed by robots.txt: "Disallow: /private/"`, robots: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			f, err := FetchOne(context.Background(), singleConfig(), srv.URL+tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FetchOne(%s) error = %v, want it to contain %q", tt.path, err, tt.wantErr)
				}
				if got := errors.Is(err, ErrRobotsDisallowed); got != tt.robots {
					t.Errorf("errors.Is(%v, ErrRobotsDisallowed) = %v, want %v", err, got, tt.robots)
				}
				return
			}
			if err != nil {
				t.Fatalf("FetchOne(%s): %v", tt.path, err)
			}
			if f.URL != srv.URL+tt.wantURL || f.Status != tt.wantStatus || len(f.Redirects) != tt.wantHops {
				t.Errorf("FetchOne(%s) = URL %s, status %d, %d redirects; want %s, %d, %d",
					tt.path, f.URL, f.Status, len(f.Redirects), srv.URL+tt.wantURL, tt.wantStatus, tt.wantHops)
			}
			if !strings.Contains(string(f.Body), tt.wantBody) {
				t.Errorf("FetchOne(%s) body = %q, want it to contain %q", tt.path, f.Body, tt.wantBody)
			}
		})
	}
	if n := site.count("/private/x") + site.count("/private/secret"); n != 0 {
		t.Errorf("disallowed paths were requested %d times", n)
	}
}

func TestFetchOneGuards(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "<p>page</p>")
	}))
	defer srv.Close()

	cfg := singleConfig()
	cfg.Fetch.AllowAddresses = nil
	_, err := FetchOne(context.Background(), cfg, srv.URL+"/")
	if !errors.Is(err, ErrBlockedAddress) {
		t.Errorf("FetchOne of a loopback URL without allow_addresses: error = %v, want ErrBlockedAddress", err)
	}

	_, err = FetchOne(context.Background(), singleConfig(), srv.URL+"/")
	if !errors.Is(err, ErrRobotsDisallowed) || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("FetchOne with robots.txt answering 503: error = %v, want ErrRobotsDisallowed naming HTTP 503", err)
	}

	cfg = singleConfig()
	cfg.Politeness.ObeyRobots = false
	f, err := FetchOne(context.Background(), cfg, srv.URL+"/")
	if err != nil || f.Status != 200 {
		t.Errorf("FetchOne with obey_robots false = %+v, %v; want status 200", f, err)
	}
}

func TestExtractItems(t *testing.T) {
	rules, err := parse.CompileRules([]parse.RuleSet{{
		Name:  "product",
		Match: "*/product/*",
		Fields: []parse.Field{
			{Name: "name", Selector: "h1.name", Required: true},
			{Name: "price", Selector: ".price", Type: "price"},
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, ctype string
		body             string
		want             string // fmt of the items' fields and errors
	}{
		{"utf8", "http://a.test/product/1", "text/html; charset=utf-8",
			`<h1 class="name">Café</h1><p class="price">1.299,99 €</p>`, `[map[name:Café price:1299.99] []]`},
		{"latin1 header", "http://a.test/product/2", "text/html; charset=iso-8859-1",
			"<h1 class=\"name\">Caf\xe9</h1><p class=\"price\">\xa312.50</p>", `[map[name:Café price:12.5] []]`},
		{"meta charset", "http://a.test/product/3", "",
			"<meta charset=\"windows-1252\"><h1 class=\"name\">\x93Q\x94</h1>", `[map[name:“Q”] []]`},
		{"required missing", "http://a.test/product/4", "", `<p class="price">$3</p>`,
			`[map[price:3] [field "name": required, no match]]`},
		{"no matching rule", "http://a.test/about", "", `<h1 class="name">About</h1>`, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			items, err := ExtractItems(rules, tt.url, []byte(tt.body), tt.ctype)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range items {
				got = append(got, fmt.Sprint([]any{it.Fields, it.Errors}))
			}
			if g := strings.Join(got, "\n"); g != tt.want {
				t.Errorf("ExtractItems(%s) = %s, want %s", tt.url, g, tt.want)
			}
		})
	}
	if _, err := ExtractItems(rules, "relative/path", []byte("<p>x</p>"), ""); err == nil {
		t.Error("ExtractItems with a relative page URL: no error")
	}
}
