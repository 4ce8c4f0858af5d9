// Package sitemap parses sitemaps: sitemaps.org XML url sets and sitemap
// indexes, plain-text sitemaps, and RSS 2.0 / RSS 1.0 / Atom feeds used as
// sitemaps, optionally gzip-compressed.
//
// Parsing is pure (bytes in, entries out) and streaming: memory does not grow
// with the size of the input, only with the entries kept, and every size is
// capped. XML entities are never expanded: any DTD is refused.
package sitemap

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/url"
	"strings"
	"time"
)

// Limits from the sitemaps.org protocol, used when Options leaves a cap at zero.
const (
	// DefaultMaxBytes is the largest uncompressed sitemap sitemaps.org allows
	// (52,428,800 bytes).
	DefaultMaxBytes = 50 << 20
	// DefaultMaxURLs is the most URLs (or child sitemaps) one file may list.
	DefaultMaxURLs = 50000
)

// Internal caps that keep memory bounded whatever the input.
const (
	// maxToken bounds a single XML token (a text run, tag, comment, CDATA
	// section), since encoding/xml holds a whole token in memory.
	maxToken = 1 << 20
	// maxField bounds the text kept for one field (loc, lastmod, ...); a
	// longer value is discarded.
	maxField = 64 << 10
	// maxDepth bounds element nesting; no sitemap or feed needs more.
	maxDepth = 256
	// maxLine bounds a line of a plain-text sitemap; longer lines are skipped
	// (sitemaps.org asks for URLs shorter than 2,048 characters).
	maxLine = 16 << 10
)

// Kinds of sitemap reported in Result.Kind.
const (
	KindURLSet = "urlset"
	KindIndex  = "index"
	KindText   = "text"
	KindRSS    = "rss"
	KindAtom   = "atom"
)

// Errors returned by Parse; test for them with errors.Is.
var (
	// ErrTooLarge reports that the decompressed input passed Options.MaxBytes
	// or that a single XML token or the nesting depth passed an internal cap.
	// The Result holds what was parsed before that point.
	ErrTooLarge = errors.New("sitemap too large")
	// ErrEntity reports an XML document type declaration (DOCTYPE, ENTITY and
	// other DTD directives). They are refused rather than ignored, so external
	// entities (XXE) and entity expansion (billion laughs) can never apply.
	ErrEntity = errors.New("xml dtd or entity declaration refused")
	// ErrNamespace reports, with Options.StrictNamespace, a url set or sitemap
	// index whose root element is not in a sitemaps.org namespace.
	ErrNamespace = errors.New("sitemap namespace not accepted")
	// ErrFormat reports input that is none of the supported formats, such as
	// an HTML page or an XML document with an unknown root element.
	ErrFormat = errors.New("unknown sitemap format")
)

// Options controls Parse. The zero value applies the sitemaps.org limits.
type Options struct {
	// MaxBytes caps the decompressed bytes read (default DefaultMaxBytes).
	// Past it Parse returns ErrTooLarge with what was parsed so far.
	MaxBytes int64
	// MaxURLs caps the entries kept, page URLs or child sitemaps (default
	// DefaultMaxURLs). Reaching it sets Result.Truncated and stops parsing
	// without an error.
	MaxURLs int
	// StrictNamespace refuses (ErrNamespace) a url set or sitemap index whose
	// root is not in a sitemaps.org namespace, and ignores elements in other
	// namespaces. Without it, elements are matched by local name. Feeds are
	// never checked.
	StrictNamespace bool
	// AllowAnyLocation keeps page URLs outside the sitemap's location. By
	// default, as sitemaps.org requires, a page URL is kept only if it has the
	// sitemap's scheme and host and its path starts with the sitemap's
	// directory. A caller that found the sitemap through the robots.txt of the
	// pages' host (sitemaps.org cross-submission) may set it.
	AllowAnyLocation bool
}

// Entry is one URL listed by a sitemap: a page, or a child sitemap of an index.
type Entry struct {
	// Loc is the absolute http(s) URL as written, with surrounding space
	// removed and XML escapes decoded; it is not canonicalized.
	Loc string
	// LastMod is the last modification time in UTC, zero if absent or
	// unparsable (lastmod, RSS pubDate or dc:date, Atom updated).
	LastMod time.Time
	// ChangeFreq is one of always, hourly, daily, weekly, monthly, yearly,
	// never; empty if absent or invalid.
	ChangeFreq string
	// Priority is in [0, 1]; 0 if absent or invalid.
	Priority float64
}

// Result is what Parse found.
type Result struct {
	// Kind is KindURLSet, KindIndex, KindText, KindRSS or KindAtom; empty if
	// the format was never recognised.
	Kind string
	// URLs are the pages listed by a url set, text sitemap or feed.
	URLs []Entry
	// Sitemaps are the child sitemaps listed by an index. They are not
	// subject to the location rule (crawler-commons does not apply it either);
	// the caller's scope rules decide whether to fetch them.
	Sitemaps []Entry
	// LastMod is the feed's own modification time (the later of an RSS
	// channel's pubDate and lastBuildDate, or an Atom feed's updated); zero
	// for other kinds.
	LastMod time.Time
	// Skipped counts entries dropped because their URL was missing, invalid
	// or outside the sitemap's location.
	Skipped int
	// Truncated reports that a cap (MaxURLs, MaxBytes or an internal one)
	// was hit, so the file may list more than URLs and Sitemaps hold.
	Truncated bool
}

