package cenc

// compact-encoding writes signed integers zig-zag encoded: 0, -1, 1, -2, 2
// become 0, 1, 2, 3, 4, then written as the unsigned codec of the same
// width. JS accepts only integers in [MinSafeInt, MaxSafeInt] on encode,
// because zig-zag doubles the magnitude; decoding a uint of at most
// MaxSafeInteger always yields a value in that range.

// MaxSafeInt and MinSafeInt bound the integers compact-encoding's zig-zag
// codecs (int, int8 ... int64) accept: ±2^52.
const (
	MaxSafeInt = 1<<52 - 1
	MinSafeInt = -(1 << 52)
)

// zigzag maps a signed integer to an unsigned one: n >= 0 to 2n, n < 0 to
// 2|n|-1.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// unzigzag inverts zigzag.
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// IntLen returns the size of AppendInt(nil, v).
func IntLen(v int64) int { return UintLen(zigzag(v)) }

// AppendInt appends v zig-zag encoded as a varint (codec int).
func AppendInt(b []byte, v int64) []byte { return AppendUint(b, zigzag(v)) }

// AppendInt8 appends v zig-zag encoded in one byte (codec int8).
func AppendInt8(b []byte, v int8) []byte { return append(b, byte(zigzag(int64(v)))) }

// AppendInt16 appends v zig-zag encoded as a little-endian uint16 (codec
// int16).
func AppendInt16(b []byte, v int16) []byte { return appendLE(b, zigzag(int64(v)), 2) }

// AppendInt24 appends v zig-zag encoded in 3 little-endian bytes (codec
// int24). Only the low 24 bits of the zig-zag value are written, so v must
// be within ±2^23 to survive.
func AppendInt24(b []byte, v int32) []byte { return appendLE(b, zigzag(int64(v)), 3) }

// AppendInt32 appends v zig-zag encoded as a little-endian uint32 (codec
// int32).
func AppendInt32(b []byte, v int32) []byte { return appendLE(b, zigzag(int64(v)), 4) }

// AppendInt40 appends v zig-zag encoded in 5 little-endian bytes (codec
// int40); the low 40 bits of the zig-zag value are written.
func AppendInt40(b []byte, v int64) []byte { return appendLE(b, zigzag(v), 5) }

// AppendInt48 appends v zig-zag encoded in 6 little-endian bytes (codec
// int48); the low 48 bits of the zig-zag value are written.
func AppendInt48(b []byte, v int64) []byte { return appendLE(b, zigzag(v), 6) }

// AppendInt56 appends v zig-zag encoded in 7 little-endian bytes (codec
// int56); the low 56 bits of the zig-zag value are written.
func AppendInt56(b []byte, v int64) []byte { return appendLE(b, zigzag(v), 7) }

// AppendInt64 appends v zig-zag encoded as a little-endian uint64 (codec
// int64, and bigint64, which has the same bytes without the safe limit).
func AppendInt64(b []byte, v int64) []byte { return appendLE(b, zigzag(v), 8) }

// Int reads a zig-zag varint (codec int). The result is within
// [MinSafeInt, MaxSafeInt]; a larger encoding is ErrUnsafeInteger.
func (d *Decoder) Int() int64 { return unzigzag(d.Uint()) }

// Int8 reads a zig-zag byte (codec int8).
func (d *Decoder) Int8() int8 { return int8(unzigzag(uint64(d.Uint8()))) }

// Int16 reads a zig-zag little-endian uint16 (codec int16).
func (d *Decoder) Int16() int16 { return int16(unzigzag(uint64(d.Uint16()))) }

// Int24 reads a zig-zag 24-bit little-endian integer (codec int24).
func (d *Decoder) Int24() int32 { return int32(unzigzag(uint64(d.Uint24()))) }

// Int32 reads a zig-zag little-endian uint32 (codec int32).
func (d *Decoder) Int32() int32 { return int32(unzigzag(uint64(d.Uint32()))) }

// Int40 reads a zig-zag 40-bit little-endian integer (codec int40).
func (d *Decoder) Int40() int64 { return unzigzag(d.Uint40()) }

// Int48 reads a zig-zag 48-bit little-endian integer (codec int48).
func (d *Decoder) Int48() int64 { return unzigzag(d.Uint48()) }

// Int56 reads a zig-zag 56-bit little-endian integer (codec int56); as in
// JS, the zig-zag value must be at most MaxSafeInteger.
func (d *Decoder) Int56() int64 { return unzigzag(d.Uint56()) }

// Int64 reads a zig-zag little-endian uint64 (codec int64); as in JS, the
// zig-zag value must be at most MaxSafeInteger.
func (d *Decoder) Int64() int64 { return unzigzag(d.Uint64()) }

// BigInt64 reads a zig-zag little-endian uint64 of any value (codec
// bigint64, a BigInt in JS).
func (d *Decoder) BigInt64() int64 { return unzigzag(d.BigUint64()) }

// Codecs of the signed (zig-zag) integer family.
var (
	// Int is a zig-zag varint (codec int).
	Int Codec[int64] = funcCodec[int64]{IntLen, AppendInt, (*Decoder).Int}
	// Int8 is a zig-zag byte (codec int8).
	Int8 Codec[int8] = fixedCodec(1, AppendInt8, (*Decoder).Int8)
	// Int16 is a zig-zag uint16 (codec int16).
	Int16 Codec[int16] = fixedCodec(2, AppendInt16, (*Decoder).Int16)
	// Int24 is a zig-zag 24-bit integer (codec int24).
	Int24 Codec[int32] = fixedCodec(3, AppendInt24, (*Decoder).Int24)
	// Int32 is a zig-zag uint32 (codec int32).
	Int32 Codec[int32] = fixedCodec(4, AppendInt32, (*Decoder).Int32)
	// Int40 is a zig-zag 40-bit integer (codec int40).
	Int40 Codec[int64] = fixedCodec(5, AppendInt40, (*Decoder).Int40)
	// Int48 is a zig-zag 48-bit integer (codec int48).
	Int48 Codec[int64] = fixedCodec(6, AppendInt48, (*Decoder).Int48)
	// Int56 is a zig-zag 56-bit integer (codec int56).
	Int56 Codec[int64] = fixedCodec(7, AppendInt56, (*Decoder).Int56)
	// Int64 is a zig-zag uint64 within the safe range (codec int64).
	Int64 Codec[int64] = fixedCodec(8, AppendInt64, (*Decoder).Int64)
	// BigInt64 is a zig-zag uint64 of any value (codec bigint64).
	BigInt64 Codec[int64] = fixedCodec(8, AppendInt64, (*Decoder).BigInt64)
)
