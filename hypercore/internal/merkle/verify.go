package merkle

// Proof verification: what a requester does with a data message (JS
// verifyTree, verifyUpgrade, MerkleTree.verify and the checks core.verify
// adds around them).
//
// Each node list is consumed strictly in order: the verifier knows which
// index it needs next and takes the next node off the list only if it has
// exactly that index (JS NodeQueue). A list may also hold one "extra" node,
// rebuilt from another list, that is taken instead when its index is the
// one needed.
//
//  1. Seek: the first node is the seek target; each following node is the
//     sibling of the current one, and the two hash into their parent.
//  2. Block or hash: start from the leaf hash of the block value (or the
//     first node of a hash proof) and fold in siblings the same way; the
//     seek root, if any, is the extra node. The result is the block root.
//  3. Upgrade: walk the roots of the upgraded length. Roots the tree has
//     already are skipped; the first new root grows from the tree's last
//     root by appending siblings; later roots are taken whole. The block
//     root is the extra node. Then the additional nodes extend the tree to
//     the responder's length. Nodes left over in the upgrade list are
//     ignored, as JS ignores them.
//  4. If the block root was not used by the upgrade, it must equal (by
//     hash) a stored node.
//  5. An upgrade whose roots are all stored already is not one (JS
//     downgrade); any other upgrade must carry a valid signature of the new
//     tree.

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// SignatureVerifier checks the signature of an upgraded tree. Package
// hypercore implements it per manifest (single signer, multisig with
// patches, compat keys, prologues); b gives the tree hash, length and fork
// to check, and a multisig verifier can [Batch.Clone] it to apply patches.
type SignatureVerifier interface {
	// VerifyTree returns nil if signature is valid for the tree b leads
	// to ([Batch.Hash], [Batch.Length], [Batch.Fork]), else an error.
	VerifyTree(b *Batch, signature []byte) error
}

// UpgradeLength returns the length a peer's tree has according to an
// upgrade it sent: where its last additional node ends, or Start+Length
// when there are none (JS MerkleTree.upgradeLength).
func UpgradeLength(u *wire.DataUpgrade) uint64 {
	if n := len(u.AdditionalNodes); n > 0 {
		return flattree.RightSpan(u.AdditionalNodes[n-1].Index)/2 + 1
	}
	return u.Start + u.Length
}

// VerifyFunc is a [SignatureVerifier] that checks a signature of a tree
// hash, length and fork.
type VerifyFunc func(treeHash [32]byte, length, fork uint64, signature []byte) error

// VerifyTree calls f with b's tree hash, length and fork.
func (f VerifyFunc) VerifyTree(b *Batch, signature []byte) error {
	return f(b.Hash(), b.length, b.fork, signature)
}

// badProof returns an error wrapping ErrBadProof.
func badProof(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadProof}, args...)...)
}

// nodeQueue hands out the nodes of a proof list in order (JS NodeQueue).
type nodeQueue struct {
	nodes []hcrypto.Node
	i     int
	extra *hcrypto.Node // taken instead of the next node when its index matches
}

func (q *nodeQueue) len() int {
	n := len(q.nodes) - q.i
	if q.extra != nil {
		n++
	}
	return n
}

// shift returns the node with index: the extra node if it has that index,
// else the next node, which must have it.
func (q *nodeQueue) shift(index uint64) (hcrypto.Node, error) {
	if q.extra != nil && q.extra.Index == index {
		n := *q.extra
		q.extra = nil
		return n, nil
	}
	if q.i >= len(q.nodes) {
		return hcrypto.Node{}, badProof("expected node %d, got none", index)
	}
	n := q.nodes[q.i]
	if n.Index != index {
		return hcrypto.Node{}, badProof("expected node %d, got node %d", index, n.Index)
	}
	q.i++
	return n, nil
}

// climb folds the nodes of q into root, from the iterator's position up:
// each node must be the sibling of the current root. Every node and every
// parent made is appended to *out.
func climb(it *flattree.Iterator, root hcrypto.Node, q *nodeQueue, out *[]hcrypto.Node) (hcrypto.Node, error) {
	root, _, err := climbKnown(it, root, q, out, nil)
	return root, err
}

