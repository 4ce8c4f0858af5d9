package testsite

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Fast mode: page 0 of each host is "/", page n > 0 is "/p/<n>". Page n
// links to its tree children n*fastFanout+1 .. n*fastFanout+fastFanout (so
// every page is reachable within a few hops of "/"), then to pseudo-random
// pages, one in ten on another host, up to fastLinks links in all.
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
}

var (
	ctHTML  = []string{"text/html; charset=utf-8"}
	ctPlain = []string{"text/plain; charset=utf-8"}
)

func newFastSite(seed int64, hosts []string, pages int) *fastSite {
	f := &fastSite{seed: uint64(seed), hosts: hosts, n: max(1, pages)}
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

// pageID parses "/" or "/p/<n>".
func (f *fastSite) pageID(path string) (int, bool) {
	if path == "/" {
		return 0, true
	}
	rest, ok := strings.CutPrefix(path, "/p/")
	if !ok {
		return 0, false
	}
	id, ok := decimal(rest)
	return id, ok && id < f.n
}

// appendPage appends page id of host h.
func (f *fastSite) appendPage(b []byte, h, id int) []byte {
	b = append(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page "...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, " of host "...)
	b = strconv.AppendInt(b, int64(h), 10)
	b = append(b, "</title></head>\n<body>\n<h1>Page "...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, "</h1>\n"...)
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
	return append(b, "</body>\n</html>\n"...)
}

func (f *fastSite) handler(h int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		if r.URL.Path == "/robots.txt" {
			hdr["Content-Type"] = ctPlain
			w.Write([]byte("User-agent: *\nAllow: /\n"))
			return
		}
		id, ok := f.pageID(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		bp := f.pool.Get().(*[]byte)
		b := f.appendPage((*bp)[:0], h, id)
		hdr["Content-Type"] = ctHTML
		hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(b)
		}
		*bp = b
		f.pool.Put(bp)
	})
}

// expected returns every page of every host: the tree links make all of
// them reachable. It still walks the graph, so a broken generator shows.
func (f *fastSite) expected() map[string]int {
	seen := make([][]bool, len(f.hosts))
	for h := range seen {
		seen[h] = make([]bool, f.n)
	}
	got := make(map[string]int)
	var queue []fastRef
	push := func(r fastRef) {
		if seen[r.host][r.id] {
			return
		}
		seen[r.host][r.id] = true
		queue = append(queue, r)
		got[string(f.appendPath([]byte(f.prefixes[r.host]), r.id))] = http.StatusOK
	}
	for h := range f.hosts {
		push(fastRef{int32(h), 0})
	}
	var buf [fastLinks]fastRef
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, l := range f.links(buf[:0], int(r.host), int(r.id)) {
			push(l)
		}
	}
	return got
}
