package sitemap

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// parseText reads a plain-text sitemap: one URL per line. Blank lines,
// invalid URLs and lines longer than maxLine are skipped.
func parseText(r *bufio.Reader, c *collector) error {
	long := false // inside a line longer than the buffer
	for {
		line, err := r.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			long = true
			continue
		case long:
			// The tail of an over-long line: drop it.
			long = false
			c.res.Skipped++
		default:
			if s := bytes.TrimSpace(line); len(s) > 0 {
				if aerr := c.add(Entry{Loc: string(s)}, false); aerr == errFull {
					return nil
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read text sitemap: %w", err)
		}
	}
}
