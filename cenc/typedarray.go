package cenc

import (
	"encoding/binary"
	"math"
)

// TypedArray is the codec of a slice of fixed-size numbers, as JS typed
// arrays are encoded: a varint element count, then the elements
// little-endian, in two's complement for signed ones (not zig-zag). Unlike
// Array, JS sets no limit on the count; the decoder refuses a count whose
// elements do not fit in the bytes left before it allocates.
type TypedArray[T any] struct {
	size int
	put  func([]byte, T) []byte
	get  func([]byte) T
}

// Codecs of JS typed arrays (codec uint8array is Uint8Array, in bytes.go).
var (
	// Uint16Array is codec uint16array.
	Uint16Array = TypedArray[uint16]{2, binary.LittleEndian.AppendUint16, binary.LittleEndian.Uint16}
	// Uint32Array is codec uint32array.
	Uint32Array = TypedArray[uint32]{4, binary.LittleEndian.AppendUint32, binary.LittleEndian.Uint32}
	// BigUint64Array is codec biguint64array.
	BigUint64Array = TypedArray[uint64]{8, binary.LittleEndian.AppendUint64, binary.LittleEndian.Uint64}
	// Int8Array is codec int8array.
	Int8Array = TypedArray[int8]{1,
		func(b []byte, v int8) []byte { return append(b, byte(v)) },
		func(p []byte) int8 { return int8(p[0]) }}
	// Int16Array is codec int16array.
	Int16Array = TypedArray[int16]{2,
		func(b []byte, v int16) []byte { return binary.LittleEndian.AppendUint16(b, uint16(v)) },
		func(p []byte) int16 { return int16(binary.LittleEndian.Uint16(p)) }}
	// Int32Array is codec int32array.
	Int32Array = TypedArray[int32]{4,
		func(b []byte, v int32) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v)) },
		func(p []byte) int32 { return int32(binary.LittleEndian.Uint32(p)) }}
	// BigInt64Array is codec bigint64array.
	BigInt64Array = TypedArray[int64]{8,
		func(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v)) },
		func(p []byte) int64 { return int64(binary.LittleEndian.Uint64(p)) }}
	// Float32Array is codec float32array.
	Float32Array = TypedArray[float32]{4, AppendFloat32,
		func(p []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(p)) }}
	// Float64Array is codec float64array.
	Float64Array = TypedArray[float64]{8, AppendFloat64,
		func(p []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p)) }}
)

// Len returns the encoded size of v.
func (a TypedArray[T]) Len(v []T) int { return UintLen(uint64(len(v))) + a.size*len(v) }

// Append appends the element count of v, then its elements.
func (a TypedArray[T]) Append(b []byte, v []T) []byte {
	return a.appendElems(AppendUint(b, uint64(len(v))), v)
}

// Decode reads a typed array into a new slice.
func (a TypedArray[T]) Decode(d *Decoder) []T {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Remaining()/a.size) {
		d.Fail(ErrOutOfBounds)
		return nil
	}
	return a.elems(d.take(int(n) * a.size))
}

// Raw returns the codec of the elements alone, running to the end of the
// input (compact-encoding's raw typed arrays). As in JS, trailing bytes too
// few for an element are consumed and ignored.
func (a TypedArray[T]) Raw() Codec[[]T] {
	return funcCodec[[]T]{func(v []T) int { return a.size * len(v) }, a.appendElems,
		func(d *Decoder) []T { return a.elems(d.Raw()) }}
}

func (a TypedArray[T]) appendElems(b []byte, v []T) []byte {
	for _, e := range v {
		b = a.put(b, e)
	}
	return b
}

func (a TypedArray[T]) elems(p []byte) []T {
	v := make([]T, len(p)/a.size)
	for i := range v {
		v[i] = a.get(p[i*a.size:])
	}
	return v
}

// BitArrayLen returns the size of AppendBitArray(nil, v).
func BitArrayLen(v []bool) int { return UintLen(uint64(len(v))) + (len(v)+7)/8 }

// AppendBitArray appends the bit count of v, then the bits packed eight to
// a byte, bit i at byte i/8, bit i%8 (codec bitarray).
func AppendBitArray(b []byte, v []bool) []byte {
	b = AppendUint(b, uint64(len(v)))
	for i := 0; i < len(v); i += 8 {
		var c byte
		for j, bit := range v[i:min(i+8, len(v))] {
			if bit {
				c |= 1 << j
			}
		}
		b = append(b, c)
	}
	return b
}

// BitArray reads a bit array (codec bitarray). Unused high bits of the last
// byte are ignored, as in JS.
func (d *Decoder) BitArray() []bool {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if (n+7)/8 > uint64(d.Remaining()) {
		d.Fail(ErrOutOfBounds)
		return nil
	}
	p := d.take(int((n + 7) / 8))
	v := make([]bool, n)
	for i := range v {
		v[i] = p[i/8]&(1<<(i%8)) != 0
	}
	return v
}

// BitArray is codec bitarray.
var BitArray Codec[[]bool] = funcCodec[[]bool]{BitArrayLen, AppendBitArray, (*Decoder).BitArray}
