package crawl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/crawler-dev/crawler/crawl/robots"
	"github.com/crawler-dev/crawler/crawl/urlnorm"
	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// jobKind says what a worker fetches.
type jobKind int

const (
	jobPage jobKind = iota
	jobRobots
)

// job is one fetch handed from the scheduler to a worker.
type job struct {
	kind   jobKind
	lease  store.Lease
	origin string
	hostID int64
}

// errClass classifies a failed fetch for retries and host politeness.
type errClass int

const (
	classOK        errClass = iota
	classTransient          // retry later: resets, 5xx, 408
	classThrottled          // 429, 503: back off the whole host
	classPermanent          // do not retry
	classHostDown           // connection refused, unreachable, no answer in time: counts against the host
	classCanceled           // the crawl is stopping; release the lease
)

// done is a worker's report to the scheduler after a fetch.
type done struct {
	job        job
	class      errClass
	status     int
	latency    time.Duration
	retryAfter time.Duration
	robots     *robotsResult // for jobRobots
	page       bool          // a page row will be recorded
	// answerLag is how long after the worker took the job the host's
	// answer began (0: unknown). The host's pace counts from then: the
	// server saw the request at some moment between its dispatch and its
	// answer, and on a busy machine (this one or the server's) that can be
	// well after the dispatch.
	answerLag time.Duration
}

// robotsResult is a fetched robots.txt and what it means for the host.
type robotsResult struct {
	avail     robots.Availability // set unless the fetch was canceled
	rules     *robots.Robots      // the rules that apply, from robots.FromResponse
	status    int
	body      []byte
	err       string
	fetchedAt time.Time
}

// worker turns jobs into outcomes. Each worker owns one colly collector.
type worker struct {
	e      *Engine
	client *client
	body   *store.BodyEncoder // this worker's own
	seen   pageLinks          // of the page being recorded
	parser parse.Parser       // its buffers, from page to page
}

const robotsMaxBytes = 500 << 10

func (w *worker) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j, ok := <-w.e.jobs:
			if !ok {
				return
			}
			w.e.uncommitted.Add(1)
			switch j.kind {
			case jobRobots:
				w.robots(ctx, j)
			default:
				w.page(ctx, j)
			}
		}
	}
}

// robots fetches robots.txt, following redirects as RFC 9309 allows.
func (w *worker) robots(ctx context.Context, j job) {
	defer w.e.settle(1)
	e := w.e
	target := j.origin + "/robots.txt"
	res := &robotsResult{fetchedAt: time.Now()}
	d := done{job: j, robots: res}
	start := time.Now()
	for hop := 0; ; hop++ {
		r, err := w.client.get(e.fetchCtx, target, robotsMaxBytes, e.cfg.timeouts())
		if err != nil {
			if errors.Is(err, context.Canceled) {
				d.class = classCanceled
			} else {
				d.class = classHostDown
				res.err = err.Error()
				res.rules, res.avail = robots.FromResponse(0, nil)
			}
			break
		}
		if hop == 0 && !r.answered.IsZero() {
			d.answerLag = r.answered.Sub(start) // the first hop is the host's
		}
		res.status = r.status
		if next, ok := nextRobotsHop(target, r, hop); ok {
			target = next
			continue
		}
		res.rules, res.avail = robots.FromResponse(r.status, r.body)
		switch {
		case res.avail == robots.Available:
			res.body = r.body
		case res.avail == robots.Unrestricted && r.status < 400:
			res.err = "too many redirects"
		case res.avail == robots.Unreachable:
			d.class = classTransient
			res.err = fmt.Sprintf("HTTP %d", r.status)
			if r.status == 429 {
				d.class = classThrottled
				d.retryAfter = retryAfter(r.header, time.Now())
				res.err = "429 Too Many Requests"
			}
		}
		break
	}
	d.latency = time.Since(start)
	d.status = res.status
	e.done <- d
}

