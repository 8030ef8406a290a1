package merkle

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
)

// Batch is a pending change to a [Tree] (JS MerkleTreeBatch): blocks
// appended, a truncation, or the nodes of a verified proof. It holds the
// tree state the change leads to (fork, length, roots, signature) and the
// new nodes to store; [Tree.Commit] applies it.
//
// A Batch is made from a tree with [Tree.Batch], [Tree.Truncate],
// [Tree.Verify] or [Tree.Reorg], and is not safe for concurrent use.
type Batch struct {
	tree       *Tree
	fork       uint64
	length     uint64
	byteLength uint64
	roots      []hcrypto.Node
	// rootsShared is set while roots is the tree's slice: a batch that
	// only verifies blocks never copies it (ownRoots).
	rootsShared bool
	signature   []byte
	prologue    *Prologue

	// ancestors is the length of the prefix shared with the tree; below
	// treeLength, Commit deletes the tree's nodes past it.
	ancestors uint64
	// treeLength and treeFork are the tree's length and fork when the batch
	// was made; Commit refuses the batch if they changed.
	treeLength uint64
	treeFork   uint64

	nodes    []hcrypto.Node // new nodes, to store on commit
	upgraded bool           // the batch changes the tree's length or roots

	hash   [32]byte
	hashOK bool
}

// Batch returns a batch that starts at t's current state.
func (t *Tree) Batch() *Batch {
	return &Batch{
		tree:       t,
		fork:       t.fork,
		length:     t.length,
		byteLength: t.byteLength,
		roots:      t.roots,
		signature:  t.signature,
		prologue:   t.prologue,
		ancestors:  t.length,
		treeLength: t.length,
		treeFork:   t.fork,

		rootsShared: true,
	}
}

// ownRoots gives the batch a copy of the tree's roots before it changes
// them.
func (b *Batch) ownRoots() {
	if b.rootsShared {
		b.roots = slices.Clone(b.roots)
		b.rootsShared = false
	}
}

// Clone returns an independent copy of b.
func (b *Batch) Clone() *Batch {
	c := *b
	c.roots = slices.Clone(b.roots)
	c.rootsShared = false
	c.nodes = slices.Clone(b.nodes)
	return &c
}

// Fork returns the fork of the tree the batch leads to.
func (b *Batch) Fork() uint64 { return b.fork }

// Length returns the number of blocks of the tree the batch leads to.
func (b *Batch) Length() uint64 { return b.length }

// ByteLength returns the byte length of the tree the batch leads to.
func (b *Batch) ByteLength() uint64 { return b.byteLength }

// Roots returns a copy of the roots of the tree the batch leads to.
func (b *Batch) Roots() []hcrypto.Node { return slices.Clone(b.roots) }

// Nodes returns the new nodes of the batch, in the order they were added;
// the same node may appear more than once. The caller must not modify the
// slice.
func (b *Batch) Nodes() []hcrypto.Node { return b.nodes }

// Signature returns the signature of the tree the batch leads to: the one
// from a verified upgrade, the one set with [Batch.SetSignature], or nil.
func (b *Batch) Signature() []byte { return b.signature }

// SetSignature sets the signature of the tree the batch leads to, after the
// caller signed [Batch.Hash] with [Batch.Length] and [Batch.Fork].
func (b *Batch) SetSignature(sig []byte) { b.signature = sig }

// Upgraded reports whether the batch changes the tree's roots (an append,
// a truncation or a verified upgrade). A batch that only adds nodes below
// the current roots is not upgraded, and its commit leaves the tree's state
// as it is.
func (b *Batch) Upgraded() bool { return b.upgraded }

// Ancestors returns the length of the prefix the batch shares with the tree
// it was made from. It is below the tree's length after a truncation or a
// reorg.
func (b *Batch) Ancestors() uint64 { return b.ancestors }

// TreeLength returns the tree's length when the batch was made.
func (b *Batch) TreeLength() uint64 { return b.treeLength }

// Hash returns the tree hash of the batch's roots, what a signature of the
// batch signs.
func (b *Batch) Hash() [32]byte {
	if !b.hashOK {
		b.hash = hcrypto.TreeHash(b.roots)
		b.hashOK = true
	}
	return b.hash
}

