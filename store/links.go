package store

import (
	"encoding/json"
	"fmt"
)

// The links of a page are stored in one row, page_links, as a JSON array
// with one element per link: [to_url, anchor, nofollow], the anchor null
// when empty and nofollow 0 or 1. Both engines read it with their JSON
// functions in the view links (from_id, to_url, anchor, nofollow), which
// is what users query. One row and one value per page instead of a row
// per link: the rows were most of what a page cost the writer.

// A LinkEncoder encodes the links of pages as their page_links values,
// one page after the other, reusing its buffers. Of links to the same
// URL, the first is the one kept. Each URL is written by appendJSONString,
// always the same way, so that the text of a URL finds the rows that may
// link to it (Reader.Inbound). The zero value is ready to use.
type LinkEncoder struct {
	buf  []byte
	seen map[string]struct{}
}

// Encode returns the page_links value of links, valid until the next call.
func (e *LinkEncoder) Encode(links []Link) []byte {
	if e.seen == nil {
		e.seen = map[string]struct{}{}
	}
	clear(e.seen)
	dst := append(e.buf[:0], '[')
	for _, l := range links {
		if _, dup := e.seen[l.URL]; dup {
			continue
		}
		e.seen[l.URL] = struct{}{}
		if len(dst) > 1 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendJSONString(dst, l.URL)
		if l.Anchor == "" {
			dst = append(dst, ",null"...)
		} else {
			dst = append(dst, ',')
			dst = appendJSONString(dst, l.Anchor)
		}
		if l.Nofollow {
			dst = append(dst, ",1]"...)
		} else {
			dst = append(dst, ",0]"...)
		}
	}
	e.buf = append(dst, ']')
	if len(e.seen) > maxKeptLinks {
		e.seen = nil
	}
	return e.buf
}

// maxKeptLinks bounds the set a LinkEncoder keeps for the next page:
// clearing a map costs its capacity.
const maxKeptLinks = 1024

// DecodeLinks reads a page_links value.
func DecodeLinks(b []byte) ([]Link, error) {
	var rows [][3]any
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("decode links: %w", err)
	}
	out := make([]Link, len(rows))
	for i, r := range rows {
		u, ok := r[0].(string)
		if !ok {
			return nil, fmt.Errorf("decode links: link %d has no URL", i)
		}
		anchor, _ := r[1].(string)
		nofollow, _ := r[2].(float64)
		out[i] = Link{URL: u, Anchor: anchor, Nofollow: nofollow != 0}
	}
	return out, nil
}
