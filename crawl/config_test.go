package crawl

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigYAMLIsTheDefaults(t *testing.T) {
	cfg, err := LoadConfig("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults()
	want.Database = filepath.Join("..", want.Database) // relative to the config file
	want.Seeds = cfg.Seeds
	// Decoding an empty list gives an empty, not nil, slice.
	for _, p := range []*[]string{&want.URLs, &want.Sitemaps, &want.Scope.Hosts, &want.Scope.Include, &want.Scope.Exclude, &want.Fetch.AllowAddresses} {
		*p = []string{}
	}
	want.Extract = cfg.Extract
	want.Politeness.Hosts = cfg.Politeness.Hosts
	want.Recrawl.Hosts, want.Recrawl.Patterns = cfg.Recrawl.Hosts, cfg.Recrawl.Patterns
	want.Fetch.Proxy = URLList{}
	want.Fetch.Headers = map[string]string{}
	want.Fetch.Hosts = map[string]FetchHost{}
	if diff := cmp.Diff(want, *cfg); diff != "" {
		t.Errorf("config.yaml differs from Defaults() (-defaults +config.yaml):\n%s", diff)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown top-level key", "seeds: [http://a.example/]\nwokers: 4\n", `cfg.yaml:2: unknown key "wokers" (did you mean "workers"?)`},
		{"unknown nested key", "politeness:\n  rate: 1\n  burts: 2\n", `cfg.yaml:3: unknown key "burts" (did you mean "burst"?)`},
		{"negative workers", "workers: -1\n", "cfg.yaml:1: workers: must be at least 1, got -1"},
		{"bad regex", "scope:\n  exclude:\n    - 'a('\n", "cfg.yaml:3: scope.exclude[0]: invalid regular expression"},
		{"bad seed", "seeds:\n  - http://ok.example/\n  - ftp://x/\n", `cfg.yaml:3: seeds[1]: "ftp://x/" must start with http:// or https://`},
		{"seed without host", "seeds: ['http:///x']\n", `has no host`},
		{"wrong type", "workers: many\n", `cfg.yaml:1: workers: "many" is not a whole number (use e.g. 10)`},
		{"bad duration", "fetch:\n  total_timeout: soon\n", `cfg.yaml:2: fetch.total_timeout: "soon" is not a duration (use e.g. 10s, 1m30s)`},
		{"bad bodies", "store:\n  bodies: lz4\n", `cfg.yaml:2: store.bodies: must be zstd, s2, gzip, identity or none, got "lz4"`},
		{"negative rate", "politeness:\n  rate: -2\n", "cfg.yaml:2: politeness.rate: must not be negative"},
		{"NaN rate", "politeness:\n  rate: .nan\n", "cfg.yaml:2: politeness.rate: must be a finite number, got NaN"},
		{"infinite rate", "politeness:\n  rate: .inf\n", "cfg.yaml:2: politeness.rate: must be a finite number, got +Inf"},
		{"NaN latency factor", "politeness:\n  latency_factor: .NaN\n", "cfg.yaml:2: politeness.latency_factor: must be a finite number, got NaN"},
		{"infinite latency factor", "politeness:\n  latency_factor: .inf\n", "cfg.yaml:2: politeness.latency_factor: must be a finite number, got +Inf"},
		{"NaN host rate", "politeness:\n  hosts:\n    a.example: {rate: .nan}\n", "politeness.hosts.a.example.rate: must be a finite number, got NaN"},
		{"huge size", "limits:\n  max_body_size: 9e18GiB\n", `cfg.yaml:2: limits.max_body_size: "9e18GiB" is too large a size`},
		{"NaN default", "extract:\n  - name: p\n    match: '*'\n    fields:\n      - {name: a, selector: h1, type: float, default: .nan}\n", "cfg.yaml:5: extract[0].fields[0].default: default must be a finite number, got NaN"},
		{"allow port zero", "fetch:\n  allow_addresses: [127.0.0.2:0]\n", `cfg.yaml:2: fetch.allow_addresses[0]: "127.0.0.2:0": port "0" is not a number from 1 to 65535`},
		{"allow port too big", "fetch:\n  allow_addresses: ['[::1]:99999']\n", `fetch.allow_addresses[0]: "[::1]:99999": port "99999" is not a number from 1 to 65535`},
		{"allow CIDR with port", "fetch:\n  allow_addresses: [10.0.0.0/8:80]\n", `fetch.allow_addresses[0]: "10.0.0.0/8:80" is not`},
		{"allow host bad port", "fetch:\n  allow_addresses: [intranet.example:http]\n", `fetch.allow_addresses[0]: "intranet.example:http": port "http" is not a number from 1 to 65535`},
		{"allow bad host", "fetch:\n  allow_addresses: ['intra net']\n", `fetch.allow_addresses[0]: "intra net" is not`},
		{"bad rule selector", "extract:\n  - name: p\n    match: '*'\n    fields:\n      - name: a\n        selector: 'div[[['\n", "cfg.yaml:6: extract[0].fields[0].selector"},
		{"unknown rule key", "extract:\n  - name: p\n    match: '*'\n    fields:\n      - name: a\n        selectr: h1\n", `cfg.yaml:6: unknown key "selectr"`},
		{"bad yaml", "seeds: [\n", "cfg.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig(%q) error = %v, want it to contain %q", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestConfigErrorsTeach checks that a value of the wrong form is named by
// its key path, with the form it needs, whatever its type.
func TestConfigErrorsTeach(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"duration", "seeds: [http://a.example/]\nfetch:\n  user_agent: x\n\n\n\n  total_timeout: 10 seconds\n",
			`cfg.yaml:7: fetch.total_timeout: "10 seconds" is not a duration (use e.g. 10s, 1m30s)`},
		{"duration without unit", "politeness:\n  robots_ttl: 30\n",
			`cfg.yaml:2: politeness.robots_ttl: "30" is not a duration: give it a unit (use e.g. 10s, 1m30s)`},
		{"size", "limits:\n  max_body_size: 10 parsecs\n", `cfg.yaml:2: limits.max_body_size: "10 parsecs" is not a size (use e.g. 512KiB, 10MiB, 1GiB)`},
		{"size as a list", "parse:\n  max_title: [1]\n", `cfg.yaml:2: parse.max_title: a list is not a size (use e.g. 512KiB, 10MiB, 1GiB)`},
		{"int", "limits:\n  max_depth: deep\n", `cfg.yaml:2: limits.max_depth: "deep" is not a whole number (use e.g. 10)`},
		{"int from a list", "workers: [1, 2]\n", `cfg.yaml:1: workers: a list is not a whole number (use e.g. 10)`},
		{"float", "politeness:\n  rate: fast\n", `cfg.yaml:2: politeness.rate: "fast" is not a number (use e.g. 2 or 0.5)`},
		{"float in a flow mapping", "politeness:\n  hosts:\n    a.example: {burst: 2, rate: quick}\n",
			`cfg.yaml:3: politeness.hosts.a.example.rate: "quick" is not a number (use e.g. 2 or 0.5)`},
		{"bool", "politeness:\n  obey_robots: maybe\n", `cfg.yaml:2: politeness.obey_robots: "maybe" is not true or false`},
		{"list", "scope:\n  hosts: a.example\n", `cfg.yaml:2: scope.hosts: "a.example" is not a list (write [a, b], or one "- item" per line)`},
		{"list item", "seeds:\n  - http://a.example/\n  - [http://b.example/]\n", `cfg.yaml:3: seeds[1]: a list is not a single value`},
		{"map", "politeness:\n  hosts: [a.example]\n", `cfg.yaml:2: politeness.hosts: a list is not a group of keys`},
		{"group", "fetch: 3\n", `cfg.yaml:1: fetch: "3" is not a group of keys`},
		{"rule field", "extract:\n  - name: p\n    match: '*'\n    fields:\n      - {name: a, selector: h1, many: lots}\n",
			`cfg.yaml:5: extract[0].fields[0].many: "lots" is not true or false`},
		{"seed without a scheme", "seeds: [example.com/shop]\n", `cfg.yaml:1: seeds[0]: "example.com/shop" must start with http:// or https:// (write "https://example.com/shop")`},
		{"seed host and port", "seeds:\n  - 127.0.0.1:8080\n", `cfg.yaml:2: seeds[0]: "127.0.0.1:8080" must start with http:// or https://`},
		{"scalar seed without a scheme", "seeds: example.com\n", `cfg.yaml:1: seeds[0]: "example.com" must start with http:// or https://`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig("cfg.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig(%q) error = %v, want it to contain %q", tt.yaml, err, tt.want)
			}
		})
	}
}

// TestConfigScalarSeed checks that one seed may be written without a list.
func TestConfigScalarSeed(t *testing.T) {
	for _, text := range []string{"seeds: https://a.example/\n", "seeds: 'https://a.example/'\n", "seeds: [https://a.example/]\n"} {
		cfg, err := ParseConfig("c.yaml", []byte(text))
		if err != nil {
			t.Fatalf("ParseConfig(%q): %v", text, err)
		}
		if diff := cmp.Diff([]string{"https://a.example/"}, []string(cfg.Seeds)); diff != "" {
			t.Errorf("ParseConfig(%q) seeds (-want +got):\n%s", text, diff)
		}
	}
	cfg, err := ParseConfig("c.yaml", []byte("seeds:\n"))
	if err != nil || len(cfg.Seeds) != 0 {
		t.Errorf("empty seeds: %v, %q", err, cfg.Seeds)
	}
}

func TestConfigDecodesOverDefaults(t *testing.T) {
	cfg, err := ParseConfig("c.yaml", []byte("workers: 3\npoliteness:\n  rate: 2.5\nlimits:\n  max_body_size: 2MiB\nfetch:\n  idle_timeout: 1500ms\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 3 || cfg.Politeness.Rate != 2.5 || cfg.Limits.MaxBodySize != 2<<20 || cfg.Fetch.IdleTimeout != 1500*time.Millisecond {
		t.Fatalf("decoded %+v", cfg)
	}
	if cfg.Politeness.MaxInFlight != Defaults().Politeness.MaxInFlight || !cfg.Politeness.ObeyRobots {
		t.Fatal("keys not in the file lost their defaults")
	}
	var ce *ConfigError
	_, err = ParseConfig("c.yaml", []byte("workers: 0\n"))
	if !errors.As(err, &ce) || ce.Line != 1 || ce.File != "c.yaml" {
		t.Fatalf("error %v is not a ConfigError at c.yaml:1", err)
	}
}

// TestREADMEConfigExamples keeps the README honest: every YAML block in it
// is a valid config.
func TestREADMEConfigExamples(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README")
	}
	blocks := strings.Split(string(data), "```yaml\n")
	if len(blocks) < 2 {
		t.Fatal("README has no yaml examples")
	}
	for i, b := range blocks[1:] {
		block, _, _ := strings.Cut(b, "```")
		if _, err := ParseConfig(fmt.Sprintf("README.md yaml block %d", i+1), []byte(block)); err != nil {
			t.Errorf("%v\n%s", err, block)
		}
	}
}

func TestFeedConfigErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{"feeds: [{format: csv}]", "feeds[0].path"},
		{"feeds: [{path: a.txt, format: xml}]", "feeds[0].format"},
		{"feeds: [{path: a.jsonl, table: links}]", "feeds[0].table"},
		{"feeds: [{path: a.jsonl, rule: nosuch}]", `feeds[0].rule: no rule set in extract is named "nosuch"`},
		{"feeds: [{path: a.jsonl, table: pages, rule: x}]", "feeds[0].rule"},
		{"feeds: [{path: a.jsonl}, {path: a.jsonl, table: pages}]", "feeds[1].path"},
	} {
		_, err := ParseConfig("c.yaml", []byte("seeds: [http://example.com/]\n"+tt.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %s", tt.yaml, err, tt.want)
		}
	}
	cfg, err := ParseConfig("c.yaml", []byte("seeds: [http://example.com/]\nfeeds: [{path: '-', format: csv}]\n"))
	if err != nil || len(cfg.Feeds) != 1 {
		t.Fatalf("stdout feed: %v", err)
	}
}
