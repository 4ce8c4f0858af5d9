package store

import (
	"context"
	"fmt"
)

// SeedState is the frontier row of a URL a run started from: a seed or a
// listed URL.
type SeedState struct {
	URL    string
	State  string
	Reason string
	Status int // HTTP status, 0 when no response was received
}

// SeedStates returns how many URLs the runs started from (source seed or
// list), how many of them reached a server (fetched with any HTTP status,
// or still waiting), and up to limit of the others, the seeds that were
// refused or skipped, in the order they were added. It scans the
// frontier: call it on small frontiers, such as one nothing was fetched
// from.
func (rd *Reader) SeedStates(ctx context.Context, limit int) (total, reached int, refused []SeedState, err error) {
	const reachedSQL = `state IN ('done', 'queued', 'leased') OR (state = 'failed' AND coalesce(status, 0) > 0)`
	err = rd.queryRow(ctx, `SELECT count(*), count(CASE WHEN `+reachedSQL+` THEN 1 END)
		FROM frontier WHERE source IN ('seed', 'list')`).Scan(&total, &reached)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("seed states: %w", rd.describe(err))
	}
	rows, err := rd.query(ctx, `SELECT url, state, coalesce(reason, ''), coalesce(status, 0) FROM frontier
		WHERE source IN ('seed', 'list') AND NOT (`+reachedSQL+`) ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("seed states: %w", rd.describe(err))
	}
	defer rows.Close()
	for rows.Next() {
		var s SeedState
		if err := rows.Scan(&s.URL, &s.State, &s.Reason, &s.Status); err != nil {
			return 0, 0, nil, fmt.Errorf("seed states: %w", err)
		}
		refused = append(refused, s)
	}
	if err := rows.Err(); err != nil {
		return 0, 0, nil, fmt.Errorf("seed states: %w", rd.describe(err))
	}
	return total, reached, refused, nil
}
