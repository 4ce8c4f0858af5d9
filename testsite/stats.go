package testsite

import (
	"net/http"
	"net/url"
	"sync"
	"time"
)

// HostStats is what one host observed, counted from the server side.
type HostStats struct {
	Requests    int // all requests, including those answered 429 by RateLimit
	Throttled   int // requests answered 429 because of Options.RateLimit
	MaxInFlight int // peak number of requests being served at once
	// MinGap is the smallest gap between two consecutive request starts
	// (zero with fewer than two requests).
	MinGap time.Duration
	// ByPath counts requests per escaped path plus "?query" when there is
	// one, such as "/category/books?page=2". Nil with Options.NoByPath.
	ByPath map[string]int
	// Conditional counts requests with a precondition (If-None-Match,
	// If-Modified-Since, If-Match or If-Unmodified-Since).
	Conditional int
	// NotModified counts 304 answers.
	NotModified int
	// Bytes counts the body bytes sent, headers not included.
	Bytes int64
}

// Request is one request as the server answered it.
type Request struct {
	Start       time.Duration // since the site started
	Method      string
	Target      string // escaped path plus "?query" when there is one
	Generation  int    // the site's generation when the request arrived
	Conditional bool   // it carried a precondition (see HostStats.Conditional)
	Status      int    // 304 for a conditional request answered Not Modified
	Bytes       int64  // body bytes sent
}

// recorder notes the status and the body bytes of a response in its
// host's log as they are written, before they reach the client: a client
// that has read a whole answer finds it counted already.
type recorder struct {
	http.ResponseWriter
	log    *hostLog
	seq    int64 // the request's number in log
	status int
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		w.log.setStatus(w.seq, code)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
		w.log.setStatus(w.seq, http.StatusOK)
	}
	// Counted before the write: once the bytes are out, the client may
	// look at the counts.
	w.log.addBytes(w.seq, int64(len(b)))
	n, err := w.ResponseWriter.Write(b)
	if n < len(b) {
		w.log.addBytes(w.seq, int64(n-len(b)))
	}
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// hostLog is the per-host request record.
type hostLog struct {
	mu          sync.Mutex // guards all fields but capacity
	requests    int
	throttled   int
	inFlight    int
	maxInFlight int
	last        int64 // start of the previous request, ns since site start
	minGap      int64 // -1 until two requests were seen
	byPath      map[string]int
	conditional int
	notModified int
	bytes       int64

	// reqs holds the most recent requests in the order they started,
	// like ring (nil with Options.NoByPath); once it reaches its capacity,
	// reqNext is the oldest entry. seq numbers requests from 1; the
	// request numbered n sits at reqs[(n-1) % capacity] while it is
	// among the most recent.
	reqs    []Request
	reqNext int
	seq     int64

	// ring holds the most recent request starts (ns since site start) in
	// order; once it reaches its capacity, next is the oldest entry.
	ring     []int64
	next     int
	capacity int

	// interval and nextOK implement RateLimit (GCRA with a tolerance).
	interval int64
	nextOK   int64
}

func newHostLog(capacity int, byPath bool, ratePerSec float64) *hostLog {
	l := &hostLog{minGap: -1, capacity: capacity, ring: make([]int64, 0, min(capacity, 1024))}
	if byPath {
		l.byPath = make(map[string]int)
		l.reqs = make([]Request, 0, min(capacity, 1024))
	}
	if ratePerSec > 0 {
		l.interval = int64(float64(time.Second) / ratePerSec)
	}
	return l
}