// climbKnown is climb stopping at the first node that known holds: the
// node made must equal it (else the proof is bad), and the nodes of the
// list above it are only checked for their indices, neither hashed nor
// appended. anchored reports such a stop.
func climbKnown(it *flattree.Iterator, root hcrypto.Node, q *nodeQueue, out *[]hcrypto.Node, known KnownNodes) (_ hcrypto.Node, anchored bool, err error) {
	for {
		if known != nil {
			if anchored, err = matchKnown(root, known); err != nil {
				return hcrypto.Node{}, false, err
			}
			if anchored {
				return root, true, skipNodes(it, q)
			}
		}
		if q.len() == 0 {
			return root, false, nil
		}
		if it.Index() >= maxIndex {
			return hcrypto.Node{}, false, badProof("node %d out of bounds", it.Index())
		}
		n, err := q.shift(it.Sibling())
		if err != nil {
			return hcrypto.Node{}, false, err
		}
		root = parentNode(it.Parent(), root, n)
		*out = append(*out, n, root)
	}
}

// matchKnown reports whether known holds node n's index, and fails if it
// holds another node there.
func matchKnown(n hcrypto.Node, known KnownNodes) (bool, error) {
	k, ok := known.KnownNode(n.Index)
	if !ok {
		return false, nil
	}
	if k.Hash != n.Hash || k.Size != n.Size {
		return false, badProof("checksum mismatch at node %d", n.Index)
	}
	return true, nil
}

// skipNodes checks that the rest of q lists the siblings up from it, as
// climb would take them.
func skipNodes(it *flattree.Iterator, q *nodeQueue) error {
	for q.len() > 0 {
		if it.Index() >= maxIndex {
			return badProof("node %d out of bounds", it.Index())
		}
		if _, err := q.shift(it.Sibling()); err != nil {
			return err
		}
		it.Parent()
	}
	return nil
}

// KnownNodes holds tree nodes verified already, stored or not, at which
// [Tree.VerifyLeafKnown] may stop climbing a proof.
type KnownNodes interface {
	KnownNode(index uint64) (hcrypto.Node, bool)
}

// verifyTree rebuilds the root of the seek and block/hash parts of d,
// appending every node it sees to *out (JS verifyTree). It returns nil when
// d has neither part.
func verifyTree(d *wire.Data, out *[]hcrypto.Node) (*hcrypto.Node, error) {
	root, _, err := verifyTreeLeaf(d, out, nil, nil)
	return root, err
}

// verifyTreeLeaf is verifyTree with the leaf hash of d's block given
// (nil: computed here). With known, a d without seek and upgrade parts
// stops climbing at the first node known holds (anchored).
func verifyTreeLeaf(d *wire.Data, out *[]hcrypto.Node, leaf *[32]byte, known KnownNodes) (_ *hcrypto.Node, anchored bool, err error) {
	var (
		index   uint64
		value   []byte
		isBlock bool
		list    []hcrypto.Node
	)
	switch {
	case d.Block != nil:
		if d.Block.Index >= maxIndex/2 {
			return nil, false, badProof("block %d out of bounds", d.Block.Index)
		}
		index, value, isBlock, list = 2*d.Block.Index, d.Block.Value, true, d.Block.Nodes
	case d.Hash != nil:
		if d.Hash.Index >= maxIndex {
			return nil, false, badProof("node %d out of bounds", d.Hash.Index)
		}
		index, list = d.Hash.Index, d.Hash.Nodes
	default:
		if d.Seek == nil || len(d.Seek.Nodes) == 0 {
			return nil, false, nil
		}
	}

	// Every node of the lists and every parent made is appended: room for
	// them up front, instead of growing *out node by node. A climb that
	// may stop at a known node usually takes a few.
	n := 1 + 2*len(list)
	if d.Seek != nil {
		n += 2 * len(d.Seek.Nodes)
	}
	if known != nil && d.Seek == nil && d.Upgrade == nil {
		n = min(n, 5)
	}
	*out = slices.Grow(*out, n)

	var root *hcrypto.Node
	if d.Seek != nil && len(d.Seek.Nodes) > 0 {
		first := d.Seek.Nodes[0].Index
		if first >= maxIndex {
			return nil, false, badProof("node %d out of bounds", first)
		}
		it := flattree.NewIterator(first)
		q := &nodeQueue{nodes: d.Seek.Nodes}
		r, err := q.shift(first)
		if err != nil {
			return nil, false, err
		}
		*out = append(*out, r)
		if r, err = climb(it, r, q, out); err != nil {
			return nil, false, err
		}
		root = &r
	}
	if d.Block == nil && d.Hash == nil {
		return root, false, nil
	}
	if d.Seek != nil || d.Upgrade != nil {
		known = nil
	}

	it := flattree.NewIterator(index)
	q := &nodeQueue{nodes: list, extra: root}
	var r hcrypto.Node
	switch {
	case isBlock && leaf != nil:
		r = hcrypto.Node{Index: index, Size: uint64(len(value)), Hash: *leaf}
	case isBlock:
		r = leafNode(index, value)
	default:
		if r, err = q.shift(index); err != nil {
			return nil, false, err
		}
	}
	*out = append(*out, r)
	if r, anchored, err = climbKnown(it, r, q, out, known); err != nil {
		return nil, false, err
	}
	return &r, anchored, nil
}

