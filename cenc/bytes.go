package cenc

import "fmt"

// BufferLen returns the encoded size of a buffer of n bytes: its varint
// length prefix and the bytes.
func BufferLen(n int) int { return UintLen(uint64(n)) + n }

// AppendBuffer appends p as a compact-encoding buffer: a varint length then
// the bytes. A nil p is written as an empty buffer; compact-encoding 3.5.2
// throws on null, so protocols that need "absent" use optional fields.
func AppendBuffer(b, p []byte) []byte {
	return append(AppendUint(b, uint64(len(p))), p...)
}

// Buffer reads a length-prefixed buffer and returns it as a sub-slice of the
// input (an empty, non-nil slice for length 0). A length past the end of the
// input is ErrOutOfBounds; nothing is allocated for it.
func (d *Decoder) Buffer() []byte {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if n > uint64(d.Remaining()) {
		d.Fail(ErrOutOfBounds)
		return nil
	}
	return d.take(int(n))
}

// Fixed reads exactly n raw bytes and returns them as a sub-slice of the
// input.
func (d *Decoder) Fixed(n int) []byte { return d.take(n) }

// Fixed32 reads 32 raw bytes (codec fixed32).
func (d *Decoder) Fixed32() (v [32]byte) {
	copy(v[:], d.take(32))
	return v
}

// Fixed64 reads 64 raw bytes (codec fixed64).
func (d *Decoder) Fixed64() (v [64]byte) {
	copy(v[:], d.take(64))
	return v
}

// Raw returns the rest of the input as a sub-slice (codec raw) and leaves
// nothing to read.
func (d *Decoder) Raw() []byte { return d.take(d.Remaining()) }

// OptionalBuffer reads a buffer as codec optionalBuffer does: a length of 0
// is nil (JS null). Encoding is AppendBuffer, which writes nil and empty
// alike as a single 0x00, so empty and absent are one value on the wire.
func (d *Decoder) OptionalBuffer() []byte {
	p := d.Buffer()
	if len(p) == 0 {
		return nil
	}
	return p
}

// BufferCopy reads a length-prefixed buffer into a new slice that does not
// alias the input (codec arraybuffer).
func (d *Decoder) BufferCopy() []byte {
	p := d.Buffer()
	if p == nil {
		return nil
	}
	return append(make([]byte, 0, len(p)), p...)
}

// AppendRaw appends p without a length prefix (codec raw).
func AppendRaw(b, p []byte) []byte { return append(b, p...) }

func bytesLen(p []byte) int  { return len(p) }
func bufferLen(p []byte) int { return BufferLen(len(p)) }

// Codecs of the byte family.
var (
	// Buffer is a varint length then the bytes (codec buffer); decoding
	// returns a sub-slice of the input.
	Buffer Codec[[]byte] = funcCodec[[]byte]{bufferLen, AppendBuffer, (*Decoder).Buffer}
	// Binary is codec binary, which has the encoding of Buffer (a JS
	// string given to it is written as its UTF-8 bytes).
	Binary = Buffer
	// Uint8Array is codec uint8array, which has the encoding of Buffer.
	Uint8Array = Buffer
	// ArrayBuffer is codec arraybuffer: the encoding of Buffer, decoded
	// into a copy.
	ArrayBuffer Codec[[]byte] = funcCodec[[]byte]{bufferLen, AppendBuffer, (*Decoder).BufferCopy}
	// OptionalBuffer is a buffer whose empty encoding decodes to nil
	// (codec optionalBuffer).
	OptionalBuffer Codec[[]byte] = funcCodec[[]byte]{bufferLen, AppendBuffer, (*Decoder).OptionalBuffer}
	// Raw is the rest of the input, without a length (codec raw); it is
	// only valid as the last field.
	Raw Codec[[]byte] = funcCodec[[]byte]{bytesLen, AppendRaw, (*Decoder).Raw}
	// Fixed32 is 32 raw bytes (codec fixed32).
	Fixed32 Codec[[32]byte] = fixedCodec(32,
		func(b []byte, v [32]byte) []byte { return append(b, v[:]...) }, (*Decoder).Fixed32)
	// Fixed64 is 64 raw bytes (codec fixed64).
	Fixed64 Codec[[64]byte] = fixedCodec(64,
		func(b []byte, v [64]byte) []byte { return append(b, v[:]...) }, (*Decoder).Fixed64)
	// Fixed8, Fixed16 and Fixed24 are 8, 16 and 24 raw bytes (codecs
	// fixed8, fixed16, fixed24).
	Fixed8, Fixed16, Fixed24 = Fixed(8), Fixed(16), Fixed(24)
)

// Fixed returns the codec of exactly n raw bytes (codec fixed(n)). Its
// decoder returns a sub-slice of the input. Its Append panics when given a
// slice of another length, where JS throws "Incorrect buffer size": the
// length of a fixed field is the caller's contract, not remote input.
func Fixed(n int) Codec[[]byte] {
	return fixedCodec(n,
		func(b, p []byte) []byte {
			if len(p) != n {
				panic(fmt.Sprintf("cenc: fixed(%d) given %d bytes", n, len(p)))
			}
			return append(b, p...)
		},
		func(d *Decoder) []byte { return d.Fixed(n) })
}
