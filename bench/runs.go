package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// cmdFor returns the command that reproduces the measurements in list;
// bodies, if not "", is the one store.bodies setting of the throughput crawl.
func (b *bench) cmdFor(list string, bodies string) string {
	o := b.o
	args := []string{"go run ./bench -run " + list}
	if strings.Contains(list, "throughput") || strings.Contains(list, "colly") {
		args = append(args, fmt.Sprintf("-hosts %d -pages %d", o.hosts, o.pages))
	}
	if strings.Contains(list, "throughput") {
		args = append(args, fmt.Sprintf("-workers %d -max-in-flight %d", o.workers, o.maxInFlight))
		if o.hostQueue > 0 {
			args = append(args, fmt.Sprintf("-host-queue %d", o.hostQueue))
		}
		if bodies == "" {
			bodies = o.bodies
		}
		args = append(args, "-bodies "+bodies)
	}
	if strings.Contains(list, "colly") {
		args = append(args, fmt.Sprintf("-parallelism %d", o.parallelism))
	}
	if strings.Contains(list, "realsite") {
		args = append(args, fmt.Sprintf("-realsite-runs %d -realsite-concurrency %d", o.realSiteRuns, o.realSiteConc))
	}
	if strings.Contains(list, "frontier") {
		args = append(args, fmt.Sprintf("-frontier-urls %d -frontier-hosts %d -frontier-time %v -slice-hosts %d -slice-pages %d -slice-for %v -workers %d",
			o.frontierURLs, o.frontierHosts, o.frontierTime, o.sliceHosts, o.slicePages, o.sliceFor, o.workers))
	}
	if strings.Contains(list, "distributed") {
		args = append([]string{"./scripts/with-postgres"}, args...)
		args = append(args, fmt.Sprintf("-dist-hosts %d -dist-pages %d -dist-rate %g -dist-for %v -dist-fast-hosts %d -dist-fast-pages %d -polite-workers %d -workers %d -max-in-flight %d",
			o.distHosts, o.distPages, o.distRate, o.distFor, o.distFastHosts, o.distFastPages, o.politeWork, o.workers, o.maxInFlight))
	}
	if strings.Contains(list, "politeness") {
		args = append(args, fmt.Sprintf("-polite-hosts %d -polite-pages %d -polite-rate %g -polite-burst %d -site-rate %g -polite-workers %d -polite-for %v",
			o.politeHosts, o.politePages, o.politeRate, o.politeBurst, o.siteRate, o.politeWork, o.politeFor))
	}
	return strings.Join(args, " ")
}

// crawlConfig is the YAML of a benchmark crawl.
func crawlConfig(db string, seeds []string, workers int, politeness, bodies string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "database: %s\nseeds:\n", strconv.Quote(db))
	for _, s := range seeds {
		fmt.Fprintf(&sb, "  - %s\n", s)
	}
	fmt.Fprintf(&sb, "workers: %d\n", workers)
	sb.WriteString("limits:\n  max_depth: 1000\n")
	sb.WriteString("politeness:\n" + politeness)
	sb.WriteString("fetch:\n  allow_addresses: [127.0.0.0/8]\n")
	sb.WriteString("store:\n  bodies: " + bodies + "\n")
	return sb.String()
}

// pageCounts reads what a crawl stored.
type pageCounts struct {
	Pages, OK      int
	First, Last    int64 // fetched_at, unix ms
	LastResponse   int64 // when the last response ended: fetched_at + duration_ms, unix ms
	InWindow       int   // pages fetched within [from, to] when asked
	Queued, Leased int
}

func countPages(ctx context.Context, path string, from, to int64) (pageCounts, error) {
	db, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		return pageCounts{}, err
	}
	defer db.Close()
	var c pageCounts
	err = db.SQL().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 200),
		coalesce(min(fetched_at), 0), coalesce(max(fetched_at), 0), coalesce(max(fetched_at + duration_ms), 0),
		count(*) FILTER (WHERE fetched_at BETWEEN ? AND ?) FROM pages`, from, to).
		Scan(&c.Pages, &c.OK, &c.First, &c.Last, &c.LastResponse, &c.InWindow)
	if err != nil {
		return c, fmt.Errorf("count pages in %s: %w", path, err)
	}
	err = db.SQL().QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE state = 'queued'),
		count(*) FILTER (WHERE state = 'leased') FROM frontier`).Scan(&c.Queued, &c.Leased)
	if err != nil {
		return c, fmt.Errorf("count frontier in %s: %w", path, err)
	}
	return c, nil
}

