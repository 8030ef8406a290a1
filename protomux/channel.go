package protomux

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/internal/bufpool"
)

// ChannelOptions describes a channel for Mux.CreateChannel. Callbacks may
// be nil; they run as the package documentation describes.
type ChannelOptions struct {
	// Protocol names the channel's protocol, such as "hypercore/alpha".
	Protocol string
	// ID distinguishes channels of one protocol (hypercore uses the
	// discovery key). Nil and empty are the same id, as on the wire.
	ID []byte
	// Aliases are other protocol names under which the remote may open
	// this channel's key (hypercore/alpha has the alias "hypercore"). The
	// open frame always carries Protocol.
	Aliases []string
	// AllowDuplicate allows more than one open channel for the key
	// (protomux unique: false). Default false.
	AllowDuplicate bool

	// OnOpen runs when the channel is fully open (both sides opened it),
	// with the remote's handshake: the bytes after the id in the remote's
	// open frame, possibly empty. An error destroys the mux, as a throwing
	// onopen does in JS (hypercore rejects a bad capability this way).
	OnOpen func(ch *Channel, handshake []byte) error
	// OnClose runs once when the channel closes; remote reports whether
	// the remote closed or rejected it (or the mux ended) rather than a
	// local Close.
	OnClose func(ch *Channel, remote bool)
	// OnDestroy runs right after OnClose.
	OnDestroy func(ch *Channel)
}

// Channel is one protocol session on a Mux. It is safe for concurrent use.
type Channel struct {
	mux  *Mux
	info *info
	opts ChannelOptions
	id   []byte

	openedCh chan struct{} // closed when fully open
	closedCh chan struct{} // closed when closed

	// Guarded by mux.mu.
	localID  uint64 // 1-based index in mux.local, 0 before Open and after close
	remoteID uint64 // the remote's id for the channel once paired, 0 otherwise
	opened   bool
	closed   bool
	messages []receiver
}

// receiver is the receiving side of a message type.
type receiver interface {
	receive(d *cenc.Decoder, typ uint64) error
	// transient reports whether the handler keeps nothing of a message
	// past its return, so that the message need not be copied out of the
	// frame, which the mux reuses.
	transient() bool
}

// Protocol returns the channel's protocol name.
func (ch *Channel) Protocol() string { return ch.opts.Protocol }

// ID returns the channel's id (nil when it has none). The caller must not
// modify it.
func (ch *Channel) ID() []byte { return ch.id }

// Mux returns the mux the channel belongs to.
func (ch *Channel) Mux() *Mux { return ch.mux }

// Opened reports whether the channel is fully open: both sides have opened
// it and OnOpen has returned.
func (ch *Channel) Opened() bool {
	ch.mux.mu.Lock()
	defer ch.mux.mu.Unlock()
	return ch.opened && !ch.closed
}

// Closed reports whether the channel is closed.
func (ch *Channel) Closed() bool {
	ch.mux.mu.Lock()
	defer ch.mux.mu.Unlock()
	return ch.closed
}

// Done returns a channel that is closed when ch closes.
func (ch *Channel) Done() <-chan struct{} { return ch.closedCh }