// Get returns the node at index as the batch sees it: nil past the batch's
// length, then the batch's new nodes, then the stored ones.
func (b *Batch) Get(index uint64) (hcrypto.Node, bool, error) {
	if index >= 2*b.length {
		return hcrypto.Node{}, false, nil
	}
	for _, n := range b.nodes {
		if n.Index == index {
			return n, true, nil
		}
	}
	return b.tree.nodes.Node(index)
}

// Append adds blocks to the end of the tree: their leaves, and each parent
// that completes a perfect subtree, become new nodes and the roots are
// merged accordingly.
//
// The leaves of several blocks are hashed together (see hcrypto.LeafHashes), and
// those of large appends on several goroutines (see leafHashes); so are
// their parents, a level of the tree at a time (see appendMany). The
// nodes, and their order, are the same either way.
func (b *Batch) Append(blocks ...[]byte) {
	b.ownRoots()
	// Each block adds a leaf, and each merge a parent and one root less.
	b.nodes = slices.Grow(b.nodes, 2*len(blocks)+len(b.roots))
	b.roots = slices.Grow(b.roots, 1)
	if len(blocks) == 1 {
		head := 2 * b.length
		n := hcrypto.Node{Index: head, Size: uint64(len(blocks[0])), Hash: hcrypto.LeafHash(blocks[0])}
		b.appendRoot(n, flattree.NewIterator(head))
		return
	}
	b.appendMany(blocks, leafHashes(blocks))
}

// pendingParent is a parent made by appendMany whose hash is not known
// yet: the node at b.nodes[pos], whose children are left and right. A
// child ref of 0 or more is a position in b.nodes; a ref r below 0 is
// root -1-r of the tree before the append, whose hash is known.
type pendingParent struct {
	pos, left, right int
}

// appendMany appends blocks, whose leaf hashes are leaves, as appendRoot
// would one after another, but hashes the parents afterwards, all those of
// one depth together (hcrypto.ParentHashes): a parent's children are one level
// down, so they are known by then.
func (b *Batch) appendMany(blocks [][]byte, leaves [][32]byte) {
	b.hashOK = false
	b.upgraded = true
	old := slices.Clone(b.roots)
	// refs[k] is the child ref (see pendingParent) of root k.
	refs := make([]int, len(b.roots), len(b.roots)+1+bits.Len(uint(len(blocks))))
	for k := range refs {
		refs[k] = -1 - k
	}
	pending := make([]pendingParent, 0, len(blocks)+len(b.roots))
	maxDepth := uint64(0)
	for i, data := range blocks {
		head := 2 * b.length
		n := hcrypto.Node{Index: head, Size: uint64(len(data)), Hash: leaves[i]}
		b.length++
		b.byteLength += n.Size
		b.roots = append(b.roots, n)
		refs = append(refs, len(b.nodes))
		b.nodes = append(b.nodes, n)
		it := flattree.NewIterator(head)
		for len(b.roots) > 1 {
			last := b.roots[len(b.roots)-1]
			prev := b.roots[len(b.roots)-2]
			if it.Sibling() != prev.Index {
				break
			}
			p := hcrypto.Node{Index: it.Parent(), Size: prev.Size + last.Size}
			pending = append(pending, pendingParent{pos: len(b.nodes), left: refs[len(refs)-2], right: refs[len(refs)-1]})
			maxDepth = max(maxDepth, flattree.Depth(p.Index))
			b.nodes = append(b.nodes, p)
			b.roots = append(b.roots[:len(b.roots)-2], p)
			refs = append(refs[:len(refs)-2], len(b.nodes)-1)
		}
	}
	b.hashPending(pending, maxDepth, old)
	for k, ref := range refs {
		if ref >= 0 {
			b.roots[k].Hash = b.nodes[ref].Hash
		}
	}
}

