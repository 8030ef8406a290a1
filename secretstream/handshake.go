package secretstream

import (
	"context"
	"fmt"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/secretstream/noise"
	"golang.org/x/crypto/blake2b"
)

// Stream id namespaces: NS('hyperswarm/secret-stream')[0, 1]
// (PROTOCOLS.md Appendix A: NS_INITIATOR, NS_RESPONDER).
var nsInitiator, nsResponder = func() ([32]byte, [32]byte) {
	ns := hcrypto.Namespace("hyperswarm/secret-stream", 3)
	return ns[0], ns[1]
}()

// streamID is the id a side sends before its header: BLAKE2b-256 keyed
// with the handshake hash over its role's namespace.
func streamID(hash *[64]byte, initiator bool) [32]byte {
	ns := nsResponder
	if initiator {
		ns = nsInitiator
	}
	h, err := blake2b.New256(hash[:])
	if err != nil {
		panic(err) // unreachable: a 64-byte key is valid
	}
	h.Write(ns[:])
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// handshakeXX runs Noise XX over the transport, framing each message with
// a u24 length as @hyperswarm/secret-stream does: the initiator sends
// message 1 (e), the responder message 2 (e, ee, s, es), the initiator
// message 3 (s, se). The payloads are empty.
func (c *Conn) handshakeXX(ctx context.Context) (noise.Result, error) {
	hs, err := noise.New(&noise.Config{
		Pattern:      noise.XX,
		Initiator:    c.isInitiator,
		StaticKey:    c.cfg.key,
		EphemeralKey: c.cfg.ephemeral,
	})
	if err != nil {
		return noise.Result{}, err
	}
	// Ending ctx closes the transport, which unblocks the handshake's I/O.
	stop := context.AfterFunc(ctx, func() { c.fail(context.Cause(ctx)) })
	defer stop()

	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()

	for !hs.Complete() {
		if c.isInitiator == (hs.MessageIndex()%2 == 0) {
			msg, err := hs.WriteMessage(make([]byte, frameHeader, 128), nil)
			if err != nil {
				return noise.Result{}, c.handshakeError(err)
			}
			putUint24(msg, len(msg)-frameHeader)
			if _, err := c.rw.Write(msg); err != nil {
				return noise.Result{}, c.handshakeError(err)
			}
			continue
		}
		msg, err := c.readHandshakeLocked()
		if err != nil {
			return noise.Result{}, c.handshakeError(err)
		}
		if _, err := hs.ReadMessage(nil, msg); err != nil {
			return noise.Result{}, c.handshakeError(err)
		}
		// Check the peer's key as soon as it is known: the initiator
		// then never sends its own static key to the wrong peer.
		if rs, ok := hs.RemoteStaticKey(); ok && c.cfg.remote != nil && rs != *c.cfg.remote {
			return noise.Result{}, fmt.Errorf("%w: %w: got %x", ErrHandshake, ErrRemoteKey, rs)
		}
	}
	return hs.Result()
}

// handshakeError wraps err in ErrHandshake, or returns the reason the
// connection was closed if it was (the context ending, a timeout).
func (c *Conn) handshakeError(err error) error {
	if c.closed.Load() {
		err = c.cause()
	}
	return fmt.Errorf("%w: %w", ErrHandshake, err)
}
