package crawl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/crawler-dev/crawler/store"
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status int
		want   errClass
	}{
		{200, classOK}, {204, classOK}, {301, classOK}, {304, classOK},
		{400, classPermanent}, {404, classPermanent}, {410, classPermanent}, {451, classPermanent},
		{408, classTransient}, {500, classTransient}, {502, classTransient}, {504, classTransient}, {599, classTransient},
		{429, classThrottled}, {503, classThrottled},
	}
	for _, tt := range tests {
		if got := classifyStatus(tt.status); got != tt.want {
			t.Errorf("classifyStatus(%d) = %d, want %d", tt.status, got, tt.want)
		}
	}
}

// timeoutNetError is a net.Error that says it timed out, as a transport's
// own timeouts do.
type timeoutNetError struct{}

func (timeoutNetError) Error() string   { return "i/o timeout" }
func (timeoutNetError) Timeout() bool   { return true }
func (timeoutNetError) Temporary() bool { return true }

func TestClassifyErr(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	tests := []struct {
		name   string
		err    error
		class  errClass
		reason string
	}{
		{"canceled", fmt.Errorf("get: %w", context.Canceled), classCanceled, "interrupted"},
		{"body ran out of time", &timeoutError{msg: "idle", afterHeaders: true}, classPermanent, "timeout"},
		{"no headers in time", &timeoutError{msg: "header timeout"}, classHostDown, "timeout"},
		{"blocked address", fmt.Errorf("dial: %w", ErrBlockedAddress), classPermanent, "blocked address"},
		{"no such host", &net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}, classPermanent, "dns: no such host"},
		{"dns failure", &net.DNSError{Err: "server misbehaving", Name: "x.example"}, classHostDown, "dns error"},
		{"refused", opErr(syscall.ECONNREFUSED), classHostDown, "connection refused"},
		{"host unreachable", opErr(syscall.EHOSTUNREACH), classHostDown, "host unreachable"},
		{"network unreachable", opErr(syscall.ENETUNREACH), classHostDown, "host unreachable"},
		{"deadline", fmt.Errorf("get: %w", context.DeadlineExceeded), classHostDown, "timeout"},
		{"os deadline", fmt.Errorf("read: %w", os.ErrDeadlineExceeded), classHostDown, "timeout"},
		{"net timeout", timeoutNetError{}, classHostDown, "timeout"},
		{"reset", opErr(syscall.ECONNRESET), classTransient, "connection reset"},
		{"broken pipe", opErr(syscall.EPIPE), classTransient, "connection reset"},
		{"bad encoding", errors.New("unsupported content encoding \"zz\""), classPermanent, "bad content"},
		{"other", errors.New("unexpected EOF"), classTransient, "fetch error"},
		{"proxy refused", &proxyError{name: "http://p:3128", err: opErr(syscall.ECONNREFUSED)}, classHostDown, "proxy: connection refused"},
		{"proxy name unknown", &proxyError{name: "http://p:3128", err: &net.DNSError{Err: "no such host", Name: "p", IsNotFound: true}},
			classHostDown, "proxy: dns: no such host"},
		{"proxy answer", &proxyError{name: "http://p:3128", err: errors.New("CONNECT 1.2.3.4:443: 502 Bad Gateway")},
			classTransient, "proxy: fetch error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, reason := classifyErr(tt.err)
			if class != tt.class || reason != tt.reason {
				t.Errorf("classifyErr(%v) = %d, %q; want %d, %q", tt.err, class, reason, tt.class, tt.reason)
			}
		})
	}
}

