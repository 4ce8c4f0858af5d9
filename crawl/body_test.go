package crawl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/crawler-dev/crawler/store"
)

// TestSetBody: a worker stores a body as store.bodies says, with the
// store's codec, so that the store reads it back.
func TestSetBody(t *testing.T) {
	body := []byte(strings.Repeat("<p>Ünïcode text, repeated so that it compresses. </p>\n", 400))
	for _, setting := range []string{"zstd", "s2", "gzip", "identity", "none"} {
		c, err := store.NewBodyCodec(setting)
		if err != nil {
			t.Fatal(err)
		}
		w := &worker{body: c.Encoder()}
		var p store.Page
		w.setBody(&p, body)
		c.Close()
		if p.ContentHash == "" {
			t.Errorf("%s: no content hash", setting)
		}
		if setting == "none" {
			if p.Body != nil || p.BodyEncoding != "" {
				t.Errorf("none: body stored (%d bytes, %q)", len(p.Body), p.BodyEncoding)
			}
			continue
		}
		if p.BodyEncoding != setting {
			t.Errorf("%s: stored with encoding %q", setting, p.BodyEncoding)
		}
		got, err := store.DecodeBody(p.Body, p.BodyEncoding)
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("%s: store.DecodeBody = %d bytes, %v; want the original %d bytes", setting, len(got), err, len(body))
		}
	}
}
