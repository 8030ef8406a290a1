package merkle

// Proof generation: what a responder sends for a request (JS generateProof,
// blockAndSeekProof, seekProof, upgradeProof, additionalUpgradeProof).
//
// A request names up to three things, and the proof carries node lists for
// each. The verifier walks the flat tree in a fixed order and takes each
// node off the list expecting one exact index, so the order below is the
// wire format, not an implementation detail.
//
// Let L be the responder's length, head = 2L, and for an upgrade request
// {start, length}: from = 2·start, to = 2·(start+length); without one,
// from = 0 and to = head. The target T is the leaf 2·block.index of a block
// request or the node hash.index of a hash request.
//
//  1. An empty tree answers with an empty proof. An upgrade with from >= to
//     or to > head is invalid, and so is a seek with an upgrade when the
//     target lies at or after from.
//
//  2. Target below the upgrade (or no upgrade): the requester will check the
//     target against a node it already trusts, the ancestor R reached after
//     `nodes` parent steps (R must stay inside `to`). The target's list is
//     T itself for hash requests (a block request carries the block, whose
//     leaf hash the verifier computes), then the sibling of each node on the
//     path from T up to R, bottom-up. With a seek as well, the seek target S
//     is looked up inside R; if S lies strictly inside one of those
//     siblings, that sibling is not sent: the seek list proves it instead
//     (S, then the siblings on the path from S up to that sibling).
//
//  3. Upgrade: walk the roots of the tree of to/2 blocks, left to right.
//     Roots that end before from are the requester's already. The root that
//     contains leaf from-2 (the requester's last block) is proven by the
//     right-hand siblings on the path from that leaf to the root; every
//     later root is sent as is. Fold rule: if no target list was made in
//     step 2 and a node about to be sent contains the target (or, for a
//     seek with an upgrade, the block holding the seek offset), that node is
//     not sent; the target's list proves it instead, from the target up to
//     that node, and the verifier puts the node it rebuilds in its place.
//
//  4. Additional nodes: if head > to, the same walk from to up to head, so
//     that the requester can rebuild the responder's current tree, whose
//     signature comes with the proof.
//
// Every node comes from storage; a node that is not stored makes the
// request invalid, as JS answers noData INVALID_REQUEST to every failure.

import (
	"fmt"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// target is the block or hash a request asks for (JS normalizeIndexed).
type target struct {
	block     bool   // a block request: the value proves the leaf
	index     uint64 // flat-tree index
	nodes     uint64 // parent steps to the subtree root the requester trusts
	lastIndex uint64 // last block under index
}

// proofGen collects the node lists of one proof. The has* flags tell an
// empty list from a list that was never made, which the fold rule and the
// final checks depend on.
type proofGen struct {
	t          *Tree
	node       []hcrypto.Node
	seek       []hcrypto.Node
	upgrade    []hcrypto.Node
	additional []hcrypto.Node
	hasNode    bool
	hasSeek    bool
}

// invalid returns an error wrapping ErrInvalidRequest.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidRequest}, args...)...)
}

// get returns the stored node at index; a missing node makes the request
// invalid.
func (g *proofGen) get(index uint64) (hcrypto.Node, error) {
	n, ok, err := g.t.nodes.Node(index)
	if err != nil {
		return hcrypto.Node{}, err
	}
	if !ok {
		return hcrypto.Node{}, fmt.Errorf("%w: %w: node %d", ErrInvalidRequest, ErrMissingNode, index)
	}
	return n, nil
}

