package crawl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Config is a crawl job's configuration, decoded from YAML over Defaults.
type Config struct {
	// Name names the crawl: on PostgreSQL, the schema that holds it, so
	// that several crawls share one database and every worker started
	// with this config joins this one.
	Name     string   `yaml:"name"`
	Database string   `yaml:"database"`  // a SQLite file, or a postgres:// URL
	Seeds    URLList  `yaml:"seeds"`     // one URL may be written without a list
	URLs     []string `yaml:"urls"`      // URL-list mode: fetch exactly these, follow nothing
	URLsFile string   `yaml:"urls_file"` // URL-list mode: one URL per line
	Sitemaps []string `yaml:"sitemaps"`
	// SitemapDiscovery reads the sitemaps named in robots.txt and /sitemap.xml of every host.
	SitemapDiscovery bool             `yaml:"sitemap_discovery"`
	Scope            Scope            `yaml:"scope"`
	Limits           Limits           `yaml:"limits"`
	Workers          int              `yaml:"workers"`
	Politeness       Politeness       `yaml:"politeness"`
	Fetch            Fetch            `yaml:"fetch"`
	Canonical        Canonicalization `yaml:"canonicalization"`
	Parse            ParseOptions     `yaml:"parse"`
	Store            StoreOptions     `yaml:"store"`
	Extract          []parse.RuleSet  `yaml:"extract"`
	Recrawl          Recrawl          `yaml:"recrawl"`
	Dedup            Dedup            `yaml:"dedup"`
	Feeds            []Feed           `yaml:"feeds"`
	Webhooks         []Webhook        `yaml:"webhooks"`
}

// Scope decides which URLs are crawled.
type Scope struct {
	Hosts      []string `yaml:"hosts"`      // allowed hosts; empty = the seeds' hosts
	Subdomains bool     `yaml:"subdomains"` // also allow subdomains of Hosts
	Include    []string `yaml:"include"`    // regexes; if any, a URL must match one
	Exclude    []string `yaml:"exclude"`    // regexes; a URL matching one is skipped
}

// Limits bound the crawl and defuse crawler traps.
type Limits struct {
	MaxDepth            int      `yaml:"max_depth"`
	MaxPages            int      `yaml:"max_pages"`
	MaxPagesPerHost     int      `yaml:"max_pages_per_host"`
	MaxURLLength        int      `yaml:"max_url_length"`
	MaxPathSegments     int      `yaml:"max_path_segments"`
	MaxRepeatedSegments int      `yaml:"max_repeated_segments"`
	MaxQueryVariants    int      `yaml:"max_query_variants"`
	MaxTemplateChain    int      `yaml:"max_template_chain"`
	MaxBodySize         ByteSize `yaml:"max_body_size"`
	MaxRedirects        int      `yaml:"max_redirects"`
}

// Politeness sets per-host pacing.
type Politeness struct {
	ObeyRobots      bool                    `yaml:"obey_robots"`
	Rate            float64                 `yaml:"rate"`  // requests per second per host; 0 = unlimited
	Burst           int                     `yaml:"burst"` // requests allowed back to back
	MaxInFlight     int                     `yaml:"max_in_flight"`
	RobotsTTL       time.Duration           `yaml:"robots_ttl"`
	MaxCrawlDelay   time.Duration           `yaml:"max_crawl_delay"`
	LatencyFactor   float64                 `yaml:"latency_factor"` // delay >= factor x recent response time; 0 = off
	BackoffBase     time.Duration           `yaml:"backoff_base"`
	BackoffMax      time.Duration           `yaml:"backoff_max"`
	MaxRetryAfter   time.Duration           `yaml:"max_retry_after"`
	HostFailures    int                     `yaml:"host_failures"`    // consecutive connection failures or unanswered requests before a host is given up
	RobotsRetries   int                     `yaml:"robots_retries"`   // robots.txt 5xx/unreachable attempts before giving up
	RespectNofollow bool                    `yaml:"respect_nofollow"` // do not follow rel=nofollow links nor pages with meta/X-Robots nofollow
	RespectNoindex  bool                    `yaml:"respect_noindex"`  // do not store title/text/items of noindex pages
	Hosts           map[string]HostOverride `yaml:"hosts"`            // per-host overrides, keyed by host[:port]
	MaxActiveHosts  int                     `yaml:"max_active_hosts"` // hosts held in memory at once
	HostQueue       int                     `yaml:"host_queue"`       // URLs claimed ahead per host
	LeaseDuration   time.Duration           `yaml:"lease_duration"`
	// HostLease is how long a worker's lease on a host lasts unless
	// renewed (every third of it): one worker owns a host at a time, and
	// the hosts of a worker that died are taken over after it.
	HostLease time.Duration `yaml:"host_lease"`
}

