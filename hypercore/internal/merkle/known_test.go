package merkle

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// knownMap is the KnownNodes of the tests.
type knownMap map[uint64]hcrypto.Node

func (k knownMap) KnownNode(i uint64) (hcrypto.Node, bool) { n, ok := k[i]; return n, ok }

// pipelined returns a reader of full's tree of n blocks that has only its
// roots, and the proofs of every block asked for before any is verified,
// as a download with every request in flight at once gets them.
func pipelined(t *testing.T, tree *Tree, full MemNodes, n uint64) (*Tree, MemNodes, []*wire.Data) {
	t.Helper()
	nodes := MemNodes{}
	for _, r := range flattree.FullRoots(2 * n) {
		nodes[r] = full[r]
	}
	reader, err := Open(nodes, n, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var proofs []*wire.Data
	for i := range n {
		missing, err := reader.MissingNodes(2*i, n)
		if err != nil {
			t.Fatal(err)
		}
		d, err := tree.Proof(&wire.Request{Block: &wire.RequestBlock{Index: i, Nodes: missing}})
		if err != nil {
			t.Fatal(err)
		}
		d.Block.Value = testBlock(i, 0)
		proofs = append(proofs, d)
	}
	return reader, nodes, proofs
}

func TestVerifyLeafKnown(t *testing.T) {
	for _, n := range []uint64{1, 2, 7, 64, 100} {
		t.Run(fmt.Sprintf("length=%d", n), func(t *testing.T) {
			tree, full := build(t, nil, appendStep(n, 0))
			reader, nodes, proofs := pipelined(t, tree, full, n)
			known := knownMap{}
			var batches []*Batch
			hashed := 0
			for i, d := range proofs {
				b, err := reader.VerifyLeafKnown(d, nil, hcrypto.LeafHash(d.Block.Value), known)
				if err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
				for _, m := range b.Nodes() {
					if m != full[m.Index] {
						t.Fatalf("block %d: node %d differs from the tree's", i, m.Index)
					}
					known[m.Index] = m
				}
				hashed += len(b.Nodes())
				batches = append(batches, b)
			}
			for i, b := range batches {
				if err := reader.Commit(b, func(c *Changes) error { nodes.Apply(c); return nil }); err != nil {
					t.Fatalf("commit %d: %v", i, err)
				}
			}
			for i := range 2 * n {
				if _, r := spans(i); r < 2*n && nodes[i] != full[i] {
					t.Fatalf("node %d: stored %+v, want %+v", i, nodes[i], full[i])
				}
			}
			// Each block costs a few nodes, not one per level.
			if n >= 64 && hashed > int(4*n) {
				t.Errorf("%d nodes made for %d blocks", hashed, n)
			}
		})
	}
}

func TestVerifyLeafKnownRejects(t *testing.T) {
	const n = 64
	tree, full := build(t, nil, appendStep(n, 0))
	reader, _, proofs := pipelined(t, tree, full, n)
	first, err := reader.VerifyLeafKnown(proofs[0], nil, hcrypto.LeafHash(proofs[0].Block.Value), knownMap{})
	if err != nil {
		t.Fatal(err)
	}
	known := knownMap{}
	for _, m := range first.Nodes() {
		known[m.Index] = m
	}
	d := proofs[1] // its leaf is known: block 0's sibling
	leaf := hcrypto.LeafHash(d.Block.Value)
	if b, err := reader.VerifyLeafKnown(d, nil, leaf, known); err != nil || len(b.Nodes()) != 1 {
		t.Fatalf("block 1: %v, %d nodes", err, len(b.Nodes()))
	}

	// Another value for the block: its leaf does not match the known one.
	bad := *d
	bad.Block = &wire.DataBlock{Index: 1, Value: []byte("forged"), Nodes: d.Block.Nodes}
	if _, err := reader.VerifyLeafKnown(&bad, nil, hcrypto.LeafHash(bad.Block.Value), known); !errors.Is(err, ErrBadProof) {
		t.Errorf("forged block: %v", err)
	}
	// A known node that differs from the one made (a caller's bug, or a
	// forgery upstream) fails the proof.
	wrong := knownMap{2: {Index: 2, Size: 1}}
	if _, err := reader.VerifyLeafKnown(d, nil, leaf, wrong); !errors.Is(err, ErrBadProof) {
		t.Errorf("wrong known node: %v", err)
	}
	// Nodes past the anchor out of order still fail the proof.
	if len(d.Block.Nodes) >= 2 {
		swapped := *d
		nodes := append([]hcrypto.Node(nil), d.Block.Nodes...)
		nodes[len(nodes)-1].Index += 2
		swapped.Block = &wire.DataBlock{Index: 1, Value: d.Block.Value, Nodes: nodes}
		if _, err := reader.VerifyLeafKnown(&swapped, nil, leaf, known); !errors.Is(err, ErrBadProof) {
			t.Errorf("misordered nodes past the anchor: %v", err)
		}
	}
}

// TestBatchSharesRoots checks that batches share the tree's roots only
// until they change them: appends, truncations and checkouts leave the
// tree and the other batches as they were.
func TestBatchSharesRoots(t *testing.T) {
	tree, _ := build(t, nil, appendStep(13, 0))
	want := tree.Roots()
	other := tree.Batch()
	for _, change := range []func(b *Batch) error{
		func(b *Batch) error { b.Append(testBlock(13, 0), testBlock(14, 0), testBlock(15, 0)); return nil },
		func(b *Batch) error { b.Append(testBlock(13, 0)); return nil },
		func(b *Batch) error { return b.Checkout(8, nil) },
	} {
		b := tree.Batch()
		if err := change(b); err != nil {
			t.Fatal(err)
		}
		if !nodesEqual(tree.Roots(), want) || !nodesEqual(other.Roots(), want) {
			t.Fatalf("roots changed: tree %v, other batch %v, want %v", tree.Roots(), other.Roots(), want)
		}
	}
	if _, err := tree.Truncate(5, 1); err != nil {
		t.Fatal(err)
	}
	if !nodesEqual(tree.Roots(), want) || !nodesEqual(other.Roots(), want) {
		t.Fatalf("truncate changed the roots: tree %v, other batch %v", tree.Roots(), other.Roots())
	}
}
