package cenc

import "math/big"

// Arbitrary-size integers (codecs biguint and bigint) are a varint count of
// 64-bit limbs, then the limbs little-endian, least significant first. Zero
// has no limbs. Decoding accepts high zero limbs, as JS does, so only the
// value, not the bytes, survives a round trip of such input.

// BigUintLen returns the size of AppendBigUint(nil, v).
func BigUintLen(v *big.Int) int {
	n := limbs(v)
	return UintLen(uint64(n)) + 8*n
}

// AppendBigUint appends v as codec biguint. A nil v is zero. It panics if v
// is negative, which has no biguint encoding (JS never returns for one).
func AppendBigUint(b []byte, v *big.Int) []byte {
	n := limbs(v)
	b = AppendUint(b, uint64(n))
	if n == 0 {
		return b
	}
	off := len(b)
	b = append(b, make([]byte, 8*n)...)
	v.FillBytes(b[off:]) // big-endian; reversed into little-endian below
	reverse(b[off:])
	return b
}

// BigUint reads codec biguint into a new big.Int.
func (d *Decoder) BigUint() *big.Int {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Remaining()/8) {
		d.Fail(ErrOutOfBounds)
		return nil
	}
	p := d.take(8 * int(n))
	be := append([]byte(nil), p...)
	reverse(be)
	return new(big.Int).SetBytes(be)
}

// BigIntLen returns the size of AppendBigInt(nil, v).
func BigIntLen(v *big.Int) int { return BigUintLen(zigzagBig(v)) }

// AppendBigInt appends v zig-zag encoded as codec biguint (codec bigint). A
// nil v is zero.
func AppendBigInt(b []byte, v *big.Int) []byte { return AppendBigUint(b, zigzagBig(v)) }

// BigInt reads codec bigint into a new big.Int.
func (d *Decoder) BigInt() *big.Int {
	u := d.BigUint()
	if u == nil {
		return nil
	}
	odd := u.Bit(0) == 1
	u.Rsh(u, 1)
	if odd {
		u.Neg(u).Sub(u, big.NewInt(1))
	}
	return u
}

// Codecs of arbitrary-size integers.
var (
	// BigUint is codec biguint.
	BigUint Codec[*big.Int] = funcCodec[*big.Int]{BigUintLen, AppendBigUint, (*Decoder).BigUint}
	// BigInt is codec bigint.
	BigInt Codec[*big.Int] = funcCodec[*big.Int]{BigIntLen, AppendBigInt, (*Decoder).BigInt}
)

// limbs returns the number of 64-bit limbs of v, panicking if v < 0.
func limbs(v *big.Int) int {
	if v == nil {
		return 0
	}
	if v.Sign() < 0 {
		panic("cenc: negative value given to biguint")
	}
	return (v.BitLen() + 63) / 64
}

// zigzagBig maps n >= 0 to 2n and n < 0 to -2n-1.
func zigzagBig(v *big.Int) *big.Int {
	if v == nil {
		return nil
	}
	z := new(big.Int).Lsh(v, 1)
	if v.Sign() < 0 {
		z.Neg(z).Sub(z, big.NewInt(1))
	}
	return z
}

func reverse(p []byte) {
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
}