// runCrawler runs bin/crawler on a config until it ends or ctx is done
// (then SIGINT, SIGKILL after grace) and reports its cost. When the crawler
// panicked, the error says with what.
func (b *bench) runCrawler(ctx context.Context, cfgPath string, grace time.Duration) (usage, string, error) {
	cmd := command(ctx, grace, b.o.crawler, "run", "-c", cfgPath, "--grace", "10s")
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr := &panicWriter{w: prefixWriter{b.log, "  crawler: "}}
	cmd.Stderr = stderr
	b.logf("  $ %s", strings.Join(cmd.Args, " "))
	m, err := startMeasured(cmd)
	if err != nil {
		return usage{}, "", err
	}
	u, err := m.wait()
	summary := strings.TrimSpace(out.String())
	for line := range strings.SplitSeq(summary, "\n") {
		b.logf("  crawler: %s", line)
	}
	if err != nil && stderr.panic != "" {
		err = fmt.Errorf("%w: %s", err, stderr.panic)
	}
	return u, summary, err
}

// panicWriter passes writes on and keeps the first line that starts a Go
// panic ("panic: ..."). The command's stderr is written from one goroutine
// and read after Wait, so it needs no lock.
type panicWriter struct {
	w     interface{ Write([]byte) (int, error) }
	panic string
}

func (p *panicWriter) Write(data []byte) (int, error) {
	if p.panic == "" {
		for line := range strings.SplitSeq(string(data), "\n") {
			if strings.HasPrefix(line, "panic: ") {
				p.panic = line
				break
			}
		}
	}
	return p.w.Write(data)
}

// prefixWriter prefixes each write (the crawler writes whole lines).
type prefixWriter struct {
	w      interface{ Write([]byte) (int, error) }
	prefix string
}

func (p prefixWriter) Write(data []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(data), "\n"), "\n") {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, line)
	}
	return len(data), nil
}

