package parse

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// Field is one extraction rule: which element to read, what to take from it
// and how to convert it. It is decoded from the YAML under a rule set's
// "fields" key.
//
// Take is "text" (the default), "attr:NAME", "html" (inner HTML) or
// "outer_html". Normalize (collapse whitespace and trim) defaults to true for
// text and attr takes and to false for html takes, so that markup keeps its
// whitespace unless asked otherwise; for url fields it only trims, and tabs
// and newlines are dropped as browsers do. Type is "string" (the default), "int",
// "float", "price", "bool", "url" or "date"; see [CompileRules] for what each
// accepts. An empty value (after trimming) counts as missing.
type Field struct {
	Name      string `yaml:"name"`
	Selector  string `yaml:"selector,omitempty"`
	Take      string `yaml:"take,omitempty"`
	Many      bool   `yaml:"many,omitempty"`
	Normalize *bool  `yaml:"normalize,omitempty"`
	Regex     string `yaml:"regex,omitempty"`
	Type      string `yaml:"type,omitempty"`
	Required  bool   `yaml:"required,omitempty"`
	Default   any    `yaml:"default,omitempty"`
}

// RuleSet names a group of fields and the pages they are read from. Match is
// a glob on the full URL ('*' matches any run of characters, '?' exactly one,
// '\' escapes the next character) or, with the prefix "re:", a Go regular
// expression (unanchored unless it anchors itself). Root, when set, is a CSS
// selector and the set yields one item per matching element; otherwise it
// yields one item per page.
type RuleSet struct {
	Name   string  `yaml:"name"`
	Match  string  `yaml:"match"`
	Root   string  `yaml:"root,omitempty"`
	Fields []Field `yaml:"fields"`
}

// RuleError reports an invalid rule: the index of the rule set, the index of
// the field within it (-1 for a set-level key) and the YAML key at fault, so
// that a configuration loader can point at the offending line.
type RuleError struct {
	Set   int
	Field int
	Key   string
	Err   error
}

// Error implements error.
func (e *RuleError) Error() string {
	if e.Field < 0 {
		return fmt.Sprintf("rule set %d: %s: %v", e.Set, e.Key, e.Err)
	}
	return fmt.Sprintf("rule set %d: field %d: %s: %v", e.Set, e.Field, e.Key, e.Err)
}

// Unwrap returns the underlying error.
func (e *RuleError) Unwrap() error { return e.Err }

// Rules is a compiled, immutable list of rule sets. It is safe for concurrent
// use. A nil *Rules matches nothing and extracts nothing.
type Rules struct {
	sets []*CompiledSet
}

// CompiledSet is one validated rule set. It is immutable and safe for
// concurrent use.
type CompiledSet struct {
	name   string
	match  *regexp.Regexp
	root   cascadia.Selector // nil: one item per page
	fields []ruleField
	hasURL bool // some field has type url, so the base URL is needed
}

// Name returns the rule set's name.
func (s *CompiledSet) Name() string { return s.name }

// FieldNames returns the names of the set's fields in rule order.
func (s *CompiledSet) FieldNames() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

// Item is what one rule set extracted from one page, or from one root element
// of a page.
type Item struct {
	Set    string         // rule set name
	Index  int            // position of the root element on the page (0 for page-level sets)
	Fields map[string]any // string, int64, float64, bool, or []any of those for many fields; missing fields are absent
	Errors []string       // e.g. `field "price": required, no match`; an item with errors is still returned
}

// ruleTake says what part of a selected element a field reads.
type ruleTake int

const (
	ruleTakeText ruleTake = iota
	ruleTakeAttr
	ruleTakeInnerHTML
	ruleTakeOuterHTML
)

// ruleType is the type a field's value is converted to.
type ruleType string

const (
	ruleTypeString ruleType = "string"
	ruleTypeInt    ruleType = "int"
	ruleTypeFloat  ruleType = "float"
	ruleTypePrice  ruleType = "price"
	ruleTypeBool   ruleType = "bool"
	ruleTypeURL    ruleType = "url"
	ruleTypeDate   ruleType = "date"
)

// ruleField is a compiled Field.
type ruleField struct {
	name      string
	sel       cascadia.Selector // nil: the root element (or document) itself
	take      ruleTake
	attr      string
	many      bool
	normalize bool
	re        *regexp.Regexp
	typ       ruleType
	required  bool
	hasDef    bool
	def       any // converted to typ; []any for many fields
}

var ruleNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// CompileRules validates rule sets and compiles them for [Rules.Extract].
// Every problem found is reported as a *RuleError; when there are several
// they are joined with [errors.Join], so errors.As finds the first.
//
// Checks: set and field names match [a-z0-9_]+ and are unique (sets among
// sets, fields within their set); match is present and compiles; root and
// selectors compile with cascadia; take, type and regex are valid; a set has
// at least one field; a default has the field's type (a list for many fields)
// and is not given for a required field.
//
// Conversions applied at extraction time:
//   - int: the first number in the text, grouping separators allowed
//     ("1,234", "1 234", "1.234", "1'234"); a fractional part is an error.
//   - float: Go syntax if the whole text is a number ("1.234" is 1.234),
//     otherwise as price.
//   - price: the first number in the text, currency symbols and codes
//     around it ignored. The last '.' or ',' is the decimal separator when it
//     occurs once and either another separator kind precedes it ("1,299.99",
//     "1.299,99"), or it is not followed by exactly three digits ("12,50"), or
//     the integer part is 0 or longer than three digits; otherwise it groups
//     thousands ("1,234" and "1.234" are 1234). Spaces and apostrophes only
//     group thousands.
//   - bool: true/false, yes/no, 1/0, on/off, in stock/out of stock, sold out,
//     and schema.org InStock/OutOfStock (case-insensitive).
//   - url: resolved against the page URL (and its <base href>) to an
//     absolute URL.
//   - date: RFC 3339, "2006-01-02[ T]15:04[:05]", "2006-01-02", "2006/01/02",
//     "02.01.2006", "2 Jan 2006", "Jan 2, 2006", "January 2 2006", RFC 1123
//     and similar, with an optional leading weekday and ordinal suffixes
//     ("2nd"). Slashed dates "a/b/yyyy" are month/day (US) unless a > 12,
//     then day/month. The result is RFC 3339: the page's offset is kept when
//     it gives one, otherwise UTC is assumed ("2006-01-02" becomes
//     "2006-01-02T00:00:00Z").
func CompileRules(sets []RuleSet) (*Rules, error) {
	r := &Rules{sets: make([]*CompiledSet, 0, len(sets))}
	var errs []error
	seen := make(map[string]bool, len(sets))
	for i, rs := range sets {
		cs, setErrs := compileRuleSet(i, rs)
		errs = append(errs, setErrs...)
		if rs.Name != "" && seen[rs.Name] {
			errs = append(errs, &RuleError{Set: i, Field: -1, Key: "name", Err: fmt.Errorf("duplicate rule set name %q", rs.Name)})
		}
		seen[rs.Name] = true
		r.sets = append(r.sets, cs)
	}
	switch len(errs) {
	case 0:
		return r, nil
	case 1:
		return nil, errs[0]
	default:
		return nil, errors.Join(errs...)
	}
}

func compileRuleSet(i int, rs RuleSet) (*CompiledSet, []error) {
	var errs []error
	setErr := func(key string, err error) {
		errs = append(errs, &RuleError{Set: i, Field: -1, Key: key, Err: err})
	}
	cs := &CompiledSet{name: rs.Name}
	if !ruleNameRE.MatchString(rs.Name) {
		setErr("name", fmt.Errorf("name %q must match [a-z0-9_]+", rs.Name))
	}
	m, err := compileRuleMatch(rs.Match)
	if err != nil {
		setErr("match", err)
	}
	cs.match = m
	if strings.TrimSpace(rs.Root) != "" {
		sel, err := cascadia.Compile(rs.Root)
		if err != nil {
			setErr("root", fmt.Errorf("compile selector %q: %w", rs.Root, err))
		}
		cs.root = sel
	}
	if len(rs.Fields) == 0 {
		setErr("fields", errors.New("a rule set needs at least one field"))
	}
	seen := make(map[string]bool, len(rs.Fields))
	for j, f := range rs.Fields {
		cf, err := compileRuleField(f)
		if err != nil {
			err.Set, err.Field = i, j
			errs = append(errs, err)
		}
		if f.Name != "" && seen[f.Name] {
			errs = append(errs, &RuleError{Set: i, Field: j, Key: "name", Err: fmt.Errorf("duplicate field name %q", f.Name)})
		}
		seen[f.Name] = true
		if cf.typ == ruleTypeURL {
			cs.hasURL = true
		}
		cs.fields = append(cs.fields, cf)
	}
	return cs, errs
}

