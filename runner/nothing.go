package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/crawler-dev/crawler/crawl"
)

// NothingFetchedError is Crawl's error when a run ended with nothing
// fetched because every URL it started from was refused or skipped
// (blocked address, out of scope, robots.txt, unreachable): the run says
// why and which setting changes it, instead of finishing quietly with no
// pages.
type NothingFetchedError struct {
	Seeds []RefusedSeed // the first of them
	Total int           // seeds (or listed URLs) in all
}

// RefusedSeed is a seed that was not fetched, and why.
type RefusedSeed struct {
	URL    string `json:"url"`
	State  string `json:"state"`  // skipped or failed
	Reason string `json:"reason"` // as in frontier.reason
	Hint   string `json:"hint,omitempty"`
}

func (e *NothingFetchedError) Error() string {
	var b strings.Builder
	if e.Total == 1 {
		b.WriteString("nothing was fetched: the seed was refused")
	} else {
		fmt.Fprintf(&b, "nothing was fetched: all %d seeds were refused or skipped", e.Total)
	}
	for _, s := range e.Seeds {
		fmt.Fprintf(&b, "\n  %s: %s", s.URL, s.Reason)
		if s.Hint != "" {
			fmt.Fprintf(&b, "\n    (%s)", s.Hint)
		}
	}
	if more := e.Total - len(e.Seeds); more > 0 {
		fmt.Fprintf(&b, "\n  and %d more", more)
	}
	return b.String()
}

// refusedSeeds returns a *NothingFetchedError when the database holds no
// page and every seed of the run was refused or skipped, else nil. It
// only looks at the frontier when no page was ever stored, so the end of
// an ordinary crawl costs nothing.
func (r *Run) refusedSeeds(ctx context.Context, pages int64) error {
	if pages > 0 || r.pagesAtStart > 0 {
		return nil
	}
	total, reached, refused, err := r.db.SeedStates(ctx, 10)
	if err != nil {
		return err
	}
	if total == 0 || reached > 0 {
		return nil
	}
	e := &NothingFetchedError{Total: total}
	for _, s := range refused {
		reason := s.Reason
		if reason == "" {
			reason = s.State
		}
		e.Seeds = append(e.Seeds, RefusedSeed{URL: s.URL, State: s.State, Reason: reason, Hint: crawl.ReasonHint(reason, s.URL)})
	}
	return e
}
