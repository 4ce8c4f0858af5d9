package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

// runSummary is what the final report of a run is made of.
type runSummary struct {
	runner.Result
	Err      error         // the run's error, if it failed
	Limit    int           // limits.max_pages
	Database string        // database path, or the crawl in a PostgreSQL database
	Select   string        // the flags naming the database in other commands; "" for --db Database
	Resume   string        // the command that continues the job
	DB       *store.Report // nil when the database could not be read
	Now      time.Time
}

// writeReport prints the final report of a run.
func writeReport(w io.Writer, r runSummary) {
	st := r.Stats
	fmt.Fprintf(w, "%s after %s: %s pages stored (%s pages/s), %s failed, %s skipped, %s retries, %s\n",
		outcomeWord(r.Outcome, r.Err), r.Elapsed.Round(time.Second), groupDigits(st.Pages), rate(r.PagesPerSecond),
		groupDigits(st.Errors), groupDigits(st.Skipped), groupDigits(st.Retries), megabytes(st.Bytes))
	db := "--db " + quoteArg(r.Database)
	if r.Select != "" {
		db = r.Select
	}
	if d := r.DB; d != nil {
		fmt.Fprintf(w, "\ndatabase %s: %s URLs (%s done, %s failed, %s skipped, %s queued), %s pages, %s\n",
			r.Database, groupDigits(int64(d.Total)), groupDigits(int64(d.ByState[store.StateDone])),
			groupDigits(int64(d.ByState[store.StateFailed])), groupDigits(int64(d.ByState[store.StateSkipped])),
			groupDigits(int64(d.ByState[store.StateQueued]+d.ByState[store.StateLeased])),
			groupDigits(int64(d.Pages)), megabytes(d.Bytes))
		if len(d.Statuses) > 0 {
			parts := make([]string, len(d.Statuses))
			for i, s := range d.Statuses {
				parts[i] = fmt.Sprintf("%d: %s", s.Status, groupDigits(int64(s.Count)))
			}
			fmt.Fprintf(w, "HTTP status this run: %s\n", strings.Join(parts, ", "))
		}
		if len(d.Causes) > 0 {
			fmt.Fprintln(w, "\nwhy URLs failed or were skipped this run:")
			for _, c := range d.Causes {
				fmt.Fprintf(w, "  %7s  %-7s  %s\n", groupDigits(int64(c.Count)), c.State, oneLine(c.Reason))
			}
		}
		if len(d.SlowHosts) > 0 {
			fmt.Fprintln(w, "\nslowest hosts this run (mean response time of their pages):")
			for _, h := range d.SlowHosts {
				fmt.Fprintf(w, "  %-28s %6s mean, %6s max over %s pages", h.Origin, crawl.Millis(h.AvgMS),
					crawl.Millis(h.MaxMS), groupDigits(int64(h.Fetched)))
				if d := max(h.DelayMS, h.CrawlDelayMS); d > 0 {
					fmt.Fprintf(w, "; delay %s", crawl.Millis(d))
				}
				if h.Reason != "" {
					fmt.Fprintf(w, "; %s", oneLine(h.Reason))
				}
				fmt.Fprintln(w)
			}
		}
		if q := d.ByState[store.StateQueued]; q > 0 && !d.NextDue.IsZero() && d.NextDue.After(r.Now) {
			fmt.Fprintf(w, "\n%s URLs are queued; the earliest retry is due at %s\n", groupDigits(int64(q)),
				d.NextDue.Format(time.DateTime))
		}
	}

	fmt.Fprintln(w)
	switch {
	case r.Outcome == crawl.OutcomeInterrupted || errors.Is(r.Err, crawl.ErrInterrupted):
		fmt.Fprintf(w, "interrupted; the database is consistent. Resume with:\n  %s\n", r.Resume)
	case r.Err != nil:
		fmt.Fprintf(w, "the crawl stopped on an error: %v\nafter fixing it, resume with:\n  %s\n", r.Err, r.Resume)
	case r.Outcome == crawl.OutcomeLimit:
		fmt.Fprintf(w, "stopped at limits.max_pages (%d); raise it and continue with:\n  %s\n", r.Limit, r.Resume)
	}
	fmt.Fprintln(w, "inspect:")
	fmt.Fprintf(w, "  crawler status %s\n", db)
	fmt.Fprintf(w, "  crawler hosts %s\n", db)
	example := "URL"
	if r.DB != nil && r.DB.Failed != "" {
		example = quoteArg(r.DB.Failed)
	}
	fmt.Fprintf(w, "  crawler explain %s %s\n", db, example)
	fmt.Fprintf(w, "  crawler query %s \"SELECT state, reason, count(*) AS n FROM frontier GROUP BY 1, 2 ORDER BY n DESC LIMIT 20\"\n", db)
}

func outcomeWord(o crawl.Outcome, err error) string {
	switch {
	case o == crawl.OutcomeFinished:
		return "finished"
	case o == crawl.OutcomeLimit:
		return "stopped at the page limit"
	case o == crawl.OutcomeInterrupted || errors.Is(err, crawl.ErrInterrupted):
		return "interrupted"
	}
	return "failed"
}
