package crawl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// Webhook POSTs the items a crawl commits, in batches, to a URL (the
// webhooks: config group).
type Webhook struct {
	URL string `yaml:"url"`
	// Secret is the HMAC-SHA256 key that signs each request; SecretEnv
	// names an environment variable holding it instead.
	Secret    string        `yaml:"secret"`
	SecretEnv string        `yaml:"secret_env"`
	Rule      string        `yaml:"rule"`       // items of one rule set; "" = all
	Batch     int           `yaml:"batch"`      // items per request; 0 = 100
	Timeout   time.Duration `yaml:"timeout"`    // per request; 0 = 30s
	RetryBase time.Duration `yaml:"retry_base"` // first retry delay, doubled each failure; 0 = 1s
	RetryMax  time.Duration `yaml:"retry_max"`  // longest retry delay; 0 = 5m
	// DrainTimeout bounds how long the end of a run keeps delivering the
	// items still pending; the next run continues. 0 = 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
}

// Headers of a webhook request.
const (
	// SignatureHeader is "t=UNIX,v1=HEX": HEX is the HMAC-SHA256, keyed with
	// the webhook's secret, of "UNIX." followed by the body.
	SignatureHeader = "X-Crawler-Signature"
	// IdempotencyHeader names the batch; a batch sent again (its answer
	// lost, or the crawl killed before it recorded the answer) carries the
	// same key and the same items.
	IdempotencyHeader = "Idempotency-Key"
)

// Sign returns the value of SignatureHeader for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

func (w Webhook) batch() int             { return cmpOr(w.Batch, 100) }
func (w Webhook) timeout() time.Duration { return cmpOr(w.Timeout, 30*time.Second) }
func (w Webhook) retryBase() time.Duration {
	return cmpOr(w.RetryBase, time.Second)
}
func (w Webhook) retryMax() time.Duration { return cmpOr(w.RetryMax, 5*time.Minute) }
func (w Webhook) drain() time.Duration    { return cmpOr(w.DrainTimeout, 30*time.Second) }

func cmpOr[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// WebhookStore is what webhooks read and record their position in.
type WebhookStore interface {
	FeedStore
	WebhookBatch(ctx context.Context, name string) (int64, error)
	SaveWebhookBatch(ctx context.Context, name string, lastID int64) error
}

// WebhookState is how a webhook's deliveries stand, for status and
// progress.
type WebhookState struct {
	URL       string
	Delivered int64  // items acknowledged this run
	Failures  int    // failed attempts in a row
	LastError string // of the last failed attempt
}

// String says how the webhook's deliveries stand, in one line.
func (w WebhookState) String() string {
	s := fmt.Sprintf("webhook %s: %d items delivered", w.URL, w.Delivered)
	if w.Failures > 0 {
		s += fmt.Sprintf(", failing (%d attempts in a row): %s", w.Failures, w.LastError)
	}
	return s
}

// hookSender delivers one webhook. Its state is read by Stats through mu.
type hookSender struct {
	cfg    Webhook
	key    string // config key, for errors
	name   string // cursor key
	secret []byte
	db     WebhookStore
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) bool

	mu    sync.Mutex // guards state
	state WebhookState
}

// openWebhooks checks the webhooks of cfg and prepares their senders: a
// target the address guard refuses, or a secret missing from the
// environment, is an error naming the key.
func openWebhooks(cfg *Config, db WebhookStore, log *slog.Logger) ([]*hookSender, error) {
	policy := newAddrPolicy(cfg.Fetch.AllowAddresses)
	var out []*hookSender
	for i, w := range cfg.Webhooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		if err != nil {
			return nil, fmt.Errorf("%s.url: %w", key, err)
		}
		if why := policy.urlBlocked(u); why != "" {
			return nil, fmt.Errorf("%s.url: %s is a %s address, which the crawler does not connect to: "+
				"list it in fetch.allow_addresses (e.g. %s:%d)", key, u.Hostname(), why, u.Hostname(), urlPort(u))
		}
		secret := w.Secret
		if w.SecretEnv != "" {
			if secret = os.Getenv(w.SecretEnv); secret == "" {
				return nil, fmt.Errorf("%s.secret_env: the environment variable %s is not set", key, w.SecretEnv)
			}
		}
		dial := newDirectDialer(cfg, policy)
		out = append(out, &hookSender{
			cfg: w, key: key, name: "webhook " + w.URL + " " + w.Rule, secret: []byte(secret), db: db,
			client: &http.Client{
				Timeout:   w.timeout(),
				Transport: &http.Transport{DialContext: dial.DialContext, Proxy: nil, MaxIdleConnsPerHost: 1},
				// A redirect could lead past the guard's first judgement to
				// another host: a webhook is answered, not redirected.
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			},
			log:   log,
			now:   time.Now,
			sleep: sleepCtx,
			state: WebhookState{URL: w.URL},
		})
	}
	return out, nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// State returns the sender's state.
