package wire

import (
	"errors"
	"fmt"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hcrypto"
)

// ErrInvalid is wrapped by decoding errors that are not cenc errors: unknown
// versions, unknown hash or signature ids, counts above the array limit.
var ErrInvalid = errors.New("wire: invalid message")

// nodeMinLen is the smallest encoding of a tree node: two one-byte varints
// and a 32-byte hash.
const nodeMinLen = 1 + 1 + 32

// NodeLen returns the encoded size of a tree node (codec node: uint index,
// uint size, fixed32 hash).
func NodeLen(n hcrypto.Node) int {
	return cenc.UintLen(n.Index) + cenc.UintLen(n.Size) + 32
}

// AppendNode appends the encoding of n.
func AppendNode(b []byte, n hcrypto.Node) []byte {
	b = cenc.AppendUint(b, n.Index)
	b = cenc.AppendUint(b, n.Size)
	return append(b, n.Hash[:]...)
}

// DecodeNode reads one tree node.
func DecodeNode(d *cenc.Decoder) hcrypto.Node {
	return hcrypto.Node{Index: d.Uint(), Size: d.Uint(), Hash: d.Fixed32()}
}

// NodesLen returns the encoded size of an array of tree nodes.
func NodesLen(nodes []hcrypto.Node) int {
	n := cenc.UintLen(uint64(len(nodes)))
	for _, x := range nodes {
		n += NodeLen(x)
	}
	return n
}

// AppendNodes appends an array of tree nodes: a uint count, then each node.
func AppendNodes(b []byte, nodes []hcrypto.Node) []byte {
	b = cenc.AppendUint(b, uint64(len(nodes)))
	for _, x := range nodes {
		b = AppendNode(b, x)
	}
	return b
}

// DecodeNodes reads an array of tree nodes. An empty array decodes as nil.
func DecodeNodes(d *cenc.Decoder) []hcrypto.Node {
	n := arrayCount(d, nodeMinLen)
	if n == 0 {
		return nil
	}
	nodes := make([]hcrypto.Node, n)
	for i := range nodes {
		nodes[i] = DecodeNode(d)
	}
	if d.Err() != nil {
		return nil
	}
	return nodes
}

// arrayCount reads an array count and checks it against compact-encoding's limit and
// against the remaining input, given the smallest encoding of one element,
// so that callers can allocate the result without trusting the input.
func arrayCount(d *cenc.Decoder, minElem int) int {
	n := d.Uint()
	if d.Err() != nil {
		return 0
	}
	if n > cenc.MaxArrayLength {
		d.Fail(fmt.Errorf("%w: array of %d elements (limit %d)", cenc.ErrArrayTooLarge, n, cenc.MaxArrayLength))
		return 0
	}
	if n*uint64(minElem) > uint64(d.Remaining()) {
		d.Fail(fmt.Errorf("%w: array of %d elements in %d bytes", cenc.ErrOutOfBounds, n, d.Remaining()))
		return 0
	}
	return int(n)
}

// boolFlag returns bit if v is true, else 0.
func boolFlag(v bool, bit uint64) uint64 {
	if v {
		return bit
	}
	return 0
}

// optionalBufferLen returns the encoded size of p as an optionalBuffer.
func optionalBufferLen(p []byte) int {
	return cenc.BufferLen(len(p))
}

// appendOptionalBuffer appends p as compact-encoding's optionalBuffer: nil
// (or empty) is a single zero byte.
func appendOptionalBuffer(b, p []byte) []byte {
	return cenc.AppendBuffer(b, p)
}

// decodeOptionalBuffer reads an optionalBuffer; length 0 decodes as nil, as
// JS decodes it to null.
func decodeOptionalBuffer(d *cenc.Decoder) []byte {
	p := d.Buffer()
	if len(p) == 0 {
		return nil
	}
	return p
}