// compileRuleMatch turns a glob or "re:" pattern into a regular expression.
func compileRuleMatch(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New(`pattern is required (use "*" for every page)`)
	}
	if expr, ok := strings.CutPrefix(pattern, "re:"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, fmt.Errorf("compile regexp %q: %w", expr, err)
		}
		return re, nil
	}
	var b strings.Builder
	b.WriteString(`^`)
	for i := 0; i < len(pattern); {
		r, size := utf8.DecodeRuneInString(pattern[i:])
		i += size
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i == len(pattern) {
				return nil, fmt.Errorf("glob %q ends with a lone backslash", pattern)
			}
			r, size = utf8.DecodeRuneInString(pattern[i:])
			i += size
			b.WriteString(regexp.QuoteMeta(string(r)))
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	// (?s) so that '*' also crosses the odd newline a raw URL may carry.
	return regexp.MustCompile(`(?s)` + b.String()), nil
}

// compileRuleField compiles one field. The returned ruleField is usable for
// bookkeeping even when err is non-nil. The error's Set and Field are filled
// in by the caller.
func compileRuleField(f Field) (ruleField, *RuleError) {
	cf := ruleField{name: f.Name, many: f.Many, required: f.Required}
	fail := func(key string, err error) (ruleField, *RuleError) {
		return cf, &RuleError{Key: key, Err: err}
	}
	if !ruleNameRE.MatchString(f.Name) {
		return fail("name", fmt.Errorf("name %q must match [a-z0-9_]+", f.Name))
	}
	if strings.TrimSpace(f.Selector) != "" {
		sel, err := cascadia.Compile(f.Selector)
		if err != nil {
			return fail("selector", fmt.Errorf("compile selector %q: %w", f.Selector, err))
		}
		cf.sel = sel
	}
	switch take := strings.TrimSpace(f.Take); {
	case take == "" || take == "text":
		cf.take = ruleTakeText
	case take == "html":
		cf.take = ruleTakeInnerHTML
	case take == "outer_html":
		cf.take = ruleTakeOuterHTML
	case strings.HasPrefix(take, "attr:"):
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(take, "attr:")))
		if name == "" || strings.ContainsAny(name, " \t\n\r\f\"'>/=") {
			return fail("take", fmt.Errorf("take %q: bad attribute name", f.Take))
		}
		cf.take, cf.attr = ruleTakeAttr, name
	default:
		return fail("take", fmt.Errorf("unknown take %q (want text, attr:NAME, html or outer_html)", f.Take))
	}
	cf.normalize = cf.take == ruleTakeText || cf.take == ruleTakeAttr
	if f.Normalize != nil {
		cf.normalize = *f.Normalize
	}
	if f.Regex != "" {
		re, err := regexp.Compile(f.Regex)
		if err != nil {
			return fail("regex", fmt.Errorf("compile regexp %q: %w", f.Regex, err))
		}
		cf.re = re
	}
	switch t := ruleType(f.Type); t {
	case "":
		cf.typ = ruleTypeString
	case ruleTypeString, ruleTypeInt, ruleTypeFloat, ruleTypePrice, ruleTypeBool, ruleTypeURL, ruleTypeDate:
		cf.typ = t
	default:
		return fail("type", fmt.Errorf("unknown type %q (want string, int, float, price, bool, url or date)", f.Type))
	}
	if f.Default != nil {
		if f.Required {
			return fail("default", errors.New("a required field never uses its default"))
		}
		def, err := cf.typ.convertDefault(f.Default, f.Many)
		if err != nil {
			return fail("default", err)
		}
		cf.hasDef, cf.def = true, def
	}
	return cf, nil
}

// convertDefault checks a YAML-decoded default against the field type and
// returns it in the form extraction produces.
func (t ruleType) convertDefault(v any, many bool) (any, error) {
	if many {
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("default for a many field must be a list, not %T", v)
		}
		out := make([]any, len(list))
		for i, e := range list {
			c, err := t.convertDefault(e, false)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
			out[i] = c
		}
		return out, nil
	}
	wrong := func() (any, error) {
		if _, ok := v.(time.Time); ok && t != ruleTypeDate {
			return nil, fmt.Errorf("default is a date but the field type is %s (quote it to make a string)", t)
		}
		return nil, fmt.Errorf("default %v (%T) does not fit type %s", v, v, t)
	}
	switch t {
	case ruleTypeString, ruleTypeURL:
		s, ok := v.(string)
		if !ok {
			return wrong()
		}
		if t == ruleTypeURL {
			if _, err := url.Parse(ruleCleanURL(s)); err != nil {
				return nil, fmt.Errorf("default: %w", err)
			}
		}
		return s, nil
	case ruleTypeInt:
		switch n := v.(type) {
		case int:
			return int64(n), nil
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case uint64:
			if n > 1<<63-1 {
				return nil, fmt.Errorf("default %d overflows int64", n)
			}
			return int64(n), nil
		case float64:
			if n != float64(int64(n)) {
				return wrong()
			}
			return int64(n), nil
		}
		return wrong()
	case ruleTypeFloat, ruleTypePrice:
		switch n := v.(type) {
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case int32:
			return float64(n), nil
		case uint64:
			return float64(n), nil
		case float64:
			if math.IsNaN(n) || math.IsInf(n, 0) {
				// YAML's .nan and .inf: JSON has no way to write them.
				return nil, fmt.Errorf("default must be a finite number, got %g", n)
			}
			return n, nil
		case float32:
			return t.convertDefault(float64(n), false)
		}
		return wrong()
	case ruleTypeBool:
		b, ok := v.(bool)
		if !ok {
			return wrong()
		}
		return b, nil
	case ruleTypeDate:
		switch d := v.(type) {
		case time.Time:
			return d.Format(time.RFC3339Nano), nil
		case string:
			s, err := ruleParseDate(d)
			if err != nil {
				return nil, fmt.Errorf("default: %w", err)
			}
			return s, nil
		}
		return wrong()
	}
	return wrong()
}

