package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

func cmdQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	var c common
	c.register(fs)
	configPath := fs.String("c", "", "config file naming the database (default config.yaml)")
	dbFlag := fs.String("db", "", "database file or postgres:// URL")
	name := nameFlag(fs)
	asJSON := fs.Bool("json", false, "print rows as JSON lines")
	pos, err := parseFlags(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{`query takes one SQL statement, e.g. crawler query "SELECT url, status FROM pages LIMIT 10"`}
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
	rows, err := db.UserQuery(ctx, pos[0], 0)
	if err != nil {
		return err
	}
	defer rows.Close()
	return printRows(rows, stdout, *asJSON)
}

func printRows(rows *store.QueryRows, w io.Writer, asJSON bool) error {
	cols, err := rows.Columns()
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	var tw *tabwriter.Writer
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	if !asJSON {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		n++
		if asJSON {
			// One object per row, its keys in the order the SELECT names them.
			line.Reset()
			line.WriteByte('{')
			for i, c := range cols {
				if i > 0 {
					line.WriteByte(',')
				}
				if err := enc.Encode(c); err != nil {
					return err
				}
				line.Truncate(line.Len() - 1) // Encode's newline
				line.WriteByte(':')
				if err := enc.Encode(store.JSONValue(vals[i])); err != nil {
					return err
				}
				line.Truncate(line.Len() - 1)
			}
			line.WriteString("}\n")
			if _, err := w.Write(line.Bytes()); err != nil {
				return err
			}
			continue
		}
		cells := make([]string, len(cols))
		for i := range cols {
			cells[i] = cell(vals[i])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if tw != nil {
		tw.Flush()
		fmt.Fprintf(w, "(%s)\n", plural(n, "row"))
	}
	return nil
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		if utf8.Valid(x) && len(x) < 200 {
			return oneLine(string(x))
		}
		return fmt.Sprintf("<%d bytes>", len(x))
	case string:
		return oneLine(x)
	}
	return fmt.Sprint(v)
}

func oneLine(s string) string {
	s = strings.NewReplacer("\n", " ", "\t", " ", "\r", " ").Replace(s)
	if utf8.RuneCountInString(s) > 120 {
		r := []rune(s)
		s = string(r[:117]) + "..."
	}
	return s
}
