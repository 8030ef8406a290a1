package secretstream

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gopear/gopear/secretstream/internal/sodiumstream"
	"github.com/gopear/gopear/secretstream/noise"
)

// testHandshake is a fixed handshake result for a responder Conn made with
// FromHandshake; rawPeer plays the initiator with it.
var testHandshake = Handshake{
	Tx:              [32]byte{1},
	Rx:              [32]byte{2},
	Hash:            [64]byte{3},
	PublicKey:       [32]byte{4},
	RemotePublicKey: [32]byte{5},
}

// rawPeer builds what an initiator would send to a responder made from
// testHandshake.
type rawPeer struct {
	push   *sodiumstream.Push
	header [24]byte
}

func newRawPeer() *rawPeer {
	p := &rawPeer{header: [24]byte{6}}
	p.push = sodiumstream.NewPush(&testHandshake.Rx, &p.header)
	return p
}

func frame(payload []byte) []byte {
	b := make([]byte, frameHeader, frameHeader+len(payload))
	putUint24(b, len(payload))
	return append(b, payload...)
}

// idHeader is the initiator's stream id and header, framed.
func (p *rawPeer) idHeader() []byte {
	id := streamID(&testHandshake.Hash, true)
	return frame(append(id[:], p.header[:]...))
}

// message is an encrypted, framed message.
func (p *rawPeer) message(m string) []byte {
	return frame(p.push.Push(nil, []byte(m), sodiumstream.TagMessage))
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// rwc is a transport that reads from r and discards writes.
type rwc struct {
	io.Reader
	closed bool
}

func (t *rwc) Write(p []byte) (int, error) { return len(p), nil }
func (t *rwc) Close() error                { t.closed = true; return nil }

func TestBadInput(t *testing.T) {
	p := newRawPeer()
	m1, m2, m3 := p.message("one"), p.message("two"), p.message("three")
	badID := frame(make([]byte, 56))
	bigFrame := []byte{0xff, 0xff, 0xff}
	tests := []struct {
		name  string
		input []byte
		want  error
		ok    int // messages read before the error
	}{
		{"clean end", cat(p.idHeader(), m1), io.EOF, 1},
		{"end before header", nil, io.EOF, 0},
		{"truncated length", cat(p.idHeader(), m1[:2]), io.ErrUnexpectedEOF, 0},
		{"truncated frame", cat(p.idHeader(), m1, m2[:10]), io.ErrUnexpectedEOF, 1},
		{"header too short", frame(make([]byte, 55)), ErrBadHeader, 0},
		{"header too long", frame(make([]byte, 57)), ErrBadHeader, 0},
		{"wrong stream id", badID, ErrBadHeader, 0},
		{"responder's id", frame(append(func() []byte { id := streamID(&testHandshake.Hash, false); return id[:] }(), p.header[:]...)), ErrBadHeader, 0},
		{"frame over the limit", cat(p.idHeader(), m1, bigFrame), ErrFrameTooLarge, 1},
		{"short message", cat(p.idHeader(), frame(make([]byte, 16))), ErrBadMessage, 0},
		{"garbage message", cat(p.idHeader(), frame([]byte("not an encrypted message at all"))), ErrBadMessage, 0},
		{"replayed", cat(p.idHeader(), m1, m1), ErrBadMessage, 1},
		{"reordered", cat(p.idHeader(), m1, m3, m2), ErrBadMessage, 1},
		{"flipped bit", cat(p.idHeader(), func() []byte { b := cat(m1); b[5] ^= 1; return b }()), ErrBadMessage, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &rwc{Reader: bytesReader(tt.input)}
			c, err := FromHandshake(tr, false, &testHandshake, &Options{MaxMessageSize: 1 << 16})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var got int
			for {
				_, err = c.ReadMessage()
				if err != nil {
					break
				}
				got++
			}
			if !errors.Is(err, tt.want) || got != tt.ok {
				t.Fatalf("after %d messages: %v; want %d messages then %v", got, err, tt.ok, tt.want)
			}
			// The error sticks.
			if _, err2 := c.ReadMessage(); !errors.Is(err2, tt.want) {
				t.Errorf("next ReadMessage = %v, want %v again", err2, tt.want)
			}
			if tt.want == io.EOF {
				if tr.closed {
					t.Error("a clean end closed the connection")
				}
				return
			}
			if !tr.closed {
				t.Error("the transport is still open after bad input")
			}
			if _, err := c.Write([]byte("x")); err == nil {
				t.Error("Write after bad input succeeded")
			}
		})
	}
}

func bytesReader(b []byte) io.Reader {
	return &sliceReader{b: b}
}

// sliceReader returns its bytes in small reads, so frames arrive in pieces.
type sliceReader struct{ b []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], r.b)
	r.b = r.b[n:]
	return n, nil
}

func TestBadHandshake(t *testing.T) {
	valid1 := func() []byte {
		hs, _ := noise.New(&noise.Config{Pattern: noise.XX, Initiator: true, StaticKey: seeded(1)})
		m, _ := hs.WriteMessage(nil, nil)
		return frame(m)
	}()
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"nothing", nil, io.ErrUnexpectedEOF},
		{"short message 1", frame(make([]byte, 31)), noise.ErrShortMessage},
		{"oversized frame", []byte{0x00, 0x00, 0x01}, ErrFrameTooLarge},
		{"invalid ephemeral", cat(frame(make([]byte, 32))), noise.ErrBadPoint},
		{"garbage message 3", cat(valid1, frame(make([]byte, 64))), noise.ErrDecrypt},
		{"truncated message 3", cat(valid1, frame(make([]byte, 64))[:30]), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := &rwc{Reader: bytesReader(tt.input)}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Server(ctx, tr, nil)
			if c != nil || !errors.Is(err, ErrHandshake) || !errors.Is(err, tt.want) {
				t.Fatalf("Server = %v, %v; want ErrHandshake and %v", c, err, tt.want)
			}
			if !tr.closed {
				t.Error("the transport is still open after a failed handshake")
			}
		})
	}
}

var _ net.Conn = (*Conn)(nil)
