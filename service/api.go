package service

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/crawler-dev/crawler/crawl"
	"github.com/crawler-dev/crawler/runner"
	"github.com/crawler-dev/crawler/store"
)

//go:embed web
var webFS embed.FS

// Limits of the API.
const (
	MaxConfigSize = 1 << 20 // bytes of config YAML in POST /api/jobs
	MaxQueryRows  = 10000   // rows GET /query returns at most
	// MaxResponseBytes bounds every JSON answer: /query, /pages and /items
	// stop adding rows before it; any other answer larger than it is an
	// error rather than a burst of memory.
	MaxResponseBytes = 8 << 20
	// MaxConcurrentQueries is how many GET /query run at once; more are
	// refused with 429.
	MaxConcurrentQueries = 4
	// queryRowBytes bounds the values of one /query row as SQLite computes
	// them (runner.Reader.UserQuery): half an answer, leaving room for JSON's
	// quoting and escapes.
	queryRowBytes = MaxResponseBytes / 2
	// maxValueBytes is the longest string or blob any read of the service
	// loads, so one hostile value in a job's database cannot take the
	// service's memory.
	maxValueBytes = 64 << 20
	// maxFieldChars is how much of a text field /pages and /items show;
	// longer ones are cut and named in the row's "cut".
	maxFieldChars = 16 << 10
	// maxItemJSON is the largest item data or errors (bytes of JSON) that
	// /items shows; larger ones are left out and named in "cut".
	maxItemJSON = 512 << 10
	// rowIndent is the indentation of a row in an answer's list, two
	// levels deep.
	rowIndent      = "    "
	queryTimeout   = 30 * time.Second
	defaultRows    = 1000
	maxPageSize    = 1000 // rows per page of /pages and /items
	defaultPageLen = 100
)

func (s *Service) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFS, "web")
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, static, "index.html")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("POST /api/jobs", s.handleSubmit)
	mux.HandleFunc("GET /api/jobs", s.handleList)
	mux.HandleFunc("GET /api/jobs/{id}", s.handleJob)
	mux.HandleFunc("POST /api/jobs/{id}/pause", s.handleAction(s.pause))
	mux.HandleFunc("POST /api/jobs/{id}/resume", s.handleAction(s.resume))
	mux.HandleFunc("POST /api/jobs/{id}/cancel", s.handleAction(s.cancel))
	mux.HandleFunc("GET /api/jobs/{id}/query", s.handleQuery)
	mux.HandleFunc("GET /api/jobs/{id}/pages", s.handlePages)
	mux.HandleFunc("GET /api/jobs/{id}/items", s.handleItems)
	mux.HandleFunc("GET /api/jobs/{id}/export", s.handleExport)
	mux.HandleFunc("GET /api/jobs/{id}/explain", s.handleExplain)
	mux.HandleFunc("GET /api/jobs/{id}/hosts", s.handleHosts)
	mux.HandleFunc("POST /api/jobs/{id}/reextract", s.handleReextract)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s.requireAuth(mux)
}

// writeJSON answers v as indented JSON, or 500 if it cannot be encoded
// within MaxResponseBytes.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err == nil && len(b) > MaxResponseBytes {
		err = fmt.Errorf("the answer would take %d bytes, more than the %d an answer may take", len(b), MaxResponseBytes)
	}
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.MarshalIndent(apiError{Error: err.Error()}, "", "  ")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n')) // the client may have gone; nothing to do about it
}

// rowList collects the JSON rows of an answer while they fit in
// MaxResponseBytes, counting each as the answer will write it.
type rowList struct {
	rows []json.RawMessage
	size int // bytes of the answer so far
}

// add appends v and reports true, or reports false if v does not fit.
func (l *rowList) add(v any) (bool, error) {
	b, err := json.MarshalIndent(v, rowIndent, "  ")
	if err != nil {
		return false, err
	}
	n := len(rowIndent) + len(b) + 2 // indented, then ",\n"
	if l.size+n > MaxResponseBytes {
		return false, nil
	}
	l.rows = append(l.rows, b)
	l.size += n
	return true, nil
}

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
	Line  int    `json:"line,omitempty"` // config line, for invalid configs
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// lookup finds the job named in the path, or answers 404.
func (s *Service) lookup(w http.ResponseWriter, r *http.Request) *job {
	id := r.PathValue("id")
	s.mu.Lock()
	j := s.jobs[id]
	s.mu.Unlock()
	if j == nil || !validID(id) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no job %q", id))
		return nil
	}
	return j
}

