// Package sodiumstream implements libsodium's
// crypto_secretstream_xchacha20poly1305 (as bundled with sodium-native, the
// libsodium under sodium-universal 5 and sodium-secretstream 1.2.0) on
// golang.org/x/crypto primitives.
//
// One message is sealed as follows (libsodium crypto_secretstream.c):
//
//	state      = key k (32) ‖ nonce (12) = counter (u32 LE, starts at 1) ‖ inonce (8)
//	init       k = HChaCha20(key, header[0:16]), inonce = header[16:24]
//	block 0    of ChaCha20-IETF(k, nonce) is the Poly1305 key
//	block 1    is XORed over a 64-byte block holding the tag byte and 63 zeros
//	block 2..  encrypt the message
//	MAC        Poly1305(ad ‖ pad16(ad) ‖ block1 ‖ c ‖ zeros(mlen mod 16) ‖
//	           u64 LE adlen ‖ u64 LE (64+mlen))
//	output     encrypted tag (1) ‖ c ‖ MAC (16)
//	then       inonce ^= MAC[0:8], counter++, rekey if counter wrapped or tag has REKEY
//
// Note the padding after c: libsodium computes it as (16 - 64 + mlen) & 15,
// which is mlen mod 16 zero bytes, not the (16 - mlen) mod 16 of the
// ChaCha20-Poly1305 AEAD. So the MAC is not the AEAD's, but the encryption
// is: blocks 1, 2, ... XORed over (tag ‖ 63 zeros ‖ m) is exactly the
// AEAD's encryption of that plaintext. This package uses x/crypto's
// chacha20poly1305 Seal (assembly on amd64 and arm64) as the ChaCha20
// keystream and computes the MAC with x/crypto's poly1305, working in place
// in buffers laid out by the caller so the hot path allocates nothing.
//
// When mlen mod 16 is 0 or 8 the two paddings agree, the AEAD's MAC is
// libsodium's, and one AEAD Seal or Open does the whole message in a single
// fused pass; bulk transfers in power-of-two chunks take this path.
package sodiumstream

import (
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/poly1305"
)

const (
	// KeySize is the size of a stream key.
	KeySize = 32
	// HeaderSize is the size of the header the pushing side sends first.
	HeaderSize = 24
	// Overhead is what a message grows by: one tag byte and a 16-byte MAC.
	Overhead = 17
	// Headroom is the scratch space the in-place functions need in front
	// of a message (see [Push.SealInPlace], [Pull.OpenInPlace]).
	Headroom = 64
	// MacSize is the size of the Poly1305 MAC at the end of a message.
	MacSize = 16
)

// Message tags (libsodium crypto_secretstream_xchacha20poly1305_TAG_*).
const (
	TagMessage byte = 0
	TagPush    byte = 1
	TagRekey   byte = 2
	TagFinal   byte = TagPush | TagRekey
)

// ErrAuth is returned when a message does not authenticate under the
// current state: forged, corrupted, replayed, reordered or truncated.
var ErrAuth = errors.New("sodiumstream: message authentication failed")

// errShort is returned for an input shorter than Overhead.
var errShort = errors.New("sodiumstream: message shorter than 17 bytes")

// state is the shared part of the pushing and pulling sides.
type state struct {
	key   [KeySize]byte
	nonce [chacha20poly1305.NonceSize]byte // counter (4, LE) ‖ inonce (8)
	aead  cipher.AEAD
}

func (s *state) init(key *[KeySize]byte, header *[HeaderSize]byte) {
	sub, err := chacha20.HChaCha20(key[:], header[:16])
	if err != nil {
		panic(err) // unreachable: sizes are fixed
	}
	copy(s.key[:], sub)
	copy(s.nonce[4:], header[16:24])
	s.resetCounter()
	s.setAEAD()
}

func (s *state) setAEAD() {
	a, err := chacha20poly1305.New(s.key[:])
	if err != nil {
		panic(err) // unreachable: the key is 32 bytes
	}
	s.aead = a
}

