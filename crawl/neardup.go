package crawl

import (
	"context"
	"fmt"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// Dedup configures near-duplicate detection: each HTML page's main text
// gets a SimHash, and a page within MaxDistance bits of an earlier page of
// the same host is recorded as its near-duplicate.
type Dedup struct {
	// NearDuplicates is what a near-duplicate gets: "record" (stored and
	// followed as any page, with near_duplicate_of set), "skip_links" (its
	// links are recorded, none followed), "skip_store" (no body, text,
	// items or links stored), or "off" (no SimHash, no detection).
	NearDuplicates string `yaml:"near_duplicates"`
	// MaxDistance is how many of the 64 bits two SimHashes may differ in
	// for the pages to be near-duplicates: 0 to 10. Pages up to 3 bits
	// apart are always found; further apart, when a quarter of the bits
	// agree exactly (the band index), which most pages up to 6 bits apart
	// do.
	MaxDistance int `yaml:"max_distance"`
}

// What dedup.near_duplicates may say.
const (
	NearOff       = "off"
	NearRecord    = "record"
	NearSkipLinks = "skip_links"
	NearSkipStore = "skip_store"
)

func dedupDefaults() Dedup { return Dedup{NearDuplicates: NearRecord, MaxDistance: 6} }

func (d Dedup) validate() error {
	switch d.NearDuplicates {
	case NearOff, NearRecord, NearSkipLinks, NearSkipStore:
	default:
		return bad("dedup.near_duplicates", "must be off, record, skip_links or skip_store, got %q", d.NearDuplicates)
	}
	if d.MaxDistance < 0 || d.MaxDistance > store.MaxNearDistance {
		return bad("dedup.max_distance", "must be from 0 to %d bits (beyond, pages that share no text start to look alike), got %d",
			store.MaxNearDistance, d.MaxDistance)
	}
	return nil
}

// detects reports whether near-duplicates are looked for.
func (d Dedup) detects() bool { return d.NearDuplicates != NearOff }

// nearDuplicate gives the page of out the SimHash of its main text and,
// when an earlier page of the same host is within dedup.max_distance,
// marks it as that page's near-duplicate. It reports whether it is one.
func (w *worker) nearDuplicate(ctx context.Context, out *store.Outcome, mainText string) bool {
	e := w.e
	p := out.Page
	h, ok := parse.SimHash(mainText)
	if !ok {
		return false
	}
	p.SimHash, p.HasSimHash = h, true
	if e.db == nil { // crawler fetch: no store to compare with
		return false
	}
	m, found, err := e.db.NearDuplicate(ctx, out.Lease.HostID, h, e.cfg.Dedup.MaxDistance, out.Lease.ID)
	if err != nil {
		e.log.Warn("near-duplicate lookup", "url", out.Lease.URL, "err", err)
		return false
	}
	if !found {
		return false
	}
	p.NearDuplicateOf = m.PageID
	p.NearReason = fmt.Sprintf("simhash distance %d to %s", m.Distance, m.URL)
	return true
}
