package hcrypto

import (
	"testing"

	"filippo.io/edwards25519"
)

// smallOrderByDecoding answers hasSmallOrder's question the slow way:
// decode y (sign bit cleared, reduced modulo p) and multiply by the
// cofactor.
func smallOrderByDecoding(b []byte) bool {
	var y [32]byte
	copy(y[:], b)
	y[31] &= 0x7f
	p, err := new(edwards25519.Point).SetBytes(y[:])
	if err != nil {
		return false
	}
	return p.MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1
}

func TestHasSmallOrder(t *testing.T) {
	n := 0
	for _, y := range torsionY() {
		for _, sign := range []byte{0, 0x80} {
			b := y
			b[31] |= sign
			if !hasSmallOrder(b[:]) || !smallOrderByDecoding(b[:]) {
				t.Errorf("%x: hasSmallOrder %v, by decoding %v; want both true", b, hasSmallOrder(b[:]), smallOrderByDecoding(b[:]))
			}
			n++
		}
	}
	// p and p+1, the non-canonical encodings of y = 0 and y = 1, with
	// either sign.
	for _, add := range []byte{0, 1} {
		for _, sign := range []byte{0, 0x80} {
			b := fieldPrime
			b[0] += add
			b[31] |= sign
			if !hasSmallOrder(b[:]) || !smallOrderByDecoding(b[:]) {
				t.Errorf("%x: hasSmallOrder %v, by decoding %v; want both true", b, hasSmallOrder(b[:]), smallOrderByDecoding(b[:]))
			}
		}
	}
	if n != 10 {
		t.Errorf("got %d canonical small-order encodings, want 10", n)
	}
}

func FuzzHasSmallOrder(f *testing.F) {
	for _, y := range torsionY() {
		f.Add(y[:])
	}
	f.Add(fieldPrime[:])
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 32 {
			return
		}
		if got, want := hasSmallOrder(b), smallOrderByDecoding(b); got != want {
			t.Fatalf("hasSmallOrder(%x) = %v, by decoding %v", b, got, want)
		}
		if got, want := isCanonicalPoint(b), leLess255(b, fieldPrime[:]); got != want {
			t.Fatalf("isCanonicalPoint(%x) = %v, want %v", b, got, want)
		}
	})
}

// leLess255 compares the low 255 bits of a with p, both little-endian.
func leLess255(a, p []byte) bool {
	for i := 31; i >= 0; i-- {
		x := a[i]
		if i == 31 {
			x &= 0x7f
		}
		if x != p[i] {
			return x < p[i]
		}
	}
	return false
}
