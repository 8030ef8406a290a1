package hcrypto_test

import (
	"crypto/sha512"
	"math/big"
	"math/rand/v2"

	"filippo.io/edwards25519"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/nacl/box"

	"github.com/gopear/gopear/hcrypto"
)

// smallOrderEncodings returns every 32-byte encoding whose y coordinate
// belongs to a point of small order: the 8 torsion points, with either
// sign bit, and the non-canonical encodings y+p of those whose y is below
// 19 (y = 0 and y = 1). They are derived here, not typed in: [L]P of a
// random point P lies in the torsion subgroup, and one of order 8
// generates it.
func smallOrderEncodings(r *rand.Rand) (points []*edwards25519.Point, encodings [][]byte) {
	one, _ := edwards25519.NewScalar().SetCanonicalBytes(append([]byte{1}, make([]byte, 31)...))
	minusOne := edwards25519.NewScalar().Negate(one) // L-1
	identity := edwards25519.NewIdentityPoint()
	var gen *edwards25519.Point
	for gen == nil {
		p, err := new(edwards25519.Point).SetBytes(randBytes(r, 32))
		if err != nil {
			continue
		}
		t := new(edwards25519.Point).ScalarMult(minusOne, p)
		t.Add(t, p) // [L]P
		t4 := new(edwards25519.Point).Add(t, t)
		t4.Add(t4, t4)
		if t4.Equal(identity) == 0 {
			gen = t
		}
	}
	seen := map[string]bool{}
	add := func(b []byte) {
		if !seen[string(b)] {
			seen[string(b)] = true
			encodings = append(encodings, b)
		}
	}
	p := edwards25519.NewIdentityPoint()
	for range 8 {
		points = append(points, new(edwards25519.Point).Set(p))
		enc := p.Bytes()
		for _, sign := range []byte{0, 0x80} {
			b := append([]byte(nil), enc...)
			b[31] = b[31]&0x7f | sign
			add(b)
			if isSmallInt(b) { // y < 19: y+p fits in 255 bits
				nc := append([]byte(nil), b...)
				nc[0] += 0xed
				for i := 1; i < 31; i++ {
					nc[i] = 0xff
				}
				nc[31] |= 0x7f
				add(nc)
			}
		}
		p.Add(p, gen)
	}
	return points, encodings
}

// isSmallInt reports whether the y coordinate of b is below 19.
func isSmallInt(b []byte) bool {
	if b[0] >= 19 || b[31]&0x7f != 0 {
		return false
	}
	for _, v := range b[1:31] {
		if v != 0 {
			return false
		}
	}
	return true
}

func randScalar(r *rand.Rand) *edwards25519.Scalar {
	s, _ := edwards25519.NewScalar().SetUniformBytes(randBytes(r, 64))
	return s
}

// challenge returns k = SHA-512(R ‖ A ‖ M) mod L.
func challenge(rEnc, aEnc, msg []byte) *edwards25519.Scalar {
	h := sha512.New()
	h.Write(rEnc)
	h.Write(aEnc)
	h.Write(msg)
	k, _ := edwards25519.NewScalar().SetUniformBytes(h.Sum(nil))
	return k
}

// groupOrder returns L as a big integer, from the scalar L-1.
func groupOrder() *big.Int {
	one, _ := edwards25519.NewScalar().SetCanonicalBytes(append([]byte{1}, make([]byte, 31)...))
	lm1 := edwards25519.NewScalar().Negate(one).Bytes()
	return new(big.Int).Add(leInt(lm1), big.NewInt(1))
}

func leInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}

func intLE(x *big.Int) []byte {
	be := x.FillBytes(make([]byte, 32))
	le := make([]byte, 32)
	for i := range be {
		le[31-i] = be[i]
	}
	return le
}

