// Package protomux multiplexes many typed message channels over one
// message-framed stream. It matches the npm module protomux 3.12.1 on the
// wire, so a Go peer and a JS peer open, pair, use and close channels on the
// same connection (usually a secretstream connection; see [Stream]).
//
// # Model
//
// A [Mux] sits on a [Stream]. A [Channel] is identified by a protocol name
// and an optional id (hypercore uses protocol "hypercore/alpha" and the
// discovery key as id). A channel is created locally with
// [Mux.CreateChannel], given message types with [AddMessage], and opened
// with [Channel.Open]; it is fully open once the remote has opened the same
// (protocol, id) too, at which point OnOpen runs with the remote's handshake.
// When the remote opens first, the function registered with [Mux.Pair] for
// that key runs; if it creates and opens a matching channel, the two pair,
// otherwise the mux rejects the remote's open. [Mux.Cork] and [Mux.Uncork]
// collect the frames sent in between into one batch frame.
//
// # Memory
//
// A message handed to a handler of an [AddMessage] type is a copy of its
// own, which the handler may keep. A type added with
// [AddTransientMessage] is decoded straight out of the frame as the stream
// gave it, which the mux reuses once the handler returns: the handler
// copies what it keeps, and bulk data (hypercore's blocks) crosses the mux
// without a copy. The frames the mux writes come from, and go back to, a
// pool of buffers shared by the process (internal/bufpool).
//
// # Wire compatibility
//
// Frames, batches, id allocation (free list first, most recently freed id
// first), pairing, aliases, and which malformed input destroys the mux and
// which is ignored all follow protomux 3.12.1 (see PROTOCOLS.md section 4).
// In short: empty frames, frames for unknown or closed channels, unknown
// message types, unknown control types and close frames for unknown
// channels are ignored; truncated or out-of-range integers, an open frame
// with channel id 0 or an id that is neither the next id nor a free slot, a
// reject for a channel that was not waiting, and a message that its codec
// cannot decode destroy the mux with an error wrapping [ErrProtocol].
//
// Deliberate differences from the JS module, none visible on the wire to a
// well-behaved peer:
//   - Pairing is synchronous: the Pair function runs to completion before
//     the mux decides to reject (JS awaits a promise). A Pair function that
//     needs slow work delays every channel of the mux, as a slow handler
//     does.
//   - Batch frames nested inside batch frames (which protomux never sends)
//     are accepted up to a depth of 32; deeper nesting is a protocol error
//     (JS overflows its stack at some depth and destroys the stream).
//   - Closing a channel created for a remote open before opening it rejects
//     the remote open, so the remote's channel closes too.
//   - Replies sent while a received batch frame is handled are corked into
//     one batch for any batch frame (JS: for a batch of two or more).
//
// # Concurrency
//
// All methods of Mux, Channel and Message are safe for concurrent use.
//
// Callbacks (OnOpen, OnClose, OnDestroy, message handlers and Pair
// functions) run one at a time, never concurrently with another callback of
// the same mux, and always on one of the mux's own goroutines, never inside
// the caller's Open or Close: on the reader goroutine, in wire order, as
// frames are handled, or on the mux's task goroutine when a call made
// elsewhere causes them (OnOpen after an Open that pairs with a waiting
// remote channel, OnClose after Channel.Close). A callback that returns an
// error destroys the mux with that error, as a throwing handler does in JS.
// Callbacks may send, open, close and create channels; they must not call
// [Mux.Close], [Mux.Flush], [Mux.WaitDrained] or [Channel.WaitOpen] (use
// [Mux.Destroy] to end the mux from a callback).
//
// Sending never blocks on the network: [Message.Send] encodes the frame and
// queues it for the mux's writer goroutine, so handlers can reply without
// two peers deadlocking on full transport buffers. The mux does not bound
// that queue itself: producers pace themselves with [Mux.Drained] and
// [Mux.WaitDrained], as JS code checks mux.drained. [Mux.Flush] waits until
// everything queued is written; [Mux.Close] drops what is not.
//
// # Backpressure
//
// The reader handles each frame, running its callbacks, before it reads
// the next one: a handler that blocks stops the mux reading from the
// stream, so the transport's flow control pushes back on the peer and
// nothing piles up in the mux. The one place the mux buffers is a remote
// channel that has been paired but not yet opened locally (a Pair function
// created the channel and Open runs later): its messages wait, in order,
// until Open. As in JS, once such buffers exceed 32 KiB (counting 512
// bytes of overhead per message) the mux stops reading from the stream
// until the channel opens or closes; while it does not read, it does not
// notice that the stream ended either.
package protomux