// HostOverride replaces the default politeness for one host.
type HostOverride struct {
	Rate        float64 `yaml:"rate"`
	Burst       int     `yaml:"burst"`
	MaxInFlight int     `yaml:"max_in_flight"`
}

// Fetch configures the HTTP client.
type Fetch struct {
	UserAgent      string        `yaml:"user_agent"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	TLSTimeout     time.Duration `yaml:"tls_timeout"`
	HeaderTimeout  time.Duration `yaml:"header_timeout"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"` // longest silence while reading a body
	TotalTimeout   time.Duration `yaml:"total_timeout"`
	MaxRetries     int           `yaml:"max_retries"` // a timeout after the headers is never retried
	RetryBase      time.Duration `yaml:"retry_base"`
	ParseTypes     []string      `yaml:"parse_types"` // content types parsed as HTML; others are recorded only
	Cookies        bool          `yaml:"cookies"`
	AllowAddresses []string      `yaml:"allow_addresses"` // IPs, CIDRs or host names exempt from the private-address guard
	// Headers are sent with every request, in addition to the crawler's
	// own; see forbiddenHeaders for those that cannot be set.
	Headers map[string]string `yaml:"headers"`
	// Proxy lists proxy URLs (http, https, socks5) used in turn, one per
	// request; "direct" connects without a proxy. One may be written
	// without a list.
	Proxy URLList `yaml:"proxy"`
	// CookiesFile is a cookies.txt file (Netscape format) loaded into the
	// cookie jar at the start; relative to the config file.
	CookiesFile string `yaml:"cookies_file"`
	// Hosts override headers and proxy per host, keyed like politeness.hosts.
	Hosts map[string]FetchHost `yaml:"hosts"`
}

// FetchHost overrides fetch settings for one host.
type FetchHost struct {
	// Headers are added to fetch.headers for this host; an empty value
	// leaves out a header fetch.headers sets.
	Headers map[string]string `yaml:"headers"`
	Proxy   URLList           `yaml:"proxy"` // replaces fetch.proxy for this host when not empty
}

// Canonicalization configures URL canonical form.
type Canonicalization struct {
	StripParams  []string `yaml:"strip_params"`
	SortQuery    bool     `yaml:"sort_query"`
	UseCanonical bool     `yaml:"use_canonical"` // treat rel=canonical as the page's identity for dedup
}

// ParseOptions switch built-in extraction on and off and cap the values kept.
type ParseOptions struct {
	StructuredData bool `yaml:"structured_data"`
	MainText       bool `yaml:"main_text"`
	// FullTextIndex keeps an SQLite FTS5 index, pages_fts, over the pages'
	// title and main text, updated in each page's commit.
	FullTextIndex bool `yaml:"full_text_index"`
	// Longer values are cut (on a character boundary) and the cut is
	// recorded: pages.fields_truncated, items.truncated.
	MaxTitle       ByteSize `yaml:"max_title"`
	MaxDescription ByteSize `yaml:"max_description"`
	MaxAnchor      ByteSize `yaml:"max_anchor"`
	MaxItemField   ByteSize `yaml:"max_item_field"` // per field; the values of a many field share it
}

// StoreOptions configure what is stored.
type StoreOptions struct {
	Bodies      string `yaml:"bodies"`       // zstd, s2, gzip, identity (uncompressed) or none
	ErrorBodies bool   `yaml:"error_bodies"` // store bodies of non-2xx responses too
	DedupCache  int    `yaml:"dedup_cache"`  // URLs remembered in memory to skip database lookups
	// InboundLinkIndex keeps link_targets, the index of the links' targets,
	// while crawling, so "who links to X" is an index lookup instead of a
	// read of every stored link. Off by default: inserting ~50 random text
	// keys per page into that index costs as much as the rest of the
	// writer's work.
	InboundLinkIndex bool `yaml:"inbound_link_index"`
}

