package hypercore

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/secretstream"
)

// Errors of extensions.
var (
	// ErrNoPeer is returned by [Extension.Send] when the core has no open
	// replication channel on the peer's Mux (the peer is gone).
	ErrNoPeer = errors.New("hypercore: no such peer")

	// ErrMessageTooLarge is returned by [Extension.Send] and
	// [Extension.Broadcast] for a message that, with its extension name,
	// is longer than [MaxExtensionMessageSize] bytes.
	ErrMessageTooLarge = errors.New("hypercore: extension message too large")
)

// MaxExtensionMessageSize is the largest extension message, counting the
// bytes of the extension's name, that [Extension.Send] and
// [Extension.Broadcast] accept: what fits in one secretstream message
// with its framing. JS has no limit of its own; a larger message would
// end the connection.
const MaxExtensionMessageSize = secretstream.MaxMessageSize - 128

// ExtensionOptions configures an [Extension] (the handlers of JS
// core.registerExtension). A nil *ExtensionOptions means the defaults: no
// handler, buffer encoding.
type ExtensionOptions struct {
	// OnMessage receives the extension's messages from every peer of the
	// core, including peers that connect later. Nil ignores them (an
	// extension that only sends).
	//
	// OnMessage runs on the goroutine that reads the peer's connection,
	// so the connection waits for it: it must not block, nor close the
	// core. It may call Send or Broadcast, for example to answer from, and
	// Close. msg is its own copy.
	OnMessage func(msg []byte, from PeerInfo)

	// Raw sends and receives each message as the whole payload of the
	// wire message, as JS does for an extension registered with a raw
	// encoding (compact-encoding raw, or the named encodings 'binary',
	// 'utf8', 'json'). By default a message is a compact-encoding buffer
	// on the wire (a varint length, then the bytes), which is JS's default
	// encoding (c.buffer) and hyperbee's: JS peers that register a name
	// without an encoding exchange byte strings with the default.
	Raw bool
}

// Extension is an extension of a core's replication protocol: named
// messages that the application exchanges with the core's peers over the
// core's replication channels (JS core.registerExtension, the extension
// message of hypercore/alpha). JS hyperbee's "hyperbee" extension is one.
//
// Extensions are not negotiated: a message carries its extension's name
// (empty when it repeats the name of the previous message on the channel)
// and a peer that has no extension of that name ignores it, as JS does.
// A message that does not decode (a buffer whose length runs past the
// end) is ignored too, where JS ends the connection.
//
// An Extension is safe for concurrent use.
type Extension struct {
	c    *Core
	l    *replicatorLink
	name string

	closed atomic.Bool
	opts   ExtensionOptions // guarded by l.extMu
	raw    atomic.Bool      // opts.Raw, for senders
}

// RegisterExtension registers the extension name on the core and returns
// it (JS core.registerExtension(name, { encoding, onmessage })).
//
// Extensions belong to the core, not the session: Broadcast and Send of
// an extension of any session reach every peer of the core. When several
// open registrations share a name, the most recent one receives the
// messages (JS gives them to one registration as well); registering a
// name again on the same session replaces its options and returns the
// same Extension. Closing the session closes its extensions.
//
// RegisterExtension fails with [ErrClosed] on a closed session.
func (c *Core) RegisterExtension(name string, opts *ExtensionOptions) (*Extension, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	l, err := c.st.link()
	if err != nil {
		return nil, err
	}
	var o ExtensionOptions
	if opts != nil {
		o = *opts
	}
	return l.register(c, name, o), nil
}

// Name returns the extension's name.
func (e *Extension) Name() string { return e.name }

// Broadcast sends msg to every peer of the core (JS
// extension.broadcast). A core without peers sends nothing. The message
// is queued on each connection before Broadcast returns, which does not
// keep msg. It fails with [ErrClosed] after Close or once the session is
// closed.
func (e *Extension) Broadcast(msg []byte) error {
	if err := e.check(msg); err != nil {
		return err
	}
	e.l.r.SendExtension(e.name, e.encode(msg))
	return nil
}

// Send sends msg to one peer of the core (JS extension.send(message,
// peer)): the one on to.Mux, as [Core.Peers], an [Event] or onMessage
// describe it. Send does not keep msg. It fails with [ErrNoPeer] when that
// peer is gone, and with [ErrClosed] after Close or once the session is
// closed.
func (e *Extension) Send(msg []byte, to PeerInfo) error {
	if err := e.check(msg); err != nil {
		return err
	}
	if to.Mux == nil || !e.l.r.SendExtensionTo(to.Mux, e.name, e.encode(msg)) {
		return ErrNoPeer
	}
	return nil
}

