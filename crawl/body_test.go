package crawl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/crawler-dev/crawler/store"
)

// TestBodyEncodingsRoundTrip stores a body with every store.bodies setting
// and reads it back with DecodeBody.
func TestBodyEncodingsRoundTrip(t *testing.T) {
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	body := []byte(strings.Repeat("<p>Ünïcode text, repeated so that it compresses. </p>\n", 400))
	for _, enc := range []string{"zstd", "s2", "gzip", "identity"} {
		cfg := Defaults()
		cfg.Store.Bodies = enc
		w := &worker{e: &Engine{cfg: &cfg}, zw: zw}
		var p store.Page
		w.setBody(&p, body)
		if p.BodyEncoding != enc {
			t.Errorf("%s: stored with encoding %q", enc, p.BodyEncoding)
		}
		if enc != "identity" && len(p.Body) >= len(body)/2 {
			t.Errorf("%s: %d bytes stored for %d, not compressed", enc, len(p.Body), len(body))
		}
		got, err := DecodeBody(p.Body, p.BodyEncoding)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: DecodeBody = %d bytes, %v; want the original %d bytes", enc, len(got), err, len(body))
		}
	}
	if _, err := DecodeBody([]byte("not s2"), "s2"); err == nil {
		t.Error("DecodeBody accepted a corrupt s2 body")
	}
}
