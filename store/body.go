package store

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Body encodings: how a page body is kept (pages.body_encoding), chosen by
// the store.bodies setting. BodiesNone keeps no body at all.
const (
	BodyZstd     = "zstd"
	BodyS2       = "s2"
	BodyGzip     = "gzip"
	BodyIdentity = "identity" // as received, uncompressed
	BodiesNone   = "none"
)

// CheckBodies returns an error naming the settings NewBodyCodec knows when
// setting is not one of them.
func CheckBodies(setting string) error {
	switch setting {
	case BodyZstd, BodyS2, BodyGzip, BodyIdentity, BodiesNone:
		return nil
	}
	return fmt.Errorf("must be zstd, s2, gzip, identity or none, got %q", setting)
}

// BodyCodec compresses page bodies for storage in one encoding. It is safe
// for concurrent use; each goroutine that encodes takes its own
// BodyEncoder, which keeps that goroutine's scratch space.
type BodyCodec struct {
	setting string
	zw      *zstd.Encoder // for BodyZstd: EncodeAll is safe for concurrent use
}

// NewBodyCodec returns the codec of a store.bodies setting. Close it when
// done.
func NewBodyCodec(setting string) (*BodyCodec, error) {
	if err := CheckBodies(setting); err != nil {
		return nil, fmt.Errorf("body codec: %w", err)
	}
	c := &BodyCodec{setting: setting}
	if setting == BodyZstd {
		// One encoder for every goroutine: it keeps one block encoder per
		// CPU, not one per goroutine (each costs memory).
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, fmt.Errorf("body codec: zstd encoder: %w", err)
		}
		c.zw = zw
	}
	return c, nil
}

// Close releases the codec's encoders.
func (c *BodyCodec) Close() {
	if c.zw != nil {
		c.zw.Close()
	}
}

// Encoder returns an encoder for one goroutine.
func (c *BodyCodec) Encoder() *BodyEncoder { return &BodyEncoder{c: c} }

// BodyEncoder compresses bodies for one goroutine at a time: the CPU work
// happens in the caller (a fetch worker), off the writer's path.
type BodyEncoder struct {
	c     *BodyCodec
	gzbuf bytes.Buffer
	s2buf []byte // scratch for S2 output, at most s2ScratchMax
}

// s2ScratchMax bounds the S2 scratch buffer an encoder keeps between bodies.
const s2ScratchMax = 1 << 20

// Encode returns body as it is to be stored and its encoding, or nil and
// "" when the setting is BodiesNone. With BodyIdentity the result is body
// itself; otherwise it is a new slice.
func (e *BodyEncoder) Encode(body []byte) (data []byte, encoding string) {
	switch e.c.setting {
	case BodyZstd:
		return e.c.zw.EncodeAll(body, make([]byte, 0, len(body)/3+64)), BodyZstd
	case BodyS2:
		// Encode into the scratch buffer (S2 needs room for the worst case)
		// and keep an exact-size copy. The buffer is kept only for ordinary
		// page sizes, so one huge body does not stay resident.
		buf := e.s2buf
		if n := s2.MaxEncodedLen(len(body)); cap(buf) < n {
			buf = make([]byte, n)
			if n <= s2ScratchMax {
				e.s2buf = buf
			}
		}
		return bytes.Clone(s2.Encode(buf[:cap(buf)], body)), BodyS2
	case BodyGzip:
		e.gzbuf.Reset()
		zw, _ := gzip.NewWriterLevel(&e.gzbuf, gzip.BestSpeed) // a valid level: no error
		zw.Write(body)                                         // writes to a bytes.Buffer do not fail
		zw.Close()
		return bytes.Clone(e.gzbuf.Bytes()), BodyGzip
	case BodyIdentity:
		return body, BodyIdentity
	}
	return nil, ""
}

// DecodeBody undoes the encoding of a stored body ("" is identity).
func DecodeBody(data []byte, encoding string) ([]byte, error) {
	switch encoding {
	case "", BodyIdentity:
		return data, nil
	case BodyZstd:
		d := zstdDecoders.Get().(*zstd.Decoder)
		defer zstdDecoders.Put(d)
		b, err := d.DecodeAll(data, nil)
		if err != nil {
			return nil, fmt.Errorf("decode zstd body: %w", err)
		}
		return b, nil
	case BodyS2:
		b, err := s2.Decode(nil, data)
		if err != nil {
			return nil, fmt.Errorf("decode s2 body: %w", err)
		}
		return b, nil
	case BodyGzip:
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decode gzip body: %w", err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(zr); err != nil {
			return nil, fmt.Errorf("decode gzip body: %w", err)
		}
		return b.Bytes(), nil
	}
	return nil, fmt.Errorf("unknown body encoding %q", encoding)
}

// zstdDecoders pools single-goroutine zstd decoders: a decoder with its
// default concurrency starts goroutines of its own, and DecodeAll needs
// none.
var zstdDecoders = sync.Pool{New: func() any {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1)) // no options that can fail
	return d
}}
