package merkle

import (
	"errors"
	"fmt"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
)

var (
	// ErrBadProof is wrapped by every error that refuses a peer's proof
	// because of its content: nodes out of order or missing, hashes that do
	// not rebuild a trusted node, a malformed upgrade. JS throws
	// INVALID_PROOF, INVALID_CHECKSUM or INVALID_OPERATION in these cases.
	ErrBadProof = errors.New("merkle: invalid proof")

	// ErrBadSignature is wrapped by the errors of upgrades whose signature
	// the [SignatureVerifier] refuses (JS INVALID_SIGNATURE).
	ErrBadSignature = errors.New("merkle: invalid signature")

	// ErrForkMismatch is returned by [Tree.Verify] for a proof of another
	// fork. JS ignores such data; a higher fork starts a reorg
	// ([Tree.Reorg]).
	ErrForkMismatch = errors.New("merkle: proof is for another fork")

	// ErrInvalidRequest is wrapped by the errors of [Tree.Proof] for requests
	// it cannot answer. JS answers all of them with noData INVALID_REQUEST.
	ErrInvalidRequest = errors.New("merkle: invalid request")

	// ErrMissingNode is wrapped when a node the operation needs is not
	// stored.
	ErrMissingNode = errors.New("merkle: tree node not stored")

	// ErrOutOfBounds is wrapped by errors for indices and lengths outside
	// the tree.
	ErrOutOfBounds = errors.New("merkle: out of bounds")

	// ErrConflict is returned by [Tree.Commit] when the tree changed after
	// the batch was made from it (JS "Tree was modified during batch").
	ErrConflict = errors.New("merkle: tree was modified during batch")
)

// maxIndex bounds the flat-tree indices this package computes with. JS
// numbers are exact below 2^53, so no JS tree comes near it; inputs beyond
// it are refused before index arithmetic could wrap.
const maxIndex = 1 << 62

// NodeReader reads stored tree nodes. Node reports ok false, with a nil
// error, for a node that is not stored; errors are storage failures.
type NodeReader interface {
	Node(index uint64) (node hcrypto.Node, ok bool, err error)
}

// NodeHaser is a [NodeReader] that can tell whether a node is stored more
// cheaply than by reading it. The tree uses HasNode where it needs only
// that ([Tree.MissingNodes], [Tree.Upgradeable]).
type NodeHaser interface {
	NodeReader
	HasNode(index uint64) (ok bool, err error)
}

// hasNode reports whether node index is stored.
func (t *Tree) hasNode(index uint64) (bool, error) {
	if h, ok := t.nodes.(NodeHaser); ok {
		return h.HasNode(index)
	}
	_, ok, err := t.nodes.Node(index)
	return ok, err
}

// MemNodes is an in-memory [NodeReader], keyed by node index. Tests use it,
// and so can in-memory cores.
type MemNodes map[uint64]hcrypto.Node

// Node returns the node at index.
func (m MemNodes) Node(index uint64) (hcrypto.Node, bool, error) {
	n, ok := m[index]
	return n, ok, nil
}

// Apply writes c to m: deletions first, then the new nodes, in the order a
// storage batch must apply them.
func (m MemNodes) Apply(c *Changes) {
	if c.DeleteEnd > c.DeleteStart {
		for i := range m {
			if i >= c.DeleteStart && i < c.DeleteEnd {
				delete(m, i)
			}
		}
	}
	for _, i := range c.Delete {
		delete(m, i)
	}
	for _, n := range c.Nodes {
		m[n.Index] = n
	}
}

// Prologue fixes the first Length blocks of a core by tree hash instead of
// signature (manifest prologue, PROTOCOLS.md §5.1).
type Prologue struct {
	Hash   [32]byte
	Length uint64
}

// Tree is the trusted merkle tree of a core: its fork, length, byte length,
// roots and signature, and the stored nodes behind them (JS keeps the same
// state in SessionState and reads nodes with MerkleTree's static
// functions).
type Tree struct {
	nodes      NodeReader
	fork       uint64
	length     uint64
	byteLength uint64
	roots      []hcrypto.Node
	signature  []byte
	prologue   *Prologue
}

