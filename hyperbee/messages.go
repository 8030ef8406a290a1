package hyperbee

import (
	"encoding/binary"
	"fmt"
)

// This file holds the block codecs of hyperbee 2.x (lib/messages.js, made by
// the protocol-buffers compiler from schema.proto): protobuf wire format with
// LEB128 varints, not compact-encoding (PROTOCOLS.md §6.1).
//
//	Header   { 1 protocol string (required), 2 metadata Metadata }
//	Metadata { 1 contentFeed bytes, 2 userData bytes }
//	Node     { 1 index bytes (required), 2 key bytes (required), 3 value bytes }
//	YoloIndex{ 1 levels Level (repeated) }
//	Level    { 1 keys packed varint, 2 children packed varint }
//
// Encoders write fields in field order, omit absent optional fields and
// empty packed fields, exactly as the JS encoders do. Decoders skip unknown
// fields, let a repeated field's last occurrence win (or, for packed fields,
// accumulate), and return an error wrapping ErrCorrupt for anything they
// cannot read; they never panic and never read past their input.

const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2
	wireFixed32 = 5
)

// protocolName is Header.protocol of every hyperbee.
const protocolName = "hyperbee"

// Header is block 0 of a hyperbee (lib/messages.js Header): the protocol
// name, always "hyperbee", and optional metadata.
type Header struct {
	// Protocol is "hyperbee" for a hyperbee.
	Protocol string
	// Metadata is nil when the bee was created without metadata.
	Metadata *Metadata
}

// Metadata is the optional part of a [Header] (lib/messages.js
// Header.Metadata). Hyperdrive stores its blobs core key in ContentFeed.
// A nil field is absent; a non-nil empty one is present and empty.
type Metadata struct {
	ContentFeed []byte
	UserData    []byte
}

// protoReader reads protobuf fields from a byte slice. Its first error is
// sticky.
type protoReader struct {
	b   []byte
	err error
}

func (r *protoReader) done() bool { return r.err != nil || len(r.b) == 0 }

func (r *protoReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
}