// verifyUpgrade appends the upgrade of d to b (JS verifyUpgrade), using
// blockRoot where its index is needed, and sets b's signature and fork from
// d. It reports whether blockRoot was used.
func verifyUpgrade(d *wire.Data, blockRoot *hcrypto.Node, b *Batch) (bool, error) {
	u := d.Upgrade
	if p := b.prologue; p != nil && u.Start < p.Length && (u.Start != 0 || u.Length < p.Length) {
		return false, badProof("upgrade {%d, %d} does not satisfy the prologue", u.Start, u.Length)
	}
	if u.Start >= maxIndex/4 || u.Length >= maxIndex/4 {
		return false, badProof("upgrade {%d, %d} out of bounds", u.Start, u.Length)
	}

	q := &nodeQueue{nodes: u.Nodes, extra: blockRoot}
	grow := len(b.roots) > 0
	i := 0
	to := 2 * (u.Start + u.Length)
	it := flattree.NewIterator(0)
	for ; it.FullRoot(to); it.NextTree() {
		if i < len(b.roots) && b.roots[i].Index == it.Index() {
			i++ // a root the tree has already
			continue
		}
		if grow {
			grow = false
			if i < len(b.roots) {
				// Grow the last root into this one, sibling by sibling.
				root := it.Index()
				it.Seek(b.roots[len(b.roots)-1].Index)
				for it.Index() != root {
					if it.Index() >= maxIndex {
						return false, badProof("node %d out of bounds", it.Index())
					}
					n, err := q.shift(it.Sibling())
					if err != nil {
						return false, err
					}
					b.appendRoot(n, it)
				}
				continue
			}
		}
		n, err := q.shift(it.Index())
		if err != nil {
			return false, err
		}
		b.appendRoot(n, it)
	}

	if p := b.prologue; p != nil && b.length == p.Length && b.Hash() != p.Hash {
		return false, badProof("tree hash does not match the prologue")
	}

	// The additional nodes: first siblings that grow the last root, then
	// roots further right, each found by descending left from the
	// position after the previous one.
	extra := u.AdditionalNodes
	if len(b.roots) == 0 {
		// JS dereferences the last root here and throws.
		return false, badProof("upgrade to an empty tree")
	}
	it.Seek(b.roots[len(b.roots)-1].Index)
	j := 0
	for j < len(extra) {
		if it.Index() >= maxIndex || extra[j].Index != it.Sibling() {
			break
		}
		b.appendRoot(extra[j], it)
		j++
	}
	for j < len(extra) {
		n := extra[j]
		j++
		for n.Index != it.Index() {
			if it.Depth() == 0 {
				return false, badProof("unexpected additional node %d", n.Index)
			}
			it.LeftChild()
		}
		b.appendRoot(n, it)
		if it.Index() >= maxIndex {
			return false, badProof("node %d out of bounds", it.Index())
		}
		it.Sibling()
	}

	if b.length >= maxIndex/2 {
		return false, badProof("upgrade to length %d out of bounds", b.length)
	}
	b.signature = bytes.Clone(u.Signature)
	b.fork = d.Fork
	return q.extra == nil, nil
}

