package testsite

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	"golang.org/x/text/encoding/charmap"
)

// Hostile host roles, in address order after the content hosts.
const (
	RoleRobots404      = "robots404"
	RoleRobots500      = "robots500"
	RoleRobotsRedirect = "robotsredirect"
	RoleCrawlDelay     = "crawldelay"
	RoleRateLimited    = "ratelimited"
	RoleFlaky          = "flaky"
	RoleDrip           = "drip"
	RoleHuge           = "huge"
	RoleBomb           = "bomb"
	RoleLoops          = "loops"
	RoleTraps          = "traps"
	RoleCharsets       = "charsets"
	RoleSSRF           = "ssrf"
	RoleDepthOrder     = "depthorder"
)

var hostileRoles = []string{
	RoleRobots404, RoleRobots500, RoleRobotsRedirect, RoleCrawlDelay, RoleRateLimited, RoleFlaky,
	RoleDrip, RoleHuge, RoleBomb, RoleLoops, RoleTraps, RoleCharsets, RoleSSRF, RoleDepthOrder,
}

// Sizes and timings of the hostile payloads.
const (
	HugeSize        = 50 << 20 // bytes of /huge and /huge-length
	GzipBombSize    = 1 << 30  // inflated bytes of /bomb.html and of the bomb host's /sitemap.xml
	BrotliBombSize  = 1 << 30  // inflated bytes of /bomb-br.html
	ChainLength     = 20       // redirects from /chain/0 to /chain/20
	gzipBombChunk   = 128 << 10
	brotliBombChunk = 1 << 20
	// SlowHeaders is how long the crawldelay host's /slow-headers waits
	// before it answers.
	SlowHeaders = time.Second
	// DepthSteps is the number of pages from the depthorder host's "/" to
	// the page that links /target.
	DepthSteps = 12
)

// Robots500Late are the paths of the robots500 host that other hosts link
// to: a crawler meets them after it gave the host up.
var Robots500Late = []string{"/page/3", "/page/4", "/page/5"}

// hostileSite serves the hostile hosts.
type hostileSite struct {
	port  int
	hosts map[string]string // role -> "addr:port", set before serving

	mu     sync.Mutex
	counts map[string]int // "role path?query" -> requests so far; guarded by mu

	gzipOnce  sync.Once
	gzipBomb  []byte
	spaceOnce sync.Once
	spaceBomb []byte // gzip of GzipBombSize spaces
	brOnce    sync.Once
	brBomb    []byte

	// dripExit receives (without blocking) each time a /drip response
	// ends, so tests can see that the handler stopped.
	dripExit chan struct{}
}

func newHostileSite(port int) *hostileSite {
	return &hostileSite{port: port, counts: make(map[string]int), dripExit: make(chan struct{}, 16)}
}

// count increments and returns the request count of r's path and query.
func (hs *hostileSite) count(role string, r *http.Request) int {
	key := role + " " + r.URL.EscapedPath() + "?" + r.URL.RawQuery
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.counts[key]++
	return hs.counts[key]
}

