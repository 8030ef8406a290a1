// Package noise is the Noise handshake of the Holepunch stack, as
// noise-handshake 4.2.0 runs it with the noise-curve-ed 2.1.0 curve:
// Noise_XX_Ed25519_ChaChaPoly_BLAKE2b and Noise_IK_Ed25519_ChaChaPoly_BLAKE2b.
//
// The "Ed25519" DH is not X25519: key pairs are Ed25519 signing key pairs
// (so static keys double as the peers' identities), public keys on the
// wire are compressed Edwards points, and DH multiplies the remote point by
// the local key's clamped SHA-512(seed) scalar. BLAKE2b is BLAKE2b-512, so
// the handshake hash is 64 bytes; HKDF runs over HMAC-BLAKE2b-512.
//
// secretstream runs XX over a byte stream; hyperdht runs IK over the DHT
// with NS_PEER_HANDSHAKE as the prologue and hands the result to
// secretstream. A [HandshakeState] is one side of one handshake; it is not
// safe for concurrent use.
package noise

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
)

// Pattern is a Noise handshake pattern.
type Pattern uint8

// The patterns the Holepunch stack uses.
const (
	// XX: both static keys are sent during the handshake (3 messages).
	XX Pattern = iota + 1
	// IK: the initiator knows the responder's static key (2 messages).
	IK
)

func (p Pattern) String() string {
	switch p {
	case XX:
		return "XX"
	case IK:
		return "IK"
	}
	return fmt.Sprintf("Pattern(%d)", uint8(p))
}

type token uint8

const (
	tokE token = iota
	tokS
	tokEE
	tokES
	tokSE
	tokSS
)

// messages lists each pattern's tokens, message by message; the initiator
// sends the even-numbered ones.
var messages = map[Pattern][][]token{
	XX: {{tokE}, {tokE, tokEE, tokS, tokES}, {tokS, tokSE}},
	IK: {{tokE, tokES, tokS, tokSS}, {tokE, tokEE, tokSE}},
}

var (
	// ErrShortMessage is returned for a handshake message too short for
	// its tokens.
	ErrShortMessage = errors.New("noise: handshake message too short")
	// ErrOutOfTurn is returned when WriteMessage or ReadMessage is called
	// when it is the other side's turn, after the handshake is complete,
	// or after an earlier error.
	ErrOutOfTurn = errors.New("noise: handshake message out of turn")
	// ErrIncomplete is returned by Result before the handshake is done.
	ErrIncomplete = errors.New("noise: handshake not complete")
)

// Config sets up one side of a handshake.
type Config struct {
	// Pattern is XX or IK.
	Pattern Pattern
	// Initiator is true on the side that sends the first message.
	Initiator bool
	// Prologue is mixed into the handshake hash first. secretstream uses
	// an empty prologue; hyperdht uses NS_PEER_HANDSHAKE.
	Prologue []byte
	// StaticKey is the local static key pair. Required.
	StaticKey ed25519.PrivateKey
	// RemoteStaticKey is the responder's static public key, which an IK
	// initiator must know. Unused otherwise.
	RemoteStaticKey []byte
	// EphemeralKey pins the ephemeral key pair, which is otherwise fresh
	// from crypto/rand. Only for reproducing test vectors: reusing an
	// ephemeral key breaks the handshake's security.
	EphemeralKey ed25519.PrivateKey
}

// Result is what a completed handshake gives.
type Result struct {
	// Tx is the key for what this side sends, Rx for what it receives.
	Tx, Rx [32]byte
	// Hash is the handshake hash, which both sides share and which
	// protocols above bind to (hypercore capabilities, stream ids).
	Hash [64]byte
	// RemoteStaticKey is the peer's static public key.
	RemoteStaticKey [32]byte
}

// HandshakeState is one side of a Noise handshake in progress.
type HandshakeState struct {
	ss        symmetricState
	initiator bool
	msgs      [][]token
	next      int // index of the next message in msgs
	failed    bool

	s, e   ed25519.PrivateKey
	rs, re []byte
	hasRS  bool
	result Result
	done   bool
}

// New starts a handshake: it initialises the symmetric state with the
// protocol name, mixes in the prologue and, for IK, the responder's static
// key.
func New(cfg *Config) (*HandshakeState, error) {
	msgs, ok := messages[cfg.Pattern]
	if !ok {
		return nil, fmt.Errorf("noise: unsupported pattern %v", cfg.Pattern)
	}
	if len(cfg.StaticKey) != ed25519.PrivateKeySize {
		return nil, errors.New("noise: StaticKey must be a 64-byte Ed25519 private key")
	}
	if cfg.EphemeralKey != nil && len(cfg.EphemeralKey) != ed25519.PrivateKeySize {
		return nil, errors.New("noise: EphemeralKey must be a 64-byte Ed25519 private key")
	}
	hs := &HandshakeState{
		initiator: cfg.Initiator,
		msgs:      msgs,
		s:         cfg.StaticKey,
		e:         cfg.EphemeralKey,
	}
	hs.ss.init("Noise_" + cfg.Pattern.String() + "_Ed25519_ChaChaPoly_BLAKE2b")
	hs.ss.mixHash(cfg.Prologue)
	if cfg.Pattern == IK {
		// Pre-message: the responder's static key.
		if cfg.Initiator {
			if len(cfg.RemoteStaticKey) != ed25519.PublicKeySize {
				return nil, errors.New("noise: IK initiator needs the 32-byte RemoteStaticKey")
			}
			hs.rs = append([]byte(nil), cfg.RemoteStaticKey...)
			hs.hasRS = true
			hs.ss.mixHash(hs.rs)
		} else {
			hs.ss.mixHash(hs.localPublic())
		}
	}
	return hs, nil
}

