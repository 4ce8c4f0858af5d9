// Package store holds what every crawl database shares, whichever engine
// keeps it: the types the engine and the readers exchange with a store
// (NewURL, Lease, Outcome, Page, HostRow ...), the codec of stored bodies,
// and the read side (Reader: status, report, explain, host list, export,
// stored pages), written once in SQL that SQLite and PostgreSQL both run,
// behind a small Dialect. Each engine's store lives in its own package
// (store/sqlite) with its own SQL for the write side: claims, commits,
// recovery.
//
// The conformance suite in store/storetest runs against every store.
package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Frontier states. queued and leased are live; the others are terminal.
const (
	StateQueued  = "queued"
	StateLeased  = "leased"
	StateDone    = "done"
	StateFailed  = "failed"
	StateSkipped = "skipped"
)

// ErrLocked reports that another crawler process holds the database.
var ErrLocked = errors.New("database is in use by another crawler process")

// ErrNoPage is returned by PageByURL when no page row has the URL.
var ErrNoPage = errors.New("no page recorded for this URL")

// ErrUnknownURL reports a URL the frontier has never seen.
var ErrUnknownURL = errors.New("URL not in the frontier")

// ErrUnavailable is wrapped by the errors of a store whose database cannot
// be reached for now: a server restarting or shut down, a connection lost,
// a transaction that lost a serialization conflict. The operation may be
// retried as it is; every recording transaction is fenced by its lease,
// so a commit that landed but whose answer was lost is ignored as stale
// the second time.
var ErrUnavailable = errors.New("database unavailable")

// DefaultCrawlName is the name of a crawl whose configuration gives
// none.
const DefaultCrawlName = "crawl"

// CheckCrawlName returns an error unless name can name a crawl: a
// lowercase identifier (letters, digits and underscores, starting with a
// letter or underscore, at most 63 characters, not starting with pg_).
// On PostgreSQL it is the name of the crawl's schema.
func CheckCrawlName(name string) error {
	ok := name != "" && len(name) <= 63 && !strings.HasPrefix(name, "pg_") && !(name[0] >= '0' && name[0] <= '9')
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if !ok {
		return fmt.Errorf("%q is not a crawl name: use lowercase letters, digits and underscores, starting with a letter, "+
			"at most 63 characters, not starting with pg_", name)
	}
	return nil
}

// ErrHostLost reports that a host lease is no longer held: it ran out and
// another worker (or this one, after a restart) took the host over, or it
// was released. The holder must drop the host; whatever it claimed under
// the lease is recorded by nobody's commit but the new holder's.
var ErrHostLost = errors.New("host lease lost")

// HostToken names a host lease: the host, and the token it was leased
// with. Every claim under the lease and every outcome recorded for those
// claims is fenced by the token.
type HostToken struct {
	ID    int64
	Token int64
}

// HostRelease ends a host lease. NextAllowedAt, when not zero, is when
// the host may next be sent a request, as its holder knows it: the host's
// reservation (HostReservation), written ahead, is brought back to it, so
// that the next holder does not wait for requests never sent.
type HostRelease struct {
	HostToken
	NextAllowedAt time.Time
}

// HostQuery selects the hosts LeaseHosts leases: the hosts IDs when given,
// else hosts with an id above After, in id order; at most Limit.
type HostQuery struct {
	IDs   []int64
	After int64
	Limit int
	// Revisits also leases hosts with a URL due for a revisit (their
	// next_revisit_at passed); RevisitsOnly leases those only, not hosts
	// that have nothing but queued URLs. Neither applies to IDs.
	Revisits, RevisitsOnly bool
}

// IsPostgres reports whether a configuration's database value names a
// PostgreSQL database (a postgres:// or postgresql:// URL) rather than a
// SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// NewURL is a URL to add to the frontier. A URL already present keeps its
// row, except that a shorter path wins: found again, queued, by a path
// shorter in depth or template chain, a queued URL takes the smaller
// values, and a URL skipped only for its path (PathLimited) is queued.
type NewURL struct {
	URL         string
	Origin      string // scheme://host[:port]; "" when the URL is skipped before a host is needed
	Depth       int
	Chain       int // links in a row within the URL's template on the path that found it
	ParentID    int64
	Source      string // seed, link, redirect, sitemap, list, canonical
	State       string // StateQueued or StateSkipped
	Reason      string
	PathLimited bool // skipped only for the path it was found by (too deep, chain too long)
	Redirects   int
	LastMod     time.Time // from a sitemap; zero if unknown
}

// Lease is a frontier row handed to the crawler for fetching. Its ID,
// Claims and Token together name the lease: a commit is recorded only
// while the row is still leased under the same claim, by the same host
// lease.
type Lease struct {
	ID       int64
	URL      string
	HostID   int64
	Depth    int
	Chain    int
	Attempts int
	Claims   int   // times the row was leased, this lease included
	Token    int64 // the host lease the row was claimed under
	// Unended is the times the row was leased since it last ended (done,
	// failed, skipped), this lease included: a URL leased again and again
	// without an outcome stops the crawler.
	Unended   int
	Redirects int
	Source    string
	// Prev is the response recorded for the URL by an earlier fetch, nil
	// when it has none: the lease is a revisit.
	Prev *Fetched
}

