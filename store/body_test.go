package store

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

// TestBodyCodecRoundTrip stores a body with every store.bodies setting,
// from several goroutines at once as fetch workers do, and reads it back
// with DecodeBody.
func TestBodyCodecRoundTrip(t *testing.T) {
	body := []byte(strings.Repeat("<p>Ünïcode text, repeated so that it compresses. </p>\n", 400))
	for _, setting := range []string{BodyZstd, BodyS2, BodyGzip, BodyIdentity} {
		t.Run(setting, func(t *testing.T) {
			c, err := NewBodyCodec(setting)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					e := c.Encoder()
					for range 3 {
						data, enc := e.Encode(body)
						if enc != setting {
							t.Errorf("stored with encoding %q", enc)
						}
						if setting != BodyIdentity && len(data) >= len(body)/2 {
							t.Errorf("%d bytes stored for %d, not compressed", len(data), len(body))
						}
						got, err := DecodeBody(data, enc)
						if err != nil || !bytes.Equal(got, body) {
							t.Errorf("DecodeBody = %d bytes, %v; want the original %d bytes", len(got), err, len(body))
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

func TestBodyCodecNone(t *testing.T) {
	c, err := NewBodyCodec(BodiesNone)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if data, enc := c.Encoder().Encode([]byte("x")); data != nil || enc != "" {
		t.Errorf("Encode with bodies none = %q, %q; want nothing stored", data, enc)
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	for _, enc := range []string{BodyZstd, BodyS2, BodyGzip} {
		if _, err := DecodeBody([]byte("not a "+enc+" body"), enc); err == nil || !strings.Contains(err.Error(), enc) {
			t.Errorf("DecodeBody(corrupt %s) = %v, want an error naming %s", enc, err, enc)
		}
	}
	if _, err := DecodeBody([]byte("x"), "lz4"); err == nil || !strings.Contains(err.Error(), `"lz4"`) {
		t.Errorf("DecodeBody(lz4) = %v, want an error naming the encoding", err)
	}
	if got, err := DecodeBody([]byte("plain"), ""); err != nil || string(got) != "plain" {
		t.Errorf(`DecodeBody(plain, "") = %q, %v`, got, err)
	}
}

func TestCheckBodies(t *testing.T) {
	for _, s := range []string{BodyZstd, BodyS2, BodyGzip, BodyIdentity, BodiesNone} {
		if err := CheckBodies(s); err != nil {
			t.Errorf("CheckBodies(%q) = %v", s, err)
		}
	}
	if _, err := NewBodyCodec("lz4"); err == nil || !strings.Contains(err.Error(), "zstd, s2, gzip, identity or none") {
		t.Errorf("NewBodyCodec(lz4) = %v, want an error naming the settings", err)
	}
}
