package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// xtRules are the catalog rules of docs/extraction.md plus a "label" field
// whose selector the tests change.
const xtRules = `extract:
  - name: product
    match: "*/product/*"
    fields:
      - {name: name, selector: h1.product-name, required: true}
      - {name: price, selector: .price, type: price, required: true}
      - {name: sku, selector: .sku, regex: 'SKU:\s*(\S+)'}
      - {name: in_stock, selector: .availability, type: bool}
      - {name: label, selector: %q}
`

// xtConfig writes dir/config.yaml for a fast crawl of site's seeds into
// dir/crawl.db, with the label field reading labelSelector.
func xtConfig(t *testing.T, dir string, site *testsite.Site, labelSelector string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("database: crawl.db\nseeds:\n")
	for _, s := range site.Seeds() {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	b.WriteString(`workers: 4
politeness: {rate: 0, max_in_flight: 4, latency_factor: 0, backoff_base: 50ms}
fetch: {retry_base: 50ms, allow_addresses: [127.0.0.0/8]}
`)
	fmt.Fprintf(&b, xtRules, labelSelector)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// xtCrawl starts a one-host test site and crawls it with the rules.
func xtCrawl(t *testing.T, labelSelector string) (*testsite.Site, string) {
	t.Helper()
	site, err := testsite.Start(testsite.Options{Hosts: 1, PagesPerHost: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { site.Close() })
	cfg := xtConfig(t, t.TempDir(), site, labelSelector)
	xtRun(t, "run", "-c", cfg, "--quiet")
	return site, cfg
}

// xtRun runs the CLI and fails the test on an error.
func xtRun(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	out, errOut, err := xtTry(args...)
	if err != nil {
		t.Fatalf("crawler %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out, errOut
}

func xtTry(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func xtRequests(site *testsite.Site) int {
	n := 0
	for _, h := range site.Stats() {
		n += h.Requests
	}
	return n
}

// xtItems returns url -> data of the product items.
func xtItems(t *testing.T, cfgPath string) map[string]map[string]any {
	t.Helper()
	db, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(filepath.Dir(cfgPath), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.SQL().Query(`SELECT url, data FROM items WHERE rule = 'product'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]map[string]any{}
	for rows.Next() {
		var u, data string
		if err := rows.Scan(&u, &data); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(data), &m); err != nil {
			t.Fatal(err)
		}
		got[u] = m
	}
	return got
}

// TestReextract crawls the test site, re-runs the unchanged rules (the
// items must equal the crawl's), changes a selector and re-runs them
// again: the items follow the new selector and the site sees no request.
func TestReextract(t *testing.T) {
	site, cfg := xtCrawl(t, "h1.product-name")
	crawled := xtItems(t, cfg)
	if len(crawled) < 20 {
		t.Fatalf("crawl stored %d product items, want the site's 26", len(crawled))
	}
	for u, d := range crawled {
		if d["label"] != d["name"] || d["name"] == "" || d["price"] == nil || d["sku"] == nil {
			t.Fatalf("crawled item of %s = %v, want name, price, sku and label = name", u, d)
		}
	}
	requests := xtRequests(site)

	out, _ := xtRun(t, "reextract", "-c", cfg)
	if !strings.Contains(out, fmt.Sprintf("product                  %d items", len(crawled))) {
		t.Errorf("reextract report lacks the product count %d:\n%s", len(crawled), out)
	}
	if again := xtItems(t, cfg); fmt.Sprint(again) != fmt.Sprint(crawled) {
		t.Errorf("reextract with unchanged rules changed the items:\n got %v\nwant %v", again, crawled)
	}

	xtConfig(t, filepath.Dir(cfg), site, ".sku")
	xtRun(t, "reextract", "-c", cfg, "--quiet")
	changed := xtItems(t, cfg)
	if len(changed) != len(crawled) {
		t.Errorf("after reextract: %d product items, want %d", len(changed), len(crawled))
	}
	for u, d := range changed {
		label, _ := d["label"].(string)
		if !strings.HasPrefix(label, "SKU: ") || label != "SKU: "+fmt.Sprint(d["sku"]) || d["name"] != crawled[u]["name"] {
			t.Errorf("item of %s after changing label to .sku: %v", u, d)
		}
	}
	if got := xtRequests(site); got != requests {
		t.Errorf("reextract made %d requests to the site, want none", got-requests)
	}
}

func TestReextractWhileLocked(t *testing.T) {
	_, cfg := xtCrawl(t, "h1.product-name")
	db, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(cfg), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, _, err = xtTry("reextract", "-c", cfg)
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), "running crawl") {
		t.Errorf("reextract while the database is held: error = %v, want ErrLocked naming a running crawl", err)
	}
}

func TestReextractOneRule(t *testing.T) {
	_, cfg := xtCrawl(t, "h1.product-name")
	db, err := sqlite.Open(context.Background(), filepath.Join(filepath.Dir(cfg), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var u string
	db.SQL().QueryRow(`SELECT page_id, url FROM items LIMIT 1`).Scan(&id, &u)
	err = db.ReplacePageItems(context.Background(), []string{"other"}, []store.PageItems{{PageID: id, URL: u,
		Items: []store.Item{{Rule: "other", Data: map[string]any{"kept": true}}}}})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	xtRun(t, "reextract", "-c", cfg, "--rule", "product")
	var n int
	db2, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(filepath.Dir(cfg), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	db2.SQL().QueryRow(`SELECT count(*) FROM items WHERE rule = 'other'`).Scan(&n)
	if n != 1 {
		t.Errorf("reextract --rule product left %d items of rule other, want 1", n)
	}
	if _, _, err := xtTry("reextract", "-c", cfg, "--rule", "nope"); err == nil || !strings.Contains(err.Error(), `no rule set "nope"`) {
		t.Errorf("reextract --rule nope: error = %v", err)
	}
}

// xtExtract runs "crawler extract" and decodes its JSON.
func xtExtract(t *testing.T, args ...string) (extractResult, string) {
	t.Helper()
	out, errOut := xtRun(t, append([]string{"extract"}, args...)...)
	var res extractResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("extract printed no JSON: %v\n%s", err, out)
	}
	return res, errOut
}

func TestExtractCommand(t *testing.T) {
	site, cfg := xtCrawl(t, "h1.product-name")
	host := "http://" + site.Hosts()[0]
	product := host + "/product/7"
	crawled := xtItems(t, cfg)[product]

	t.Run("stored page", func(t *testing.T) {
		before := xtRequests(site)
		res, _ := xtExtract(t, "-c", cfg, product+"?utm_source=x")
		if res.Source != "database" || res.URL != product || len(res.Items) != 1 {
			t.Fatalf("extract %s = %+v, want one item from the database", product, res)
		}
		if got := res.Items[0]; got.Rule != "product" || fmt.Sprint(got.Data) != fmt.Sprint(crawled) || len(got.Errors) != 0 {
			t.Errorf("item = %+v, want the crawl's %v", got, crawled)
		}
		if n := xtRequests(site) - before; n != 0 {
			t.Errorf("extract of a stored page made %d requests", n)
		}
	})
	t.Run("fetched", func(t *testing.T) {
		before := site.Stats()[site.Hosts()[0]].ByPath
		res, _ := xtExtract(t, "-c", cfg, "--fetch", product)
		if res.Source != "fetched" || res.Status != 200 || len(res.Items) != 1 || fmt.Sprint(res.Items[0].Data) != fmt.Sprint(crawled) {
			t.Fatalf("extract --fetch %s = %+v, want the crawl's item %v", product, res, crawled)
		}
		after := site.Stats()[site.Hosts()[0]].ByPath
		for _, p := range []string{"/robots.txt", "/product/7"} {
			if after[p] != before[p]+1 {
				t.Errorf("requests of %s: %d then %d, want one more", p, before[p], after[p])
			}
		}
	})
	t.Run("redirect", func(t *testing.T) {
		res, errOut := xtExtract(t, "-c", cfg, "--fetch", host+"/old/1")
		if res.URL != host+"/article/1" || len(res.Items) != 0 || !strings.Contains(errOut, "no rule set matches") {
			t.Errorf("extract of a redirect = %+v, %s; want /article/1, no items and a note", res, errOut)
		}
	})
	t.Run("robots", func(t *testing.T) {
		_, _, err := xtTry("extract", "-c", cfg, host+"/private/1")
		if err == nil || !strings.Contains(err.Error(), `"Disallow: /private/"`) {
			t.Errorf("extract of a disallowed URL: error = %v, want the robots.txt rule", err)
		}
	})
	t.Run("404", func(t *testing.T) {
		_, _, err := xtTry("extract", "-c", cfg, host+"/missing/1")
		if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
			t.Errorf("extract of a missing page: error = %v, want HTTP 404", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "p.html")
		page := `<html><head><meta charset="windows-1252"></head><body><h1 class="product-name">Caf` + "\xe9" +
			`</h1><p class="price">1.299,99 EUR</p><span class="sku">SKU: ZZ-999</span><p class="availability">Out of stock</p></body></html>`
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		res, _ := xtExtract(t, "-c", cfg, file, "--url", "https://shop.example/product/1")
		want := `map[in_stock:false label:Café name:Café price:1299.99 sku:ZZ-999]`
		if res.Source != "file" || len(res.Items) != 1 || fmt.Sprint(res.Items[0].Data) != want {
			t.Errorf("extract of a file = %+v, want one item %s", res, want)
		}
		res, errOut := xtExtract(t, "-c", cfg, file)
		if len(res.Items) != 0 || !strings.Contains(errOut, "no rule set matches file://") {
			t.Errorf("extract of a file without --url = %+v, %s; want no items and a note", res, errOut)
		}
		res, _ = xtExtract(t, "-c", cfg, file, "--rule", "product")
		if len(res.Items) != 1 || res.Items[0].Data["sku"] != "ZZ-999" {
			t.Errorf("extract --rule product of a file = %+v, want the item", res)
		}
	})
}

func TestExportCommand(t *testing.T) {
	_, cfg := xtCrawl(t, "h1.product-name")
	items := xtItems(t, cfg)
	dir := filepath.Dir(cfg)

	// A running crawl holds the database; export reads beside it.
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	out := filepath.Join(dir, "products.csv")
	xtRun(t, "export", "-c", cfg, "--rule", "product", "-o", out)
	f, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(f)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := "id,page_id,url,rule,index,extracted_at,name,price,sku,in_stock,label,errors"
	if len(recs) == 0 || strings.Join(recs[0], ",") != wantHeader {
		t.Fatalf("CSV header = %v, want %s", recs[:1], wantHeader)
	}
	if len(recs)-1 != len(items) {
		t.Errorf("CSV has %d rows, want %d", len(recs)-1, len(items))
	}
	for _, r := range recs[1:] {
		d := items[r[2]]
		if r[6] != d["name"] || r[7] != fmt.Sprint(d["price"]) || r[8] != d["sku"] {
			t.Errorf("CSV row %v does not match item %v", r, d)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".products.csv.*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	stdout, _ := xtRun(t, "export", "--db", filepath.Join(dir, "crawl.db"), "--table", "pages", "--since", "1h", "-o", "-", "--quiet")
	var pages int
	db.SQL().QueryRow(`SELECT count(*) FROM pages`).Scan(&pages)
	if lines := strings.Count(stdout, "\n"); lines != pages || pages == 0 {
		t.Errorf("pages export has %d lines, want %d", lines, pages)
	}

	for _, args := range [][]string{
		{"--table", "pages", "--rule", "product"}, {"--format", "xml"}, {"--since", "yesterday"}, {"--bodies"},
	} {
		_, _, err := xtTry(append([]string{"export", "-c", cfg, "-o", "-"}, args...)...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("export %v: error = %v, want a usage error", args, err)
		}
	}
}

// TestReextractFieldErrors checks that reextract sums up which fields
// failed and why, most frequent first, with an example of each.
func TestReextractFieldErrors(t *testing.T) {
	_, cfg := xtCrawl(t, "h1.product-name")
	products := len(xtItems(t, cfg))
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(text), "      - {name: label,",
		"      - {name: made, selector: .sku, type: date}\n      - {name: maker, selector: .maker, required: true}\n      - {name: label,", 1)
	if err := os.WriteFile(cfg, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := xtRun(t, "reextract", "-c", cfg)
	for _, want := range []string{
		"\nfields that failed, most frequent first:\n",
		fmt.Sprintf("%9d  product.made: parse date …: unknown layout\n           e.g. parse date \"SKU: ", products),
		fmt.Sprintf("%9d  product.maker: required, no match\n           e.g. on http://", products),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("reextract report lacks %q:\n%s", want, out)
		}
	}
}

// TestExportPageData checks that page_data exports as JSON lines, with
// the page's URL, its JSON-LD as JSON and its main text.
func TestExportPageData(t *testing.T) {
	_, cfg := xtCrawl(t, "h1.product-name")
	stdout, stderr := xtRun(t, "export", "-c", cfg, "--table", "page_data", "-o", "-")
	db, err := sqlite.OpenReadOnly(context.Background(), filepath.Join(filepath.Dir(cfg), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	db.SQL().QueryRow(`SELECT count(*) FROM page_data`).Scan(&rows)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != rows || rows == 0 {
		t.Fatalf("page_data export has %d lines, want %d", len(lines), rows)
	}
	if !strings.Contains(stderr, fmt.Sprintf("exported %d page_data rows to standard output", rows)) {
		t.Errorf("stderr %q does not count the rows", stderr)
	}
	products := 0
	for _, l := range lines {
		var r struct {
			PageID   int64             `json:"page_id"`
			URL      string            `json:"url"`
			JSONLD   []json.RawMessage `json:"jsonld"`
			MainText string            `json:"main_text"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if strings.Contains(r.URL, "/product/") {
			products++
			if len(r.JSONLD) == 0 || !strings.Contains(string(r.JSONLD[0]), `"Product"`) || r.MainText == "" {
				t.Errorf("product page %s: jsonld %s, main text %q", r.URL, r.JSONLD, r.MainText)
			}
		}
	}
	if products == 0 {
		t.Error("no product page in the page_data export")
	}
}