// nextRobotsHop returns where a robots.txt redirect leads, when it is to be
// followed: RFC 9309 allows up to robots.MaxRedirects hops.
func nextRobotsHop(target string, r *response, hop int) (string, bool) {
	if r.status < 300 || r.status >= 400 || hop >= robots.MaxRedirects {
		return "", false
	}
	base, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	loc, ok := location(base, r.header)
	if !ok || (loc.Scheme != "http" && loc.Scheme != "https") {
		return "", false
	}
	return loc.String(), true
}

// page fetches and processes one frontier URL and sends the outcome to the writer.
func (w *worker) page(ctx context.Context, j job) {
	e := w.e
	l := j.lease
	out := store.Outcome{Lease: l, Attempted: true}
	d := done{job: j}
	cond := conditional(l.Prev)
	start := time.Now()
	r, err := w.client.getIf(e.fetchCtx, l.URL, int64(e.cfg.Limits.MaxBodySize), e.cfg.timeouts(), cond)
	if err != nil {
		d.class, out.Reason = classifyErr(err)
		out.Err = err.Error()
		if d.class != classCanceled {
			e.countFetchError(out.Reason)
		}
		if d.class == classCanceled {
			out = store.Outcome{Lease: l, State: store.StateQueued}
		} else {
			e.retryOrFail(&out, d.class, 0, time.Now())
			e.scheduleRevisit(&out)
		}
		e.done <- d
		e.results <- out
		return
	}
	// The outcome refers to no byte of the body (parse copies what it
	// keeps, setBody copies or compresses), so its buffer can take the
	// worker's next fetch.
	defer w.client.release(r)
	d.latency, d.status = r.dur, r.status
	if !r.answered.IsZero() {
		d.answerLag = r.answered.Sub(start)
	}
	out.Status = r.status
	e.countResponse(r.status, r.dur, len(r.body))
	d.class = classifyStatus(r.status)
	if d.class == classThrottled {
		d.retryAfter = retryAfter(r.header, time.Now())
	}
	if d.class == classTransient || d.class == classThrottled {
		out.Reason = fmt.Sprintf("HTTP %d %s", r.status, http.StatusText(r.status))
		if e.retryOrFail(&out, d.class, d.retryAfter, time.Now()); out.State == store.StateQueued {
			e.done <- d
			e.results <- out
			return
		}
	}
	d.page = l.Prev == nil // a revisit adds no page
	e.done <- d
	switch {
	case cond != nil && r.status == http.StatusNotModified:
		notModified(&out, r)
	case w.unchanged(&out, r):
	default:
		w.record(ctx, &out, r)
		keepOnFailure(&out)
	}
	e.scheduleRevisit(&out)
	e.results <- out
}

// scheduleRevisit sets when the URL of out is due again, when recrawl is on.
func (e *Engine) scheduleRevisit(out *store.Outcome) {
	if e.revisit != nil {
		e.revisit.schedule(out, time.Now())
	}
}

// notModified records the 304 a conditional request got: the stored page
// stands, and only the time of this fetch is recorded.
func notModified(out *store.Outcome, r *response) {
	prev := out.Lease.Prev
	out.NotModified = true
	out.Status = r.status
	out.State = store.StateDone
	if prev.Status >= 400 {
		out.State = store.StateFailed
	}
	out.Reason = fmt.Sprintf("HTTP 304 Not Modified (the HTTP %d page stored stands)", prev.Status)
	out.Page = &store.Page{FinalURL: prev.FinalURL, Status: prev.Status, ContentHash: prev.ContentHash,
		FetchedAt: time.Now().Add(-r.dur), Duration: r.dur}
}

