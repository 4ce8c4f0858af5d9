package parse

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// SuggestRules proposes starter extraction rules for one page ("crawler
// init"): a rule set for a schema.org Product or Article the page
// describes in JSON-LD, its fields read from the elements that show the
// same values, and a rule set for the largest group of repeated sibling
// blocks that each hold a link and a price or a title (the cards of a
// listing). Every suggestion is checked before it is returned: it
// compiles, matches pageURL and extracts from this page, without errors,
// the values it was built from. It returns nil when it finds nothing.
func SuggestRules(pageURL *url.URL, body []byte) []RuleSet {
	doc, err := HTML(pageURL, body, Options{StructuredData: true, Tree: true})
	if err != nil || doc.Doc == nil {
		return nil
	}
	match := MatchFor(pageURL)
	var out []RuleSet
	for _, want := range structuredValues(doc.JSONLD) {
		if rs, ok := suggestFromValues(doc, match, want); ok {
			out = append(out, rs)
			break
		}
	}
	if rs, ok := suggestBlocks(doc, match); ok {
		out = append(out, rs)
	}
	return out
}

// MatchFor returns a rule set match pattern for pages like pageURL: the
// glob "*/product/*" for http://shop.example/product/12, and the URL itself
// as an anchored regular expression when its path has a single segment.
func MatchFor(pageURL *url.URL) string {
	segs := strings.Split(strings.Trim(pageURL.EscapedPath(), "/"), "/")
	if len(segs) >= 2 && segs[0] != "" {
		return "*/" + globEscape(segs[0]) + "/*"
	}
	return "re:^" + regexp.QuoteMeta(pageURL.String()) + "$"
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(s)
}

// wantedValue is one value a JSON-LD block gives that a field should read
// from the page.
type wantedValue struct {
	field string
	typ   string // a Field.Type
	str   string // the value as text (string fields, dates)
	num   float64
	flag  bool
}

// wantedSet is what one JSON-LD Product or Article says.
type wantedSet struct {
	name   string // rule set name: product or article
	values []wantedValue
}

// structuredValues reads the Products and Articles of the page's JSON-LD.
func structuredValues(blocks []json.RawMessage) []wantedSet {
	var objs []map[string]any
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				collect(e)
			}
		case map[string]any:
			objs = append(objs, x)
			if g, ok := x["@graph"]; ok {
				collect(g)
			}
		}
	}
	for _, b := range blocks {
		var v any
		if json.Unmarshal(b, &v) == nil {
			collect(v)
		}
	}
	var sets []wantedSet
	for _, o := range objs {
		switch {
		case hasType(o, "Product"):
			s := wantedSet{name: "product"}
			s.add("name", "", str(o["name"]))
			offer := first(o["offers"])
			if p, err := strconv.ParseFloat(str(offer["price"]), 64); err == nil {
				s.values = append(s.values, wantedValue{field: "price", typ: "price", num: p})
			}
			s.add("sku", "", str(o["sku"]))
			s.add("brand", "", str(o["brand"]))
			if a := str(offer["availability"]); a != "" {
				s.values = append(s.values, wantedValue{field: "in_stock", typ: "bool", flag: strings.HasSuffix(a, "InStock")})
			}
			sets = append(sets, s)
		case hasType(o, "Article", "NewsArticle", "BlogPosting"):
			s := wantedSet{name: "article"}
			s.add("headline", "", str(o["headline"]))
			s.add("author", "", str(o["author"]))
			s.add("published", "date", str(o["datePublished"]))
			sets = append(sets, s)
		}
	}
	return sets
}

func (s *wantedSet) add(field, typ, v string) {
	if v = strings.Join(strings.Fields(v), " "); v != "" {
		s.values = append(s.values, wantedValue{field: field, typ: typ, str: v})
	}
}

// hasType reports whether a JSON-LD object's @type is one of types.
func hasType(o map[string]any, types ...string) bool {
	var ts []string
	switch t := o["@type"].(type) {
	case string:
		ts = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				ts = append(ts, s)
			}
		}
	}
	for _, t := range ts {
		t = strings.TrimPrefix(strings.TrimPrefix(t, "https://schema.org/"), "http://schema.org/")
		for _, want := range types {
			if t == want {
				return true
			}
		}
	}
	return false
}

// first returns v when it is an object, or the first object of a list.
func first(v any) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		return x
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				return m
			}
		}
	}
	return nil
}

// str returns a JSON-LD value as text: a string, a number, or the name of
// an object (a Brand, a Person).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case map[string]any:
		return str(x["name"])
	case []any:
		if len(x) > 0 {
			return str(x[0])
		}
	}
	return ""
}

// suggestFromValues builds a page-level rule set whose fields read want's
// values from the elements that show them.
func suggestFromValues(doc *Page, match string, want wantedSet) (RuleSet, bool) {
	rs := RuleSet{Name: want.name, Match: match}
	for _, w := range want.values {
		n, take := findValue(doc.Doc, w)
		if n == nil {
			continue
		}
		sel := selectorFor(doc.Doc, n)
		if sel == "" {
			continue
		}
		f := Field{Name: w.field, Selector: sel, Take: take, Type: w.typ}
		if len(rs.Fields) == 0 {
			f.Required = true
		}
		if fieldGives(doc, match, f, w) {
			rs.Fields = append(rs.Fields, f)
		}
	}
	return rs, len(rs.Fields) > 0
}