// New returns an empty tree (length 0, fork 0) over nodes.
func New(nodes NodeReader) *Tree {
	return &Tree{nodes: nodes}
}

// Open returns the tree of length blocks stored in nodes, at fork, with its
// signature. It reads the roots and fails, wrapping [ErrMissingNode], if one
// is not stored.
func Open(nodes NodeReader, length, fork uint64, signature []byte) (*Tree, error) {
	t := &Tree{nodes: nodes, fork: fork, signature: signature}
	roots, err := t.RootsAt(length)
	if err != nil {
		return nil, err
	}
	t.roots = roots
	t.length = length
	t.byteLength = totalSize(roots)
	return t, nil
}

// SetPrologue sets the manifest prologue, which changes how upgrades are
// answered and verified. nil means none.
func (t *Tree) SetPrologue(p *Prologue) { t.prologue = p }

// Prologue returns the prologue set with [Tree.SetPrologue], or nil.
func (t *Tree) Prologue() *Prologue { return t.prologue }

// Nodes returns the node storage the tree reads from.
func (t *Tree) Nodes() NodeReader { return t.nodes }

// Fork returns the fork id, bumped by every truncation.
func (t *Tree) Fork() uint64 { return t.fork }

// Length returns the number of blocks.
func (t *Tree) Length() uint64 { return t.length }

// ByteLength returns the total size of the blocks in bytes.
func (t *Tree) ByteLength() uint64 { return t.byteLength }

// Roots returns a copy of the roots, left to right.
func (t *Tree) Roots() []hcrypto.Node { return append([]hcrypto.Node(nil), t.roots...) }

// Signature returns the signature of the current length and fork (nil for
// an empty or unsigned tree). The caller must not modify it.
func (t *Tree) Signature() []byte { return t.signature }

// Hash returns the tree hash of the roots (hcrypto.TreeHash), what the
// signature signs.
func (t *Tree) Hash() [32]byte { return hcrypto.TreeHash(t.roots) }

// Get returns the stored node at index.
func (t *Tree) Get(index uint64) (hcrypto.Node, bool, error) {
	return t.nodes.Node(index)
}

// get returns the stored node at index, or an error wrapping
// [ErrMissingNode] when it is not stored.
func (t *Tree) get(index uint64) (hcrypto.Node, error) {
	n, ok, err := t.nodes.Node(index)
	if err != nil {
		return hcrypto.Node{}, err
	}
	if !ok {
		return hcrypto.Node{}, fmt.Errorf("%w: node %d", ErrMissingNode, index)
	}
	return n, nil
}

// RootsAt returns the stored roots of the tree of length blocks (JS
// MerkleTree.getRoots). It fails, wrapping [ErrMissingNode], when one is not
// stored.
func (t *Tree) RootsAt(length uint64) ([]hcrypto.Node, error) {
	if length > maxIndex/2 {
		return nil, fmt.Errorf("%w: length %d", ErrOutOfBounds, length)
	}
	indexes := flattree.FullRoots(2 * length)
	roots := make([]hcrypto.Node, len(indexes))
	for i, index := range indexes {
		n, err := t.get(index)
		if err != nil {
			return nil, err
		}
		roots[i] = n
	}
	return roots, nil
}

