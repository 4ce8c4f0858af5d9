package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/store"
)

func TestProgressLines(t *testing.T) {
	tests := []struct {
		name string
		v    progressView
		want []string
	}{
		{
			name: "start",
			v:    progressView{Queued: -1},
			want: []string{"0 pages  0.0/s (avg 0.0)  0 in flight  0 kB  0:00", "hosts 0 active"},
		},
		{
			name: "busy",
			v: progressView{
				Elapsed: 95 * time.Second, Pages: 12345, Failed: 17, Skipped: 40, Retries: 5, Bytes: 123_400_000,
				Queued: 4321, InFlight: 8, Rate: 38.24, AvgRate: 129.9,
				Errors: errorCounts{HTTP4xx: 12, HTTP5xx: 3, Fetch: map[string]int64{"timeout": 1, "refused": 2}},
				Hosts:  crawl.HostsSnapshot{Active: 12, InFlight: 8, Throttled: 3, BackingOff: 1},
			},
			want: []string{
				"12,345 pages  38.2/s (avg 130)  4,321 queued  8 in flight  123.4 MB  1:35",
				"hosts 12 active, 3 throttled, 1 backing off  skipped 40  retries 5",
				"failed 17  errors: HTTP 4xx 12, HTTP 5xx 3, timeout 1, refused 2",
			},
		},
		{
			name: "limit with ETA",
			v: progressView{Elapsed: 2 * time.Hour, Pages: 500, Queued: 10, Rate: 10, AvgRate: 9.5, Bytes: 2_500_000_000,
				Limit: 2000, Total: 1000, Hosts: crawl.HostsSnapshot{Active: 1}},
			want: []string{
				"500 pages  10.0/s (avg 9.5)  10 queued  0 in flight  2.50 GB  2:00:00  limit 50% ETA 1:40",
				"hosts 1 active",
			},
		},
		{
			name: "failed without fetch errors",
			v:    progressView{Queued: 0, Failed: 2},
			want: []string{"0 pages  0.0/s (avg 0.0)  0 queued  0 in flight  0 kB  0:00", "hosts 0 active", "failed 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.v.lines()); diff != "" {
				t.Errorf("lines() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: obsDropTime}))
	v := progressView{Elapsed: 61 * time.Second, Pages: 100, Queued: 7, InFlight: 2, Rate: 1.66, AvgRate: 1.64,
		Bytes: 2_340_000, Failed: 3, Errors: errorCounts{HTTP4xx: 3, Fetch: map[string]int64{"dns": 1}},
		Hosts: crawl.HostsSnapshot{Active: 2, BackingOff: 1}, Limit: 200, Total: 150}
	log.Info("progress", v.attrs()...)
	want := "level=INFO msg=progress pages=100 pages_per_s=1.7 avg_pages_per_s=1.6 queued=7 in_flight=2 mb=2.3 failed=3 " +
		"http_4xx=3 dns=1 skipped=0 retries=0 hosts=2 throttled=0 backing_off=1 elapsed=1m1s eta=30s\n"
	if got := buf.String(); got != want {
		t.Errorf("progress line\n got %q\nwant %q", got, want)
	}
}

func obsDropTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func TestGatherErrors(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := crawl.NewMetrics(reg)
	m.Requests.WithLabelValues("2xx").Add(50)
	m.Requests.WithLabelValues("4xx").Add(4)
	m.Requests.WithLabelValues("5xx").Add(2)
	for reason, n := range map[string]float64{"timeout": 3, "connection refused": 1, "dns: no such host": 2,
		"dns error": 1, "blocked address": 5, "bad content": 1, "fetch error": 1, "connection reset": 1} {
		m.FetchErrors.WithLabelValues(reason).Add(n)
	}
	got, err := gatherErrors(reg)
	if err != nil {
		t.Fatal(err)
	}
	want := errorCounts{HTTP4xx: 4, HTTP5xx: 2, Fetch: map[string]int64{"timeout": 3, "refused": 1, "dns": 3,
		"blocked": 5, "other": 2, "reset": 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gatherErrors (-want +got):\n%s", diff)
	}
}

func TestRateWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := rateWindow{span: 10 * time.Second}
	if r := w.rate(); r != 0 {
		t.Errorf("rate of an empty window = %v, want 0", r)
	}
	// 10 pages/s for 20 s, then 0 for 5 s: the window sees the last 10 s.
	pages := int64(0)
	for s := 0; s <= 20; s++ {
		w.add(t0.Add(time.Duration(s)*time.Second), pages)
		pages += 10
	}
	if r := w.rate(); r != 10 {
		t.Errorf("rate after 20 s at 10/s = %v, want 10", r)
	}
	pages -= 10
	for s := 21; s <= 25; s++ {
		w.add(t0.Add(time.Duration(s)*time.Second), pages)
	}
	if r := w.rate(); r != 5 {
		t.Errorf("rate after 5 idle seconds = %v, want 5 (50 pages in the last 10 s)", r)
	}
	if len(w.samples) > 12 {
		t.Errorf("window holds %d samples, want about 11", len(w.samples))
	}
}

func TestStallWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := stallWatch{after: time.Minute}
	steps := []struct {
		at        time.Duration
		completed int64
		busy      bool
		stalled   time.Duration
		warn      bool
	}{
		{0, 10, true, 0, false},
		{30 * time.Second, 10, true, 30 * time.Second, false},
		{60 * time.Second, 10, true, 60 * time.Second, true},  // first warning
		{90 * time.Second, 10, true, 90 * time.Second, false}, // not again at once
		{120 * time.Second, 10, true, 120 * time.Second, true},
		{121 * time.Second, 11, true, 0, false}, // progress resets
		{200 * time.Second, 11, true, 79 * time.Second, true},
		{300 * time.Second, 11, false, 0, false}, // no work left: not a stall
		{400 * time.Second, 11, true, 100 * time.Second, true},
	}
	for i, s := range steps {
		stalled, warn := w.observe(t0.Add(s.at), s.completed, s.busy)
		if stalled != s.stalled || warn != s.warn {
			t.Errorf("step %d (at %v): observe = %v, %v; want %v, %v", i, s.at, stalled, warn, s.stalled, s.warn)
		}
	}
	off := stallWatch{}
	off.observe(t0, 1, true)
	if _, warn := off.observe(t0.Add(time.Hour), 1, true); warn {
		t.Error("a watch with after = 0 warned")
	}
}

func TestDiagnoseStall(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    stallFacts
		want string
	}{
		{
			name: "database blocked",
			f:    stallFacts{Stats: crawl.Stats{Uncommitted: 12, Hosts: crawl.HostsSnapshot{Active: 3, InFlight: 2}}, Queued: 5},
			want: "10 outcomes are waiting for the database writer",
		},
		{
			name: "every host backing off",
			f:    stallFacts{Stats: crawl.Stats{Hosts: crawl.HostsSnapshot{Active: 4, BackingOff: 4}}, Queued: 100},
			want: "every active host (4) is backing off",
		},
		{
			name: "fetches hang",
			f: stallFacts{Stats: crawl.Stats{Uncommitted: 3, Hosts: crawl.HostsSnapshot{Active: 3, InFlight: 3}},
				Queued: 100, TotalTimeout: time.Minute},
			want: "3 fetches are in flight but none finishes: the servers are slow or drip their responses (fetch.total_timeout 1m0s",
		},
		{
			name: "all wait for retries",
			f:    stallFacts{Stats: crawl.Stats{}, Queued: 7, DueNow: 0, NextDue: now.Add(90 * time.Second), Now: now},
			want: "nothing is dispatchable: all 7 queued URLs wait for their retry time; the next is due at 12:01:30 (in 1m30s)",
		},
		{
			name: "rate limits",
			f:    stallFacts{Stats: crawl.Stats{Hosts: crawl.HostsSnapshot{Active: 2, Throttled: 1, BackingOff: 1}}, Queued: 9, DueNow: 9, Now: now},
			want: "every active host (2) waits for its rate limit or Crawl-delay",
		},
		{
			name: "otherwise",
			f:    stallFacts{Queued: 9, DueNow: 9, Now: now},
			want: "9 URLs are queued but none is being fetched",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diagnoseStall(tt.f); !strings.HasPrefix(got, tt.want) {
				t.Errorf("diagnoseStall = %q, want prefix %q", got, tt.want)
			}
		})
	}
}

// TestDisplayRedraw checks the terminal control sequences: each frame
// replaces the previous one, and log records appear above the display.
func TestDisplayRedraw(t *testing.T) {
	var term bytes.Buffer
	inner := slog.NewTextHandler(&term, &slog.HandlerOptions{ReplaceAttr: obsDropTime})
	p := newProgress(slog.New(inner), nil, nil, progressConfig{Term: &term})
	p.draw("a1\na2\na3")
	p.draw("b1\nb2")
	p.Logger().Warn("slow host")
	p.draw("c1")
	p.Close()
	p.Logger().Info("after")
	want := "a1\na2\na3" +
		"\r\x1b[2A\x1b[J" + "b1\nb2" +
		"\r\x1b[1A\x1b[J" + "level=WARN msg=\"slow host\"\n" + "b1\nb2" +
		"\r\x1b[1A\x1b[J" + "c1" +
		"\r\x1b[J" +
		"level=INFO msg=after\n"
	if got := term.String(); got != want {
		t.Errorf("terminal output\n got %q\nwant %q", got, want)
	}
}

// TestProgressPlain runs the display goroutine in plain mode against a
// real database and checks that it logs progress lines.
func TestProgressPlain(t *testing.T) {
	db := obsOpenDB(t)
	var buf obsBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := newProgress(log, prometheus.NewRegistry(), db, progressConfig{Every: time.Nanosecond, StallAfter: time.Minute})
	p.start()
	started := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for i := int64(1); !strings.Contains(buf.String(), "pages=3") && time.Now().Before(deadline); i++ {
		p.update(crawl.Stats{Started: started, Pages: min(i, 3)})
		obsWaitFor(t, func() bool { return len(p.updates) == 0 })
	}
	p.Close()
	if !strings.Contains(buf.String(), "msg=progress") || !strings.Contains(buf.String(), "pages=3") {
		t.Errorf("no progress line logged:\n%s", buf.String())
	}
}

// obsOpenDB opens a new crawl database under t.TempDir().
func obsOpenDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// obsBuffer is a bytes.Buffer safe for concurrent writers and readers.
type obsBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (b *obsBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *obsBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// obsWaitFor polls cond until it holds, failing the test after 10 s.
func obsWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		runtime.Gosched()
	}
}
