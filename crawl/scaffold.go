package crawl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Scaffold is a starter config for a site, written by "crawler init".
type Scaffold struct {
	Config     []byte          // the commented YAML
	Inspection *Inspection     // what fetching the URL found
	Rules      []parse.RuleSet // the starter extraction rules, if any
	Rate       float64         // politeness.rate chosen
}

// NewScaffold fetches rawURL's robots.txt and page as the crawl would
// (cfg: the defaults and the addresses allowed, which the config keeps)
// and writes a commented config for crawling its site: the seed, the
// scope of its host, a summary of robots.txt and its sitemaps, a rate
// from Crawl-delay, and starter extraction rules for JSON-LD products or
// articles and repeated blocks the page shows.
func NewScaffold(ctx context.Context, cfg *Config, rawURL string, now time.Time, log *slog.Logger) (*Scaffold, error) {
	c := *cfg
	c.Seeds = nil
	ins, err := Inspect(ctx, &c, rawURL, InspectOptions{Body: true, Log: log})
	if err != nil {
		return nil, err
	}
	sc := &Scaffold{Inspection: ins, Rate: cfg.Politeness.Rate}
	if d, err := time.ParseDuration(ins.CrawlDelay); err == nil && d > 0 {
		sc.Rate = 1 / d.Seconds()
	}
	if p := ins.Page; p != nil && p.Parsed && p.Status < 300 {
		if pu, err := url.Parse(p.URL); err == nil {
			sc.Rules = parse.SuggestRules(pu, []byte(p.Body))
		}
	}
	sc.Config, err = sc.yaml(cfg, now)
	return sc, err
}

func (sc *Scaffold) yaml(cfg *Config, now time.Time) ([]byte, error) {
	ins := sc.Inspection
	u, err := url.Parse(ins.URL)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Crawl of %s, written by \"crawler init\" on %s.\n", ins.URL, now.Format(time.DateOnly))
	b.WriteString("# Keys left out keep their defaults (config.yaml in the crawler's source\n" +
		"# lists every key). Check this file, fetching only robots.txt, with\n" +
		"#   crawler check -c THIS_FILE\n\n")
	b.WriteString("database: crawl.db          # SQLite file, relative to this file; run again to resume\n\n")
	fmt.Fprintf(&b, "seeds:\n  - %s\n\n", yamlString(ins.URL))
	b.WriteString("scope:\n")
	fmt.Fprintf(&b, "  hosts: [%s]   # the seed's host; add others to crawl them too\n", yamlString(u.Host))
	b.WriteString("  subdomains: false        # true: also www.HOST, shop.HOST ...\n")
	if p := strings.Trim(u.Path, "/"); p != "" {
		if first, _, _ := strings.Cut(p, "/"); first != "" {
			fmt.Fprintf(&b, "  # include: [%s]   # to stay under the seed's path\n",
				yamlString("^"+strings.ReplaceAll(u.Scheme+"://"+u.Host+"/"+first+"/", ".", `\.`)))
		}
	}
	b.WriteString("  exclude: []              # regexes of URLs to leave out, e.g. ['/cart', '\\?sessionid=']\n\n")

	b.WriteString(sc.robotsSummary(u))
	b.WriteString("sitemap_discovery: true    # read the sitemaps robots.txt names and /sitemap.xml\n\n")

	b.WriteString("limits:\n  max_depth: 10\n  max_pages: 1000           # a first crawl; raise it, or 0 for no limit\n\n")
	b.WriteString("politeness:\n")
	switch {
	case ins.CrawlDelay != "":
		fmt.Fprintf(&b, "  rate: %s   # requests per second: one every %s, as robots.txt's Crawl-delay asks\n",
			strconv.FormatFloat(sc.Rate, 'g', 4, 64), ins.CrawlDelay)
	default:
		fmt.Fprintf(&b, "  rate: %s   # requests per second to this host (robots.txt sets no Crawl-delay)\n",
			strconv.FormatFloat(sc.Rate, 'g', 4, 64))
	}
	b.WriteString("  max_in_flight: 1\n\n")
	if len(cfg.Fetch.AllowAddresses) > 0 {
		fmt.Fprintf(&b, "fetch:\n  allow_addresses: [%s]   # private or loopback addresses this crawl may reach\n\n",
			strings.Join(quoteAll(cfg.Fetch.AllowAddresses), ", "))
	}
	if len(sc.Rules) == 0 {
		b.WriteString("# No JSON-LD product or article and no repeated blocks were found on the\n" +
			"# page to start rules from. JSON-LD, OpenGraph and the main text are stored\n" +
			"# anyway (table page_data). Rules look like this (docs/extraction.md):\n" +
			"# extract:\n#   - name: product\n#     match: \"*/product/*\"\n#     fields:\n" +
			"#       - {name: name, selector: h1, required: true}\n#       - {name: price, selector: .price, type: price}\n" +
			"extract: []\n")
		return b.Bytes(), nil
	}
	b.WriteString("# Starter extraction rules, built from this page and checked on it. Try them\n# at once with\n")
	fmt.Fprintf(&b, "#   crawler extract -c THIS_FILE %s\n", ins.Page.URL)
	b.WriteString("# and adjust match (which pages) and the selectors (docs/extraction.md).\n")
	var rules bytes.Buffer
	enc := yaml.NewEncoder(&rules)
	enc.SetIndent(2)
	if err := enc.Encode(map[string][]parse.RuleSet{"extract": sc.Rules}); err != nil {
		return nil, fmt.Errorf("write rules: %w", err)
	}
	enc.Close()
	b.Write(rules.Bytes())
	return b.Bytes(), nil
}

