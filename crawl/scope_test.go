package crawl

import (
	"net/url"
	"strings"
	"testing"
)

// TestSeedsInTheirOwnScope: the scope's hosts are the seeds' canonical
// hosts, so a seed written with capitals, a non-ASCII name, its scheme's
// default port or a trailing dot is in scope, and so are the links to the
// same host written any other way.
func TestSeedsInTheirOwnScope(t *testing.T) {
	tests := []struct {
		seed   string
		links  []string // in scope
		others []string // out of scope
	}{
		{"http://Bücher.example/", []string{"http://xn--bcher-kva.example/x", "http://BÜCHER.example./y"},
			[]string{"http://bucher.example/"}},
		{"http://example.com:80/", []string{"http://example.com/x", "http://EXAMPLE.com:80/y", "https://example.com/z"},
			[]string{"http://www.example.com/"}},
		{"http://example.com./", []string{"http://example.com/x", "http://example.com../y"},
			[]string{"http://example.org/"}},
		{"https://example.com:8443/", []string{"https://example.com:8443/x", "http://example.com:8443/y"},
			[]string{"https://example.com/", "http://example.com/"}},
	}
	for _, tt := range tests {
		t.Run(tt.seed, func(t *testing.T) {
			cfg := testConfig(t, tt.seed)
			e, db := seededEngine(t, cfg)
			defer db.Close()
			got := queryMap(t, cfg.Database, `SELECT url, state || ' ' || coalesce(reason, '') FROM frontier`)
			canon, err := CanonicalURL(cfg, tt.seed)
			if err != nil {
				t.Fatal(err)
			}
			if got[canon] != "queued " {
				t.Errorf("seed %s: frontier row %q, want queued", canon, got[canon])
			}
			for _, link := range tt.links {
				if why := scopeVerdict(t, e, link); why != "" {
					t.Errorf("link %s on a crawl seeded with %s: %q, want in scope", link, tt.seed, why)
				}
			}
			for _, link := range tt.others {
				if why := scopeVerdict(t, e, link); why == "" {
					t.Errorf("link %s on a crawl seeded with %s: in scope, want out of scope", link, tt.seed)
				}
			}
		})
	}
}

// TestScopeHostsCanonical: scope.hosts entries name hosts as the canonical
// URLs do, and an entry's port is the port a URL connects to, whatever its
// scheme and however it is written.
func TestScopeHostsCanonical(t *testing.T) {
	cfg := testConfig(t, "http://xn--bcher-kva.example/")
	cfg.Scope.Hosts = []string{"Bücher.example", "SHOP.example.", "secure.example:443", "[::1]:8080"}
	cfg.Scope.Subdomains = true
	cfg.Fetch.AllowAddresses = []string{"::1"}
	e, db := seededEngine(t, cfg)
	defer db.Close()
	for link, want := range map[string]bool{
		"http://xn--bcher-kva.example/": true, "http://shop.example/": true, "https://www.shop.example:8080/": true,
		"https://secure.example/": true, "http://secure.example:443/": true, "http://secure.example/": false,
		"https://a.secure.example/": true, "http://[::1]:8080/": true, "http://[::1]/": false,
		"http://example/": false,
	} {
		if why := scopeVerdict(t, e, link); (why == "") != want {
			t.Errorf("scope of %s = %q, want in scope %v", link, why, want)
		}
	}
}

func TestScopeHostsErrors(t *testing.T) {
	for _, entry := range []string{"user@example.com", "example.com:0", "example.com:http", "exa%mple.com", "[::1"} {
		_, err := ParseConfig("cfg.yaml", []byte("scope:\n  hosts: ['"+entry+"']\n"))
		if err == nil {
			t.Errorf("scope.hosts [%q]: no error", entry)
			continue
		}
		if want := "cfg.yaml:2: scope.hosts[0]: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("scope.hosts [%q]: error %q, want it to start with %q", entry, err, want)
		}
	}
}

// scopeVerdict canonicalizes a link as a page's link would be and returns
// why the engine's scope skips it ("" when it is in scope).
func scopeVerdict(t *testing.T, e *Engine, link string) string {
	t.Helper()
	c, err := e.norm.CanonicalString(link)
	if err != nil {
		t.Fatalf("canonical form of %s: %v", link, err)
	}
	u, err := url.Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	why, _ := e.scope.check(c, u, pathLen{})
	return why
}