// adversarialCases returns (public key, message, signature) triples on
// which a careless Ed25519 verifier and libsodium disagree, and ordinary
// valid and corrupted signatures around them.
func adversarialCases(r *rand.Rand) []verifyCase {
	var cases []verifyCase
	addCase := func(name string, pk, msg, sig []byte) {
		cases = append(cases, verifyCase{name: name, PublicKey: hexOf(pk), Message: hexOf(msg), Signature: hexOf(sig)})
	}
	concat := func(a, b []byte) []byte { return append(append([]byte(nil), a...), b...) }
	zero32 := make([]byte, 32)
	msg := []byte("gopear adversarial ed25519")

	torsion, smallEnc := smallOrderEncodings(r)

	// Small-order public keys against small-order R with S = 0 (this
	// includes the identity key with the identity R, which crypto/ed25519
	// accepts for any message), and against random signatures.
	for _, pk := range smallEnc {
		for _, rEnc := range smallEnc {
			addCase("small-order pk and R, S=0", pk, msg, concat(rEnc, zero32))
		}
		addCase("small-order pk, random sig", pk, msg, randBytes(r, 64))
	}

	// Valid signatures, and the same with one bit flipped in R, S, the
	// message or the key.
	for i := range 16 {
		kp := hcrypto.KeyPairFromSeed(rand32(r))
		m := randBytes(r, r.IntN(200))
		sig := hcrypto.Sign(kp.SecretKey, m)
		addCase("valid", kp.PublicKey[:], m, sig[:])
		bad := sig
		bad[r.IntN(32)] ^= 1 << r.IntN(8)
		addCase("R bit flipped", kp.PublicKey[:], m, bad[:])
		bad = sig
		bad[32+r.IntN(32)] ^= 1 << r.IntN(8)
		addCase("S bit flipped", kp.PublicKey[:], m, bad[:])
		badPK := kp.PublicKey
		badPK[r.IntN(32)] ^= 1 << r.IntN(8)
		addCase("key bit flipped", badPK[:], m, sig[:])
		if len(m) > 0 {
			badMsg := append([]byte(nil), m...)
			badMsg[r.IntN(len(m))] ^= 1 << r.IntN(8)
			addCase("message bit flipped", kp.PublicKey[:], badMsg, sig[:])
		}

		// S + L: the same scalar, not canonical.
		s := new(big.Int).Add(leInt(sig[32:]), groupOrder())
		nc := concat(sig[:32], intLE(s))
		addCase("S+L", kp.PublicKey[:], m, nc)
		hi := sig
		hi[63] |= 0x80
		addCase("S top bit set", kp.PublicKey[:], m, hi[:])

		// A valid key with the identity as R and S = k·a: the equation
		// holds, but R has small order.
		a := randScalar(r)
		aEnc := new(edwards25519.Point).ScalarBaseMult(a).Bytes()
		rEnc := edwards25519.NewIdentityPoint().Bytes()
		k := challenge(rEnc, aEnc, m)
		sk := edwards25519.NewScalar().Multiply(k, a)
		addCase("identity R, S=k·a", aEnc, m, concat(rEnc, sk.Bytes()))
		for _, rEnc := range smallEnc {
			k := challenge(rEnc, aEnc, m)
			sk := edwards25519.NewScalar().Multiply(k, a)
			addCase("small-order R, S=k·a", aEnc, m, concat(rEnc, sk.Bytes()))
		}

		// Mixed-order keys A = a·B + T: a signature verifies (in both
		// libraries, which are cofactorless) exactly when k·T is the
		// identity. Make some that do and some that do not.
		tor := torsion[1+i%7]
		mixed := new(edwards25519.Point).ScalarBaseMult(a)
		mixed.Add(mixed, tor)
		mEnc := mixed.Bytes()
		for j := range 6 {
			for {
				rs := randScalar(r)
				rEnc := new(edwards25519.Point).ScalarBaseMult(rs).Bytes()
				k := challenge(rEnc, mEnc, m)
				kills := new(edwards25519.Point).ScalarMult(k, tor).Equal(edwards25519.NewIdentityPoint()) == 1
				if kills != (j%2 == 0) {
					continue
				}
				s := edwards25519.NewScalar().MultiplyAdd(k, a, rs)
				addCase("mixed-order key", mEnc, m, concat(rEnc, s.Bytes()))
				break
			}
		}
	}

	// Non-canonical encodings (y+p, y < 19) of points that are not of
	// small order.
	for y := byte(2); y < 19; y++ {
		b := make([]byte, 32)
		b[0] = y
		if _, err := new(edwards25519.Point).SetBytes(b); err != nil {
			continue
		}
		nc := make([]byte, 32)
		nc[0] = 0xed + y
		for i := 1; i < 31; i++ {
			nc[i] = 0xff
		}
		nc[31] = 0x7f
		addCase("non-canonical key", nc, msg, randBytes(r, 64))
		addCase("non-canonical key, identity R", nc, msg, concat(edwards25519.NewIdentityPoint().Bytes(), zero32))
	}

	// Wrong lengths.
	kp := hcrypto.KeyPairFromSeed(rand32(r))
	sig := hcrypto.Sign(kp.SecretKey, msg)
	addCase("short key", kp.PublicKey[:31], msg, sig[:])
	addCase("long key", concat(kp.PublicKey[:], []byte{0}), msg, sig[:])
	addCase("short sig", kp.PublicKey[:], msg, sig[:63])
	addCase("long sig", kp.PublicKey[:], msg, concat(sig[:], []byte{0}))
	addCase("empty", nil, msg, nil)
	return cases
}

// forgedBox seals message to recipient from the ephemeral key 0, a point
// of small order: the shared secret is zero whatever the recipient's
// secret key, so anyone can make this box. libsodium refuses to open it;
// nacl/box alone opens it.
func forgedBox(recipient [32]byte, message []byte) []byte {
	var epk, anySecret, shared [32]byte
	box.Precompute(&shared, &epk, &anySecret)
	h, _ := blake2b.New(24, nil)
	h.Write(epk[:])
	h.Write(recipient[:])
	nonce := [24]byte(h.Sum(nil))
	return box.SealAfterPrecomputation(epk[:], message, &nonce, &shared)
}

// lowOrderX25519 returns Montgomery u-coordinates of small order, derived
// from the Edwards torsion points, with their non-canonical (u+p) and
// top-bit-set variants, and p-1 (u = -1, of order 4 on the twist).
func lowOrderX25519() [][32]byte {
	points, _ := smallOrderEncodings(rand.New(rand.NewPCG(1, 1)))
	seen := map[[32]byte]bool{}
	var out [][32]byte
	add := func(u [32]byte) {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	minus1 := [32]byte{0: 0xec, 31: 0x7f}
	for i := 1; i < 31; i++ {
		minus1[i] = 0xff
	}
	us := [][32]byte{minus1}
	for _, p := range points {
		us = append(us, [32]byte(p.BytesMontgomery()))
	}
	for _, u := range us {
		add(u)
		top := u
		top[31] |= 0x80
		add(top)
		if isSmallInt(u[:]) {
			nc := u
			nc[0] += 0xed
			for i := 1; i < 31; i++ {
				nc[i] = 0xff
			}
			nc[31] |= 0x7f
			add(nc)
		}
	}
	return out
}
