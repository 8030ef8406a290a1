package protomux

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gopear/gopear/cenc"
)

type parsedMessage struct {
	channel, typ uint64
	payload      string
}

func parseAll(frame []byte) ([]parsedMessage, error) {
	var out []parsedMessage
	err := parseFrame(frame, func(channel, typ uint64, payload []byte) error {
		out = append(out, parsedMessage{channel, typ, string(payload)})
		return nil
	})
	return out, err
}

// Varint boundaries of compact-encoding: 1 byte up to 0xfc, then 3, 5, 9.
var idEdges = []uint64{1, 0xfc, 0xfd, 0xffff, 0x10000, 0xffffffff, 0x100000000}

func TestMessageFrameRoundTrip(t *testing.T) {
	for _, ch := range idEdges {
		for _, typ := range []uint64{0, 1, 0xfc, 0xfd} {
			for _, n := range []int{0, 1, 0xfc, 0xfd} {
				t.Run(fmt.Sprintf("ch=%d,type=%d,len=%d", ch, typ, n), func(t *testing.T) {
					payload := bytes.Repeat([]byte{0xab}, n)
					frame := appendMessage(nil, ch, typ, payload)
					if got, want := len(frame), cenc.UintLen(ch)+cenc.UintLen(typ)+n; got != want {
						t.Fatalf("frame length %d, want %d", got, want)
					}
					got, err := parseAll(frame)
					if err != nil {
						t.Fatal(err)
					}
					want := []parsedMessage{{ch, typ, string(payload)}}
					if !slices.Equal(got, want) {
						t.Fatalf("parsed %v, want %v", got, want)
					}
				})
			}
		}
	}
}

func TestControlFrames(t *testing.T) {
	for _, id := range idEdges {
		t.Run(fmt.Sprintf("id=%d", id), func(t *testing.T) {
			open := appendOpen(nil, id, "test", []byte{1, 1}, []byte("hs"))
			got, err := parseAll(open)
			if err != nil || len(got) != 1 || got[0].channel != 0 || got[0].typ != typeOpen {
				t.Fatalf("open parsed as %v, %v", got, err)
			}
			d := cenc.NewDecoder([]byte(got[0].payload))
			if gotID, proto, chID := d.Uint(), d.String(), d.OptionalBuffer(); gotID != id || proto != "test" || !bytes.Equal(chID, []byte{1, 1}) {
				t.Fatalf("open fields %d %q %x", gotID, proto, chID)
			}
			if hs := d.Raw(); string(hs) != "hs" || d.Err() != nil {
				t.Fatalf("handshake %q, err %v", hs, d.Err())
			}
			for _, typ := range []byte{typeReject, typeClose} {
				got, err := parseAll(appendControl(nil, typ, id))
				want := []parsedMessage{{0, uint64(typ), string(cenc.AppendUint(nil, id))}}
				if err != nil || !slices.Equal(got, want) {
					t.Fatalf("control %d parsed as %v, %v; want %v", typ, got, err, want)
				}
			}
		})
	}
	// An absent id and an empty id are one encoding, as optionalBuffer has.
	if a, b := appendOpen(nil, 1, "p", nil, nil), appendOpen(nil, 1, "p", []byte{}, nil); !bytes.Equal(a, b) {
		t.Fatalf("nil id %x, empty id %x", a, b)
	}
}

func TestBatchRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 0xfd)
	cases := map[string][]batchEntry{
		"one":            {{1, []byte{0, 'a'}}},
		"same channel":   {{1, []byte{0, 'a'}}, {1, []byte{1, 'b'}}},
		"switch":         {{1, []byte{0, 'a'}}, {2, []byte{0, 'b'}}, {1, []byte{0, 'c'}}},
		"control":        {{0, []byte{typeOpen, 1, 1, 'x', 0}}, {1, []byte{0}}, {0, []byte{typeClose, 1}}},
		"long entry":     {{0xfd, big}, {0x10000, big}},
		"wide channel":   {{0xffffffff, []byte{3}}, {0x100000000, []byte{4}}},
		"entry of 0xfc":  {{1, big[:0xfc]}},
		"entry of 0xfd":  {{1, big}},
		"many switches":  {{1, []byte{0}}, {2, []byte{0}}, {3, []byte{0}}, {2, []byte{0}}},
		"control switch": {{0, []byte{typeReject, 5}}, {5, []byte{9}}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			frame := appendBatch(nil, entries)
			if len(frame) != batchLen(entries) {
				t.Fatalf("batch is %d bytes, batchLen says %d", len(frame), batchLen(entries))
			}
			got, err := parseAll(frame)
			if err != nil {
				t.Fatal(err)
			}
			var want []parsedMessage
			for _, e := range entries {
				d := cenc.NewDecoder(e.data)
				typ := d.Uint()
				want = append(want, parsedMessage{e.channel, typ, string(e.data[d.Offset():])})
			}
			if !slices.Equal(got, want) {
				t.Fatalf("parsed %v, want %v", got, want)
			}
		})
	}
}