// Match returns the rule sets whose pattern matches rawURL, in rule order.
func (r *Rules) Match(rawURL string) []*CompiledSet {
	if r == nil {
		return nil
	}
	var out []*CompiledSet
	for _, s := range r.sets {
		if s.match.MatchString(rawURL) {
			out = append(out, s)
		}
	}
	return out
}

// Names returns the rule set names in rule order.
func (r *Rules) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, len(r.sets))
	for i, s := range r.sets {
		names[i] = s.name
	}
	return names
}

// Extract applies every rule set matching pageURL to doc and returns the
// items in rule order, then page order. A field that cannot be read or
// converted is recorded in its item's Errors; Extract never panics on a
// malformed page. When pageURL is nil, doc.Url is used.
func (r *Rules) Extract(pageURL *url.URL, doc *goquery.Document) []Item {
	if r == nil || doc == nil || len(doc.Nodes) == 0 {
		return nil
	}
	if pageURL == nil {
		pageURL = doc.Url
	}
	raw := ""
	if pageURL != nil {
		raw = pageURL.String()
	}
	var (
		items   []Item
		base    *url.URL
		hasBase bool
	)
	for _, s := range r.Match(raw) {
		if s.hasURL && !hasBase {
			base, hasBase = ruleBaseURL(pageURL, doc), true
		}
		items = s.extract(items, doc.Nodes[0], base)
	}
	return items
}

// ruleBaseURL returns the URL relative references on the page resolve
// against: the first <base href>, resolved against the page URL.
func ruleBaseURL(page *url.URL, doc *goquery.Document) *url.URL {
	href, ok := doc.Find("base[href]").First().Attr("href")
	if !ok {
		return page
	}
	u, err := url.Parse(ruleCleanURL(href))
	if err != nil {
		return page
	}
	if page != nil {
		return page.ResolveReference(u)
	}
	if u.IsAbs() {
		return u
	}
	return nil
}

func (s *CompiledSet) extract(items []Item, doc *html.Node, base *url.URL) []Item {
	if s.root == nil {
		return append(items, s.item(0, doc, base))
	}
	for i, n := range ruleQuery(doc, s.root, true) {
		items = append(items, s.item(i, n, base))
	}
	return items
}

// item evaluates all fields against one context node.
func (s *CompiledSet) item(index int, ctx *html.Node, base *url.URL) Item {
	it := Item{Set: s.name, Index: index, Fields: make(map[string]any, len(s.fields))}
	for i := range s.fields {
		f := &s.fields[i]
		v, ok, errs := f.eval(ctx, base)
		it.Errors = append(it.Errors, errs...)
		switch {
		case ok:
			it.Fields[f.name] = v
		case f.required && len(errs) == 0:
			it.Errors = append(it.Errors, fmt.Sprintf("field %q: required, no match", f.name))
		case f.hasDef:
			it.Fields[f.name] = f.defaultValue(base)
		}
	}
	return it
}

// defaultValue returns the default, with url defaults resolved like
// extracted values.
func (f *ruleField) defaultValue(base *url.URL) any {
	if f.typ != ruleTypeURL {
		return f.def
	}
	if list, ok := f.def.([]any); ok {
		out := make([]any, len(list))
		for i, e := range list {
			out[i] = ruleResolveDefault(e.(string), base)
		}
		return out
	}
	return ruleResolveDefault(f.def.(string), base)
}

func ruleResolveDefault(s string, base *url.URL) string {
	if v, err := ruleResolveURL(s, base); err == nil {
		return v
	}
	return s
}

