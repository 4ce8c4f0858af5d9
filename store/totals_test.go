package store

import (
	"context"
	"testing"
	"time"
)

func TestTotals(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if got, err := db.Totals(ctx); err != nil || got != (Totals{}) {
		t.Errorf("Totals of an empty database = %+v, %v", got, err)
	}
	smallCrawl(t, db)
	var want Totals
	db.r.QueryRow(`SELECT (SELECT count(*) FROM pages), (SELECT count(*) FROM frontier WHERE state = 'failed'),
		(SELECT count(*) FROM frontier WHERE state = 'queued'), (SELECT count(*) FROM frontier WHERE state = 'leased')`).
		Scan(&want.Pages, &want.Errors, &want.Queued, &want.Leased)
	got, err := db.Totals(ctx)
	if err != nil || got != want || got.Pages == 0 || got.Queued == 0 {
		t.Errorf("Totals = %+v, %v; want %+v as counted in the tables", got, err, want)
	}
}

func TestQueryValues(t *testing.T) {
	db := openTest(t)
	rows, err := db.UserQuery(context.Background(), `SELECT 1, 2.5, 'text', CAST('blob text' AS BLOB), x'00ff', NULL`, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	vals, err := rows.Values()
	if err != nil {
		t.Fatal(err)
	}
	want := []any{int64(1), 2.5, "text", "blob text", "<2 bytes>", nil}
	if len(vals) != len(want) {
		t.Fatalf("Values = %v, want %d values", vals, len(want))
	}
	for i, v := range vals {
		if got := JSONValue(v); got != want[i] {
			t.Errorf("JSONValue(%#v) = %#v, want %#v", v, got, want[i])
		}
	}
	at := time.Date(2026, 5, 1, 14, 0, 0, 5, time.FixedZone("x", 7200))
	if got := JSONValue(at); got != "2026-05-01T12:00:00.000000005Z" {
		t.Errorf("JSONValue(%v) = %v, want RFC 3339 in UTC", at, got)
	}
}

func TestHostOrderCheck(t *testing.T) {
	for _, o := range []HostOrder{"", ByQueued, ByPages, ByErrors, ByLatency, ByDelay} {
		if err := o.Check(); err != nil {
			t.Errorf("HostOrder(%q).Check() = %v", o, err)
		}
	}
	if err := HostOrder("fastest").Check(); err == nil {
		t.Error(`HostOrder("fastest").Check() = nil`)
	}
}