func (s *Service) handleSubmit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxConfigSize))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("config is larger than %d bytes", MaxConfigSize))
			return
		}
		writeError(w, http.StatusBadRequest, "read config: "+err.Error())
		return
	}
	j, err := s.submit(body)
	if err != nil {
		var ie errInvalid
		if errors.As(err, &ie) {
			e := apiError{Error: ie.err.Error()}
			var ce *crawl.ConfigError
			if errors.As(ie.err, &ce) {
				e.Line = ce.Line
			}
			writeJSON(w, http.StatusBadRequest, e)
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	s.mu.Lock()
	v := j.viewLocked(true)
	s.mu.Unlock()
	w.Header().Set("Location", "/api/jobs/"+v.ID)
	writeJSON(w, http.StatusCreated, v)
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	out := make([]view, 0, len(s.order))
	for i := len(s.order) - 1; i >= 0; i-- {
		out = append(out, s.order[i].viewLocked(false))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
}

// jobDetail is GET /api/jobs/{id}: the job, the running crawl's live
// counters, and a summary of its database.
type jobDetail struct {
	view
	Live   *runner.Live   `json:"live,omitempty"`
	Status *databaseStats `json:"status,omitempty"`
}

// databaseStats summarise a job's database (store.Status).
type databaseStats struct {
	URLs       int            `json:"urls"`
	ByState    map[string]int `json:"by_state"`
	Pages      int            `json:"pages"`
	Bytes      int64          `json:"bytes"`
	LastMinute int            `json:"pages_last_minute"`
	TopReasons []reasonCount  `json:"top_reasons"`
	Hosts      []hostStatus   `json:"hosts"`
	MoreHosts  int            `json:"more_hosts"`
	LastRun    *lastRunStatus `json:"last_run,omitempty"`
}

type reasonCount struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

type hostStatus struct {
	Origin  string `json:"origin"`
	Queued  int    `json:"queued"`
	Pages   int    `json:"pages"`
	Errors  int    `json:"errors"`
	DelayMS int64  `json:"delay_ms"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
}

type lastRunStatus struct {
	StartedAt time.Time `json:"started_at"`
	Outcome   string    `json:"outcome,omitempty"`
}

func (s *Service) handleJob(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	s.mu.Lock()
	d := jobDetail{view: j.viewLocked(true)}
	if p, ok := j.live.get(); ok && j.active {
		l := p.Live()
		d.Live = &l
	}
	s.mu.Unlock()
	db, err := s.openResults(r.Context(), j)
	switch {
	case errors.Is(err, errNoDatabase):
	case err != nil:
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	default:
		defer db.Close()
		st, err := db.Status(r.Context())
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		d.Status = convertStatus(st)
	}
	writeJSON(w, http.StatusOK, d)
}

func convertStatus(st *store.Status) *databaseStats {
	d := &databaseStats{
		URLs: st.Total, ByState: st.ByState, Pages: st.Pages, Bytes: st.Bytes, LastMinute: st.LastMinute,
		MoreHosts: st.MoreHosts, TopReasons: []reasonCount{}, Hosts: []hostStatus{},
	}
	for _, r := range st.TopReasons {
		d.TopReasons = append(d.TopReasons, reasonCount{r.State, r.Reason, r.Count})
	}
	for _, h := range st.Hosts {
		d.Hosts = append(d.Hosts, hostStatus{h.Origin, h.Queued, h.Pages, h.Errors, h.DelayMS, h.State, h.Reason})
	}
	if st.LastRun.StartedAt > 0 {
		d.LastRun = &lastRunStatus{StartedAt: time.UnixMilli(st.LastRun.StartedAt).UTC(), Outcome: st.LastRun.Outcome}
	}
	return d
}

func (s *Service) handleAction(act func(*job) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		j := s.lookup(w, r)
		if j == nil {
			return
		}
		if err := act(j); err != nil {
			var ce errConflict
			if errors.As(err, &ce) {
				writeError(w, http.StatusConflict, err.Error())
				return
			}
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		s.mu.Lock()
		v := j.viewLocked(false)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, v)
	}
}

var errNoDatabase = errors.New("the job has not started yet, so it has no database")

// openResults opens a job's database read-only; it works while the job
// crawls.
func (s *Service) openResults(ctx context.Context, j *job) (runner.Reader, error) {
	s.mu.Lock()
	ready := j.rec.HasDatabase
	s.mu.Unlock()
	if !ready {
		return nil, errNoDatabase
	}
	database, name, err := s.database(j)
	if err != nil {
		return nil, err
	}
	return runner.OpenReader(ctx, database, name, store.ReaderOptions{MaxValueBytes: maxValueBytes})
}

// openOrAnswer opens a job's database read-only, or answers why it cannot:
// 409 for a job that has none yet.
func (s *Service) openOrAnswer(ctx context.Context, w http.ResponseWriter, j *job) (runner.Reader, bool) {
	db, err := s.openResults(ctx, j)
	if errors.Is(err, errNoDatabase) {
		writeError(w, http.StatusConflict, err.Error())
		return nil, false
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return nil, false
	}
	return db, true
}

// intParam reads a non-negative integer query parameter.
func intParam(r *http.Request, name string, def, max int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, s)
	}
	if max > 0 && n > max {
		return 0, fmt.Errorf("%s must be at most %d, got %d", name, max, n)
	}
	return n, nil
}

// queryResult is the body of GET /query.
type queryResult struct {
	Columns   []string          `json:"columns"`
	Rows      []json.RawMessage `json:"rows"`
	Truncated bool              `json:"truncated"` // more rows than limit, or than fit in MaxResponseBytes
}

func (s *Service) handleQuery(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	q := r.URL.Query().Get("sql")
	if q == "" {
		writeError(w, http.StatusBadRequest, `missing parameter sql, e.g. ?sql=SELECT+url,status+FROM+pages+LIMIT+10`)
		return
	}
	limit, err := intParam(r, "limit", defaultRows, MaxQueryRows)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	select {
	case s.queries <- struct{}{}:
		defer func() { <-s.queries }()
	default:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf(
			"%d queries are running, as many as the service runs at once: retry when one has finished", MaxConcurrentQueries))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), queryTimeout)
	defer cancel()
	db, ok := s.openOrAnswer(ctx, w, j)
	if !ok {
		return
	}
	defer db.Close()
	rows, err := db.UserQuery(ctx, q, queryRowBytes)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	defer rows.Close()
	res, err := collectRows(rows, int(limit))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// answerReserve is room kept in an answer for what surrounds its rows.
const answerReserve = 4 << 10

// collectRows reads up to limit rows, each as JSON, while the answer fits
// in MaxResponseBytes: the budget is checked after every row, and a value
// that alone would not fit is never encoded.
func collectRows(rows *store.QueryRows, limit int) (*queryResult, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	res := &queryResult{Columns: cols, Rows: []json.RawMessage{}}
	head, err := json.MarshalIndent(cols, "  ", "  ")
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	list := rowList{size: answerReserve + len(head)}
	for rows.Next() {
		if len(list.rows) >= limit {
			res.Truncated = true
			break
		}
		row, err := rows.Values()
		if err != nil {
			return nil, err
		}
		text := 0 // a string's JSON is at least as long as the string
		for i, v := range row {
			row[i] = store.JSONValue(v)
			if s, ok := row[i].(string); ok {
				text += len(s)
			}
		}
		fits := list.size+text <= MaxResponseBytes
		if fits {
			if fits, err = list.add(row); err != nil {
				return nil, fmt.Errorf("query: %w", err)
			}
		}
		if !fits {
			if len(list.rows) == 0 {
				return nil, fmt.Errorf("query: the first row does not fit in the %d bytes an answer may take: "+
					"select fewer or shorter values, e.g. length(x) or substr(x, 1, 1000)", MaxResponseBytes)
			}
			res.Truncated = true
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	res.Rows = list.rows
	if res.Rows == nil {
		res.Rows = []json.RawMessage{}
	}
	return res, nil
}

// pageRow is one page in GET /pages.
type pageRow struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	FinalURL    string    `json:"final_url"`
	Status      int       `json:"status"`
	ContentType string    `json:"content_type"`
	Title       string    `json:"title"`
	FetchedAt   time.Time `json:"fetched_at"`
	DurationMS  int64     `json:"duration_ms"`
	Size        int64     `json:"size"`
	Depth       int       `json:"depth"`
	Cut         []string  `json:"cut,omitempty"` // fields cut to maxFieldChars
}

// itemRow is one item in GET /items.
type itemRow struct {
	ID          int64           `json:"id"`
	PageID      int64           `json:"page_id"`
	URL         string          `json:"url"`
	Rule        string          `json:"rule"`
	Index       int             `json:"index"`
	Data        json.RawMessage `json:"data"`
	Errors      json.RawMessage `json:"errors,omitempty"`
	ExtractedAt time.Time       `json:"extracted_at"`
	Cut         []string        `json:"cut,omitempty"` // fields cut to maxFieldChars, or left out (data, errors)
}

// keyset reads ?after= and ?limit= for keyset paging.
func keyset(r *http.Request) (after, limit int64, err error) {
	if after, err = intParam(r, "after", 0, 0); err != nil {
		return 0, 0, err
	}
	if limit, err = intParam(r, "limit", defaultPageLen, maxPageSize); err != nil {
		return 0, 0, err
	}
	if limit == 0 {
		limit = defaultPageLen
	}
	return after, limit, nil
}

// keysetRows serves one keyset page of a job's results: rows yields the
// rows after the given id (one more than limit, to know whether more
// follow), id gives a row's key. The page ends at limit rows or before
// MaxResponseBytes, whichever comes first; next_after is then the key to
// continue from.
func keysetRows[T any](s *Service, w http.ResponseWriter, r *http.Request, key string,
	rows func(ctx context.Context, db runner.Reader, after int64, limit int) iter.Seq2[T, error], id func(T) int64) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	after, limit, err := keyset(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out := map[string]any{key: []json.RawMessage{}}
	db, err := s.openResults(r.Context(), j)
	if errors.Is(err, errNoDatabase) {
		writeJSON(w, http.StatusOK, out)
		return
	} else if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer db.Close()
	list := rowList{size: answerReserve}
	var last int64
	more := false
	for v, err := range rows(r.Context(), db, after, int(limit)+1) {
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s of job %s: %v", key, j.rec.ID, err))
			return
		}
		if int64(len(list.rows)) == limit {
			more = true
			break
		}
		ok, err := list.add(v)
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("%s of job %s: %v", key, j.rec.ID, err))
			return
		}
		if !ok {
			more = true
			break
		}
		last = id(v)
	}
	if list.rows != nil {
		out[key] = list.rows
	}
	if more {
		out["next_after"] = last
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Service) handlePages(w http.ResponseWriter, r *http.Request) {
	keysetRows(s, w, r, "pages", func(ctx context.Context, db runner.Reader, after int64, limit int) iter.Seq2[pageRow, error] {
		return func(yield func(pageRow, error) bool) {
			for p, err := range db.PageSummaries(ctx, after, limit, maxFieldChars) {
				row := pageRow{ID: p.ID, URL: p.URL, FinalURL: p.FinalURL, Status: p.Status, ContentType: p.ContentType,
					Title: p.Title, FetchedAt: p.FetchedAt.UTC(), DurationMS: p.DurationMS, Size: p.Size, Depth: p.Depth, Cut: p.Cut}
				if !yield(row, err) {
					return
				}
			}
		}
	}, func(p pageRow) int64 { return p.ID })
}

func (s *Service) handleItems(w http.ResponseWriter, r *http.Request) {
	rule := r.URL.Query().Get("rule")
	keysetRows(s, w, r, "items", func(ctx context.Context, db runner.Reader, after int64, limit int) iter.Seq2[itemRow, error] {
		return func(yield func(itemRow, error) bool) {
			for it, err := range db.ItemSummaries(ctx, after, limit, rule, maxFieldChars, maxItemJSON) {
				row := itemRow{ID: it.ID, PageID: it.PageID, URL: it.URL, Rule: it.Rule, Index: it.Index, Data: it.Data,
					Errors: it.Errors, ExtractedAt: it.ExtractedAt.UTC(), Cut: it.Cut}
				if !yield(row, err) {
					return
				}
			}
		}
	}, func(it itemRow) int64 { return it.ID })
}

// countingWriter notes whether anything reached the response, after which
// an error can no longer change the status.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (s *Service) handleExport(w http.ResponseWriter, r *http.Request) {
	j := s.lookup(w, r)
	if j == nil {
		return
	}
	q := r.URL.Query()
	o := store.ExportOptions{Table: q.Get("table"), Format: q.Get("format"), Rule: q.Get("rule")}
	if v := q.Get("bodies"); v != "" {
		if v != "true" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("bodies=true is the only value, not %q", v))
			return
		}
		o.Bodies = true
	}
	if err := o.Check(); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctype := "application/x-ndjson; charset=utf-8"
	if o.Format == "csv" {
		ctype = "text/csv; charset=utf-8"
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", v))
			return
		}
		o.Since = t
	}
	if o.Format == "csv" && o.Table == "items" {
		cfg, err := s.inspectConfig(j)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		o.Fields = cfg.ItemFields(o.Rule)
	}
	db, ok := s.openOrAnswer(r.Context(), w, j)
	if !ok {
		return
	}
	defer db.Close()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.%s"`, j.rec.ID, o.Table, o.Format))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	cw := &countingWriter{w: w}
	n, err := db.Export(r.Context(), cw, o)
	if err == nil {
		return
	}
	if cw.n == 0 {
		w.Header().Del("Content-Disposition")
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// Part of the export was sent with status 200: cut the connection so
	// the client sees a broken transfer, not a short but complete file.
	s.log.Warn("export cut short", "job", j.rec.ID, "table", o.Table, "rows", n, "err", err)
	panic(http.ErrAbortHandler)
}