// unchanged records a revisit whose answer (2xx) is what was recorded before
// (store.Fetched.Same) and reports true: the page, its links and items are
// kept as they are, and the body is neither parsed nor stored again.
func (w *worker) unchanged(out *store.Outcome, r *response) bool {
	l := out.Lease
	if l.Prev == nil || r.status >= 300 {
		return false
	}
	p := &store.Page{FinalURL: l.URL, Status: r.status, ContentType: r.contentType, FetchedAt: time.Now().Add(-r.dur),
		Duration: r.dur, Size: len(r.body), Truncated: r.truncated, Headers: headerJSON(r.header, r.contentType),
		ContentHash: bodyHash(r.body)}
	if !l.Prev.Same(p) {
		return false
	}
	out.Page, out.State = p, store.StateDone
	out.Reason = fmt.Sprintf("HTTP %d, unchanged", r.status)
	return true
}

// keepOnFailure leaves the stored page of a revisit in place when the
// revisit failed for a reason that says nothing of the page (a server
// error, a refusal): only 404 and 410 say it is gone.
func keepOnFailure(out *store.Outcome) {
	if out.Lease.Prev == nil || out.State != store.StateFailed || out.Status == 404 || out.Status == 410 {
		return
	}
	out.Page, out.Links, out.Discovered = nil, nil, nil
}

