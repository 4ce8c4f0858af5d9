package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	var c common
	c.register(fs)
	from := fs.String("from", "", "the crawl to copy: a SQLite file or a postgres:// URL")
	to := fs.String("to", "", "where to copy it: a new SQLite file, or a postgres:// URL (a new crawl there)")
	name := fs.String("name", store.DefaultCrawlName, "the crawl's name in a PostgreSQL database, on either side")
	fromName := fs.String("from-name", "", "the crawl's name in the source PostgreSQL database (default --name)")
	toName := fs.String("to-name", "", "the crawl's name in the target PostgreSQL database (default --name)")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *from == "" || *to == "" {
		return usageError{"copy takes --from and --to, e.g. crawler copy --from crawl.db --to postgres://user@host/db"}
	}
	if _, err := c.logger(stderr); err != nil {
		return err
	}
	if *fromName == "" {
		*fromName = *name
	}
	if *toName == "" {
		*toName = *name
	}
	for _, n := range []string{*fromName, *toName} {
		if err := store.CheckCrawlName(n); err != nil {
			return usageError{err.Error()}
		}
	}
	if *from == *to && *fromName == *toName {
		return usageError{"--from and --to name the same crawl"}
	}
	counts, err := runner.Copy(ctx, *from, *fromName, *to, *toName)
	if counts != nil {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "table\tsource\tcopied\t")
		for _, c := range counts {
			fmt.Fprintf(tw, "%s\t%d\t%d\t\n", c.Table, c.Source, c.Copied)
		}
		tw.Flush()
	}
	if err != nil {
		return err
	}
	if !c.quiet {
		fmt.Fprintf(stdout, "copied %s to %s; leased URLs are queued again. Continue the crawl with a config whose "+
			"database is the copy (and, on PostgreSQL, name: %s)\n", showDatabase(*from, *fromName), showDatabase(*to, *toName), *toName)
	}
	return nil
}
