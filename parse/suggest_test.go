package parse

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const suggestProduct = `<!doctype html><html><head><title>Kettle</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"Product","name":"Foldable Linen Kettle",
"sku":"DB-363","offers":{"@type":"Offer","price":"366.79","priceCurrency":"GBP","availability":"https://schema.org/OutOfStock"}}</script>
</head><body><nav><a href="/">Home</a></nav>
<article class="product">
<h1 class="product-name">Foldable Linen Kettle</h1>
<p class="price" data-currency="GBP">£366.79</p>
<span class="sku">DB-363</span>
<p class="availability out-of-stock">Out of stock</p>
</article></body></html>`

const suggestListing = `<!doctype html><html><head><title>Kitchen</title></head><body>
<div class="grid">
<div class="product-card"><h3 class="name"><a href="/product/1">Cork Umbrella</a></h3><span class="price">741,75 €</span></div>
<div class="product-card"><h3 class="name"><a href="/product/2">Glass Lamp</a></h3><span class="price">12,50 €</span></div>
<div class="product-card"><h3 class="name"><a href="/product/3">Oak Table</a></h3><span class="price">1.299,99 €</span>
<span class="badge">Out of stock</span></div>
</div>
<ul class="pages"><li><a href="?page=2">2</a></li></ul>
</body></html>`

func TestSuggestRulesProduct(t *testing.T) {
	u, _ := url.Parse("http://shop.example/product/12")
	got := SuggestRules(u, []byte(suggestProduct))
	want := []RuleSet{{Name: "product", Match: "*/product/*", Fields: []Field{
		{Name: "name", Selector: "h1.product-name", Required: true},
		{Name: "price", Selector: "p.price", Type: "price"},
		{Name: "sku", Selector: "span.sku"},
		{Name: "in_stock", Selector: "p.availability", Type: "bool"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SuggestRules (-want +got):\n%s", diff)
	}
}

func TestSuggestRulesListing(t *testing.T) {
	u, _ := url.Parse("http://shop.example/category/kitchen?page=1")
	got := SuggestRules(u, []byte(suggestListing))
	want := []RuleSet{{Name: "product_card", Match: "*/category/*", Root: "div.product-card", Fields: []Field{
		{Name: "url", Selector: "a", Take: "attr:href", Type: "url", Required: true},
		{Name: "title", Selector: "h3.name"},
		{Name: "price", Selector: "span.price", Type: "price"},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SuggestRules (-want +got):\n%s", diff)
	}
	rules, err := CompileRules(got)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := HTML(u, []byte(suggestListing), Options{Tree: true})
	items := rules.Extract(doc)
	if len(items) != 3 || items[2].Fields["price"] != 1299.99 || items[0].Fields["url"] != "http://shop.example/product/1" {
		t.Errorf("items %+v", items)
	}
}

func TestSuggestRulesNothing(t *testing.T) {
	u, _ := url.Parse("http://shop.example/about")
	if got := SuggestRules(u, []byte("<html><body><p>About us</p><a href='/'>home</a></body></html>")); got != nil {
		t.Errorf("SuggestRules of a plain page = %+v, want nil", got)
	}
	if m := MatchFor(u); !strings.HasPrefix(m, "re:^http://shop\\.example/about$") {
		t.Errorf("MatchFor(%s) = %q", u, m)
	}
}