func (h *hookSender) State() WebhookState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state
}

// run delivers batches whenever a commit is signalled on wake, until ctx
// ends. Its failures are retried with backoff and reported in its state;
// they never stop or slow the crawl.
func (h *hookSender) run(ctx context.Context, wake <-chan struct{}) {
	for {
		h.deliverAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}

// deliverAll sends batches until none is left or ctx ends; reports
// whether everything was delivered.
func (h *hookSender) deliverAll(ctx context.Context) bool {
	for ctx.Err() == nil {
		more, err := h.deliverOne(ctx)
		if err != nil {
			return false
		}
		if !more {
			return true
		}
	}
	return false
}

// deliverOne sends the next batch, retrying until it is acknowledged with
// a 2xx or ctx ends; it reports whether a batch was sent.
func (h *hookSender) deliverOne(ctx context.Context) (bool, error) {
	after, _, err := h.db.FeedCursor(ctx, h.name)
	if err != nil {
		return false, err
	}
	pending, err := h.db.WebhookBatch(ctx, h.name)
	if err != nil {
		return false, err
	}
	o := store.ExportOptions{Table: "items", Rule: h.cfg.Rule, After: after, Limit: int64(h.cfg.batch())}
	if pending > after {
		// A batch sent before, perhaps received: the same items again.
		o.UpTo, o.Limit = pending, 0
	}
	var lines bytes.Buffer
	n, last, err := h.db.ExportAfter(ctx, &lines, o)
	if err != nil || n == 0 {
		return false, err
	}
	if pending <= after {
		if err := h.db.SaveWebhookBatch(ctx, h.name, last); err != nil {
			return false, err
		}
	}
	sum := sha256.Sum256([]byte(h.name))
	batchKey := fmt.Sprintf("%x-%d-%d", sum[:8], after+1, last)
	body := batchBody(batchKey, lines.Bytes())
	for attempt := 0; ; attempt++ {
		err := h.post(ctx, batchKey, body)
		if err == nil {
			break
		}
		h.mu.Lock()
		h.state.Failures++
		h.state.LastError = err.Error()
		h.mu.Unlock()
		wait := backoff(h.cfg.retryBase(), h.cfg.retryMax(), attempt)
		h.log.Warn("webhook delivery failed", "url", h.cfg.URL, "err", err, "attempt", attempt+1, "retry_in", wait)
		if !h.sleep(ctx, wait) {
			return false, ctx.Err()
		}
	}
	if err := h.db.SaveFeedCursor(context.WithoutCancel(ctx), h.name, last, 0); err != nil {
		return false, err
	}
	h.mu.Lock()
	h.state.Delivered += n
	h.state.Failures, h.state.LastError = 0, ""
	h.mu.Unlock()
	return true, nil
}

// batchBody is {"batch": KEY, "items": [...]} from JSON lines.
func batchBody(key string, lines []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"batch":%q,"items":[`, key)
	first := true
	for _, l := range bytes.Split(lines, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.Write(l)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// post sends one attempt of a batch.
func (h *hookSender) post(ctx context.Context, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", h.key, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(IdempotencyHeader, key)
	req.Header.Set(SignatureHeader, Sign(h.secret, h.now(), body))
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", h.key, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("%s: %s answered HTTP %d", h.key, h.cfg.URL, resp.StatusCode)
	}
	return nil
}

// backoff is the delay before retry attempt+1: base doubled each attempt,
// capped at max, with "equal jitter" (between half and all of it), so
// delays never shrink from one attempt to the next while receivers that
// failed together do not retry in step.
func backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}
