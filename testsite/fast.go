package testsite

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Fast mode: page 0 of each host is "/", page n > 0 is "/p/<n>". Page n
// links to its tree children n*fastFanout+1 .. n*fastFanout+fastFanout (so
// every page is reachable within a few hops of "/"), then to pseudo-random
// pages, one in ten on another host, up to fastLinks links in all. Pages
// that changes add (ids from the initial page count on) have no tree
// children, and "/" links them after its usual links.
const (
	fastLinks  = 50
	fastFanout = 40
	fastFiller = 24 // distinct filler paragraphs, one before each link
)

type fastRef struct{ host, id int32 }

type fastSite struct {
	seed     uint64
	hosts    []string
	prefixes []string // "http://addr:port" per host
	n        int      // pages per host
	filler   [][]byte
	pool     sync.Pool // *[]byte page buffers
	hist     *history  // class 0: pages 1 .. n-1, then the added ones

	baseMod    []string // Last-Modified of a page unchanged since generation 0
	robotsETag []string
	robotsBody []byte
	robotsMod  []string
}

var (
	ctHTML  = []string{"text/html; charset=utf-8"}
	ctPlain = []string{"text/plain; charset=utf-8"}
)

// fastBaseMod is the Last-Modified time of Fast pages at generation 0.
var fastBaseMod = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

func newFastSite(seed int64, hosts []string, pages int, rates ChangeRates) *fastSite {
	f := &fastSite{seed: uint64(seed), hosts: hosts, n: max(1, pages)}
	f.hist = newHistory(seed, rates, len(hosts), f.n-1)
	f.baseMod = []string{fastBaseMod.Format(http.TimeFormat)}
	f.robotsBody = []byte("User-agent: *\nAllow: /\n")
	f.robotsETag = []string{`"` + strconv.FormatUint(xxhash.Sum64(f.robotsBody), 16) + `"`}
	f.robotsMod = f.baseMod
	for _, h := range hosts {
		f.prefixes = append(f.prefixes, "http://"+h)
	}
	r := newRNG(f.seed, strHash("fast-filler"))
	for range fastFiller {
		b := []byte(`<p class="filler">`)
		for len(b) < 540 {
			b = r.sentence(b, r.between(8, 20))
			b = append(b, ' ')
		}
		f.filler = append(f.filler, append(b, "</p>\n"...))
	}
	f.pool.New = func() any {
		b := make([]byte, 0, 40<<10)
		return &b
	}
	return f
}

// links appends the targets of page id on host h to dst.
func (f *fastSite) links(dst []fastRef, h, id int) []fastRef {
	for c := id*fastFanout + 1; c <= id*fastFanout+fastFanout && c < f.n; c++ {
		dst = append(dst, fastRef{int32(h), int32(c)})
	}
	for k := 0; len(dst) < fastLinks; k++ {
		x := mix(f.seed, uint64(h), uint64(id), uint64(k))
		th := h
		if len(f.hosts) > 1 && x%10 == 0 {
			th = int((x >> 8) % uint64(len(f.hosts)))
		}
		dst = append(dst, fastRef{int32(th), int32((x >> 20) % uint64(f.n))})
	}
	return dst
}

func (f *fastSite) appendPath(b []byte, id int32) []byte {
	if id == 0 {
		return append(b, '/')
	}
	b = append(b, "/p/"...)
	return strconv.AppendInt(b, int64(id), 10)
}

// pageID parses "/" or "/p/<n>", whether or not page n exists.
func (f *fastSite) pageID(path string) (int, bool) {
	if path == "/" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(path, "/p/")
	if !ok {
		return 0, false
	}
	return decimal(rest)
}

// fastPage is what the change history says about a Fast page at one
// generation.
type fastPage struct {
	exists   bool  // created by then (removed or not)
	gone     int   // 404 or 410 once removed
	edits    int   // text edits so far
	added    int   // for "/": pages added so far, linked after the usual links
	modified int32 // generation of the last change; 0 for none
}