// Defaults returns the built-in configuration that config files are decoded over.
func Defaults() Config {
	return Config{
		Name:             store.DefaultCrawlName,
		Database:         "crawl.db",
		Feeds:            []Feed{},
		Webhooks:         []Webhook{},
		SitemapDiscovery: true,
		Limits: Limits{
			MaxDepth: 10, MaxURLLength: 2048, MaxPathSegments: 32, MaxRepeatedSegments: 3,
			MaxQueryVariants: 200, MaxTemplateChain: 200, MaxBodySize: 10 << 20, MaxRedirects: 10,
		},
		Workers: 16,
		Politeness: Politeness{
			ObeyRobots: true, Rate: 1, Burst: 1, MaxInFlight: 1, RobotsTTL: 24 * time.Hour,
			MaxCrawlDelay: 30 * time.Second, LatencyFactor: 1, BackoffBase: 5 * time.Second,
			BackoffMax: 10 * time.Minute, MaxRetryAfter: time.Hour, HostFailures: 10, RobotsRetries: 5,
			RespectNofollow: true, RespectNoindex: true, MaxActiveHosts: 4096, HostQueue: 8,
			LeaseDuration: 10 * time.Minute, HostLease: 2 * time.Minute,
		},
		Fetch: Fetch{
			UserAgent:      "crawler/1.0 (+https://github.com/crawler-dev/crawler)",
			ConnectTimeout: 10 * time.Second, TLSTimeout: 10 * time.Second, HeaderTimeout: 15 * time.Second,
			IdleTimeout: 20 * time.Second, TotalTimeout: 60 * time.Second, MaxRetries: 3, RetryBase: 10 * time.Second,
			ParseTypes: []string{"text/html", "application/xhtml+xml"}, Cookies: true,
		},
		Canonical: Canonicalization{StripParams: append([]string(nil), urlnorm.DefaultStripParams...)},
		Parse: ParseOptions{StructuredData: true, MainText: true, MaxTitle: 2 << 10, MaxDescription: 4 << 10,
			MaxAnchor: 1 << 10, MaxItemField: 64 << 10},
		Store:   StoreOptions{Bodies: "zstd", DedupCache: 1 << 20},
		Recrawl: revisitDefaults(),
		Dedup:   dedupDefaults(),
	}
}

// ByteSize is a size in bytes that YAML may write as 1048576, "512KiB", "10MB" or "1GiB".
type ByteSize int64

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &valueError{line: n.Line, kind: n.Kind, msg: forms["crawl.ByteSize"]}
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		msg := forms["crawl.ByteSize"]
		if errors.Is(err, errSizeTooLarge) {
			msg = "is too large a size"
		}
		return &valueError{line: n.Line, value: n.Value, msg: msg}
	}
	*b = v
	return nil
}

// errSizeTooLarge is ParseByteSize's error for a size past int64.
var errSizeTooLarge = errors.New("too large")

// ParseByteSize parses "123", "10KB", "10KiB", "5MB", "5MiB", "1GB", "1GiB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, unit := s[:i], strings.ToLower(strings.TrimSpace(s[i:]))
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 10MiB)", s)
	}
	mult := map[string]float64{"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "k": 1 << 10, "mb": 1e6, "mib": 1 << 20,
		"m": 1 << 20, "gb": 1e9, "gib": 1 << 30, "g": 1 << 30}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("invalid size unit in %q (want B, KiB, MiB, GiB, KB, MB or GB)", s)
	}
	if n*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q: %w", s, errSizeTooLarge)
	}
	return ByteSize(n * mult), nil
}