// WaitOpen waits until ch is fully open. It returns ErrChannelClosed if ch
// closes first, or ctx's error. It must not be called from a callback.
func (ch *Channel) WaitOpen(ctx context.Context) error {
	select {
	case <-ch.openedCh:
		return nil
	default:
	}
	select {
	case <-ch.openedCh:
		return nil
	case <-ch.closedCh:
		select {
		case <-ch.openedCh:
			return nil
		default:
			return ErrChannelClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Open opens the channel: it allocates the channel's local id and sends an
// open frame carrying handshake, the channel's handshake encoding (use
// cenc to produce it; nil for none). Messages may be sent from now on; the
// remote holds them until its side opens. The channel is fully open, and
// OnOpen runs, once the remote has opened the same key.
func (ch *Channel) Open(handshake []byte) error {
	m := ch.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return ErrClosed
	case ch.closed:
		return ErrChannelClosed
	case ch.localID != 0:
		return ErrAlreadyOpen
	}
	var idx int
	if n := len(m.free); n > 0 {
		idx = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		idx = len(m.local)
		m.local = append(m.local, nil)
	}
	inf := ch.info
	inf.opened++
	inf.last = ch
	ch.localID = uint64(idx + 1)
	m.local[idx] = ch
	if ch.remoteID == 0 {
		inf.outgoing = append(inf.outgoing, ch.localID)
	}
	frame := appendOpen(nil, ch.localID, ch.opts.Protocol, ch.id, handshake)
	m.writeControlLocked(frame)
	if ch.remoteID != 0 {
		// Paired with a remote open already: open fully as a callback,
		// after the frame being handled if any, as protomux does.
		m.postLocked(func() error { return m.fullyOpen(ch) })
	}
	return nil
}

// Close closes the channel and tells the remote. OnClose then runs, on a
// goroutine of the mux, with remote false. Close is idempotent.
func (ch *Channel) Close() error {
	m := ch.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch.closed {
		return nil
	}
	switch {
	case ch.localID != 0:
		frame := appendControl(nil, typeClose, ch.localID)
		m.closeChannelLocked(ch, false)
		m.writeControlLocked(frame)
	case ch.remoteID != 0:
		// Created for a remote open but never opened: refuse the remote's
		// open so its channel closes too.
		m.rejectLocked(ch.remoteID)
		m.closeChannelLocked(ch, false)
	default:
		m.closeChannelLocked(ch, false)
	}
	return nil
}

// Cork corks the channel's mux (see Mux.Cork).
func (ch *Channel) Cork() { ch.mux.Cork() }

// Uncork uncorks the channel's mux (see Mux.Uncork).
func (ch *Channel) Uncork() { ch.mux.Uncork() }

// SkipMessage reserves the next message type of ch without a codec or
// handler: messages of that type are ignored (protomux addMessage(null)).
func (ch *Channel) SkipMessage() {
	m := ch.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	ch.messages = append(ch.messages, skipped{})
}

type skipped struct{}

func (skipped) receive(*cenc.Decoder, uint64) error { return nil }
func (skipped) transient() bool                     { return true }

// Message is one message type of a channel, with values of type T.
type Message[T any] struct {
	ch        *Channel
	typ       uint64
	codec     cenc.Codec[T]
	onMessage func(T) error
	borrowed  bool // added with AddTransientMessage
}

// AddMessage adds the next message type to ch: its type number is the
// number of types added before it (the order must match the remote's).
// Received messages are decoded with codec and passed to onMessage (nil
// ignores them), a callback; a message codec cannot decode
// destroys the mux with an error wrapping ErrProtocol, as in JS, and so
// does an error from onMessage. Decoded values may alias the received
// message, which is a copy of its own: handlers may keep them.
//
// Message types may be added at any time, even after Open; messages of a
// type not yet added are ignored.
func AddMessage[T any](ch *Channel, codec cenc.Codec[T], onMessage func(T) error) *Message[T] {
	return addMessage(ch, codec, onMessage, false)
}

// AddTransientMessage is AddMessage for a handler that copies what it
// keeps: decoded values may alias the frame the message came in, which the
// mux reuses once onMessage returns. It spares a copy of every message, and
// suits the types that carry bulk data.
func AddTransientMessage[T any](ch *Channel, codec cenc.Codec[T], onMessage func(T) error) *Message[T] {
	return addMessage(ch, codec, onMessage, true)
}

func addMessage[T any](ch *Channel, codec cenc.Codec[T], onMessage func(T) error, borrowed bool) *Message[T] {
	m := ch.mux
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := &Message[T]{ch: ch, typ: uint64(len(ch.messages)), codec: codec, onMessage: onMessage, borrowed: borrowed}
	ch.messages = append(ch.messages, msg)
	return msg
}

// Type returns the message type number.
func (msg *Message[T]) Type() int { return int(msg.typ) }

// Channel returns the channel of the message type.
func (msg *Message[T]) Channel() *Channel { return msg.ch }

// Send encodes v and queues it for the remote: as a frame of its own, or
// in the batch while the mux is corked. It never blocks on the network (see
// Mux.WaitDrained). It fails with ErrNotOpen before Open, ErrChannelClosed
// after the channel closed and ErrClosed after the mux ended.
func (msg *Message[T]) Send(v T) error {
	ch := msg.ch
	m := ch.mux
	size := cenc.UintLen(msg.typ) + msg.codec.Len(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.closed:
		return ErrClosed
	case ch.closed:
		return ErrChannelClosed
	case ch.localID == 0:
		return ErrNotOpen
	}
	if m.corked > 0 {
		// Encoded straight into the batch frame, after its length: a
		// codec whose Len is off is caught, and its message re-encoded.
		if m.batchSize >= maxBatch {
			m.flushBatchLocked() // before the mark: restoreBatch cannot undo a flush
		}
		undo := m.batchState()
		b := m.appendBatchEntryLocked(ch.localID, size)
		mark := len(b)
		b = msg.codec.Append(cenc.AppendUint(b, msg.typ), v)
		if len(b)-mark == size {
			m.batch = b
			return nil
		}
		data := b[mark:]
		m.restoreBatch(undo)
		m.pushBatchLocked(ch.localID, bytes.Clone(data))
		return nil
	}
	b := bufpool.Get(cenc.UintLen(ch.localID) + size)
	b = cenc.AppendUint(b, ch.localID)
	b = cenc.AppendUint(b, msg.typ)
	m.enqueueLocked(msg.codec.Append(b, v))
	return nil
}

func (msg *Message[T]) transient() bool { return msg.borrowed }

func (msg *Message[T]) receive(d *cenc.Decoder, typ uint64) error {
	v := msg.codec.Decode(d)
	if err := d.Err(); err != nil {
		return fmt.Errorf("%w: decoding message %d of %q: %w", ErrProtocol, typ, msg.ch.opts.Protocol, err)
	}
	if msg.onMessage == nil {
		return nil
	}
	return msg.onMessage(v)
}
