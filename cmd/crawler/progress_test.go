package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func TestProgressLines(t *testing.T) {
	queued := func(n int) store.Totals { return store.Totals{Queued: n} }
	tests := []struct {
		name string
		p    runner.Progress
		want []string
	}{
		{
			name: "start",
			p:    runner.Progress{},
			want: []string{"0 pages  0.0/s (avg 0.0)  0 in flight  0 kB  0:00", "hosts 0 active"},
		},
		{
			name: "busy",
			p: runner.Progress{
				Stats: crawl.Stats{Pages: 12345, Errors: 17, Skipped: 40, Retries: 5, Bytes: 123_400_000,
					ErrorClasses: crawl.ErrorClasses{HTTP4xx: 12, HTTP5xx: 3, Fetch: [7]int64{1, 2}},
					Hosts:        crawl.HostsSnapshot{Active: 12, InFlight: 8, Throttled: 3, BackingOff: 1}},
				Elapsed: 95 * time.Second, Frontier: queued(4321), FrontierKnown: true, PagesPerSecond: 38.24, AvgPagesPerSecond: 129.9,
			},
			want: []string{
				"12,345 pages  38.2/s (avg 130)  4,321 queued  8 in flight  123.4 MB  1:35",
				"hosts 12 active, 3 throttled, 1 backing off  skipped 40  retries 5",
				"failed 17  errors: HTTP 4xx 12, HTTP 5xx 3, timeout 1, refused 2",
			},
		},
		{
			name: "limit with ETA",
			p: runner.Progress{Stats: crawl.Stats{Pages: 500, Bytes: 2_500_000_000, Hosts: crawl.HostsSnapshot{Active: 1}},
				Elapsed: 2 * time.Hour, Frontier: queued(10), FrontierKnown: true, PagesPerSecond: 10, AvgPagesPerSecond: 9.5,
				Limit: 2000, PagesAtStart: 500},
			want: []string{
				"500 pages  10.0/s (avg 9.5)  10 queued  0 in flight  2.50 GB  2:00:00  limit 50% ETA 1:40",
				"hosts 1 active",
			},
		},
		{
			name: "failed without fetch errors",
			p:    runner.Progress{Stats: crawl.Stats{Errors: 2}, FrontierKnown: true},
			want: []string{"0 pages  0.0/s (avg 0.0)  0 queued  0 in flight  0 kB  0:00", "hosts 0 active", "failed 2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, progressLines(tt.p)); diff != "" {
				t.Errorf("progressLines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: obsDropTime}))
	p := runner.Progress{Stats: crawl.Stats{Pages: 100, Bytes: 2_340_000, Errors: 3,
		ErrorClasses: crawl.ErrorClasses{HTTP4xx: 3, Fetch: [7]int64{3: 1}}, Hosts: crawl.HostsSnapshot{Active: 2, InFlight: 2, BackingOff: 1}},
		Elapsed: 61 * time.Second, Frontier: store.Totals{Queued: 7}, FrontierKnown: true, PagesPerSecond: 1.66, AvgPagesPerSecond: 1.64,
		Limit: 200, PagesAtStart: 50}
	log.Info("progress", progressAttrs(p)...)
	want := "level=INFO msg=progress pages=100 pages_per_second=1.7 avg_pages_per_second=1.6 queued=7 in_flight=2 mb=2.3 failed=3 " +
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

// TestDisplayRedraw checks the terminal control sequences: each frame
// replaces the previous one, and log records appear above the display.
func TestDisplayRedraw(t *testing.T) {
	var term bytes.Buffer
	inner := slog.NewTextHandler(&term, &slog.HandlerOptions{ReplaceAttr: obsDropTime})
	p := newProgress(slog.New(inner), progressConfig{Term: &term})
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

// TestProgressPlain shows progress in plain mode: a log line one interval
// into the run, then one an interval after the last.
func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: obsDropTime})),
		progressConfig{Every: 10 * time.Second})
	t0 := time.Unix(1000, 0)
	for s := 1; s <= 25; s++ {
		p.show(runner.Progress{Stats: crawl.Stats{Started: t0, Pages: int64(s)}, Now: t0.Add(time.Duration(s) * time.Second),
			Elapsed: time.Duration(s) * time.Second, PagesPerSecond: 1, AvgPagesPerSecond: 1, PagesAtStart: 40,
			Frontier: store.Totals{Queued: 9}, FrontierKnown: true, Limit: 100})
	}
	p.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "level=INFO msg=progress pages=10 pages_per_second=1 avg_pages_per_second=1 queued=9 ") ||
		!strings.Contains(lines[0], " eta=50s") || !strings.HasPrefix(lines[1], "level=INFO msg=progress pages=20 ") {
		t.Errorf("progress lines:\n%s\nwant pages=10 (ETA 50 s for the 50 pages left to the limit), then pages=20", buf.String())
	}
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

// screen replays terminal output (text, CR, LF, cursor up, erase below)
// and returns the lines left on the screen.
func screen(out string) []string {
	lines := []string{""}
	row, col := 0, 0
	put := func(c byte) {
		for len(lines) <= row {
			lines = append(lines, "")
		}
		l := lines[row]
		for len(l) < col {
			l += " "
		}
		if col < len(l) {
			l = l[:col] + string(c) + l[col+1:]
		} else {
			l += string(c)
		}
		lines[row] = l
		col++
	}
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c == '\r':
			col = 0
		case c == '\n':
			row, col = row+1, 0
		case c == 0x1b && i+1 < len(out) && out[i+1] == '[':
			j := i + 2
			n := 0
			for j < len(out) && out[j] >= '0' && out[j] <= '9' {
				n = n*10 + int(out[j]-'0')
				j++
			}
			switch out[j] {
			case 'A':
				row = max(0, row-max(n, 1))
			case 'J':
				if row < len(lines) {
					lines = lines[:row+1]
					if col < len(lines[row]) {
						lines[row] = lines[row][:col]
					}
				}
			}
			i = j
		default:
			put(c)
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// TestDisplayStopNotice checks that the notice of the first Ctrl-C goes
// above the display, and the display is on the screen once after it.
func TestDisplayStopNotice(t *testing.T) {
	var term bytes.Buffer
	p := newProgress(slog.New(slog.NewTextHandler(&term, &slog.HandlerOptions{ReplaceAttr: obsDropTime})), progressConfig{Term: &term})
	p.draw("10 pages\nhosts 2 active\nfailed 1")
	p.Notice(&term, stopNotice)
	p.Logger().Info("stopping: letting in-flight fetches finish")
	p.draw("12 pages\nhosts 2 active\nfailed 1")
	got := screen(term.String())
	want := []string{stopNotice, `level=INFO msg="stopping: letting in-flight fetches finish"`, "12 pages", "hosts 2 active", "failed 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("screen after the stop notice (-want +got):\n%s\nraw %q", diff, term.String())
	}
}