// TestParseMalformed covers how the frame decoder treats malformed frames.
// Which of them end the mux was checked against protomux 3.12.1 (the
// interop test TestInteropMalformedFrames repeats it against JS).
func TestParseMalformed(t *testing.T) {
	cases := []struct {
		hex  string
		want []parsedMessage
		err  bool
	}{
		{hex: "00", err: true},                           // no type
		{hex: "05", err: true},                           // no type
		{hex: "fd01", err: true},                         // truncated channel
		{hex: "ffffffffffffffffff00", err: true},         // channel above 2^53-1
		{hex: "0100", want: []parsedMessage{{1, 0, ""}}}, // message, empty payload
		{hex: "fd010000", want: []parsedMessage{{1, 0, ""}}},
		{hex: "000000", want: nil},                                   // empty batch
		{hex: "0000", err: true},                                     // batch without channel
		{hex: "0000ff", err: true},                                   // truncated first channel
		{hex: "000001fd", err: true},                                 // truncated entry length
		{hex: "00000100", err: true},                                 // channel switch without id
		{hex: "0000010100", want: []parsedMessage{{1, 0, ""}}},       // one entry
		{hex: "00000105006162", want: []parsedMessage{{1, 0, "ab"}}}, // length cut at the end
		{hex: "000001020061", want: []parsedMessage{{1, 0, "a"}}},    // exact
		{hex: "00000102006105", err: true},                           // a length with no bytes left
		{hex: "00000102006100020100", want: []parsedMessage{{1, 0, "a"}, {2, 0, ""}}},
		{hex: "0000000100", err: true},                                   // nested batch without channel
		{hex: "000000020001", want: nil},                                 // empty nested batch
		{hex: "00000005000102010a", want: []parsedMessage{{1, 1, "\n"}}}, // nested batch
		{hex: "0004", want: []parsedMessage{{0, 4, ""}}},                 // unknown control type, ignored later
	}
	for _, tc := range cases {
		t.Run(tc.hex, func(t *testing.T) {
			got, err := parseAll(mustHex(t, tc.hex))
			if tc.err {
				if !errors.Is(err, ErrProtocol) {
					t.Fatalf("got %v, %v; want an error wrapping ErrProtocol", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestBatchNestingLimit(t *testing.T) {
	// nested returns a frame whose innermost batch is depth batches deep.
	nested := func(depth int) []byte {
		p := []byte{1, 2, 0, 'z'} // channel 1: one entry, type 0, payload "z"
		for range depth - 1 {
			p = cenc.AppendBuffer([]byte{0}, append([]byte{typeBatch}, p...))
		}
		return append([]byte{0, typeBatch}, p...)
	}
	got, err := parseAll(nested(maxBatchDepth))
	if want := []parsedMessage{{1, 0, "z"}}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("depth %d: %v, %v; want %v", maxBatchDepth, got, err, want)
	}
	if _, err := parseAll(nested(maxBatchDepth + 1)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("depth %d: err %v, want ErrProtocol", maxBatchDepth+1, err)
	}
}

// batchEntry is one message of a batch: the sender's channel id and the
// message without its channel (uint type ‖ payload).
type batchEntry struct {
	channel uint64
	data    []byte
}

// batchLen returns the size of appendBatch(nil, entries).
func batchLen(entries []batchEntry) int {
	if len(entries) == 0 {
		return 0
	}
	n := 2 + cenc.UintLen(entries[0].channel)
	prev := entries[0].channel
	for _, e := range entries {
		if e.channel != prev {
			n += 1 + cenc.UintLen(e.channel)
			prev = e.channel
		}
		n += cenc.BufferLen(len(e.data))
	}
	return n
}

// appendBatch appends a batch frame carrying entries (as Mux builds one), which must not be
// empty:
//
//	00 00 ‖ uint firstChannel ‖ (uint len ‖ data | 00 ‖ uint nextChannel)…
//
// A zero length switches the channel of the entries that follow.
func appendBatch(b []byte, entries []batchEntry) []byte {
	prev := entries[0].channel
	b = cenc.AppendUint(append(b, 0, typeBatch), prev)
	for _, e := range entries {
		if e.channel != prev {
			b = cenc.AppendUint(append(b, 0), e.channel)
			prev = e.channel
		}
		b = cenc.AppendBuffer(b, e.data)
	}
	return b
}
