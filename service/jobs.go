package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

// State is a job's lifecycle state.
type State string

// Job states. Running and queued jobs are resumed when the service starts.
const (
	StateQueued    State = "queued"    // waiting for a free slot
	StateRunning   State = "running"   // crawling
	StatePaused    State = "paused"    // stopped on request; resume continues it
	StateFinished  State = "finished"  // the frontier is exhausted or a limit was reached
	StateFailed    State = "failed"    // stopped on an error; resume retries
	StateCancelled State = "cancelled" // stopped for good; results are kept
)

// Progress is a job's headline numbers.
type Progress struct {
	Pages          int64   `json:"pages"`            // page rows stored
	Queued         int64   `json:"queued"`           // URLs waiting in the frontier (queued or leased)
	Errors         int64   `json:"errors"`           // URLs whose fetch failed
	PagesPerSecond float64 `json:"pages_per_second"` // over the last runner.RateWindow; 0 unless running
	// Sleeping says a continuous job (recrawl.continuous) has nothing due:
	// it waits, running, until NextDue (absent when nothing is scheduled).
	Sleeping bool       `json:"sleeping,omitempty"`
	NextDue  *time.Time `json:"next_due,omitempty"`
}

// newProgress returns the headline numbers of a database's totals.
func newProgress(t store.Totals, pagesPerSecond float64) Progress {
	return Progress{Pages: int64(t.Pages), Queued: int64(t.Queued + t.Leased), Errors: int64(t.Errors),
		PagesPerSecond: math.Round(pagesPerSecond*10) / 10}
}

