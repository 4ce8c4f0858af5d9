package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdChanges(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("changes", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database (default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL")
	name := nameFlag(fs)
	since := fs.String("since", "", "changes fetched from this time on: 2026-01-02, an RFC 3339 time, or a duration back from now such as 24h")
	rule := fs.String("rule", "", "changes of the items of this rule set only")
	asJSON := fs.Bool("json", false, "one JSON object per change (as export --changes writes them)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: crawler changes [-c config.yaml | --db FILE|URL] [--name NAME] [--since TIME] [--rule NAME] [--json]\n\n"+
			"Lists what appeared, changed (with the item fields that changed) and disappeared (404 or 410 after\n"+
			"a page), from the versions revisits recorded (recrawl.enabled).\n\n")
		fs.PrintDefaults()
	}
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usageError{fmt.Sprintf("changes takes no arguments, got %q", pos[0])}
	}
	now := time.Now()
	o := store.ChangesOptions{Rule: *rule}
	if *since != "" {
		if o.Since, err = parseSince(*since, now); err != nil {
			return err
		}
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
	if *asJSON {
		_, err := db.Export(ctx, stdout, store.ExportOptions{Format: "jsonl", Table: "changes", Rule: o.Rule, Since: o.Since})
		return err
	}
	counts := map[string]int{}
	for ch, err := range db.Changes(ctx, o) {
		if err != nil {
			return err
		}
		counts[ch.Kind]++
		writeChange(stdout, ch)
	}
	n := counts[store.ChangeAppeared] + counts[store.ChangeChanged] + counts[store.ChangeDisappeared]
	what := "changes"
	if o.Rule != "" {
		what = "changes of " + o.Rule + " items"
	}
	when := ""
	if !o.Since.IsZero() {
		when = " since " + o.Since.Format(time.DateTime)
	}
	fmt.Fprintf(stdout, "%d %s%s: %d appeared, %d changed, %d disappeared\n", n, what, when,
		counts[store.ChangeAppeared], counts[store.ChangeChanged], counts[store.ChangeDisappeared])
	return nil
}

// writeChange writes one change: a line with when, what and the URL, then
// a line per item field that changed.
func writeChange(w io.Writer, c store.Change) {
	fmt.Fprintf(w, "%s  %-11s  %s", c.At.Format(time.DateTime), c.Kind, c.URL)
	switch {
	case c.Kind == store.ChangeDisappeared:
		fmt.Fprintf(w, "  (HTTP %d)", c.Status)
	case c.Status != 200 && c.Status != 0:
		fmt.Fprintf(w, "  (HTTP %d)", c.Status)
	}
	fmt.Fprintln(w)
	for _, f := range c.Fields {
		fmt.Fprintf(w, "    %s[%d].%s: %s -> %s\n", f.Rule, f.Index, f.Field, fieldValue(f.Old), fieldValue(f.New))
	}
}

// fieldValue writes an item field's value as JSON, or "(none)".
func fieldValue(v any) string {
	if v == nil {
		return "(none)"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