// fieldGives reports whether field f, alone in a rule set, extracts w from
// the page.
func fieldGives(doc *Page, match string, f Field, w wantedValue) bool {
	items := extractWith(doc, RuleSet{Name: "check", Match: match, Fields: []Field{f}})
	if len(items) != 1 || len(items[0].Errors) > 0 {
		return false
	}
	switch v := items[0].Fields[f.Name].(type) {
	case string:
		if w.typ == "date" {
			return strings.HasPrefix(v, w.str) || strings.HasPrefix(w.str, v[:min(len(v), 10)])
		}
		return v == w.str
	case float64:
		return v == w.num
	case bool:
		return v == w.flag
	}
	return false
}

// extractWith applies one rule set to the page.
func extractWith(doc *Page, rs RuleSet) []Item {
	rules, err := CompileRules([]RuleSet{rs})
	if err != nil {
		return nil
	}
	return rules.Extract(doc)
}

// findValue finds the element of the page's body that shows w, and what
// to take from it: its text, or for a date the datetime attribute of a
// <time> element.
func findValue(root *html.Node, w wantedValue) (*html.Node, string) {
	var found *html.Node
	take := ""
	walkElements(root, func(n *html.Node) bool {
		if found != nil {
			return false
		}
		if w.typ == "date" && n.Data == "time" {
			if dt := attrValue(n, "datetime"); dt != "" && (strings.HasPrefix(dt, w.str) || strings.HasPrefix(w.str, dt)) {
				found, take = n, "attr:datetime"
				return false
			}
		}
		t := shownText(n)
		switch w.typ {
		case "", "date":
			if t == w.str {
				found = n
			}
		case "price":
			if len(t) < 40 && hasDigit(t) {
				if p, err := ruleParsePrice(t); err == nil && p == w.num {
					found = n
				}
			}
		case "bool":
			if len(t) < 40 {
				if b, err := ruleParseBool(t); err == nil && b == w.flag {
					found = n
				}
			}
		}
		return true
	})
	if found == nil || take != "" {
		return found, take
	}
	return findDeepest(found), take
}

// walkElements calls fn on each element of the page's body in document
// order, leaving out what is not shown; fn returns false to skip an
// element's children.
func walkElements(n *html.Node, fn func(*html.Node) bool) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			walkElements(c, fn)
			continue
		}
		switch c.Data {
		case "head", "script", "style", "noscript", "template", "svg":
			continue
		}
		if fn(c) {
			walkElements(c, fn)
		}
	}
}

func shownText(n *html.Node) string {
	var b strings.Builder
	ruleNodeText(&b, n, true, true)
	return strings.Join(strings.Fields(b.String()), " ")
}

