package cenc

import "encoding/binary"

// UintLen returns the size of the compact-encoding varint of v: 1 byte up to
// 0xfc, then 3, 5 or 9 bytes.
func UintLen(v uint64) int {
	switch {
	case v <= 0xfc:
		return 1
	case v <= 0xffff:
		return 3
	case v <= 0xffffffff:
		return 5
	default:
		return 9
	}
}

// AppendUint appends the compact-encoding varint of v (codec uint): one byte
// for 0..0xfc, else a marker byte 0xfd, 0xfe or 0xff followed by v as a
// little-endian uint16, uint32 or uint64. It always writes the shortest form.
func AppendUint(b []byte, v uint64) []byte {
	switch {
	case v <= 0xfc:
		return append(b, byte(v))
	case v <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(b, 0xfd), uint16(v))
	case v <= 0xffffffff:
		return binary.LittleEndian.AppendUint32(append(b, 0xfe), uint32(v))
	default:
		return binary.LittleEndian.AppendUint64(append(b, 0xff), v)
	}
}

// Uint reads a compact-encoding varint. Non-minimal forms are accepted, as
// JS accepts them; a 64-bit form above MaxSafeInteger is ErrUnsafeInteger.
func (d *Decoder) Uint() uint64 {
	p := d.take(1)
	if p == nil {
		return 0
	}
	switch p[0] {
	case 0xfd:
		return uint64(d.Uint16())
	case 0xfe:
		return uint64(d.Uint32())
	case 0xff:
		return d.Uint64()
	default:
		return uint64(p[0])
	}
}

// Uint16 reads a little-endian uint16.
func (d *Decoder) Uint16() uint16 {
	p := d.take(2)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

// Uint32 reads a little-endian uint32.
func (d *Decoder) Uint32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// Uint64 reads a little-endian uint64 and refuses values above
// MaxSafeInteger with ErrUnsafeInteger, as JS does.
func (d *Decoder) Uint64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	v := binary.LittleEndian.Uint64(p)
	if v > MaxSafeInteger {
		d.Fail(ErrUnsafeInteger)
		return 0
	}
	return v
}

// AppendUint8 appends v as one byte (codec uint8).
func AppendUint8(b []byte, v uint8) []byte { return append(b, v) }

// AppendUint16 appends v as a little-endian uint16 (codec uint16, and port).
func AppendUint16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

// AppendUint24 appends the low 24 bits of v, little-endian (codec uint24).
func AppendUint24(b []byte, v uint32) []byte { return appendLE(b, uint64(v), 3) }

// AppendUint32 appends v as a little-endian uint32 (codec uint32).
func AppendUint32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// AppendUint40 appends the low 40 bits of v, little-endian (codec uint40).
func AppendUint40(b []byte, v uint64) []byte { return appendLE(b, v, 5) }

// AppendUint48 appends the low 48 bits of v, little-endian (codec uint48).
func AppendUint48(b []byte, v uint64) []byte { return appendLE(b, v, 6) }

// AppendUint56 appends the low 56 bits of v, little-endian (codec uint56).
func AppendUint56(b []byte, v uint64) []byte { return appendLE(b, v, 7) }

