package crawl

import (
	"strings"
	"testing"
)

// TestRedactConfigText: the text recorded and shown of a config keeps no
// credential, header value or comment, also when YAML anchors, aliases
// and merge keys carry them, and it is still a valid config.
func TestRedactConfigText(t *testing.T) {
	text := `# the login: tok-1
seeds: ['https://user:seedpw-2@a.example/']
fetch:
  headers: &h
    Authorization: Bearer tok-3   # same as tok-1
    X-N: 5
  proxy:
    - http://pu:pw-4@proxy.example:3128
    - 'socks5://${PROXY_USER}:${PROXY_PASS}@s.example'
  hosts:
    a.example:
      headers: *h
    b.example:
      <<: {headers: {X-Key: key-5}}
      proxy: [direct]
webhooks:
  - {url: 'http://127.0.0.2:9/in', secret: hook-6}
  - {url: 'http://127.0.0.2:9/in2', secret_env: HOOK_SECRET}
`
	if _, err := ParseConfig("in.yaml", []byte(text)); err != nil {
		t.Fatal(err)
	}
	got := RedactConfigText(text)
	for _, secret := range []string{"tok-1", "seedpw-2", "tok-3", "pw-4", "key-5", "hook-6", "pu:", "user:", "#", "X-N: 5"} {
		if strings.Contains(got, secret) {
			t.Errorf("redacted text contains %q:\n%s", secret, got)
		}
	}
	for _, kept := range []string{"https://REDACTED@a.example/", "http://REDACTED@proxy.example:3128", "socks5://REDACTED@s.example",
		"Authorization: REDACTED", "X-Key: REDACTED", "proxy: [direct]", "secret: REDACTED", "secret_env: HOOK_SECRET"} {
		if !strings.Contains(got, kept) {
			t.Errorf("redacted text lacks %q:\n%s", kept, got)
		}
	}
	cfg, err := ParseConfig("redacted.yaml", []byte(got))
	if err != nil {
		t.Fatalf("the redacted text is no valid config: %v\n%s", err, got)
	}
	if cfg.Fetch.Hosts["b.example"].Headers["X-Key"] != Redacted || len(cfg.Fetch.Proxy) != 2 {
		t.Errorf("redacted config: %+v", cfg.Fetch)
	}
	if got := RedactConfigText("seeds: [\n"); strings.Contains(got, "seeds") {
		t.Errorf("RedactConfigText of invalid YAML = %q, want it left out", got)
	}
}