func TestRetryOrFail(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cfg := Defaults()
	cfg.Fetch.MaxRetries = 3
	cfg.Fetch.RetryBase = 10 * time.Second
	e := &Engine{cfg: &cfg}
	tests := []struct {
		name     string
		attempts int // before this one
		class    errClass
		wait     time.Duration // the server's Retry-After
		state    string
		reason   string
		backoff  time.Duration // the retry is due after this, within the jitter of ±20%
	}{
		{"first transient", 0, classTransient, 0, store.StateQueued, "retry 1/3: HTTP 500", 10 * time.Second},
		{"second transient", 1, classTransient, 0, store.StateQueued, "retry 2/3: HTTP 500", 20 * time.Second},
		{"last retry", 2, classHostDown, 0, store.StateQueued, "retry 3/3: HTTP 500", 40 * time.Second},
		{"retries used up", 3, classTransient, 0, store.StateFailed, "HTTP 500 (after 4 attempts)", 0},
		{"throttled waits for Retry-After", 0, classThrottled, time.Hour, store.StateQueued, "retry 1/3: HTTP 500", time.Hour},
		{"Retry-After shorter than the backoff", 1, classThrottled, time.Second, store.StateQueued, "retry 2/3: HTTP 500", 20 * time.Second},
		{"permanent", 0, classPermanent, 0, store.StateFailed, "HTTP 500", 0},
		{"permanent after a retry", 1, classPermanent, 0, store.StateFailed, "HTTP 500 (after 2 attempts)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := store.Outcome{Lease: store.Lease{Attempts: tt.attempts}, Reason: "HTTP 500"}
			e.retryOrFail(&out, tt.class, tt.wait, now)
			if out.State != tt.state || out.Reason != tt.reason {
				t.Errorf("retryOrFail = %s %q, want %s %q", out.State, out.Reason, tt.state, tt.reason)
			}
			if tt.state != store.StateQueued {
				if !out.RetryAt.IsZero() {
					t.Errorf("failed outcome with a retry time %v", out.RetryAt)
				}
				return
			}
			lo, hi := now.Add(tt.backoff*8/10), now.Add(tt.backoff*12/10)
			if tt.wait == tt.backoff {
				lo = now.Add(tt.wait)
			}
			if out.RetryAt.Before(lo) || out.RetryAt.After(hi) {
				t.Errorf("retry at now+%v, want between now+%v and now+%v", out.RetryAt.Sub(now), lo.Sub(now), hi.Sub(now))
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, 1, 5, time.Millisecond, time.Second, time.Hour} {
		for range 200 {
			if j := jitter(d); j < d*8/10 || j > d*12/10 {
				t.Fatalf("jitter(%v) = %v, want within ±20%%", d, j)
			}
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0}, {"0", 0}, {"7", 7 * time.Second}, {" 120 ", 2 * time.Minute}, {"-5", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

// TestBackoffLevels: each throttled answer raises the host's backoff level
// and pauses it longer; an answer after a quiet period of four
// backoff_base lowers the level by one; connection failures pause the host
// by their own count, and a success resets it.
func TestBackoffLevels(t *testing.T) {
	m := newSim(t, linkSite(""), func(cfg *Config, base string) {
		cfg.Seeds = numbered(base, 10)
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 0
		cfg.Politeness.BackoffMax = time.Minute
	})
	m.runUntil("the host ready", func() bool { return m.s.ready.Len() == 1 })
	h := m.s.ready[0]
	// answer dispatches the host's next URL at now and answers it with
	// class, then reports the host's pause from now and its level.
	answer := func(class errClass, status int) (time.Duration, int) {
		t.Helper()
		m.pump()
		now := m.now()
		hh, j, _, ok := m.s.next(now)
		if !ok || hh != h {
			t.Fatalf("host not ready at %v", now)
		}
		m.s.sent(h, j, now)
		m.s.finished(done{job: j, class: class, status: status}, now)
		return h.pausedUntil.Sub(now), h.backoffLevel
	}
	steps := []struct {
		name   string
		after  time.Duration // since the last answer
		class  errClass
		status int
		pause  time.Duration // from the answer on
		level  int
		reason string
	}{
		{"first 429", 0, classThrottled, 429, time.Second, 1, "HTTP 429, backing off 1s (level 1)"},
		{"second 429", time.Second, classThrottled, 429, 2 * time.Second, 2, "HTTP 429, backing off 2s (level 2)"},
		{"a 503 too", 2 * time.Second, classThrottled, 503, 4 * time.Second, 3, "HTTP 503, backing off 4s (level 3)"},
		{"success soon after: level kept", 4 * time.Second, classOK, 200, 0, 3, ""},
		{"success after a quiet period: level lowered", 5 * time.Second, classOK, 200, 0, 2, ""},
		{"next 429 backs off from the lower level", time.Second, classThrottled, 429, 4 * time.Second, 3, "HTTP 429, backing off 4s (level 3)"},
		{"connection refused", 4 * time.Second, classHostDown, 0, time.Second, 3, "connection failures or unanswered requests (1), paused 1s"},
		{"again", time.Second, classHostDown, 0, 2 * time.Second, 3, "connection failures or unanswered requests (2), paused 2s"},
	}
	for _, st := range steps {
		m.setNow(m.now().Add(st.after))
		pause, level := answer(st.class, st.status)
		if pause < 0 {
			pause = 0
		}
		if pause != st.pause || level != st.level || (st.reason != "" && h.reason != st.reason) {
			t.Errorf("%s: paused %v at level %d (%q), want %v at level %d (%q)", st.name, pause, level, h.reason, st.pause, st.level, st.reason)
		}
	}
	if h.failures != 2 {
		t.Errorf("failures = %d after two connection failures, want 2", h.failures)
	}
	m.setNow(m.now().Add(2 * time.Second))
	answer(classOK, 200)
	if h.failures != 0 {
		t.Errorf("failures = %d after a success, want 0", h.failures)
	}
}

// TestAskKeepsOrderWithoutGoroutines: work asked of the feeder while its
// queue is full waits in the scheduler's backlog, not in a goroutine of
// its own; all of it reaches the feeder in the order asked, and stopping
// the feeder runs it all before the run collects its leases.
func TestAskKeepsOrderWithoutGoroutines(t *testing.T) {
	cfg := testConfig(t, "http://a.example/")
	e, db := seededEngine(t, cfg)
	defer db.Close()
	defer e.fetch.close()
	before := goleak.IgnoreCurrent()
	s := newScheduler(e)
	var mu sync.Mutex
	var ran, applied []int // ran guarded by mu; applied by the scheduler's goroutine (this one)
	n := cap(s.feederReq) + 50
	for i := range n {
		s.ask(func(context.Context) func() {
			mu.Lock()
			ran = append(ran, i)
			mu.Unlock()
			return func() { applied = append(applied, i) }
		})
	}
	// Nothing runs the feeder yet: the work waits, and no goroutine does.
	if err := goleak.Find(before); err != nil {
		t.Errorf("asking with the feeder's queue full started goroutines: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.feed(context.Background()) }()
	s.stopFeeder()
	wg.Wait()
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(ran, want) || !slices.Equal(applied, want) {
		t.Errorf("feeder ran %v and applied %v, want each of %d requests once, in order", ran, applied, n)
	}
	// Asked after the feeder stopped: runs at once.
	late := false
	s.ask(func(context.Context) func() { return func() { late = true } })
	if !late {
		t.Error("work asked after the feeder stopped did not run")
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left after the feeder stopped: %v", err)
	}
}

// TestLateRequestPaces: a request answered later than it was dispatched
// (a busy machine, or a slow server) counts for the host's pace from its
// answer: the server may have seen it as late as that, and never sees two
// requests closer than the host's interval.
func TestLateRequestPaces(t *testing.T) {
	m := newSim(t, linkSite(""), func(cfg *Config, base string) {
		cfg.Seeds = numbered(base, 10)
		cfg.Politeness.ObeyRobots = false
		cfg.Politeness.Rate = 1
		cfg.Politeness.Burst = 1
		cfg.Politeness.LatencyFactor = 0
	})
	m.runUntil("the host ready", func() bool { return m.s.ready.Len() == 1 })
	h := m.s.ready[0]
	var now time.Time
	var j job
	for try := 0; ; try++ {
		m.pump()
		now = m.now()
		hh, jj, at, ok := m.s.next(now)
		if ok && hh == h {
			j = jj
			break
		}
		if try == 20 {
			t.Fatalf("host not ready at %v", now)
		}
		next := now.Add(simTick)
		if at.After(next) {
			next = at
		}
		m.setNow(next)
	}
	m.s.sent(h, j, now)
	// Answered 400 ms after its dispatch, done 100 ms later.
	finished := now.Add(500 * time.Millisecond)
	m.s.finished(done{job: j, class: classOK, status: 200, answerLag: 400 * time.Millisecond}, finished)
	if got, want := h.nextTime(finished), now.Add(1400*time.Millisecond); got.Before(want) {
		t.Fatalf("next request at dispatch+%v, want no sooner than the answer+1s (dispatch+%v)", got.Sub(now), want.Sub(now))
	}
}

// TestResponseAnsweredAt: a response says when its headers arrived, for
// the host's pace (see TestLateRequestPaces).
func TestResponseAnsweredAt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	before := time.Now()
	r, err := getOnce(t, cfg, srv.URL+"/")
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if r.answered.Before(before) || r.answered.After(after) {
		t.Fatalf("answered at %v, want between %v and %v", r.answered, before, after)
	}
}
