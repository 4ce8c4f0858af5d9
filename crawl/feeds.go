package crawl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/crawler-dev/crawler/store"
)

// Feed streams the records a crawl commits (items, or pages) to a file or
// to standard output while it runs (the feeds: config group).
type Feed struct {
	// Path is the file, relative to the config file, or "-" for standard
	// output.
	Path string `yaml:"path"`
	// Format is jsonl or csv; empty: csv when Path ends in .csv, else jsonl.
	Format string `yaml:"format"`
	// Table is items (the default) or pages.
	Table string `yaml:"table"`
	// Rule keeps the items of one rule set; empty: every rule set.
	Rule string `yaml:"rule"`
}

// FeedStore is what feeds read and record their position in.
type FeedStore interface {
	ExportAfter(ctx context.Context, w io.Writer, o store.ExportOptions) (n, last int64, err error)
	FeedCursor(ctx context.Context, name string) (lastID, length int64, err error)
	SaveFeedCursor(ctx context.Context, name string, lastID, length int64) error
}

// feedOut is one feed being written.
type feedOut struct {
	name   string // the cursor's key: path, table and rule
	opts   store.ExportOptions
	file   *os.File  // nil for standard output
	w      io.Writer // file or standard output
	last   int64     // id of the last record written
	length int64     // file length after it
}

// feedSet is the feeds of one run. Deliver is called from one goroutine
// at a time.
type feedSet struct {
	db  FeedStore
	out []*feedOut
}

// feedName is the key of a feed's cursor.
func feedName(f Feed) string {
	return f.Path + " " + f.table() + " " + f.Rule
}

func (f Feed) table() string {
	if f.Table == "" {
		return "items"
	}
	return f.Table
}

func (f Feed) format() string {
	if f.Format != "" {
		return f.Format
	}
	if strings.HasSuffix(strings.ToLower(f.Path), ".csv") {
		return "csv"
	}
	return "jsonl"
}

// openFeeds opens the feeds of cfg at their recorded positions: a file is
// cut back to the length it had after the last record recorded as written,
// so records written after that (by a run killed before it recorded them)
// are written again exactly once. Standard output cannot be cut back: a
// record written there just before a kill is written again by the next
// run.
func openFeeds(ctx context.Context, db FeedStore, cfg *Config, stdout io.Writer) (*feedSet, error) {
	fs := &feedSet{db: db}
	for i, f := range cfg.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		o := &feedOut{name: feedName(f), opts: store.ExportOptions{Format: f.format(), Table: f.table(), Rule: f.Rule}}
		if o.opts.Format == "csv" && o.opts.Table == "items" {
			o.opts.Fields = cfg.ItemFields(f.Rule)
		}
		var err error
		if o.last, o.length, err = db.FeedCursor(ctx, o.name); err != nil {
			fs.close()
			return nil, err
		}
		if f.Path == "-" {
			if stdout == nil {
				stdout = io.Discard
			}
			o.w = stdout
			fs.out = append(fs.out, o)
			continue
		}
		file, err := os.OpenFile(f.Path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			fs.close()
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		fs.out = append(fs.out, o)
		o.file, o.w = file, file
		fi, err := file.Stat()
		if err != nil {
			fs.close()
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if fi.Size() < o.length {
			fs.close()
			return nil, fmt.Errorf("%s: %s holds %d bytes, fewer than the %d this crawl wrote to it: it was changed "+
				"elsewhere; move it away to write the feed again from the start", key, f.Path, fi.Size(), o.length)
		}
		if err := file.Truncate(o.length); err != nil {
			fs.close()
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if _, err := file.Seek(o.length, io.SeekStart); err != nil {
			fs.close()
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return fs, nil
}

// deliver writes every record committed since the last delivery to each
// feed: the records, then fsync, then the new position in the database.
func (fs *feedSet) deliver(ctx context.Context) error {
	for _, o := range fs.out {
		opts := o.opts
		opts.After = o.last
		opts.NoHeader = o.length > 0 || (o.file == nil && o.last > 0)
		cw := &countWriter{w: o.w}
		n, last, err := fs.db.ExportAfter(ctx, cw, opts)
		if err != nil {
			return fmt.Errorf("feed %s: %w", o.name, err)
		}
		if n == 0 {
			continue
		}
		if o.file != nil {
			if err := o.file.Sync(); err != nil {
				return fmt.Errorf("feed %s: %w", o.name, err)
			}
		}
		if err := fs.db.SaveFeedCursor(ctx, o.name, last, o.length+cw.n); err != nil {
			return err
		}
		o.last, o.length = last, o.length+cw.n
	}
	return nil
}

func (fs *feedSet) close() error {
	var errs []error
	for _, o := range fs.out {
		if o.file != nil {
			errs = append(errs, o.file.Close())
		}
	}
	return errors.Join(errs...)
}

// countWriter counts the bytes written through it.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// resolveFeedPaths makes the feeds' file paths relative to dir.
func resolveFeedPaths(feeds []Feed, dir string) {
	for i, f := range feeds {
		if f.Path != "-" && f.Path != "" && !filepath.IsAbs(f.Path) {
			feeds[i].Path = filepath.Join(dir, f.Path)
		}
	}
}