// Parse reads a sitemap fetched from sitemapURL, which must be an absolute
// http(s) URL. It never expands XML entities: a DOCTYPE or entity declaration
// is refused with ErrEntity.
//
// The format is sniffed from the bytes, since servers mislabel sitemaps often:
// gzip by its magic bytes (one layer), then XML if the first character after
// an optional UTF-8 byte order mark and white space is '<', otherwise plain
// text. contentType (may be "") is only a guard: a body labelled HTML or XML
// that does not start like XML is refused with ErrFormat instead of being
// read as text.
//
// Entries without a valid absolute http(s) URL are skipped, and so are page
// URLs outside the sitemap's location unless o.AllowAnyLocation is set; see
// Result.Skipped. Duplicates are kept: deduplication belongs to the frontier.
//
// Parse always returns a non-nil Result. On error it holds the entries read
// before the error, so a caller may use a partial result (for ErrTooLarge or
// a syntax error late in a large file) or discard it.
func Parse(sitemapURL string, body io.Reader, contentType string, o Options) (*Result, error) {
	res := &Result{}
	base, err := url.Parse(sitemapURL)
	if err != nil {
		return res, fmt.Errorf("parse sitemap url %q: %w", sitemapURL, err)
	}
	if !isHTTP(base) {
		return res, fmt.Errorf("sitemap url %q: not an absolute http(s) url", sitemapURL)
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxURLs <= 0 {
		o.MaxURLs = DefaultMaxURLs
	}

	raw := bufio.NewReader(body)
	var src io.Reader = raw
	if magic, _ := raw.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return res, fmt.Errorf("read gzip header: %w", err)
		}
		defer gz.Close()
		src = gz
	}
	in := bufio.NewReaderSize(&capReader{r: src, max: o.MaxBytes, left: o.MaxBytes}, maxLine)

	first, err := skipPreamble(in)
	if err != nil && err != io.EOF {
		return res, finish(res, fmt.Errorf("read sitemap: %w", err))
	}

	c := &collector{res: res, max: o.MaxURLs, base: base, anyLoc: o.AllowAnyLocation}
	if first == '<' {
		return res, finish(res, parseXML(in, c, o.StrictNamespace))
	}
	if mt := mediaType(contentType); strings.Contains(mt, "html") || strings.Contains(mt, "xml") {
		return res, fmt.Errorf("content type %q but body is not xml: %w", contentType, ErrFormat)
	}
	res.Kind = KindText
	return res, finish(res, parseText(in, c))
}

// finish marks res truncated when err is a size cap and passes err through.
func finish(res *Result, err error) error {
	if errors.Is(err, ErrTooLarge) {
		res.Truncated = true
	}
	return err
}

// skipPreamble consumes a UTF-8 byte order mark and leading white space and
// returns the first byte that follows, left unread; 0 and io.EOF for an
// empty body.
func skipPreamble(r *bufio.Reader) (byte, error) {
	if bom, _ := r.Peek(3); len(bom) == 3 && bom[0] == 0xef && bom[1] == 0xbb && bom[2] == 0xbf {
		r.Discard(3)
	}
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, r.UnreadByte()
	}
}

func mediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(contentType))
	}
	return mt
}

// capReader returns up to max bytes of r and then ErrTooLarge if r has more.
type capReader struct {
	r    io.Reader
	max  int64
	left int64 // bytes still allowed
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// At the cap: find out whether anything follows.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("sitemap over %d bytes: %w", c.max, ErrTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// collector validates entries and keeps them within the cap.
type collector struct {
	res    *Result
	max    int
	base   *url.URL
	anyLoc bool
}

// errFull stops parsing once the entry cap is reached; Parse reports it as
// Result.Truncated, not as an error.
var errFull = errors.New("entry cap reached")

// add keeps e as a page URL (index false) or child sitemap (index true) if
// its URL is valid, and returns errFull if the cap was already reached.
func (c *collector) add(e Entry, index bool) error {
	e.Loc = strings.TrimSpace(e.Loc)
	u, err := url.Parse(e.Loc)
	if e.Loc == "" || err != nil || !isHTTP(u) || (!index && !c.anyLoc && !under(u, c.base)) {
		c.res.Skipped++
		return nil
	}
	list := &c.res.URLs
	if index {
		list = &c.res.Sitemaps
	}
	if len(*list) >= c.max {
		c.res.Truncated = true
		return errFull
	}
	*list = append(*list, e)
	return nil
}

func isHTTP(u *url.URL) bool {
	s := strings.ToLower(u.Scheme)
	return (s == "http" || s == "https") && u.Host != "" && u.Hostname() != ""
}

// under reports whether u is within the location of the sitemap at base, as
// sitemaps.org defines it: same scheme and host (and port), and a path that
// starts with the sitemap's directory. The query of base plays no part, so a
// sitemap at /index.php?feed/rss covers /.
func under(u, base *url.URL) bool {
	if !strings.EqualFold(u.Scheme, base.Scheme) ||
		!strings.EqualFold(u.Hostname(), base.Hostname()) ||
		port(u) != port(base) {
		return false
	}
	dir := base.EscapedPath()
	dir = dir[:strings.LastIndexByte(dir, '/')+1]
	if dir == "" {
		dir = "/"
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	return strings.HasPrefix(p, dir)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}
