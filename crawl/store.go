package crawl

import (
	"context"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// Store is the crawl database as the engine uses it: the durable frontier,
// the hosts' politeness and robots.txt state, and the recording of
// outcomes. Every store (store/sqlite, ...) implements it; the engine
// needs nothing else.
type Store interface {
	// Add inserts URLs (seeds, lists, sitemaps) and returns the number
	// newly queued per host id.
	Add(ctx context.Context, urls []store.NewURL) (map[int64]int, error)
	// Recover returns URLs leased by a run that ended without releasing
	// them to the queue, and settles the URLs of hosts given up.
	Recover(ctx context.Context) (int, error)
	// SetInboundLinkIndex creates or drops the index on links' targets.
	SetInboundLinkIndex(ctx context.Context, on bool) error
	// SetFullTextIndex creates (indexing the pages stored so far) or drops
	// the full-text index over pages' title and main text.
	SetFullTextIndex(ctx context.Context, on bool) error
	// CountPages returns the number of pages recorded.
	CountPages(ctx context.Context) (int, error)
	// Pending reports the URLs queued or leased and the earliest time a
	// queued one becomes due.
	Pending(ctx context.Context) (n int, nextDue time.Time, err error)
	// Claim leases up to n due URLs of a host; when fewer are due, it
	// also says when the next one is.
	Claim(ctx context.Context, hostID int64, n int, lease time.Duration) ([]store.Lease, time.Time, error)
	// Commit records outcomes exactly once: one whose lease is no longer
	// held is ignored.
	Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error)
	// ReadyHosts returns up to limit active hosts with queued URLs and an
	// id above after, in id order.
	ReadyHosts(ctx context.Context, after int64, limit int) ([]store.HostRow, error)
	// Hosts returns the rows of the given hosts.
	Hosts(ctx context.Context, ids []int64) ([]store.HostRow, error)
	// ReserveHosts moves hosts' next allowed request times forward.
	ReserveHosts(ctx context.Context, rs []store.HostReservation) error
	// SaveHosts persists hosts' politeness state.
	SaveHosts(ctx context.Context, hs []store.HostPoliteness) error
	// SaveRobots persists a host's robots.txt.
	SaveRobots(ctx context.Context, hostID int64, r store.RobotsRecord) error
	// GiveUpHost ends a host's live URLs with reason, and those found
	// later; it returns how many it ended.
	GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error)
}

// ExplainReader is what Explain reads.
type ExplainReader interface {
	Explain(ctx context.Context, url string, maxInbound int) (*store.URLInfo, error)
	Inbound(ctx context.Context, url string, n int) ([]store.InboundLink, int, error)
	SimilarURLs(ctx context.Context, url string, n int) ([]string, error)
}

// PageReader is what PageForRules reads.
type PageReader interface {
	PageByURL(ctx context.Context, url string) (*store.StoredPage, error)
}

// ReextractStore is what Reextract reads and rewrites.
type ReextractStore interface {
	PagesWithBodies(ctx context.Context, after int64, limit int) ([]store.StoredPage, error)
	ReplacePageItems(ctx context.Context, rules []string, pages []store.PageItems) error
}