// Proof returns the data message that answers req from the tree: Fork is
// the tree's fork, Request is req.ID, and the block, hash, seek and upgrade
// parts carry the proof nodes JS would send, in the same order, with the
// tree's signature in the upgrade. The block value and the manifest are
// left for the caller to fill in. An empty tree gives a proof with no
// parts.
//
// Errors wrap [ErrInvalidRequest] (including a needed node that is not
// stored), or are storage errors. The caller checks the fork and whether it
// has the block before calling Proof.
func (t *Tree) Proof(req *wire.Request) (*wire.Data, error) {
	d := &wire.Data{Request: req.ID, Fork: t.fork}
	var up *wire.RequestUpgrade
	if req.Upgrade != nil {
		u := *req.Upgrade
		if p := t.prologue; p != nil && u.Start < p.Length {
			// Upgrades into the prologue start at 0 and end at the
			// prologue, which its hash verifies.
			u.Start, u.Length = 0, p.Length
		}
		up = &u
	}

	head := 2 * t.length
	if head == 0 {
		return d, nil
	}
	from, to := uint64(0), head
	if up != nil {
		if up.Start >= maxIndex/4 || up.Length >= maxIndex/4 {
			return nil, invalid("upgrade {%d, %d} out of bounds", up.Start, up.Length)
		}
		from = 2 * up.Start
		to = from + 2*up.Length
	}
	if from >= to || to > head {
		return nil, invalid("upgrade from %d to %d at length %d", from/2, to/2, t.length)
	}

	var tg *target
	switch {
	case req.Block != nil:
		if req.Block.Index >= maxIndex/2 {
			return nil, invalid("block %d out of bounds", req.Block.Index)
		}
		tg = &target{block: true, index: 2 * req.Block.Index, nodes: req.Block.Nodes, lastIndex: req.Block.Index}
	case req.Hash != nil:
		if req.Hash.Index >= maxIndex {
			return nil, invalid("node %d out of bounds", req.Hash.Index)
		}
		tg = &target{index: req.Hash.Index, nodes: req.Hash.Nodes, lastIndex: flattree.RightSpan(req.Hash.Index) / 2}
	}
	seek := req.Seek
	if seek != nil && up != nil && tg != nil && tg.index >= from {
		return nil, invalid("seek and block/hash inside an upgrade")
	}

	g := &proofGen{t: t}
	subTree := head // the node the fold rule looks for; head matches none
	switch {
	case tg != nil && (up == nil || tg.lastIndex < up.Start):
		root, err := nodesToRoot(tg.index, tg.nodes, to)
		if err != nil {
			return nil, err
		}
		subTree = root
		seekRoot := head
		if seek != nil {
			if seekRoot, err = g.seekInside(subTree, seek.Bytes, seek.Padding); err != nil {
				return nil, err
			}
		}
		if err := g.blockAndSeek(tg, seek != nil, seekRoot, subTree); err != nil {
			return nil, err
		}
	case (tg != nil || seek != nil) && up != nil:
		if seek != nil {
			s, err := g.seekFromHead(to, seek.Bytes, seek.Padding)
			if err != nil {
				return nil, err
			}
			subTree = s
		} else {
			subTree = tg.index
		}
	}

	if up != nil {
		if err := g.grow(&g.upgrade, from, to, func(it *flattree.Iterator) (bool, error) {
			// The fold rule: send the target's proof up to this node
			// instead of the node.
			if g.hasNode || g.hasSeek || !it.Contains(subTree) {
				return false, nil
			}
			return true, g.blockAndSeek(tg, seek != nil, subTree, it.Index())
		}); err != nil {
			return nil, err
		}
		if head > to {
			if err := g.grow(&g.additional, to, head, nil); err != nil {
				return nil, err
			}
		}
	}

	switch {
	case req.Block != nil:
		if !g.hasNode {
			return nil, invalid("block %d cannot be proven with this upgrade", req.Block.Index)
		}
		d.Block = &wire.DataBlock{Index: req.Block.Index, Nodes: g.node}
	case req.Hash != nil:
		if !g.hasNode {
			return nil, invalid("node %d cannot be proven with this upgrade", req.Hash.Index)
		}
		d.Hash = &wire.DataHash{Index: req.Hash.Index, Nodes: g.node}
	}
	if seek != nil && g.hasSeek {
		d.Seek = &wire.DataSeek{Bytes: seek.Bytes, Nodes: g.seek}
	}
	if up != nil {
		d.Upgrade = &wire.DataUpgrade{
			Start:           up.Start,
			Length:          up.Length,
			Nodes:           g.upgrade,
			AdditionalNodes: g.additional,
			Signature:       t.signature,
		}
	}
	return d, nil
}

