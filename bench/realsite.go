package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// realSiteRun is one crawl of the real site, as the process and the server
// saw it.
type realSiteRun struct {
	u      usage
	access accessCounts
	stored int // crawler: pages stored with status 200; colly: distinct URLs answered
}

// spanRate is the pages answered 200 per second between the first and the
// last request.
func (r realSiteRun) spanRate() float64 {
	return float64(r.access.Pages) / max(r.access.Span().Seconds(), 0.001)
}

// exitTail is the time from the last request the server logged to the
// crawler's exit.
func (r realSiteRun) exitTail() time.Duration { return r.u.End.Sub(r.access.Last) }

// realSiteFilter is the URL pattern both crawlers follow on the real site;
// both also keep to the seed's host, obey robots.txt and wait for nothing.
const realSiteFilter = `\.html$`

// realsite serves a Debian documentation package with nginx and crawls it
// with the crawler and with plain colly, alternately, o.realSiteRuns times
// each, under the same rules; it reports the medians.
func (b *bench) realsite(ctx context.Context) error {
	o := b.o
	cmd := b.cmdFor("realsite", "")
	what := fmt.Sprintf("real site (%s on nginx with gzip, %d concurrent requests)", realSitePackage, o.realSiteConc)
	nginxBin, root, err := ensureRealSite(ctx, b.log)
	if err != nil {
		b.add(row{what, "not run: " + err.Error(), "", "", cmd})
		b.logf("  not run: %v", err)
		return nil
	}
	pages := warmDocs(root)
	srv, err := startNginx(ctx, nginxBin, filepath.Join(o.dir, "nginx"), root)
	if err != nil {
		b.add(row{what, "not run: " + err.Error(), "", "", cmd})
		return err
	}
	defer srv.stop()
	seed := "http://" + srv.addr + "/index.html"
	b.logf("  site: %s serving %s (%d HTML files) on %s", nginxBin, root, pages, srv.addr)

	var crawler, colly []realSiteRun
	for i := 0; i < o.realSiteRuns && ctx.Err() == nil; i++ {
		r, err := b.realSiteCrawler(ctx, srv, seed)
		if err != nil {
			return err
		}
		crawler = append(crawler, r)
		r, err = b.realSiteColly(ctx, srv, seed)
		if err != nil {
			return err
		}
		colly = append(colly, r)
	}
	if len(crawler) == 0 {
		return ctx.Err()
	}
	cr, co := medians(crawler), medians(colly)
	runs := fmt.Sprintf("median of %d runs", len(crawler))
	b.add(row{what + ": crawler, " + runs, fmt.Sprintf("%.0f pages/s over the crawl span; wall %.2f s, CPU %.2f s",
		cr.rate, cr.wall, cr.cpu), "", "", cmd})
	b.add(row{"real site: crawler peak RSS", fmt.Sprintf("%.0f MB", cr.rss), "<= 100 MB", met(cr.rss <= 100), cmd})
	b.add(row{"real site: crawler last request → exit", fmt.Sprintf("%.3f s", cr.tail), "<= 0.1 s", met(cr.tail <= 0.1), cmd})
	last := crawler[len(crawler)-1]
	b.add(row{"real site: crawler pages stored / answered 200, duplicate requests (server-side)",
		fmt.Sprintf("%d / %d, %d duplicate requests", last.stored, last.access.Pages, last.access.Duplicates), "equal, 0",
		met(last.stored == last.access.Pages && last.access.Duplicates == 0), cmd})
	b.add(row{"real site: plain colly, same rules, " + runs, fmt.Sprintf("%.0f pages/s over the crawl span; wall %.2f s, CPU %.2f s",
		co.rate, co.wall, co.cpu), "", "", cmd})
	b.add(row{"real site: plain colly peak RSS", fmt.Sprintf("%.0f MB", co.rss), "", "", cmd})
	b.add(row{"real site: plain colly last request → exit", fmt.Sprintf("%.3f s", co.tail), "", "", cmd})
	lc := colly[len(colly)-1]
	b.add(row{"real site: plain colly pages answered 200, duplicate requests (server-side)",
		fmt.Sprintf("%d, %d duplicate requests", lc.access.Pages, lc.access.Duplicates), "", "", cmd})
	rate, cpu := cr.rate/co.rate, cr.cpu/co.cpu
	b.add(row{"real site ratio crawler / plain colly: pages/s over the crawl span", fmt.Sprintf("%.2fx (wall pages/s %.2fx)",
		rate, cr.wallRate/co.wallRate), ">= 2x", met(rate >= 2), cmd})
	b.add(row{"real site ratio crawler / plain colly: CPU seconds", fmt.Sprintf("%.2fx", cpu), "<= 0.5x", met(cpu <= 0.5), cmd})

	b.table(fmt.Sprintf("Real site: %s (%d HTML files) served by nginx with gzip on %s; %s; same rules for both: "+
		"one host, links ending in .html, robots.txt obeyed, %d concurrent requests, no delay.", root, pages, realSiteAddr, runs, o.realSiteConc),
		[]string{"crawler", "wall s", "CPU s", "peak RSS", "pages/s over the crawl span", "wall pages/s", "last request → exit"},
		[][]string{cr.cells("this crawler"), co.cells("plain colly (as its docs teach)")})
	b.note("real site: the crawl span runs from the first request to the last in nginx's access log; the exit tail from the last "+
		"request to the process's exit, which includes processing and storing the last pages. The crawler stores bodies (zstd), "+
		"links and page data in SQLite; plain colly stores nothing. Config:\n\n```yaml\n%s```", realSiteConfig("realsite.db", seed, o.realSiteConc))
	return nil
}

