package cenc

import (
	"encoding/binary"
	"math"
)

// Lexint is compact-encoding's lexicographic integer (codec lexint): its
// encodings sort, byte by byte, in the order of the values, so they serve as
// index keys. Values below 251 are one byte; up to 2^32-1 a marker 251...254
// is followed by value-251 big-endian in 1...4 bytes; above that, 0xff, a
// binary exponent byte and a 48-bit big-endian mantissa.
//
// The large form is JS floating point and is lossy: values of 2^44 and more
// lose low bits. The encoder reproduces JS's bytes exactly, rounding
// included, with one exception: JS writes the values from 2^32 to 2^32+250
// in the large form with an exponent of -1, which nothing (JS included) can
// read back; Go writes them in the 5-byte form, which JS reads correctly
// and which keeps the order. The decoder refuses with ErrInvalid what
// decodes to a non-integer in JS, and with ErrUnsafeInteger what exceeds
// MaxSafeInteger.

const lexMax = 251

// LexintLen returns the size of AppendLexint(nil, v).
func LexintLen(v uint64) int {
	switch {
	case v < lexMax:
		return 1
	case v < 1<<8:
		return 2
	case v < 1<<16:
		return 3
	case v < 1<<24:
		return 4
	case v < 1<<32+lexMax:
		return 5
	default:
		return 8
	}
}

// AppendLexint appends v as codec lexint. v must be at most MaxSafeInteger
// for JS to accept the value.
func AppendLexint(b []byte, v uint64) []byte {
	x := v - lexMax
	switch {
	case v < lexMax:
		return append(b, byte(v))
	case v < 1<<8:
		return append(b, lexMax, byte(x))
	case v < 1<<16:
		return append(b, lexMax+1, byte(x>>8), byte(x))
	case v < 1<<24:
		return append(b, lexMax+2, byte(x>>16), byte(x>>8), byte(x))
	case v < 1<<32+lexMax:
		return binary.BigEndian.AppendUint32(append(b, lexMax+3), uint32(x))
	}
	// JS takes the exponent from floating-point logarithms, which round up
	// just below powers of two from 2^48 on; do the same.
	exp := int(math.Floor(math.Log(float64(x))/math.Log(2))) - 32
	var m uint64
	if exp >= 11 {
		m = x >> (exp - 11)
	} else {
		m = x << (11 - exp)
	}
	b = append(b, 0xff, byte(exp))
	return appendBE48(b, m)
}

func appendBE48(b []byte, m uint64) []byte {
	for i := 5; i >= 0; i-- {
		b = append(b, byte(m>>(8*i)))
	}
	return b
}

// lexDepth bounds the nesting of exponents that are themselves in the large
// form, which no encoder writes; JS recurses without a limit.
const lexDepth = 4

// Lexint reads codec lexint.
func (d *Decoder) Lexint() uint64 { return d.lexint(0) }

func (d *Decoder) lexint(depth int) uint64 {
	flag := d.Uint8()
	if d.err != nil {
		return 0
	}
	if flag < lexMax {
		return uint64(flag)
	}
	if flag < 0xff {
		return d.readBE(int(flag-lexMax)+1) + lexMax
	}
	if depth == lexDepth {
		d.Fail(ErrInvalid)
		return 0
	}
	exp := d.lexint(depth + 1)
	m := d.readBE(6)
	if d.err != nil {
		return 0
	}
	return d.safe(lexScale(d, m, exp) + lexMax)
}

// lexScale returns m * 2^(exp-11), failing d when that is not an integer
// or exceeds MaxSafeInteger.
func lexScale(d *Decoder, m, exp uint64) uint64 {
	if m == 0 {
		return 0
	}
	if exp < 11 {
		s := 11 - exp
		if m&(1<<s-1) != 0 {
			d.Fail(ErrInvalid)
			return 0
		}
		return m >> s
	}
	s := exp - 11
	if s >= 64 || m > MaxSafeInteger>>s {
		d.Fail(ErrUnsafeInteger)
		return 0
	}
	return m << s
}

// readBE reads an n-byte big-endian unsigned integer.
func (d *Decoder) readBE(n int) uint64 {
	var v uint64
	for _, c := range d.take(n) {
		v = v<<8 | uint64(c)
	}
	return v
}

// Lexint is codec lexint.
var Lexint Codec[uint64] = funcCodec[uint64]{LexintLen, AppendLexint, (*Decoder).Lexint}
