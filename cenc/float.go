package cenc

import (
	"encoding/binary"
	"math"
)

// AppendFloat32 appends v as a little-endian IEEE 754 binary32 (codec
// float32). The bits are written as they are, NaN payloads included; JS
// writes every NaN as 0x7fc00000.
func AppendFloat32(b []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
}

// AppendFloat64 appends v as a little-endian IEEE 754 binary64 (codec
// float64). JS writes every NaN as 0x7ff8000000000000.
func AppendFloat64(b []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

// Float32 reads a little-endian binary32 (codec float32).
func (d *Decoder) Float32() float32 { return math.Float32frombits(d.Uint32()) }

// Float64 reads a little-endian binary64 (codec float64).
func (d *Decoder) Float64() float64 { return math.Float64frombits(d.BigUint64()) }

// Codecs of the floating-point family.
var (
	// Float32 is a little-endian binary32 (codec float32).
	Float32 Codec[float32] = fixedCodec(4, AppendFloat32, (*Decoder).Float32)
	// Float64 is a little-endian binary64 (codec float64).
	Float64 Codec[float64] = fixedCodec(8, AppendFloat64, (*Decoder).Float64)
)
