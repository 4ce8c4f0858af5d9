package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

// TestFeedsAcrossKills kills the real binary several times during a crawl
// that feeds items to a JSONL and a CSV file and pages to a JSONL file,
// and posts items to a webhook receiver that answers some batches with
// 500 first, then resumes it to the end: every committed record is in
// each file exactly once, and the CSV file has its header once; every
// item reached the receiver, each batch sent again carried the same items
// under its idempotency key (and no item came in two batches), every
// signature verifies, and failed batches were retried.
func TestFeedsAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("crawls the test site several times")
	}
	bin := buildBinary(t)
	site, err := testsite.Start(testsite.Options{Hosts: 4, PagesPerHost: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer site.Close()
	recv := newReceiver("s3cret", 3)
	hook := httptest.NewServer(recv)
	defer hook.Close()
	dir := t.TempDir()
	cfg := siteConfig(t, dir, site)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`extract:
  - name: page
    match: "*"
    fields:
      - {name: title, selector: title}
      - {name: heading, selector: h1}
feeds:
  - {path: items.jsonl}
  - {path: items.csv}
  - {path: pages.jsonl, table: pages}
webhooks:
  - {url: "` + hook.URL + `/in", secret_env: HOOK_SECRET, batch: 25, retry_base: 20ms, retry_max: 1s}
`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dbPath := filepath.Join(dir, "crawl.db")
	want := len(site.Expected())
	killRuns(t, bin, cfg, dbPath, []string{"HOOK_SECRET=s3cret"}, want, []float64{0.1, 0.35, 0.6, 0.85})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	final := exec.CommandContext(ctx, bin, "run", "--quiet", "-c", cfg)
	final.Env = append(os.Environ(), "HOOK_SECRET=s3cret")
	if out, err := final.CombinedOutput(); err != nil {
		t.Fatalf("final resume: %v\n%s", err, out)
	}

	db, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := func(q string) map[int64]bool {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int64]bool{}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			out[id] = true
		}
		return out
	}
	items, pages := ids(`SELECT id FROM items`), ids(`SELECT id FROM pages`)
	if len(items) < want/2 {
		t.Fatalf("%d items for %d pages: the rule did not apply", len(items), want)
	}
	checkOnce(t, "items.jsonl", jsonlIDs(t, filepath.Join(dir, "items.jsonl")), items)
	checkOnce(t, "pages.jsonl", jsonlIDs(t, filepath.Join(dir, "pages.jsonl")), pages)
	checkOnce(t, "items.csv", csvIDs(t, filepath.Join(dir, "items.csv")), items)
	recv.check(t, items)
}

// receiver is a webhook endpoint that logs every request and answers the
// first failFirst attempts of every fourth batch with 500.
type receiver struct {
	secret    string
	failFirst int

	mu       sync.Mutex // guards the fields below
	attempts map[string][]time.Time
	batches  map[string]string // key -> the batch's item ids, as first sent
	inBatch  map[int64]string  // item id -> key of the batch that carried it
	acked    map[int64]bool
	problems []string
	keys     int
}

func newReceiver(secret string, failFirst int) *receiver {
	return &receiver{secret: secret, failFirst: failFirst, attempts: map[string][]time.Time{},
		batches: map[string]string{}, inBatch: map[int64]string{}, acked: map[int64]bool{}}
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	sig := r.Header.Get("X-Crawler-Signature")
	rc.mu.Lock()
	defer rc.mu.Unlock()
	ts, mac, ok := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	m := hmac.New(sha256.New, []byte(rc.secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	if !ok || !hmac.Equal([]byte(mac), []byte(hex.EncodeToString(m.Sum(nil)))) {
		rc.problems = append(rc.problems, "bad signature on batch "+key)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var b struct {
		Batch string
		Items []struct{ ID int64 }
	}
	if err := json.Unmarshal(body, &b); err != nil || b.Batch != key || key == "" {
		rc.problems = append(rc.problems, fmt.Sprintf("batch %q: body %v, key in body %q", key, err, b.Batch))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ids []string
	for _, it := range b.Items {
		ids = append(ids, strconv.FormatInt(it.ID, 10))
		if k, ok := rc.inBatch[it.ID]; ok && k != key {
			rc.problems = append(rc.problems, fmt.Sprintf("item %d sent in batches %s and %s: "+
				"a receiver dropping redelivered batches by key would take it twice", it.ID, k, key))
		}
		rc.inBatch[it.ID] = key
	}
	got := strings.Join(ids, ",")
	if prev, seen := rc.batches[key]; !seen {
		rc.batches[key] = got
		rc.keys++
	} else if prev != got {
		rc.problems = append(rc.problems, fmt.Sprintf("batch %s sent again with other items: %s, then %s", key, prev, got))
	}
	rc.attempts[key] = append(rc.attempts[key], time.Now())
	if rc.keys%4 == 0 && len(rc.attempts[key]) <= rc.failFirst {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	for _, it := range b.Items {
		rc.acked[it.ID] = true
	}
}

// check fails unless every item of want was acknowledged, no problem was
// seen, and failed batches were retried until acknowledged. (The delays
// between retries are checked in crawl's TestWebhookBackoff: here a kill
// between two attempts restarts the sequence.)
func (rc *receiver) check(t *testing.T, want map[int64]bool) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, p := range rc.problems {
		t.Error(p)
	}
	missing := 0
	for id := range want {
		if !rc.acked[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("webhook: %d of %d items never acknowledged", missing, len(want))
	}
	retried := 0
	for _, at := range rc.attempts {
		if len(at) > rc.failFirst {
			retried++
		}
	}
	if retried == 0 {
		t.Error("webhook: no batch was retried")
	}
	t.Logf("webhook: %d batches, %d retried after 500s, %d items", len(rc.batches), retried, len(rc.acked))
}

// jsonlIDs returns the id of every line of a JSONL file, failing on a line
// that is not a JSON object.
func jsonlIDs(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var rec struct{ ID int64 }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec.ID == 0 {
			t.Fatalf("%s:%d: %v: %q", path, line, err, sc.Text())
		}
		out = append(out, rec.ID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// csvIDs returns the id column of a CSV file, failing unless it is valid
// CSV with its header on the first line only.
func csvIDs(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 || recs[0][0] != "id" {
		t.Fatalf("%s: no header", path)
	}
	var out []int64
	for i, r := range recs[1:] {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			t.Fatalf("%s: record %d: id %q (a second header?)", path, i+2, r[0])
		}
		out = append(out, id)
	}
	return out
}

// checkOnce fails unless got holds each id of want exactly once.
func checkOnce(t *testing.T, name string, got []int64, want map[int64]bool) {
	t.Helper()
	seen := map[int64]int{}
	for _, id := range got {
		seen[id]++
	}
	dups, extra, missing := 0, 0, 0
	for id, n := range seen {
		if n > 1 {
			dups++
		}
		if !want[id] {
			extra++
		}
	}
	for id := range want {
		if seen[id] == 0 {
			missing++
		}
	}
	if dups+extra+missing > 0 {
		t.Errorf("%s: %d records, %d written more than once, %d not in the database, %d of %d missing",
			name, len(got), dups, extra, missing, len(want))
	}
}
