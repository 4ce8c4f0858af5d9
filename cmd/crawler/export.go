package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database and the rules (default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL")
	name := nameFlag(fs)
	format := fs.String("format", "", "jsonl or csv (default: csv for an -o file ending in .csv, else jsonl)")
	table := fs.String("table", "items", "items, pages, links, page_data (JSON-LD, OpenGraph, Twitter cards, main text) or changes")
	rule := fs.String("rule", "", "items (or changes of items) of this rule set only")
	since := fs.String("since", "", "rows from this time on: 2026-01-02, an RFC 3339 time, or a duration back from now such as 24h")
	bodies := fs.Bool("bodies", false, "pages: add each text body, decompressed and decoded to UTF-8")
	changes := fs.Bool("changes", false, "the changes revisits found, as crawler changes lists them (same as --table changes)")
	out := fs.String("o", "-", "output file, or - for standard output")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler export [-c config.yaml | --db FILE] [--format jsonl|csv]\n"+
			"                      [--table items|pages|links|page_data|changes] [--changes]\n"+
			"                      [--rule NAME] [--since TIME] [--bodies] -o FILE|-\n\n"+
			"Streams a table as JSON lines or CSV, in constant memory; works while a crawl runs.\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("export takes no arguments, got %q (write the output file as -o FILE)", pos[0])}
	}
	o := store.ExportOptions{Format: *format, Table: *table, Rule: *rule}
	if *changes {
		if *table != "items" && *table != "changes" {
			return usageError{fmt.Sprintf("--changes exports the changes; it cannot be combined with --table %s", *table)}
		}
		o.Table = "changes"
	}
	if o.Format == "" {
		o.Format = "jsonl"
		if strings.EqualFold(filepath.Ext(*out), ".csv") {
			o.Format = "csv"
		}
	}
	if *bodies {
		o.Bodies = true
	}
	if err := o.Check(); err != nil {
		return usageError{err.Error()}
	}
	if *since != "" {
		if o.Since, err = parseSince(*since, time.Now()); err != nil {
			return err
		}
	}
	path, crawlName, err := dbPath(*dbFlag, *name, *configPath)
	if err != nil {
		return err
	}
	if o.Format == "csv" && o.Table == "items" && (*configPath != "" || *dbFlag == "") {
		cfg, err := loadConfig(configOrDefault(*configPath))
		if err != nil {
			return err
		}
		o.Fields = cfg.ItemFields(o.Rule)
	}
	db, err := runner.OpenReader(ctx, path, crawlName, store.ReaderOptions{})
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := exportTo(ctx, db, *out, stdout, o)
	if err != nil {
		return err
	}
	if !c.quiet {
		dest := *out
		if dest == "-" {
			dest = "standard output"
		}
		fmt.Fprintf(stderr, "exported %s to %s\n", plural(n, exportNoun[o.Table]), dest)
	}
	return nil
}

// exportNoun names one row of each table export writes.
var exportNoun = map[string]string{"items": "item", "pages": "page", "links": "link", "page_data": "page_data row"}

func configOrDefault(path string) string {
	if path == "" {
		return "config.yaml"
	}
	return path
}

// exportTo writes the export to stdout for "-", else to a temporary file
// beside path that is renamed into place once complete, so that a failed or
// interrupted export never leaves a partial file under the final name.
func exportTo(ctx context.Context, db runner.Reader, path string, stdout io.Writer, o store.ExportOptions) (int64, error) {
	if path == "-" {
		return db.Export(ctx, stdout, o)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	n, err := db.Export(ctx, f, o)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("export: %w", cerr)
	}
	if err == nil {
		if err = os.Rename(f.Name(), path); err != nil {
			err = fmt.Errorf("export: %w", err)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return n, err
	}
	return n, nil
}

// parseSince reads --since: a date (local midnight), a date and time
// (local unless it names a zone), or a duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, usageError{fmt.Sprintf("--since %s: a duration back from now must be positive", s)}
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--since %q: write a date (2026-01-02), a time (2026-01-02T15:04:05Z) or a duration such as 24h", s)}
}