func (b *bench) writeConfig(name, yaml string) (string, error) {
	path := filepath.Join(b.o.dir, name)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// throughput crawls the fast site with politeness off, once for each
// store.bodies setting asked for.
func (b *bench) throughput(ctx context.Context) error {
	for bodies := range strings.SplitSeq(b.o.bodies, ",") {
		if err := b.throughputWith(ctx, strings.TrimSpace(bodies)); err != nil {
			return err
		}
	}
	return nil
}

// throughputWith crawls the fast site storing bodies as bodies says.
func (b *bench) throughputWith(ctx context.Context, bodies string) error {
	o := b.o
	siteArgs := []string{"-hosts", strconv.Itoa(o.hosts), "-pages", strconv.Itoa(o.pages)}
	site, err := startSite(ctx, b.siteBin, siteArgs...)
	if err != nil {
		return err
	}
	b.logf("  site: %s %s (%d pages)", b.siteBin, strings.Join(siteArgs, " "), site.ready.Pages)
	db := filepath.Join(o.dir, "throughput-"+bodies+".db")
	pol := fmt.Sprintf("  rate: 0\n  max_in_flight: %d\n  latency_factor: 0\n", o.maxInFlight)
	if o.hostQueue > 0 {
		pol += fmt.Sprintf("  host_queue: %d\n", o.hostQueue)
	}
	cfg, err := b.writeConfig("throughput-"+bodies+".yaml", crawlConfig(db, site.ready.Seeds, o.workers, pol, bodies))
	if err != nil {
		site.stop()
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, o.crawlTimeout)
	u, summary, runErr := b.runCrawler(cctx, cfg, 30*time.Second)
	timedOut := cctx.Err() != nil
	cancel()
	rep, siteErr := site.stop()
	if runErr != nil && !timedOut {
		return fmt.Errorf("crawler: %w (%s)", runErr, summary)
	}
	if siteErr != nil {
		return siteErr
	}
	c, err := countPages(ctx, db, 0, 0)
	if err != nil {
		return err
	}
	b.logf("  crawler: wall %v, CPU %v, peak RSS %.0f MB; site: %d requests, %d robots.txt, %d duplicates, CPU %.1f s",
		u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.PeakMB(), rep.Requests, rep.Robots, rep.Duplicates, rep.CPUSeconds)
	rate := float64(c.OK) / u.Wall.Seconds()
	if !timedOut {
		b.crawlerRates = append(b.crawlerRates, encodingRate{bodies, rate})
	}
	b.throughputPeakMB[bodies] = u.PeakMB()
	cmd := b.cmdFor("throughput", bodies)
	what := fmt.Sprintf("%d hosts x %d pages", o.hosts, o.pages)
	value := fmt.Sprintf("%.0f pages/s", rate)
	if timedOut {
		value += fmt.Sprintf(" (interrupted after %v)", o.crawlTimeout)
	}
	b.add(row{"crawler throughput, fast site " + what + ", bodies " + bodies, value, ">= 2,500 pages/s", met(rate >= 2500), cmd})
	b.add(row{"crawler CPU per 1,000 pages (bodies " + bodies + ")", fmt.Sprintf("%.2f s", u.CPU.Seconds()/float64(max(c.OK, 1))*1000), "", "", cmd})
	b.add(row{"crawler peak RSS (bodies " + bodies + ")", fmt.Sprintf("%.0f MB", u.PeakMB()), "<= 150 MB", met(u.PeakMB() <= 150), cmd})
	stored := fmt.Sprintf("%d / %d", c.OK, site.ready.Pages)
	if other := c.Pages - c.OK; other > 0 {
		stored += fmt.Sprintf(" (and %d other responses, e.g. /sitemap.xml 404)", other)
	}
	b.add(row{"crawler pages stored with status 200 / site pages (bodies " + bodies + ")", stored, "equal", met(c.OK == site.ready.Pages), cmd})
	b.add(row{"crawler duplicate fetches, server-side (bodies " + bodies + ")", dupValue(rep), "0", met(rep.Duplicates == 0), cmd})
	if c.LastResponse > 0 && !timedOut {
		tail := u.End.Sub(time.UnixMilli(c.LastResponse)).Seconds()
		b.add(row{"crawler last response → exit (bodies " + bodies + ")", fmt.Sprintf("%.3f s", tail), "<= 0.1 s", met(tail <= 0.1), cmd})
	}
	if span := c.Last - c.First; span > 0 {
		b.note("crawler (bodies %s): %d pages fetched over %.1f s between the first and the last fetch (%.0f pages/s excluding start-up and shutdown); "+
			"the test site process used %.1f CPU s on the same %d cores; config %s:\n\n```yaml\n%s```",
			bodies, c.Pages, float64(span)/1000, float64(c.Pages)/(float64(span)/1000), rep.CPUSeconds, runtime.NumCPU(), filepath.Base(cfg),
			indentYAML(crawlConfig("throughput-"+bodies+".db", site.ready.Seeds[:1], o.workers, pol, bodies)))
	}
	return nil
}

func dupValue(rep siteReport) string {
	pageReqs := rep.Requests - rep.Robots
	if pageReqs <= 0 {
		return "0"
	}
	return fmt.Sprintf("%d of %d requests (%.1f%%)", rep.Duplicates, pageReqs, 100*float64(rep.Duplicates)/float64(pageReqs))
}

// indentYAML shortens the seed list of a config for the notes.
func indentYAML(y string) string {
	return strings.Replace(y, "seeds:\n", "seeds: # one per site host; only the first shown\n", 1)
}

// colly crawls the same site with bench/plaincolly.
func (b *bench) colly(ctx context.Context) error {
	o := b.o
	siteArgs := []string{"-hosts", strconv.Itoa(o.hosts), "-pages", strconv.Itoa(o.pages)}
	site, err := startSite(ctx, b.siteBin, siteArgs...)
	if err != nil {
		return err
	}
	args := append([]string{"-parallelism", strconv.Itoa(o.parallelism), "-timeout", o.crawlTimeout.String()}, site.ready.Seeds...)
	cmd := command(ctx, 30*time.Second, b.collyBin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = prefixWriter{b.log, "  plaincolly: "}
	b.logf("  $ %s -parallelism %d -timeout %v <%d seed URLs>", b.collyBin, o.parallelism, o.crawlTimeout, len(site.ready.Seeds))
	m, err := startMeasured(cmd)
	if err != nil {
		site.stop()
		return err
	}
	u, runErr := m.wait()
	rep, siteErr := site.stop()
	if runErr != nil {
		return fmt.Errorf("plaincolly: %w", runErr)
	}
	if siteErr != nil {
		return siteErr
	}
	var res struct {
		Responses, URLs, Duplicates, Errors int
		TimedOut                            bool `json:"timed_out"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return fmt.Errorf("plaincolly output %q: %w", out.String(), err)
	}
	b.logf("  plaincolly: wall %v, CPU %v, peak RSS %.0f MB, %d responses for %d URLs (%d duplicates by its own count), %d errors; site CPU %.1f s",
		u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.PeakMB(), res.Responses, res.URLs, res.Duplicates, res.Errors, rep.CPUSeconds)
	rate := float64(res.URLs) / u.Wall.Seconds()
	if !res.TimedOut {
		b.collyRate = rate
	}
	c := b.cmdFor("colly", "")
	value := fmt.Sprintf("%.0f pages/s", rate)
	if res.TimedOut {
		value += " (timed out)"
	}
	b.add(row{"plain colly throughput (distinct pages/s), same site", value, "", "", c})
	b.add(row{"plain colly CPU per 1,000 pages", fmt.Sprintf("%.2f s", u.CPU.Seconds()/float64(max(res.URLs, 1))*1000), "", "", c})
	b.add(row{"plain colly peak RSS", fmt.Sprintf("%.0f MB", u.PeakMB()), "", "", c})
	b.add(row{"plain colly pages fetched / site pages", fmt.Sprintf("%d / %d", rep.Paths, site.ready.Pages), "", "", c})
	b.add(row{"plain colly duplicate fetches (server-side)", dupValue(rep), "", "", c})
	return nil
}

// frontierPoint is one checkpoint line of bench/frontier.
type frontierPoint struct {
	Queued        int     `json:"queued"`
	InsertPerSec  float64 `json:"insert_per_sec"`
	RSSKB         int     `json:"rss_kb"`
	HWMKB         int     `json:"hwm_kb"`
	GoHeapKB      int     `json:"go_heap_kb"`
	Claims        int     `json:"claims"`
	Claimed       int     `json:"claimed"`
	ClaimUSPerOp  float64 `json:"claim_us_per_op"`
	ClaimUSPerURL float64 `json:"claim_us_per_url"`
	ClaimUSMedian float64 `json:"claim_us_median"`
	DBBytes       int64   `json:"db_bytes"`

	Summary     bool    `json:"summary"`
	Target      int     `json:"target"`
	Reached     int     `json:"reached"`
	StoppedBy   string  `json:"stopped_by"`
	Seconds     float64 `json:"seconds"`
	FirstOrigin string  `json:"first_origin"`
}

// Crawl of a slice: the frontier's hosts take loopback addresses from
// sliceFirstAddr on, and the crawler may send each served host sliceRate
// requests per second, sliceInFlight at a time.
const (
	sliceFirstAddr = "127.1.0.1"
	sliceRate      = 20
	sliceInFlight  = 4
)

// frontier runs bench/frontier and reports memory and claim cost by size,
// then crawls a slice of the database it leaves.
func (b *bench) frontier(ctx context.Context) error {
	o := b.o
	args := []string{"-urls", strconv.Itoa(o.frontierURLs), "-hosts", strconv.Itoa(o.frontierHosts),
		"-max-time", o.frontierTime.String(), "-dir", b.o.dir, "-first-addr", sliceFirstAddr}
	var site *testsite.Site
	if o.sliceHosts > 0 {
		// The site runs before the enqueueing so that the URLs can name
		// its port. Page p of a host is /p/<p>, one page per URL enqueued
		// for it.
		var err error
		site, err = testsite.Start(testsite.Options{Hosts: min(o.sliceHosts, o.frontierHosts),
			PagesPerHost: (o.frontierURLs + o.frontierHosts - 1) / o.frontierHosts, Fast: true,
			FirstAddr: sliceFirstAddr, NoByPath: true})
		if err != nil {
			return err
		}
		defer site.Close()
		args = append(args, "-port", strconv.Itoa(site.Port()))
		b.logf("  site: %d fast test site hosts from %s", len(site.Hosts()), site.Hosts()[0])
	}
	// The program bounds itself by -max-time; this is a backstop.
	fctx, cancel := context.WithTimeout(ctx, o.frontierTime+5*time.Minute)
	defer cancel()
	cmd := command(fctx, 30*time.Second, b.frontierBin, args...)
	cmd.Stderr = prefixWriter{b.log, "  frontier: "}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	b.logf("  $ %s %s", b.frontierBin, strings.Join(args, " "))
	m, err := startMeasured(cmd)
	if err != nil {
		return err
	}
	var points []frontierPoint
	var sum frontierPoint
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var p frontierPoint
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			b.logf("  frontier: %s", sc.Text())
			continue
		}
		if p.Summary {
			sum = p
			continue
		}
		b.logf("  frontier: %d queued: RSS %.0f MB (Go heap %.0f MB), %.0f µs per claim (median %.0f), %.0f µs per leased URL (%d leased by %d claims), %.0f URLs/s enqueued, db %.0f MB",
			p.Queued, kbToMB(p.RSSKB), kbToMB(p.GoHeapKB), p.ClaimUSPerOp, p.ClaimUSMedian, p.ClaimUSPerURL, p.Claimed, p.Claims, p.InsertPerSec, float64(p.DBBytes)/1e6)
		points = append(points, p)
	}
	u, err := m.wait()
	if err != nil {
		return fmt.Errorf("bench/frontier: %w", err)
	}
	if len(points) == 0 {
		return errors.New("bench/frontier printed no checkpoint")
	}
	c := b.cmdFor("frontier", "")
	for _, p := range points {
		b.add(row{fmt.Sprintf("frontier RSS at %s queued", count(p.Queued)), fmt.Sprintf("%.0f MB", kbToMB(p.RSSKB)), "", "", c})
	}
	for _, p := range points {
		b.add(row{fmt.Sprintf("frontier claim cost at %s queued", count(p.Queued)),
			fmt.Sprintf("median %.0f µs/claim, mean %.0f µs/claim = %.0f µs per leased URL (%.1f URLs per claim)", p.ClaimUSMedian,
				p.ClaimUSPerOp, p.ClaimUSPerURL, float64(p.Claimed)/float64(max(p.Claims, 1))), "", "", c})
	}
	first, last := points[0], points[len(points)-1]
	if len(points) > 1 {
		r := float64(last.RSSKB) / float64(first.RSSKB)
		b.add(row{fmt.Sprintf("frontier RSS %s / RSS %s", count(last.Queued), count(first.Queued)), fmt.Sprintf("%.2fx", r),
			"<= 1.5x", met(r <= 1.5), c})
		// Compare claims that leased full batches: with as many hosts as
		// URLs, a claim at the smallest size finds one URL per host.
		full := points[:0:0]
		for _, p := range points {
			if p.Claims > 0 && float64(p.Claimed)/float64(p.Claims) >= 0.9*8 {
				full = append(full, p)
			}
		}
		if len(full) > 1 {
			f, l := full[0], full[len(full)-1]
			r := l.ClaimUSMedian / f.ClaimUSMedian
			b.add(row{fmt.Sprintf("frontier median claim cost %s / %s (8 URLs per claim)", count(l.Queued), count(f.Queued)),
				fmt.Sprintf("%.2fx", r), "flat (<= 1.5x)", met(r <= 1.5), c})
		}
	}
	b.add(row{"frontier enqueue rate (store.Add, 5,000 per tx)", fmt.Sprintf("%.0f URLs/s (%s URLs in %.0f s)",
		float64(sum.Reached)/max(sum.Seconds, 0.001), count(sum.Reached), sum.Seconds), "", "", c})
	if sum.StoppedBy != "" {
		b.note("frontier: stopped at %s of %s URLs — %s. Raise -frontier-time to go further.", count(sum.Reached), count(sum.Target), sum.StoppedBy)
	}
	b.note("frontier: peak RSS of bench/frontier %.0f MB over %v. Claim cost is over %d claims of 8 on random hosts "+
		"(the median is compared, as other load on the machine moves the mean); RSS is VmRSS after the claims; "+
		"with as many hosts as URLs, a claim at %s finds one URL.", u.PeakMB(), u.Wall.Round(time.Second), first.Claims, count(first.Queued))
	if site == nil {
		b.add(row{"frontier: crawl a slice", "skipped (-slice-hosts 0)", "", "", c})
		return nil
	}
	if want := "http://" + site.Hosts()[0]; sum.FirstOrigin != want {
		return fmt.Errorf("bench/frontier named host 0 %s, the test site serves %s", sum.FirstOrigin, want)
	}
	return b.crawlSlice(ctx, site, filepath.Join(o.dir, "frontier.db"), sum.Reached)
}

// crawlSlice runs bin/crawler on the frontier's database, queued holds
// URLs over o.frontierHosts hosts of which site serves the first. It is
// seeded with the first served host's root, already queued, and stops at
// limits.max_pages, at most the pages the served hosts have, or after
// o.sliceFor. The other hosts refuse connections: the crawler activates
// some of them (it activates hosts in id order, the served ones first),
// claims their URLs and backs off from their robots.txt.
func (b *bench) crawlSlice(ctx context.Context, site *testsite.Site, db string, queued int) error {
	o := b.o
	served := len(site.Hosts())
	// URL i is page i div hosts of host i mod hosts.
	full, rem := queued/o.frontierHosts, queued%o.frontierHosts
	limit := min(o.slicePages, served*full+min(served, rem))
	pol := fmt.Sprintf("  rate: %d\n  max_in_flight: %d\n", sliceRate, sliceInFlight)
	seed := "http://" + site.Hosts()[0] + "/"
	yaml := strings.Replace(crawlConfig(db, []string{seed}, o.workers, pol, "zstd"),
		"limits:\n", fmt.Sprintf("limits:\n  max_pages: %d\n", limit), 1)
	cfg, err := b.writeConfig("slice.yaml", yaml)
	if err != nil {
		return err
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, o.sliceFor)
	u, summary, runErr := b.runCrawler(cctx, cfg, 30*time.Second)
	interrupted := cctx.Err() != nil
	cancel()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// A crawler that fails still leaves what it committed: report both.
	outcome, clean := strings.TrimSpace(strings.SplitN(summary, "\n", 2)[0]), true
	switch {
	case runErr != nil && !interrupted:
		outcome, clean = runErr.Error(), false
	case interrupted:
		outcome = fmt.Sprintf("interrupted after %v", o.sliceFor)
	}
	c, err := countPages(ctx, db, 0, 0)
	if err != nil {
		return err
	}
	t := time.Now()
	cl, err := countClaimed(ctx, db, start.UnixMilli())
	if err != nil {
		return err
	}
	requests := 0
	for _, st := range site.Stats() {
		requests += st.Requests
	}
	b.logf("  crawler: wall %v, CPU %v, peak RSS %.0f MB, %d pages (%d with status 200); %d URLs claimed, %d failed, %d hosts given up "+
		"(counted in %v); site: %d requests",
		u.Wall.Round(time.Millisecond), u.CPU.Round(time.Millisecond), u.PeakMB(), c.Pages, c.OK, cl.Claimed, cl.Failed, cl.GivenUp,
		time.Since(t).Round(time.Millisecond), requests)

	cmd := b.cmdFor("frontier", "")
	size := count(queued)
	value := fmt.Sprintf("%.0f MB", u.PeakMB())
	if best, ok := b.throughputPeakMB["zstd"]; ok {
		value += fmt.Sprintf(" (%.2fx the throughput crawl's %.0f MB)", u.PeakMB()/best, best)
	}
	b.add(row{"frontier slice: crawler peak RSS crawling from a " + size + "-URL frontier", value, "", "", cmd})
	rate := float64(c.OK) / u.Wall.Seconds()
	value = fmt.Sprintf("%.0f pages/s (%d pages with status 200, limits.max_pages %d, in %.1f s", rate, c.OK, limit, u.Wall.Seconds())
	if span := c.Last - c.First; span > 0 {
		value += fmt.Sprintf("; %.0f pages/s between the first and the last fetch", float64(c.Pages)/(float64(span)/1000))
	}
	value += ")"
	b.add(row{fmt.Sprintf("frontier slice: pages stored/s, %d served hosts x %d/s, max_in_flight %d", served, sliceRate, sliceInFlight),
		value, "", "", cmd})
	b.add(row{"frontier slice: URLs claimed by the crawler", fmt.Sprintf("%d (%d failed with %d hosts given up, %d back in the queue, %d still leased)",
		cl.Claimed, cl.Failed, cl.GivenUp, cl.Queued, cl.Leased), "", "", cmd})
	b.add(row{"frontier slice: how the crawler ended", outcome, "no crash", met(clean), cmd})
	note := fmt.Sprintf("frontier slice: bin/crawler on the %s-URL database with limits.max_pages %d and %d workers; the first %d hosts are served "+
		"by the fast test site (%d requests), the other %d refuse connections. URLs claimed counts frontier rows, however often each was claimed; "+
		"the crawler claims ahead for every host it activates (politeness.max_active_hosts), dead ones included, and returns what it did not fetch to the queue when it stops.",
		size, limit, o.workers, served, requests, o.frontierHosts-served)
	if best, ok := b.throughputPeakMB["zstd"]; ok {
		if u.PeakMB() <= 1.5*best {
			note += fmt.Sprintf(" Its peak RSS (%.0f MB) is close to the throughput crawl's (%.0f MB): the crawler's memory does not grow with the frontier.",
				u.PeakMB(), best)
		} else {
			note += fmt.Sprintf(" Its peak RSS (%.0f MB) is %.1fx the throughput crawl's (%.0f MB).", u.PeakMB(), u.PeakMB()/best, best)
		}
	}
	b.note("%s", note)
	return nil
}

// claimCounts are the frontier rows a crawl claimed.
type claimCounts struct {
	Claimed, Failed, Queued, Leased int // rows claimed since the crawl started: all, now failed, queued again, still leased
	GivenUp                         int // hosts given up
}

// countClaimed counts the frontier rows claimed since since (unix ms). It
// reads every row: claims and updated_at have no index.
func countClaimed(ctx context.Context, path string, since int64) (claimCounts, error) {
	db, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		return claimCounts{}, err
	}
	defer db.Close()
	var c claimCounts
	err = db.SQL().QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'failed'),
		count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'leased')
		FROM frontier WHERE claims > 0 AND updated_at >= ?`, since).
		Scan(&c.Claimed, &c.Failed, &c.Queued, &c.Leased)
	if err != nil {
		return c, fmt.Errorf("count claimed in %s: %w", path, err)
	}
	err = db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM hosts WHERE state = 'given_up'`).Scan(&c.GivenUp)
	if err != nil {
		return c, fmt.Errorf("count hosts given up in %s: %w", path, err)
	}
	return c, nil
}

func kbToMB(kb int) float64 { return float64(kb) * 1024 / 1e6 }

// count renders 100000 as 100k and 10000000 as 10M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

// politeness crawls many rate-limited hosts for a bounded time.
func (b *bench) politeness(ctx context.Context) error {
	o := b.o
	limit := float64(o.politeBurst) + o.politeRate
	siteArgs := []string{"-hosts", strconv.Itoa(o.politeHosts), "-pages", strconv.Itoa(o.politePages),
		"-rate-limit", strconv.FormatFloat(o.siteRate, 'g', -1, 64), "-window", "1s",
		"-window-limit", strconv.Itoa(int(limit)), "-no-by-path"}
	site, err := startSite(ctx, b.siteBin, siteArgs...)
	if err != nil {
		return err
	}
	b.logf("  site: %s %s", b.siteBin, strings.Join(siteArgs, " "))
	db := filepath.Join(o.dir, "politeness.db")
	pol := fmt.Sprintf("  rate: %g\n  burst: %d\n  max_in_flight: 1\n", o.politeRate, o.politeBurst)
	cfg, err := b.writeConfig("politeness.yaml", crawlConfig(db, site.ready.Seeds, o.politeWork, pol, "zstd"))
	if err != nil {
		site.stop()
		return err
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, o.politeFor)
	u, summary, runErr := b.runCrawler(cctx, cfg, 30*time.Second)
	interrupted := cctx.Err() != nil
	cancel()
	stopAt := start.Add(o.politeFor)
	rep, siteErr := site.stop()
	if runErr != nil && !interrupted {
		return fmt.Errorf("crawler: %w (%s)", runErr, summary)
	}
	if siteErr != nil {
		return siteErr
	}
	c, err := countPages(ctx, db, start.UnixMilli(), stopAt.UnixMilli())
	if err != nil {
		return err
	}
	window := min(o.politeFor, u.Wall).Seconds()
	rate := float64(c.InWindow) / window
	allowed := float64(o.politeHosts) * o.politeRate
	eff := rate / allowed
	b.logf("  crawler: %d pages in %.1f s (%d stored in all), CPU %v, peak RSS %.0f MB; site: %d requests, %d throttled (429), max %d per host in 1 s, max in flight %d",
		c.InWindow, window, c.Pages, u.CPU.Round(time.Millisecond), u.PeakMB(), rep.Requests, rep.Throttled, rep.MaxWindow, rep.MaxInFlight)
	cmd := b.cmdFor("politeness", "")
	what := fmt.Sprintf("%d hosts x %g/s, burst %d", o.politeHosts, o.politeRate, o.politeBurst)
	// The server's count includes robots.txt and sitemap probes, which
	// spend the same per-host allowance; its clock starts before the crawler's.
	served := float64(rep.Requests-rep.Throttled) / max(rep.Seconds, 0.001)
	b.add(row{"politeness: achieved pages/s, " + what, fmt.Sprintf("%.0f pages/s of %.0f allowed (server: %.0f requests/s, robots.txt included)",
		rate, allowed, served), "", "", cmd})
	b.add(row{"politeness efficiency (pages/s / sum of allowed rates)", fmt.Sprintf("%.2f", eff), ">= 0.9", met(eff >= 0.9), cmd})
	b.add(row{fmt.Sprintf("politeness: 429 answers (site limit %g/s per host)", o.siteRate), strconv.Itoa(rep.Throttled), "0", met(rep.Throttled == 0), cmd})
	b.add(row{"politeness: most requests to one host in any 1 s", strconv.Itoa(rep.MaxWindow), fmt.Sprintf("<= burst + rate = %g", limit),
		met(float64(rep.MaxWindow) <= limit), cmd})
	b.add(row{"politeness: hosts over burst + rate in some 1 s window", strconv.Itoa(rep.OverWindow), "0", met(rep.OverWindow == 0), cmd})
	b.add(row{"politeness: most concurrent requests to one host", strconv.Itoa(rep.MaxInFlight), "<= max_in_flight = 1", met(rep.MaxInFlight <= 1), cmd})
	if best := b.bestRate(); c.InWindow > 0 && best > 0 && best < allowed {
		b.note("politeness: the sum of the allowed rates (%.0f/s) is above the crawler's unthrottled throughput (%.0f pages/s), "+
			"so this efficiency measures throughput as much as scheduling.", allowed, best)
	}
	return nil
}
