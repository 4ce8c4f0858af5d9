// Package service runs crawl jobs behind an authenticated HTTP API: jobs
// are submitted as config YAML, crawl in goroutines owned by the service
// (at most MaxJobs at once), survive restarts of the service, and are
// inspected, paused, resumed, cancelled, queried and exported over JSON. A
// small embedded status page shows their live progress.
//
// Every job lives in its own directory, Dir/jobs/<id>/, holding job.json
// (the job's state, written atomically) and crawl.db (its database, a path
// the job's config cannot change).
package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
)

// Options configure a Service.
type Options struct {
	Dir   string // data directory; jobs live in Dir/jobs/<id>/
	Token string // the bearer token every request but GET /healthz must carry; at least MinTokenLength bytes
	// AllowAddresses are the private, loopback or otherwise guarded
	// addresses (entries as in fetch.allow_addresses) that jobs may allow
	// in their fetch.allow_addresses. A job listing anything these do not
	// cover is refused. Empty: jobs fetch public addresses only.
	AllowAddresses []string
	// Databases are the PostgreSQL databases (postgres:// URLs, as a job
	// writes them) that a job may name as its database; each job's crawl
	// there is the one its config names, and no two jobs may name the same.
	// Empty: every job's database is a SQLite file in its directory.
	Databases []string
	MaxJobs   int              // jobs crawling at once; more wait queued (default 4)
	Grace     time.Duration    // how long in-flight fetches may finish when a job stops (default runner.DefaultGrace)
	Log       *slog.Logger     // default: discard
	Now       func() time.Time // the clock session cookies expire by (default time.Now)
}

// MinTokenLength is the shortest API token Open accepts.
const MinTokenLength = 16

// SessionTTL is how long the status page's session cookie is valid.
const SessionTTL = 12 * time.Hour

// ErrNoToken is returned by Open when Options.Token is empty.
var ErrNoToken = errors.New("no API token: set --token-file, CRAWLER_TOKEN or --token")

// ErrDirInUse is returned by Open when another service uses the data directory.
var ErrDirInUse = errors.New("data directory is in use by another crawler serve process")

// Service owns the jobs of one data directory and serves the HTTP API. It
// is safe for concurrent use. Create it with Open, stop it with Close.
type Service struct {
	dir     string
	maxJobs int
	grace   time.Duration
	log     *slog.Logger
	token   [sha256.Size]byte // sha256 of the token, so comparisons take constant time whatever the length
	session []byte            // the key that signs session cookies, derived from the token
	now     func() time.Time
	allow   crawl.AllowList // what jobs may allow (Options.AllowAddresses)
	dbs     []string        // the PostgreSQL databases jobs may name (Options.Databases)
	queries chan struct{}   // one element per /query running: a counting semaphore
	lock    *os.File        // flock on Dir/serve.lock
	handler http.Handler

	mu      sync.Mutex
	jobs    map[string]*job // guarded by mu
	order   []*job          // guarded by mu; creation order, the queue order
	closing bool            // guarded by mu; no job starts once set

	wg        sync.WaitGroup // job goroutines
	closeOnce sync.Once
	closeErr  error
}

// Open loads the jobs in o.Dir and resumes those that were running or
// queued when the previous service stopped.
func Open(ctx context.Context, o Options) (*Service, error) {
	if o.Token == "" {
		return nil, ErrNoToken
	}
	if len(o.Token) < MinTokenLength {
		return nil, fmt.Errorf("the API token has %d characters; use at least %d, e.g. made by: openssl rand -hex 16",
			len(o.Token), MinTokenLength)
	}
	allow, err := crawl.ParseAllowList(o.AllowAddresses)
	if err != nil {
		return nil, fmt.Errorf("addresses jobs may allow: %w", err)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dir == "" {
		return nil, errors.New("open service: no data directory")
	}
	if o.MaxJobs <= 0 {
		o.MaxJobs = 4
	}
	if o.Grace <= 0 {
		o.Grace = runner.DefaultGrace
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "jobs"), 0o755); err != nil {
		return nil, fmt.Errorf("open service %s: %w", o.Dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(o.Dir, "serve.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open service %s: %w", o.Dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("open service %s: %w", o.Dir, ErrDirInUse)
	}
	mac := hmac.New(sha256.New, []byte(o.Token))
	mac.Write([]byte("crawler status page cookie"))
	s := &Service{
		dir: o.Dir, maxJobs: o.MaxJobs, grace: o.Grace, log: o.Log,
		token: sha256.Sum256([]byte(o.Token)), session: mac.Sum(nil), now: o.Now, allow: allow, dbs: o.Databases,
		queries: make(chan struct{}, MaxConcurrentQueries), lock: lock, jobs: map[string]*job{},
	}
	s.handler = s.routes()
	if err := s.load(ctx); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

// load reads every job.json and queues the jobs that were running or queued.
func (s *Service) load(ctx context.Context) error {
	root := filepath.Join(s.dir, "jobs")
	entries, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("load jobs: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !e.IsDir() || !validID(e.Name()) {
			continue
		}
		j, err := loadJob(filepath.Join(root, e.Name()))
		if err != nil {
			// One unreadable job must not keep the others from running.
			s.log.Error("skipping job", "job", e.Name(), "err", err)
			continue
		}
		if j.rec.State == StateRunning {
			j.rec.State = StateQueued
			s.log.Info("resuming job", "job", j.rec.ID)
		}
		s.jobs[j.rec.ID] = j
		s.order = append(s.order, j)
	}
	slices.SortFunc(s.order, func(a, b *job) int {
		if c := a.rec.CreatedAt.Compare(b.rec.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.rec.ID, b.rec.ID)
	})
	s.scheduleLocked()
	return nil
}

// Close stops every running job as a shutdown does: the crawl is
// interrupted gracefully, its leases are released, and its state stays
// running so that the next Open resumes it. Close waits for the jobs.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		for _, j := range s.order {
			if j.stop != nil {
				j.stop()
			}
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.closeErr = s.lock.Close()
	})
	return s.closeErr
}

