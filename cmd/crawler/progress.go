package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
)

// progressView is one frame of the progress display: everything it shows.
type progressView struct {
	Elapsed  time.Duration
	Pages    int64 // stored this run
	Failed   int64
	Skipped  int64
	Retries  int64
	Bytes    int64
	Queued   int // waiting in the frontier; -1 when not known yet
	InFlight int
	Rate     float64 // pages/s over the last runner.RateWindow
	AvgRate  float64 // pages/s since the start
	Errors   crawl.ErrorClasses
	Hosts    crawl.HostsSnapshot
	Limit    int // limits.max_pages, 0 for none
	Total    int // pages in the database, counted against Limit
}

// newView is the frame showing p, with limit the run's limits.max_pages.
func newView(p runner.Progress, limit int) progressView {
	s := p.Stats
	v := progressView{
		Elapsed: p.Elapsed, Pages: s.Pages, Failed: s.Errors, Skipped: s.Skipped, Retries: s.Retries, Bytes: s.Bytes,
		Queued: -1, InFlight: s.Hosts.InFlight, Rate: p.PagesPerSecond, AvgRate: p.AvgPagesPerSecond,
		Errors: s.ErrorClasses, Hosts: s.Hosts, Limit: limit, Total: p.PagesAtStart + int(s.Pages),
	}
	if p.FrontierKnown {
		v.Queued = p.Frontier.Queued
	}
	return v
}

// eta estimates the time until Limit pages, or 0 when there is no limit
// or no rate to go by.
func (v progressView) eta() time.Duration {
	if v.Limit <= 0 || v.Rate <= 0 {
		return 0
	}
	left := v.Limit - v.Total
	if left <= 0 {
		return 0
	}
	return time.Duration(float64(left) / v.Rate * float64(time.Second))
}

// lines renders the terminal display: one to three short lines.
func (v progressView) lines() []string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s pages  %s/s (avg %s)", groupDigits(v.Pages), rate(v.Rate), rate(v.AvgRate))
	if v.Queued >= 0 {
		fmt.Fprintf(&b, "  %s queued", groupDigits(int64(v.Queued)))
	}
	fmt.Fprintf(&b, "  %d in flight  %s  %s", v.InFlight, megabytes(v.Bytes), clock(v.Elapsed))
	if v.Limit > 0 {
		fmt.Fprintf(&b, "  limit %d%%", min(100, v.Total*100/v.Limit))
		if d := v.eta(); d > 0 {
			fmt.Fprintf(&b, " ETA %s", clock(d))
		}
	}
	out := []string{b.String()}

	b.Reset()
	fmt.Fprintf(&b, "hosts %d active", v.Hosts.Active)
	if v.Hosts.Throttled > 0 {
		fmt.Fprintf(&b, ", %d throttled", v.Hosts.Throttled)
	}
	if v.Hosts.BackingOff > 0 {
		fmt.Fprintf(&b, ", %d backing off", v.Hosts.BackingOff)
	}
	if v.Skipped > 0 {
		fmt.Fprintf(&b, "  skipped %s", groupDigits(v.Skipped))
	}
	if v.Retries > 0 {
		fmt.Fprintf(&b, "  retries %s", groupDigits(v.Retries))
	}
	out = append(out, b.String())

	if classes := v.Errors.List(); v.Failed > 0 || len(classes) > 0 {
		b.Reset()
		fmt.Fprintf(&b, "failed %s", groupDigits(v.Failed))
		if len(classes) > 0 {
			b.WriteString("  errors: ")
			for i, c := range classes {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%s %s", c.Name, groupDigits(c.N))
			}
		}
		out = append(out, b.String())
	}
	return out
}

// attrs renders the view as log attributes, for the plain progress line
// written when stderr is not a terminal.
func (v progressView) attrs() []any {
	a := []any{"pages", v.Pages, "pages_per_second", round1(v.Rate), "avg_pages_per_second", round1(v.AvgRate)}
	if v.Queued >= 0 {
		a = append(a, "queued", v.Queued)
	}
	a = append(a, "in_flight", v.InFlight, "mb", round1(float64(v.Bytes)/1e6), "failed", v.Failed)
	for _, c := range v.Errors.List() {
		a = append(a, strings.ReplaceAll(strings.ToLower(c.Name), " ", "_"), c.N)
	}
	a = append(a, "skipped", v.Skipped, "retries", v.Retries, "hosts", v.Hosts.Active,
		"throttled", v.Hosts.Throttled, "backing_off", v.Hosts.BackingOff, "elapsed", v.Elapsed.Round(time.Second))
	if d := v.eta(); d > 0 {
		a = append(a, "eta", d.Round(time.Second))
	}
	return a
}

