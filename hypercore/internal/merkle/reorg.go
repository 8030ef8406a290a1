package merkle

import (
	"fmt"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// Truncate returns a batch that cuts the tree to length blocks at fork (JS
// MerkleTree.truncate): its roots are the stored roots of that length, and
// its commit deletes the nodes past it. The batch has no signature; the
// caller signs it (or sets a given signature) before committing.
func (t *Tree) Truncate(length, fork uint64) (*Batch, error) {
	if length > t.length {
		return nil, fmt.Errorf("%w: truncating length %d to %d", ErrOutOfBounds, t.length, length)
	}
	b := t.Batch()
	b.ownRoots()
	full := flattree.FullRoots(2 * length)
	for i, index := range full {
		if i < len(b.roots) && b.roots[i].Index == index {
			continue
		}
		n, err := t.get(index)
		if err != nil {
			return nil, err
		}
		b.roots = append(b.roots[:i], n)
	}
	b.roots = b.roots[:len(full)]
	b.fork = fork
	b.length = length
	b.ancestors = length
	b.byteLength = totalSize(b.roots)
	b.signature = nil
	b.upgraded = true
	b.hashOK = false
	return b, nil
}

// Want is the range of blocks a reorg still needs hashes from to find
// where the new fork leaves the old one: requests {hash: 2·i, nodes: Nodes}
// for blocks i in [Start, End).
type Want struct {
	Start, End, Nodes uint64
}

// ReorgBatch is the batch of a reorg (JS ReorgBatch): the tree of a peer's
// higher fork, rebuilt from a full upgrade proof, and the search for the
// last block both forks share. Its Ancestors is that length once
// [ReorgBatch.Finished]; until then [ReorgBatch.Want] says which hashes to
// request, and [ReorgBatch.Update] takes the answers. Commit it with
// [Tree.Commit] once finished.
type ReorgBatch struct {
	*Batch
	diff *hcrypto.Node // highest node known to differ from the stored tree
	want *Want         // nil once the common ancestor is known
}

// Finished reports whether the common ancestor is known.
func (r *ReorgBatch) Finished() bool { return r.want == nil }

// Want returns the blocks to request hashes for; ok is false once
// finished.
func (r *ReorgBatch) Want() (w Want, ok bool) {
	if r.want == nil {
		return Want{}, false
	}
	return *r.want, true
}

// Reorg starts a reorg from d, a peer's proof of its tree at a higher fork
// that upgrades from length 0 (JS MerkleTree.reorg and core.verifyReorg).
// The block, hash or seek part, if any, must end in the upgrade, and the
// new tree must pass v. The roots of the new tree are then compared with
// the stored ones to find the first that differs.
func (t *Tree) Reorg(d *wire.Data, v SignatureVerifier) (*ReorgBatch, error) {
	if d.Upgrade == nil {
		return nil, badProof("reorg without an upgrade")
	}
	b := t.Batch()
	b.roots, b.rootsShared = nil, false
	b.length = 0
	b.byteLength = 0
	b.ancestors = 0
	b.upgraded = true
	b.hashOK = false
	r := &ReorgBatch{Batch: b, want: &Want{}}

	var unverified *hcrypto.Node
	if d.Block != nil || d.Hash != nil || d.Seek != nil {
		var err error
		if unverified, err = verifyTree(d, &b.nodes); err != nil {
			return nil, err
		}
	}
	used, err := verifyUpgrade(d, unverified, b)
	if err != nil {
		return nil, err
	}
	if !used {
		return nil, badProof("fork proof not verifiable")
	}

	for _, root := range b.roots {
		n, ok, err := t.nodes.Node(root.Index)
		if err != nil {
			return nil, err
		}
		if ok && n.Hash == root.Hash {
			continue
		}
		r.updateDiffRoot(root)
		break
	}
	if r.diff != nil {
		if _, err := r.update(b.nodes); err != nil {
			return nil, err
		}
	} else {
		r.want = nil
		b.ancestors = b.length
	}

	if v == nil {
		return nil, fmt.Errorf("%w: no verifier", ErrBadSignature)
	}
	if err := v.VerifyTree(b, b.signature); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return r, nil
}

// Update takes a peer's answer to a [ReorgBatch.Want] hash request. It
// reports whether the reorg is finished; a proof that does not hash to the
// node known to differ reports false and changes nothing.
func (r *ReorgBatch) Update(d *wire.Data) (bool, error) {
	if r.want == nil {
		return true, nil
	}
	var nodes []hcrypto.Node
	root, err := verifyTree(d, &nodes)
	if err != nil {
		return false, err
	}
	if root == nil || root.Hash != r.diff.Hash {
		return false, nil
	}
	r.nodes = append(r.nodes, nodes...)
	return r.update(nodes)
}

// update descends from the differing node through the given nodes: while
// a left child is known, the difference is in it if it differs from the
// stored node, else in its sibling (JS _update).
func (r *ReorgBatch) update(nodes []hcrypto.Node) (bool, error) {
	known := make(map[uint64]hcrypto.Node, len(nodes))
	for _, n := range nodes {
		known[n.Index] = n
	}
	var diff *hcrypto.Node
	it := flattree.NewIterator(r.diff.Index)
	for it.Index()&1 != 0 {
		left, ok := known[it.LeftChild()]
		if !ok {
			break
		}
		stored, ok, err := r.tree.nodes.Node(left.Index)
		if err != nil {
			return false, err
		}
		if !ok || stored.Hash != left.Hash {
			diff = &left
			continue
		}
		right, ok := known[it.Sibling()]
		if !ok {
			// JS goes on with an undefined node and throws.
			return false, badProof("reorg proof lacks node %d", it.Index())
		}
		diff = &right
	}
	if r.diff.Index&1 == 0 {
		return true, nil
	}
	if diff == nil {
		return false, nil
	}
	return r.updateDiffRoot(*diff), nil
}

// updateDiffRoot records diff as the highest node known to differ and
// narrows the wanted range to the blocks under it, which also bounds the
// common ancestor (JS _updateDiffRoot). It reports whether the search is
// over.
func (r *ReorgBatch) updateDiffRoot(diff hcrypto.Node) bool {
	if r.want == nil {
		return true
	}
	left, right := flattree.Spans(diff.Index)
	start := left / 2
	end := min(r.treeLength, right/2+1)
	r.ancestors = start
	r.diff = &diff
	if diff.Index&1 == 0 || r.want.Start >= r.treeLength || end <= start {
		r.want = nil
		return true
	}
	r.want.Start = start
	r.want.End = end
	r.want.Nodes = flattree.Depth(diff.Index)
	return false
}
