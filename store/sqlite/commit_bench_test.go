package sqlite

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

	"github.com/crawler-dev/crawler/store/storetest"
)

var benchLinkIndex = flag.Bool("bench.linkindex", false, "BenchmarkCommit: store.inbound_link_index")

// BenchmarkCommit measures the writer's cost per page (storetest.BenchCommit).
func BenchmarkCommit(b *testing.B) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "crawl.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	storetest.BenchCommit(b, db, *benchLinkIndex)
}