// Serve serves the API on ln until ctx is cancelled, then stops accepting
// requests, stops the jobs as Close does and waits for them.
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := srv.Shutdown(shutCtx); err != nil {
			// Long exports still streaming: cut them.
			srv.Close()
		}
		cancel()
		<-errc
	case serveErr = <-errc:
	}
	return errors.Join(serveErr, s.Close())
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

const cookieName = "crawler_session"

// tokenOK compares a presented token with the service's in constant time.
func (s *Service) tokenOK(tok string) bool {
	h := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(h[:], s.token[:]) == 1
}

// newSession returns a session cookie value valid until expires: the
// expiry in unix seconds and its HMAC under a key derived from the token,
// so the cookie reveals nothing of the token, cannot be extended, and a
// new token ends every session.
func (s *Service) newSession(expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + hex.EncodeToString(s.sessionMAC(exp))
}

func (s *Service) sessionMAC(exp string) []byte {
	mac := hmac.New(sha256.New, s.session)
	mac.Write([]byte(exp))
	return mac.Sum(nil)
}

// sessionOK reports whether v is a session cookie this service signed and
// that has not expired.
func (s *Service) sessionOK(v string) bool {
	exp, sig, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.sessionMAC(exp)) {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	return err == nil && s.now().Before(time.Unix(unix, 0))
}

// credentials says how a request authenticated itself.
type credentials int

const (
	noCredentials credentials = iota
	bearerToken
	sessionCookie
)

// authenticate reports whether r carries the bearer token or a valid
// session cookie.
func (s *Service) authenticate(r *http.Request) credentials {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && s.tokenOK(strings.TrimSpace(tok)) {
			return bearerToken
		}
		return noCredentials
	}
	if c, err := r.Cookie(cookieName); err == nil && s.sessionOK(c.Value) {
		return sessionCookie
	}
	return noCredentials
}

// crossSite returns why a request that rides on the session cookie and
// would change something may not have come from the status page, or "".
// SameSite=Strict keeps the cookie from other sites, but not from another
// port of the same host, which is the same site: the browser's own
// Sec-Fetch-Site, else the Origin (else Referer) header it sends, must name
// this service's origin. A form can post text/plain or form data across
// origins without a preflight; the API takes YAML or JSON, so anything
// else is refused too.
func crossSite(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return ""
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" {
		if site != "same-origin" {
			return "Sec-Fetch-Site is " + site
		}
	} else {
		from, header := r.Header.Get("Origin"), "Origin"
		if from == "" {
			from, header = r.Header.Get("Referer"), "Referer"
		}
		if from == "" {
			return "the request names no Origin or Referer"
		}
		u, err := url.Parse(from)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			return fmt.Sprintf("%s %q is not this service's origin (host %q)", header, from, r.Host)
		}
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !configTypes[mt] {
			return fmt.Sprintf("Content-Type %q is not YAML or JSON", ct)
		}
	}
	return ""
}

// configTypes are the media types a config may be posted as.
var configTypes = map[string]bool{
	"application/yaml": true, "application/x-yaml": true, "text/yaml": true, "text/x-yaml": true,
	"application/json": true,
}

// requireAuth lets through GET /healthz and authorized requests; everything
// else, known path or not, gets 401. A request authorized by the session
// cookie that would change something must come from the service's own
// pages (403 otherwise).
func (s *Service) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method == http.MethodGet && r.URL.Query().Has("token") {
			if s.tokenOK(r.URL.Query().Get("token")) {
				// Trade the token in the address for a cookie, and drop it
				// from the address bar and history.
				http.SetCookie(w, &http.Cookie{
					Name: cookieName, Value: s.newSession(s.now().Add(SessionTTL)), Path: "/",
					MaxAge: int(SessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
					Secure: r.TLS != nil,
				})
				w.Header().Set("Referrer-Policy", "no-referrer")
				http.Redirect(w, r, "/", http.StatusSeeOther)
				return
			}
		} else if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		} else {
			switch s.authenticate(r) {
			case bearerToken:
				next.ServeHTTP(w, r)
				return
			case sessionCookie:
				if why := crossSite(r); why != "" {
					writeError(w, http.StatusForbidden, "cross-origin request refused: "+why+
						"; the session cookie works only from the status page, scripts send \"Authorization: Bearer TOKEN\"")
					return
				}
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="crawler"`)
		writeError(w, http.StatusUnauthorized,
			"missing, wrong or expired token: send \"Authorization: Bearer TOKEN\", or open /?token=TOKEN once in a browser")
	})
}
