package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database (default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL")
	name := nameFlag(fs)
	if _, err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	path, crawlName, err := dbPath(*dbFlag, *name, *configPath)
	if err != nil {
		return err
	}
	db, err := runner.OpenReader(ctx, path, crawlName, store.ReaderOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database: %s\n", showDatabase(path, crawlName))
	fmt.Fprintf(stdout, "frontier: %s", plural(st.Total, "URL"))
	for _, k := range []string{store.StateQueued, store.StateLeased, store.StateDone, store.StateFailed, store.StateSkipped} {
		fmt.Fprintf(stdout, ", %s %d", k, st.ByState[k])
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "pages: %d stored, %.1f MB", st.Pages, float64(st.Bytes)/1e6)
	if st.LastMinute > 0 || st.Running {
		// Over the last minute, or since the run started if that is sooner.
		window := time.Minute
		if st.Running && st.LastRun.StartedAt > 0 {
			window = min(window, max(time.Since(time.UnixMilli(st.LastRun.StartedAt)), time.Second))
		}
		span := "minute"
		if window < time.Minute {
			span = window.Round(time.Second).String()
		}
		fmt.Fprintf(stdout, ", %.1f pages/s over the last %s", float64(st.LastMinute)/window.Seconds(), span)
	}
	fmt.Fprintln(stdout)
	if r := st.Revisits; r.Due+r.NotYetDue > 0 {
		fmt.Fprintf(stdout, "revisits: %d due now, %d not yet due", r.Due, r.NotYetDue)
		if !r.NextDue.IsZero() {
			fmt.Fprintf(stdout, ", next due %s (in %v)", r.NextDue.Format(time.DateTime), time.Until(r.NextDue).Round(time.Second))
		}
		fmt.Fprintln(stdout)
	}
	if st.LastRun.StartedAt > 0 {
		state := st.LastRun.Outcome
		if state == "" {
			state = "running or killed"
		}
		fmt.Fprintf(stdout, "last run: started %s, %s\n", time.UnixMilli(st.LastRun.StartedAt).Format(time.DateTime), state)
	}
	if len(st.TopReasons) > 0 {
		fmt.Fprintln(stdout, "\ntop reasons (failed/skipped):")
		for _, r := range st.TopReasons {
			fmt.Fprintf(stdout, "  %7d  %-8s %s\n", r.Count, r.State, r.Reason)
		}
	}
	fmt.Fprintln(stdout, "\nhosts:")
	fmt.Fprintf(stdout, "  %-32s %8s %8s %8s %8s  %s\n", "host", "queued", "pages", "errors", "delay", "state")
	for _, h := range st.Hosts {
		fmt.Fprintf(stdout, "  %-32s %8d %8d %8d %8s  %s\n", h.Origin, h.Queued, h.Pages, h.Errors,
			(time.Duration(h.DelayMS) * time.Millisecond).String(), h.State)
	}
	if st.MoreHosts > 0 {
		fmt.Fprintf(stdout, "  ... and %s more (crawler query \"SELECT * FROM hosts\")\n", plural(st.MoreHosts, "host"))
	}
	writeWorkers(stdout, st.Workers)
	return nil
}

// writeWorkers prints the crawl's worker processes: running, stopped, or
// lost (no heartbeat for longer than its host lease: its hosts go to the
// others).
func writeWorkers(w io.Writer, ws []store.WorkerInfo) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintln(w, "\nworkers:")
	fmt.Fprintf(w, "  %-6s %-28s %-19s %-10s %6s %8s  %s\n", "id", "host:pid", "started", "heartbeat", "hosts", "pages", "state")
	for _, wk := range ws {
		beat := wk.HeartbeatAt.Round(time.Second).String() + " ago"
		if wk.State == store.WorkerStopped {
			beat = "-"
		}
		fmt.Fprintf(w, "  %-6d %-28s %-19s %-10s %6d %8d  %s\n", wk.ID, fmt.Sprintf("%s:%d", wk.Hostname, wk.PID),
			wk.Started.Format(time.DateTime), beat, wk.HostsHeld, wk.Pages, wk.State)
	}
}
