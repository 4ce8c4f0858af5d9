package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/testsite"
)

// TestURLListMode runs "crawler run --urls FILE" over pages of two hosts
// and a JSON API URL: the site must see exactly robots.txt and the listed
// URLs, once each, no link may be followed, and the JSON body must be
// stored so that SQLite's JSON functions can read it once decoded.
func TestURLListMode(t *testing.T) {
	site, err := testsite.Start(testsite.Options{Hosts: 2, PagesPerHost: 40, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	h0, h1 := site.Hosts()[0], site.Hosts()[1]
	listed := map[string][]string{
		h0: {"/product/3", "/api/item/3.json", "/about"},
		h1: {"/article/2"},
	}
	dir := t.TempDir()
	var list strings.Builder
	list.WriteString("# products and an API document\n\n")
	n := 0
	for _, h := range []string{h0, h1} {
		for _, p := range listed[h] {
			fmt.Fprintf(&list, "http://%s%s\n", h, p)
			n++
		}
	}
	urls := filepath.Join(dir, "urls.txt")
	if err := os.WriteFile(urls, []byte(list.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(`database: crawl.db
politeness: {rate: 0, max_in_flight: 2, latency_factor: 0}
fetch: {allow_addresses: [127.0.0.0/8]}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	xtRun(t, "run", "-c", cfg, "--urls", urls, "--quiet")

	stats := site.Stats()
	for _, h := range []string{h0, h1} {
		want := map[string]int{"/robots.txt": 1}
		for _, p := range listed[h] {
			want[p] = 1
		}
		if got := stats[h].ByPath; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("requests to %s = %v, want exactly %v", h, got, want)
		}
	}

	ctx := context.Background()
	db, err := sqlite.OpenReadOnly(ctx, filepath.Join(dir, "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var frontier, pages int
	db.SQL().QueryRow(`SELECT count(*) FROM frontier`).Scan(&frontier)
	db.SQL().QueryRow(`SELECT count(*) FROM pages WHERE status = 200`).Scan(&pages)
	if frontier != n || pages != n {
		t.Errorf("frontier has %d URLs and pages %d rows with status 200, want the %d listed", frontier, pages, n)
	}

	// The JSON document is stored whole, compressed (store.bodies: zstd).
	api := "http://" + h0 + "/api/item/3.json"
	p, err := db.PageByURL(ctx, api)
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/json" || p.BodyEncoding != "zstd" {
		t.Errorf("stored %s as %q, body %q; want application/json, zstd", api, p.ContentType, p.BodyEncoding)
	}
	body, err := store.DecodeBody(p.Body, p.BodyEncoding)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ID  int    `json:"id"`
		SKU string `json:"sku"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.ID != 3 || doc.SKU == "" {
		t.Fatalf("decoded body of %s = %s (%v), want the item 3 document", api, body, err)
	}
	var sku string
	if err := db.SQL().QueryRow(`SELECT json_extract(?, '$.sku')`, string(body)).Scan(&sku); err != nil || sku != doc.SKU {
		t.Errorf("json_extract(body, '$.sku') = %q, %v; want %q", sku, err, doc.SKU)
	}

	// "crawler export --table pages --bodies" gives the decoded JSON text,
	// ready for jq or for SQLite's json functions.
	out, _ := xtRun(t, "export", "--db", filepath.Join(dir, "crawl.db"), "--table", "pages", "--bodies", "-o", "-", "--quiet")
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var row struct {
			URL  string  `json:"url"`
			Body *string `json:"body"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("export line is not JSON: %v\n%s", err, line)
		}
		if row.URL != api {
			continue
		}
		found = true
		var got struct {
			SKU string `json:"sku"`
		}
		if row.Body == nil || json.Unmarshal([]byte(*row.Body), &got) != nil || got.SKU != doc.SKU {
			t.Errorf("exported body of %s = %v, want the JSON document", api, row.Body)
		}
	}
	if !found {
		t.Errorf("pages export lacks %s", api)
	}
}