// Page is the record of one HTTP response.
type Page struct {
	FinalURL     string
	Status       int
	ContentType  string
	Encoding     string
	Headers      string // JSON object of selected headers
	FetchedAt    time.Time
	Duration     time.Duration
	Size         int
	Truncated    bool
	Body         []byte // already compressed as BodyEncoding says (BodyEncoder)
	BodyEncoding string
	ContentHash  string
	Title        string
	Description  string
	Canonical    string
	MetaRobots   string
	Lang         string
	// FieldsTruncated names the fields cut at their cap: title,
	// description, anchor (some link's anchor text).
	FieldsTruncated []string
	Data            *PageData // structured data and text, nil when not extracted
	Items           []Item    // extraction rule results
	// SimHash is the SimHash of the page's main text (parse.SimHash),
	// when HasSimHash.
	SimHash    uint64
	HasSimHash bool
	// NearDuplicateOf is the earlier page (pages.id) of the same host
	// whose SimHash is within dedup.max_distance of this one's, 0 for
	// none; NearReason says how close. A near-duplicate's SimHash is not
	// indexed: later pages are compared with the pages that are none.
	NearDuplicateOf int64
	NearReason      string
}

// PageData is the structured data and text of an HTML page.
type PageData struct {
	JSONLD    []json.RawMessage
	OpenGraph map[string]string
	Twitter   map[string]string
	MainText  string
}

// Item is one record produced by an extraction rule set.
type Item struct {
	Rule      string
	Index     int
	Data      map[string]any
	Errors    []string
	Truncated []string // fields whose values were cut at their cap
}

// PageItems is the extraction result of one page.
type PageItems struct {
	PageID int64
	URL    string
	Items  []Item
}

// Link is one outgoing link of a page.
type Link struct {
	URL      string
	Anchor   string
	Nofollow bool
}

// Outcome is what happened to a leased URL. State is terminal (done, failed,
// skipped) or queued, which returns the URL to the frontier (a retry, or a
// lease released at shutdown) without losing it.
type Outcome struct {
	Lease      Lease
	State      string
	Reason     string
	Status     int
	Err        string
	Attempted  bool      // counts as a fetch attempt
	RetryAt    time.Time // for State == queued
	Page       *Page     // the response to record, if any
	Links      []Link
	Discovered []NewURL
	// NotModified says the server answered a conditional request with 304
	// Not Modified: the stored page stands, and Page gives only the time
	// and duration of this fetch.
	NotModified bool
	// Schedule, with a done or failed outcome, is when the URL is due
	// again (recrawl); nil leaves it unscheduled.
	Schedule *Schedule
	// History, when set, keeps the URL's history: a Page that differs
	// from the one recorded before (store.Fetched.Same) is also recorded
	// as a new version, with its items.
	History *History
}

// CommitResult says what a Commit changed.
type CommitResult struct {
	NewByHost map[int64]int // newly queued URLs per host id
	Pages     int           // page rows written
	Stale     int           // outcomes ignored because their lease was no longer held
}

// HostRow is a host's persisted state, as the scheduler adopts it.
type HostRow struct {
	ID              int64
	Origin          string
	Queued          int
	RobotsStatus    sql.NullInt64
	RobotsBody      []byte
	RobotsExpiresAt int64
	RobotsFailures  int
	NextFetchAt     int64
	BackoffLevel    int
	Failures        int
	DelayMS         int64
	LatencyMS       int64
	NextAllowedAt   int64 // unix ms: no request before this (see HostReservation)
	NextRevisitAt   int64 // unix ms: when its first scheduled URL is due; 0 if none is
	State           string
	Reason          string
	// Token and LeaseLeft are the host's lease, as LeaseHosts returns it:
	// its token, and how long it had left when it was granted, by the
	// database's clock.
	Token     int64
	LeaseLeft time.Duration
}

// HostReservation moves a host's next allowed time to Until: a crawler
// writes it, covering the requests it is about to send plus the host's
// interval, before it sends them, so that after a crash its successor
// starts no sooner than the host's Crawl-delay and rate allow. A host's
// value never moves back.
type HostReservation struct {
	ID    int64
	Until time.Time
}

// HostPoliteness is the politeness state the scheduler persists per host.
type HostPoliteness struct {
	ID           int64
	NextFetchAt  time.Time
	BackoffLevel int
	Failures     int
	Delay        time.Duration
	Latency      time.Duration
	CrawlDelay   time.Duration
	Reason       string
}

// RobotsRecord is a fetched (or failed) robots.txt.
type RobotsRecord struct {
	Status    int // 0 for a network error
	Body      []byte
	Err       string
	FetchedAt time.Time
	ExpiresAt time.Time
	Failures  int // consecutive unavailable answers, reset by a 2xx/4xx
}

// StoredPage is a page row with its stored body.
type StoredPage struct {
	ID           int64
	URL          string
	Status       int
	ContentType  string
	FetchedAt    time.Time
	Body         []byte // compressed as BodyEncoding says (DecodeBody); nil when not stored
	BodyEncoding string
}

// ReaderOptions tune the read-only pool of a database opened for reading.
type ReaderOptions struct {
	// MaxValueBytes, when positive, is the longest string or blob a reader
	// loads from the database or builds while it runs a statement: the
	// statement fails rather than allocate more. It bounds the memory one
	// value of a hostile page can take in a long-running process such as
	// crawler serve.
	MaxValueBytes int
}
