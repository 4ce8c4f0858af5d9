package parse

import (
	"net/url"
	"strings"
	"testing"
)

func TestRuleParsePrice(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"$1,299.99", 1299.99},
		{"1.299,99 €", 1299.99},
		{"€ 12,50", 12.5},
		{"12.50 USD", 12.5},
		{"1 299,99", 1299.99},
		{"1\u00a0299,99\u00a0€", 1299.99},
		{"1\u202f299,99 €", 1299.99},
		{"CHF 1'299.50", 1299.5},
		{"1’299.50", 1299.5},
		{"£12", 12},
		{"12,-", 12},
		{"12.–", 12},
		{"1,234", 1234},
		{"1.234", 1234},
		{"1,234,567", 1234567},
		{"1.234.567,89", 1234567.89},
		{"1,234,567.89", 1234567.89},
		{"12,34,567.00", 1234567},
		{"1,5", 1.5},
		{"1.5", 1.5},
		{"0,125", 0.125},
		{"0.500", 0.5},
		{",99", 0.99},
		{"€ .5", 0.5},
		{"-.5", -0.5},
		{"v.2", 2},
		{"1234,567", 1234.567},
		{"1234.56", 1234.56},
		{"12 500 000 ₽", 12500000},
		{"Now only $19.99! Was $29.99", 19.99},
		{"£12.99 (£1.30/100g)", 12.99},
		{"-$5.00", -5},
		{"$-5.00", -5},
		{"Discount: -12,50 €", -12.5},
		{"SKU-5", 5},
		{"USD5", 5},
		{"¥1,000", 1000},
		{"0", 0},
	}
	for _, tt := range tests {
		got, err := ruleParsePrice(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ruleParsePrice(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}

	bad := []string{
		"",
		"free",
		"Preis auf Anfrage",
		"€",
		"1.2.3",
		"1,234.567.89",
		"1,234 567,00.5",
		strings.Repeat("9", 400),
	}
	for _, in := range bad {
		if got, err := ruleParsePrice(in); err == nil {
			t.Errorf("ruleParsePrice(%q) = %v, nil, want an error", in, got)
		}
	}
}

func TestRuleParseFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"4.5", 4.5},
		{"1.234", 1.234},
		{" -0.25 ", -0.25},
		{"1e-3", 0.001},
		{"1,234", 1234},
		{"4,5 von 5", 4.5},
		{"Rated 4.5 out of 5", 4.5},
		{"1.299,99", 1299.99},
	}
	for _, tt := range tests {
		got, err := ruleParseFloat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ruleParseFloat(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"NaN", "Inf", "-Infinity", "n/a"} {
		if got, err := ruleParseFloat(in); err == nil {
			t.Errorf("ruleParseFloat(%q) = %v, nil, want an error", in, got)
		}
	}
}

func TestRuleParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"42", 42},
		{"1,234", 1234},
		{"1 234", 1234},
		{"1\u00a0234", 1234},
		{"1.234", 1234},
		{"1'234'567", 1234567},
		{"1,234 reviews", 1234},
		{"(87 ratings)", 87},
		{"-7", -7},
		{"3.00", 3},
		{"9223372036854775807", 9223372036854775807},
		{"12 345", 12345},
		{"1 2345", 1},
	}
	for _, tt := range tests {
		got, err := ruleParseInt(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ruleParseInt(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "none", "2.5", "1,5", "9223372036854775808", "1.2.3"} {
		if got, err := ruleParseInt(in); err == nil {
			t.Errorf("ruleParseInt(%q) = %v, nil, want an error", in, got)
		}
	}
}

func TestRuleParseBool(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"true", true}, {"TRUE", true}, {"yes", true}, {"Yes", true}, {"1", true}, {"on", true},
		{"false", false}, {"No", false}, {"0", false}, {"off", false},
		{"In stock", true}, {"  in   STOCK ", true}, {"In stock!", true}, {"InStock", true},
		{"https://schema.org/InStock", true}, {"http://schema.org/OutOfStock", false},
		{"Out of stock", false}, {"Sold out", false}, {"out of stock.", false},
	}
	for _, tt := range tests {
		got, err := ruleParseBool(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ruleParseBool(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "maybe", "2", "only 3 left", "Auf Lager"} {
		if got, err := ruleParseBool(in); err == nil {
			t.Errorf("ruleParseBool(%q) = %v, nil, want an error", in, got)
		}
	}
}

func TestRuleParseDate(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"2024-03-05T09:30:00+01:00", "2024-03-05T09:30:00+01:00"},
		{"2024-03-05T09:30:00Z", "2024-03-05T09:30:00Z"},
		{"2024-03-05T09:30:00.250Z", "2024-03-05T09:30:00.25Z"},
		{"2024-03-05T09:30:00+0100", "2024-03-05T09:30:00+01:00"},
		{"2024-03-05T09:30:00", "2024-03-05T09:30:00Z"},
		{"2024-03-05T09:30", "2024-03-05T09:30:00Z"},
		{"2024-03-05 09:30:00", "2024-03-05T09:30:00Z"},
		{"2024-03-05 09:30", "2024-03-05T09:30:00Z"},
		{"2024-03-05", "2024-03-05T00:00:00Z"},
		{"2024/03/05", "2024-03-05T00:00:00Z"},
		{"05.03.2024", "2024-03-05T00:00:00Z"},
		{"5.3.2024", "2024-03-05T00:00:00Z"},
		{"05 Mar 2024", "2024-03-05T00:00:00Z"},
		{"5 March 2024", "2024-03-05T00:00:00Z"},
		{"5th March 2024", "2024-03-05T00:00:00Z"},
		{"Mar 5, 2024", "2024-03-05T00:00:00Z"},
		{"March 5, 2024", "2024-03-05T00:00:00Z"},
		{"March 5th, 2024", "2024-03-05T00:00:00Z"},
		{"march 1st 2024", "2024-03-01T00:00:00Z"},
		{"Tuesday, March 5, 2024", "2024-03-05T00:00:00Z"},
		{"Tue, 05 Mar 2024 09:30:00 GMT", "2024-03-05T09:30:00Z"},
		{"Tue, 05 Mar 2024 09:30:00 +0200", "2024-03-05T09:30:00+02:00"},
		{"5-Mar-2024", "2024-03-05T00:00:00Z"},
		{"  Mar   5,\n 2024 ", "2024-03-05T00:00:00Z"},
		// Slashed dates: month/day unless the first number cannot be a month.
		{"03/05/2024", "2024-03-05T00:00:00Z"},
		{"3/5/2024", "2024-03-05T00:00:00Z"},
		{"13/05/2024", "2024-05-13T00:00:00Z"},
		{"05/13/2024", "2024-05-13T00:00:00Z"},
		{"03/05/2024 14:07", "2024-03-05T14:07:00Z"},
		{"02/29/2024", "2024-02-29T00:00:00Z"},
	}
	for _, tt := range tests {
		got, err := ruleParseDate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ruleParseDate(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []string{
		"",
		"yesterday",
		"2024-13-01",
		"02/30/2024",
		"31/31/2024",
		"13/13/2024",
		"03/05/2024 25:00",
		"2024-03-05 09:30:00 EST", // an abbreviation Go cannot place
		"Mar 2024",
	}
	for _, in := range bad {
		if got, err := ruleParseDate(in); err == nil {
			t.Errorf("ruleParseDate(%q) = %q, nil, want an error", in, got)
		}
	}
}

func TestRuleResolveURL(t *testing.T) {
	base, err := url.Parse("https://shop.example/a/b/page.html?x=1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want string
	}{
		{"img.png", "https://shop.example/a/b/img.png"},
		{"../img.png", "https://shop.example/a/img.png"},
		{"/root", "https://shop.example/root"},
		{"//cdn.example/x.js", "https://cdn.example/x.js"},
		{"?page=2", "https://shop.example/a/b/page.html?page=2"},
		{"#top", "https://shop.example/a/b/page.html?x=1#top"},
		{" \n/spaced\t/path ", "https://shop.example/spaced/path"},
		{"http://other.example/p", "http://other.example/p"},
		{"mailto:shop@example.com", "mailto:shop@example.com"},
		{`\\evil.com\x`, "https://evil.com/x"},
		{"/a%zz", "https://shop.example/a%25zz"},
		{"/a b", "https://shop.example/a%20b"},
	}
	for _, tt := range tests {
		got, err := ruleResolveURL(tt.in, base)
		if err != nil || got != tt.want {
			t.Errorf("ruleResolveURL(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
	if got, err := ruleResolveURL("http://[::1", base); err == nil {
		t.Errorf("ruleResolveURL(%q) = %q, nil, want an error", "http://[::1", got)
	}
	if got, err := ruleResolveURL("relative", nil); err == nil {
		t.Errorf("ruleResolveURL(%q, nil) = %q, nil, want an error", "relative", got)
	}
}

// TestRuleURLsResolveLikeLinks checks that a url field and a link resolve
// the same href against the same base.
func TestRuleURLsResolveLikeLinks(t *testing.T) {
	r := ruleTestCompile(t, RuleSet{Name: "s", Match: "*", Fields: []Field{
		{Name: "u", Selector: "a", Take: "attr:href", Type: "url"},
	}})
	tests := []struct {
		head, href, want string
	}{
		{"", `\\evil.com\x`, "https://evil.com/x"},
		{"", `/\evil.com/x`, "https://evil.com/x"},
		{"", "/a%zz", "https://example.com/a%25zz"},
		{"", "/100%/p q", "https://example.com/100%25/p%20q"},
		{"", "http:other.example/p", "http://other.example/p"},
		{"", "?q=2#f", "https://example.com/dir/page.html?q=2#f"},
		{"", " \t../up\n", "https://example.com/up"},
		{`<base href="//cdn.example/x/">`, "p", "https://cdn.example/x/p"},
		{`<base href="javascript:alert(1)">`, "p", "https://example.com/dir/p"},
		{`<base href="data:text/html,x">`, "p", "https://example.com/dir/p"},
		{`<base href="http://[bad">`, "p", "https://example.com/dir/p"},
		{`<base href="  \\b.example\d\ ">`, "p", "https://b.example/d/p"},
		{`<base href="/%zz/">`, "p", "https://example.com/%25zz/p"},
	}
	for _, tt := range tests {
		body := tt.head + `<a href="` + tt.href + `">x</a>`
		p := ruleTestParse(t, body, testPageURL)
		if len(p.Links) != 1 || p.Links[0].URL.String() != tt.want {
			t.Errorf("HTML(%q).Links = %v, want one link to %s", body, testLinks(p.Links), tt.want)
		}
		items := r.Extract(p)
		if len(items) != 1 || items[0].Fields["u"] != tt.want || len(items[0].Errors) > 0 {
			t.Errorf("Extract(%q) = %+v, want url field %s", body, items, tt.want)
		}
	}
}
