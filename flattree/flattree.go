// Package flattree is the index math of flat trees: a binary tree laid out
// in one array, in-order, so that the leaves (the blocks of a hypercore)
// sit at the even indices and every parent sits between its two children.
// Hypercore's merkle tree, bitfields and proofs are written against it.
//
// It matches the JS module flat-tree 1.13.0, function for function, with
// uint64 indices where JS uses numbers. Each index names one node:
//
//	depth 3:                      7
//	depth 2:          3                      11
//	depth 1:    1           5          9            13
//	depth 0:  0    2     4     6    8    10     12     14
//
// The node at depth d and offset o (its position among the nodes of that
// depth, from the left) has index (2o+1)·2^d − 1; the depth of an index is
// its number of trailing one bits. Block i is the leaf at index 2i, and a
// tree of n blocks spans the indices below 2n.
//
// Indices must stay below 2^63 (JS numbers stop being exact at 2^53, so no
// JS peer can use more); functions do not check, and results past that are
// meaningless.
//
// The functions are pure and safe for concurrent use; an [Iterator] is
// not.
package flattree

import "math/bits"

// Index returns the index of the node at depth and offset.
func Index(depth, offset uint64) uint64 {
	return offset<<(depth+1) | (1<<depth - 1)
}

// Depth returns the depth of index: 0 for a leaf, one more for each level
// above.
func Depth(index uint64) uint64 {
	return uint64(bits.TrailingZeros64(^index))
}

// Offset returns the position of index among the nodes of its depth,
// counted from 0 at the left.
func Offset(index uint64) uint64 {
	return index >> (Depth(index) + 1)
}

// Parent returns the index of the parent of index.
func Parent(index uint64) uint64 {
	d := Depth(index)
	return Index(d+1, index>>(d+2))
}

// Sibling returns the index of the other child of index's parent.
func Sibling(index uint64) uint64 {
	d := Depth(index)
	return Index(d, index>>(d+1)^1)
}

// LeftChild returns the left child of index. A leaf has no children:
// then ok is false (JS returns -1).
func LeftChild(index uint64) (child uint64, ok bool) {
	if index&1 == 0 {
		return 0, false
	}
	return index - halfWidth(index), true
}

// RightChild returns the right child of index. A leaf has no children:
// then ok is false (JS returns -1).
func RightChild(index uint64) (child uint64, ok bool) {
	if index&1 == 0 {
		return 0, false
	}
	return index + halfWidth(index), true
}

// Children returns both children of index. A leaf has no children: then
// ok is false (JS returns null).
func Children(index uint64) (left, right uint64, ok bool) {
	if index&1 == 0 {
		return 0, 0, false
	}
	h := halfWidth(index)
	return index - h, index + h, true
}

// halfWidth returns the distance from a parent to each of its children,
// 2^(depth-1). index must not be a leaf.
func halfWidth(index uint64) uint64 {
	return 1 << (Depth(index) - 1)
}

// LeftSpan returns the leftmost leaf under index (index itself for a
// leaf).
func LeftSpan(index uint64) uint64 {
	return index - (1<<Depth(index) - 1)
}

// RightSpan returns the rightmost leaf under index (index itself for a
// leaf).
func RightSpan(index uint64) uint64 {
	return index + (1<<Depth(index) - 1)
}

// Spans returns the leftmost and rightmost leaves under index.
func Spans(index uint64) (left, right uint64) {
	w := uint64(1)<<Depth(index) - 1
	return index - w, index + w
}

// Count returns the number of nodes in the subtree rooted at index,
// index included.
func Count(index uint64) uint64 {
	return 2<<Depth(index) - 1
}

// CountLeaves returns the number of leaves under index (1 for a leaf).
func CountLeaves(index uint64) uint64 {
	return 1 << Depth(index)
}

// NextLeaf returns the first leaf to the right of the subtree rooted at
// index.
func NextLeaf(index uint64) uint64 {
	return RightSpan(index) + 2
}

// FullRoots returns the roots of the tree whose leaves are the even
// indices below index, from left to right: for a tree of n blocks, call it
// with 2n. Each root is the largest perfect subtree that fits in the
// leaves still uncovered. FullRoots panics if index is odd, as JS throws.
func FullRoots(index uint64) []uint64 {
	return AppendFullRoots(nil, index)
}

// AppendFullRoots is like [FullRoots] but appends the roots to dst.
func AppendFullRoots(dst []uint64, index uint64) []uint64 {
	if index&1 != 0 {
		panic("flattree: full roots of an odd index")
	}
	var offset uint64 // first leaf not yet covered, as an index
	for leaves := index / 2; leaves > 0; {
		factor := uint64(1) << (bits.Len64(leaves) - 1) // largest power of 2 ≤ leaves
		dst = append(dst, offset+factor-1)
		offset += 2 * factor
		leaves -= factor
	}
	return dst
}

// FutureRoots returns what flat-tree's futureRoots returns for the even
// index. Hypercore does not use it; it is here so that every export of
// flat-tree 1.13.0 has a Go counterpart, and the tests check it against JS
// over a range of indices. FutureRoots panics if index is odd, as JS
// throws.
func FutureRoots(index uint64) []uint64 {
	if index&1 != 0 {
		panic("flattree: future roots of an odd index")
	}
	var out []uint64
	factor := uint64(1)
	for factor*2 <= index {
		factor *= 2
	}
	if factor*2-2 == index {
		return out
	}
	pos := factor/2 - 1
	for pos+factor/2-1 != index {
		pos += factor
		for pos+factor/2-1 > index {
			factor /= 2
			pos -= factor / 2
		}
		out = append(out, pos-factor/2)
	}
	return out
}

// Patch returns the nodes that, added to the roots of a tree of from/2
// blocks, prove the roots of a tree of to/2 blocks: new sibling and parent
// nodes in the order flat-tree's patch yields them, then the remaining
// roots of the larger tree. from and to are even (twice the lengths); Patch
// returns nil when from is 0 or from >= to.
func Patch(from, to uint64) []uint64 {
	if from == 0 || from >= to {
		return nil
	}
	roots := FullRoots(from)
	target := FullRoots(to)

	// Skip the roots the two trees share.
	i := 0
	for i < len(target) && i < len(roots) && roots[i] == target[i] {
		i++
	}

	var patch []uint64
	if i < len(roots) {
		// Grow the newest root of the smaller tree until it becomes the
		// first root that differs, collecting the siblings it needs that
		// are not roots already, and each parent on the way.
		prev := len(roots) - 1
		it := NewIterator(roots[prev])
		prev--
		for it.Index() != target[i] {
			it.Sibling()
			if prev >= 0 && it.Index() == roots[prev] {
				prev--
			} else {
				patch = append(patch, it.Index())
			}
			patch = append(patch, it.Parent())
		}
		i++
	}
	return append(patch, target[i:]...)
}
