package store

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLinkEncoder: the encoding is valid JSON that decodes to the links,
// the first of those to one URL, invalid UTF-8 as U+FFFD, and names each
// URL as appendJSONString writes it; the next page starts afresh.
func TestLinkEncoder(t *testing.T) {
	links := []Link{
		{URL: "http://a.example/q?x=%22y%22", Anchor: "say \"hi\"\\\t\n\x01 caf\u00e9 \u2028"},
		{URL: "http://a.example/n", Nofollow: true},
		{URL: "http://a.example/q?x=%22y%22", Anchor: "again"},
		{URL: "http://a.example/bad", Anchor: "\xff\xfe ok"},
	}
	var enc LinkEncoder
	enc.Encode([]Link{{URL: "http://a.example/n"}, {URL: "http://a.example/before"}})
	b := enc.Encode(links)
	if !json.Valid(b) {
		t.Fatalf("Encode = %s, not valid JSON", b)
	}
	got, err := DecodeLinks(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []Link{links[0], links[1], links[3]}
	want[2].Anchor = "\ufffd\ufffd ok"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded links (-want +got):\n%s", diff)
	}
	for _, l := range links {
		if !strings.Contains(string(b), string(appendJSONString(nil, l.URL))) {
			t.Errorf("%s does not hold %q as appendJSONString writes it", b, l.URL)
		}
	}
	if got := string(enc.Encode(nil)); got != "[]" {
		t.Errorf("Encode(nil) = %s, want []", got)
	}
	if _, err := DecodeLinks([]byte(`[[1, null, 0]]`)); err == nil {
		t.Error("DecodeLinks of a link without a URL: no error")
	}
}
