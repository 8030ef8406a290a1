package hcrypto

import (
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// SealOverhead is how many bytes [Encrypt] adds to a message: an ephemeral
// public key and a Poly1305 tag (libsodium crypto_box_SEALBYTES).
const SealOverhead = box.AnonymousOverhead

// EncryptionKeyPair is an X25519 key pair for sealed boxes
// (hypercore-crypto encryptionKeyPair). The hypercore protocols do not use
// it.
type EncryptionKeyPair struct {
	PublicKey [32]byte
	SecretKey [32]byte
}

// String returns the public key in hex; the secret key is not printed.
func (kp EncryptionKeyPair) String() string {
	return fmt.Sprintf("hcrypto.EncryptionKeyPair{PublicKey: %x}", kp.PublicKey)
}

// GoString is like String, for %#v.
func (kp EncryptionKeyPair) GoString() string { return kp.String() }

// EncryptionKeyPairFromSeed derives an encryption key pair from a seed as
// libsodium's crypto_box_seed_keypair does: the secret key is the first
// half of SHA-512(seed).
func EncryptionKeyPairFromSeed(seed [32]byte) EncryptionKeyPair {
	h := sha512.Sum512(seed[:])
	var kp EncryptionKeyPair
	copy(kp.SecretKey[:], h[:32])
	pk, err := curve25519.X25519(kp.SecretKey[:], curve25519.Basepoint)
	if err != nil {
		panic(err) // unreachable: the base point has large order
	}
	copy(kp.PublicKey[:], pk)
	return kp
}

// GenerateEncryptionKeyPair makes an encryption key pair whose secret key
// is 32 bytes of r, or of crypto/rand when r is nil (libsodium
// crypto_box_keypair).
func GenerateEncryptionKeyPair(r io.Reader) (EncryptionKeyPair, error) {
	if r == nil {
		r = rand.Reader
	}
	var kp EncryptionKeyPair
	if _, err := io.ReadFull(r, kp.SecretKey[:]); err != nil {
		return EncryptionKeyPair{}, fmt.Errorf("%w: %w", ErrRandomSource, err)
	}
	pk, err := curve25519.X25519(kp.SecretKey[:], curve25519.Basepoint)
	if err != nil {
		panic(err) // unreachable: the base point has large order
	}
	copy(kp.PublicKey[:], pk)
	return kp, nil
}

// ErrLowOrderKey is returned by [Encrypt] for a public key of small order,
// with which the shared secret would be zero.
var ErrLowOrderKey = errors.New("hcrypto: public key has small order")

// Encrypt seals message for the holder of publicKey, anonymously
// (hypercore-crypto encrypt, libsodium crypto_box_seal): the result is an
// ephemeral public key followed by the XSalsa20-Poly1305 box, [SealOverhead]
// bytes longer than message. Like libsodium it refuses a publicKey of
// small order, returning [ErrLowOrderKey].
func Encrypt(message []byte, publicKey [32]byte) ([]byte, error) {
	if lowOrder(publicKey) {
		return nil, ErrLowOrderKey
	}
	return box.SealAnonymous(nil, message, &publicKey, rand.Reader)
}

// Decrypt opens a box that [Encrypt] (or JS encrypt) sealed for kp, and
// reports whether it could (hypercore-crypto decrypt, libsodium
// crypto_box_seal_open). Like libsodium, and unlike nacl/box alone, it
// refuses a box whose ephemeral key has small order: its shared secret is
// zero, so anyone could have made it.
func Decrypt(ciphertext []byte, kp EncryptionKeyPair) ([]byte, bool) {
	if len(ciphertext) < SealOverhead {
		return nil, false
	}
	if lowOrder([32]byte(ciphertext[:32])) {
		return nil, false
	}
	return box.OpenAnonymous(nil, ciphertext, &kp.PublicKey, &kp.SecretKey)
}

// lowOrder reports whether X25519 with the point u gives the all-zero
// shared secret, which libsodium's crypto_scalarmult_curve25519 refuses.
// X25519 clamps every scalar to a multiple of the cofactor, so the answer
// is the same for every scalar: exactly the points of small order (on the
// curve or its twist) give zero.
func lowOrder(u [32]byte) bool {
	var probe [32]byte
	probe[0] = 1
	_, err := curve25519.X25519(probe[:], u[:])
	return err != nil
}
