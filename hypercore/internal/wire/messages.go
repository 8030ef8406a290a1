package wire

import (
	"encoding/binary"
	"fmt"

	"github.com/gopear/gopear/cenc"
)

// Cancel (type 2) withdraws the request with id Request.
type Cancel struct {
	Request uint64
}

// Type returns TypeCancel.
func (*Cancel) Type() Type { return TypeCancel }

// Len returns the encoded size of m.
func (m *Cancel) Len() int { return cenc.UintLen(m.Request) }

// Append appends the encoding of m.
func (m *Cancel) Append(b []byte) []byte { return cenc.AppendUint(b, m.Request) }

// Decode reads m from d.
func (m *Cancel) Decode(d *cenc.Decoder) { *m = Cancel{Request: d.Uint()} }

// Reasons a NoData message gives.
const (
	ReasonNotAvailable   = 1 // the responder does not have what was asked
	ReasonInvalidRequest = 2 // the request was malformed or out of range
)

// NoData (type 4) tells the requester that request Request cannot be
// answered. Reason 0 is not written (the flags field is then 0); a payload
// that ends after the request id decodes with Reason 0, as JS allows.
type NoData struct {
	Request uint64
	Reason  uint64
}

// Type returns TypeNoData.
func (*NoData) Type() Type { return TypeNoData }

// Len returns the encoded size of m.
func (m *NoData) Len() int {
	n := cenc.UintLen(m.Request) + 1
	if m.Reason != 0 {
		n += cenc.UintLen(m.Reason)
	}
	return n
}

// Append appends the encoding of m.
func (m *NoData) Append(b []byte) []byte {
	b = cenc.AppendUint(b, m.Request)
	b = cenc.AppendUint(b, boolFlag(m.Reason != 0, 1))
	if m.Reason != 0 {
		b = cenc.AppendUint(b, m.Reason)
	}
	return b
}

// Decode reads m from d.
func (m *NoData) Decode(d *cenc.Decoder) {
	*m = NoData{Request: d.Uint()}
	var flags uint64
	if d.Remaining() > 0 {
		flags = d.Uint()
	}
	if flags&1 != 0 {
		m.Reason = d.Uint()
	}
}

// wantLen, appendWant and decodeWant are shared by Want and Unwant, which
// have the same layout: start, length and an optional flags uint that is
// written only when non-zero (bit 0: any).
func wantLen(start, length uint64, anyRange bool) int {
	return pairLen(start, length) + int(boolFlag(anyRange, 1))
}

func appendWant(b []byte, start, length uint64, anyRange bool) []byte {
	b = appendPair(b, start, length)
	if anyRange {
		b = cenc.AppendUint(b, 1)
	}
	return b
}

func decodeWant(d *cenc.Decoder) (start, length uint64, anyRange bool) {
	start, length = d.Uint(), d.Uint()
	if d.Remaining() > 0 {
		anyRange = d.Uint()&1 != 0
	}
	return start, length, anyRange
}

// Want (type 5) asks the remote to tell us (with range or bitfield messages)
// which blocks of [Start, Start+Length) it has. JS sends aligned batches of
// 2^21 blocks and never sets Any.
type Want struct {
	Start  uint64
	Length uint64
	Any    bool
}

// Type returns TypeWant.
func (*Want) Type() Type { return TypeWant }

// Len returns the encoded size of m.
func (m *Want) Len() int { return wantLen(m.Start, m.Length, m.Any) }

// Append appends the encoding of m.
func (m *Want) Append(b []byte) []byte { return appendWant(b, m.Start, m.Length, m.Any) }

// Decode reads m from d.
func (m *Want) Decode(d *cenc.Decoder) { m.Start, m.Length, m.Any = decodeWant(d) }

// Unwant (type 6) withdraws a Want.
type Unwant struct {
	Start  uint64
	Length uint64
	Any    bool
}

// Type returns TypeUnwant.
func (*Unwant) Type() Type { return TypeUnwant }

// Len returns the encoded size of m.
func (m *Unwant) Len() int { return wantLen(m.Start, m.Length, m.Any) }

// Append appends the encoding of m.
func (m *Unwant) Append(b []byte) []byte { return appendWant(b, m.Start, m.Length, m.Any) }

// Decode reads m from d.
func (m *Unwant) Decode(d *cenc.Decoder) { m.Start, m.Length, m.Any = decodeWant(d) }