// nodesToRoot returns the ancestor of index n parent steps up, which must
// not contain head (JS nodesToRoot).
func nodesToRoot(index, n, head uint64) (uint64, error) {
	it := flattree.NewIterator(index)
	for range n {
		it.Parent()
		if it.Contains(head) {
			return 0, invalid("%d nodes above %d reach past the tree", n, index)
		}
	}
	return it.Index(), nil
}

// blockAndSeek makes the target's list: the target itself for a hash
// request, then the siblings on the path up to root, where a sibling that
// strictly contains seekRoot is replaced by the seek list. Without a target
// it makes the seek list from seekRoot up to root.
func (g *proofGen) blockAndSeek(tg *target, seek bool, seekRoot, root uint64) error {
	if tg == nil {
		return g.seekList(seekRoot, root)
	}
	it := flattree.NewIterator(tg.index)
	// One node a level up to the root, and the target itself for a hash.
	size := 1
	if d, dt := flattree.Depth(root), flattree.Depth(tg.index); d > dt {
		size += int(d - dt)
	}
	g.node, g.hasNode = make([]hcrypto.Node, 0, size), true
	if !tg.block {
		n, err := g.get(it.Index())
		if err != nil {
			return err
		}
		g.node = append(g.node, n)
	}
	for it.Index() != root {
		if err := checkClimb(it, root); err != nil {
			return err
		}
		it.Sibling()
		if seek && it.Contains(seekRoot) && it.Index() != seekRoot {
			if err := g.seekList(seekRoot, it.Index()); err != nil {
				return err
			}
		} else {
			n, err := g.get(it.Index())
			if err != nil {
				return err
			}
			g.node = append(g.node, n)
		}
		it.Parent()
	}
	return nil
}

// seekList makes the seek list: seekRoot, then the siblings on the path up
// to root (JS seekProof).
func (g *proofGen) seekList(seekRoot, root uint64) error {
	it := flattree.NewIterator(seekRoot)
	n, err := g.get(it.Index())
	if err != nil {
		return err
	}
	g.seek, g.hasSeek = []hcrypto.Node{n}, true
	for it.Index() != root {
		if err := checkClimb(it, root); err != nil {
			return err
		}
		if n, err = g.get(it.Sibling()); err != nil {
			return err
		}
		g.seek = append(g.seek, n)
		it.Parent()
	}
	return nil
}

// checkClimb fails when a walk up from the iterator can no longer reach
// root: the iterator is already as high as root. JS loops until its guard
// of 1024 steps throws, which also ends in INVALID_REQUEST.
func checkClimb(it *flattree.Iterator, root uint64) error {
	if it.Depth() >= flattree.Depth(root) || it.Index() >= maxIndex {
		return invalid("node %d is not below %d", it.Index(), root)
	}
	return nil
}

// grow appends to *dst the nodes that grow the tree of from/2 blocks into
// the tree of to/2 blocks (steps 3 and 4 of the design comment). fold, if
// not nil, is asked about each node before it is sent, and reports whether
// it proved the node in another list instead.
func (g *proofGen) grow(dst *[]hcrypto.Node, from, to uint64, fold func(*flattree.Iterator) (bool, error)) error {
	*dst = []hcrypto.Node{}
	emit := func(it *flattree.Iterator) error {
		if fold != nil {
			folded, err := fold(it)
			if err != nil || folded {
				return err
			}
		}
		n, err := g.get(it.Index())
		if err != nil {
			return err
		}
		*dst = append(*dst, n)
		return nil
	}

	started := from == 0
	for it := flattree.NewIterator(0); it.FullRoot(to); it.NextTree() {
		if it.PeekRightSpan()+1 < from {
			continue // the requester has this root
		}
		if !started && it.Contains(from-2) {
			// The root that grew over the requester's last leaf: send the
			// siblings to the right of the path up from that leaf.
			started = true
			root, leaf := it.Index(), from-2
			it.Seek(leaf)
			for it.Index() != root {
				it.Sibling()
				if it.Index() > leaf {
					if err := emit(it); err != nil {
						return err
					}
				}
				it.Parent()
			}
			continue
		}
		started = true
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}