// AppendUint64 appends v as a little-endian uint64 (codec uint64, and
// biguint64, which has the same bytes without the safe-integer limit).
func AppendUint64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// AppendUint32BE appends v as a big-endian uint32 (codec uint32be).
func AppendUint32BE(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// AppendUint64BE appends v as a big-endian uint64 (codec uint64be).
func AppendUint64BE(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }

// appendLE appends the low n bytes of v, little-endian.
func appendLE(b []byte, v uint64, n int) []byte {
	for i := range n {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// readLE reads an n-byte little-endian unsigned integer.
func (d *Decoder) readLE(n int) uint64 {
	p := d.take(n)
	var v uint64
	for i, c := range p {
		v |= uint64(c) << (8 * i)
	}
	return v
}

// safe returns v, or 0 after recording ErrUnsafeInteger when v is above
// MaxSafeInteger.
func (d *Decoder) safe(v uint64) uint64 {
	if v > MaxSafeInteger {
		d.Fail(ErrUnsafeInteger)
		return 0
	}
	return v
}

// Uint8 reads one byte (codec uint8).
func (d *Decoder) Uint8() uint8 {
	p := d.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

// Uint24 reads a little-endian 24-bit unsigned integer (codec uint24).
func (d *Decoder) Uint24() uint32 { return uint32(d.readLE(3)) }

// Uint40 reads a little-endian 40-bit unsigned integer (codec uint40).
func (d *Decoder) Uint40() uint64 { return d.readLE(5) }

// Uint48 reads a little-endian 48-bit unsigned integer (codec uint48).
func (d *Decoder) Uint48() uint64 { return d.readLE(6) }

// Uint56 reads a little-endian 56-bit unsigned integer (codec uint56) and
// refuses values above MaxSafeInteger, as JS does.
func (d *Decoder) Uint56() uint64 { return d.safe(d.readLE(7)) }

// Uint32BE reads a big-endian uint32 (codec uint32be).
func (d *Decoder) Uint32BE() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

// Uint64BE reads a big-endian uint64 (codec uint64be) and refuses values
// above MaxSafeInteger, as JS does.
func (d *Decoder) Uint64BE() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return d.safe(binary.BigEndian.Uint64(p))
}

// BigUint64 reads a little-endian uint64 of any value (codec biguint64,
// a BigInt in JS, so without the safe-integer limit).
func (d *Decoder) BigUint64() uint64 { return d.readLE(8) }

// Codecs of the unsigned integer family.
var (
	// Uint is the compact-encoding varint (codec uint).
	Uint Codec[uint64] = funcCodec[uint64]{UintLen, AppendUint, (*Decoder).Uint}
	// Uint8 is one byte (codec uint8).
	Uint8 Codec[uint8] = fixedCodec(1, AppendUint8, (*Decoder).Uint8)
	// Uint16 is a little-endian uint16 (codec uint16).
	Uint16 Codec[uint16] = fixedCodec(2, AppendUint16, (*Decoder).Uint16)
	// Port is a UDP or TCP port, a little-endian uint16 (codec port).
	Port = Uint16
	// Uint24 is a little-endian 24-bit integer (codec uint24).
	Uint24 Codec[uint32] = fixedCodec(3, AppendUint24, (*Decoder).Uint24)
	// Uint32 is a little-endian uint32 (codec uint32).
	Uint32 Codec[uint32] = fixedCodec(4, AppendUint32, (*Decoder).Uint32)
	// Uint40 is a little-endian 40-bit integer (codec uint40).
	Uint40 Codec[uint64] = fixedCodec(5, AppendUint40, (*Decoder).Uint40)
	// Uint48 is a little-endian 48-bit integer (codec uint48).
	Uint48 Codec[uint64] = fixedCodec(6, AppendUint48, (*Decoder).Uint48)
	// Uint56 is a little-endian 56-bit integer, at most MaxSafeInteger on
	// decode (codec uint56).
	Uint56 Codec[uint64] = fixedCodec(7, AppendUint56, (*Decoder).Uint56)
	// Uint64 is a little-endian uint64, at most MaxSafeInteger on decode
	// (codec uint64).
	Uint64 Codec[uint64] = fixedCodec(8, AppendUint64, (*Decoder).Uint64)
	// Uint32BE is a big-endian uint32 (codec uint32be).
	Uint32BE Codec[uint32] = fixedCodec(4, AppendUint32BE, (*Decoder).Uint32BE)
	// Uint64BE is a big-endian uint64, at most MaxSafeInteger on decode
	// (codec uint64be).
	Uint64BE Codec[uint64] = fixedCodec(8, AppendUint64BE, (*Decoder).Uint64BE)
	// BigUint64 is a little-endian uint64 of any value (codec biguint64).
	BigUint64 Codec[uint64] = fixedCodec(8, AppendUint64, (*Decoder).BigUint64)
)