func write(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func writeHTML(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	write(w, r, status, "text/html; charset=utf-8", body)
}

func redirect(w http.ResponseWriter, r *http.Request, status int, to string) {
	w.Header().Set("Location", to)
	writeHTML(w, r, status, []byte("<!DOCTYPE html>\n<title>Moved</title>\n"))
}

// simplePage is a small UTF-8 page linking to hrefs, written as given.
func simplePage(title string, hrefs ...string) []byte {
	var b bytes.Buffer
	t := html.EscapeString(title)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>" + t + "</title></head>\n<body>\n<h1>" + t + "</h1>\n")
	if len(hrefs) > 0 {
		b.WriteString("<ul>\n")
		for _, h := range hrefs {
			e := html.EscapeString(h)
			b.WriteString(`<li><a href="` + e + `">` + e + "</a></li>\n")
		}
		b.WriteString("</ul>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}

const allowAll = "User-agent: *\nAllow: /\n"

var (
	reNumbered = regexp.MustCompile(`^/(page|secret|public|item|p)/[1-9][0-9]*$`)
	reCalendar = regexp.MustCompile(`^/calendar/([1-9][0-9]{0,3})/([1-9][0-9]?)$`)
	reDeepA    = regexp.MustCompile(`^(/a)+/$`)
	reChain    = regexp.MustCompile(`^/chain/(0|[1-9][0-9]*)$`)
)

func (hs *hostileSite) handler(role string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		if path == "/robots.txt" {
			hs.robots(w, r, role)
			return
		}
		switch role {
		case RoleRobots404, RoleRobots500, RoleRobotsRedirect, RoleCrawlDelay:
			hs.numbered(w, r, role)
		case RoleRateLimited:
			hs.rateLimited(w, r)
		case RoleFlaky:
			hs.flaky(w, r)
		case RoleDrip:
			hs.drip(w, r)
		case RoleHuge:
			hs.huge(w, r)
		case RoleBomb:
			hs.bomb(w, r)
		case RoleLoops:
			hs.loops(w, r)
		case RoleTraps:
			hs.traps(w, r)
		case RoleCharsets:
			hs.charsets(w, r)
		case RoleSSRF:
			hs.ssrf(w, r)
		case RoleDepthOrder:
			hs.depthOrder(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func (hs *hostileSite) robots(w http.ResponseWriter, r *http.Request, role string) {
	const plain = "text/plain; charset=utf-8"
	switch role {
	case RoleRobots404:
		write(w, r, http.StatusNotFound, plain, []byte("not found\n"))
	case RoleRobots500:
		write(w, r, http.StatusInternalServerError, plain, []byte("internal error\n"))
	case RoleRobotsRedirect:
		redirect(w, r, http.StatusMovedPermanently, "/real-robots.txt")
	case RoleCrawlDelay:
		write(w, r, http.StatusOK, plain, []byte("User-agent: *\nCrawl-delay: 1\nAllow: /\n"))
	case RoleBomb:
		write(w, r, http.StatusOK, plain, []byte(allowAll+"Sitemap: http://"+r.Host+"/sitemap.xml\n"))
	default:
		write(w, r, http.StatusOK, plain, []byte(allowAll))
	}
}

// numbered serves the robots404, robots500, robotsredirect and crawldelay
// hosts: an index and a few numbered pages.
func (hs *hostileSite) numbered(w http.ResponseWriter, r *http.Request, role string) {
	path := r.URL.Path
	switch {
	case path == "/":
		var links []string
		switch role {
		case RoleRobots404:
			links = []string{"/page/1", "/page/2", "/secret/1"}
		case RoleRobots500:
			links = []string{"/page/1", "/page/2"}
		case RoleRobotsRedirect:
			links = []string{"/public/1", "/public/2", "/secret/1", "/secret/2"}
		case RoleCrawlDelay:
			links = []string{"/page/1", "/page/2", "/page/3", "/page/4", "/page/5", "/slow-headers"}
		}
		writeHTML(w, r, http.StatusOK, simplePage(role+" index", links...))
	case role == RoleRobotsRedirect && path == "/real-robots.txt":
		write(w, r, http.StatusOK, "text/plain; charset=utf-8", []byte("User-agent: *\nDisallow: /secret/\n"))
	case role == RoleCrawlDelay && path == "/slow-headers":
		t := time.NewTimer(SlowHeaders)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		writeHTML(w, r, http.StatusOK, simplePage("slow headers"))
	case role == RoleCrawlDelay && path == "/page/5":
		// Met late (a second per request): the robots500 host is given up
		// by then; the depthorder host's /r is a shorter way to its /target.
		var links []string
		for _, p := range Robots500Late {
			links = append(links, "http://"+hs.hosts[RoleRobots500]+p)
		}
		links = append(links, "http://"+hs.hosts[RoleDepthOrder]+"/r")
		writeHTML(w, r, http.StatusOK, simplePage(role+" "+path, links...))
	case reNumbered.MatchString(path):
		writeHTML(w, r, http.StatusOK, simplePage(role+" "+path))
	default:
		http.NotFound(w, r)
	}
}

// rateLimited answers 429 to the first request of every path, 503 with an
// HTTP-date Retry-After to the second request of /item/<even>, then 200.
func (hs *hostileSite) rateLimited(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path != "/" && !(strings.HasPrefix(path, "/item/") && reNumbered.MatchString(path)) {
		http.NotFound(w, r)
		return
	}
	n := hs.count(RoleRateLimited, r)
	switch {
	case n == 1:
		w.Header().Set("Retry-After", "2")
		writeHTML(w, r, http.StatusTooManyRequests, []byte("<!DOCTYPE html>\n<title>Too many requests</title>\n"))
		return
	case n == 2 && isEvenItem(path):
		w.Header().Set("Retry-After", time.Now().Add(3*time.Second).UTC().Format(http.TimeFormat))
		writeHTML(w, r, http.StatusServiceUnavailable, []byte("<!DOCTYPE html>\n<title>Service unavailable</title>\n"))
		return
	}
	if path == "/" {
		writeHTML(w, r, http.StatusOK, simplePage("ratelimited index", "/item/1", "/item/2", "/item/3", "/item/4", "/item/5", "/item/6"))
		return
	}
	if path == "/item/6" {
		// Met after waits for 429 and 503: the robots500 host is given up by then.
		writeHTML(w, r, http.StatusOK, simplePage("ratelimited "+path, "http://"+hs.hosts[RoleRobots500]+Robots500Late[0]))
		return
	}
	writeHTML(w, r, http.StatusOK, simplePage("ratelimited "+path))
}

func isEvenItem(path string) bool {
	id, ok := strings.CutPrefix(path, "/item/")
	return ok && (id[len(id)-1]-'0')%2 == 0
}

// flaky answers 500 to the first two requests of every path, then 200.
func (hs *hostileSite) flaky(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path != "/" && !(strings.HasPrefix(path, "/p/") && reNumbered.MatchString(path)) {
		http.NotFound(w, r)
		return
	}
	if hs.count(RoleFlaky, r) <= 2 {
		writeHTML(w, r, http.StatusInternalServerError, []byte("<!DOCTYPE html>\n<title>Temporary failure</title>\n"))
		return
	}
	if path == "/" {
		writeHTML(w, r, http.StatusOK, simplePage("flaky index", "/p/1", "/p/2", "/p/3", "/p/4", "/p/5"))
		return
	}
	writeHTML(w, r, http.StatusOK, simplePage("flaky "+path))
}

const dripText = "<!DOCTYPE html>\n<html><head><title>Drip</title></head><body><p>This page never ends. "

// drip sends one byte per second until the client goes away or the site
// closes; the first byte goes out at once.
func (hs *hostileSite) drip(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("drip index", "/drip"))
		return
	case "/drip":
	default:
		http.NotFound(w, r)
		return
	}
	defer func() {
		select {
		case hs.dripExit <- struct{}{}:
		default:
		}
	}()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 0; ; i++ {
		c := dripText[i%len(dripText)]
		if i >= len(dripText) {
			c = '.'
		}
		if _, err := w.Write([]byte{c}); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
	}
}

// huge streams HugeSize bytes of HTML generated on the fly: /huge without
// a Content-Length (chunked), /huge-length with one.
func (hs *hostileSite) huge(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("huge index", "/huge", "/huge-length"))
		return
	case "/huge":
	case "/huge-length":
		w.Header().Set("Content-Length", strconv.Itoa(HugeSize))
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	const head = "<!DOCTYPE html>\n<html><head><title>Huge</title></head><body>\n"
	const tail = "</body></html>\n"
	block := make([]byte, 0, 32<<10)
	rg := newRNG(strHash("huge"))
	for len(block) < cap(block)-1024 {
		block = append(block, "<p>"...)
		block = rg.paragraph(block)
		block = append(block, "</p>\n"...)
	}
	left := HugeSize - len(head) - len(tail)
	if _, err := w.Write([]byte(head)); err != nil {
		return
	}
	ctx := r.Context()
	for left > 0 {
		if ctx.Err() != nil {
			return
		}
		n := min(left, len(block))
		if _, err := w.Write(block[:n]); err != nil {
			return
		}
		left -= n
	}
	w.Write([]byte(tail))
}

// bomb serves compression bombs, built on first use and kept.
func (hs *hostileSite) bomb(w http.ResponseWriter, r *http.Request) {
	var body []byte
	switch r.URL.Path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("bomb index", "/bomb.html", "/bomb-br.html", "/archive.gz"))
		return
	case "/sitemap.xml", "/archive.gz":
		// gzip said only by the Content-Type: no Content-Encoding.
		hs.spaceOnce.Do(func() { hs.spaceBomb = gzipFill(' ', GzipBombSize, gzipBombChunk) })
		write(w, r, http.StatusOK, "application/x-gzip", hs.spaceBomb)
		return
	case "/bomb.html":
		hs.gzipOnce.Do(func() { hs.gzipBomb = gzipFill(0, GzipBombSize, gzipBombChunk) })
		body = hs.gzipBomb
		w.Header().Set("Content-Encoding", "gzip")
	case "/bomb-br.html":
		hs.brOnce.Do(func() { hs.brBomb = brotliZeros(BrotliBombSize, brotliBombChunk) })
		body = hs.brBomb
		w.Header().Set("Content-Encoding", "br")
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Vary", "Accept-Encoding")
	writeHTML(w, r, http.StatusOK, body)
}

// gzipFill returns a gzip member that inflates to total bytes c (total
// must be a multiple of chunk). Compressing a gigabyte takes tens of
// seconds, so it compresses one chunk with a fresh compressor and repeats
// it: a sync-flushed deflate block sequence from a fresh compressor refers
// only to its own output, so the copies decode correctly one after
// another. The CRC-32 is computed over the real inflated stream.
func gzipFill(c byte, total, chunk int) []byte {
	zeros := bytes.Repeat([]byte{c}, chunk)
	var one bytes.Buffer
	fw, _ := flate.NewWriter(&one, flate.BestCompression)
	fw.Write(zeros)
	fw.Flush()
	var end bytes.Buffer
	fe, _ := flate.NewWriter(&end, flate.BestCompression)
	fe.Close() // a final, empty block

	n := total / chunk
	out := make([]byte, 0, 10+n*one.Len()+end.Len()+8)
	// Header: magic, deflate, no flags, no mtime, max compression, OS unknown.
	out = append(out, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255)
	var crc uint32
	for range n {
		out = append(out, one.Bytes()...)
		crc = crc32.Update(crc, crc32.IEEETable, zeros)
	}
	out = append(out, end.Bytes()...)
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(total))
}

// brotliZeros returns a brotli stream that inflates to total zero bytes
// (total must be a multiple of chunk). Like gzipFill it avoids compressing
// the whole gigabyte: once flushed chunks of zeros come out byte-identical
// (the encoder has reached a steady state, which it does after the first
// chunk), the rest of the stream is copies of that chunk; if they ever
// differ, it compresses everything.
func brotliZeros(total, chunk int) []byte {
	var buf bytes.Buffer
	bw := brotli.NewWriterOptions(&buf, brotli.WriterOptions{Quality: 5, LGWin: 24})
	zeros := make([]byte, chunk)
	var out, prev []byte
	steady := false
	for i := range total / chunk {
		if steady {
			out = append(out, prev...)
			continue
		}
		bw.Write(zeros)
		bw.Flush() // ends the meta-block on a byte boundary
		cur := buf.Bytes()
		out = append(out, cur...)
		steady = i > 0 && bytes.Equal(cur, prev)
		prev = append(prev[:0], cur...)
		buf.Reset()
	}
	bw.Close() // an empty last meta-block, whatever came before
	return append(out, buf.Bytes()...)
}

// loops serves a two-URL redirect loop, a self-redirect and a chain of
// ChainLength redirects.
func (hs *hostileSite) loops(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("loops index", "/loop/a", "/loop/self", "/chain/0"))
		return
	case "/loop/a":
		redirect(w, r, http.StatusFound, "/loop/b")
		return
	case "/loop/b":
		redirect(w, r, http.StatusFound, "/loop/a")
		return
	case "/loop/self":
		redirect(w, r, http.StatusMovedPermanently, "/loop/self")
		return
	}
	if m := reChain.FindStringSubmatch(path); m != nil {
		k, _ := strconv.Atoi(m[1])
		switch {
		case k < ChainLength:
			redirect(w, r, http.StatusFound, "/chain/"+strconv.Itoa(k+1))
		case k == ChainLength:
			writeHTML(w, r, http.StatusOK, simplePage("end of the chain"))
		default:
			http.NotFound(w, r)
		}
		return
	}
	http.NotFound(w, r)
}

