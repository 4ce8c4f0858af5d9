package testsite

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file is the site's change history: which products and articles
// (Fast mode: pages) were edited, repriced, removed or added at each
// generation. Like the content, it is a pure function of the seed, the
// rates and the generation, so two sites with the same options change in
// the same way.

// ChangeRates says how much of each content host changes from one
// generation to the next (see [Site.Advance]). Each share is of the host's
// live pages of one kind at the previous generation — products and
// articles separately; in Fast mode the pages other than "/" — and is
// rounded to the nearest whole page, so the number of changed pages is
// exact: round(share × live). One page changes in at most one way per
// generation. The zero value changes nothing.
type ChangeRates struct {
	// Text is the share of live products and articles whose text is
	// edited: one paragraph of the description or the article is
	// rewritten. In Fast mode a revision note is added to the page.
	Text float64
	// Price is the share of live products whose price changes, to a price
	// the product never had before. Not available in Fast mode.
	Price float64
	// Remove is the share of live products and articles removed. A
	// removed page answers 410 Gone when its id is odd and 404 Not Found
	// when it is even, from then on, and so do its datasheet and JSON (or
	// its print version and editions); links to it stay where they were.
	Remove float64
	// New adds this share of the live count of products and of articles
	// as new pages, numbered on from the last id. The home page lists
	// every page added so far ("New arrivals", "New in the journal"; Fast
	// mode: links after the usual ones) and the sitemap includes them.
	New float64
}

func (c ChangeRates) zero() bool { return c == ChangeRates{} }

func (c ChangeRates) validate(fast bool) error {
	for _, v := range []struct {
		name string
		x    float64
	}{{"Text", c.Text}, {"Price", c.Price}, {"Remove", c.Remove}, {"New", c.New}} {
		if !(v.x >= 0 && v.x <= 1) { // also rejects NaN
			return fmt.Errorf("change rate %s = %v, want a share in [0, 1]", v.name, v.x)
		}
	}
	if s := c.Text + c.Price + c.Remove; s > 1 {
		return fmt.Errorf("change rates Text + Price + Remove = %v, want at most 1 (a page changes in one way per generation)", s)
	}
	if fast && c.Price > 0 {
		return fmt.Errorf("change rate Price = %v: Fast mode has no prices", c.Price)
	}
	return nil
}

// MaxGeneration is the highest generation a site can be set to; the
// history of every generation up to the current one is kept in memory.
const MaxGeneration = 10000

// genEpoch is the modification time of a change made at generation 1;
// each later generation is one day later. Pages unchanged since
// generation 0 carry their sitemap date in 2025, so every change is newer.
var genEpoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// genTime is when a change made at generation g > 0 happened.
func genTime(g int32) time.Time { return genEpoch.AddDate(0, 0, int(g)-1) }

// Page classes of the change history.
const (
	classProduct = 0 // products; in Fast mode the pages /p/1 ...
	classArticle = 1
)

// item is the change history of one product, article or Fast page.
type item struct {
	created int32   // generation it appeared (0 for the initial pages)
	removed int32   // generation it was removed; 0 while it lives
	text    []int32 // generations of text edits, ascending
	price   []int32 // generations of price changes, ascending
}

// alive reports whether the page exists and answers 200 at generation g.
func (it *item) alive(g int) bool {
	return int(it.created) <= g && (it.removed == 0 || int(it.removed) > g)
}

// upTo returns how many of the ascending generations gens are <= g, and
// the last of them (0 when none is).
func upTo(gens []int32, g int) (n int, last int32) {
	n = sort.Search(len(gens), func(i int) bool { return int(gens[i]) > g })
	if n > 0 {
		last = gens[n-1]
	}
	return n, last
}

// hostHistory is the change history of one content host.
type hostHistory struct {
	items   [2][]item // by class; item i has id i+1
	initial [2]int    // number of items at generation 0
	changed []int32   // generations in which anything on the host changed, ascending
}

// history is the change history of every content host, computed one
// generation at a time up to the highest generation asked for.
type history struct {
	seed    uint64
	rates   ChangeRates
	classes int // 2 for the normal site, 1 in Fast mode

	// static is set when the rates change nothing: no per-page history
	// is kept, and every initial page is zero, alive and unchanged.
	static bool
	zero   item

	mu    sync.RWMutex // guards upTo and hosts; readers hold it while they render
	upTo  int          // generations computed
	hosts []hostHistory
}

// newHistory starts the history of hosts hosts with initial[c] items of
// each class c.
func newHistory(seed int64, rates ChangeRates, hosts int, initial ...int) *history {
	hist := &history{seed: uint64(seed), rates: rates, classes: len(initial), static: rates.zero(),
		hosts: make([]hostHistory, hosts)}
	for h := range hist.hosts {
		hh := &hist.hosts[h]
		for c, n := range initial {
			hh.initial[c] = n
			if !hist.static {
				hh.items[c] = make([]item, n)
			}
		}
	}
	return hist
}

// ensure computes the history up to generation g.
func (hist *history) ensure(g int) {
	hist.mu.RLock()
	done := hist.upTo >= g
	hist.mu.RUnlock()
	if done {
		return
	}
	hist.mu.Lock()
	defer hist.mu.Unlock()
	for hist.upTo < g {
		next := hist.upTo + 1
		if !hist.static {
			for h := range hist.hosts {
				hist.step(h, next)
			}
		}
		hist.upTo = next
	}
}

