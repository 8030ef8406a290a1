package wire

import "github.com/gopear/gopear/cenc"

// RequestBlock asks for block Index (a block number) with a proof; Nodes is
// how many tree nodes, counting from the block's leaf upward, the requester
// is missing.
type RequestBlock struct{ Index, Nodes uint64 }

// RequestHash asks for tree node Index (a flat-tree index, not a block
// number) with a proof of Nodes levels.
type RequestHash struct{ Index, Nodes uint64 }

// RequestSeek asks for the block holding byte offset Bytes, where each block
// counts its size minus Padding bytes.
type RequestSeek struct{ Bytes, Padding uint64 }

// RequestUpgrade asks for a proof that extends the requester's tree of
// length Start by Length blocks, with the responder's signature.
type RequestUpgrade struct{ Start, Length uint64 }

// Request (type 1) asks the remote for a block, a tree node, a seek, an
// upgrade and/or the manifest. ID is chosen by the requester (0 for
// unsolicited traffic); Fork is the requester's fork. Priority 0 is not
// written.
type Request struct {
	ID       uint64
	Fork     uint64
	Block    *RequestBlock
	Hash     *RequestHash
	Seek     *RequestSeek
	Upgrade  *RequestUpgrade
	Manifest bool
	Priority uint64
}

// Type returns TypeRequest.
func (*Request) Type() Type { return TypeRequest }

func (r *Request) flags() uint64 {
	return boolFlag(r.Block != nil, 1) | boolFlag(r.Hash != nil, 2) | boolFlag(r.Seek != nil, 4) |
		boolFlag(r.Upgrade != nil, 8) | boolFlag(r.Manifest, 16) | boolFlag(r.Priority != 0, 32)
}

func pairLen(a, b uint64) int { return cenc.UintLen(a) + cenc.UintLen(b) }

func appendPair(b []byte, x, y uint64) []byte {
	return cenc.AppendUint(cenc.AppendUint(b, x), y)
}

// Len returns the encoded size of r.
func (r *Request) Len() int {
	n := 1 + cenc.UintLen(r.ID) + cenc.UintLen(r.Fork)
	if r.Block != nil {
		n += pairLen(r.Block.Index, r.Block.Nodes)
	}
	if r.Hash != nil {
		n += pairLen(r.Hash.Index, r.Hash.Nodes)
	}
	if r.Seek != nil {
		n += pairLen(r.Seek.Bytes, r.Seek.Padding)
	}
	if r.Upgrade != nil {
		n += pairLen(r.Upgrade.Start, r.Upgrade.Length)
	}
	if r.Priority != 0 {
		n += cenc.UintLen(r.Priority)
	}
	return n
}

// Append appends the encoding of r.
func (r *Request) Append(b []byte) []byte {
	b = cenc.AppendUint(b, r.flags())
	b = appendPair(b, r.ID, r.Fork)
	if r.Block != nil {
		b = appendPair(b, r.Block.Index, r.Block.Nodes)
	}
	if r.Hash != nil {
		b = appendPair(b, r.Hash.Index, r.Hash.Nodes)
	}
	if r.Seek != nil {
		b = appendPair(b, r.Seek.Bytes, r.Seek.Padding)
	}
	if r.Upgrade != nil {
		b = appendPair(b, r.Upgrade.Start, r.Upgrade.Length)
	}
	if r.Priority != 0 {
		b = cenc.AppendUint(b, r.Priority)
	}
	return b
}

// Decode reads r from d.
func (r *Request) Decode(d *cenc.Decoder) {
	flags := d.Uint()
	*r = Request{ID: d.Uint(), Fork: d.Uint(), Manifest: flags&16 != 0}
	if flags&1 != 0 {
		r.Block = &RequestBlock{Index: d.Uint(), Nodes: d.Uint()}
	}
	if flags&2 != 0 {
		r.Hash = &RequestHash{Index: d.Uint(), Nodes: d.Uint()}
	}
	if flags&4 != 0 {
		r.Seek = &RequestSeek{Bytes: d.Uint(), Padding: d.Uint()}
	}
	if flags&8 != 0 {
		r.Upgrade = &RequestUpgrade{Start: d.Uint(), Length: d.Uint()}
	}
	if flags&32 != 0 {
		r.Priority = d.Uint()
	}
}
