package main

import (
	"fmt"
	"io"
	"strings"
)

// row is one line of the result table.
type row struct {
	Measurement string
	Value       string
	Target      string
	Met         string // "yes", "NO" or "" when there is no target
	Command     string
}

func (b *bench) add(r row) { b.rows = append(b.rows, r) }

// table is a result table of its own, printed after the main one.
type table struct {
	title string
	head  []string
	rows  [][]string
}

func (b *bench) table(title string, head []string, rows [][]string) {
	b.tables = append(b.tables, table{title, head, rows})
}

func (b *bench) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// met renders whether a target was met.
func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}

// ratio adds the crawler/colly comparison when both ran.
func (b *bench) ratio() {
	if b.collyRate <= 0 {
		return
	}
	for _, c := range b.crawlerRates {
		r := c.rate / b.collyRate
		b.add(row{
			Measurement: "throughput ratio crawler (bodies " + c.bodies + ") / plain colly",
			Value:       fmt.Sprintf("%.2fx", r),
			Target:      ">= 4x",
			Met:         met(r >= 4),
			Command:     b.cmdFor("throughput,colly", c.bodies),
		})
	}
}

// print writes the table and the notes as Markdown.
func (b *bench) print(w io.Writer) {
	fmt.Fprintln(w)
	writeTable(w, []string{"measurement", "value", "target", "met", "command"}, b.tableRows())
	for _, t := range b.tables {
		fmt.Fprintf(w, "\n%s\n\n", t.title)
		writeTable(w, t.head, t.rows)
	}
	if len(b.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func (b *bench) tableRows() [][]string {
	out := make([][]string, 0, len(b.rows))
	for _, r := range b.rows {
		out = append(out, []string{r.Measurement, r.Value, r.Target, r.Met, "`" + r.Command + "`"})
	}
	return out
}

// writeTable writes a Markdown table with padded columns.
func writeTable(w io.Writer, head []string, rows [][]string) {
	width := make([]int, len(head))
	for i, h := range head {
		width[i] = len([]rune(h))
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	line := func(cells []string) {
		var sb strings.Builder
		sb.WriteString("|")
		for i, c := range cells {
			sb.WriteString(" ")
			sb.WriteString(c)
			sb.WriteString(strings.Repeat(" ", width[i]-len([]rune(c))))
			sb.WriteString(" |")
		}
		fmt.Fprintln(w, sb.String())
	}
	line(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
}