// rlock takes the read lock that readers of the history hold while they
// render. A static history never changes after Start and needs none, so
// the benchmark's requests do not contend for it.
func (hist *history) rlock() {
	if !hist.static {
		hist.mu.RLock()
	}
}

func (hist *history) runlock() {
	if !hist.static {
		hist.mu.RUnlock()
	}
}

// share is the number of pages a rate picks out of n.
func share(rate float64, n int) int { return int(math.Round(rate * float64(n))) }

// step computes generation g of host h from generation g-1.
func (hist *history) step(h, g int) {
	hh := &hist.hosts[h]
	changed := false
	for c := range hist.classes {
		items := hh.items[c]
		var live []int32
		for i := range items {
			if items[i].alive(g - 1) {
				live = append(live, int32(i))
			}
		}
		n := len(live)
		kr := share(hist.rates.Remove, n)
		kt := min(share(hist.rates.Text, n), n-kr)
		kp := 0
		if c == classProduct {
			kp = min(share(hist.rates.Price, n), n-kr-kt)
		}
		k := kr + kt + kp
		// A partial Fisher-Yates shuffle picks k distinct live pages.
		r := newRNG(hist.seed, uint64(h), strHash("changes"), uint64(g), uint64(c))
		for i := range k {
			j := i + r.intn(n-i)
			live[i], live[j] = live[j], live[i]
		}
		for i, idx := range live[:k] {
			it := &items[idx]
			switch {
			case i < kr:
				it.removed = int32(g)
			case i < kr+kt:
				it.text = append(it.text, int32(g))
			default:
				it.price = append(it.price, int32(g))
			}
		}
		kn := share(hist.rates.New, n)
		for range kn {
			items = append(items, item{created: int32(g)})
		}
		hh.items[c] = items
		changed = changed || k > 0 || kn > 0
	}
	if changed {
		hh.changed = append(hh.changed, int32(g))
	}
}

// get returns the history of page id of class c on host h, or nil when
// there is no such page at generation g (not created yet, or never). The
// caller holds hist.mu for reading and has ensured generation g.
func (hist *history) get(h, c, id, g int) *item {
	if hist.static {
		if id >= 1 && id <= hist.hosts[h].initial[c] {
			return &hist.zero
		}
		return nil
	}
	items := hist.hosts[h].items[c]
	if id < 1 || id > len(items) || int(items[id-1].created) > g {
		return nil
	}
	return &items[id-1]
}

// count returns the number of pages of class c on host h created by
// generation g (the highest id), removed ones included.
func (hist *history) count(h, c, g int) int {
	hh := &hist.hosts[h]
	if hist.static {
		return hh.initial[c]
	}
	items := hh.items[c]
	// Items after the initial ones are in creation order.
	return hh.initial[c] + sort.Search(len(items)-hh.initial[c], func(i int) bool {
		return int(items[hh.initial[c]+i].created) > g
	})
}

// lastNew returns the generation of the newest page of host h created by
// generation g (0 when none was).
func (hist *history) lastNew(h, g int) int32 {
	var last int32
	for c := range hist.classes {
		if n := hist.count(h, c, g); n > hist.hosts[h].initial[c] {
			last = max(last, hist.hosts[h].items[c][n-1].created)
		}
	}
	return last
}

// lastChange returns the last generation <= g in which anything on host h
// changed (0 when nothing did).
func (hist *history) lastChange(h, g int) int32 {
	_, last := upTo(hist.hosts[h].changed, g)
	return last
}

// goneStatus is what a removed page answers: 410 for odd ids, 404 for even.
func goneStatus(id int) int {
	if id%2 == 1 {
		return 410
	}
	return 404
}

// ChangeKind says how a URL changed between two generations, as a set of
// flags: a page edited in one generation and repriced in another has
// ChangeText|ChangePrice.
type ChangeKind uint8

const (
	// ChangeText: the page's own text was edited.
	ChangeText ChangeKind = 1 << iota
	// ChangePrice: a price shown on the page changed (a product page, its
	// JSON, a listing or the home page showing the product's card).
	ChangePrice
	// ChangeLinks: links to new pages were added (the home page).
	ChangeLinks
	// ChangeNew: the page answers 200 at the later generation and did not
	// exist at the earlier one.
	ChangeNew
	// ChangeRemoved: the page answered 200 at the earlier generation and
	// answers 404 or 410 at the later one.
	ChangeRemoved
)

// String returns the flags' names joined by "|", such as "text|price".
func (k ChangeKind) String() string {
	var names []string
	for i, name := range []string{"text", "price", "links", "new", "removed"} {
		if k&(1<<i) != 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

// itemChange is how one item changed between generations from and to.
func itemChange(it *item, from, to int) ChangeKind {
	was, is := it.alive(from), it.alive(to)
	switch {
	case !was && is:
		return ChangeNew
	case was && !is:
		return ChangeRemoved
	case !was:
		return 0
	}
	var k ChangeKind
	a, _ := upTo(it.text, from)
	if b, _ := upTo(it.text, to); a != b {
		k |= ChangeText
	}
	if priceChanged(it, from, to) {
		k |= ChangePrice
	}
	return k
}

// priceChanged reports whether the price of a product changed between
// generations from and to, whether or not it still exists: a card keeps
// showing the price a removed product had last.
func priceChanged(it *item, from, to int) bool {
	a, _ := upTo(it.price, from)
	b, _ := upTo(it.price, to)
	return a != b
}
