package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/store/sqlite/sqlitetest"
	"github.com/crawler-dev/crawler/testsite"
)

// signalWriter keeps what is written to it and closes seen the first
// time the text written so far contains want.
type signalWriter struct {
	want string
	seen chan struct{}
	mu   sync.Mutex // guards b and once
	b    strings.Builder
	once bool
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if !w.once && strings.Contains(w.b.String(), w.want) {
		w.once = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// writeConfig writes a config file in a new directory and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunContinuous: "crawler run --continuous" crawls, then sleeps until
// the next URL is due, and stops on Ctrl-C (a cancelled context) with the
// command to resume. Without recrawl.enabled it refuses to start.
func TestRunContinuous(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 20, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	base := fmt.Sprintf(`database: crawl.db
seeds: [%s]
politeness: {rate: 0, max_in_flight: 4}
fetch: {allow_addresses: [127.0.0.0/8], retry_base: 10ms, max_retries: 1}
`, site.Seeds()[0])
	off := writeConfig(t, base)
	if _, _, err := obsRun("run", "-c", off, "--continuous"); err == nil || !strings.Contains(err.Error(), "recrawl.enabled: false") {
		t.Errorf("run --continuous without recrawl = %v, want an error naming recrawl.enabled", err)
	}
	if _, _, err := obsRun("run", "-c", writeConfig(t, base+"recrawl: {continuous: true}\n")); err == nil ||
		!strings.Contains(err.Error(), "recrawl.continuous: needs recrawl.enabled: true") {
		t.Errorf("recrawl.continuous without recrawl.enabled = %v, want a config error", err)
	}

	on := writeConfig(t, base+"recrawl: {enabled: true}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout obsBuffer
	stderr := &signalWriter{want: "sleeping until the next URL is due", seen: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"run", "-c", on, "--continuous"}, &stdout, stderr) }()
	select {
	case <-stderr.seen:
	case err := <-done:
		t.Fatalf("run --continuous ended before sleeping: %v\n%s\n%s", err, stdout.String(), stderr.String())
	case <-time.After(time.Minute):
		t.Fatalf("run --continuous did not sleep within a minute:\n%s", stderr.String())
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, crawl.ErrInterrupted) {
			t.Errorf("run --continuous stopped: %v, want interrupted", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("run --continuous did not stop within a minute of Ctrl-C")
	}
	if out := stdout.String(); !strings.Contains(out, "crawler run -c "+on+" --continuous") {
		t.Errorf("report without the command to resume:\n%s", out)
	}
}

func TestProgressRevisits(t *testing.T) {
	wake := time.Date(2026, 3, 1, 14, 5, 0, 0, time.Local)
	p := runner.Progress{Stats: crawl.Stats{Pages: 2, Revisits: 1200, Unchanged: 1100, NotModified: 1000, Sleeping: true,
		WakeAt: wake, Hosts: crawl.HostsSnapshot{Active: 2}}}
	want := []string{"2 pages  0.0/s (avg 0.0)  0 in flight  0 kB  0:00",
		"hosts 2 active  revisits 1,200 (1,100 unchanged, 1,000 answered 304)  sleeping until 2026-03-01 14:05:00, when the next URL is due"}
	if diff := cmp.Diff(want, progressLines(p)); diff != "" {
		t.Errorf("progressLines (-want +got):\n%s", diff)
	}
	p.Stats.WakeAt = time.Time{}
	if got := progressLines(p)[1]; !strings.HasSuffix(got, "sleeping: no URL is scheduled") {
		t.Errorf("sleeping with nothing scheduled: %q", got)
	}
}

// priceHistory is the query of the README's "track prices daily", and
// pgPriceHistory its PostgreSQL spelling.
const (
	priceHistory = `SELECT v.url, datetime(v.fetched_at / 1000, 'unixepoch') AS fetched, v.status,
       json_extract(i.data, '$.price') AS price
FROM versions v LEFT JOIN version_items i ON i.version_id = v.id AND i.rule = 'product'
WHERE v.url LIKE '%/product/%'
ORDER BY v.url, v.id;`
	pgPriceHistory = `SELECT v.url, to_timestamp(v.fetched_at / 1000) AS fetched, v.status,
       (i.data ->> 'price')::float8 AS price
FROM versions v LEFT JOIN version_items i ON i.version_id = v.id AND i.rule = 'product'
WHERE v.url LIKE '%/product/%'
ORDER BY v.url, v.id;`
)

// TestTrackPricesDaily follows the README's "track prices daily" as a new
// user would, on the changing test site: crawl, a day later crawl again,
// list the changes of the product items, export them, and query the price
// history. The prices, the removed and the new products are the site's.
func TestTrackPricesDaily(t *testing.T) {
	trackPrices(t, "database: shop.db\n", func(t *testing.T, dir string, d time.Duration) {
		sqlitetest.PassTime(t, filepath.Join(dir, "shop.db"), d)
	}, priceHistory)
}

// TestTrackPricesDailyPostgres is TestTrackPricesDaily on PostgreSQL.
func TestTrackPricesDailyPostgres(t *testing.T) {
	url, name := pgtest.URL(t), pgtest.Name(t)
	trackPrices(t, "database: "+url+"\nname: "+name+"\n", func(t *testing.T, _ string, d time.Duration) {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		for _, table := range []string{"frontier", "hosts"} {
			col := map[string]string{"frontier": "next_fetch_at", "hosts": "next_revisit_at"}[table]
			if _, err := c.Exec(ctx, `UPDATE `+pgx.Identifier{name, table}.Sanitize()+` SET `+col+` = `+col+` - $1
				WHERE `+col+` IS NOT NULL`, d.Milliseconds()); err != nil {
				t.Fatal(err)
			}
		}
	}, pgPriceHistory)
}

// trackPrices runs "track prices daily" on the database that database (a
// config line) names; passTime moves its schedules back as if d passed,
// history is the price history query.
func trackPrices(t *testing.T, database string, passTime func(t *testing.T, dir string, d time.Duration), history string) {
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 60, Seed: 8,
		Changes: testsite.ChangeRates{Price: 0.2, Text: 0.1, Remove: 0.05, New: 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	path := writeConfig(t, database+fmt.Sprintf(`seeds: [%s]
politeness: {rate: 0, max_in_flight: 4}
fetch: {allow_addresses: [127.0.0.0/8], retry_base: 10ms, max_retries: 1}
recrawl:
  enabled: true
  interval: 24h
  patterns:
    - {match: "*/category/*", interval: 1h, min_interval: 15m, max_interval: 6h}
extract:
  - name: product
    match: "*/product/*"
    fields:
      - {name: name, selector: h1.product-name, required: true}
      - {name: price, selector: p.price, type: price}
`, site.Seeds()[0]))
	if _, stderr, err := obsRun("run", "-c", path, "--quiet"); err != nil {
		t.Fatalf("first crawl: %v\n%s", err, stderr)
	}
	if _, err := site.Advance(); err != nil {
		t.Fatal(err)
	}
	passTime(t, filepath.Dir(path), 25*time.Hour)
	dayLater := time.Now()
	stdout, stderr, err := obsRun("run", "-c", path)
	if err != nil {
		t.Fatalf("crawl a day later: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "revisits") {
		t.Errorf("report of the revisiting run says nothing of revisits:\n%s", stdout)
	}
	since := dayLater.Format(time.RFC3339Nano)
	stdout, _, err = obsRun("changes", "-c", path, "--since", since, "--rule", "product")
	if err != nil {
		t.Fatal(err)
	}
	changed, err := site.Changed(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, err := site.Truth(0)
	if err != nil {
		t.Fatal(err)
	}
	after, err := site.Truth(1)
	if err != nil {
		t.Fatal(err)
	}
	price := func(p *testsite.ProductTruth) string { return strconv.FormatFloat(float64(p.Cents)/100, 'f', -1, 64) }
	want := map[string]string{} // product URL -> what the listing says
	for u, k := range changed {
		if !strings.Contains(u, "/product/") {
			continue
		}
		switch {
		case k&testsite.ChangeRemoved != 0:
			want[u] = fmt.Sprintf("disappeared  %s  (HTTP %d)", u, after[u].Status)
		case k&testsite.ChangeNew != 0:
			want[u] = fmt.Sprintf("appeared     %s\n    product[0].name: (none) -> %q\n    product[0].price: (none) -> %s",
				u, after[u].Product.Name, price(after[u].Product))
		case k&testsite.ChangePrice != 0:
			want[u] = fmt.Sprintf("changed      %s\n    product[0].price: %s -> %s", u, price(before[u].Product), price(after[u].Product))
		}
	}
	if len(want) == 0 {
		t.Fatal("no product changed")
	}
	// status counts the URLs scheduled, none due right after the run;
	// explain shows a changed product's revisit history.
	stdout2, _, err := obsRun("status", "-c", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout2, "revisits: 0 due now, ") || !strings.Contains(stdout2, " not yet due, next due ") {
		t.Errorf("status says nothing of revisits due:\n%s", stdout2)
	}
	for u, k := range changed {
		if !strings.Contains(u, "/product/") || k&testsite.ChangePrice == 0 || k&(testsite.ChangeRemoved|testsite.ChangeNew) != 0 {
			continue
		}
		out, _, err := obsRun("explain", "-c", path, u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "revisit      next due ") || !strings.Contains(out, "1 fetch after the first: 0 unchanged (0 answered 304), 1 changed; 2 versions") ||
			strings.Count(out, "version ") != 2 {
			t.Errorf("explain %s:\n%s", u, out)
		}
		break
	}
	for u, w := range want {
		if !strings.Contains(stdout, w+"\n") {
			t.Errorf("changes of %s: want %q in:\n%s", u, w, stdout)
		}
	}
	if got := strings.Count(stdout, "/product/"); got != len(want) {
		t.Errorf("%d product changes listed, want %d:\n%s", got, len(want), stdout)
	}
	out := filepath.Join(t.TempDir(), "changes.jsonl")
	if _, _, err := obsRun("export", "-c", path, "--changes", "--rule", "product", "--since", since, "-o", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != len(want) {
		t.Errorf("export --changes wrote %d rows, want %d", n, len(want))
	}

	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), history) {
		t.Fatalf("README.md does not hold the price history query:\n%s", history)
	}
	stdout, _, err = obsRun("query", "-c", path, "--json", history)
	if err != nil {
		t.Fatal(err)
	}
	prices := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var row struct {
			URL    string   `json:"url"`
			Status int      `json:"status"`
			Price  *float64 `json:"price"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("query row %q: %v", line, err)
		}
		v := fmt.Sprint(row.Status)
		if row.Price != nil {
			v += " " + strconv.FormatFloat(*row.Price, 'f', -1, 64)
		}
		prices[row.URL] = append(prices[row.URL], v)
	}
	for u, tr := range after {
		if !strings.Contains(u, "/product/") || strings.Contains(u, "/files/") {
			continue
		}
		var w []string
		if b := before[u]; b.Status == 200 && b.Product != nil {
			w = append(w, "200 "+price(b.Product))
		}
		if k, ok := changed[u]; ok {
			switch {
			case k&testsite.ChangeRemoved != 0:
				w = append(w, fmt.Sprint(tr.Status))
			case tr.Product != nil:
				w = append(w, "200 "+price(tr.Product))
			}
		}
		if fmt.Sprint(prices[u]) != fmt.Sprint(w) {
			t.Errorf("price history of %s: %v, want %v", u, prices[u], w)
		}
	}
}