func (r *protoReader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length-delimited value. The result aliases the input.
func (r *protoReader) bytes() []byte {
	n := r.varint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length %d past the end", n)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// tag reads a field tag.
func (r *protoReader) tag() (field uint64, wire int) {
	t := r.varint()
	return t >> 3, int(t & 7)
}

// skip skips a field's value of the given wire type.
func (r *protoReader) skip(wire int) {
	switch wire {
	case wireVarint:
		r.varint()
	case wireFixed64:
		r.advance(8)
	case wireBytes:
		r.bytes()
	case wireFixed32:
		r.advance(4)
	default:
		r.fail("unsupported wire type %d", wire)
	}
}

func (r *protoReader) advance(n int) {
	if r.err != nil {
		return
	}
	if len(r.b) < n {
		r.fail("truncated field")
		return
	}
	r.b = r.b[n:]
}

// expect checks the wire type of a known field.
func (r *protoReader) expect(wire, want int, field string) bool {
	if wire != want {
		r.fail("%s has wire type %d", field, wire)
		return false
	}
	return true
}

func appendTagBytes(b []byte, field int, v []byte) []byte {
	b = append(b, byte(field<<3|wireBytes))
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// encodeHeader encodes h as JS Header.encode does.
func encodeHeader(h *Header) []byte {
	b := appendTagBytes(nil, 1, []byte(h.Protocol))
	if h.Metadata != nil {
		var m []byte
		if h.Metadata.ContentFeed != nil {
			m = appendTagBytes(m, 1, h.Metadata.ContentFeed)
		}
		if h.Metadata.UserData != nil {
			m = appendTagBytes(m, 2, h.Metadata.UserData)
		}
		b = appendTagBytes(b, 2, m)
	}
	return b
}

// decodeHeader decodes block 0. It requires the protocol field, as JS does,
// but not that it says "hyperbee". The result aliases b.
func decodeHeader(b []byte) (*Header, error) {
	r := protoReader{b: b}
	h := &Header{}
	found := false
	for !r.done() {
		field, wire := r.tag()
		switch field {
		case 1:
			if r.expect(wire, wireBytes, "protocol") {
				h.Protocol = string(r.bytes())
				found = true
			}
		case 2:
			if r.expect(wire, wireBytes, "metadata") {
				h.Metadata = decodeMetadata(&r, r.bytes())
			}
		default:
			r.skip(wire)
		}
	}
	if r.err == nil && !found {
		r.fail("header without protocol")
	}
	if r.err != nil {
		return nil, r.err
	}
	return h, nil
}

func decodeMetadata(outer *protoReader, b []byte) *Metadata {
	r := protoReader{b: b}
	m := &Metadata{}
	for !r.done() {
		field, wire := r.tag()
		switch field {
		case 1:
			if r.expect(wire, wireBytes, "contentFeed") {
				m.ContentFeed = r.bytes()
			}
		case 2:
			if r.expect(wire, wireBytes, "userData") {
				m.UserData = r.bytes()
			}
		default:
			r.skip(wire)
		}
	}
	if r.err != nil && outer.err == nil {
		outer.err = r.err
	}
	return m
}

// nodeMsg is a decoded Node block: the operation's key, its value (nil when
// absent: a deletion, or a JS put of null) and the raw YoloIndex.
type nodeMsg struct {
	index []byte
	key   []byte
	value []byte
}

// encodeNode encodes a Node block as JS Node.encode does. A nil value is
// omitted; an empty non-nil value is written as an empty field.
func encodeNode(index, key, value []byte) []byte {
	n := 3 + len(index) + len(key) + binary.MaxVarintLen64*2
	if value != nil {
		n += 1 + binary.MaxVarintLen64 + len(value)
	}
	b := make([]byte, 0, n)
	b = appendTagBytes(b, 1, index)
	b = appendTagBytes(b, 2, key)
	if value != nil {
		b = appendTagBytes(b, 3, value)
	}
	return b
}

// decodeNode decodes a Node block. index and key are required. The result
// aliases b.
func decodeNode(b []byte) (nodeMsg, error) {
	r := protoReader{b: b}
	var n nodeMsg
	var hasIndex, hasKey bool
	for !r.done() {
		field, wire := r.tag()
		switch field {
		case 1:
			if r.expect(wire, wireBytes, "index") {
				n.index = r.bytes()
				hasIndex = true
			}
		case 2:
			if r.expect(wire, wireBytes, "key") {
				n.key = r.bytes()
				hasKey = true
			}
		case 3:
			if r.expect(wire, wireBytes, "value") {
				n.value = r.bytes()
			}
		default:
			r.skip(wire)
		}
	}
	if r.err == nil && (!hasIndex || !hasKey) {
		r.fail("node without index or key")
	}
	if r.err != nil {
		return nodeMsg{}, r.err
	}
	return n, nil
}

// rawLevel is one decoded YoloIndex level: block seqs of its keys and the
// flattened (seq, offset) pairs of its children.
type rawLevel struct {
	keys     []uint64
	children []uint64
}

// decodeIndex decodes a YoloIndex.
func decodeIndex(b []byte) ([]rawLevel, error) {
	spans, err := indexSpans(b)
	if err != nil {
		return nil, err
	}
	levels := make([]rawLevel, len(spans))
	// All values go into one backing slice (at most one value per byte).
	vals := make([]uint64, 0, len(b))
	for i, sp := range spans {
		var k0, k1, c0, c1 int
		if k0, k1, c0, c1, vals, err = decodeLevel(b[sp.start:sp.end], vals); err != nil {
			return nil, err
		}
		levels[i] = rawLevel{keys: vals[k0:k1:k1], children: vals[c0:c1:c1]}
	}
	return levels, nil
}

// span is where one Level message is in an encoded YoloIndex.
type span struct{ start, end int }

// indexSpans finds the Level messages of a YoloIndex without decoding
// them: a reader usually needs one or two of the hundreds of levels the
// last block of a batch holds.
func indexSpans(b []byte) ([]span, error) {
	r := protoReader{b: b}
	var spans []span
	for !r.done() {
		field, wire := r.tag()
		switch field {
		case 1:
			if r.expect(wire, wireBytes, "level") {
				l := r.bytes()
				end := len(b) - len(r.b)
				spans = append(spans, span{end - len(l), end})
			}
		default:
			r.skip(wire)
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return spans, nil
}

// levelBuf is a rawLevel with room for the values of a full level, so
// that decoding one takes one allocation.
type levelBuf struct {
	rawLevel
	buf [3 * maxChildren]uint64
}

// decodeLevelAlone decodes one Level message on its own.
func decodeLevelAlone(b []byte) (*rawLevel, error) {
	lb := &levelBuf{}
	vals := lb.buf[:0]
	if len(b) > len(lb.buf) {
		vals = make([]uint64, 0, len(b)) // at most one value per byte
	}
	k0, k1, c0, c1, vals, err := decodeLevel(b, vals)
	if err != nil {
		return nil, err
	}
	lb.keys, lb.children = vals[k0:k1:k1], vals[c0:c1:c1]
	return &lb.rawLevel, nil
}

// decodeLevel decodes one Level, appending its keys and then its children
// to vals and returning where they are. Repeated fields accumulate, as in
// JS. It reads the message twice, keys then children, so that fields may
// come in any order.
func decodeLevel(b []byte, vals []uint64) (k0, k1, c0, c1 int, _ []uint64, _ error) {
	var r protoReader
	pass := func(want uint64, name string) {
		r.b = b
		for !r.done() {
			field, wire := r.tag()
			switch field {
			case 1, 2:
				if r.expect(wire, wireBytes, name) {
					p := r.bytes()
					if field == want {
						vals = decodePacked(&r, p, vals)
					}
				}
			default:
				r.skip(wire)
			}
		}
	}
	k0 = len(vals)
	pass(1, "keys")
	k1, c0 = len(vals), len(vals)
	pass(2, "children")
	c1 = len(vals)
	if r.err == nil && (c1-c0)%2 != 0 {
		r.fail("odd number of child pointers")
	}
	return k0, k1, c0, c1, vals, r.err
}

func decodePacked(r *protoReader, b []byte, dst []uint64) []uint64 {
	if r.err != nil {
		return dst
	}
	for len(b) > 0 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			r.fail("bad packed varint")
			return dst
		}
		dst = append(dst, v)
		b = b[n:]
	}
	return dst
}

// appendPacked appends a packed varint field; an empty list is omitted, as
// JS omits a packed field whose encoded length is zero.
func appendPacked(b []byte, field int, vs []uint64) []byte {
	if len(vs) == 0 {
		return b
	}
	n := 0
	for _, v := range vs {
		n += uvarintLen(v)
	}
	b = append(b, byte(field<<3|wireBytes))
	b = binary.AppendUvarint(b, uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// appendLevel appends one Level message (without its tag and length).
func appendLevel(b []byte, keys, children []uint64) []byte {
	b = appendPacked(b, 1, keys)
	return appendPacked(b, 2, children)
}

// encodeIndex encodes a YoloIndex from its levels.
func encodeIndex(levels []rawLevel) []byte {
	var b, lvl []byte
	for _, l := range levels {
		lvl = appendLevel(lvl[:0], l.keys, l.children)
		b = appendTagBytes(b, 1, lvl)
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