// VerifyUpgrade applies the upgrade of d to b, as a multisig verifier does
// with a patch on a [Batch.Clone] (JS MerkleTreeBatch.verifyUpgrade). The
// block, hash and seek parts of d are verified too and must end in the
// upgrade. It reports whether they did.
func (b *Batch) VerifyUpgrade(d *wire.Data) (bool, error) {
	root, err := verifyTree(d, &b.nodes)
	if err != nil {
		return false, err
	}
	if d.Upgrade == nil {
		return false, badProof("expected an upgrade")
	}
	return verifyUpgrade(d, root, b)
}

// Verify checks a data message from a peer against the tree and returns a
// batch of the verified nodes, and the upgraded state if d upgrades the
// tree, for [Tree.Commit]. The block value is not stored anywhere; the
// caller stores it with the batch.
//
// It refuses d (wrapping [ErrBadProof]) where JS would: nodes out of order
// or missing, a block or hash root that neither ends in the upgrade nor
// equals a stored node, an upgrade that does not fit the tree. An upgrade
// that changes the tree's roots must pass v (else the error wraps
// [ErrBadSignature]); a nil v refuses every such upgrade. A proof of
// another fork returns [ErrForkMismatch].
func (t *Tree) Verify(d *wire.Data, v SignatureVerifier) (*Batch, error) {
	return t.verify(d, v, nil, nil)
}

// VerifyLeaf is [Tree.Verify] for a d whose block's leaf hash the caller
// has computed already (as [hcrypto.LeafHashes] does for many blocks at once):
// leaf must be hcrypto.LeafHash(d.Block.Value).
func (t *Tree) VerifyLeaf(d *wire.Data, v SignatureVerifier, leaf [32]byte) (*Batch, error) {
	return t.verify(d, v, &leaf, nil)
}

// VerifyLeafKnown is [Tree.VerifyLeaf] for a d with neither seek nor
// upgrade part, trusting the nodes of known as it trusts stored ones: the
// proof's climb from the block stops at the first node known holds,
// which the node made must equal. The nodes of the proof above it are
// only checked to be in order; they are not in the batch. A caller that
// verifies a run of blocks passes the nodes of the run's earlier batches,
// which hold most of a block's proof in a sequential download: each block
// then costs a hash or two instead of one per level of its proof.
func (t *Tree) VerifyLeafKnown(d *wire.Data, v SignatureVerifier, leaf [32]byte, known KnownNodes) (*Batch, error) {
	return t.verify(d, v, &leaf, known)
}

func (t *Tree) verify(d *wire.Data, v SignatureVerifier, leaf *[32]byte, known KnownNodes) (*Batch, error) {
	if d.Fork != t.fork {
		return nil, fmt.Errorf("%w: got fork %d, have %d", ErrForkMismatch, d.Fork, t.fork)
	}
	b := t.Batch()
	unverified, anchored, err := verifyTreeLeaf(d, &b.nodes, leaf, known)
	if err != nil {
		return nil, err
	}
	if anchored {
		unverified = nil // it equals a known node
	}
	if d.Upgrade != nil {
		used, err := verifyUpgrade(d, unverified, b)
		if err != nil {
			return nil, err
		}
		if used {
			unverified = nil
		}
	}
	if unverified != nil {
		stored, ok, err := t.nodes.Node(unverified.Index)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, badProof("node %d is not stored", unverified.Index)
		}
		if stored.Hash != unverified.Hash {
			return nil, badProof("checksum mismatch at node %d", unverified.Index)
		}
	}
	if b.upgraded && b.length <= t.length {
		if err := b.downgrade(); err != nil {
			return nil, err
		}
	}
	if b.upgraded {
		if v == nil {
			return nil, fmt.Errorf("%w: no verifier", ErrBadSignature)
		}
		if err := v.VerifyTree(b, b.signature); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
		}
	}
	return b, nil
}

// downgrade marks an upgraded batch as not upgraded when all its roots are
// stored already with the same hashes, that is when it proves nothing new
// about the tree (JS downgrade).
func (b *Batch) downgrade() error {
	for _, r := range b.roots {
		n, ok, err := b.tree.nodes.Node(r.Index)
		if err != nil {
			return err
		}
		if !ok || n.Hash != r.Hash {
			return nil
		}
	}
	b.upgraded = false
	return nil
}