// Bitfield (type 7) says which blocks from Start (a multiple of 32) on the
// sender has: bit j of word w is block Start+32w+j. On the wire the words
// are a uint32array: a uint word count, then little-endian uint32s.
type Bitfield struct {
	Start    uint64
	Bitfield []uint32
}

// Type returns TypeBitfield.
func (*Bitfield) Type() Type { return TypeBitfield }

// Len returns the encoded size of m.
func (m *Bitfield) Len() int {
	return cenc.UintLen(m.Start) + cenc.UintLen(uint64(len(m.Bitfield))) + 4*len(m.Bitfield)
}

// Append appends the encoding of m.
func (m *Bitfield) Append(b []byte) []byte {
	b = cenc.AppendUint(b, m.Start)
	b = cenc.AppendUint(b, uint64(len(m.Bitfield)))
	for _, w := range m.Bitfield {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// Decode reads m from d. An empty bitfield decodes as nil. The count is
// bounded by the remaining bytes (JS's typed arrays have no element limit).
func (m *Bitfield) Decode(d *cenc.Decoder) {
	*m = Bitfield{Start: d.Uint()}
	n := d.Uint()
	if d.Err() != nil {
		return
	}
	if n > uint64(d.Remaining())/4 {
		d.Fail(fmt.Errorf("%w: uint32array of %d words in %d bytes", cenc.ErrOutOfBounds, n, d.Remaining()))
		return
	}
	if n == 0 {
		return
	}
	m.Bitfield = make([]uint32, n)
	for i := range m.Bitfield {
		m.Bitfield[i] = d.Uint32()
	}
}

// Range (type 8) says the sender now has (or, with Drop, no longer has)
// blocks [Start, Start+Length). Length 1 is carried by a flag.
type Range struct {
	Drop   bool
	Start  uint64
	Length uint64
}

// Type returns TypeRange.
func (*Range) Type() Type { return TypeRange }

// Len returns the encoded size of m.
func (m *Range) Len() int {
	n := 1 + cenc.UintLen(m.Start)
	if m.Length != 1 {
		n += cenc.UintLen(m.Length)
	}
	return n
}

// Append appends the encoding of m.
func (m *Range) Append(b []byte) []byte {
	b = cenc.AppendUint(b, boolFlag(m.Drop, 1)|boolFlag(m.Length == 1, 2))
	b = cenc.AppendUint(b, m.Start)
	if m.Length != 1 {
		b = cenc.AppendUint(b, m.Length)
	}
	return b
}

// Decode reads m from d.
func (m *Range) Decode(d *cenc.Decoder) {
	flags := d.Uint()
	*m = Range{Drop: flags&1 != 0, Start: d.Uint(), Length: 1}
	if flags&2 == 0 {
		m.Length = d.Uint()
	}
}

// Extension (type 9) carries a message of a named extension (hyperbee uses
// "hyperbee"). An empty Name means the name of the previous extension
// message in the same direction. Message is the rest of the payload, with no
// length prefix.
type Extension struct {
	Name    string
	Message []byte
}

// Type returns TypeExtension.
func (*Extension) Type() Type { return TypeExtension }

// Len returns the encoded size of m.
func (m *Extension) Len() int { return cenc.StringLen(m.Name) + len(m.Message) }

// Append appends the encoding of m.
func (m *Extension) Append(b []byte) []byte {
	b = cenc.AppendString(b, m.Name)
	return append(b, m.Message...)
}

// Decode reads m from d. Invalid UTF-8 in the name is replaced as JS
// replaces it. Message is a sub-slice of the input.
func (m *Extension) Decode(d *cenc.Decoder) {
	name := d.String()
	*m = Extension{Name: name, Message: d.Raw()}
}

// ReorgHint is the reorgHint encoding of messages.js (from, to, ancestors).
// It is not registered on the channel and never sent; it is here for
// completeness of the format.
type ReorgHint struct {
	From      uint64
	To        uint64
	Ancestors uint64
}

// Len returns the encoded size of m.
func (m *ReorgHint) Len() int { return pairLen(m.From, m.To) + cenc.UintLen(m.Ancestors) }

// Append appends the encoding of m.
func (m *ReorgHint) Append(b []byte) []byte {
	return cenc.AppendUint(appendPair(b, m.From, m.To), m.Ancestors)
}

// Decode reads m from d.
func (m *ReorgHint) Decode(d *cenc.Decoder) {
	*m = ReorgHint{From: d.Uint(), To: d.Uint(), Ancestors: d.Uint()}
}
