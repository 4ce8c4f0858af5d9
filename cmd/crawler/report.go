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
	Prog     string        // how to call the crawler in the commands shown; "" for "crawler"
	DB       *store.Report // nil when the database could not be read
	Now      time.Time
}

// writeReport prints the final report of a run.
func writeReport(w io.Writer, r runSummary) {
	st := r.Stats
	fmt.Fprintf(w, "%s after %s: %s stored (%s pages/s), %s failed, %s skipped, %s, %s\n",
		outcomeWord(r.Outcome, r.Err), r.Elapsed.Round(time.Second), plural(st.Pages, "page"), rate(r.PagesPerSecond),
		groupDigits(st.Errors), groupDigits(st.Skipped), plural(st.Retries, "retry"), megabytes(st.Bytes))
	if st.Revisits > 0 {
		fmt.Fprintf(w, "revisits: %s, %s unchanged (%s answered 304), %s changed\n", groupDigits(st.Revisits),
			groupDigits(st.Unchanged), groupDigits(st.NotModified), groupDigits(st.Revisits-st.Unchanged))
	}
	db := "--db " + quoteArg(r.Database)
	if r.Select != "" {
		db = r.Select
	}
	if d := r.DB; d != nil {
		fmt.Fprintf(w, "\ndatabase %s: %s (%s done, %s failed, %s skipped, %s queued), %s, %s\n",
			r.Database, plural(d.Total, "URL"), groupDigits(int64(d.ByState[store.StateDone])),
			groupDigits(int64(d.ByState[store.StateFailed])), groupDigits(int64(d.ByState[store.StateSkipped])),
			groupDigits(int64(d.ByState[store.StateQueued]+d.ByState[store.StateLeased])),
			plural(d.Pages, "page"), megabytes(d.Bytes))
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
				fmt.Fprintf(w, "  %-28s %6s mean, %6s max over %s", h.Origin, crawl.Millis(h.AvgMS),
					crawl.Millis(h.MaxMS), plural(h.Fetched, "page"))
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
			verb := "are"
			if q == 1 {
				verb = "is"
			}
			fmt.Fprintf(w, "\n%s %s queued; the earliest retry is due at %s\n", plural(q, "URL"), verb,
				d.NextDue.Format(time.DateTime))
		}
	}

	fmt.Fprintln(w)
	var nothing *runner.NothingFetchedError
	switch {
	case errors.As(r.Err, &nothing):
		fmt.Fprintf(w, "%v\nafter changing the config, run again:\n  %s\n", nothing, r.Resume)
	case r.Outcome == crawl.OutcomeInterrupted || errors.Is(r.Err, crawl.ErrInterrupted):
		fmt.Fprintf(w, "interrupted; the database is consistent. Resume with:\n  %s\n", r.Resume)
	case r.Err != nil:
		fmt.Fprintf(w, "the crawl stopped on an error: %v\nafter fixing it, resume with:\n  %s\n", r.Err, r.Resume)
	case r.Outcome == crawl.OutcomeLimit:
		fmt.Fprintf(w, "stopped at limits.max_pages (%d); raise it and continue with:\n  %s\n", r.Limit, r.Resume)
	}
	prog := r.Prog
	if prog == "" {
		prog = "crawler"
	}
	fmt.Fprintln(w, "inspect:")
	fmt.Fprintf(w, "  %s status %s\n", prog, db)
	fmt.Fprintf(w, "  %s hosts %s\n", prog, db)
	example := "URL"
	if r.DB != nil && r.DB.Failed != "" {
		example = quoteArg(r.DB.Failed)
	}
	fmt.Fprintf(w, "  %s explain %s %s\n", prog, db, example)
	fmt.Fprintf(w, "  %s query %s \"SELECT state, reason, count(*) AS n FROM frontier GROUP BY 1, 2 ORDER BY n DESC LIMIT 20\"\n", prog, db)
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
