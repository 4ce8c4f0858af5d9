package store

import (
	"testing"
	"time"
)

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

func TestJSONValue(t *testing.T) {
	for _, tt := range []struct{ in, want any }{
		{int64(1), int64(1)}, {2.5, 2.5}, {"text", "text"}, {[]byte("blob text"), "blob text"},
		{[]byte{0, 0xff}, "<2 bytes>"}, {nil, nil},
		{time.Date(2026, 5, 1, 14, 0, 0, 5, time.FixedZone("x", 7200)), "2026-05-01T12:00:00.000000005Z"},
	} {
		if got := JSONValue(tt.in); got != tt.want {
			t.Errorf("JSONValue(%#v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}
