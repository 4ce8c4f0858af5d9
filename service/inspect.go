package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

// inspectConfig returns the job's configuration, for reading its
// database: explain, hosts and reextract fetch nothing, so the address
// guard is not judged again.
func (s *Service) inspectConfig(j *job) (*crawl.Config, error) {
	s.mu.Lock()
	text := j.rec.Config
	s.mu.Unlock()
	cfg, err := crawl.ParseConfig("config.yaml", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("config of job %s: %w", j.rec.ID, err)
	}
	if cfg.Database, cfg.Name, err = s.database(j); err != nil {
		return nil, err
	}
	return cfg, nil
}

// openInspect opens the job's database read-only and reads its
// configuration, or answers the error.
func (s *Service) openInspect(w http.ResponseWriter, r *http.Request, j *job) (runner.Reader, *crawl.Config, bool) {
	cfg, err := s.inspectConfig(j)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return nil, nil, false
	}
	db, ok := s.openOrAnswer(r.Context(), w, j)
	return db, cfg, ok
}

// unknownURL is the body of GET /explain for a URL not in the frontier.
type unknownURL struct {
	Error string `json:"error"`
	*crawl.UnknownURL
}

func (s *Service) handleExplain(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	u := r.URL.Query().Get("url")
	if u == "" {
		writeError(w, http.StatusBadRequest, "missing parameter url, e.g. ?url=https://example.com/page")
		return
	}
	links, err := intParam(r, "links", 5, 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	db, cfg, ok := s.openInspect(w, r, j)
	if !ok {
		return
	}
	defer db.Close()
	e, err := crawl.Explain(r.Context(), db, cfg, u, crawl.ExplainOptions{Links: int(links), ConfigKnown: true, Now: s.now()})
	var unknown *crawl.UnknownURL
	switch {
	case errors.Is(err, crawl.ErrNotFetchable):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.As(err, &unknown):
		writeJSON(w, http.StatusNotFound, unknownURL{Error: err.Error(), UnknownURL: unknown})
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, e)
	}
}

// hostList is the body of GET /hosts.
type hostList struct {
	Total int              `json:"total"` // hosts in the database
	Hosts []crawl.HostPace `json:"hosts"`
}

func (s *Service) handleHosts(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	order := store.HostOrder(r.URL.Query().Get("sort"))
	if err := order.Check(); err != nil {
		writeError(w, http.StatusBadRequest, "sort: "+err.Error())
		return
	}
	limit, err := intParam(r, "limit", 50, maxPageSize)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	db, cfg, ok := s.openInspect(w, r, j)
	if !ok {
		return
	}
	defer db.Close()
	hs, total, err := db.HostList(r.Context(), order, int(limit))
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, hostList{Total: total, Hosts: crawl.HostPaces(hs, &cfg.Politeness, s.now())})
}

// reextractResult is the body of POST /reextract.
type reextractResult struct {
	crawl.ReextractStats
	TookSeconds float64 `json:"took_seconds"`
}

// handleReextract re-runs the job's extraction rules over its stored
// bodies. The job must not be crawling: the reextract holds its database
// as a crawl does, and the job does not start until it is done.
func (s *Service) handleReextract(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	cfg, err := s.inspectConfig(j)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	ctx, stop := context.WithCancel(r.Context())
	defer stop()
	if err := s.claim(j, stop); err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	defer s.release(j)
	rule := r.URL.Query().Get("rule")
	rules, err := cfg.CompileRuleSets(rule, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	db, err := runner.OpenDatabase(ctx, cfg.Database, cfg.Name)
	if errors.Is(err, store.ErrLocked) {
		writeError(w, http.StatusConflict, err.Error())
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer db.Close()
	var only []string
	if rule != "" {
		only = []string{rule}
	}
	log := s.log.With("job", j.rec.ID)
	log.Info("reextract started", "rule", rule)
	st, err := crawl.Reextract(ctx, db, cfg, crawl.ReextractOptions{Rules: rules, Only: only,
		Failed: func(id int64, url string, err error) {
			log.Warn("reextract: items left as they were", "page", id, "url", url, "err", err)
		}})
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("reextract interrupted: pages up to id %d have their new items; run it again to finish", st.After)
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	log.Info("reextract done", "pages", st.Pages, "items", st.Items, "dur", st.Took)
	writeJSON(w, http.StatusOK, reextractResult{ReextractStats: st, TookSeconds: st.Took.Round(time.Millisecond).Seconds()})
}

// claim makes j active for a reextract, which stop interrupts (as pause,
// cancel and Close stop a crawl). It fails while the job crawls or has no
// database.
func (s *Service) claim(j *job, stop context.CancelFunc) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return errors.New("the service is shutting down")
	case j.active:
		return fmt.Errorf("job %s is %s and holds its database: pause it, or let it finish, then reextract", j.rec.ID, j.rec.State)
	case !j.rec.HasDatabase:
		return errNoDatabase
	}
	j.active, j.stop = true, stop
	s.wg.Add(1)
	return nil
}

// release ends a claim and starts the job if it was queued meanwhile.
func (s *Service) release(j *job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.active, j.stop = false, nil
	s.wg.Done()
	s.scheduleLocked()
}