// record is the content of job.json.
type record struct {
	ID        string     `json:"id"`
	State     State      `json:"state"`
	Config    string     `json:"config,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	StartedAt *time.Time `json:"started_at,omitempty"` // start of the latest run
	EndedAt   *time.Time `json:"ended_at,omitempty"`   // end of the latest run
	Runs      int        `json:"runs"`
	// HasDatabase is set once the job's database has been created and migrated.
	HasDatabase bool     `json:"has_database"`
	Outcome     string   `json:"outcome,omitempty"` // how the latest run ended: finished, limit, interrupted, failed
	Error       string   `json:"error,omitempty"`   // the latest run's error
	Progress    Progress `json:"progress"`          // as of the end of the latest run
}

// job is one crawl job. All fields are guarded by Service.mu, except that
// live has its own lock.
type job struct {
	dir    string
	rec    record
	active bool               // a goroutine owns the job's database
	stop   context.CancelFunc // stops the running crawl; nil unless active
	live   liveProgress
}

// liveProgress is the running crawl's progress, as the runner reports it
// about once a second.
type liveProgress struct {
	mu      sync.Mutex
	running bool            // guarded by mu; p holds a report
	p       runner.Progress // guarded by mu
}

func (l *liveProgress) set(p runner.Progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.p, l.running = p, true
}

// get returns the latest progress, if the job runs and has reported.
func (l *liveProgress) get() (runner.Progress, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p, l.running
}

func (l *liveProgress) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.running, l.p = false, runner.Progress{}
}

func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new job id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// validID reports whether s looks like a job id, so that no path
// component from a request ever reaches the file system unchecked.
func validID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func (j *job) dbPath() string { return filepath.Join(j.dir, "crawl.db") }

// database returns the job's database and crawl name: its SQLite file, or
// the PostgreSQL crawl its config names.
func (s *Service) database(j *job) (database, name string, err error) {
	s.mu.Lock()
	text := j.rec.Config
	s.mu.Unlock()
	cfg, err := parseJobConfig([]byte(text), j.dir, s.allow, s.dbs)
	if err != nil {
		return "", "", fmt.Errorf("config of job %s: %w", j.rec.ID, err)
	}
	if !store.IsPostgres(cfg.Database) {
		return j.dbPath(), store.DefaultCrawlName, nil
	}
	return cfg.Database, cfg.Name, nil
}

// crawlFree refuses a PostgreSQL crawl another job of the service names:
// no job may read or write another's.
func (s *Service) crawlFree(cfg *crawl.Config) error {
	s.mu.Lock()
	jobs := slices.Clone(s.order)
	s.mu.Unlock()
	for _, j := range jobs {
		db, name, err := s.database(j)
		if err == nil && db == cfg.Database && name == cfg.Name {
			return fmt.Errorf("config.yaml: name: crawl %q in that database is job %s's: give this job another name", cfg.Name, j.rec.ID)
		}
	}
	return nil
}

func loadJob(dir string) (*job, error) {
	b, err := os.ReadFile(filepath.Join(dir, "job.json"))
	if err != nil {
		return nil, fmt.Errorf("load job %s: %w", dir, err)
	}
	j := &job{dir: dir}
	if err := json.Unmarshal(b, &j.rec); err != nil {
		return nil, fmt.Errorf("load job %s: %w", dir, err)
	}
	if j.rec.ID != filepath.Base(dir) {
		return nil, fmt.Errorf("load job %s: job.json names job %q", dir, j.rec.ID)
	}
	return j, nil
}

// save writes job.json atomically: a temporary file, synced, renamed over
// the old one, so a crash leaves either the old or the new state.
func (j *job) save() error {
	j.rec.UpdatedAt = time.Now().UTC()
	b, err := json.MarshalIndent(&j.rec, "", "  ")
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.rec.ID, err)
	}
	f, err := os.CreateTemp(j.dir, ".job.json-*")
	if err != nil {
		return fmt.Errorf("save job %s: %w", j.rec.ID, err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(j.dir, "job.json"))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("save job %s: %w", j.rec.ID, err)
	}
	return nil
}

// parseJobConfig validates a job's config YAML exactly as crawler run
// validates a file, then checks what the service adds, on the decoded
// config (so that YAML anchors, aliases and merge keys cannot hide a key):
// a job may not name files (database, urls_file, fetch.cookies_file, feeds),
// since the service decides where a job's files are and no job may read
// another's, nor read the server's environment (proxy credentials written
// ${NAME}), and it may not widen the address guard beyond what the
// service allows. The database goes into the job's directory, unless the
// job names one of the PostgreSQL databases the service lets jobs use (dbs,
// exactly as written there: a job cannot reach another server, or try
// other credentials).
func parseJobConfig(text []byte, dir string, allow crawl.AllowList, dbs []string) (*crawl.Config, error) {
	cfg, err := crawl.ParseConfig("config.yaml", text)
	if err != nil {
		return nil, err
	}
	refuse := func(key, why string) error {
		return crawl.KeyError("config.yaml", text, key, "not allowed in a job: "+why)
	}
	postgres := store.IsPostgres(cfg.Database) && slices.Contains(dbs, cfg.Database)
	if cfg.Database != crawl.Defaults().Database && !postgres {
		why := "the service keeps each job's database in its own directory"
		if len(dbs) > 0 {
			why += ", or in one of the PostgreSQL databases crawler serve --databases lists"
		}
		return nil, refuse("database", why)
	}
	if cfg.URLsFile != "" {
		return nil, refuse("urls_file", "jobs cannot read files on the server; list the URLs under urls")
	}
	if cfg.Fetch.CookiesFile != "" {
		return nil, refuse("fetch.cookies_file", "jobs cannot read files on the server")
	}
	if len(cfg.Feeds) > 0 {
		return nil, refuse("feeds", "jobs cannot write files on the server; export a job's results through the API")
	}
	if key := cfg.ProxyEnvKey(); key != "" {
		return nil, refuse(key, "jobs cannot read the server's environment; write the proxy's credentials in its URL")
	}
	if i := allow.Uncovered(cfg.Fetch.AllowAddresses); i >= 0 {
		why := "jobs fetch public addresses only; crawler serve --allow-addresses lists what jobs may allow"
		if len(allow) > 0 {
			why = "it allows more than crawler serve --allow-addresses does"
		}
		return nil, refuse(fmt.Sprintf("fetch.allow_addresses[%d]", i), fmt.Sprintf("%q: %s", cfg.Fetch.AllowAddresses[i], why))
	}
	if err := cfg.CheckWork("config.yaml"); err != nil {
		return nil, err
	}
	if !postgres {
		cfg.Database = filepath.Join(dir, "crawl.db")
	}
	return cfg, nil
}

// errInvalid is a job config the service refuses.
type errInvalid struct{ err error }

func (e errInvalid) Error() string { return e.err.Error() }
func (e errInvalid) Unwrap() error { return e.err }

// submit creates a queued job from config YAML.
func (s *Service) submit(text []byte) (*job, error) {
	// Validate before anything touches the disk.
	cfg, err := parseJobConfig(text, s.dir, s.allow, s.dbs)
	if err != nil {
		return nil, errInvalid{err}
	}
	if store.IsPostgres(cfg.Database) {
		if err := s.crawlFree(cfg); err != nil {
			return nil, errInvalid{err}
		}
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, "jobs", id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create job %s: %w", id, err)
	}
	now := time.Now().UTC()
	j := &job{dir: dir, rec: record{ID: id, State: StateQueued, Config: string(text), CreatedAt: now}}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := j.save(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.jobs[id] = j
	s.order = append(s.order, j)
	s.log.Info("job submitted", "job", id)
	s.scheduleLocked()
	return j, nil
}

// errConflict is an action that the job's state does not allow.
type errConflict struct{ msg string }

func (e errConflict) Error() string { return e.msg }

// pause stops a running job (or holds a queued one); resume continues it.
func (s *Service) pause(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch j.rec.State {
	case StatePaused:
		return nil
	case StateRunning, StateQueued:
		return s.stopLocked(j, StatePaused)
	}
	return errConflict{fmt.Sprintf("job %s is %s; only running or queued jobs can be paused", j.rec.ID, j.rec.State)}
}

func (s *Service) resume(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch j.rec.State {
	case StateRunning, StateQueued:
		return nil
	case StatePaused, StateFailed:
		j.rec.State = StateQueued
		if err := j.save(); err != nil {
			return err
		}
		s.scheduleLocked()
		return nil
	}
	return errConflict{fmt.Sprintf("job %s is %s; only paused or failed jobs can be resumed", j.rec.ID, j.rec.State)}
}

func (s *Service) cancel(j *job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch j.rec.State {
	case StateCancelled:
		return nil
	case StateFinished:
		return errConflict{fmt.Sprintf("job %s has already finished", j.rec.ID)}
	}
	return s.stopLocked(j, StateCancelled)
}

// stopLocked puts j in state to and interrupts its crawl, if one runs. The
// crawl finishes its in-flight fetches (up to the grace period) and
// releases its leases in the background; until then the job stays active
// and is not started again.
func (s *Service) stopLocked(j *job, to State) error {
	j.rec.State = to
	if err := j.save(); err != nil {
		return err
	}
	if j.stop != nil {
		j.stop()
	}
	s.log.Info("job stopping", "job", j.rec.ID, "state", to)
	return nil
}

// scheduleLocked starts queued jobs, oldest first, while fewer than
// maxJobs are active.
func (s *Service) scheduleLocked() {
	if s.closing {
		return
	}
	active := 0
	for _, j := range s.order {
		if j.active {
			active++
		}
	}
	for _, j := range s.order {
		if active >= s.maxJobs {
			return
		}
		if j.rec.State != StateQueued || j.active {
			continue
		}
		now := time.Now().UTC()
		j.rec.State, j.rec.StartedAt, j.rec.EndedAt, j.rec.Error = StateRunning, &now, nil, ""
		j.rec.Runs++
		if err := j.save(); err != nil {
			s.log.Error("start job", "job", j.rec.ID, "err", err)
			j.rec.State = StateQueued
			continue
		}
		ctx, stop := context.WithCancel(context.Background())
		j.active, j.stop = true, stop
		active++
		s.wg.Add(1)
		go s.run(ctx, j)
	}
}

// run is a job's goroutine: it crawls until the frontier is exhausted, an
// error occurs or ctx is cancelled, then records how the run ended.
func (s *Service) run(ctx context.Context, j *job) {
	defer s.wg.Done()
	log := s.log.With("job", j.rec.ID)
	log.Info("job running")
	outcome, progress, err := s.crawl(ctx, j, log)
	interrupted := errors.Is(err, crawl.ErrInterrupted) || (err != nil && ctx.Err() != nil)

	s.mu.Lock()
	defer s.mu.Unlock()
	j.stop()
	j.active, j.stop = false, nil
	j.live.reset()
	now := time.Now().UTC()
	j.rec.EndedAt = &now
	j.rec.Outcome = string(outcome)
	if progress != nil {
		j.rec.Progress = *progress
	}
	if err != nil && !interrupted {
		j.rec.Error = err.Error()
	}
	if j.rec.State == StateRunning {
		// Nobody asked this run to stop, or the service is shutting down;
		// in the second case the state stays running so the next start
		// resumes the job.
		switch {
		case err != nil && !interrupted:
			j.rec.State = StateFailed
		case err == nil:
			j.rec.State = StateFinished
		}
	}
	if err := j.save(); err != nil {
		log.Error("record job end", "err", err)
	}
	if err != nil && !interrupted {
		log.Error("job failed", "err", err)
	} else {
		log.Info("job stopped", "state", j.rec.State, "outcome", outcome, "pages", j.rec.Progress.Pages)
	}
	s.scheduleLocked()
}

// crawl runs the job's crawl once. It returns the final progress when the
// database could be read.
func (s *Service) crawl(ctx context.Context, j *job, log *slog.Logger) (crawl.Outcome, *Progress, error) {
	s.mu.Lock()
	text, dir := j.rec.Config, j.dir
	s.mu.Unlock()
	cfg, err := parseJobConfig([]byte(text), dir, s.allow, s.dbs)
	if err != nil {
		return crawl.OutcomeFailed, nil, err
	}
	db, err := runner.OpenDatabase(ctx, cfg.Database, cfg.Name)
	if err != nil {
		return crawl.OutcomeFailed, nil, err
	}
	defer db.Close()
	s.mu.Lock()
	j.rec.HasDatabase = true
	s.mu.Unlock()
	r, err := runner.Start(ctx, cfg, db, runner.Options{Log: log, ConfigText: text, StallAfter: runner.DefaultStallAfter,
		OnProgress: j.live.set})
	if err != nil {
		return crawl.OutcomeFailed, nil, err
	}
	res, err := r.Crawl(ctx, s.grace)
	if res.TotalsErr != nil {
		log.Warn("read final progress", "err", res.TotalsErr)
		return res.Outcome, nil, err
	}
	p := newProgress(res.Totals, 0)
	return res.Outcome, &p, err
}

// view is a job as the API shows it.
type view struct {
	record
	Active bool `json:"active"` // a crawl holds the job's database (running, or still stopping)
}

// viewLocked returns the API view of j with live progress when it runs.
func (j *job) viewLocked(withConfig bool) view {
	v := view{record: j.rec, Active: j.active}
	if p, ok := j.live.get(); ok && p.FrontierKnown {
		v.Progress = newProgress(p.Frontier, p.PagesPerSecond)
		if p.Stats.Sleeping {
			v.Progress.Sleeping = true
			if !p.Stats.WakeAt.IsZero() {
				at := p.Stats.WakeAt.UTC()
				v.Progress.NextDue = &at
			}
		}
	}
	if withConfig {
		v.Config = crawl.RedactConfigText(v.Config)
	} else {
		v.Config = ""
	}
	return v
}