func (hs *HandshakeState) localPublic() []byte {
	return hs.s[32:]
}

// myTurn reports whether the next message is this side's to write.
func (hs *HandshakeState) myTurn() bool {
	return (hs.next%2 == 0) == hs.initiator
}

// MessageIndex returns the index of the next handshake message, counting
// from 0. The initiator writes the even-numbered messages, the responder
// the odd ones.
func (hs *HandshakeState) MessageIndex() int { return hs.next }

// Complete reports whether the handshake is done.
func (hs *HandshakeState) Complete() bool { return hs.done }

// RemoteStaticKey returns the peer's static public key once it is known:
// for an IK initiator from the start, otherwise once the message carrying
// it has been read.
func (hs *HandshakeState) RemoteStaticKey() (key [32]byte, ok bool) {
	if !hs.hasRS {
		return key, false
	}
	copy(key[:], hs.rs)
	return key, true
}

// Result returns the transport keys and the handshake hash of a complete
// handshake.
func (hs *HandshakeState) Result() (Result, error) {
	if !hs.done {
		return Result{}, ErrIncomplete
	}
	return hs.result, nil
}

// dhTokens maps a DH token to (local key, remote key) for this side.
func (hs *HandshakeState) dhKeys(t token) (ed25519.PrivateKey, []byte) {
	switch t {
	case tokEE:
		return hs.e, hs.re
	case tokES: // initiator's e with responder's s
		if hs.initiator {
			return hs.e, hs.rs
		}
		return hs.s, hs.re
	case tokSE: // initiator's s with responder's e
		if hs.initiator {
			return hs.s, hs.re
		}
		return hs.e, hs.rs
	default: // tokSS
		return hs.s, hs.rs
	}
}

func (hs *HandshakeState) mixDH(t token) error {
	local, remote := hs.dhKeys(t)
	shared, err := dh(local, remote)
	if err != nil {
		return err
	}
	hs.ss.mixKey(shared[:])
	return nil
}

// WriteMessage appends the next handshake message, carrying payload, to
// dst and returns it. It fails if it is the peer's turn.
func (hs *HandshakeState) WriteMessage(dst, payload []byte) ([]byte, error) {
	if hs.failed || hs.done || !hs.myTurn() {
		return dst, ErrOutOfTurn
	}
	out, err := hs.writeMessage(dst, payload)
	if err != nil {
		hs.failed = true
		return dst, err
	}
	return out, nil
}

func (hs *HandshakeState) writeMessage(dst, payload []byte) ([]byte, error) {
	var err error
	for _, t := range hs.msgs[hs.next] {
		switch t {
		case tokE:
			if hs.e == nil {
				if _, hs.e, err = ed25519.GenerateKey(rand.Reader); err != nil {
					return dst, err
				}
			}
			pub := hs.e[32:]
			hs.ss.mixHash(pub)
			dst = append(dst, pub...)
		case tokS:
			if dst, err = hs.ss.encryptAndHash(dst, hs.localPublic()); err != nil {
				return dst, err
			}
		default:
			if err := hs.mixDH(t); err != nil {
				return dst, err
			}
		}
	}
	if dst, err = hs.ss.encryptAndHash(dst, payload); err != nil {
		return dst, err
	}
	hs.advance()
	return dst, nil
}

// ReadMessage reads the peer's next handshake message, appends its payload
// to dst and returns it. Any error is final: the handshake has failed.
func (hs *HandshakeState) ReadMessage(dst, msg []byte) ([]byte, error) {
	if hs.failed || hs.done || hs.myTurn() {
		return dst, ErrOutOfTurn
	}
	out, err := hs.readMessage(dst, msg)
	if err != nil {
		hs.failed = true
		return dst, err
	}
	return out, nil
}

func (hs *HandshakeState) readMessage(dst, msg []byte) ([]byte, error) {
	for _, t := range hs.msgs[hs.next] {
		switch t {
		case tokE:
			if len(msg) < 32 {
				return dst, ErrShortMessage
			}
			hs.re = append([]byte(nil), msg[:32]...)
			msg = msg[32:]
			hs.ss.mixHash(hs.re)
		case tokS:
			n := 32
			if hs.ss.hasKey {
				n += 16
			}
			if len(msg) < n {
				return dst, ErrShortMessage
			}
			rs, err := hs.ss.decryptAndHash(nil, msg[:n])
			if err != nil {
				return dst, err
			}
			msg = msg[n:]
			hs.rs = rs
			hs.hasRS = true
		default:
			if err := hs.mixDH(t); err != nil {
				return dst, err
			}
		}
	}
	dst, err := hs.ss.decryptAndHash(dst, msg)
	if err != nil {
		return dst, err
	}
	hs.advance()
	return dst, nil
}

func (hs *HandshakeState) advance() {
	hs.next++
	if hs.next < len(hs.msgs) {
		return
	}
	k1, k2 := hs.ss.split()
	r := &hs.result
	if hs.initiator {
		r.Tx, r.Rx = k1, k2
	} else {
		r.Tx, r.Rx = k2, k1
	}
	r.Hash = hs.ss.h
	copy(r.RemoteStaticKey[:], hs.rs)
	hs.done = true
	// Forget what is no longer needed, as noise-handshake does.
	hs.ss = symmetricState{}
	hs.e, hs.re = nil, nil
}
