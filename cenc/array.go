package cenc

// MaxArrayLength is the largest element count compact-encoding's array
// decoder accepts (0x100000); a larger count is ErrArrayTooLarge.
const MaxArrayLength = 0x100000

// Array returns the codec of a slice of c's values: a varint count, then the
// values (codec array). Decoding refuses a count above MaxArrayLength with
// ErrArrayTooLarge, as JS does, and never allocates for more elements than
// there are bytes left (a zero-size element codec grows the slice as it
// goes).
func Array[T any](c Codec[T]) Codec[[]T] { return arrayCodec[T]{c} }

type arrayCodec[T any] struct{ c Codec[T] }

func (a arrayCodec[T]) Len(v []T) int {
	n := UintLen(uint64(len(v)))
	for _, e := range v {
		n += a.c.Len(e)
	}
	return n
}

func (a arrayCodec[T]) Append(b []byte, v []T) []byte {
	b = AppendUint(b, uint64(len(v)))
	for _, e := range v {
		b = a.c.Append(b, e)
	}
	return b
}

func (a arrayCodec[T]) Decode(d *Decoder) []T {
	n := d.Uint()
	if d.err != nil {
		return nil
	}
	if n > MaxArrayLength {
		d.Fail(ErrArrayTooLarge)
		return nil
	}
	return decodeN(d, a.c, int(n))
}

// decodeN decodes n values of c, preallocating no more than the bytes left.
func decodeN[T any](d *Decoder, c Codec[T], n int) []T {
	v := make([]T, 0, min(n, d.Remaining()))
	for range n {
		e := c.Decode(d)
		if d.err != nil {
			return nil
		}
		v = append(v, e)
	}
	return v
}

// RawArray returns the codec of a slice of c's values without a count,
// running to the end of the input (compact-encoding's raw.array). It is
// only valid as the last field, and c must read at least one byte per
// value.
func RawArray[T any](c Codec[T]) Codec[[]T] { return rawArrayCodec[T]{arrayCodec[T]{c}} }

type rawArrayCodec[T any] struct{ a arrayCodec[T] }

func (r rawArrayCodec[T]) Len(v []T) int {
	return r.a.Len(v) - UintLen(uint64(len(v)))
}

func (r rawArrayCodec[T]) Append(b []byte, v []T) []byte {
	for _, e := range v {
		b = r.a.c.Append(b, e)
	}
	return b
}

func (r rawArrayCodec[T]) Decode(d *Decoder) []T {
	var v []T
	for d.err == nil && d.Remaining() > 0 {
		off := d.off
		e := r.a.c.Decode(d)
		if d.err == nil && d.off == off {
			d.Fail(ErrInvalid) // JS would loop forever
		}
		v = append(v, e)
	}
	if d.err != nil {
		return nil
	}
	return v
}

// Frame returns the codec of c's value prefixed with its encoded length
// (codec frame). Decoding reads the value from exactly that many bytes,
// ignores any it leaves, and fails if it would read past them.
func Frame[T any](c Codec[T]) Codec[T] { return frameCodec[T]{c} }

type frameCodec[T any] struct{ c Codec[T] }

func (f frameCodec[T]) Len(v T) int { return BufferLen(f.c.Len(v)) }

func (f frameCodec[T]) Append(b []byte, v T) []byte {
	return f.c.Append(AppendUint(b, uint64(f.c.Len(v))), v)
}

func (f frameCodec[T]) Decode(d *Decoder) T {
	var zero T
	n := d.Uint()
	if d.err != nil {
		return zero
	}
	if n > uint64(d.Remaining()) {
		d.Fail(ErrOutOfBounds)
		return zero
	}
	end := d.off + int(n)
	buf := d.buf
	d.buf = buf[:end]
	v := f.c.Decode(d)
	d.buf, d.off = buf, end
	if d.err != nil {
		return zero
	}
	return v
}