// eval reads the field from ctx. ok is false when the field is missing;
// errs holds conversion failures, which also leave the value missing.
func (f *ruleField) eval(ctx *html.Node, base *url.URL) (v any, ok bool, errs []string) {
	var nodes []*html.Node
	if f.sel == nil {
		nodes = []*html.Node{ctx}
	} else {
		nodes = ruleQuery(ctx, f.sel, f.many)
	}
	if !f.many {
		if len(nodes) == 0 {
			return nil, false, nil
		}
		v, ok, err := f.value(nodes[0], base)
		if err != nil {
			return nil, false, []string{fmt.Sprintf("field %q: %v", f.name, err)}
		}
		return v, ok, nil
	}
	var list []any
	for i, n := range nodes {
		v, ok, err := f.value(n, base)
		if err != nil {
			errs = append(errs, fmt.Sprintf("field %q[%d]: %v", f.name, i, err))
			continue
		}
		if ok {
			list = append(list, v)
		}
	}
	if len(list) == 0 {
		return nil, false, errs
	}
	return list, true, errs
}

// value reads and converts one node. ok is false when the node yields
// nothing (no such attribute, empty text, regex did not match).
func (f *ruleField) value(n *html.Node, base *url.URL) (v any, ok bool, err error) {
	var s string
	switch f.take {
	case ruleTakeText:
		var b strings.Builder
		ruleNodeText(&b, n, f.normalize, true)
		s = b.String()
	case ruleTakeAttr:
		found := false
		for _, a := range n.Attr {
			if a.Namespace == "" && a.Key == f.attr {
				s, found = a.Val, true
				break
			}
		}
		if !found {
			return nil, false, nil
		}
	case ruleTakeInnerHTML:
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if err := html.Render(&b, c); err != nil {
				return nil, false, fmt.Errorf("render html: %w", err)
			}
		}
		s = b.String()
	case ruleTakeOuterHTML:
		var b strings.Builder
		if err := html.Render(&b, n); err != nil {
			return nil, false, fmt.Errorf("render html: %w", err)
		}
		s = b.String()
	}
	switch {
	case f.normalize && f.typ == ruleTypeURL:
		// Browsers drop tabs and newlines inside URLs rather than reading
		// them as spaces; ruleCleanURL does the same.
		s = strings.TrimSpace(s)
	case f.normalize:
		s = strings.Join(strings.Fields(s), " ")
	}
	if f.re != nil {
		m := f.re.FindStringSubmatchIndex(s)
		if m == nil {
			return nil, false, nil
		}
		if len(m) >= 4 {
			if m[2] < 0 {
				return nil, false, nil
			}
			s = s[m[2]:m[3]]
		} else {
			s = s[m[0]:m[1]]
		}
	}
	if strings.TrimSpace(s) == "" {
		return nil, false, nil
	}
	v, err = f.typ.convert(s, base)
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// ruleQuery returns the descendants of ctx (not ctx itself) that sel
// matches, in document order; only the first unless all is set.
func ruleQuery(ctx *html.Node, sel cascadia.Selector, all bool) []*html.Node {
	var out []*html.Node
	for c := ctx.FirstChild; c != nil; c = c.NextSibling {
		if all {
			out = append(out, sel.MatchAll(c)...)
			continue
		}
		if n := sel.MatchFirst(c); n != nil {
			return []*html.Node{n}
		}
	}
	return out
}

// ruleBlockElement reports whether tag separates words in normalized text:
// "<li>a</li><li>b</li>" reads as "a b", not "ab".
func ruleBlockElement(tag string) bool {
	switch tag {
	case "address", "article", "aside", "blockquote", "br", "caption", "dd",
		"details", "dialog", "div", "dl", "dt", "fieldset", "figcaption",
		"figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
		"header", "hgroup", "hr", "img", "li", "main", "nav", "ol", "option",
		"p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
		"th", "thead", "tr", "ul":
		return true
	}
	return false
}

// ruleNodeText appends the text of n. The content of script, style,
// template and noscript elements below the selected node is skipped (a
// selected script element itself yields its text, for inline JSON). When
// spaced is set, block boundaries and <br> add a space.
func ruleNodeText(b *strings.Builder, n *html.Node, spaced, top bool) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(n.Data)
		return
	case html.ElementNode:
		if !top {
			switch n.Data {
			case "script", "style", "template", "noscript":
				return
			}
		}
	case html.DocumentNode:
	default:
		return
	}
	block := spaced && n.Type == html.ElementNode && ruleBlockElement(n.Data)
	if block {
		b.WriteByte(' ')
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		ruleNodeText(b, c, spaced, false)
	}
	if block {
		b.WriteByte(' ')
	}
}
