package crawl

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
)

// onlyStore hides every method of the store it wraps but crawl.Store's,
// and counts the outcomes committed through it.
type onlyStore struct {
	Store
	outcomes atomic.Int64
}

func (s *onlyStore) Commit(ctx context.Context, batch []store.Outcome) (store.CommitResult, error) {
	s.outcomes.Add(int64(len(batch)))
	return s.Store.Commit(ctx, batch)
}

// TestEngineNeedsOnlyStore runs a crawl through nothing but the Store
// interface: an engine that reached past it (a type assertion to a
// concrete store, a method it does not declare) fails here. Every page is
// recorded through Commit, with a body the store's codec reads back.
func TestEngineNeedsOnlyStore(t *testing.T) {
	site := &smallSite{hits: map[string]int{}}
	srv := httptest.NewServer(site)
	defer srv.Close()
	cfg := testConfig(t, srv.URL+"/")
	cfg.Limits.MaxDepth = 3
	cfg.Store.Bodies = "zstd"
	ctx := context.Background()
	db, err := sqlite.Open(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &onlyStore{Store: db}
	e, err := New(cfg, s, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Seed(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := e.Run(ctx, time.Second); err != nil || out != OutcomeFinished {
		t.Fatalf("Run = %s, %v", out, err)
	}
	pages, err := db.CountPages(ctx)
	if err != nil || pages < 5 {
		t.Fatalf("CountPages = %d, %v; want the site's pages", pages, err)
	}
	if n := s.outcomes.Load(); n < int64(pages) {
		t.Errorf("%d outcomes committed through the interface for %d pages", n, pages)
	}
	p, err := db.PageByURL(ctx, srv.URL+"/p/0")
	if err != nil {
		t.Fatal(err)
	}
	body, err := store.DecodeBody(p.Body, p.BodyEncoding)
	if err != nil || p.BodyEncoding != "zstd" || !bytes.Contains(body, []byte("<title>Page 0</title>")) {
		t.Errorf("stored body of /p/0: %s, %q, %v; want the page, zstd-encoded", p.BodyEncoding, body, err)
	}
}
