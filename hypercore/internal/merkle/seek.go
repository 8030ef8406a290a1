package merkle

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/gopear/gopear/flattree"
)

// Seeking maps a byte offset to the block holding it. Each block counts its
// size minus a padding (encrypted cores pad every block with 8 bytes that
// do not count). JS does this arithmetic in doubles, where a padded size
// can go negative when a peer asks with a large padding; here it is done in
// int64 with every size and product kept below seekLimit, so that no
// sequence of steps can overflow, and larger values are refused.
const seekLimit = 1 << 55

// errSeek is wrapped when seek arithmetic would leave the exact range.
var errSeek = errors.New("merkle: seek values out of range")

// unpaddedSize returns size - padding·leaves, which may be negative.
func unpaddedSize(size, padding, leaves uint64) (int64, error) {
	hi, lo := bits.Mul64(padding, leaves)
	if size >= seekLimit || hi != 0 || lo >= seekLimit {
		return 0, fmt.Errorf("%w: size %d, padding %d, %d blocks", errSeek, size, padding, leaves)
	}
	return int64(size) - int64(lo), nil
}

// seekBytes converts a requested byte offset.
func seekBytes(bytes uint64) (int64, error) {
	if bytes >= seekLimit {
		return 0, fmt.Errorf("%w: offset %d", errSeek, bytes)
	}
	return int64(bytes), nil
}

// SeekResult is the answer of [Tree.Seek].
type SeekResult struct {
	// Found is true when the block holding the offset is known: Block is
	// its index and Offset the position inside it. An offset at the very
	// end gives Block = Length, Offset 0.
	Found         bool
	Block, Offset uint64
	// Start and End bound the blocks to download when Found is false (JS
	// ByteSeeker start and end); Start >= Length means the offset lies past
	// the tree and an upgrade is needed.
	Start, End uint64
}

// Seek finds the block holding byte offset bytes, each block counting its
// size minus padding (JS MerkleTree.seek and ByteSeeker.update). When a
// node on the way is not stored, the result says which blocks to fetch.
func (t *Tree) Seek(bytes, padding uint64) (SeekResult, error) {
	var res SeekResult
	b, err := seekBytes(bytes)
	if err != nil {
		return res, err
	}
	size, err := unpaddedSize(t.byteLength, padding, t.length)
	if err != nil {
		return res, err
	}
	if b >= size {
		res.Start = t.length
	} else {
		res.End = t.length
	}
	if b == 0 {
		res.Found = true
		return res, nil
	}
	index, rest, ok, err := t.seekLocal(b, padding)
	if err != nil || !ok {
		return res, err
	}
	if index&1 == 0 {
		return SeekResult{Found: true, Block: index / 2, Offset: uint64(rest)}, nil
	}
	left, right := flattree.Spans(index)
	res.Start, res.End = left/2, right/2+1
	return res, nil
}

// seekLocal walks the roots and then down the stored nodes to the leaf
// holding bytes (JS ByteSeeker._seek). It returns the leaf and the offset
// inside it, or the lowest node whose children are not stored; ok is false
// when bytes lies past the tree.
func (t *Tree) seekLocal(bytes int64, padding uint64) (index uint64, rest int64, ok bool, err error) {
	for _, root := range t.roots {
		size, err := unpaddedSize(root.Size, padding, flattree.CountLeaves(root.Index))
		if err != nil {
			return 0, 0, false, err
		}
		if bytes == size {
			return flattree.RightSpan(root.Index) + 2, 0, true, nil
		}
		if bytes > size {
			bytes -= size
			continue
		}
		it := flattree.NewIterator(root.Index)
		for it.Index()&1 != 0 {
			l, ok, err := t.nodes.Node(it.LeftChild())
			if err != nil {
				return 0, 0, false, err
			}
			if !ok {
				it.Parent()
				return it.Index(), bytes, true, nil
			}
			size, err := unpaddedSize(l.Size, padding, it.CountLeaves())
			if err != nil {
				return 0, 0, false, err
			}
			if size == bytes {
				return it.PeekRightSpan() + 2, 0, true, nil
			}
			if size > bytes {
				continue
			}
			bytes -= size
			it.Sibling()
		}
		return it.Index(), bytes, true, nil
	}
	return 0, 0, false, nil
}

// The seeks of proof generation. Their errors are the requester's fault,
// so they wrap ErrInvalidRequest, storage errors aside.

// seekTrusted finds the node holding bytes inside root, trusting that it
// lies there (JS seekTrustedTree): a leaf, the left child whose data ends
// exactly at bytes, or the lowest node whose children are not stored.
func (g *proofGen) seekTrusted(root uint64, bytes int64, padding uint64) (uint64, error) {
	if bytes == 0 {
		return root, nil
	}
	it := flattree.NewIterator(root)
	for it.Index()&1 != 0 {
		l, ok, err := g.t.nodes.Node(it.LeftChild())
		if err != nil {
			return 0, err
		}
		if !ok {
			return it.Parent(), nil
		}
		size, err := unpaddedSize(l.Size, padding, it.CountLeaves())
		if err != nil {
			return 0, invalid("%v", err)
		}
		if size == bytes {
			return it.Index(), nil
		}
		if size > bytes {
			continue
		}
		bytes -= size
		it.Sibling()
	}
	return it.Index(), nil
}

// seekInside finds the node holding bytes inside root, checking that the
// offset does lie there (JS seekUntrustedTree).
func (g *proofGen) seekInside(root, bytes, padding uint64) (uint64, error) {
	b, err := seekBytes(bytes)
	if err != nil {
		return 0, invalid("%v", err)
	}
	off, skipped, err := g.t.byteOffset(root)
	if err != nil {
		if errors.Is(err, ErrMissingNode) || errors.Is(err, ErrOutOfBounds) {
			return 0, invalid("%v", err)
		}
		return 0, err
	}
	if skipped {
		// JS quirk, kept so that answers are byte-identical: the offset of
		// a node past the first root is NaN in JS (see Tree.ByteOffset),
		// every comparison with it fails, and the seek stops at root. Both
		// answers verify.
		if _, err := g.get(root); err != nil {
			return 0, err
		}
		return root, nil
	}
	offset, err := unpaddedSize(off, padding, flattree.LeftSpan(root)/2)
	if err != nil {
		return 0, invalid("%v", err)
	}
	if offset > b {
		return 0, invalid("seek to %d before node %d", bytes, root)
	}
	if offset == b {
		return root, nil
	}
	b -= offset
	n, err := g.get(root)
	if err != nil {
		return 0, err
	}
	size, err := unpaddedSize(n.Size, padding, flattree.CountLeaves(root))
	if err != nil {
		return 0, invalid("%v", err)
	}
	if size <= b {
		return 0, invalid("seek to %d past node %d", bytes, root)
	}
	return g.seekTrusted(root, b, padding)
}

// seekFromHead finds the node holding bytes in the tree of head/2 blocks,
// or returns head when bytes lies past it (JS seekFromHead).
func (g *proofGen) seekFromHead(head, bytes, padding uint64) (uint64, error) {
	b, err := seekBytes(bytes)
	if err != nil {
		return 0, invalid("%v", err)
	}
	for _, root := range flattree.FullRoots(head) {
		n, err := g.get(root)
		if err != nil {
			return 0, err
		}
		size, err := unpaddedSize(n.Size, padding, flattree.CountLeaves(root))
		if err != nil {
			return 0, invalid("%v", err)
		}
		if b == size {
			return root, nil
		}
		if b > size {
			b -= size
			continue
		}
		return g.seekTrusted(root, b, padding)
	}
	return head, nil
}
