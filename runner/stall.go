package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
)

// stallWatch notices when no URL has completed for a while although work
// remains.
type stallWatch struct {
	after      time.Duration
	completed  int64
	lastChange time.Time
	warnedAt   time.Time
}

// observe records the number of completed URLs at now and reports how long
// nothing has completed, and whether a warning is due: once after the
// threshold, then again after each further threshold.
func (w *stallWatch) observe(now time.Time, completed int64, busy bool) (time.Duration, bool) {
	if w.lastChange.IsZero() || completed != w.completed || !busy {
		w.completed, w.lastChange, w.warnedAt = completed, now, time.Time{}
		return 0, false
	}
	stalled := now.Sub(w.lastChange)
	if w.after <= 0 || stalled < w.after {
		return stalled, false
	}
	if !w.warnedAt.IsZero() && now.Sub(w.warnedAt) < w.after {
		return stalled, false
	}
	w.warnedAt = now
	return stalled, true
}

// stallFacts is what the stall diagnosis looks at.
type stallFacts struct {
	Stats        crawl.Stats
	Queued       int       // queued URLs in the frontier
	DueNow       int       // of them, due now
	NextDue      time.Time // earliest due time of a queued URL
	Now          time.Time
	TotalTimeout time.Duration
}

// diagnoseStall says why no URL completes although work remains.
func diagnoseStall(f stallFacts) string {
	h := f.Stats.Hosts
	// Workers count a fetch as uncommitted from the start, so outcomes
	// waiting for the writer are those beyond the fetches in flight.
	if waiting := f.Stats.Uncommitted - int64(h.InFlight); waiting > 0 {
		return fmt.Sprintf("%d outcomes are waiting for the database writer: the database is blocked "+
			"(another process holding a write transaction, or a slow or full disk)", waiting)
	}
	// A fetch in flight is the first thing to name: its host may be paused
	// after an earlier failure and yet be the one holding things up.
	if h.InFlight > 0 {
		var b strings.Builder
		if h.InFlight == 1 {
			b.WriteString("1 fetch is in flight but none finishes: ")
		} else {
			fmt.Fprintf(&b, "%d fetches are in flight but none finishes: ", h.InFlight)
		}
		for i, r := range f.Stats.Running {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s for %v", r.URL, f.Now.Sub(r.Since).Round(time.Second))
		}
		if len(f.Stats.Running) > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "the servers are slow or drip their responses (fetch.total_timeout %v ends each)", f.TotalTimeout)
		return b.String()
	}
	if h.Active > 0 && h.BackingOff == h.Active {
		return fmt.Sprintf("every active host (%d) is backing off after throttling (429/503) or connection failures; "+
			"\"crawler hosts\" shows each host's reason and pause", h.Active)
	}
	if f.Queued > 0 && f.DueNow == 0 && f.NextDue.After(f.Now) {
		return fmt.Sprintf("nothing is dispatchable: all %d queued URLs wait for their retry time; the next is due at %s (in %v)",
			f.Queued, f.NextDue.Format(time.TimeOnly), f.NextDue.Sub(f.Now).Round(time.Second))
	}
	if h.Active > 0 && h.Throttled+h.BackingOff == h.Active {
		return fmt.Sprintf("every active host (%d) waits for its rate limit or Crawl-delay", h.Active)
	}
	return fmt.Sprintf("%d URLs are queued but none is being fetched; see \"crawler status\" and \"crawler hosts\"", f.Queued)
}
