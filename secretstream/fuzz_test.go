package secretstream

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/gopear/gopear/secretstream/noise"
)

// FuzzFrames feeds arbitrary bytes to a responder as everything its peer
// sends after the handshake: id and header, then frames. Whatever comes,
// reading must end in io.EOF or one of the package's errors, never panic.
func FuzzFrames(f *testing.F) {
	p := newRawPeer()
	valid := cat(p.idHeader(), p.message("one"), p.message(""), p.message("three"))
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(cat(p.idHeader(), []byte{0xff, 0xff, 0xff}))
	f.Add(cat(p.idHeader(), frame(make([]byte, 16))))
	f.Add(frame(make([]byte, 56)))
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := FromHandshake(&rwc{Reader: bytesReader(data)}, false, &testHandshake, &Options{MaxMessageSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for {
			msg, err := c.ReadMessage()
			if err != nil {
				if !isStreamError(err) {
					t.Fatalf("unexpected error class: %v", err)
				}
				return
			}
			if len(msg) > 1<<16 {
				t.Fatalf("%d-byte message over the limit", len(msg))
			}
		}
	})
}

func isStreamError(err error) bool {
	for _, want := range []error{io.EOF, io.ErrUnexpectedEOF, ErrBadHeader, ErrBadMessage, ErrFrameTooLarge} {
		if errors.Is(err, want) {
			return true
		}
	}
	return false
}

// fuzzInitiatorTranscript is what a pinned initiator sends a pinned
// responder: message 1, message 3, its id and header, and one message.
func fuzzInitiatorTranscript(f *testing.F) []byte {
	ini, err := noise.New(&noise.Config{Pattern: noise.XX, Initiator: true, StaticKey: seeded(1), EphemeralKey: seeded(3)})
	if err != nil {
		f.Fatal(err)
	}
	res, err := noise.New(&noise.Config{Pattern: noise.XX, StaticKey: seeded(2), EphemeralKey: seeded(4)})
	if err != nil {
		f.Fatal(err)
	}
	m1, _ := ini.WriteMessage(nil, nil)
	res.ReadMessage(nil, m1)
	m2, _ := res.WriteMessage(nil, nil)
	ini.ReadMessage(nil, m2)
	m3, _ := ini.WriteMessage(nil, nil)
	r, err := ini.Result()
	if err != nil {
		f.Fatal(err)
	}
	header := [24]byte{7}
	id := streamID(&r.Hash, true)
	return cat(frame(m1), frame(m3), frame(append(id[:], header[:]...)))
}

// FuzzHandshake feeds arbitrary bytes to a responder from the first
// handshake message on. The seed is a real transcript (with pinned keys on
// both sides, so it completes).
func FuzzHandshake(f *testing.F) {
	transcript := fuzzInitiatorTranscript(f)
	f.Add(transcript)
	f.Add(transcript[:35])
	f.Add(transcript[:40])
	f.Add(frame(make([]byte, 32)))
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Server(context.Background(), &rwc{Reader: bytesReader(data)},
			&Options{PrivateKey: seeded(2), testOnlyEphemeral: seeded(4), MaxMessageSize: 1 << 16})
		if err != nil {
			if !errors.Is(err, ErrHandshake) {
				t.Fatalf("handshake error without ErrHandshake: %v", err)
			}
			return
		}
		defer c.Close()
		for {
			if _, err := c.ReadMessage(); err != nil {
				if !isStreamError(err) {
					t.Fatalf("unexpected error class: %v", err)
				}
				return
			}
		}
	})
}
