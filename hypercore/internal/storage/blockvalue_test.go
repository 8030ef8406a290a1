package storage

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestBlockValue(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("hypercore block, "), 100)
	for _, tc := range []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"empty", []byte{}, false},
		{"small", []byte("abc"), false},
		{"text", text, true},
		{"random", random, false},
		{"64 zero bytes", make([]byte, 64), true},
	} {
		v := appendBlockValue([]byte("prefix"), tc.data)
		if string(v[:6]) != "prefix" {
			t.Fatalf("%s: prefix overwritten", tc.name)
		}
		v = v[6:]
		if got := v[0] == blockMinLZ; got != tc.compressed {
			t.Errorf("%s: compressed = %v, want %v", tc.name, got, tc.compressed)
		}
		if tc.compressed && len(v) >= len(tc.data) {
			t.Errorf("%s: %d bytes stored for %d", tc.name, len(v), len(tc.data))
		}
		got, err := appendBlockData([]byte("x"), v)
		if err != nil || string(got[:1]) != "x" || !bytes.Equal(got[1:], tc.data) {
			t.Fatalf("%s: decoded %d bytes, %v", tc.name, len(got)-1, err)
		}
	}
	for _, v := range [][]byte{{}, {2, 1, 2}, {blockMinLZ, 0xff, 0xff}} {
		if _, err := appendBlockData(nil, v); !errors.Is(err, ErrCorrupt) {
			t.Errorf("value %x: err = %v", v, err)
		}
	}
}

// FuzzBlockValue checks that stored block values decode to ErrCorrupt or
// to a block, never a panic, and that encoding round-trips.
func FuzzBlockValue(f *testing.F) {
	f.Add([]byte("hello hello hello hello hello hello hello hello hello hello hello"))
	f.Add(appendBlockValue(nil, bytes.Repeat([]byte{7}, 300)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := appendBlockData(nil, b); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
		got, err := appendBlockData(nil, appendBlockValue(nil, b))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(b), len(got), err)
		}
	})
}