// page returns the state of page id of host h at generation g. The
// caller holds hist.mu for reading and has ensured g.
func (f *fastSite) page(h, id, g int) fastPage {
	if id == 0 {
		added := f.hist.count(h, classProduct, g) - (f.n - 1)
		return fastPage{exists: true, added: added, modified: f.hist.lastNew(h, g)}
	}
	it := f.hist.get(h, classProduct, id, g)
	if it == nil {
		return fastPage{}
	}
	p := fastPage{exists: true, modified: it.created}
	if !it.alive(g) {
		p.gone = goneStatus(id)
	}
	var last int32
	p.edits, last = upTo(it.text, g)
	p.modified = max(p.modified, last)
	return p
}

// etag is the entity tag of a page: a digest of everything its bytes
// depend on, so it changes exactly when they do, without hashing the body.
func (f *fastSite) etag(h, id int, p fastPage) string {
	var b [24]byte
	e := append(b[:0], '"')
	e = strconv.AppendUint(e, mix(f.seed, uint64(h), uint64(id), uint64(p.edits), uint64(p.added)), 16)
	return string(append(e, '"'))
}

// appendPage appends page id of host h in state p.
func (f *fastSite) appendPage(b []byte, h, id int, p fastPage) []byte {
	b = append(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page "...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, " of host "...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, "</title></head>\n<body>\n<h1>Page "...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, "</h1>\n"...)
	if p.edits > 0 {
		b = append(b, `<p class="revision">Revised: revision `...)
		b = strconv.AppendInt(b, int64(p.edits), 10)
		b = append(b, ".</p>\n"...)
	}
	var buf [fastLinks]fastRef
	x := mix(f.seed, uint64(h), uint64(id))
	for i, l := range f.links(buf[:0], h, id) {
		b = append(b, f.filler[(x+uint64(i))%fastFiller]...)
		b = append(b, `<p><a href="`...)
		if int(l.host) != h {
			b = append(b, f.prefixes[l.host]...)
		}
		b = f.appendPath(b, l.id)
		b = append(b, `">Page `...)
		b = strconv.AppendInt(b, int64(l.id), 10)
		b = append(b, "</a></p>\n"...)
	}
	for k := p.added; k >= 1; k-- {
		id := int32(f.n - 1 + k)
		b = append(b, `<p class="new"><a href="`...)
		b = f.appendPath(b, id)
		b = append(b, `">New page `...)
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, "</a></p>\n"...)
	}
	return append(b, "</body>\n</html>\n"...)
}

// goneText is the body of a removed Fast page.
func goneText(status int) []byte { return []byte(http.StatusText(status) + "\n") }

// serve answers a request to content host h in Fast mode at generation g.
func (f *fastSite) serve(w http.ResponseWriter, r *http.Request, h, g int) {
	hdr := w.Header()
	if r.URL.Path == "/robots.txt" {
		hdr["Etag"] = f.robotsETag
		hdr["Last-Modified"] = f.robotsMod
		if st := preconditions(r, f.robotsETag[0], fastBaseMod); st != 0 {
			w.WriteHeader(st)
			return
		}
		hdr["Content-Type"] = ctPlain
		w.Write(f.robotsBody)
		return
	}
	id, ok := f.pageID(r.URL.Path)
	var p fastPage
	if ok {
		f.hist.rlock()
		p = f.page(h, id, g)
		f.hist.runlock()
	}
	switch {
	case !p.exists:
		http.NotFound(w, r)
		return
	case p.gone != 0:
		hdr["Content-Type"] = ctPlain
		w.WriteHeader(p.gone)
		w.Write(goneText(p.gone))
		return
	}
	etag := f.etag(h, id, p)
	hdr["Etag"] = []string{etag}
	mod := fastBaseMod
	if p.modified > 0 {
		mod = genTime(p.modified)
		hdr["Last-Modified"] = []string{mod.Format(http.TimeFormat)}
	} else {
		hdr["Last-Modified"] = f.baseMod
	}
	if st := preconditions(r, etag, mod); st != 0 {
		w.WriteHeader(st)
		return
	}
	bp := f.pool.Get().(*[]byte)
	b := f.appendPage((*bp)[:0], h, id, p)
	hdr["Content-Type"] = ctHTML
	hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
	*bp = b
	f.pool.Put(bp)
}

