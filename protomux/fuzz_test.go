package protomux

import (
	"bytes"
	"encoding/hex"
	"slices"
	"testing"
	"time"

	"github.com/gopear/gopear/cenc"
)

// seedFrames are real encodings: the frames of PROTOCOLS.md section 4.5
// (which TestInteropVector checks against JS), frames this package writes,
// and the odd frames of malformedFrames. testdata/fuzz holds frames
// captured from JS protomux as well.
func seedFrames() [][]byte {
	seeds := [][]byte{
		appendOpen(nil, 1, "test", []byte{1, 1}, nil),
		appendMessage(nil, 1, 0, cenc.AppendString(nil, "hi")),
		appendOpen(nil, 2, "hypercore/alpha", bytes.Repeat([]byte{9}, 32), append([]byte{1}, make([]byte, 32)...)),
		appendControl(nil, typeClose, 1),
		appendControl(nil, typeReject, 1),
		appendBatch(nil, []batchEntry{
			{0, appendOpen(nil, 1, "test", nil, nil)[1:]},
			{1, []byte{0, 2, 'h', 'i'}},
			{1, []byte{1, 0xfd, 0, 1}},
			{0, appendControl(nil, typeClose, 1)[1:]},
		}),
	}
	for _, tc := range malformedFrames {
		b, _ := hex.DecodeString(tc.hex)
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzParseFrame checks that the frame decoder never panics, and that the
// messages it finds, written back as single frames and as one batch, parse
// to the same messages, with batchLen equal to the batch's length.
func FuzzParseFrame(f *testing.F) {
	for _, s := range seedFrames() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		got, err := parseAll(frame)
		if err != nil || len(got) == 0 {
			return
		}
		var entries []batchEntry
		for _, m := range got {
			if m.channel == 0 && m.typ == typeBatch {
				t.Fatalf("batch message not flattened: %v", m)
			}
			single := appendMessage(nil, m.channel, m.typ, []byte(m.payload))
			again, err := parseAll(single)
			if err != nil || !slices.Equal(again, []parsedMessage{m}) {
				t.Fatalf("single frame %x parsed as %v, %v; want %v", single, again, err, m)
			}
			entries = append(entries, batchEntry{m.channel, append(cenc.AppendUint(nil, m.typ), m.payload...)})
		}
		batch := appendBatch(nil, entries)
		if len(batch) != batchLen(entries) {
			t.Fatalf("batch of %d bytes, batchLen %d", len(batch), batchLen(entries))
		}
		again, err := parseAll(batch)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("batch %x parsed as %v, %v; want %v", batch, again, err, got)
		}
	})
}

// FuzzMux feeds arbitrary frames to a mux whose Pair function accepts some
// channels, opens some later, and whose handlers reply, cork and close. The
// input is a sequence of u8 length ‖ frame. The mux must not panic, and must
// end promptly once its stream ends (while it has stopped reading because of
// parked channels, it notices the end only once it reads again, so the test
// closes it instead).
func FuzzMux(f *testing.F) {
	seeds := seedFrames()
	for _, s := range seeds {
		f.Add(lengthPrefixed(s))
	}
	f.Add(lengthPrefixed(seeds[:6]...))
	f.Add(lengthPrefixed(
		appendOpen(nil, 1, "test", nil, []byte("hs")),
		appendMessage(nil, 1, 0, []byte{3, 'a', 'b', 'c'}),
		appendMessage(nil, 1, 1, []byte{9}),
		appendOpen(nil, 2, "later", nil, nil),
		appendMessage(nil, 2, 0, []byte{1, 'x'}),
		appendControl(nil, typeClose, 1),
		appendOpen(nil, 1, "test", nil, nil),
		appendControl(nil, typeReject, 1),
	))
	f.Fuzz(func(t *testing.T, input []byte) {
		sa, raw := Pipe()
		m := New(&reusingStream{Stream: sa}, nil) // frames read into one buffer, as from secretstream
		defer m.Close()
		go func() {
			for {
				if _, err := raw.ReadMessage(); err != nil {
					return
				}
			}
		}()
		var later []*Channel // touched only by callbacks
		accept := func(id []byte) {
			ch, err := m.CreateChannel(ChannelOptions{Protocol: "test", ID: id,
				OnOpen: func(ch *Channel, hs []byte) error {
					if len(hs) > 0 && hs[0] == 0xee {
						return ErrProtocol // a handler error ends the mux
					}
					return nil
				}})
			if err != nil {
				return
			}
			var s *Message[string]
			s = AddMessage(ch, cenc.String, func(v string) error {
				ch.Cork()
				defer ch.Uncork()
				if v == "close" {
					return ch.Close()
				}
				s.Send(v)
				return nil
			})
			AddTransientMessage(ch, cenc.Uint, func(v uint64) error {
				for _, c := range later {
					c.Open(nil) // opens what "later" parked
				}
				later = nil
				return nil
			})
			ch.Open(nil)
		}
		m.Pair("test", nil, accept)
		m.Pair("later", nil, func(id []byte) {
			ch, err := m.CreateChannel(ChannelOptions{Protocol: "later", ID: id})
			if err != nil {
				return
			}
			AddMessage(ch, cenc.Buffer, nil)
			later = append(later, ch)
		})
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			defer raw.Close() // the stream ends after the input
			for len(input) > 0 {
				n := min(int(input[0]), len(input)-1)
				frame := input[1 : 1+n]
				input = input[1+n:]
				if raw.WriteMessage(frame) != nil {
					return
				}
			}
		}()
		// The mux must end once its stream ends, unless it stopped reading
		// because channels paired but never opened hold more than 32 KiB:
		// then nothing can resume it here, and Close must still end it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			select {
			case <-m.Done():
				<-wrote
				return
			case <-time.After(time.Millisecond):
			}
			m.mu.Lock()
			paused := m.buffered > maxBuffered
			m.mu.Unlock()
			if paused {
				m.Close()
				raw.Close()
				<-wrote
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("mux did not end after its stream ended")
			}
		}
	})
}

func lengthPrefixed(frames ...[]byte) []byte {
	var b []byte
	for _, f := range frames {
		if len(f) > 255 {
			f = f[:255]
		}
		b = append(append(b, byte(len(f))), f...)
	}
	return b
}
