package noise

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"hash"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

// hashLen is BLAKE2b-512's output size: h, ck and the handshake hash.
const hashLen = 64

// MaxMessageSize is the largest ciphertext one token or payload may have
// (noise-handshake refuses more).
const MaxMessageSize = 65535

var (
	// ErrDecrypt is returned when an encrypted part of a handshake message
	// does not authenticate.
	ErrDecrypt = errors.New("noise: decryption failed")
	// ErrTooLong is returned for a ciphertext over MaxMessageSize bytes.
	ErrTooLong = errors.New("noise: ciphertext over 65535 bytes")
)

func newBlake512() hash.Hash {
	h, err := blake2b.New512(nil)
	if err != nil {
		panic(err) // unreachable: no key
	}
	return h
}

// hkdf2 is HKDF (RFC 5869) over HMAC-BLAKE2b-512 with empty info, giving
// two 64-byte outputs, as noise-handshake's hkdf.js computes it.
func hkdf2(ck, ikm []byte) (t1, t2 [hashLen]byte) {
	m := hmac.New(newBlake512, ck)
	m.Write(ikm)
	prk := m.Sum(nil)

	m = hmac.New(newBlake512, prk)
	m.Write([]byte{1})
	m.Sum(t1[:0])

	m.Reset()
	m.Write(t1[:])
	m.Write([]byte{2})
	m.Sum(t2[:0])
	return t1, t2
}

// symmetricState is the Noise SymmetricState with its CipherState:
// BLAKE2b-512 and ChaCha20-Poly1305 IETF (noise-handshake's
// symmetric-state.js and cipher.js).
type symmetricState struct {
	h      [hashLen]byte
	ck     [hashLen]byte
	hasKey bool
	k      [32]byte
	n      uint64
}

func (s *symmetricState) init(protocol string) {
	if len(protocol) <= hashLen {
		copy(s.h[:], protocol)
	} else {
		s.h = blake2b.Sum512([]byte(protocol))
	}
	s.ck = s.h
}

func (s *symmetricState) mixHash(data []byte) {
	d := newBlake512()
	d.Write(s.h[:])
	d.Write(data)
	d.Sum(s.h[:0])
}

func (s *symmetricState) mixKey(ikm []byte) {
	ck, tk := hkdf2(s.ck[:], ikm)
	s.ck = ck
	copy(s.k[:], tk[:32])
	s.hasKey = true
	s.n = 0
}

func (s *symmetricState) nonce() []byte {
	var nonce [chacha20poly1305.NonceSize]byte
	binary.LittleEndian.PutUint64(nonce[4:], s.n)
	return nonce[:]
}

// encryptAndHash appends the encryption of plaintext (or the plaintext
// itself before any key is set) to dst and mixes it into h.
func (s *symmetricState) encryptAndHash(dst, plaintext []byte) ([]byte, error) {
	start := len(dst)
	if !s.hasKey {
		dst = append(dst, plaintext...)
	} else {
		if len(plaintext)+chacha20poly1305.Overhead > MaxMessageSize {
			return dst[:start], ErrTooLong
		}
		aead, err := chacha20poly1305.New(s.k[:])
		if err != nil {
			panic(err) // unreachable: the key is 32 bytes
		}
		dst = aead.Seal(dst, s.nonce(), plaintext, s.h[:])
		s.n++
	}
	s.mixHash(dst[start:])
	return dst, nil
}

// decryptAndHash appends the decryption of ciphertext to dst and mixes the
// ciphertext into h.
func (s *symmetricState) decryptAndHash(dst, ciphertext []byte) ([]byte, error) {
	if !s.hasKey {
		dst = append(dst, ciphertext...)
	} else {
		if len(ciphertext) > MaxMessageSize {
			return dst, ErrTooLong
		}
		aead, err := chacha20poly1305.New(s.k[:])
		if err != nil {
			panic(err) // unreachable: the key is 32 bytes
		}
		out, err := aead.Open(dst, s.nonce(), ciphertext, s.h[:])
		if err != nil {
			return dst, ErrDecrypt
		}
		dst = out
		s.n++
	}
	s.mixHash(ciphertext)
	return dst, nil
}

// split returns the two transport keys, each the first 32 bytes of an HKDF
// output over an empty input.
func (s *symmetricState) split() (k1, k2 [32]byte) {
	t1, t2 := hkdf2(s.ck[:], nil)
	copy(k1[:], t1[:32])
	copy(k2[:], t2[:32])
	return k1, k2
}
