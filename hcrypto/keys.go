package hcrypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/gopear/gopear/z32"
)

// Sizes of keys and signatures, as libsodium's crypto_sign_* constants.
const (
	PublicKeySize = ed25519.PublicKeySize  // 32
	SecretKeySize = ed25519.PrivateKeySize // 64: seed ‖ public key
	SeedSize      = ed25519.SeedSize       // 32
	SignatureSize = ed25519.SignatureSize  // 64
)

// PublicKey is an Ed25519 public key. It prints, and marshals as text, in
// z-base-32 (52 characters), as Pear does; parsing accepts z-base-32, hex
// or a pear:// link (see [z32.Decode]).
type PublicKey [PublicKeySize]byte

// String returns the z-base-32 form of k.
func (k PublicKey) String() string { return z32.Encode(k) }

// MarshalText returns the z-base-32 form of k.
func (k PublicKey) MarshalText() ([]byte, error) { return []byte(z32.Encode(k)), nil }

// UnmarshalText parses a key in any form [z32.Decode] accepts.
func (k *PublicKey) UnmarshalText(text []byte) error {
	key, err := z32.Decode(string(text))
	if err != nil {
		return err
	}
	*k = key
	return nil
}

// Verify reports whether sig is a valid signature of message by k; see
// the package function [Verify].
func (k PublicKey) Verify(message, sig []byte) bool { return Verify(k[:], message, sig) }

// ParsePublicKey parses a public key in any form [z32.Decode] accepts.
func ParsePublicKey(s string) (PublicKey, error) {
	key, err := z32.Decode(s)
	return PublicKey(key), err
}

// SecretKey is an Ed25519 secret key in libsodium's layout, which is also
// crypto/ed25519's: the 32-byte seed followed by the public key. Its
// String method does not print the key.
type SecretKey [SecretKeySize]byte

// Seed returns the seed the key was made from.
func (sk SecretKey) Seed() [SeedSize]byte { return [SeedSize]byte(sk[:SeedSize]) }

// PublicKey returns the public half stored in sk. Use [KeyPair.Validate]
// to check that it belongs to the seed.
func (sk SecretKey) PublicKey() PublicKey { return PublicKey(sk[SeedSize:]) }

// String returns a placeholder, so that a secret key never ends up in a
// log by accident.
func (sk SecretKey) String() string { return "hcrypto.SecretKey(redacted)" }

// GoString is like String, for %#v.
func (sk SecretKey) GoString() string { return sk.String() }

// KeyPair is an Ed25519 key pair (hypercore-crypto keyPair).
type KeyPair struct {
	PublicKey PublicKey
	SecretKey SecretKey
}

// ErrRandomSource is wrapped by the errors [GenerateKeyPair] and
// [GenerateEncryptionKeyPair] return when their
// random source fails.
var ErrRandomSource = errors.New("hcrypto: reading randomness failed")

// GenerateKeyPair makes a key pair from 32 bytes of the random source r,
// or of crypto/rand when r is nil (libsodium crypto_sign_keypair).
func GenerateKeyPair(r io.Reader) (KeyPair, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return KeyPair{}, fmt.Errorf("%w: %w", ErrRandomSource, err)
	}
	return KeyPairFromSeed(seed), nil
}

// KeyPairFromSeed derives the key pair of a 32-byte seed
// (hypercore-crypto keyPair(seed), libsodium crypto_sign_seed_keypair).
func KeyPairFromSeed(seed [SeedSize]byte) KeyPair {
	var kp KeyPair
	copy(kp.SecretKey[:], ed25519.NewKeyFromSeed(seed[:]))
	copy(kp.PublicKey[:], kp.SecretKey[SeedSize:])
	return kp
}

// Validate reports whether kp.PublicKey is the public key of
// kp.SecretKey's seed (hypercore-crypto validateKeyPair).
func (kp *KeyPair) Validate() bool {
	want := KeyPairFromSeed(kp.SecretKey.Seed())
	return subtle.ConstantTimeCompare(want.PublicKey[:], kp.PublicKey[:]) == 1
}

// Sign returns the detached Ed25519 signature of message by the key pair's
// secret key; it equals Sign(kp.SecretKey, message). Prefer it for a key pair
// that signs again and again (a core's writer): crypto/ed25519 keeps the
// expanded form of a private key by its address, and a key pair that stays
// in one place keeps that address, where Sign's by-value key is a new copy
// every call and is expanded again.
func (kp *KeyPair) Sign(message []byte) [SignatureSize]byte {
	return [SignatureSize]byte(ed25519.Sign(kp.SecretKey[:], message))
}

// Sign returns the detached Ed25519 signature of message by sk
// (hypercore-crypto sign, libsodium crypto_sign_detached). Signing is
// deterministic: JS and Go sign a message to the same bytes.
func Sign(sk SecretKey, message []byte) [SignatureSize]byte {
	return [SignatureSize]byte(ed25519.Sign(sk[:], message))
}

// RandomBytes returns n bytes from the operating system's CSPRNG
// (hypercore-crypto randomBytes).
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand.Read crashes the program instead
	return b
}
