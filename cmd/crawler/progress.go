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

	"github.com/crawler-dev/crawler/runner"
)

// progressLines renders the terminal display of p: one to three short lines.
func progressLines(p runner.Progress) []string {
	s := p.Stats
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s/s (avg %s)", plural(s.Pages, "page"), rate(p.PagesPerSecond), rate(p.AvgPagesPerSecond))
	if p.FrontierKnown {
		fmt.Fprintf(&b, "  %s queued", groupDigits(int64(p.Frontier.Queued)))
	}
	fmt.Fprintf(&b, "  %d in flight  %s  %s", s.Hosts.InFlight, megabytes(s.Bytes), clock(p.Elapsed))
	if p.Limit > 0 {
		fmt.Fprintf(&b, "  limit %d%%", min(100, p.Total()*100/p.Limit))
		if d := p.ETA(); d > 0 {
			fmt.Fprintf(&b, " ETA %s", clock(d))
		}
	}
	out := []string{b.String()}

	b.Reset()
	fmt.Fprintf(&b, "hosts %d active", s.Hosts.Active)
	if s.Hosts.Throttled > 0 {
		fmt.Fprintf(&b, ", %d throttled", s.Hosts.Throttled)
	}
	if s.Hosts.BackingOff > 0 {
		fmt.Fprintf(&b, ", %d backing off", s.Hosts.BackingOff)
	}
	if s.Skipped > 0 {
		fmt.Fprintf(&b, "  skipped %s", groupDigits(s.Skipped))
	}
	if s.Retries > 0 {
		fmt.Fprintf(&b, "  retries %s", groupDigits(s.Retries))
	}
	if s.Revisits > 0 {
		fmt.Fprintf(&b, "  revisits %s (%s unchanged, %s answered 304)", groupDigits(s.Revisits), groupDigits(s.Unchanged),
			groupDigits(s.NotModified))
	}
	if s.Sleeping {
		b.WriteString("  " + sleepingUntil(s.WakeAt))
	}
	out = append(out, b.String())

	if classes := s.ErrorClasses.List(); s.Errors > 0 || len(classes) > 0 {
		b.Reset()
		fmt.Fprintf(&b, "failed %s", groupDigits(s.Errors))
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
	if w := p.WaitingText(); w != "" {
		out = append(out, w)
	}
	for _, h := range p.Stats.Webhooks {
		out = append(out, h.String())
	}
	return out
}

// progressAttrs renders p as log attributes, for the plain progress line
// written when stderr is not a terminal.
func progressAttrs(p runner.Progress) []any {
	s := p.Stats
	a := []any{"pages", s.Pages, "pages_per_second", round1(p.PagesPerSecond), "avg_pages_per_second", round1(p.AvgPagesPerSecond)}
	if p.FrontierKnown {
		a = append(a, "queued", p.Frontier.Queued)
	}
	a = append(a, "in_flight", s.Hosts.InFlight, "mb", round1(float64(s.Bytes)/1e6), "failed", s.Errors)
	for _, c := range s.ErrorClasses.List() {
		a = append(a, c.Key(), c.N)
	}
	a = append(a, "skipped", s.Skipped, "retries", s.Retries, "hosts", s.Hosts.Active,
		"throttled", s.Hosts.Throttled, "backing_off", s.Hosts.BackingOff, "elapsed", p.Elapsed.Round(time.Second))
	if d := p.ETA(); d > 0 {
		a = append(a, "eta", d.Round(time.Second))
	}
	if s.Revisits > 0 {
		a = append(a, "revisits", s.Revisits, "unchanged", s.Unchanged, "not_modified", s.NotModified)
	}
	if s.Sleeping {
		a = append(a, "sleeping", sleepingUntil(s.WakeAt))
	}
	if w := p.WaitingText(); w != "" {
		a = append(a, "waiting", w)
	}
	for _, h := range s.Webhooks {
		a = append(a, "webhook", h.String())
	}
	return a
}

// sleepingUntil says when a continuous run that has nothing due wakes up.
func sleepingUntil(at time.Time) string {
	if at.IsZero() {
		return "sleeping: no URL is scheduled"
	}
	return "sleeping until " + at.Format(time.DateTime) + ", when the next URL is due"
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
}

// newProgress prepares a display; on a terminal, log records should go
// through its Logger so that they appear above the display.
func newProgress(log *slog.Logger, c progressConfig) *progress {
	p := &progress{log: log, every: c.Every, term: c.Term}
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
	if p.term != nil {
		p.draw(strings.Join(progressLines(pr), "\n"))
		return
	}
	if p.lastPlain.IsZero() {
		p.lastPlain = pr.Stats.Started // the first line one interval into the run
	}
	if pr.Now.Sub(p.lastPlain) >= p.every {
		p.lastPlain = pr.Now
		p.log.Info("progress", progressAttrs(pr)...)
	}
}

// Notice writes msg on a line of its own: above the display on a
// terminal (the display is drawn again below it), else to w.
func (p *progress) Notice(w io.Writer, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.term == nil {
		fmt.Fprintln(w, msg)
		return
	}
	p.clearLocked()
	fmt.Fprintln(p.term, msg)
	p.showLocked()
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