// retryOrFail sets out to a retry (queued, due after the retry backoff or
// the server's wait, whichever is longer, from now) if attempts remain and
// the failure is one to retry, else to failed.
func (e *Engine) retryOrFail(out *store.Outcome, class errClass, wait time.Duration, now time.Time) {
	attempts := out.Lease.Attempts + 1
	if (class == classTransient || class == classThrottled || class == classHostDown) && attempts <= e.cfg.Fetch.MaxRetries {
		backoff := e.cfg.Fetch.RetryBase << (attempts - 1)
		backoff = jitter(backoff)
		out.State = store.StateQueued
		out.RetryAt = now.Add(max(backoff, wait))
		out.Reason = fmt.Sprintf("retry %d/%d: %s", attempts, e.cfg.Fetch.MaxRetries, out.Reason)
		return
	}
	out.State = store.StateFailed
	if attempts > 1 {
		out.Reason = fmt.Sprintf("%s (after %d attempts)", out.Reason, attempts)
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d*8/10 + time.Duration(rand.Int64N(int64(d*4/10)+1))
}

// classifyStatus maps an HTTP status to how it is handled.
func classifyStatus(status int) errClass {
	switch {
	case status == 429 || status == 503:
		return classThrottled
	case status == 408 || status >= 500:
		return classTransient
	case status >= 400:
		return classPermanent
	}
	return classOK
}

// classifyErr maps a fetch error to a class and a short reason. A response
// that began and then ran out of time (dripped past total_timeout, or went
// silent for idle_timeout) is not retried: another try would hold the host
// as long again, and the host did answer. No answer in time counts against
// the host, like a failed connection.
//
// A failure to connect through a proxy is classified as the failure of a
// connection, "proxy: " before the reason; it is never a permanent verdict
// on the URL (a proxy whose name does not resolve says nothing about it),
// but counts against the host like a host that is down.
func classifyErr(err error) (errClass, string) {
	var dnsErr *net.DNSError
	var te *timeoutError
	var pe *proxyError
	switch {
	case errors.Is(err, context.Canceled):
		return classCanceled, "interrupted"
	case errors.As(err, &pe):
		class, why := classifyErr(pe.err)
		if class == classPermanent {
			class = classHostDown
		}
		return class, "proxy: " + why
	case errors.As(err, &te) && te.afterHeaders:
		return classPermanent, "timeout"
	case errors.Is(err, ErrBlockedAddress):
		return classPermanent, "blocked address"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return classPermanent, "dns: no such host"
	case errors.As(err, &dnsErr):
		return classHostDown, "dns error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return classHostDown, "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return classHostDown, "host unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), isTimeout(err):
		return classHostDown, "timeout"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return classTransient, "connection reset"
	case strings.Contains(err.Error(), "unsupported content encoding"):
		return classPermanent, "bad content"
	}
	return classTransient, "fetch error"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter parses Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// recordedHeaders are the response headers kept with each page.
var recordedHeaders = []string{"Content-Type", "Content-Length", "Content-Language", "Last-Modified", "ETag",
	"Cache-Control", "Location", "Server", "X-Robots-Tag", "Retry-After", "Link"}

// record fills out with the page row, links and discoveries of a response.
func (w *worker) record(ctx context.Context, out *store.Outcome, r *response) {
	e := w.e
	l := out.Lease
	u, err := url.Parse(l.URL)
	if err != nil {
		out.State, out.Reason = store.StateFailed, "unparsable URL in frontier"
		return
	}
	mt, _, _ := mime.ParseMediaType(r.contentType)
	mt = strings.ToLower(mt)
	p := &store.Page{
		FinalURL: l.URL, Status: r.status, ContentType: r.contentType, FetchedAt: time.Now().Add(-r.dur),
		Duration: r.dur, Size: len(r.body), Truncated: r.truncated, Headers: headerJSON(r.header, r.contentType),
	}
	out.Page = p
	if out.State == "" {
		out.State = store.StateDone
	}
	if r.status >= 400 && out.State == store.StateDone {
		out.State = store.StateFailed
	}
	if out.Reason == "" {
		out.Reason = fmt.Sprintf("HTTP %d", r.status)
	}
	if r.status >= 300 && r.status < 400 {
		w.redirect(out, u, r)
		return
	}
	if l.Source == sourceSitemap {
		if r.status >= 400 && r.status < 500 {
			out.State, out.Reason = store.StateDone, fmt.Sprintf("no sitemap here (HTTP %d)", r.status)
			return
		}
		if r.status < 300 {
			w.setBody(p, r.body)
			w.recordSitemap(out, r)
			return
		}
	}
	storeBody := r.status < 300 || e.cfg.Store.ErrorBodies
	if r.status >= 300 {
		if storeBody {
			w.setBody(p, r.body)
		}
		return
	}
	if !e.cfg.ParsesType(mt) {
		w.setBody(p, r.body)
		if mt == "" {
			mt = "unknown type"
		}
		out.Reason = fmt.Sprintf("HTTP %d, %s recorded, not parsed", r.status, mt)
		return
	}
	if r.truncated {
		out.Reason = fmt.Sprintf("HTTP %d, truncated at %d bytes", r.status, e.cfg.Limits.MaxBodySize)
	}
	body, enc := parse.ToUTF8(r.body, r.contentType)
	p.Encoding = enc
	// The document tree is built only for pages extraction rules apply to:
	// the facts come from one pass over the token stream.
	rules := e.rules != nil && len(e.rules.Match(u.String())) > 0
	doc, err := w.parser.HTML(u, body, parse.Options{StructuredData: e.cfg.Parse.StructuredData,
		MainText: e.cfg.Parse.MainText || e.cfg.Dedup.detects(), Tree: rules})
	if err != nil {
		w.setBody(p, r.body)
		out.Reason = "HTML not parseable: " + err.Error()
		return
	}
	hdrNoindex, hdrNofollow := parse.RobotsDirectives(r.header.Values("X-Robots-Tag"), e.agent)
	noindex := e.cfg.Politeness.RespectNoindex && (doc.NoIndex() || hdrNoindex)
	nofollow := e.cfg.Politeness.RespectNofollow && (doc.NoFollow() || hdrNofollow)
	p.MetaRobots, p.Lang = doc.MetaRobots, doc.Lang
	p.Canonical = doc.Canonical
	if noindex {
		out.Reason = fmt.Sprintf("HTTP %d, noindex: content not stored", r.status)
		p.ContentHash = bodyHash(r.body) // for revisits: unchanged or not
	} else {
		var cut bool
		if p.Title, cut = cutUTF8(doc.Title, int(e.cfg.Parse.MaxTitle)); cut {
			p.FieldsTruncated = append(p.FieldsTruncated, fieldTitle)
		}
		if p.Description, cut = cutUTF8(doc.Description, int(e.cfg.Parse.MaxDescription)); cut {
			p.FieldsTruncated = append(p.FieldsTruncated, fieldDescription)
		}
		w.setBody(p, r.body)
		if e.cfg.Parse.StructuredData || e.cfg.Parse.MainText {
			p.Data = &store.PageData{JSONLD: doc.JSONLD, OpenGraph: doc.OpenGraph, Twitter: doc.Twitter}
			if e.cfg.Parse.MainText {
				p.Data.MainText = doc.MainText
			}
		}
		if rules {
			p.Items = storeItems(e.cfg, e.rules.Extract(doc))
		}
		if e.cfg.Dedup.detects() && w.nearDuplicate(ctx, out, doc.MainText) {
			switch e.cfg.Dedup.NearDuplicates {
			case NearSkipLinks:
				nofollow = true
				out.Reason = fmt.Sprintf("HTTP %d, near-duplicate: links not followed", r.status)
			case NearSkipStore:
				p.Body, p.BodyEncoding, p.Data, p.Items = nil, "", nil, nil
				out.Reason = fmt.Sprintf("HTTP %d, near-duplicate: content not stored", r.status)
				return
			}
		}
	}
	if e.cfg.Canonical.UseCanonical && doc.Canonical != "" {
		if c, err := e.norm.CanonicalString(doc.Canonical); err == nil && c != l.URL {
			cu, _ := url.Parse(c)
			out.Reason = "duplicate: rel=canonical is " + c
			p.Body, p.BodyEncoding, p.Data, p.Items = nil, "", nil, nil
			if cu != nil {
				out.Discovered = append(out.Discovered, e.discover(c, cu, l, "canonical", reach(l, c, 0)))
			}
		}
	}
	w.links(out, doc.Links, l, nofollow)
}

// links records a page's links and discovers the ones to follow. Each
// URL is canonicalized once per page: links with the same URL, or URLs
// that differ only in what the canonical form drops (the fragment of
// #section links), are one link, recorded with the first one's anchor.
func (w *worker) links(out *store.Outcome, links []parse.Link, l store.Lease, pageNofollow bool) {
	e := w.e
	seen := w.seen.reset()
	out.Links = make([]store.Link, 0, min(len(links), 256))
	anchorCut := false
	for _, ln := range links {
		if ln.URL == nil || !seen.firstKey(urlnorm.KeyOf(ln.URL)) {
			continue
		}
		c, err := e.norm.Canonical(ln.URL)
		if err != nil || !seen.firstURL(c) {
			continue
		}
		anchor, cut := cutUTF8(ln.Text, int(e.cfg.Parse.MaxAnchor))
		anchorCut = anchorCut || cut || ln.TextCut
		out.Links = append(out.Links, store.Link{URL: c, Anchor: anchor, Nofollow: ln.Nofollow})
		if e.listMode || pageNofollow || (ln.Nofollow && e.cfg.Politeness.RespectNofollow) {
			continue
		}
		at := reach(l, c, 1)
		if !e.seen.addNew(c, at) {
			continue
		}
		cu, err := url.Parse(c)
		if err != nil {
			continue
		}
		out.Discovered = append(out.Discovered, e.discover(c, cu, l, "link", at))
	}
	if anchorCut && out.Page != nil {
		out.Page.FieldsTruncated = append(out.Page.FieldsTruncated, fieldAnchor)
	}
}

// pageLinks is what a worker has met of the links of the page it records;
// it keeps its maps from page to page.
type pageLinks struct {
	keys map[urlnorm.Key]struct{} // of the links' URLs
	urls map[string]struct{}      // canonical
}

// maxKeptLinks bounds the maps pageLinks keeps for the next page: clearing
// a map costs its capacity, which a page of thousands of links leaves large.
const maxKeptLinks = 1024

// reset forgets the last page.
func (p *pageLinks) reset() *pageLinks {
	if p.keys == nil || len(p.keys) > maxKeptLinks || len(p.urls) > maxKeptLinks {
		p.keys, p.urls = map[urlnorm.Key]struct{}{}, map[string]struct{}{}
	} else {
		clear(p.keys)
		clear(p.urls)
	}
	return p
}

// firstKey reports whether the page had no URL with key k yet, and adds it.
func (p *pageLinks) firstKey(k urlnorm.Key) bool {
	n := len(p.keys)
	p.keys[k] = struct{}{}
	return len(p.keys) > n
}

// firstURL reports whether the page had no link to the canonical URL c
// yet, and adds it.
func (p *pageLinks) firstURL(c string) bool {
	n := len(p.urls)
	p.urls[c] = struct{}{}
	return len(p.urls) > n
}

// redirect records a 3xx and sends its target back through the frontier.
func (w *worker) redirect(out *store.Outcome, u *url.URL, r *response) {
	e := w.e
	loc, ok := location(u, r.header)
	if !ok {
		out.State, out.Reason = store.StateFailed, fmt.Sprintf("HTTP %d without a usable Location", r.status)
		return
	}
	c, err := e.norm.Canonical(loc)
	if err != nil {
		out.State, out.Reason = store.StateFailed, fmt.Sprintf("HTTP %d to an invalid URL: %v", r.status, err)
		return
	}
	out.Page.FinalURL = c
	out.Reason = fmt.Sprintf("HTTP %d redirect to %s", r.status, c)
	if c == out.Lease.URL {
		out.State, out.Reason = store.StateFailed, fmt.Sprintf("HTTP %d redirect loop to itself", r.status)
		return
	}
	cu, _ := url.Parse(c)
	if cu == nil {
		return
	}
	n := e.discover(c, cu, out.Lease, "redirect", reach(out.Lease, c, 0))
	n.Redirects = out.Lease.Redirects + 1
	if n.State == store.StateQueued && n.Redirects > e.cfg.Limits.MaxRedirects {
		n.State, n.Reason = store.StateSkipped, fmt.Sprintf("redirect chain longer than max_redirects %d", e.cfg.Limits.MaxRedirects)
	}
	out.Links = []store.Link{{URL: c, Anchor: "redirect"}}
	out.Discovered = append(out.Discovered, n)
}

// discover builds the frontier row for a URL found on the leased page by a
// path of length at.
func (e *Engine) discover(canon string, u *url.URL, from store.Lease, source string, at pathLen) store.NewURL {
	n := store.NewURL{URL: canon, Depth: at.depth, Chain: at.chain, ParentID: from.ID, Source: source, State: store.StateQueued}
	if why, limited := e.scope.check(canon, u, at); why != "" {
		n.State, n.Reason, n.PathLimited = store.StateSkipped, why, limited
		return n
	}
	n.Origin = origin(u)
	return n
}

// setBody compresses and hashes the body in the worker, off the writer's
// path. body is the fetch's buffer, which the next fetch reuses: a body
// stored as it is (store.bodies: identity) is stored as a copy.
func (w *worker) setBody(p *store.Page, body []byte) {
	p.ContentHash = bodyHash(body)
	p.Body, p.BodyEncoding = w.body.Encode(body)
	if p.BodyEncoding == store.BodyIdentity {
		p.Body = bytes.Clone(p.Body)
	}
}

// bodyHash is pages.content_hash of a body: its XXH64, hex.
func bodyHash(body []byte) string { return strconv.FormatUint(xxhash.Sum64(body), 16) }

// headerJSON keeps the recorded headers; contentType is the header as the
// server sent it (the transport strips the charset before colly sees it).
func headerJSON(h http.Header, contentType string) string {
	m := make(map[string]string, 4)
	for _, k := range recordedHeaders {
		if v := h.Values(k); len(v) > 0 {
			m[k] = strings.Join(v, ", ")
		}
	}
	if contentType != "" {
		m["Content-Type"] = contentType
	}
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}