// warmDocs reads every file under root once, so that the first crawl does
// not pay for the disk, and returns how many HTML files there are.
func warmDocs(root string) int {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r // python3-doc's html is a link to the versioned package's
	}
	n := 0
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if strings.HasSuffix(path, ".html") {
			n++
		}
		os.ReadFile(path)
		return nil
	})
	return n
}

// realSiteConfig is the crawler's configuration for the real site.
func realSiteConfig(db, seed string, conc int) string {
	pol := fmt.Sprintf("  rate: 0\n  max_in_flight: %d\n  latency_factor: 0\n", conc)
	return crawlConfig(db, []string{seed}, conc, pol, "zstd") +
		"sitemap_discovery: false\nscope:\n  include: [" + strconv.Quote(realSiteFilter) + "]\n"
}

// realSiteCrawler runs bin/crawler once on the real site, on a new database.
func (b *bench) realSiteCrawler(ctx context.Context, srv *nginxServer, seed string) (realSiteRun, error) {
	db := filepath.Join(b.o.dir, "realsite.db")
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(db + suffix)
	}
	cfg, err := b.writeConfig("realsite.yaml", realSiteConfig(db, seed, b.o.realSiteConc))
	if err != nil {
		return realSiteRun{}, err
	}
	from := fileSize(srv.accessLog)
	cctx, cancel := context.WithTimeout(ctx, b.o.crawlTimeout)
	u, summary, err := b.runCrawler(cctx, cfg, 30*time.Second)
	cancel()
	if err != nil {
		return realSiteRun{}, fmt.Errorf("crawler: %w (%s)", err, summary)
	}
	r := realSiteRun{u: u}
	if r.access, err = readAccessLog(srv.accessLog, from); err != nil {
		return r, err
	}
	c, err := countPages(ctx, db, 0, 0)
	if err != nil {
		return r, err
	}
	r.stored = c.OK
	b.logRealSite("crawler", r)
	return r, nil
}

// realSiteColly runs bench/plaincolly once on the real site.
func (b *bench) realSiteColly(ctx context.Context, srv *nginxServer, seed string) (realSiteRun, error) {
	args := []string{"-parallelism", strconv.Itoa(b.o.realSiteConc), "-timeout", b.o.crawlTimeout.String(),
		"-url-filter", realSiteFilter, "-robots", seed}
	cmd := command(ctx, 30*time.Second, b.collyBin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = prefixWriter{b.log, "  plaincolly: "}
	b.logf("  $ %s %s", b.collyBin, strings.Join(args, " "))
	from := fileSize(srv.accessLog)
	m, err := startMeasured(cmd)
	if err != nil {
		return realSiteRun{}, err
	}
	u, err := m.wait()
	if err != nil {
		return realSiteRun{}, fmt.Errorf("plaincolly: %w", err)
	}
	var res struct {
		URLs     int  `json:"urls"`
		TimedOut bool `json:"timed_out"`
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return realSiteRun{}, fmt.Errorf("plaincolly output %q: %w", out.String(), err)
	}
	if res.TimedOut {
		return realSiteRun{}, fmt.Errorf("plaincolly timed out after %v", b.o.crawlTimeout)
	}
	r := realSiteRun{u: u, stored: res.URLs}
	if r.access, err = readAccessLog(srv.accessLog, from); err != nil {
		return r, err
	}
	b.logRealSite("plaincolly", r)
	return r, nil
}

func (b *bench) logRealSite(who string, r realSiteRun) {
	b.logf("  %s: wall %v, CPU %v, peak RSS %.0f MB; server: %d requests (%d robots.txt), %d pages answered 200, %d duplicates, "+
		"%.1f MB sent, crawl span %v (%.0f pages/s), last request → exit %v",
		who, r.u.Wall.Round(time.Millisecond), r.u.CPU.Round(time.Millisecond), r.u.PeakMB(), r.access.Requests, r.access.Robots,
		r.access.Pages, r.access.Duplicates, float64(r.access.Bytes)/1e6, r.access.Span().Round(time.Millisecond), r.spanRate(),
		r.exitTail().Round(time.Millisecond))
}

// realSiteMedians are the medians of a crawler's runs, in seconds, MB and pages/s.
type realSiteMedians struct {
	wall, cpu, rss, rate, wallRate, tail float64
}

func medians(runs []realSiteRun) realSiteMedians {
	pick := func(f func(r realSiteRun) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return median(v)
	}
	return realSiteMedians{
		wall:     pick(func(r realSiteRun) float64 { return r.u.Wall.Seconds() }),
		cpu:      pick(func(r realSiteRun) float64 { return r.u.CPU.Seconds() }),
		rss:      pick(func(r realSiteRun) float64 { return r.u.PeakMB() }),
		rate:     pick(realSiteRun.spanRate),
		wallRate: pick(func(r realSiteRun) float64 { return float64(r.access.Pages) / r.u.Wall.Seconds() }),
		tail:     pick(func(r realSiteRun) float64 { return r.exitTail().Seconds() }),
	}
}

func (m realSiteMedians) cells(name string) []string {
	return []string{name, fmt.Sprintf("%.2f", m.wall), fmt.Sprintf("%.2f", m.cpu), fmt.Sprintf("%.0f MB", m.rss),
		fmt.Sprintf("%.0f", m.rate), fmt.Sprintf("%.0f", m.wallRate), fmt.Sprintf("%.2f s", m.tail)}
}

// median returns the middle value (the mean of the two middle ones for an
// even count), 0 for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
