package crawl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
	"github.com/crawler-dev/crawler/store/sqlite"
	"github.com/crawler-dev/crawler/store/storetest"
)

// hookRequest is one request a test receiver got.
type hookRequest struct {
	key, sig string
	body     []byte
	ids      []int64
}

// hookReceiver answers with the status answer returns for the n-th
// request (from 1), and logs them.
type hookReceiver struct {
	answer func(n int) int

	mu   sync.Mutex // guards reqs
	reqs []hookRequest
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var b struct{ Items []struct{ ID int64 } }
	json.Unmarshal(body, &b)
	req := hookRequest{key: r.Header.Get(IdempotencyHeader), sig: r.Header.Get(SignatureHeader), body: body}
	for _, it := range b.Items {
		req.ids = append(req.ids, it.ID)
	}
	h.mu.Lock()
	h.reqs = append(h.reqs, req)
	n := len(h.reqs)
	h.mu.Unlock()
	w.WriteHeader(h.answer(n))
}

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

// commitItems records n pages with one item each.
func commitItems(t *testing.T, db *sqlite.DB, from, n int) {
	t.Helper()
	var pages []storetest.Recorded
	for i := from; i < from+n; i++ {
		pages = append(pages, storetest.Recorded{Page: &store.Page{FinalURL: fmt.Sprintf("%s/p/%d", storetest.Origin, i),
			Status: 200, Items: []store.Item{{Rule: "r", Data: map[string]any{"n": i}}}}})
	}
	storetest.CommitPages(t, db, pages...)
}

func webhookSetup(t *testing.T, recv http.Handler, w Webhook) (*sqlite.DB, *Config) {
	t.Helper()
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crawl.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := Defaults()
	cfg.Fetch.AllowAddresses = []string{"127.0.0.0/8"}
	w.URL, w.Secret = srv.URL, "k"
	cfg.Webhooks = []Webhook{w}
	return db, &cfg
}

// TestWebhookBatchResentUnchanged: a batch whose answer was lost (the
// crawl stopped while retrying it) is sent by the next run with the same
// idempotency key and the same items, although more items were committed
// meanwhile; then delivery goes on after it.
func TestWebhookBatchResentUnchanged(t *testing.T) {
	recv := &hookReceiver{answer: func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}}
	db, cfg := webhookSetup(t, recv, Webhook{Batch: 25})
	commitItems(t, db, 0, 10)
	hooks, err := openWebhooks(cfg, db, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	hooks[0].sleep = func(context.Context, time.Duration) bool { stop(); return false } // the run ends while it waits
	if hooks[0].deliverAll(ctx) {
		t.Fatal("delivered although the receiver failed")
	}
	commitItems(t, db, 10, 10)
	hooks, err = openWebhooks(cfg, db, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	if !hooks[0].deliverAll(context.Background()) {
		t.Fatalf("not delivered: %+v", hooks[0].State())
	}
	reqs := recv.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want the batch, its resend and the rest: %+v", len(reqs), reqs)
	}
	if reqs[0].key != reqs[1].key || fmt.Sprint(reqs[0].ids) != fmt.Sprint(reqs[1].ids) || len(reqs[0].ids) != 10 {
		t.Errorf("resent batch: %s %v, first sent as %s %v", reqs[1].key, reqs[1].ids, reqs[0].key, reqs[0].ids)
	}
	if reqs[2].key == reqs[0].key || len(reqs[2].ids) != 10 || reqs[2].ids[0] <= reqs[0].ids[9] {
		t.Errorf("next batch: %s %v", reqs[2].key, reqs[2].ids)
	}
	if st := hooks[0].State(); st.Delivered != 20 || st.Failures != 0 {
		t.Errorf("state %+v, want 20 delivered", st)
	}
}

// TestWebhookBackoff: failed attempts are retried after delays that double
// (between half and all of base·2^n, capped), and the signature verifies.
func TestWebhookBackoff(t *testing.T) {
	recv := &hookReceiver{answer: func(n int) int {
		if n <= 6 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}}
	db, cfg := webhookSetup(t, recv, Webhook{RetryBase: time.Second, RetryMax: 8 * time.Second})
	commitItems(t, db, 0, 3)
	hooks, err := openWebhooks(cfg, db, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	hooks[0].sleep = func(_ context.Context, d time.Duration) bool { waits = append(waits, d); return true }
	at := time.Unix(1_700_000_000, 0)
	hooks[0].now = func() time.Time { return at }
	if !hooks[0].deliverAll(context.Background()) {
		t.Fatal("not delivered")
	}
	if len(waits) != 6 {
		t.Fatalf("waits %v, want 6", waits)
	}
	for i, w := range waits {
		hi := min(time.Second<<i, 8*time.Second)
		if w < hi/2 || w > hi {
			t.Errorf("wait %d = %v, want between %v and %v", i+1, w, hi/2, hi)
		}
	}
	for _, r := range recv.requests() {
		if want := Sign([]byte("k"), at, r.body); r.sig != want || !strings.HasPrefix(r.sig, "t=1700000000,v1=") {
			t.Errorf("signature %q, want %q", r.sig, want)
		}
		if !strings.HasPrefix(string(r.body), `{"batch":"`+r.key+`","items":[{"id":`) {
			t.Errorf("body %s", r.body)
		}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestWebhookGuard: a webhook to a loopback address is refused unless
// fetch.allow_addresses lists it, with an error naming both keys.
func TestWebhookGuard(t *testing.T) {
	cfg := Defaults()
	cfg.Webhooks = []Webhook{{URL: "http://127.0.0.1:9/in", Secret: "k"}}
	_, err := openWebhooks(&cfg, nil, discardLog())
	if err == nil || !strings.Contains(err.Error(), "webhooks[0].url") || !strings.Contains(err.Error(), "fetch.allow_addresses") {
		t.Fatalf("err = %v, want one naming webhooks[0].url and fetch.allow_addresses", err)
	}
	cfg.Fetch.AllowAddresses = []string{"127.0.0.1:9"}
	if _, err := openWebhooks(&cfg, nil, discardLog()); err != nil {
		t.Fatalf("allowed: %v", err)
	}
	cfg.Webhooks[0] = Webhook{URL: "http://127.0.0.1:9/in", SecretEnv: "CRAWLER_TEST_NO_SUCH_VARIABLE"}
	if _, err := openWebhooks(&cfg, nil, discardLog()); err == nil || !strings.Contains(err.Error(), "webhooks[0].secret_env") {
		t.Fatalf("missing secret: %v", err)
	}
}

func TestWebhookStateString(t *testing.T) {
	s := WebhookState{URL: "http://h/in", Delivered: 3, Failures: 2, LastError: "webhooks[0]: http://h/in answered HTTP 500"}
	if got := s.String(); got != "webhook http://h/in: 3 items delivered, failing (2 attempts in a row): webhooks[0]: http://h/in answered HTTP 500" {
		t.Errorf("String() = %q", got)
	}
}