var searchSorts = []string{"price", "name", "date", "rating"}

// traps serves URL spaces without end.
func (hs *hostileSite) traps(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/":
		writeHTML(w, r, http.StatusOK, simplePage("traps index", "/calendar/2026/11", "a/", "/search?q=1&sort=price"))
	case reCalendar.MatchString(path):
		m := reCalendar.FindStringSubmatch(path)
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo > 12 {
			http.NotFound(w, r)
			return
		}
		py, pm, ny, nm := y, mo-1, y, mo+1
		if pm == 0 {
			py, pm = y-1, 12
		}
		if nm == 13 {
			ny, nm = y+1, 1
		}
		var links []string
		if py >= 1 {
			links = append(links, "/calendar/"+strconv.Itoa(py)+"/"+strconv.Itoa(pm))
		}
		if ny <= 9999 {
			links = append(links, "/calendar/"+strconv.Itoa(ny)+"/"+strconv.Itoa(nm))
		}
		writeHTML(w, r, http.StatusOK, simplePage("Calendar "+m[1]+"-"+m[2], links...))
	case reDeepA.MatchString(path):
		writeHTML(w, r, http.StatusOK, simplePage("Directory "+path, "a/"))
	case path == "/search":
		q := r.URL.Query()
		n, ok := decimal(q.Get("q"))
		sort := q.Get("sort")
		page := 1
		if q.Has("page") {
			page, ok = decimal(q.Get("page"))
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		var links []string
		for _, s := range searchSorts {
			if s != sort {
				links = append(links, "/search?q="+strconv.Itoa(n)+"&sort="+s)
			}
		}
		links = append(links,
			"/search?q="+strconv.Itoa(n+1)+"&sort="+searchSorts[n%len(searchSorts)],
			"/search?q="+strconv.Itoa(n)+"&sort="+sort+"&page="+strconv.Itoa(page+1),
		)
		writeHTML(w, r, http.StatusOK, simplePage("Search results for "+strconv.Itoa(n), links...))
	default:
		http.NotFound(w, r)
	}
}