// ConfigError is a problem in a config file, pointing at the line.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// LoadConfig reads and validates a config file. The relative paths in it
// (database, urls_file, fetch.cookies_file) are taken relative to the
// file's directory.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := ParseConfig(path, data)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(cfg.Database) && !store.IsPostgres(cfg.Database) {
		cfg.Database = filepath.Join(filepath.Dir(path), cfg.Database)
	}
	if cfg.URLsFile != "" && !filepath.IsAbs(cfg.URLsFile) {
		cfg.URLsFile = filepath.Join(filepath.Dir(path), cfg.URLsFile)
	}
	if cfg.Fetch.CookiesFile != "" && !filepath.IsAbs(cfg.Fetch.CookiesFile) {
		cfg.Fetch.CookiesFile = filepath.Join(filepath.Dir(path), cfg.Fetch.CookiesFile)
	}
	resolveFeedPaths(cfg.Feeds, filepath.Dir(path))
	return cfg, nil
}

// ReadURLList reads a list of URLs to fetch (urls_file): one http or https
// URL a line; blank lines and lines starting with # are left out.
func ReadURLList(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read URL list: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
			return nil, fmt.Errorf("%s:%d: %q is not an http(s) URL", path, line, s)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read URL list %s: %w", path, err)
	}
	return out, nil
}

// ItemFields are the data columns of items of rule set rule (all rule
// sets when rule is ""): the fields in rule order, each name once, rule
// sets in config order. It is nil when the config has no such rule set.
func (c *Config) ItemFields(rule string) []string {
	var fields []string
	seen := map[string]bool{}
	for _, rs := range c.Extract {
		if rule != "" && rs.Name != rule {
			continue
		}
		for _, f := range rs.Fields {
			if !seen[f.Name] {
				seen[f.Name] = true
				fields = append(fields, f.Name)
			}
		}
	}
	return fields
}

// CheckWork returns an error naming file when c gives a crawl nothing to
// start from: no seeds, URLs or sitemaps.
func (c *Config) CheckWork(file string) error {
	if len(c.Seeds) == 0 && len(c.URLs) == 0 && len(c.Sitemaps) == 0 {
		return &ConfigError{File: file, Msg: "nothing to crawl: add seeds, urls or sitemaps"}
	}
	return nil
}

var unknownField = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)
var typeErr = regexp.MustCompile(`line (\d+): (.*)`)

// ParseConfig decodes YAML over Defaults and validates the result. Unknown
// keys, wrong types and invalid values are *ConfigError naming file and line.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg := Defaults()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(name, nil, err)
	}
	if len(bytes.TrimSpace(data)) > 0 {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return nil, yamlError(name, &root, err)
		}
	}
	if err := cfg.validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = name
			if ce.Line == 0 {
				ce.Line = lineOf(&root, ce.Key)
			}
			return nil, ce
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &cfg, nil
}

