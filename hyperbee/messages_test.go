package hyperbee

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    Header
	}{
		{"plain", Header{Protocol: "hyperbee"}},
		{"empty metadata", Header{Protocol: "hyperbee", Metadata: &Metadata{}}},
		{"content feed", Header{Protocol: "hyperbee", Metadata: &Metadata{ContentFeed: bytes.Repeat([]byte{7}, 32)}}},
		{"both", Header{Protocol: "hyperbee", Metadata: &Metadata{ContentFeed: []byte{}, UserData: []byte("hello")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeHeader(encodeHeader(&tc.h))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.h) {
				t.Errorf("got %+v, want %+v", got, tc.h)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		dec  func([]byte) error
	}{
		{"header without protocol", []byte{0x12, 0x00}, decHeader},
		{"header truncated string", []byte{0x0a, 0x08, 'h', 'y'}, decHeader},
		{"header bad varint", []byte{0x0a, 0x80}, decHeader},
		{"node without key", []byte{0x0a, 0x00}, decNode},
		{"node without index", []byte{0x12, 0x01, 'a'}, decNode},
		{"node group wire type", []byte{0x0b, 0x0a, 0x00, 0x12, 0x00}, decNode},
		{"node key past end", []byte{0x0a, 0x00, 0x12, 0x05, 'a'}, decNode},
		{"index odd children", []byte{0x0a, 0x03, 0x12, 0x01, 0x01}, decIndex},
		{"index varint overflow", append([]byte{0x0a, 0x0c, 0x0a, 0x0a}, bytes.Repeat([]byte{0xff}, 10)...), decIndex},
		{"index keys as varint", []byte{0x0a, 0x02, 0x08, 0x01}, decIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.dec(tc.b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

func decHeader(b []byte) error { _, err := decodeHeader(b); return err }
func decNode(b []byte) error   { _, err := decodeNode(b); return err }
func decIndex(b []byte) error  { _, err := decodeIndex(b); return err }

func TestDecodeSkipsUnknownFields(t *testing.T) {
	// Node{index, key, value} with an unknown varint field 9 and an
	// unknown fixed32 field 10 in between.
	b := encodeNode(encodeIndex([]rawLevel{{keys: []uint64{1}}}), []byte("k"), []byte("v"))
	b = append(b, 0x48, 0x96, 0x01, 0x55, 1, 2, 3, 4)
	n, err := decodeNode(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(n.key) != "k" || string(n.value) != "v" {
		t.Errorf("got key %q value %q", n.key, n.value)
	}
}

func TestIndexRoundTrip(t *testing.T) {
	levels := []rawLevel{
		{keys: []uint64{5}, children: []uint64{9, 1, 9, 2}},
		{keys: []uint64{1, 2, 3, 4}},
		{keys: []uint64{6, 7, 8, 300, 1 << 40}},
		{},
	}
	got, err := decodeIndex(encodeIndex(levels))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(levels) {
		t.Fatalf("got %d levels, want %d", len(got), len(levels))
	}
	for i := range levels {
		if !equalU64(got[i].keys, levels[i].keys) || !equalU64(got[i].children, levels[i].children) {
			t.Errorf("level %d: got %+v, want %+v", i, got[i], levels[i])
		}
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fuzzSeeds are real blocks: a small bee written by Go, which the interop
// tests hold byte-identical to JS.
func fuzzSeeds(tb testing.TB) [][]byte {
	ctx := context.Background()
	core := newMemCore()
	bee := New(core, &Options{Metadata: &Metadata{ContentFeed: []byte("feed"), UserData: []byte("u")}})
	for i := range 30 {
		if err := bee.Put(ctx, []byte{byte('a' + i%26), byte(i)}, []byte{byte(i)}); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range 12 {
		if err := bee.Del(ctx, []byte{byte('a' + i%26), byte(i)}); err != nil {
			tb.Fatal(err)
		}
	}
	return core.raw()
}

func FuzzDecodeNode(f *testing.F) {
	for _, b := range fuzzSeeds(f)[1:] {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := decodeNode(b)
		if err != nil {
			return
		}
		again, err := decodeNode(encodeNode(n.index, n.key, n.value))
		if err != nil {
			t.Fatalf("re-encoded node does not decode: %v", err)
		}
		if !bytes.Equal(again.index, n.index) || !bytes.Equal(again.key, n.key) || !bytes.Equal(again.value, n.value) || (again.value == nil) != (n.value == nil) {
			t.Fatalf("round trip changed the node")
		}
		levels, err := decodeIndex(n.index)
		if err != nil {
			return
		}
		back, err := decodeIndex(encodeIndex(levels))
		if err != nil || len(back) != len(levels) {
			t.Fatalf("re-encoded index: %v, %d levels, want %d", err, len(back), len(levels))
		}
		for i := range levels {
			if !equalU64(back[i].keys, levels[i].keys) || !equalU64(back[i].children, levels[i].children) {
				t.Fatalf("level %d changed", i)
			}
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	f.Add(fuzzSeeds(f)[0])
	f.Add(encodeHeader(&Header{Protocol: protocolName}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHeader(b)
		if err != nil {
			return
		}
		again, err := decodeHeader(encodeHeader(h))
		if err != nil {
			t.Fatalf("re-encoded header does not decode: %v", err)
		}
		if !reflect.DeepEqual(normHeader(again), normHeader(h)) {
			t.Fatalf("round trip: got %+v, want %+v", again, h)
		}
	})
}

func normHeader(h *Header) Header {
	c := *h
	if c.Metadata != nil {
		m := *c.Metadata
		c.Metadata = &m
	}
	return c
}

// FuzzTree reads and writes a bee made of hostile blocks: whatever the
// blocks say, no call panics or waits for a block the core does not have.
// The input is split into blocks by one length byte before each.
func FuzzTree(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, n := range []int{2, 5, 12, len(seeds)} {
		var in []byte
		for _, b := range seeds[1:n] {
			if len(b) < 256 {
				in = append(in, byte(len(b)))
				in = append(in, b...)
			}
		}
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		blocks := [][]byte{encodeHeader(&Header{Protocol: protocolName})}
		for len(in) > 0 && len(blocks) < 64 {
			n := min(int(in[0]), len(in)-1)
			blocks = append(blocks, in[1:1+n])
			in = in[1+n:]
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		bee := New(newMemCore(blocks...), nil)
		for _, k := range [][]byte{nil, {'a', 0}, {'m', 5}, {0xff}} {
			bee.Get(ctx, k)
		}
		for _, r := range []Range{{}, {Reverse: true}, {Gte: []byte("c"), Lt: []byte("p")}, {Gt: []byte("b"), Reverse: true, Limit: 3}} {
			for _, err := range bee.Range(ctx, r) {
				if err != nil {
					break
				}
			}
		}
		for _, err := range bee.Diff(ctx, bee.Checkout(uint64(len(blocks)/2)), Range{}) {
			if err != nil {
				break
			}
		}
		for _, err := range bee.History(ctx, HistoryOptions{Reverse: true}) {
			if err != nil {
				break
			}
		}
		bee.Put(ctx, []byte("g"), []byte("v"))
		bee.Del(ctx, []byte{'c', 2})
		bee.Del(ctx, []byte("g"))
		if ctx.Err() != nil {
			t.Fatal("a call waited")
		}
	})
}
