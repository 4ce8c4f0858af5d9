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
		{"wrong type", "workers: many\n", "cfg.yaml:1: cannot unmarshal"},
		{"bad duration", "fetch:\n  total_timeout: soon\n", "cfg.yaml:2"},
		{"bad size", "limits:\n  max_body_size: 10 parsecs\n", "invalid size unit"},
		{"bad bodies", "store:\n  bodies: lz4\n", `cfg.yaml:2: store.bodies: must be zstd, s2, gzip, identity or none, got "lz4"`},
		{"negative rate", "politeness:\n  rate: -2\n", "cfg.yaml:2: politeness.rate: must not be negative"},
		{"NaN rate", "politeness:\n  rate: .nan\n", "cfg.yaml:2: politeness.rate: must be a finite number, got NaN"},
		{"infinite rate", "politeness:\n  rate: .inf\n", "cfg.yaml:2: politeness.rate: must be a finite number, got +Inf"},
		{"NaN latency factor", "politeness:\n  latency_factor: .NaN\n", "cfg.yaml:2: politeness.latency_factor: must be a finite number, got NaN"},
		{"infinite latency factor", "politeness:\n  latency_factor: .inf\n", "cfg.yaml:2: politeness.latency_factor: must be a finite number, got +Inf"},
		{"NaN host rate", "politeness:\n  hosts:\n    a.example: {rate: .nan}\n", "politeness.hosts.a.example.rate: must be a finite number, got NaN"},
		{"huge size", "limits:\n  max_body_size: 9e18GiB\n", `cfg.yaml:2: size "9e18GiB" is too large`},
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