// Texts of the charsets pages, as a correct decoder shows them.
const (
	Latin1Title   = "Café crème"
	Latin1Text    = "Naïve façade, déjà vu."
	CP1252Title   = "Price: €5 “quoted”"
	CP1252Text    = "Smart ‘quotes’ — and an ellipsis…"
	UTF16Title    = "Grüße aus Köln"
	UTF16Text     = "Straße, Ärger, Öl."
	InvalidTitle  = "Invalid UTF-8"
	MalformedText = "Unclosed bold italic text"
)

func (hs *hostileSite) charsets(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("charsets index", "/latin1.html", "/cp1252.html", "/invalid-utf8.html", "/utf16.html", "/malformed.html"))
	case "/latin1.html":
		doc := "<!DOCTYPE html>\n<html><head><title>" + Latin1Title + "</title></head>\n<body><p>" + Latin1Text + "</p><a href=\"/\">index</a></body></html>\n"
		b, _ := charmap.ISO8859_1.NewEncoder().String(doc)
		write(w, r, http.StatusOK, "text/html; charset=ISO-8859-1", []byte(b))
	case "/cp1252.html":
		doc := "<!DOCTYPE html>\n<html><head><meta charset=\"windows-1252\"><title>" + CP1252Title + "</title></head>\n<body><p>" + CP1252Text + "</p><a href=\"/\">index</a></body></html>\n"
		b, _ := charmap.Windows1252.NewEncoder().String(doc)
		write(w, r, http.StatusOK, "text/html", []byte(b))
	case "/invalid-utf8.html":
		doc := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + InvalidTitle + "</title></head>\n<body><p>bad \xff\xfe bytes, a truncated \xe2\x82 sequence, an overlong \xc0\xaf slash, a lone \x80 continuation.</p><a href=\"/\">index</a></body></html>\n"
		write(w, r, http.StatusOK, "text/html; charset=utf-8", []byte(doc))
	case "/utf16.html":
		doc := "<!DOCTYPE html>\n<html><head><title>" + UTF16Title + "</title></head>\n<body><p>" + UTF16Text + "</p><a href=\"/\">index</a></body></html>\n"
		b := []byte{0xff, 0xfe}
		for _, u := range utf16.Encode([]rune(doc)) {
			b = binary.LittleEndian.AppendUint16(b, u)
		}
		write(w, r, http.StatusOK, "text/html", b)
	case "/malformed.html":
		doc := "<html><head><title>Malformed page</title>\n<body><p>Unclosed <b>bold <i>italic</b> text<p>Second paragraph <a href=/latin1.html>Latin-1 page<div><table><tr><td>cell<td>another cell</table>\n<a href='/utf16.html'>UTF-16 page</a><p><img src=x alt=\"unterminated\n"
		write(w, r, http.StatusOK, "text/html; charset=utf-8", []byte(doc))
	default:
		http.NotFound(w, r)
	}
}

