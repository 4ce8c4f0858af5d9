package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/store"
)

// BenchCommit measures what the writer spends per page in db: batches of
// 32 pages of the fast test site's shape (a 10 KB compressed body, 50
// links of which 5 are URLs new to the frontier), each page's lease
// claimed beforehand, with store.inbound_link_index as linkIndex says.
// It reports µs/page: the time of the Commit calls, a server's work
// included.
func BenchCommit(b *testing.B, db Store, linkIndex bool) {
	const perBatch, links, newURLs = 32, 50, 5
	ctx := context.Background()
	if err := db.SetInboundLinkIndex(ctx, linkIndex); err != nil {
		b.Fatal(err)
	}
	const origin = "http://127.0.0.1:8080"
	body := make([]byte, 10<<10)
	for i := range body {
		body[i] = byte(i * 7919 >> 3)
	}
	b.ReportAllocs()
	pages, next, fresh := 0, 0, 0
	var host store.HostToken
	for b.Loop() {
		b.StopTimer()
		var seeds []store.NewURL
		for range perBatch {
			seeds = append(seeds, store.NewURL{URL: fmt.Sprintf("%s/catalog/item-%d.html", origin, next),
				Origin: origin, Source: "seed", State: store.StateQueued})
			next++
		}
		added, err := db.Add(ctx, seeds)
		if err != nil {
			b.Fatal(err)
		}
		if host.ID == 0 {
			for id := range added {
				hs, err := db.LeaseHosts(ctx, store.HostQuery{IDs: []int64{id}, Limit: 1}, time.Hour)
				if err != nil || len(hs) != 1 {
					b.Fatalf("lease host %d = %v, %v", id, hs, err)
				}
				host = store.HostToken{ID: id, Token: hs[0].Token}
			}
		}
		leases, _, err := db.Claim(ctx, host, perBatch, time.Minute)
		if err != nil || len(leases) != perBatch {
			b.Fatalf("claim = %d, %v", len(leases), err)
		}
		batch := make([]store.Outcome, len(leases))
		for i, l := range leases {
			o := store.Outcome{Lease: l, State: store.StateDone, Status: 200, Attempted: true,
				Page: &store.Page{FinalURL: l.URL, Status: 200, FetchedAt: time.Now(), Size: 30 << 10,
					ContentType: "text/html", Title: "Item", Body: body, BodyEncoding: "s2"}}
			for j := range links {
				u := fmt.Sprintf("%s/catalog/item-%d.html", origin, (next*links+i*links+j)%100000)
				o.Links = append(o.Links, store.Link{URL: u, Anchor: fmt.Sprintf("Item number %d", j)})
				if j < newURLs {
					o.Discovered = append(o.Discovered, store.NewURL{URL: fmt.Sprintf("%s/new/%d.html", origin, fresh),
						Origin: origin, Depth: 1, ParentID: l.ID, Source: "link", State: store.StateQueued})
					fresh++
				}
			}
			batch[i] = o
		}
		b.StartTimer()
		if _, err := db.Commit(ctx, batch); err != nil {
			b.Fatal(err)
		}
		pages += perBatch
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(pages), "µs/page")
}
