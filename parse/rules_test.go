package parse

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func ruleTestDoc(t testing.TB, name, pageURL string) *Page {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "rules", name))
	if err != nil {
		t.Fatal(err)
	}
	return ruleTestParse(t, string(b), pageURL)
}

// ruleTestParse parses page, fetched from pageURL, for extraction rules.
func ruleTestParse(t testing.TB, page, pageURL string) *Page {
	t.Helper()
	p, err := HTML(mustParseURL(t, pageURL), []byte(page), Options{Tree: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ruleTestCompile(t testing.TB, sets ...RuleSet) *Rules {
	t.Helper()
	r, err := CompileRules(sets)
	if err != nil {
		t.Fatalf("CompileRules: %v", err)
	}
	return r
}

func ruleTestBool(b bool) *bool { return &b }

func TestCompileRulesErrors(t *testing.T) {
	field := func(f Field) RuleSet {
		if f.Name == "" {
			f.Name = "f"
		}
		return RuleSet{Name: "s", Match: "*", Fields: []Field{{Name: "ok", Selector: "h1"}, f}}
	}
	tests := []struct {
		name  string
		sets  []RuleSet
		set   int
		field int
		key   string
	}{
		{"bad selector", []RuleSet{field(Field{Selector: "h1["})}, 0, 1, "selector"},
		{"bad selector pseudo-element", []RuleSet{field(Field{Selector: "h1::text"})}, 0, 1, "selector"},
		{"unknown type", []RuleSet{field(Field{Type: "money"})}, 0, 1, "type"},
		{"bad take", []RuleSet{field(Field{Take: "attribute:href"})}, 0, 1, "take"},
		{"take attr without name", []RuleSet{field(Field{Take: "attr:"})}, 0, 1, "take"},
		{"bad regex", []RuleSet{field(Field{Regex: `SKU:(\S+`})}, 0, 1, "regex"},
		{"bad field name chars", []RuleSet{field(Field{Name: "Price"})}, 0, 1, "name"},
		{"field name with dash", []RuleSet{field(Field{Name: "unit-price"})}, 0, 1, "name"},
		{"duplicate field name", []RuleSet{field(Field{Name: "ok"})}, 0, 1, "name"},
		{"int default is a string", []RuleSet{field(Field{Type: "int", Default: "n/a"})}, 0, 1, "default"},
		{"int default has a fraction", []RuleSet{field(Field{Type: "int", Default: 1.5})}, 0, 1, "default"},
		{"bool default is a number", []RuleSet{field(Field{Type: "bool", Default: 3})}, 0, 1, "default"},
		{"string default is a number", []RuleSet{field(Field{Default: 5})}, 0, 1, "default"},
		{"string default is a YAML date", []RuleSet{field(Field{Default: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)})}, 0, 1, "default"},
		{"date default unparsable", []RuleSet{field(Field{Type: "date", Default: "someday"})}, 0, 1, "default"},
		{"many default not a list", []RuleSet{field(Field{Many: true, Default: "x"})}, 0, 1, "default"},
		{"many default wrong element", []RuleSet{field(Field{Many: true, Type: "int", Default: []any{1, "two"}})}, 0, 1, "default"},
		{"default on required field", []RuleSet{field(Field{Required: true, Default: "x"})}, 0, 1, "default"},
		{"bad set name chars", []RuleSet{{Name: "Product", Match: "*", Fields: []Field{{Name: "a"}}}}, 0, -1, "name"},
		{"empty set name", []RuleSet{{Match: "*", Fields: []Field{{Name: "a"}}}}, 0, -1, "name"},
		{"duplicate set name", []RuleSet{
			{Name: "a", Match: "*", Fields: []Field{{Name: "x"}}},
			{Name: "a", Match: "*", Fields: []Field{{Name: "x"}}},
		}, 1, -1, "name"},
		{"missing match", []RuleSet{{Name: "a", Fields: []Field{{Name: "x"}}}}, 0, -1, "match"},
		{"bad match regexp", []RuleSet{{Name: "a", Match: "re:^https?://(", Fields: []Field{{Name: "x"}}}}, 0, -1, "match"},
		{"glob ends in backslash", []RuleSet{{Name: "a", Match: `*/p\`, Fields: []Field{{Name: "x"}}}}, 0, -1, "match"},
		{"bad root", []RuleSet{{Name: "a", Match: "*", Root: ".card >", Fields: []Field{{Name: "x"}}}}, 0, -1, "root"},
		{"no fields", []RuleSet{{Name: "a", Match: "*"}}, 0, -1, "fields"},
		{"error in second set", []RuleSet{
			{Name: "a", Match: "*", Fields: []Field{{Name: "x"}}},
			{Name: "b", Match: "*", Fields: []Field{{Name: "x"}, {Name: "y"}, {Name: "z", Type: "integer"}}},
		}, 1, 2, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := CompileRules(tt.sets)
			if err == nil {
				t.Fatalf("CompileRules = %v, nil; want an error", r)
			}
			if r != nil {
				t.Errorf("CompileRules returned rules with error %v", err)
			}
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("CompileRules error %v (%T) is not a *RuleError", err, err)
			}
			if re.Set != tt.set || re.Field != tt.field || re.Key != tt.key {
				t.Errorf("RuleError{Set: %d, Field: %d, Key: %q} (%v), want {Set: %d, Field: %d, Key: %q}",
					re.Set, re.Field, re.Key, err, tt.set, tt.field, tt.key)
			}
			if re.Unwrap() == nil || !strings.Contains(err.Error(), tt.key+": ") {
				t.Errorf("error %q does not name key %q or has no cause", err, tt.key)
			}
		})
	}
}

func TestCompileRulesReportsEveryError(t *testing.T) {
	_, err := CompileRules([]RuleSet{
		{Name: "a", Match: "*", Fields: []Field{{Name: "x", Type: "money"}}},
		{Name: "B", Match: "*", Fields: []Field{{Name: "x", Selector: "p["}}},
	})
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("CompileRules error %v is not a *RuleError", err)
	}
	if re.Set != 0 || re.Key != "type" {
		t.Errorf("first RuleError = %v, want set 0 key type", re)
	}
	for _, want := range []string{"rule set 0: field 0: type:", "rule set 1: name:", "rule set 1: field 0: selector:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("CompileRules error %q does not contain %q", err, want)
		}
	}
}

func TestCompileRulesAcceptsDefaults(t *testing.T) {
	r := ruleTestCompile(t, RuleSet{Name: "s", Match: "*", Fields: []Field{
		{Name: "a", Selector: ".none", Type: "int", Default: 0},
		{Name: "b", Selector: ".none", Type: "float", Default: 1},
		{Name: "c", Selector: ".none", Type: "price", Default: 9.99},
		{Name: "d", Selector: ".none", Type: "bool", Default: false},
		{Name: "e", Selector: ".none", Type: "date", Default: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)},
		{Name: "f", Selector: ".none", Type: "date", Default: "Jan 2, 2024"},
		{Name: "g", Selector: ".none", Many: true, Default: []any{}},
		{Name: "h", Selector: ".none", Many: true, Type: "int", Default: []any{1, 2}},
		{Name: "i", Selector: ".none", Type: "url", Default: "/none.png"},
		{Name: "j", Selector: ".none", Default: "n/a"},
	}})
	page := ruleTestParse(t, "<p>nothing here</p>", "https://shop.example/a/b")
	got := r.Extract(page)
	want := []Item{{Set: "s", Fields: map[string]any{
		"a": int64(0), "b": 1.0, "c": 9.99, "d": false,
		"e": "2024-01-02T00:00:00Z", "f": "2024-01-02T00:00:00Z",
		"g": []any{}, "h": []any{int64(1), int64(2)},
		"i": "https://shop.example/none.png", "j": "n/a",
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract defaults mismatch (-want +got):\n%s", diff)
	}
}

func productRules() RuleSet {
	return RuleSet{
		Name:  "product",
		Match: "*/product/*",
		Fields: []Field{
			{Name: "name", Selector: "h1.title", Required: true},
			{Name: "page_title", Selector: "title"},
			{Name: "sku", Selector: ".sku", Regex: `SKU:\s*(\S+)`, Required: true},
			{Name: "price", Selector: ".price", Type: "price", Required: true},
			{Name: "in_stock", Selector: ".stock", Type: "bool"},
			{Name: "availability", Selector: "link[itemprop=availability]", Take: "attr:href", Type: "bool"},
			{Name: "rating", Selector: ".rating b", Type: "float"},
			{Name: "reviews", Selector: ".reviews", Type: "int"},
			{Name: "released", Selector: "time.released", Type: "date"},
			{Name: "released_attr", Selector: "time.released", Take: "attr:datetime", Type: "date"},
			{Name: "published", Selector: `meta[property="article:published_time"]`, Take: "attr:content", Type: "date"},
			{Name: "tags", Selector: ".tags li", Many: true},
			{Name: "sizes_eu", Selector: ".sizes li", Take: "attr:DATA-EU", Many: true, Type: "float"},
			{Name: "image", Selector: "img.hero", Take: "attr:src", Type: "url"},
			{Name: "canonical", Selector: "link[rel=canonical]", Take: "attr:href", Type: "url"},
			{Name: "hero_html", Selector: "img.hero", Take: "outer_html"},
			{Name: "description_html", Selector: ".description", Take: "html"},
			{Name: "description", Selector: ".description"},
			{Name: "title_raw", Selector: "h1.title", Normalize: ruleTestBool(false), Regex: `Runner\s+2`},
			{Name: "color", Selector: ".color", Default: "black"},
			{Name: "warranty", Selector: ".warranty", Type: "int"},
		},
	}
}

func TestExtractProductPage(t *testing.T) {
	r := ruleTestCompile(t, productRules())
	page := ruleTestDoc(t, "product.html", "https://shop.example/product/trail-runner-2")
	got := r.Extract(page)
	want := []Item{{
		Set:   "product",
		Index: 0,
		Fields: map[string]any{
			"name":             "Trail Runner 2",
			"page_title":       "Trail Runner 2 | Example Shop",
			"sku":              "TR-0002",
			"price":            1299.99,
			"in_stock":         true,
			"availability":     true,
			"rating":           4.5,
			"reviews":          int64(1234),
			"released":         "2024-03-05T00:00:00Z",
			"released_attr":    "2024-03-05T00:00:00Z",
			"published":        "2024-03-05T09:30:00+01:00",
			"tags":             []any{"running", "trail", "waterproof"},
			"sizes_eu":         []any{41.0, 42.0, 43.5},
			"image":            "https://shop.example/img/trail-runner-2.jpg",
			"canonical":        "https://shop.example/product/trail-runner-2",
			"hero_html":        `<img class="hero" src="../img/trail-runner-2.jpg" alt="Trail Runner 2"/>`,
			"description_html": `<p>Light and <em>grippy</em>.</p><script>var tracking = 1;</script><p>Made to last.</p>`,
			"description":      "Light and grippy. Made to last.",
			"title_raw":        "Runner\n      2",
			"color":            "black",
		},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract(product.html) mismatch (-want +got):\n%s", diff)
	}
}

func listingRules() RuleSet {
	return RuleSet{
		Name:  "card",
		Match: `re:^https://shop\.example/de/[a-z]+$`,
		Root:  ".product-card",
		Fields: []Field{
			{Name: "id", Take: "attr:data-id", Type: "int", Required: true},
			{Name: "name", Selector: "h2", Required: true},
			{Name: "url", Selector: "a.link", Take: "attr:href", Type: "url", Required: true},
			{Name: "price", Selector: ".price", Type: "price", Required: true},
			{Name: "available", Selector: ".avail", Type: "bool"},
			{Name: "stock_note", Selector: ".stock", Default: "unknown"},
		},
	}
}

func TestExtractListingPage(t *testing.T) {
	pageRules := RuleSet{Name: "page", Match: "https://shop.example/de/*", Fields: []Field{
		{Name: "heading", Selector: "body > h1"},
		{Name: "cards", Selector: ".product-card", Take: "attr:data-id", Many: true, Type: "int"},
	}}
	r := ruleTestCompile(t, listingRules(), pageRules)
	page := ruleTestDoc(t, "listing.html", "https://shop.example/de/schuhe")
	got := r.Extract(page)
	want := []Item{
		{Set: "card", Index: 0, Fields: map[string]any{
			"id": int64(101), "name": "Bergschuh Alpin", "url": "https://shop.example/de/p/101",
			"price": 1299.99, "available": true, "stock_note": "Auf Lager",
		}},
		{Set: "card", Index: 1, Fields: map[string]any{
			"id": int64(102), "name": "Laufschuh Leicht", "url": "https://shop.example/de/p/102",
			"price": 12.5, "available": false, "stock_note": "unknown",
		}},
		{Set: "card", Index: 2, Fields: map[string]any{
			"id": int64(103), "name": "Wanderschuh", "url": "https://shop.example/de/p/103?ref=list",
			"available": true, "stock_note": "unknown",
		}, Errors: []string{`field "price": parse number "Preis auf Anfrage": no digits`}},
		{Set: "card", Index: 3, Fields: map[string]any{
			"id": int64(104), "name": "Sandale", "url": "https://other.example/p/104",
			"available": false, "stock_note": "unknown",
		}, Errors: []string{`field "price": required, no match`}},
		{Set: "page", Index: 0, Fields: map[string]any{
			"heading": "Schuhe",
			"cards":   []any{int64(101), int64(102), int64(103), int64(104)},
		}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract(listing.html) mismatch (-want +got):\n%s", diff)
	}
}

func TestExtractMissingAndMalformed(t *testing.T) {
	r := ruleTestCompile(t, productRules(), listingRules())
	pages := []string{
		"",
		"<html",
		"<div class=product-card><h2>x</h2>",
		"<table><tr><td><p class=price>$<td>1,00<</table></p></b></i><h1 class=title>",
		"<script>var x = '<h1 class=title>not a title</h1>'</script>",
		strings.Repeat("<div>", 500) + `<a class="link" href="%zz">` + strings.Repeat("</div>", 10),
		"\x00\xff\xfe<h1 class=\"title\">\x00</h1>",
	}
	for _, body := range pages {
		for _, pageURL := range []string{"https://shop.example/product/x", "https://shop.example/de/x"} {
			items := r.Extract(ruleTestParse(t, body, pageURL))
			if len(items) == 0 && strings.Contains(pageURL, "product") {
				t.Errorf("Extract(%q, %q) returned no items, want the page-level item", pageURL, body)
			}
			for _, it := range items {
				if it.Set == "product" && len(it.Errors) == 0 {
					t.Errorf("Extract(%q, %q) item %+v has no errors, want required-field errors", pageURL, body, it)
				}
			}
		}
	}

	var nilRules *Rules
	page := ruleTestDoc(t, "product.html", "https://shop.example/product/x")
	if got := nilRules.Extract(page); got != nil {
		t.Errorf("(*Rules)(nil).Extract = %v, want nil", got)
	}
	if got := r.Extract(nil); got != nil {
		t.Errorf("Extract(nil) = %v, want nil", got)
	}
	page.Doc = nil
	if got := r.Extract(page); got != nil {
		t.Errorf("Extract(page without a tree) = %v, want nil", got)
	}
}

func TestExtractRequiredMissingNamesEachField(t *testing.T) {
	r := ruleTestCompile(t, productRules())
	page := ruleTestParse(t, "<h1 class=title>Only a name</h1>", "https://shop.example/product/1")
	items := r.Extract(page)
	if len(items) != 1 {
		t.Fatalf("Extract returned %d items, want 1", len(items))
	}
	want := []string{`field "sku": required, no match`, `field "price": required, no match`}
	if diff := cmp.Diff(want, items[0].Errors); diff != "" {
		t.Errorf("Errors mismatch (-want +got):\n%s", diff)
	}
	if got := items[0].Fields["name"]; got != "Only a name" {
		t.Errorf(`Fields["name"] = %v, want "Only a name"`, got)
	}
}

func TestExtractManyConversionErrors(t *testing.T) {
	r := ruleTestCompile(t, RuleSet{Name: "s", Match: "*", Fields: []Field{
		{Name: "qty", Selector: "li", Many: true, Type: "int"},
		{Name: "nothing", Selector: "dd", Many: true},
	}})
	page := ruleTestParse(t, "<ul><li>1</li><li>two</li><li>1,000</li><li>2.5</li></ul>", "http://127.0.0.1/")
	items := r.Extract(page)
	want := []Item{{Set: "s", Fields: map[string]any{"qty": []any{int64(1), int64(1000)}}, Errors: []string{
		`field "qty"[1]: parse integer "two": no digits`,
		`field "qty"[3]: parse integer "2.5": has a fraction`,
	}}}
	if diff := cmp.Diff(want, items); diff != "" {
		t.Errorf("Extract mismatch (-want +got):\n%s", diff)
	}
}

func TestExtractBaseAndRoot(t *testing.T) {
	r := ruleTestCompile(t, RuleSet{Name: "s", Match: "*", Root: "li", Fields: []Field{
		{Name: "self", Type: "url", Take: "attr:data-href"},
		{Name: "whole", Take: "outer_html"},
	}})
	body := `<base href="/sub/"><ul><li data-href="a?x=1#f">A</li><li data-href=" ../b	c ">B</li><li>C</li></ul>`
	got := r.Extract(ruleTestParse(t, body, "http://127.0.0.1:8080/dir/page.html"))
	want := []Item{
		{Set: "s", Index: 0, Fields: map[string]any{"self": "http://127.0.0.1:8080/sub/a?x=1#f", "whole": `<li data-href="a?x=1#f">A</li>`}},
		{Set: "s", Index: 1, Fields: map[string]any{"self": "http://127.0.0.1:8080/bc", "whole": `<li data-href=" ../b	c ">B</li>`}},
		{Set: "s", Index: 2, Fields: map[string]any{"whole": `<li>C</li>`}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract mismatch (-want +got):\n%s", diff)
	}
}

func TestRulesMatch(t *testing.T) {
	r := ruleTestCompile(t,
		RuleSet{Name: "product", Match: "*/product/*", Fields: []Field{{Name: "a"}}},
		RuleSet{Name: "numbered", Match: `re:^https?://[^/]+/p/\d+$`, Fields: []Field{{Name: "a"}}},
		RuleSet{Name: "query", Match: `https://shop.example/search\?q=*`, Fields: []Field{{Name: "a"}}},
		RuleSet{Name: "one_char", Match: "http://h/?", Fields: []Field{{Name: "a"}}},
		RuleSet{Name: "all", Match: "*", Fields: []Field{{Name: "a"}, {Name: "b"}}},
	)
	if diff := cmp.Diff([]string{"product", "numbered", "query", "one_char", "all"}, r.Names()); diff != "" {
		t.Errorf("Names mismatch (-want +got):\n%s", diff)
	}
	tests := []struct {
		url  string
		want []string
	}{
		{"https://shop.example/product/1", []string{"product", "all"}},
		{"https://shop.example/products/1", []string{"all"}},
		{"https://shop.example/p/123", []string{"numbered", "all"}},
		{"https://shop.example/p/123/reviews", []string{"all"}},
		{"https://shop.example/search?q=boots", []string{"query", "all"}},
		{"https://shop.example/searchXq=boots", []string{"all"}},
		{"http://h/a", []string{"one_char", "all"}},
		{"http://h/ab", []string{"all"}},
		{"", []string{"all"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range r.Match(tt.url) {
			got = append(got, s.Name())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Match(%q) mismatch (-want +got):\n%s", tt.url, diff)
		}
	}
	all := r.Match("x")[0]
	if diff := cmp.Diff([]string{"a", "b"}, all.FieldNames()); diff != "" {
		t.Errorf("FieldNames mismatch (-want +got):\n%s", diff)
	}
}

func TestExtractConcurrent(t *testing.T) {
	r := ruleTestCompile(t, productRules(), listingRules())
	p1 := ruleTestDoc(t, "product.html", "https://shop.example/product/trail-runner-2")
	p2 := ruleTestDoc(t, "listing.html", "https://shop.example/de/schuhe")
	want1, want2 := r.Extract(p1), r.Extract(p2)
	var wg sync.WaitGroup
	results := make([][]Item, 16)
	for i := range results {
		wg.Go(func() {
			if i%2 == 0 {
				results[i] = r.Extract(p1)
			} else {
				results[i] = r.Extract(p2)
			}
		})
	}
	wg.Wait()
	for i, got := range results {
		want := want1
		if i%2 == 1 {
			want = want2
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("concurrent Extract %d mismatch (-want +got):\n%s", i, diff)
		}
	}
}

const ruleTestYAML = `extract:
  - name: product
    match: "*/product/*"
    fields:
      - name: name
        selector: "h1.title"
        required: true
      - name: sku
        selector: ".sku"
        regex: "SKU:\\s*(\\S+)"
      - name: price
        selector: ".price"
        type: price
        normalize: true
      - name: released
        selector: "time.released"
        type: date
        default: 2020-01-01
      - name: tags
        selector: ".tags li"
        many: true
        default: []
  - name: listing
    match: "re:^https://shop\\.example/de/"
    root: ".product-card"
    fields:
      - name: url
        selector: "a.link"
        take: attr:href
        type: url
`

type ruleTestConfig struct {
	Extract []RuleSet `yaml:"extract"`
}

func decodeRuleTestYAML(src string) (ruleTestConfig, error) {
	var c ruleTestConfig
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	err := dec.Decode(&c)
	return c, err
}

func TestRulesYAML(t *testing.T) {
	c, err := decodeRuleTestYAML(ruleTestYAML)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	r, err := CompileRules(c.Extract)
	if err != nil {
		t.Fatalf("CompileRules: %v", err)
	}
	if diff := cmp.Diff([]string{"product", "listing"}, r.Names()); diff != "" {
		t.Errorf("Names mismatch (-want +got):\n%s", diff)
	}
	if c.Extract[0].Fields[1].Regex != `SKU:\s*(\S+)` {
		t.Errorf("decoded regex = %q, want %q", c.Extract[0].Fields[1].Regex, `SKU:\s*(\S+)`)
	}
	page := ruleTestDoc(t, "product.html", "https://shop.example/product/trail-runner-2")
	items := r.Extract(page)
	if len(items) != 1 || items[0].Fields["sku"] != "TR-0002" || items[0].Fields["price"] != 1299.99 {
		t.Errorf("Extract with YAML rules = %+v", items)
	}

	// An unknown key inside a field is rejected with its line number.
	bad := strings.Replace(ruleTestYAML, `        selector: ".sku"`, `        selectr: ".sku"`, 1)
	_, err = decodeRuleTestYAML(bad)
	if err == nil {
		t.Fatal("decode with unknown key selectr: no error")
	}
	if !strings.Contains(err.Error(), "line 9: field selectr not found") {
		t.Errorf("decode error = %q, want it to name line 9 and key selectr", err)
	}

	// A compile error points at set and field, which the loader maps to a line.
	bad = strings.Replace(ruleTestYAML, "type: price", "type: money", 1)
	c, err = decodeRuleTestYAML(bad)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	_, err = CompileRules(c.Extract)
	var re *RuleError
	if !errors.As(err, &re) || re.Set != 0 || re.Field != 2 || re.Key != "type" {
		t.Errorf("CompileRules error = %v, want RuleError set 0 field 2 key type", err)
	}
}

func TestRulesYAMLRoundTrip(t *testing.T) {
	sets := []RuleSet{productRules(), listingRules()}
	b, err := yaml.Marshal(ruleTestConfig{Extract: sets})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeRuleTestYAML(string(b))
	if err != nil {
		t.Fatalf("decode marshalled rules: %v\n%s", err, b)
	}
	if diff := cmp.Diff(sets, got.Extract); diff != "" {
		t.Errorf("YAML round trip mismatch (-want +got):\n%s", diff)
	}
}

func BenchmarkExtractListing(b *testing.B) {
	var body bytes.Buffer
	body.WriteString(`<html><head><base href="https://shop.example/de/"></head><body><section class="results">`)
	for i := range 200 {
		fmt.Fprintf(&body, `<article class="product-card" data-id="%d"><a class="link" href="p/%d"><h2>Schuh Nummer %d</h2></a>
<span class="price">%d.%03d,%02d €</span><span class="stock">Auf Lager</span><span class="avail">yes</span></article>`,
			i, i, i, i%10+1, i, i%100)
	}
	body.WriteString(`</section></body></html>`)
	r := ruleTestCompile(b, listingRules())
	page := ruleTestParse(b, body.String(), "https://shop.example/de/schuhe")
	if items := r.Extract(page); len(items) != 200 || len(items[0].Errors) != 0 {
		b.Fatalf("Extract = %d items, first %+v", len(items), items[0])
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Extract(page)
	}
}
