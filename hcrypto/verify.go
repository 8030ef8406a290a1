package hcrypto

import (
	"crypto/ed25519"
	"slices"
	"sync"

	"filippo.io/edwards25519"
)

// Verify reports whether sig is a valid detached Ed25519 signature of
// message by publicKey, refusing exactly what libsodium's
// crypto_sign_verify_detached refuses (hypercore-crypto verify). It returns
// false, and never panics, for any input, including a public key that is
// not 32 bytes or a signature that is not 64.
//
// crypto/ed25519 alone accepts more than libsodium. Verify first applies
// libsodium's extra checks (crypto_sign/ed25519/ref10/open.c) and then
// calls [ed25519.Verify], which is cofactorless and compares the encoding
// of R, as libsodium does:
//
//   - S (the second half of sig) must be canonical, below the group order;
//   - R (the first half) must not encode a point of small order;
//   - the public key must be canonical (y below 2^255-19) and must not
//     encode a point of small order.
//
// A key with a small-order component but not of small order itself (a
// "mixed-order" key) is accepted by both.
func Verify(publicKey, message, sig []byte) bool {
	if len(publicKey) != PublicKeySize || len(sig) != SignatureSize {
		return false
	}
	if hasSmallOrder(sig[:32]) {
		return false
	}
	if !isCanonicalPoint(publicKey) || hasSmallOrder(publicKey) {
		return false
	}
	// ed25519.Verify refuses a non-canonical S itself, as libsodium's
	// sc25519_is_canonical does.
	return ed25519.Verify(publicKey, message, sig)
}

// fieldPrime is 2^255-19 in little-endian bytes.
var fieldPrime = [32]byte{
	0: 0xed, 31: 0x7f,
	1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff,
	9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff, 16: 0xff,
	17: 0xff, 18: 0xff, 19: 0xff, 20: 0xff, 21: 0xff, 22: 0xff, 23: 0xff, 24: 0xff,
	25: 0xff, 26: 0xff, 27: 0xff, 28: 0xff, 29: 0xff, 30: 0xff,
}

// isCanonicalPoint reports whether the y coordinate of the point encoding
// b (its low 255 bits) is below the field prime, as libsodium's
// ge25519_is_canonical does. The sign bit is not looked at.
func isCanonicalPoint(b []byte) bool {
	for i := 31; i >= 0; i-- {
		v := b[i]
		if i == 31 {
			v &= 0x7f
		}
		if v != fieldPrime[i] {
			return v < fieldPrime[i]
		}
	}
	return false // equal to p
}

// hasSmallOrder reports whether the 32-byte point encoding b names a point
// of small order (1, 2, 4 or 8), ignoring the sign bit, as libsodium's
// ge25519_has_small_order does: y (the low 255 bits) is one of the five y
// coordinates of the torsion points, or y-p is (y = p and y = p+1 are the
// non-canonical encodings of 0 and 1).
func hasSmallOrder(b []byte) bool {
	var y [32]byte
	copy(y[:], b)
	y[31] &= 0x7f
	if !isCanonicalPoint(y[:]) {
		// y ≥ p; y-p = y[0]-0xed, and only 0 and 1 can be small-order y.
		y = [32]byte{y[0] - 0xed}
	}
	for _, t := range torsionY() {
		if y == t {
			return true
		}
	}
	return false
}

// torsionY returns the distinct encodings, with the sign bit clear, of the
// y coordinates of the eight points of small order. It derives them rather
// than listing them: for a point P with a component of order 8, [L]P
// generates the torsion subgroup (L is the prime group order).
var torsionY = sync.OnceValue(func() [][32]byte {
	one, _ := edwards25519.NewScalar().SetCanonicalBytes([]byte{31: 0, 0: 1})
	lMinus1 := edwards25519.NewScalar().Negate(one)
	identity := edwards25519.NewIdentityPoint()
	var gen *edwards25519.Point
	for y := byte(2); gen == nil; y++ {
		p, err := new(edwards25519.Point).SetBytes([]byte{31: 0, 0: y})
		if err != nil {
			continue
		}
		t := new(edwards25519.Point).ScalarMult(lMinus1, p)
		t.Add(t, p) // [L]P, in the torsion subgroup
		t4 := new(edwards25519.Point).Add(t, t)
		t4.Add(t4, t4)
		if t4.Equal(identity) == 0 { // order 8
			gen = t
		}
	}
	var ys [][32]byte
	p := edwards25519.NewIdentityPoint()
	for range 8 {
		y := [32]byte(p.Bytes())
		y[31] &= 0x7f
		if !slices.Contains(ys, y) {
			ys = append(ys, y)
		}
		p.Add(p, gen)
	}
	if len(ys) != 5 {
		panic("hcrypto: torsion subgroup has the wrong shape")
	}
	return ys
})