// ssrf links to private, link-local and other loopback addresses. It
// never connects to them.
func (hs *hostileSite) ssrf(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/":
		p := strconv.Itoa(hs.port)
		writeHTML(w, r, http.StatusOK, simplePage("ssrf index",
			"http://10.0.0.1/",
			"http://192.168.1.1/",
			"http://169.254.169.254/latest/meta-data/",
			"http://[::1]:"+p+"/",
			"http://localhost:"+p+"/",
			"http://127.0.0.1:"+p+"/",
			"http://0x7f.1:"+p+"/",
			"http://2130706433:"+p+"/",
			"/go-private",
		))
	case "/go-private":
		redirect(w, r, http.StatusFound, "http://169.254.169.254/")
	default:
		http.NotFound(w, r)
	}
}

// depthOrder serves DepthSteps pages in a row from "/" (each its own URL
// template), the last of which links /target; /r redirects to /target.
func (hs *hostileSite) depthOrder(w http.ResponseWriter, r *http.Request) {
	step := func(i int) string { return "/step-" + string(rune('a'+i-1)) }
	switch path := r.URL.Path; path {
	case "/":
		writeHTML(w, r, http.StatusOK, simplePage("depthorder index", step(1)))
		return
	case "/r":
		redirect(w, r, http.StatusFound, "/target")
		return
	case "/target":
		writeHTML(w, r, http.StatusOK, simplePage("target"))
		return
	default:
		for i := 1; i <= DepthSteps; i++ {
			if path != step(i) {
				continue
			}
			next := "/target"
			if i < DepthSteps {
				next = step(i + 1)
			}
			writeHTML(w, r, http.StatusOK, simplePage("step "+strconv.Itoa(i), next))
			return
		}
	}
	http.NotFound(w, r)
}