func round1(f float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', 1, 64), 64)
	return v
}

// groupDigits writes n with thousands separators: 1234567 -> "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func rate(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

func megabytes(b int64) string {
	if b < 1e6 {
		return fmt.Sprintf("%.0f kB", float64(b)/1e3)
	}
	if b < 1e9 {
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(b)/1e9)
}

// clock formats a duration as m:ss or h:mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s < 3600 {
		return fmt.Sprintf("%d:%02d", s/60, s%60)
	}
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// progress shows a crawl's progress on stderr: drawn in place on a
// terminal, else as a log line every so often. The runner calls show on its
// own goroutine, so a blocked terminal never stalls the crawl.
type progress struct {
	log   *slog.Logger
	every time.Duration // plain mode: time between progress lines
	limit int

	mu    sync.Mutex // guards term, shown and frame
	term  io.Writer  // the terminal, nil for plain mode
	shown int        // lines of the display on screen
	frame string     // last frame drawn, redrawn after log records

	lastPlain time.Time // used only by show
}

// progressConfig configures newProgress.
type progressConfig struct {
	Term  io.Writer // draw in place here; nil to log plain progress lines
	Every time.Duration
	Limit int // limits.max_pages
}

// newProgress prepares a display; on a terminal, log records should go
// through its Logger so that they appear above the display.
func newProgress(log *slog.Logger, c progressConfig) *progress {
	p := &progress{log: log, every: c.Every, limit: c.Limit, term: c.Term}
	if c.Term != nil {
		p.log = slog.New(&aboveDisplay{h: log.Handler(), p: p})
	}
	return p
}

// Logger returns the logger to use while the display is shown.
func (p *progress) Logger() *slog.Logger { return p.log }

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
}

// show displays fresh progress. Only one goroutine may call it.
func (p *progress) show(pr runner.Progress) {
	v := newView(pr, p.limit)
	if p.term != nil {
		p.draw(strings.Join(v.lines(), "\n"))
		return
	}
	if p.lastPlain.IsZero() {
		p.lastPlain = pr.Stats.Started // the first line one interval into the run
	}
	if pr.Now.Sub(p.lastPlain) >= p.every {
		p.lastPlain = pr.Now
		p.log.Info("progress", v.attrs()...)
	}
}

// Close erases the display from the terminal.
func (p *progress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.frame = ""
}

// draw replaces the display with frame.
func (p *progress) draw(frame string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	p.frame = frame
	p.showLocked()
}

// clearLocked erases the display; the cursor ends where it began.
func (p *progress) clearLocked() {
	if p.term == nil || p.shown == 0 {
		return
	}
	seq := "\r"
	if p.shown > 1 {
		seq += fmt.Sprintf("\x1b[%dA", p.shown-1)
	}
	io.WriteString(p.term, seq+"\x1b[J")
	p.shown = 0
}

// showLocked writes the frame, leaving the cursor at the end of its last line.
func (p *progress) showLocked() {
	if p.term == nil || p.frame == "" {
		return
	}
	io.WriteString(p.term, p.frame)
	p.shown = strings.Count(p.frame, "\n") + 1
}

// aboveDisplay is a slog.Handler that erases the progress display before
// each record and draws it again after.
type aboveDisplay struct {
	h slog.Handler
	p *progress
}

func (a *aboveDisplay) Enabled(ctx context.Context, l slog.Level) bool { return a.h.Enabled(ctx, l) }

func (a *aboveDisplay) Handle(ctx context.Context, r slog.Record) error {
	a.p.mu.Lock()
	defer a.p.mu.Unlock()
	a.p.clearLocked()
	err := a.h.Handle(ctx, r)
	a.p.showLocked()
	return err
}

func (a *aboveDisplay) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &aboveDisplay{h: a.h.WithAttrs(attrs), p: a.p}
}

func (a *aboveDisplay) WithGroup(name string) slog.Handler {
	return &aboveDisplay{h: a.h.WithGroup(name), p: a.p}
}