// begin records a request start and reports whether RateLimit lets it
// through, with the start time and the request's number for setStatus,
// addBytes and end. The time is read under the lock so starts are
// recorded in order.
func (l *hostLog) begin(origin time.Time, u *url.URL, method string, generation int, conditional bool) (start time.Duration, seq int64, allowed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := int64(time.Since(origin))
	if l.requests > 0 {
		gap := now - l.last
		if l.minGap < 0 || gap < l.minGap {
			l.minGap = gap
		}
	}
	l.last = now
	l.requests++
	l.inFlight++
	l.maxInFlight = max(l.maxInFlight, l.inFlight)
	if conditional {
		l.conditional++
	}
	l.seq++
	if l.byPath != nil {
		target := u.EscapedPath()
		if u.RawQuery != "" {
			target += "?" + u.RawQuery
		}
		l.byPath[target]++
		req := Request{Start: time.Duration(now), Method: method, Target: target, Generation: generation,
			Conditional: conditional}
		if len(l.reqs) < l.capacity {
			l.reqs = append(l.reqs, req)
		} else {
			l.reqs[l.reqNext] = req
			l.reqNext = (l.reqNext + 1) % len(l.reqs)
		}
	}
	if len(l.ring) < l.capacity {
		l.ring = append(l.ring, now)
	} else {
		l.ring[l.next] = now
		l.next = (l.next + 1) % len(l.ring)
	}
	if l.interval > 0 {
		if now < l.nextOK-l.interval/10 {
			l.throttled++
			return time.Duration(now), l.seq, false
		}
		l.nextOK = max(now, l.nextOK) + l.interval
	}
	return time.Duration(now), l.seq, true
}

// entry returns the logged request numbered seq, or nil once it has left
// the log (or with Options.NoByPath). l.mu must be held.
func (l *hostLog) entry(seq int64) *Request {
	if l.reqs == nil || seq <= l.seq-int64(l.capacity) {
		return nil
	}
	return &l.reqs[(seq-1)%int64(l.capacity)]
}

// setStatus records the status of the request numbered seq.
func (l *hostLog) setStatus(seq int64, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if status == http.StatusNotModified {
		l.notModified++
	}
	if r := l.entry(seq); r != nil {
		r.Status = status
	}
}

// addBytes counts n body bytes of the request numbered seq.
func (l *hostLog) addBytes(seq int64, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bytes += n
	if r := l.entry(seq); r != nil {
		r.Bytes += n
	}
}

// end records the end of the request numbered seq, which begin let in or
// turned away; status is what was sent.
func (l *hostLog) end(seq int64, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if r := l.entry(seq); r != nil && r.Status == 0 {
		if status == http.StatusNotModified {
			l.notModified++
		}
		r.Status = status
	}
}

func (l *hostLog) stats() HostStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := HostStats{
		Requests:    l.requests,
		Throttled:   l.throttled,
		MaxInFlight: l.maxInFlight,
		MinGap:      time.Duration(max(l.minGap, 0)),
		Conditional: l.conditional,
		NotModified: l.notModified,
		Bytes:       l.bytes,
	}
	if l.byPath != nil {
		st.ByPath = make(map[string]int, len(l.byPath))
		for k, v := range l.byPath {
			st.ByPath[k] = v
		}
	}
	return st
}

// starts returns the recorded request starts, oldest first.
func (l *hostLog) starts() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]int64, 0, len(l.ring))
	out = append(out, l.ring[l.next:]...)
	return append(out, l.ring[:l.next]...)
}

// recent returns the recorded requests, in the order they started.
func (l *hostLog) recent() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reqs == nil {
		return nil
	}
	out := make([]Request, 0, len(l.reqs))
	out = append(out, l.reqs[l.reqNext:]...)
	return append(out, l.reqs[:l.reqNext]...)
}

// Requests returns host's ("addr:port") most recent requests in the order
// they started, each with what has been sent of its answer so far: up to
// its share of Options.LogSize, none with
// Options.NoByPath or for an unknown host.
func (s *Site) Requests(host string) []Request {
	l, ok := s.logs[host]
	if !ok {
		return nil
	}
	return l.recent()
}

// Stats returns a snapshot of every host's observations, keyed by
// "addr:port" (content and hostile hosts).
func (s *Site) Stats() map[string]HostStats {
	m := make(map[string]HostStats, len(s.logs))
	for h, l := range s.logs {
		m[h] = l.stats()
	}
	return m
}

// MaxInWindow returns the most requests to host ("addr:port") that started
// within any window [t, t+w) — for checking a rate limit with burst. Only
// the most recent starts are kept (Options.LogSize), so after a very long
// run it covers the recent past. An unknown host or w <= 0 gives 0.
func (s *Site) MaxInWindow(host string, w time.Duration) int {
	l, ok := s.logs[host]
	if !ok {
		return 0
	}
	return maxInWindow(l.starts(), int64(w))
}

// maxInWindow is the sliding-window maximum over sorted start times.
func maxInWindow(starts []int64, w int64) int {
	if w <= 0 {
		return 0
	}
	best, lo := 0, 0
	for hi, t := range starts {
		for t-starts[lo] >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