// Upgradeable reports whether every root of the tree of length blocks is
// stored, so that an upgrade from length can be proven (JS
// MerkleTree.upgradeable).
func (t *Tree) Upgradeable(length uint64) (bool, error) {
	if length > maxIndex/2 {
		return false, nil
	}
	for _, index := range flattree.FullRoots(2 * length) {
		ok, err := t.hasNode(index)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// ByteOffset returns the byte offset at which the subtree under the
// flat-tree index starts (for a block, 2·block). The index 2·Length gives
// ByteLength (JS MerkleTree.byteOffset).
//
// Deliberate difference: JS 11.39.5 returns NaN for every index past the
// first root (it adds a number's .size while summing the roots it skips);
// this returns the offset.
func (t *Tree) ByteOffset(index uint64) (uint64, error) {
	offset, _, err := t.byteOffset(index)
	return offset, err
}

// byteOffset is ByteOffset, also reporting whether the walk skipped a root,
// the case where JS computes NaN.
func (t *Tree) byteOffset(index uint64) (offset uint64, skipped bool, err error) {
	if index == 2*t.length {
		return t.byteLength, false, nil
	}
	if index >= maxIndex {
		return 0, false, fmt.Errorf("%w: byte offset of node %d", ErrOutOfBounds, index)
	}
	index = flattree.LeftSpan(index)
	for _, root := range t.roots {
		if index > flattree.RightSpan(root.Index) {
			offset += root.Size
			skipped = true
			continue
		}
		it := flattree.NewIterator(root.Index)
		for it.Index() != index {
			if index < it.Index() {
				it.LeftChild()
				continue
			}
			left, err := t.get(it.LeftChild())
			if err != nil {
				return 0, false, err
			}
			offset += left.Size
			it.Sibling()
		}
		return offset, skipped, nil
	}
	return 0, false, fmt.Errorf("%w: byte offset of node %d", ErrOutOfBounds, index)
}

// ByteRange returns the byte offset and size of the subtree under the
// flat-tree index (for a block, 2·block), which must lie inside the tree
// (JS MerkleTree.byteRange).
func (t *Tree) ByteRange(index uint64) (offset, size uint64, err error) {
	if flattree.RightSpan(index) >= 2*t.length || index >= maxIndex {
		return 0, 0, fmt.Errorf("%w: node %d at length %d", ErrOutOfBounds, index, t.length)
	}
	if offset, err = t.ByteOffset(index); err != nil {
		return 0, 0, err
	}
	n, err := t.get(index)
	if err != nil {
		return 0, 0, err
	}
	return offset, n.Size, nil
}

// MissingNodes returns how many nodes, counting from index upward, are not
// stored and lie below the roots of the tree of length blocks: the `nodes`
// count of a request for index (JS MerkleTree.missingNodes). It is 0 when
// index is not inside that tree.
func (t *Tree) MissingNodes(index, length uint64) (uint64, error) {
	return t.MissingNodesUpTo(index, length, ^uint64(0))
}

// MissingNodesUpTo is [Tree.MissingNodes] counting at most limit nodes:
// a requester that knows the node limit levels up will arrive some other
// way stops there.
func (t *Tree) MissingNodesUpTo(index, length, limit uint64) (uint64, error) {
	head := 2 * length
	if length > maxIndex/2 || index >= maxIndex || flattree.RightSpan(index) >= head {
		return 0, nil
	}
	it := flattree.NewIterator(index)
	var n uint64
	for n < limit && !it.Contains(head) {
		ok, err := t.hasNode(it.Index())
		if err != nil {
			return 0, err
		}
		if ok {
			break
		}
		n++
		it.Parent()
	}
	return n, nil
}

// MaxMissingNodes returns how many nodes above index (index excluded) lie
// below the roots of the tree of length blocks: the most a request for
// index can need (JS MerkleTree.maxMissingNodes). It is 0 when index is not
// inside the tree or is one of its roots.
func MaxMissingNodes(index, length uint64) uint64 {
	head := 2 * length
	if length > maxIndex/2 || index >= maxIndex || flattree.RightSpan(index) >= head {
		return 0
	}
	for _, r := range flattree.FullRoots(head) {
		if r == index {
			return 0
		}
	}
	it := flattree.NewIterator(index)
	it.Parent()
	var n uint64
	for !it.Contains(head) {
		n++
		it.Parent()
	}
	return n
}

// totalSize returns the sum of the sizes of nodes.
func totalSize(nodes []hcrypto.Node) uint64 {
	var s uint64
	for _, n := range nodes {
		s += n.Size
	}
	return s
}

// leafNode returns the tree node of block data at leaf index.
func leafNode(index uint64, data []byte) hcrypto.Node {
	return hcrypto.Node{Index: index, Size: uint64(len(data)), Hash: hcrypto.LeafHash(data)}
}

// parentNode returns the node at index whose children are a and b.
func parentNode(index uint64, a, b hcrypto.Node) hcrypto.Node {
	return hcrypto.Node{Index: index, Size: a.Size + b.Size, Hash: hcrypto.ParentHash(a, b)}
}
