package wire

import (
	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hcrypto"
)

// DataBlock carries block Index, its Value and the proof Nodes (the
// siblings on the path from the block's leaf up).
type DataBlock struct {
	Index uint64
	Value []byte
	Nodes []hcrypto.Node
}

// DataHash carries the proof of tree node Index (a flat-tree index).
type DataHash struct {
	Index uint64
	Nodes []hcrypto.Node
}

// DataSeek carries the proof for the block holding byte offset Bytes.
type DataSeek struct {
	Bytes uint64
	Nodes []hcrypto.Node
}

// DataUpgrade carries the nodes that extend the requester's tree from Start
// to Start+Length blocks, the AdditionalNodes up to the responder's length,
// and the responder's Signature of that length (nil encodes as absent).
type DataUpgrade struct {
	Start           uint64
	Length          uint64
	Nodes           []hcrypto.Node
	AdditionalNodes []hcrypto.Node
	Signature       []byte
}

// Data (type 3) answers a request (Request is its id, 0 when unsolicited)
// with any of a block, a node, a seek result, an upgrade and the manifest.
type Data struct {
	Request  uint64
	Fork     uint64
	Block    *DataBlock
	Hash     *DataHash
	Seek     *DataSeek
	Upgrade  *DataUpgrade
	Manifest *Manifest
}

// Type returns TypeData.
func (*Data) Type() Type { return TypeData }

func (m *Data) flags() uint64 {
	return boolFlag(m.Block != nil, 1) | boolFlag(m.Hash != nil, 2) | boolFlag(m.Seek != nil, 4) |
		boolFlag(m.Upgrade != nil, 8) | boolFlag(m.Manifest != nil, 16)
}

// Len returns the encoded size of m.
func (m *Data) Len() int {
	n := 1 + cenc.UintLen(m.Request) + cenc.UintLen(m.Fork)
	if b := m.Block; b != nil {
		n += cenc.UintLen(b.Index) + cenc.BufferLen(len(b.Value)) + NodesLen(b.Nodes)
	}
	if h := m.Hash; h != nil {
		n += cenc.UintLen(h.Index) + NodesLen(h.Nodes)
	}
	if s := m.Seek; s != nil {
		n += cenc.UintLen(s.Bytes) + NodesLen(s.Nodes)
	}
	if u := m.Upgrade; u != nil {
		n += pairLen(u.Start, u.Length) + NodesLen(u.Nodes) + NodesLen(u.AdditionalNodes) +
			optionalBufferLen(u.Signature)
	}
	if m.Manifest != nil {
		n += m.Manifest.Len()
	}
	return n
}

// Append appends the encoding of m.
func (m *Data) Append(b []byte) []byte {
	b = cenc.AppendUint(b, m.flags())
	b = appendPair(b, m.Request, m.Fork)
	if x := m.Block; x != nil {
		b = cenc.AppendUint(b, x.Index)
		b = cenc.AppendBuffer(b, x.Value)
		b = AppendNodes(b, x.Nodes)
	}
	if x := m.Hash; x != nil {
		b = cenc.AppendUint(b, x.Index)
		b = AppendNodes(b, x.Nodes)
	}
	if x := m.Seek; x != nil {
		b = cenc.AppendUint(b, x.Bytes)
		b = AppendNodes(b, x.Nodes)
	}
	if x := m.Upgrade; x != nil {
		b = appendPair(b, x.Start, x.Length)
		b = AppendNodes(b, x.Nodes)
		b = AppendNodes(b, x.AdditionalNodes)
		b = appendOptionalBuffer(b, x.Signature)
	}
	if m.Manifest != nil {
		b = m.Manifest.Append(b)
	}
	return b
}

// Decode reads m from d. The block value and the signature are sub-slices
// of the input.
func (m *Data) Decode(d *cenc.Decoder) {
	flags := d.Uint()
	*m = Data{Request: d.Uint(), Fork: d.Uint()}
	if flags&1 != 0 {
		m.Block = &DataBlock{Index: d.Uint(), Value: d.Buffer(), Nodes: DecodeNodes(d)}
	}
	if flags&2 != 0 {
		m.Hash = &DataHash{Index: d.Uint(), Nodes: DecodeNodes(d)}
	}
	if flags&4 != 0 {
		m.Seek = &DataSeek{Bytes: d.Uint(), Nodes: DecodeNodes(d)}
	}
	if flags&8 != 0 {
		u := &DataUpgrade{Start: d.Uint(), Length: d.Uint()}
		u.Nodes = DecodeNodes(d)
		u.AdditionalNodes = DecodeNodes(d)
		u.Signature = decodeOptionalBuffer(d)
		m.Upgrade = u
	}
	if flags&16 != 0 {
		m.Manifest = new(Manifest)
		m.Manifest.Decode(d)
	}
}
