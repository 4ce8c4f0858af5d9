package crawl

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// TestOutageLogsOncePerInterval: an outage is logged when it begins, then
// at most once per logEvery however often calls fail, and when it ends;
// other errors are not an outage.
func TestOutageLogsOncePerInterval(t *testing.T) {
	var buf bytes.Buffer
	o := newOutage(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Unix(1000, 0)
	o.now = func() time.Time { return now }
	down := fmt.Errorf("commit batch: %w", store.ErrUnavailable)
	if o.failed("query", errors.New("syntax error")) {
		t.Fatal("an error other than store.ErrUnavailable counted as an outage")
	}
	// A failure every 100 ms for 25 s.
	for i := 0; i < 250; i++ {
		if !o.failed("commit batch", down) {
			t.Fatal("store.ErrUnavailable not counted as an outage")
		}
		now = now.Add(100 * time.Millisecond)
	}
	o.ok()
	o.ok()
	out := buf.String()
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		for _, m := range []string{"database unavailable", "database still unavailable", "database available again"} {
			if strings.Contains(line, `msg="`+m) {
				counts[m]++
			}
		}
	}
	want := map[string]int{"database unavailable": 1, "database still unavailable": 2, "database available again": 1}
	for m, n := range want {
		if counts[m] != n {
			t.Errorf("%d lines %q, want %d; log:\n%s", counts[m], m, n, out)
		}
	}
	if !strings.Contains(out, "after=25s") {
		t.Errorf("the end of the outage does not say how long it lasted:\n%s", out)
	}
}
