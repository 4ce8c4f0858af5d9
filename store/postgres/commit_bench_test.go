package postgres

import (
	"context"
	"flag"
	"testing"

	"github.com/crawler-dev/crawler/store/postgres/pgtest"
	"github.com/crawler-dev/crawler/store/storetest"
)

var benchLinkIndex = flag.Bool("bench.linkindex", false, "BenchmarkCommit: store.inbound_link_index")

// BenchmarkCommit measures the writer's cost per page (storetest.BenchCommit);
// the server runs on the same machine.
func BenchmarkCommit(b *testing.B) {
	db, err := Open(context.Background(), pgtest.URL(b), pgtest.Name(b), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.BenchCommit(b, db, *benchLinkIndex)
}