// robotsSummary writes robots.txt as comments: what it says for this
// crawler, its Crawl-delay and sitemaps, and its first lines.
func (sc *Scaffold) robotsSummary(u *url.URL) string {
	ins := sc.Inspection
	var b strings.Builder
	robotsURL := u.Scheme + "://" + u.Host + "/robots.txt"
	status := ""
	for _, r := range ins.Requests {
		if r.Robots {
			status = fmt.Sprintf("HTTP %d", r.Status)
		}
	}
	fmt.Fprintf(&b, "# robots.txt (%s, %s):\n", robotsURL, status)
	fmt.Fprintf(&b, "#   for this crawler and the seed: %s\n", ins.Robots.Detail)
	if ins.CrawlDelay != "" {
		fmt.Fprintf(&b, "#   Crawl-delay: %s\n", ins.CrawlDelay)
	}
	for _, s := range ins.Sitemaps {
		fmt.Fprintf(&b, "#   Sitemap: %s\n", s)
	}
	if ins.RobotsTxt != "" {
		lines := strings.Split(strings.TrimRight(ins.RobotsTxt, "\r\n"), "\n")
		b.WriteString("#   it reads:\n")
		for i, l := range lines {
			if i == 20 {
				fmt.Fprintf(&b, "#     ... %d more lines\n", len(lines)-i)
				break
			}
			l = strings.TrimRight(l, "\r")
			if len(l) > 100 {
				l = l[:100] + "..."
			}
			fmt.Fprintf(&b, "%s\n", strings.TrimRight("#     "+strings.ToValidUTF8(l, "?"), " "))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// yamlString writes s as a YAML scalar, quoted when it must be.
func yamlString(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = yamlString(s)
	}
	return out
}

// CheckReport is what a run of a config would start with, found without
// crawling: each seed's scope and robots.txt verdict (robots.txt is
// fetched, nothing else).
type CheckReport struct {
	Seeds      []SeedCheck `json:"seeds"`
	More       int         `json:"more,omitempty"` // seeds not checked (only the first 100 are)
	ListMode   bool        `json:"list_mode"`      // urls: fetched as listed, following no links
	ScopeHosts []string    `json:"scope_hosts"`    // the hosts in scope (with scope.subdomains, their subdomains too)
	Problems   int         `json:"problems"`       // seeds a run would refuse or skip
}

// SeedCheck is one seed as a run would start with it.
type SeedCheck struct {
	URL     string        `json:"url"` // canonical
	Skipped string        `json:"skipped,omitempty"`
	Hint    string        `json:"hint,omitempty"`
	Robots  RobotsVerdict `json:"robots"`
	Error   string        `json:"error,omitempty"` // robots.txt forbids it or could not be fetched
}

// Check says what a run of cfg would start with, without crawling: the
// seeds (or listed URLs) with the scope's verdict and, for those in scope,
// their robots.txt verdict, fetching robots.txt of each seed's host and
// nothing else (through the same guard and spacing as a crawl).
func Check(ctx context.Context, cfg *Config, log *slog.Logger) (*CheckReport, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e, err := New(cfg, nil, log)
	if err != nil {
		return nil, err
	}
	defer e.fetch.close()
	rep := &CheckReport{ListMode: e.listMode}
	for h := range e.scope.hosts {
		rep.ScopeHosts = append(rep.ScopeHosts, h.String())
	}
	slices.Sort(rep.ScopeHosts)
	s := newSingle(cfg, e.fetch.newClient())
	rec := &requestRecorder{ins: &Inspection{}, bodies: map[string]*response{}}
	s.watch = rec
	seeds := e.seeds
	if len(seeds) > 100 {
		rep.More, seeds = len(seeds)-100, seeds[:100]
	}
	for _, raw := range seeds {
		n, err := e.seedRow(raw)
		if err != nil {
			return nil, err
		}
		sc := SeedCheck{URL: n.URL}
		if n.State == store.StateSkipped {
			sc.Skipped, sc.Hint = n.Reason, ReasonHint(n.Reason, n.URL)
			rep.Problems++
			rep.Seeds = append(rep.Seeds, sc)
			continue
		}
		u, _ := url.Parse(n.URL)
		if err := rec.allowed(ctx, s, u); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			sc.Error = err.Error()
			switch {
			case errors.Is(err, ErrBlockedAddress):
				sc.Hint = ReasonHint("blocked address", n.URL)
			case errors.Is(err, ErrRobotsDisallowed) && s.robots[origin(u)] == nil:
				sc.Hint = ReasonHint("robots.txt unavailable", n.URL)
			case errors.Is(err, ErrRobotsDisallowed):
				sc.Hint = ReasonHint("robots.txt", n.URL)
			}
			rep.Problems++
		}
		sc.Robots = rec.verdict(cfg, s, u)
		rep.Seeds = append(rep.Seeds, sc)
	}
	return rep, nil
}
