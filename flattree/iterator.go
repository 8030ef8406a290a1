package flattree

// Iterator walks a flat tree one step at a time, as flat-tree's iterator
// does; hypercore's proof and verification code is written against it.
// Each move returns the new index.
//
// An Iterator tracks the index, its offset and its depth. The zero
// Iterator is at index 0, like NewIterator(0). An Iterator is a small
// value and is not safe for concurrent use.
type Iterator struct {
	index  uint64
	offset uint64
	depth  uint64 // JS keeps factor = 2^(depth+1), the width of the subtree in indices
}

// NewIterator returns an Iterator at index.
func NewIterator(index uint64) *Iterator {
	it := new(Iterator)
	it.Seek(index)
	return it
}

// Seek moves the iterator to index.
func (it *Iterator) Seek(index uint64) {
	it.index = index
	it.depth = Depth(index)
	it.offset = index >> (it.depth + 1)
}

// Index returns the index the iterator is at.
func (it *Iterator) Index() uint64 { return it.index }

// Offset returns the offset of the current index within its depth.
func (it *Iterator) Offset() uint64 { return it.offset }

// Depth returns the depth of the current index.
func (it *Iterator) Depth() uint64 { return it.depth }

// Factor returns the width of the subtree under the current index, in
// indices: 2^(depth+1). JS code reads it as ite.factor.
func (it *Iterator) Factor() uint64 { return 2 << it.depth }

// half returns factor/2, the distance from the index to either span, plus
// one.
func (it *Iterator) half() uint64 { return 1 << it.depth }

// IsLeft reports whether the current index is a left child.
func (it *Iterator) IsLeft() bool { return it.offset&1 == 0 }

// IsRight reports whether the current index is a right child.
func (it *Iterator) IsRight() bool { return it.offset&1 == 1 }

// IsRoot reports whether the current index is a root of a tree of length
// blocks: its subtree fits in the tree and its parent's does not.
func (it *Iterator) IsRoot(length uint64) bool {
	current := 1 + (it.index+it.half()-1)/2 // blocks up to our right span
	if length < current {
		return false
	}
	parent := it.index + it.half()
	if it.IsRight() {
		parent = it.index - it.half()
	}
	parentLength := 1 + (parent+it.Factor()-1)/2 // blocks up to the parent's right span
	return parentLength > length
}

// Contains reports whether index is in the subtree under the current
// index.
func (it *Iterator) Contains(index uint64) bool {
	switch {
	case index > it.index:
		return index < it.index+it.half()
	case index < it.index:
		return index+it.half() > it.index // index > it.index-half, without underflow
	}
	return true
}

// Prev moves to the node to the left at the same depth. At offset 0 it
// stays put.
func (it *Iterator) Prev() uint64 {
	if it.offset == 0 {
		return it.index
	}
	it.offset--
	it.index -= it.Factor()
	return it.index
}

// Next moves to the node to the right at the same depth.
func (it *Iterator) Next() uint64 {
	it.offset++
	it.index += it.Factor()
	return it.index
}

// Count returns the number of nodes in the subtree under the current
// index, itself included.
func (it *Iterator) Count() uint64 {
	return it.Factor() - 1
}

// CountLeaves returns the number of leaves under the current index.
func (it *Iterator) CountLeaves() uint64 { return it.half() }

// Sibling moves to the sibling of the current index.
func (it *Iterator) Sibling() uint64 {
	if it.IsLeft() {
		return it.Next()
	}
	return it.Prev()
}

// Parent moves to the parent of the current index.
func (it *Iterator) Parent() uint64 {
	if it.IsRight() {
		it.index -= it.half()
	} else {
		it.index += it.half()
	}
	it.offset >>= 1
	it.depth++
	return it.index
}

// LeftSpan moves to the leftmost leaf under the current index.
func (it *Iterator) LeftSpan() uint64 {
	it.index = it.PeekLeftSpan()
	it.offset = it.index / 2
	it.depth = 0
	return it.index
}

// PeekLeftSpan returns the leftmost leaf under the current index without
// moving.
func (it *Iterator) PeekLeftSpan() uint64 { return it.index - it.half() + 1 }

// RightSpan moves to the rightmost leaf under the current index.
func (it *Iterator) RightSpan() uint64 {
	it.index = it.PeekRightSpan()
	it.offset = it.index / 2
	it.depth = 0
	return it.index
}

// PeekRightSpan returns the rightmost leaf under the current index
// without moving.
func (it *Iterator) PeekRightSpan() uint64 { return it.index + it.half() - 1 }

// LeftChild moves to the left child of the current index. On a leaf it
// stays put.
func (it *Iterator) LeftChild() uint64 {
	if it.depth == 0 {
		return it.index
	}
	it.depth--
	it.index -= it.half()
	it.offset *= 2
	return it.index
}

// RightChild moves to the right child of the current index. On a leaf it
// stays put.
func (it *Iterator) RightChild() uint64 {
	if it.depth == 0 {
		return it.index
	}
	it.depth--
	it.index += it.half()
	it.offset = 2*it.offset + 1
	return it.index
}

// NextTree moves to the first leaf to the right of the subtree under the
// current index.
func (it *Iterator) NextTree() uint64 {
	it.index += it.half() + 1
	it.offset = it.index / 2
	it.depth = 0
	return it.index
}

// PrevTree moves to the last leaf to the left of the subtree under the
// current index, or to leaf 0 when the current index is at offset 0.
func (it *Iterator) PrevTree() uint64 {
	if it.offset == 0 {
		it.index = 0
	} else {
		it.index -= it.half() + 1
		it.offset = it.index / 2
	}
	it.depth = 0
	return it.index
}

// FullRoot grows the current leaf into the largest subtree that fits in a
// tree whose leaves are the even indices below index, and reports whether
// it did: it returns false, without moving, when the iterator is not on a
// leaf or index does not lie to its right.
//
// Starting at leaf 0 and calling NextTree after each root, FullRoot visits
// the roots of the tree in the order of [FullRoots]:
//
//	for it := NewIterator(0); it.FullRoot(to); it.NextTree() { ... }
//
// Like JS, it assumes the leaf starts such a subtree (it is the left edge
// of every parent it grows into); from other leaves the result is
// meaningless.
func (it *Iterator) FullRoot(index uint64) bool {
	if index <= it.index || it.index&1 != 0 {
		return false
	}
	for index > it.index+it.Factor()+it.half() {
		it.index += it.half()
		it.depth++
		it.offset /= 2
	}
	return true
}
