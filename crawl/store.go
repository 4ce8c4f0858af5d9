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
	// StartWorker records this process as a worker of the crawl.
	StartWorker(ctx context.Context, hostname string, pid int, hostLease time.Duration) (int64, error)
	// StopWorker records that the worker ended cleanly.
	StopWorker(ctx context.Context) error
	// LeaseHosts leases to this worker, for ttl, hosts with queued URLs
	// that nobody holds, taking over those whose lease ran out.
	LeaseHosts(ctx context.Context, q store.HostQuery, ttl time.Duration) ([]store.HostRow, error)
	// RenewHosts extends the leases held and records the worker's
	// heartbeat; it returns how long each lease still held has left.
	RenewHosts(ctx context.Context, held []store.HostToken, ttl time.Duration) (map[int64]time.Duration, error)
	// ReleaseHosts ends leases, once their outcomes are recorded; URLs still
	// leased under them return to the queue.
	ReleaseHosts(ctx context.Context, held []store.HostRelease) error
	// Claim leases up to n due URLs of a host under its host lease
	// (store.ErrHostLost when it is no longer held); when fewer are due,
	// it also says when the next one is.
	Claim(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error)
	// Commit records outcomes exactly once: one whose lease is no longer
	// held is ignored.
	Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error)
	// ClaimRevisits leases up to n URLs of a host whose next fetch is due,
	// under its host lease (store.ErrHostLost when it is no longer held);
	// when fewer are due, it also says when the next one is.
	ClaimRevisits(ctx context.Context, h store.HostToken, n int, lease time.Duration) ([]store.Lease, time.Time, error)
	// NextRevisit returns how many active hosts have a URL due for a
	// revisit at now, and when the first scheduled URL is due.
	NextRevisit(ctx context.Context, now time.Time) (dueHosts int, next time.Time, err error)
	// ScheduleFetched schedules the URLs that ended without a schedule
	// (fetched with recrawl off): each is due interval(url) after its last
	// fetch. It returns how many it scheduled.
	ScheduleFetched(ctx context.Context, interval func(url string) time.Duration) (int, error)
	// ReserveHosts moves hosts' next allowed request times forward.
	ReserveHosts(ctx context.Context, rs []store.HostReservation) error
	// SaveHosts persists hosts' politeness state.
	SaveHosts(ctx context.Context, hs []store.HostPoliteness) error
	// SaveRobots persists a host's robots.txt.
	SaveRobots(ctx context.Context, hostID int64, r store.RobotsRecord) error
	// NearDuplicate returns the page of a host, other than that of the URL
	// urlID, whose SimHash is nearest to h within maxDist bits.
	NearDuplicate(ctx context.Context, hostID int64, h uint64, maxDist int, urlID int64) (store.NearMatch, bool, error)
	// GiveUpHost ends a host's live URLs with reason, and those found
	// later; it returns how many it ended.
	GiveUpHost(ctx context.Context, hostID int64, reason string) (int, error)
}

// ExplainReader is what Explain reads.
type ExplainReader interface {
	Explain(ctx context.Context, url string, maxInbound int) (*store.URLInfo, error)
	Inbound(ctx context.Context, url string, n int) ([]store.InboundLink, int, error)
	SimilarURLs(ctx context.Context, url string, n int) ([]string, error)
	Versions(ctx context.Context, url string, n int) ([]store.Version, int, error)
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
