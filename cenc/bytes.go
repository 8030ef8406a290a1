package cenc

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