// expected returns every page of every host that a crawl from "/" finds
// at generation g, with its status: at generation 0 all of them (the tree
// links make every page reachable), later without the pages only removed
// pages linked. It walks the graph, so a broken generator shows. The
// caller holds hist.mu for reading and has ensured g.
func (f *fastSite) expected(g int) map[string]int {
	got := make(map[string]int)
	for r, st := range f.walk(g) {
		got[f.url(r)] = st
	}
	return got
}

func (f *fastSite) url(r fastRef) string {
	return string(f.appendPath([]byte(f.prefixes[r.host]), r.id))
}

// walk returns the pages expected returns, with their statuses.
func (f *fastSite) walk(g int) map[fastRef]int {
	seen := make([][]bool, len(f.hosts))
	for h := range seen {
		seen[h] = make([]bool, f.hist.count(h, classProduct, g)+1)
	}
	got := make(map[fastRef]int)
	var queue []fastRef
	push := func(r fastRef) {
		if seen[r.host][r.id] {
			return
		}
		seen[r.host][r.id] = true
		queue = append(queue, r)
	}
	for h := range f.hosts {
		push(fastRef{int32(h), 0})
	}
	var buf [fastLinks]fastRef
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		p := f.page(int(r.host), int(r.id), g)
		if p.gone != 0 {
			got[r] = p.gone
			continue
		}
		got[r] = http.StatusOK
		for _, l := range f.links(buf[:0], int(r.host), int(r.id)) {
			push(l)
		}
		for k := 1; k <= p.added; k++ {
			push(fastRef{r.host, int32(f.n - 1 + k)})
		}
	}
	return got
}

// truth fills out with Site.Truth(g) of a Fast site: every page a crawl
// finds and every page removed by generation g. The caller holds hist.mu
// for reading and has ensured g.
func (f *fastSite) truth(g int, out map[string]PageTruth) {
	pages := f.walk(g)
	for h := range f.hosts {
		for id := 1; id <= f.hist.count(h, classProduct, g); id++ {
			if it := f.hist.get(h, classProduct, id, g); !it.alive(g) {
				pages[fastRef{int32(h), int32(id)}] = goneStatus(id)
			}
		}
	}
	for r, status := range pages {
		p := f.page(int(r.host), int(r.id), g)
		t := PageTruth{Status: status}
		if status == http.StatusOK {
			t.ETag = f.etag(int(r.host), int(r.id), p)
			t.LastModified = fastBaseMod
			if p.modified > 0 {
				t.LastModified = genTime(p.modified)
			}
			t.Hash = strconv.FormatUint(xxhash.Sum64(f.appendPage(nil, int(r.host), int(r.id), p)), 16)
		} else {
			t.Hash = strconv.FormatUint(xxhash.Sum64(goneText(status)), 16)
		}
		out[f.url(r)] = t
	}
}

// changed returns the URLs whose status or body differs between
// generations from and to (from <= to, both ensured), and how.
func (f *fastSite) changed(from, to int) map[string]ChangeKind {
	out := make(map[string]ChangeKind)
	for h := range f.hosts {
		for id := 1; id <= f.hist.count(h, classProduct, to); id++ {
			it := f.hist.get(h, classProduct, id, to)
			if k := itemChange(it, from, to); k != 0 {
				out[f.url(fastRef{int32(h), int32(id)})] = k
			}
			if int(it.created) > from {
				out[f.prefixes[h]+"/"] = ChangeLinks
			}
		}
	}
	return out
}