// keystream writes the first 32 bytes of ChaCha20 block 0 (the Poly1305
// key) to polyKey, and, if blk1 is not nil, the 64 bytes of block 1 to it.
func (s *state) keystream(polyKey, blk1 []byte) {
	var ks [128]byte
	n := 64
	if blk1 != nil {
		n = 128
	}
	c, err := chacha20.NewUnauthenticatedCipher(s.key[:], s.nonce[:])
	if err != nil {
		panic(err) // unreachable: sizes are fixed
	}
	c.XORKeyStream(ks[:n], ks[:n])
	copy(polyKey, ks[:32])
	if blk1 != nil {
		copy(blk1, ks[64:128])
	}
}

// aeadCompatible reports whether a ciphertext of n bytes (block 1 and c)
// gets the same zero padding from libsodium (mlen mod 16) as from the AEAD
// ((16 - mlen) mod 16), so that the two MACs are the same.
func aeadCompatible(n int) bool {
	return (n-Headroom)&7 == 0
}

// sum writes libsodium's secretstream MAC of ct (block 1 and c, no
// additional data) to out.
func sum(out []byte, key *[32]byte, ct []byte) {
	var tail [16 + 16]byte // zeros(mlen mod 16) ‖ u64 LE 0 ‖ u64 LE len(ct)
	pad := (len(ct) - Headroom) & 15
	binary.LittleEndian.PutUint64(tail[pad+8:], uint64(len(ct)))
	h := poly1305.New(key)
	h.Write(ct)
	h.Write(tail[:pad+16])
	h.Sum(out[:0])
}

func (s *state) resetCounter() {
	binary.LittleEndian.PutUint32(s.nonce[:4], 1)
}

// advance updates the state after a message with the given tag and MAC, as
// libsodium does after push and pull.
func (s *state) advance(tag byte, mac []byte) {
	subtle.XORBytes(s.nonce[4:], s.nonce[4:], mac[:8])
	c := binary.LittleEndian.Uint32(s.nonce[:4]) + 1
	binary.LittleEndian.PutUint32(s.nonce[:4], c)
	if tag&TagRekey != 0 || c == 0 {
		s.rekey()
	}
}

// rekey replaces the key and inonce by the ChaCha20-IETF encryption of
// themselves under the current state, and resets the counter
// (crypto_secretstream_xchacha20poly1305_rekey).
func (s *state) rekey() {
	var buf [KeySize + 8]byte
	copy(buf[:KeySize], s.key[:])
	copy(buf[KeySize:], s.nonce[4:])
	c, err := chacha20.NewUnauthenticatedCipher(s.key[:], s.nonce[:])
	if err != nil {
		panic(err) // unreachable: sizes are fixed
	}
	c.XORKeyStream(buf[:], buf[:])
	copy(s.key[:], buf[:KeySize])
	copy(s.nonce[4:], buf[KeySize:])
	s.resetCounter()
	s.setAEAD()
}

// Push is the sending side of a stream. It is not safe for concurrent use.
type Push struct{ state }

// NewPush starts a stream under key with the given header, which the caller
// draws at random (libsodium's init_push draws it itself) and sends to the
// pulling side first.
func NewPush(key *[KeySize]byte, header *[HeaderSize]byte) *Push {
	p := new(Push)
	p.init(key, header)
	return p
}

// Rekey forces a rekey (crypto_secretstream_xchacha20poly1305_rekey).
func (p *Push) Rekey() { p.rekey() }

