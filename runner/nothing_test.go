package runner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// requestLog is an HTTP handler that records the paths it was asked for.
type requestLog struct {
	mu    sync.Mutex // guards paths
	paths []string
	serve func(w http.ResponseWriter, r *http.Request)
}

func (l *requestLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	l.paths = append(l.paths, r.URL.Path)
	l.mu.Unlock()
	l.serve(w, r)
}

func (l *requestLog) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.paths...)
}

// TestEverySeedRefused checks that a run whose every seed is refused or
// skipped says why, with the setting that changes it, and fails, in the
// runner (so "crawler run" and the service both report it).
func TestEverySeedRefused(t *testing.T) {
	robots := "User-agent: *\nDisallow: /\n"
	log := &requestLog{serve: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			fmt.Fprint(w, robots)
			return
		}
		fmt.Fprint(w, "<html><title>home</title></html>")
	}}
	srv := httptest.NewServer(log)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		name      string
		setup     func(cfgAllow *[]string, hosts *[]string)
		wantWhy   string
		wantHint  string
		wantPaths []string
	}{
		{"blocked address", func(allow, _ *[]string) { *allow = nil }, "blocked address: loopback",
			"list 127.0.0.1 (or only its port, " + host + ") under fetch.allow_addresses to allow it", nil},
		{"out of scope", func(_, hosts *[]string) { *hosts = []string{"other.example"} }, "out of scope: host " + host,
			"add the host to scope.hosts", nil},
		{"robots.txt", func(_, _ *[]string) {}, `robots.txt: "Disallow: /" (line 2, group "*")`,
			"politeness.obey_robots", []string{"/robots.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log.mu.Lock()
			log.paths = nil
			log.mu.Unlock()
			cfg := testConfig(t, []string{srv.URL + "/"})
			cfg.SitemapDiscovery = false
			tt.setup(&cfg.Fetch.AllowAddresses, &cfg.Scope.Hosts)
			db, err := OpenDatabase(context.Background(), cfg.Database, cfg.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r, err := Start(ctx, cfg, db, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Crawl(ctx, time.Second)
			var nothing *NothingFetchedError
			if !errors.As(err, &nothing) {
				t.Fatalf("Crawl error = %v, want a *NothingFetchedError", err)
			}
			if len(nothing.Seeds) != 1 || !strings.HasPrefix(nothing.Seeds[0].Reason, tt.wantWhy) ||
				!strings.Contains(nothing.Seeds[0].Hint, tt.wantHint) {
				t.Errorf("refused seeds %+v, want one with reason %q and a hint naming %q", nothing.Seeds, tt.wantWhy, tt.wantHint)
			}
			if msg := err.Error(); !strings.Contains(msg, srv.URL+"/: "+tt.wantWhy) || !strings.Contains(msg, tt.wantHint) {
				t.Errorf("error %q does not say why with the setting", msg)
			}
			if res.Since.After(res.Stats.Started) || res.Since.IsZero() {
				t.Errorf("Result.Since %v is not before the engine's start %v: seeds refused while seeding are not this run's", res.Since, res.Stats.Started)
			}
			if got := log.requests(); strings.Join(got, " ") != strings.Join(tt.wantPaths, " ") {
				t.Errorf("server saw %q, want %q", got, tt.wantPaths)
			}
		})
	}
}

// TestSeedFetchedIsNoError checks that a seed answered with an error
// status is not "refused": the run reached the server.
func TestSeedFetchedIsNoError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	cfg := testConfig(t, []string{srv.URL + "/"})
	cfg.SitemapDiscovery = false
	db, err := OpenDatabase(context.Background(), cfg.Database, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := Start(context.Background(), cfg, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Crawl(context.Background(), time.Second); err != nil {
		t.Errorf("Crawl of a seed answered 404: %v, want no error", err)
	}
}

// TestWaitingForRetries checks that a crawl with nothing left but a retry
// says so in its progress and its log, rather than looking stuck.
func TestWaitingForRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		http.Error(w, "busy", http.StatusInternalServerError)
	}))
	defer srv.Close()
	cfg := testConfig(t, []string{srv.URL + "/"})
	cfg.SitemapDiscovery = false
	cfg.Fetch.RetryBase = time.Hour
	db, err := OpenDatabase(context.Background(), cfg.Database, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := make(chan Progress, 1)
	r, err := Start(ctx, cfg, db, Options{Log: slog.New(slog.NewTextHandler(&logs, nil)), OnProgress: func(p Progress) {
		if p.WaitingText() != "" {
			select {
			case seen <- p:
			default:
			}
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-seen:
		case <-ctx.Done():
		}
		cancel()
	}()
	_, err = r.Crawl(ctx, time.Second)
	wg.Wait()
	if err == nil {
		t.Fatal("the crawl ended by itself before its retry")
	}
	p := r.Progress()
	if p.Stats.Waiting.URLs != 1 {
		t.Errorf("progress waiting %+v, want 1 URL", p.Stats.Waiting)
	}
	if got := p.Live().Waiting; !strings.HasPrefix(got, "waiting for 1 retry, next in ") {
		t.Errorf("/status waiting = %q, want \"waiting for 1 retry, next in ...\"", got)
	}
	if !strings.Contains(logs.String(), `msg="waiting for 1 retry, next in `) {
		t.Errorf("log lacks the wait:\n%s", logs.String())
	}
}
