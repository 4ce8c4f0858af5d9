package parse

import (
	"math"
	"net/url"
	"strconv"
	"testing"
)

// FuzzPrice checks that price, int, float and date parsing never panic,
// that prices are finite, and that a plainly written price ("%.2f") reads
// back as strconv reads it.
func FuzzPrice(f *testing.F) {
	for _, s := range []string{
		"$1,299.99", "1.299,99 €", "€ 12,50", "12.50 USD", "1 299,99", "CHF 1'299.50",
		"12,34,567.00", "-$5", ".99", "1.2.3", "", "free", "1e400", "\u00a0\u202f1\u2009234",
		"March 5th, 2024", "13/05/2024", "Tue, 05 Mar 2024 09:30:00 GMT",
	} {
		f.Add(s, 12.5)
	}
	f.Fuzz(func(t *testing.T, s string, v float64) {
		if p, err := ruleParsePrice(s); err == nil && (math.IsNaN(p) || math.IsInf(p, 0)) {
			t.Errorf("ruleParsePrice(%q) = %v, want a finite number", s, p)
		}
		ruleParseInt(s)
		if p, err := ruleParseFloat(s); err == nil && (math.IsNaN(p) || math.IsInf(p, 0)) {
			t.Errorf("ruleParseFloat(%q) = %v, want a finite number", s, p)
		}
		ruleParseBool(s)
		ruleParseDate(s)

		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		plain := strconv.FormatFloat(v, 'f', 2, 64)
		want, err := strconv.ParseFloat(plain, 64)
		if err != nil {
			return // rounds to infinity
		}
		got, err := ruleParsePrice(plain)
		if err != nil || got != want {
			t.Errorf("ruleParsePrice(%q) = %v, %v, want %v", plain, got, err, want)
		}
	})
}

// FuzzRulesExtract checks that extraction never panics on arbitrary markup.
func FuzzRulesExtract(f *testing.F) {
	r, err := CompileRules([]RuleSet{productRules(), listingRules(), {
		Name: "everything", Match: "*", Root: "*", Fields: []Field{
			{Name: "text", Regex: `(\d+)?`},
			{Name: "html", Take: "html", Many: true},
			{Name: "outer", Selector: "*", Take: "outer_html"},
			{Name: "href", Selector: "[href]", Take: "attr:href", Type: "url", Many: true},
			{Name: "date", Selector: "time", Type: "date"},
			{Name: "bool", Selector: "input", Take: "attr:value", Type: "bool"},
		},
	}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`<div class="product-card" data-id="1,5"><h2>x</h2><a class=link href="//[::1">`,
		`<base href="::"><h1 class=title>t</h1><p class=sku>SKU: 1</p><div class=price>$1</div>`,
		`<table><td><a href="a"><time>2024-02-30</time>`,
		"<template><p>\x00</template><noscript><a href=x>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, page string) {
		for _, u := range []string{"https://shop.example/product/1", "https://shop.example/de/list"} {
			pu, _ := url.Parse(u)
			p, err := HTML(pu, []byte(page), Options{Tree: true})
			if err != nil {
				t.Fatalf("HTML(%q): %v", page, err)
			}
			r.Extract(p)
		}
	})
}