// yamlError turns a decoding error into *ConfigError (or several lines of
// them) naming the file, the line and, for values of the wrong form, the
// key and the form to use. root is the document, nil if it did not parse.
func yamlError(name string, root *yaml.Node, err error) error {
	if ve, key, ok := keyOfValueError(root, err); ok && root != nil {
		return &ConfigError{File: name, Line: ve.line, Key: key, Msg: ve.got() + " " + ve.msg}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		var msgs []string
		first := &ConfigError{File: name}
		for i, e := range te.Errors {
			ce := &ConfigError{File: name}
			if m := unknownField.FindStringSubmatch(e); m != nil {
				ce.Line, _ = strconv.Atoi(m[1])
				ce.Msg = fmt.Sprintf("unknown key %q%s", m[2], suggest(m[2]))
			} else if m := typeErr.FindStringSubmatch(e); m != nil {
				ce.Line, _ = strconv.Atoi(m[1])
				ce.Msg = m[2]
				if root != nil {
					if key, text, ok := teach(root, ce.Line, m[2]); ok {
						ce.Key, ce.Msg = key, text
					}
				}
			} else {
				ce.Msg = e
			}
			msgs = append(msgs, ce.Error())
			if i == 0 {
				first = ce
			}
		}
		if len(msgs) == 1 {
			return first
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := typeErr.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ConfigError{File: name, Line: line, Msg: m[2]}
	}
	return &ConfigError{File: name, Msg: msg}
}

// KeyError returns a *ConfigError about key (a dotted path such as
// "fetch.allow_addresses[1]") of the config text data named name, at the
// key's line when the text writes it out.
func KeyError(name string, data []byte, key, msg string) *ConfigError {
	e := &ConfigError{File: name, Key: key, Msg: msg}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil {
		e.Line = lineOf(&root, key)
	}
	return e
}

// lineOf finds the line of a dotted key path such as "politeness.rate",
// "seeds[2]" or "extract[0].fields[1].selector" in a YAML document.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if name != "" {
			if n.Kind != yaml.MappingNode {
				return line
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == name {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
			if next == nil {
				return line
			}
			n = next
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}

// suggest returns ` (did you mean "x"?)` for the known key closest to k.
func suggest(k string) string {
	best, bestD := "", 3
	var walk func(t reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name != "" && name != "-" {
				if d := editDistance(k, name); d < bestD {
					best, bestD = name, d
				}
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(Config{}))
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal-string-alignment distance (typos and swaps).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func bad(key, format string, args ...any) error {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (c *Config) validate() error {
	if c.Database == "" {
		return bad("database", "must name a file or a postgres:// URL")
	}
	if err := store.CheckCrawlName(c.Name); err != nil {
		return bad("name", "%v", err)
	}
	if err := c.checkFeeds(); err != nil {
		return err
	}
	if err := c.checkWebhooks(); err != nil {
		return err
	}
	for i, s := range c.Seeds {
		if err := checkAbsURL(s); err != nil {
			return bad(fmt.Sprintf("seeds[%d]", i), "%v", err)
		}
	}
	for i, s := range c.URLs {
		if err := checkAbsURL(s); err != nil {
			return bad(fmt.Sprintf("urls[%d]", i), "%v", err)
		}
	}
	for i, s := range c.Sitemaps {
		if err := checkAbsURL(s); err != nil {
			return bad(fmt.Sprintf("sitemaps[%d]", i), "%v", err)
		}
	}
	for i, h := range c.Scope.Hosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			return bad(fmt.Sprintf("scope.hosts[%d]", i), "%q is not a host name (write example.com or example.com:8080)", h)
		}
		if _, err := parseHostKey(h); err != nil {
			return bad(fmt.Sprintf("scope.hosts[%d]", i), "%v", err)
		}
	}
	for _, list := range []struct {
		key string
		res []string
	}{{"scope.include", c.Scope.Include}, {"scope.exclude", c.Scope.Exclude}} {
		for i, re := range list.res {
			if _, err := regexp.Compile(re); err != nil {
				return bad(fmt.Sprintf("%s[%d]", list.key, i), "invalid regular expression: %v", err)
			}
		}
	}
	type posInt struct {
		key string
		v   int
		min int
	}
	for _, p := range []posInt{
		{"workers", c.Workers, 1}, {"limits.max_depth", c.Limits.MaxDepth, 0}, {"limits.max_pages", c.Limits.MaxPages, 0},
		{"limits.max_pages_per_host", c.Limits.MaxPagesPerHost, 0}, {"limits.max_url_length", c.Limits.MaxURLLength, 16},
		{"limits.max_path_segments", c.Limits.MaxPathSegments, 1}, {"limits.max_repeated_segments", c.Limits.MaxRepeatedSegments, 1},
		{"limits.max_query_variants", c.Limits.MaxQueryVariants, 0}, {"limits.max_template_chain", c.Limits.MaxTemplateChain, 0},
		{"limits.max_redirects", c.Limits.MaxRedirects, 0},
		{"politeness.burst", c.Politeness.Burst, 1}, {"politeness.max_in_flight", c.Politeness.MaxInFlight, 1},
		{"politeness.host_failures", c.Politeness.HostFailures, 1}, {"politeness.robots_retries", c.Politeness.RobotsRetries, 1},
		{"politeness.max_active_hosts", c.Politeness.MaxActiveHosts, 1}, {"politeness.host_queue", c.Politeness.HostQueue, 1},
		{"fetch.max_retries", c.Fetch.MaxRetries, 0}, {"store.dedup_cache", c.Store.DedupCache, 0},
	} {
		if p.v < p.min {
			return bad(p.key, "must be at least %d, got %d", p.min, p.v)
		}
	}
	if c.Workers > 10000 {
		return bad("workers", "must be at most 10000, got %d", c.Workers)
	}
	if c.Limits.MaxBodySize < 1024 {
		return bad("limits.max_body_size", "must be at least 1KiB, got %d bytes", c.Limits.MaxBodySize)
	}
	for _, f := range []struct {
		key string
		v   ByteSize
	}{
		{"parse.max_title", c.Parse.MaxTitle}, {"parse.max_description", c.Parse.MaxDescription},
		{"parse.max_anchor", c.Parse.MaxAnchor}, {"parse.max_item_field", c.Parse.MaxItemField},
	} {
		if f.v < 16 {
			return bad(f.key, "must be at least 16 bytes, got %d", f.v)
		}
	}
	// YAML's .nan and .inf decode into floats; NaN compares false with
	// everything, so it would pass every range check below.
	for _, f := range []struct {
		key string
		v   float64
	}{{"politeness.rate", c.Politeness.Rate}, {"politeness.latency_factor", c.Politeness.LatencyFactor}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return bad(f.key, "must be a finite number, got %g", f.v)
		}
	}
	if c.Politeness.Rate < 0 {
		return bad("politeness.rate", "must not be negative (0 means unlimited), got %g", c.Politeness.Rate)
	}
	if c.Politeness.LatencyFactor < 0 {
		return bad("politeness.latency_factor", "must not be negative, got %g", c.Politeness.LatencyFactor)
	}
	if _, err := newHostMap(c.Politeness.Hosts); err != nil {
		return hostKeyBad("politeness.hosts", err)
	}
	for h, o := range c.Politeness.Hosts {
		if math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
			return bad("politeness.hosts."+h+".rate", "must be a finite number, got %g", o.Rate)
		}
		if o.Rate < 0 || o.Burst < 0 || o.MaxInFlight < 0 {
			return bad("politeness.hosts."+h, "rate, burst and max_in_flight must not be negative")
		}
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"fetch.connect_timeout", c.Fetch.ConnectTimeout}, {"fetch.tls_timeout", c.Fetch.TLSTimeout},
		{"fetch.header_timeout", c.Fetch.HeaderTimeout}, {"fetch.idle_timeout", c.Fetch.IdleTimeout},
		{"fetch.total_timeout", c.Fetch.TotalTimeout}, {"politeness.lease_duration", c.Politeness.LeaseDuration},
		{"politeness.host_lease", c.Politeness.HostLease},
	} {
		if d.v <= 0 {
			return bad(d.key, "must be a positive duration such as 10s, got %v", d.v)
		}
	}
	if need := c.hostLeaseNeed(c.Politeness.MaxCrawlDelay) + hostLeaseMargin; c.Politeness.HostLease < need {
		return bad("politeness.host_lease", "must be at least %v (fetch.total_timeout %v + politeness.max_crawl_delay %v + %v): "+
			"a request starts only while the host's lease outlives it and the host's delay, got %v",
			need, c.Fetch.TotalTimeout, c.Politeness.MaxCrawlDelay, hostLeaseMargin, c.Politeness.HostLease)
	}
	if c.Fetch.UserAgent == "" {
		return bad("fetch.user_agent", "must not be empty")
	}
	if err := store.CheckBodies(c.Store.Bodies); err != nil {
		return bad("store.bodies", "%v", err)
	}
	for i, a := range c.Fetch.AllowAddresses {
		if _, err := parseAllowEntry(a); err != nil {
			return bad(fmt.Sprintf("fetch.allow_addresses[%d]", i), "%v", err)
		}
	}
	if err := c.Fetch.validate(); err != nil {
		return err
	}
	if _, err := urlnorm.New(urlnorm.Options{StripParams: c.Canonical.StripParams, SortQuery: c.Canonical.SortQuery}); err != nil {
		return bad("canonicalization.strip_params", "%v", err)
	}
	if err := c.Recrawl.validate(); err != nil {
		return err
	}
	if err := c.Dedup.validate(); err != nil {
		return err
	}
	if _, err := parse.CompileRules(c.Extract); err != nil {
		var re *parse.RuleError
		if errors.As(err, &re) {
			key := fmt.Sprintf("extract[%d]", re.Set)
			if re.Field >= 0 {
				key += fmt.Sprintf(".fields[%d]", re.Field)
			}
			if re.Key != "" {
				key += "." + re.Key
			}
			return &ConfigError{Key: key, Msg: re.Err.Error()}
		}
		return bad("extract", "%v", err)
	}
	return nil
}

