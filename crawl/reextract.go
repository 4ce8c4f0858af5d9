package crawl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crawler-dev/crawler/parse"
	"github.com/crawler-dev/crawler/store"
)

// ErrNoRules is returned by CompileRuleSets when the configuration has no
// extraction rules.
var ErrNoRules = errors.New("no extraction rules: add an extract: section (see docs/extraction.md)")

// UnknownRuleError is CompileRuleSets' error for a rule set the
// configuration does not have.
type UnknownRuleError struct {
	Name string
	Have []string // the rule sets the configuration has
}

func (e *UnknownRuleError) Error() string {
	return fmt.Sprintf("no rule set %q (it has %s)", e.Name, strings.Join(e.Have, ", "))
}

// CompileRuleSets compiles c's extraction rules: all of them, or only the
// set named, which with anyURL matches every URL whatever its pattern.
func (c *Config) CompileRuleSets(name string, anyURL bool) (*parse.Rules, error) {
	if len(c.Extract) == 0 {
		return nil, ErrNoRules
	}
	sets := c.Extract
	if name != "" {
		sets = nil
		var have []string
		for _, rs := range c.Extract {
			have = append(have, rs.Name)
			if rs.Name == name {
				if anyURL {
					rs.Match = "*"
				}
				sets = []parse.RuleSet{rs}
			}
		}
		if sets == nil {
			return nil, &UnknownRuleError{Name: name, Have: have}
		}
	}
	rules, err := parse.CompileRules(sets)
	if err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	return rules, nil
}

// ReextractOptions say which rules Reextract runs and whom it tells.
type ReextractOptions struct {
	Rules *parse.Rules // from Config.CompileRuleSets
	Only  []string     // rule sets whose items are replaced; nil: all
	// Failed, if set, is told of each page whose items could not be
	// extracted; they are left as they were.
	Failed func(pageID int64, url string, err error)
	// Batched, if set, is called after each batch of pages is committed.
	Batched func(ReextractStats)
}

// ReextractStats count what Reextract did.
type ReextractStats struct {
	After      int64          `json:"after"`       // the last page id done
	Pages      int            `json:"pages"`       // pages whose items were replaced
	Skipped    int            `json:"skipped"`     // stored bodies not in fetch.parse_types
	Failed     int            `json:"failed"`      // pages whose items were left as they were
	Items      int            `json:"items"`       // items extracted
	WithErrors int            `json:"with_errors"` // of them, with extraction errors
	ByRule     map[string]int `json:"by_rule"`     // items by rule set
	// FieldErrors are the most frequent extraction errors, by rule set,
	// field and reason (at most 10), when items had errors.
	FieldErrors []FieldErrorCount `json:"field_errors,omitempty"`
	Took        time.Duration     `json:"-"`
}

// reextractBatch is how many pages are read, and have their items
// replaced in one transaction, at a time.
const reextractBatch = 200

// Reextract runs extraction rules over the page bodies stored in db,
// fetching nothing, and replaces the pages' items, a batch of pages per
// transaction, in page id order. When ctx is cancelled it stops between
// batches: the pages up to the returned stats' After have their new items.
// Pages whose content type cfg does not parse are skipped.
func Reextract(ctx context.Context, db ReextractStore, cfg *Config, o ReextractOptions) (st ReextractStats, err error) {
	st.ByRule = map[string]int{}
	start := time.Now()
	tally := fieldErrorTally{}
	defer func() {
		st.Took = time.Since(start)
		st.FieldErrors = tally.top(10)
	}()
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		batch, err := db.PagesWithBodies(ctx, st.After, reextractBatch)
		if err != nil {
			return st, err
		}
		if len(batch) == 0 {
			return st, nil
		}
		out := make([]store.PageItems, 0, len(batch))
		for _, p := range batch {
			if !cfg.ParsesType(p.ContentType) {
				st.Skipped++
				continue
			}
			items, err := reextractPage(o.Rules, p)
			if err != nil {
				st.Failed++
				if o.Failed != nil {
					o.Failed(p.ID, p.URL, err)
				}
				continue
			}
			st.Pages++
			for _, it := range items {
				st.Items++
				st.ByRule[it.Set]++
				if len(it.Errors) > 0 {
					st.WithErrors++
					tally.add(it.Set, p.URL, it.Errors)
				}
			}
			out = append(out, store.PageItems{PageID: p.ID, URL: p.URL, Items: storeItems(cfg, items)})
		}
		if err := db.ReplacePageItems(ctx, o.Only, out); err != nil {
			return st, err
		}
		st.After = batch[len(batch)-1].ID
		if o.Batched != nil {
			o.Batched(st)
		}
	}
}

func reextractPage(rules *parse.Rules, p store.StoredPage) ([]parse.Item, error) {
	body, err := store.DecodeBody(p.Body, p.BodyEncoding)
	if err != nil {
		return nil, err
	}
	return ExtractItems(rules, p.URL, body, p.ContentType)
}
