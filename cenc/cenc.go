// Package cenc implements compact-encoding, the binary codec family that every
// wire and storage format of the Holepunch stack is written in. It matches the
// npm module compact-encoding 3.5.2 byte for byte, plus the address codecs of
// compact-encoding-net that dht-rpc uses.
//
// # Shape
//
// compact-encoding's three steps (preencode, encode, decode) become:
//
//   - a Len function that returns the encoded size (preencode),
//   - an Append function that appends the encoding to a caller's slice
//     (encode), so a message of many fields is sized once and written
//     into a single allocation, and
//   - a method on [Decoder], which reads from a byte slice and keeps the
//     first error it meets (sticky), so a ten-field message checks one
//     error at the end.
//
// [Codec] ties the three together for a type, so that composite codecs such as
// [Array] and [Frame] take element codecs as values.
//
// Each JS codec x has, in Go spelling, a Codec value X (Uint, String,
// IPv4Address, ...) and, where a hot path needs it, the functions AppendX
// and XLen (for variable sizes) and the method Decoder.X. Parameterised JS
// codecs are functions (Array, Frame, Fixed, Record) or methods
// (String.Fixed(n), Hex.Raw()).
//
// # Where Go differs from JS
//
// Only on input no JS encoder writes, or where JS writes what it cannot
// read back, each noted at its codec: an ip family
// byte other than 4 or 6 and a lexint that decodes to a fraction are
// refused (ErrInvalid); a record keeps duplicate keys in wire order; a
// string decoded from UTF-16 cannot hold a lone surrogate (U+FFFD instead);
// lexint writes 2^32 ... 2^32+250, which JS writes unreadably, in a form JS
// reads; bytes JS leaves unwritten (fixed-size strings that fall short,
// invalid hex) are zero.
//
// # Integers beyond 2^53-1
//
// JavaScript numbers are exact only up to 2^53-1 (Number.MAX_SAFE_INTEGER),
// and compact-encoding refuses to decode a 64-bit integer above it. Go keeps
// integers as uint64 and int64. Decoding follows JS: a uint64 above
// [MaxSafeInteger] (or an int64 outside ±2^52 after zig-zag, as JS limits
// it) is refused with [ErrUnsafeInteger], so a Go peer never accepts a
// message a JS peer would reject. Encoding never fails: the Append functions
// write the exact bits of any value, and it is the protocol code's job to
// keep values within the safe range, because a JS peer will refuse them.
//
// # Errors
//
// Decoding never panics. Every failure wraps one of the sentinel errors of
// this package ([ErrOutOfBounds], [ErrUnsafeInteger], ...), so callers can
// test with errors.Is.
//
// # Aliasing
//
// Decoders return sub-slices of the input for byte fields (buffer, fixed,
// raw), as compact-encoding does; copy them if the input buffer is reused.
// Strings are copied by the conversion to string.
package cenc

import "errors"

// MaxSafeInteger is the largest integer a JavaScript number holds exactly
// (2^53-1). Decoded 64-bit unsigned integers above it are refused.
const MaxSafeInteger = 1<<53 - 1

// Sentinel errors. Decoding errors wrap one of these.
var (
	// ErrOutOfBounds means the input ended before the value did.
	ErrOutOfBounds = errors.New("cenc: out of bounds")
	// ErrUnsafeInteger means a decoded integer is outside the range a
	// JavaScript number represents exactly, which compact-encoding refuses.
	ErrUnsafeInteger = errors.New("cenc: integer is not a safe JavaScript integer")
	// ErrArrayTooLarge means an array length prefix exceeds MaxArrayLength.
	ErrArrayTooLarge = errors.New("cenc: array too large")
	// ErrInvalid means the input is well-sized but not a valid encoding of
	// the value (for example an unknown IP family byte).
	ErrInvalid = errors.New("cenc: invalid encoding")
)

// Codec is the encoding of one type: its size, its encoding and its decoding.
// Codecs are stateless and safe for concurrent use.
type Codec[T any] interface {
	// Len returns the number of bytes Append writes for v (preencode).
	Len(v T) int
	// Append appends the encoding of v to b and returns the extended slice.
	Append(b []byte, v T) []byte
	// Decode reads one value from d. On failure it records the error in d
	// and returns the zero value.
	Decode(d *Decoder) T
}

// Encode returns the encoding of v in a newly allocated slice of exactly
// c.Len(v) bytes.
func Encode[T any](c Codec[T], v T) []byte {
	return c.Append(make([]byte, 0, c.Len(v)), v)
}

// Decode decodes one value of c from b. As compact-encoding's decode does,
// it ignores bytes left after the value.
func Decode[T any](c Codec[T], b []byte) (T, error) {
	d := NewDecoder(b)
	v := c.Decode(d)
	return v, d.Err()
}

// Decoder reads values from a byte slice. The first error is kept, and every
// later read returns a zero value, so a sequence of reads is checked once with
// [Decoder.Err]. A Decoder is not safe for concurrent use.
type Decoder struct {
	buf []byte
	off int
	err error
}

// NewDecoder returns a Decoder reading b from its start.
func NewDecoder(b []byte) *Decoder {
	return &Decoder{buf: b}
}

// Reset makes d read b from its start and clears its error.
func (d *Decoder) Reset(b []byte) {
	*d = Decoder{buf: b}
}

// Err returns the first error met while decoding, or nil.
func (d *Decoder) Err() error { return d.err }

// Fail records err as the decoder's error unless one is already recorded.
// Codecs defined outside this package use it to report invalid input.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Remaining returns the number of unread bytes.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns the number of bytes read so far.
func (d *Decoder) Offset() int { return d.off }

// take returns the next n bytes, or nil after recording ErrOutOfBounds.
func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.buf)-d.off {
		d.err = ErrOutOfBounds
		return nil
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// funcCodec is a Codec made of three functions.
type funcCodec[T any] struct {
	size   func(T) int
	append func([]byte, T) []byte
	decode func(*Decoder) T
}

func (c funcCodec[T]) Len(v T) int                 { return c.size(v) }
func (c funcCodec[T]) Append(b []byte, v T) []byte { return c.append(b, v) }
func (c funcCodec[T]) Decode(d *Decoder) T         { return c.decode(d) }

// fixedCodec is a Codec whose encoding is always n bytes long.
func fixedCodec[T any](n int, app func([]byte, T) []byte, dec func(*Decoder) T) Codec[T] {
	return funcCodec[T]{func(T) int { return n }, app, dec}
}
