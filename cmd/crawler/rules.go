package main

import "github.com/crawler-dev/crawler/parse"

// demoRules extract the demo site's products, as a worked example.
func demoRules() []parse.RuleSet {
	return []parse.RuleSet{{
		Name:  "product",
		Match: "*/product/*",
		Fields: []parse.Field{
			{Name: "name", Selector: "h1.product-name", Required: true},
			{Name: "price", Selector: ".price", Type: "price", Required: true},
			{Name: "sku", Selector: ".sku", Regex: `SKU:\s*(\S+)`},
			{Name: "in_stock", Selector: ".availability", Type: "bool"},
		},
	}}
}