// Close unregisters the extension (JS extension.destroy): its onMessage
// is not called for messages that arrive after Close returns (a message
// already being delivered may still reach it), and an earlier
// registration of the same name that is still open receives them again.
// Close may be called from onMessage; it is idempotent and always returns
// nil.
func (e *Extension) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	l := e.l
	l.extMu.Lock()
	defer l.extMu.Unlock()
	stack := slices.DeleteFunc(l.exts[e.name], func(x *Extension) bool { return x == e })
	l.setExtsLocked(e.name, stack)
	return nil
}

func (e *Extension) check(msg []byte) error {
	if e.closed.Load() {
		return ErrClosed
	}
	if err := e.c.check(); err != nil {
		return err
	}
	if len(msg)+len(e.name) > MaxExtensionMessageSize {
		return fmt.Errorf("%w: %d bytes", ErrMessageTooLarge, len(msg)+len(e.name))
	}
	return nil
}

// encode returns the wire payload of msg.
func (e *Extension) encode(msg []byte) []byte {
	if e.raw.Load() {
		return msg
	}
	return cenc.AppendBuffer(make([]byte, 0, cenc.BufferLen(len(msg))), msg)
}

// decodeExtension returns the message in the wire payload p, with opts' encoding,
// as a new slice; ok is false when p does not decode.
func decodeExtension(opts ExtensionOptions, p []byte) (msg []byte, ok bool) {
	if !opts.Raw {
		// JS decodes with c.buffer and ignores bytes after the buffer.
		d := cenc.NewDecoder(p)
		p = d.Buffer()
		if d.Err() != nil {
			return nil, false
		}
	}
	return append(make([]byte, 0, len(p)), p...), true
}

// live reports whether e may receive messages.
func (e *Extension) live() bool {
	if e.closed.Load() {
		return false
	}
	select {
	case <-e.c.done:
		return false
	default:
		return true
	}
}

// register adds (or, for a name c registered already, updates and moves to
// the top) c's registration of name.
func (l *replicatorLink) register(c *Core, name string, opts ExtensionOptions) *Extension {
	l.extMu.Lock()
	defer l.extMu.Unlock()
	var e *Extension
	stack := slices.DeleteFunc(l.exts[name], func(x *Extension) bool {
		if x.c == c && !x.closed.Load() {
			e = x
			return true
		}
		return !x.live()
	})
	if e == nil {
		e = &Extension{c: c, l: l, name: name}
	}
	e.opts = opts
	e.raw.Store(opts.Raw)
	l.setExtsLocked(name, append(stack, e))
	return e
}

// setExtsLocked sets the registrations of name, telling the replicator
// when the name gains its first or loses its last one.
func (l *replicatorLink) setExtsLocked(name string, stack []*Extension) {
	_, had := l.exts[name]
	switch {
	case len(stack) > 0 && !had:
		if l.exts == nil {
			l.exts = make(map[string][]*Extension)
		}
		l.r.RegisterExtension(name, func(from *replicator.PeerInfo, msg []byte) { l.deliver(name, from, msg) })
	case len(stack) == 0 && had:
		delete(l.exts, name)
		l.r.RegisterExtension(name, nil)
		return
	case len(stack) == 0:
		return
	}
	l.exts[name] = stack
}

// deliver passes a message of extension name to its most recent live
// registration. It runs on the peer's mux goroutine, without the
// replicator's lock.
func (l *replicatorLink) deliver(name string, from *replicator.PeerInfo, msg []byte) {
	l.extMu.Lock()
	stack := l.exts[name]
	var opts ExtensionOptions
	for len(stack) > 0 {
		if e := stack[len(stack)-1]; e.live() {
			opts = e.opts
			break
		}
		// The top registration's session closed: forget it.
		stack[len(stack)-1] = nil
		stack = stack[:len(stack)-1]
	}
	if _, ok := l.exts[name]; ok {
		l.setExtsLocked(name, stack)
	}
	l.extMu.Unlock()
	if opts.OnMessage == nil {
		return
	}
	m, ok := decodeExtension(opts, msg)
	if !ok {
		l.log.Debug("hypercore: ignoring an extension message that does not decode", "name", name)
		return
	}
	opts.OnMessage(m, peerInfo(*from))
}
