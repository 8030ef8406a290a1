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