// attrValue returns n's attribute key, "" when it has none.
func attrValue(n *html.Node, key string) string {
	v, _ := attr(n, key)
	return v
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// cssIdent matches class names usable in a selector as they are, leaving
// out those with digits (often per item: product-123).
var cssIdent = regexp.MustCompile(`^-?[_a-zA-Z][_a-zA-Z-]*$`)

// classes returns n's usable class names.
func classes(n *html.Node) []string {
	var out []string
	for _, c := range strings.Fields(attrValue(n, "class")) {
		if cssIdent.MatchString(c) {
			out = append(out, c)
		}
	}
	return out
}

// selectorFor returns a short CSS selector whose first match inside ctx is
// n, or "" when none of the forms it tries is.
func selectorFor(ctx, n *html.Node) string {
	var cands []string
	for _, c := range classes(n) {
		cands = append(cands, n.Data+"."+c)
	}
	cands = append(cands, n.Data)
	if p := n.Parent; p != nil && p.Type == html.ElementNode && p != ctx {
		for _, pc := range classes(p) {
			for _, c := range cands[:len(cands)-1] {
				cands = append(cands, p.Data+"."+pc+" > "+c)
			}
			cands = append(cands, p.Data+"."+pc+" > "+n.Data)
		}
		cands = append(cands, p.Data+" > "+n.Data)
	}
	for _, s := range cands {
		sel, err := cascadia.Compile(s)
		if err != nil {
			continue
		}
		if got := ruleQuery(ctx, sel, false); len(got) > 0 && got[0] == n {
			return s
		}
	}
	return ""
}

// priceText matches a price as a listing shows it: a currency sign or
// code next to a number.
var priceText = regexp.MustCompile(`(?i)([$€£¥₹]|\b(usd|eur|gbp|chf|jpy)\b)\s*\d|\d\s*([$€£¥₹]|\b(usd|eur|gbp|chf|jpy)\b)`)

// suggestBlocks builds a rule set with one item per block of the largest
// group of sibling elements of one kind (same tag and class) that hold a
// link.
func suggestBlocks(doc *Page, match string) (RuleSet, bool) {
	type group struct {
		parent *html.Node
		key    string
		nodes  []*html.Node
	}
	var best *group
	walkElements(doc.Doc, func(p *html.Node) bool {
		groups := map[string]*group{}
		var order []string
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			cls := classes(c)
			if len(cls) == 0 {
				continue
			}
			key := c.Data + "." + cls[0]
			g := groups[key]
			if g == nil {
				g = &group{parent: p, key: key}
				groups[key] = g
				order = append(order, key)
			}
			g.nodes = append(g.nodes, c)
		}
		for _, k := range order {
			g := groups[k]
			if len(g.nodes) < 3 || (best != nil && len(g.nodes) <= len(best.nodes)) {
				continue
			}
			linked := true
			for _, n := range g.nodes {
				if firstLink(n) == nil {
					linked = false
					break
				}
			}
			if linked {
				best = g
			}
		}
		return true
	})
	if best == nil {
		return RuleSet{}, false
	}
	root := best.key
	if sel, err := cascadia.Compile(root); err != nil || len(ruleQuery(doc.Doc, sel, true)) != len(best.nodes) {
		prefix := best.parent.Data
		if pc := classes(best.parent); len(pc) > 0 {
			prefix += "." + pc[0]
		}
		root = prefix + " > " + best.key
		if sel, err := cascadia.Compile(root); err != nil || len(ruleQuery(doc.Doc, sel, true)) != len(best.nodes) {
			return RuleSet{}, false
		}
	}
	b0 := best.nodes[0]
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9_]+`).ReplaceAllString(strings.ToLower(strings.SplitN(best.key, ".", 2)[1]), "_"), "_")
	if name == "" || name == "product" || name == "article" {
		name = "listing"
	}
	rs := RuleSet{Name: name, Match: match, Root: root}
	if a := firstLink(b0); a != nil {
		if sel := selectorFor(b0, a); sel != "" {
			rs.Fields = append(rs.Fields, Field{Name: "url", Selector: sel, Take: "attr:href", Type: "url", Required: true})
		}
	}
	if t := blockTitle(b0); t != nil {
		if sel := selectorFor(b0, t); sel != "" {
			rs.Fields = append(rs.Fields, Field{Name: "title", Selector: sel})
		}
	}
	var price *html.Node
	walkElements(b0, func(n *html.Node) bool {
		if t := shownText(n); price == nil && len(t) < 40 && priceText.MatchString(t) {
			if _, err := ruleParsePrice(t); err == nil {
				price = n
			}
		}
		return price == nil
	})
	if price != nil {
		price = findDeepest(price)
		if sel := selectorFor(b0, price); sel != "" {
			rs.Fields = append(rs.Fields, Field{Name: "price", Selector: sel, Type: "price"})
		}
	}
	if len(rs.Fields) < 2 {
		return RuleSet{}, false
	}
	// Keep the fields most blocks have; the rule set must give an item per
	// block with a URL and no errors.
	items := extractWith(doc, rs)
	if len(items) != len(best.nodes) {
		return RuleSet{}, false
	}
	var kept []Field
	for _, f := range rs.Fields {
		n := 0
		for _, it := range items {
			if _, ok := it.Fields[f.Name]; ok {
				n++
			}
		}
		if n*2 >= len(items) {
			kept = append(kept, f)
		}
	}
	rs.Fields = kept
	if len(rs.Fields) < 2 || rs.Fields[0].Name != "url" {
		return RuleSet{}, false
	}
	for _, it := range extractWith(doc, rs) {
		if len(it.Errors) > 0 {
			return RuleSet{}, false
		}
	}
	return rs, true
}

// findDeepest descends from n while it has a single element child with
// the same text: the innermost element that shows it.
func findDeepest(n *html.Node) *html.Node {
	for {
		var only *html.Node
		count := 0
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode {
				count++
				only = c
			}
		}
		if count != 1 || shownText(only) != shownText(n) {
			return n
		}
		n = only
	}
}

// firstLink returns the first <a href> inside n.
func firstLink(n *html.Node) *html.Node {
	var a *html.Node
	walkElements(n, func(c *html.Node) bool {
		if a == nil && c.Data == "a" && strings.TrimSpace(attrValue(c, "href")) != "" && !strings.HasPrefix(attrValue(c, "href"), "#") {
			a = c
		}
		return a == nil
	})
	return a
}

// blockTitle returns a block's heading with text, else its first link
// with text.
func blockTitle(n *html.Node) *html.Node {
	var h *html.Node
	walkElements(n, func(c *html.Node) bool {
		if h == nil && len(c.Data) == 2 && c.Data[0] == 'h' && c.Data[1] >= '1' && c.Data[1] <= '6' && shownText(c) != "" {
			h = c
		}
		return h == nil
	})
	if h == nil {
		if a := firstLink(n); a != nil && shownText(a) != "" {
			h = a
		}
	}
	return h
}