// SealInPlace encrypts the message held in buf[Headroom:len(buf)-MacSize]
// with tag. buf[:Headroom] is scratch and the last MacSize bytes are room
// for the MAC; their contents are ignored. On return buf[Headroom-1:] holds
// the Overhead+len(message) bytes of ciphertext, and buf[:Headroom-1] is
// free for the caller (a frame header, for example). It panics if buf is
// shorter than Headroom+MacSize.
func (p *Push) SealInPlace(buf []byte, tag byte) {
	if len(buf) < Headroom+MacSize {
		panic("sodiumstream: SealInPlace buffer too short")
	}
	pt := buf[:len(buf)-MacSize]
	pt[0] = tag
	clear(pt[1:Headroom])
	mac := buf[len(buf)-MacSize:]
	if aeadCompatible(len(pt)) {
		p.aead.Seal(pt[:0], p.nonce[:], pt, nil)
	} else {
		var polyKey [32]byte
		p.keystream(polyKey[:], nil)
		// Seal's MAC, written to the tail, is overwritten by the real one.
		p.aead.Seal(pt[:0], p.nonce[:], pt, nil)
		sum(mac, &polyKey, pt)
	}
	buf[Headroom-1] = buf[0] // the encrypted tag sits right before c
	p.advance(tag, mac)
}

// Push appends the ciphertext of m with tag to dst and returns the result
// (crypto_secretstream_xchacha20poly1305_push with no additional data).
func (p *Push) Push(dst, m []byte, tag byte) []byte {
	buf := make([]byte, Headroom+len(m)+MacSize)
	copy(buf[Headroom:], m)
	p.SealInPlace(buf, tag)
	return append(dst, buf[Headroom-1:]...)
}

// Pull is the receiving side of a stream. It is not safe for concurrent use.
type Pull struct{ state }

// NewPull starts the receiving side of a stream under key with the header
// the pushing side sent (crypto_secretstream_xchacha20poly1305_init_pull).
func NewPull(key *[KeySize]byte, header *[HeaderSize]byte) *Pull {
	p := new(Pull)
	p.init(key, header)
	return p
}

// Rekey forces a rekey (crypto_secretstream_xchacha20poly1305_rekey).
func (p *Pull) Rekey() { p.rekey() }

// OpenInPlace decrypts the ciphertext held in buf[Headroom-1:]; buf[:Headroom-1]
// is scratch and is overwritten. It returns the message, which is
// buf[Headroom:len(buf)-MacSize], and its tag. A message that does not
// authenticate leaves the state unchanged and returns ErrAuth.
func (p *Pull) OpenInPlace(buf []byte) (msg []byte, tag byte, err error) {
	if len(buf) < Headroom-1+Overhead {
		return nil, 0, errShort
	}
	// Rebuild block 1 as it was MACed: the encrypted tag followed by the
	// 63 keystream bytes that encrypted the zeros.
	var polyKey [32]byte
	encTag := buf[Headroom-1]
	blk := buf[:Headroom]
	p.keystream(polyKey[:], blk)
	blk[0] = encTag
	ct := buf[:len(buf)-MacSize]
	var mac, want [MacSize]byte
	copy(mac[:], buf[len(buf)-MacSize:])
	if aeadCompatible(len(ct)) {
		if _, err := p.aead.Open(buf[:0], p.nonce[:], buf, nil); err != nil {
			// Open wiped the output; the state is unchanged.
			return nil, 0, ErrAuth
		}
		tag = buf[0]
		p.advance(tag, mac[:])
		return buf[Headroom : len(buf)-MacSize], tag, nil
	}
	sum(want[:], &polyKey, ct)
	if subtle.ConstantTimeCompare(mac[:], want[:]) != 1 {
		return nil, 0, ErrAuth
	}
	// ChaCha20 is its own inverse: Seal decrypts (its MAC lands on the
	// tail, which is not part of the message).
	p.aead.Seal(ct[:0], p.nonce[:], ct, nil)
	tag = buf[0]
	p.advance(tag, mac[:])
	return buf[Headroom : len(buf)-MacSize], tag, nil
}

// Pull decrypts the ciphertext c, appends the message to dst and returns
// it with its tag (crypto_secretstream_xchacha20poly1305_pull with no
// additional data).
func (p *Pull) Pull(dst, c []byte) ([]byte, byte, error) {
	if len(c) < Overhead {
		return dst, 0, errShort
	}
	buf := make([]byte, Headroom-1+len(c))
	copy(buf[Headroom-1:], c)
	m, tag, err := p.OpenInPlace(buf)
	if err != nil {
		return dst, 0, err
	}
	return append(dst, m...), tag, nil
}
