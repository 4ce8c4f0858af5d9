package runner

import (
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/crawl"
)

func TestStallWatch(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := stallWatch{after: time.Minute}
	steps := []struct {
		at        time.Duration
		completed int64
		busy      bool
		stalled   time.Duration
		warn      bool
	}{
		{0, 10, true, 0, false},
		{30 * time.Second, 10, true, 30 * time.Second, false},
		{60 * time.Second, 10, true, 60 * time.Second, true},  // first warning
		{90 * time.Second, 10, true, 90 * time.Second, false}, // not again at once
		{120 * time.Second, 10, true, 120 * time.Second, true},
		{121 * time.Second, 11, true, 0, false}, // progress resets
		{200 * time.Second, 11, true, 79 * time.Second, true},
		{300 * time.Second, 11, false, 0, false}, // no work left: not a stall
		{400 * time.Second, 11, true, 100 * time.Second, true},
	}
	for i, s := range steps {
		stalled, warn := w.observe(t0.Add(s.at), s.completed, s.busy)
		if stalled != s.stalled || warn != s.warn {
			t.Errorf("step %d (at %v): observe = %v, %v; want %v, %v", i, s.at, stalled, warn, s.stalled, s.warn)
		}
	}
	off := stallWatch{}
	off.observe(t0, 1, true)
	if _, warn := off.observe(t0.Add(time.Hour), 1, true); warn {
		t.Error("a watch with after = 0 warned")
	}
}

func TestDiagnoseStall(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		f    stallFacts
		want string
	}{
		{
			name: "database blocked",
			f:    stallFacts{Stats: crawl.Stats{Uncommitted: 12, Hosts: crawl.HostsSnapshot{Active: 3, InFlight: 2}}, Queued: 5},
			want: "10 outcomes are waiting for the database writer",
		},
		{
			name: "every host backing off",
			f:    stallFacts{Stats: crawl.Stats{Hosts: crawl.HostsSnapshot{Active: 4, BackingOff: 4}}, Queued: 100},
			want: "every active host (4) is backing off",
		},
		{
			name: "fetches hang",
			f: stallFacts{Stats: crawl.Stats{Uncommitted: 3, Hosts: crawl.HostsSnapshot{Active: 3, InFlight: 3},
				Running: []crawl.Running{{URL: "http://a/drip", Since: now.Add(-45 * time.Second)}, {URL: "http://b/slow", Since: now.Add(-12 * time.Second)}}},
				Queued: 100, TotalTimeout: time.Minute, Now: now},
			want: "3 fetches are in flight but none finishes: http://a/drip for 45s, http://b/slow for 12s; " +
				"the servers are slow or drip their responses (fetch.total_timeout 1m0s ends each)",
		},
		{
			// The drip's host is paused after an earlier failure, yet its fetch runs.
			name: "one fetch hangs on a host backing off",
			f: stallFacts{Stats: crawl.Stats{Uncommitted: 1, Hosts: crawl.HostsSnapshot{Active: 1, InFlight: 1, BackingOff: 1},
				Running: []crawl.Running{{URL: "http://a/drip", Since: now.Add(-50 * time.Second)}}},
				Queued: 12, TotalTimeout: time.Minute, Now: now},
			want: "1 fetch is in flight but none finishes: http://a/drip for 50s; ",
		},
		{
			name: "all wait for retries",
			f:    stallFacts{Stats: crawl.Stats{}, Queued: 7, DueNow: 0, NextDue: now.Add(90 * time.Second), Now: now},
			want: "nothing is dispatchable: all 7 queued URLs wait for their retry time; the next is due at 12:01:30 (in 1m30s)",
		},
		{
			name: "rate limits",
			f:    stallFacts{Stats: crawl.Stats{Hosts: crawl.HostsSnapshot{Active: 2, Throttled: 1, BackingOff: 1}}, Queued: 9, DueNow: 9, Now: now},
			want: "every active host (2) waits for its rate limit or Crawl-delay",
		},
		{
			name: "otherwise",
			f:    stallFacts{Queued: 9, DueNow: 9, Now: now},
			want: "9 URLs are queued but none is being fetched",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := diagnoseStall(tt.f); !strings.HasPrefix(got, tt.want) {
				t.Errorf("diagnoseStall = %q, want prefix %q", got, tt.want)
			}
		})
	}
}