// hashPending computes the hashes of the pending parents, depth by depth;
// old are the roots before the append.
func (b *Batch) hashPending(pending []pendingParent, maxDepth uint64, old []hcrypto.Node) {
	var (
		group [lanes]int // positions in pending
		ls    [lanes]hcrypto.Node
		rs    [lanes]hcrypto.Node
		out   [lanes][32]byte
	)
	child := func(ref int) hcrypto.Node {
		if ref >= 0 {
			return b.nodes[ref]
		}
		return old[-1-ref]
	}
	flush := func(k int) {
		for j := range k {
			p := pending[group[j]]
			ls[j], rs[j] = child(p.left), child(p.right)
		}
		hcrypto.ParentHashes(out[:k], ls[:k], rs[:k])
		for j := range k {
			b.nodes[pending[group[j]].pos].Hash = out[j]
		}
	}
	for d := uint64(1); d <= maxDepth; d++ {
		k := 0
		for i := range pending {
			if flattree.Depth(b.nodes[pending[i].pos].Index) != d {
				continue
			}
			group[k] = i
			if k++; k == lanes {
				flush(k)
				k = 0
			}
		}
		flush(k)
	}
}

// lanes is how many hashes hcrypto computes at once, where it can.
const lanes = hcrypto.HashLanes

const (
	// parallelHashMin is the number of bytes from which Append hashes
	// leaves on several goroutines: below it, handing work to another
	// goroutine costs more than it saves (hcrypto.LeafHashes runs at
	// about 2 bytes per ns with AVX-512, and the other cores are often
	// busy with the storage engine's flushes).
	parallelHashMin = 256 << 10
	// hashChunk is about how many bytes of blocks a hashing goroutine
	// claims at a time; claims are whole groups of lanes blocks.
	hashChunk = 32 << 10
)

