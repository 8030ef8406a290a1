package noise

import (
	"crypto/ed25519"
	"crypto/sha512"
	"errors"

	"filippo.io/edwards25519"
)

// ErrBadPoint is returned when a remote public key is not a usable Ed25519
// point: not a canonical encoding, not on the curve, of small order, outside
// the prime-order subgroup, or giving the identity. libsodium's
// crypto_scalarmult_ed25519_noclamp refuses the same points.
var ErrBadPoint = errors.New("noise: invalid Ed25519 public key")

// minusOne is L-1 as a scalar; (L-1)·P = -P exactly when P has no torsion
// component, which is how we check that P is in the prime-order subgroup.
var minusOne = edwards25519.NewScalar().Subtract(edwards25519.NewScalar(), scalarOne())

func scalarOne() *edwards25519.Scalar {
	var b [32]byte
	b[0] = 1
	s, err := edwards25519.NewScalar().SetCanonicalBytes(b[:])
	if err != nil {
		panic(err) // unreachable
	}
	return s
}

// dh is the Diffie-Hellman function of noise-curve-ed 2.1.0: the local
// scalar is the clamped first half of SHA-512(seed), as Ed25519 derives it,
// and the result is the compressed point scalar·remote.
func dh(local ed25519.PrivateKey, remote []byte) ([32]byte, error) {
	var out [32]byte
	if len(remote) != 32 || len(local) != ed25519.PrivateKeySize {
		return out, ErrBadPoint
	}
	p, err := new(edwards25519.Point).SetBytes(remote)
	if err != nil {
		return out, ErrBadPoint
	}
	// SetBytes accepts non-canonical encodings; libsodium does not.
	if string(p.Bytes()) != string(remote) {
		return out, ErrBadPoint
	}
	id := edwards25519.NewIdentityPoint()
	if new(edwards25519.Point).MultByCofactor(p).Equal(id) == 1 {
		return out, ErrBadPoint
	}
	neg := new(edwards25519.Point).Negate(p)
	if new(edwards25519.Point).ScalarMult(minusOne, p).Equal(neg) != 1 {
		return out, ErrBadPoint
	}
	h := sha512.Sum512(local.Seed())
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic(err) // unreachable: the input is 32 bytes
	}
	q := new(edwards25519.Point).ScalarMult(s, p)
	if q.Equal(id) == 1 {
		return out, ErrBadPoint
	}
	copy(out[:], q.Bytes())
	return out, nil
}