// hostLeaseMargin is what a host lease must hold beyond a request and
// the host's delay, for the renewal that comes before them.
const hostLeaseMargin = 5 * time.Second

// hostLeaseNeed is how long a host's lease must still run for a worker to
// start a request to it: the request's total timeout and the host's delay
// (capped at max_crawl_delay, the longest delay a config promises), so
// that no request can outlive the lease and a worker that takes the host
// over waits at least the delay after it. A host paced slower than that
// is still kept waiting by its next allowed time, which the new owner
// reads.
func (c *Config) hostLeaseNeed(delay time.Duration) time.Duration {
	return c.Fetch.TotalTimeout + min(delay, c.Politeness.MaxCrawlDelay)
}

func checkAbsURL(s string) error {
	t := strings.TrimSpace(s)
	scheme, _, hasScheme := strings.Cut(t, "://")
	if !hasScheme || strings.ContainsAny(scheme, "/?#") {
		hint := ""
		if t != "" && !strings.HasPrefix(t, "/") {
			hint = fmt.Sprintf(" (write %q)", "https://"+t)
		}
		return fmt.Errorf("%q must start with http:// or https://%s", s, hint)
	}
	u, err := url.Parse(t)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL: %v", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with http:// or https://", s)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// checkFeeds returns an error naming the first feed setting that is wrong.