// leafHashes returns the leaf hashes of blocks. Appends of at least
// parallelHashMin bytes are hashed by up to GOMAXPROCS goroutines (the
// caller's among them) that claim runs of blocks in turn. Each hash lands
// at its block's position, so the result does not depend on the
// scheduling. Every goroutine it starts has finished when it returns.
func leafHashes(blocks [][]byte) [][32]byte {
	hashes := make([][32]byte, len(blocks))
	workers := min(runtime.GOMAXPROCS(0), len(blocks))
	total := 0
	for _, d := range blocks {
		total += len(d)
	}
	if workers < 2 || total < parallelHashMin {
		hcrypto.LeafHashes(hashes, blocks)
		return hashes
	}
	step := max(1, hashChunk*len(blocks)/total)
	step = (step + lanes - 1) / lanes * lanes
	workers = min(workers, (len(blocks)+step-1)/step)
	var next atomic.Int64
	work := func() {
		for {
			end := int(next.Add(int64(step)))
			start := end - step
			if start >= len(blocks) {
				return
			}
			end = min(end, len(blocks))
			hcrypto.LeafHashes(hashes[start:end], blocks[start:end])
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	return hashes
}

// appendRoot adds n, a complete subtree starting right after the batch's
// last root, as a new root; it then merges the last two roots into their
// parent for as long as they are siblings. it is at n's index on entry and
// at the last root on return.
func (b *Batch) appendRoot(n hcrypto.Node, it *flattree.Iterator) {
	b.ownRoots()
	b.hashOK = false
	b.upgraded = true
	b.length += it.CountLeaves()
	b.byteLength += n.Size
	b.roots = append(b.roots, n)
	b.nodes = append(b.nodes, n)

	for len(b.roots) > 1 {
		last := b.roots[len(b.roots)-1]
		prev := b.roots[len(b.roots)-2]
		if it.Sibling() != prev.Index {
			it.Sibling() // back to the last root
			break
		}
		p := parentNode(it.Parent(), last, prev)
		b.nodes = append(b.nodes, p)
		b.roots = append(b.roots[:len(b.roots)-2], p)
	}
}

// AddNodes adds nodes to the batch's new nodes without verifying them (JS
// addNodesUnsafe). Signature verifiers use it to apply multisig patch nodes
// to a [Batch.Clone].
func (b *Batch) AddNodes(nodes ...hcrypto.Node) {
	b.nodes = append(b.nodes, nodes...)
}

// Checkout moves the batch to a shorter length whose roots are among the
// batch's roots, its new nodes or extra (JS checkout): multisig patches
// verify a signer's signature of an earlier length this way. New nodes past
// that length are dropped. The signature is cleared.
func (b *Batch) Checkout(length uint64, extra []hcrypto.Node) error {
	if length > maxIndex/2 {
		return fmt.Errorf("%w: length %d", ErrOutOfBounds, length)
	}
	all := make(map[uint64]hcrypto.Node, len(extra)+len(b.nodes))
	for _, n := range extra {
		all[n.Index] = n
	}
	for _, n := range b.nodes {
		all[n.Index] = n
	}
	head := 2 * length
	gaps := make(map[uint64]bool)
	var roots []hcrypto.Node
	r := 0
	for _, index := range flattree.FullRoots(head) {
		if left := flattree.LeftSpan(index); left != 0 {
			gaps[left-1] = true
		}
		if r < len(b.roots) && b.roots[r].Index == index {
			roots = append(roots, b.roots[r])
			r++
			continue
		}
		n, ok := all[index]
		if !ok {
			return fmt.Errorf("%w: root %d of length %d", ErrMissingNode, index, length)
		}
		roots = append(roots, n)
	}
	b.roots, b.rootsShared = roots, false
	b.length = length
	b.byteLength = totalSize(roots)
	b.hashOK = false
	b.signature = nil
	// Keep the new nodes inside the shorter tree (JS compares with head-2,
	// its last leaf), except the nodes that join its roots.
	b.nodes = slices.DeleteFunc(b.nodes, func(n hcrypto.Node) bool {
		return head == 0 || n.Index > head-2 || gaps[n.Index]
	})
	return nil
}

// commitable reports whether the tree is still where the batch started
// (JS commitable).
func (b *Batch) commitable() bool {
	t := b.tree
	if b.treeFork != t.fork {
		return false
	}
	if b.upgraded {
		return b.treeLength == t.length
	}
	return b.treeLength <= t.length
}

// Changes are the storage writes of a commit, applied in one storage batch:
// first delete the node indices in [DeleteStart, DeleteEnd) and the nodes
// in Delete, then put Nodes.
type Changes struct {
	// Nodes are the nodes to store (possibly with repeats).
	Nodes []hcrypto.Node
	// DeleteStart and DeleteEnd bound a range of node indices to delete:
	// the nodes of a truncated tail. Empty when DeleteEnd <= DeleteStart.
	DeleteStart, DeleteEnd uint64
	// Delete lists more nodes to delete: the parents whose subtree crossed
	// the truncation point.
	Delete []uint64
}

// Commit applies b to t. It computes the storage changes, calls write with
// them (write must store them atomically, along with whatever else belongs
// to the same change: blocks, the signature, the header), and, if write
// succeeds and b is upgraded, moves t to b's fork, length, roots and
// signature. It returns [ErrConflict] if t changed since b was made, and
// write's error unchanged.
func (t *Tree) Commit(b *Batch, write func(*Changes) error) error {
	if b.tree != t {
		return fmt.Errorf("merkle: batch is from another tree")
	}
	if !b.commitable() {
		return ErrConflict
	}
	c := &Changes{Nodes: b.nodes}
	if b.upgraded && b.ancestors < b.treeLength {
		c.DeleteStart, c.DeleteEnd = 2*b.ancestors, 2*b.treeLength
		if b.ancestors > 0 {
			// Parents of the last kept leaf whose subtree reaches past it
			// hash blocks that are gone.
			head := 2 * b.ancestors
			it := flattree.NewIterator(head - 2)
			for {
				if it.Contains(head) && it.Index() < head {
					c.Delete = append(c.Delete, it.Index())
				}
				if it.Offset() == 0 {
					break
				}
				it.Parent()
			}
		}
	}
	if err := write(c); err != nil {
		return err
	}
	if b.upgraded {
		t.fork = b.fork
		t.length = b.length
		t.byteLength = b.byteLength
		t.roots = slices.Clone(b.roots)
		t.signature = b.signature
	}
	return nil
}