func (c *Config) checkFeeds() error {
	paths := map[string]bool{}
	for i, f := range c.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		switch {
		case f.Path == "":
			return bad(key+".path", "must name a file, or - for standard output")
		case paths[f.Path] && f.Path != "-":
			return bad(key+".path", "%s is written by an earlier feed", f.Path)
		case f.Format != "" && f.Format != "jsonl" && f.Format != "csv":
			return bad(key+".format", "must be jsonl or csv, got %q", f.Format)
		case f.Table != "" && f.Table != "items" && f.Table != "pages":
			return bad(key+".table", "must be items or pages, got %q", f.Table)
		case f.Rule != "" && f.table() != "items":
			return bad(key+".rule", "keeps items of a rule set: the feed's table is %s", f.table())
		case f.Rule != "" && c.ItemFields(f.Rule) == nil:
			return bad(key+".rule", "no rule set in extract is named %q", f.Rule)
		}
		paths[f.Path] = true
	}
	return nil
}

// checkWebhooks returns an error naming the first webhook setting that is
// wrong.
func (c *Config) checkWebhooks() error {
	for i, w := range c.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		if err := checkAbsURL(w.URL); err != nil {
			return bad(key+".url", "%v", err)
		}
		switch {
		case w.Secret == "" && w.SecretEnv == "":
			return bad(key+".secret", "requests are signed: give a secret, or secret_env naming an environment variable that holds it")
		case w.Secret != "" && w.SecretEnv != "":
			return bad(key+".secret_env", "give secret or secret_env, not both")
		case w.Rule != "" && c.ItemFields(w.Rule) == nil:
			return bad(key+".rule", "no rule set in extract is named %q", w.Rule)
		case w.Batch < 0:
			return bad(key+".batch", "must be 0 (100) or more")
		}
	}
	return nil
}

// Settings returns, per group, what of the configuration decides what a
// crawl is: where it starts (seeds and sitemaps; not a URL list, which
// each run may give anew), its scope, its extraction rules and the
// canonical form of its URLs, each as canonical JSON. Every worker of a
// crawl must agree on them, and a resumed crawl should: the store records
// them at the first run and refuses a run whose settings differ.
func (c *Config) Settings() map[string]string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			// Plain data: strings, numbers, slices and maps of them.
			panic(err)
		}
		return string(b)
	}
	return map[string]string{
		"seeds":            enc(struct{ Seeds, Sitemaps []string }{c.Seeds, c.Sitemaps}),
		"scope":            enc(c.Scope),
		"rules":            enc(c.Extract),
		"canonicalization": enc(c.Canonical),
	}
}
