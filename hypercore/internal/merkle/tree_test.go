package merkle

import (
	"errors"
	"fmt"
	"maps"
	"testing"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// testSigner signs with the seed-1 key pair for an arbitrary core key; the
// unit tests do not need the key to be a manifest hash.
func testSigner(t testing.TB) *signer {
	return newSigner(t, "d8c3a0597903b28d751c6e0b7107775e388ec5a3cf669bdd1e7ec41b8b8f6e72")
}

// edgeLengths are tree sizes around powers of two.
func edgeLengths(maxExp int) []uint64 {
	set := map[uint64]bool{}
	for e := range maxExp + 1 {
		p := uint64(1) << e
		set[p-1], set[p], set[p+1] = true, true, true
	}
	out := make([]uint64, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	return sortedU64(out)
}

func sortedU64(s []uint64) []uint64 {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// naiveTree computes every node of a tree of n blocks from the leaves up.
func naiveTree(n uint64) map[uint64]hcrypto.Node {
	nodes := map[uint64]hcrypto.Node{}
	for i := range n {
		nodes[2*i] = leafNode(2*i, testBlock(i, 0))
	}
	for depth := uint64(1); uint64(1)<<depth <= n; depth++ {
		for off := uint64(0); (off+1)<<depth <= n; off++ {
			idx := flattree.Index(depth, off)
			l, r, _ := flattree.Children(idx)
			nodes[idx] = parentNode(idx, nodes[l], nodes[r])
		}
	}
	return nodes
}

func TestAppend(t *testing.T) {
	for _, n := range edgeLengths(9) {
		t.Run(fmt.Sprintf("length=%d", n), func(t *testing.T) {
			want := naiveTree(n)
			// All at once and one block per batch give the same tree.
			one, oneNodes := build(t, nil, appendStep(n, 0))
			steps := make([]step, n)
			for i := range steps {
				steps[i] = appendStep(1, 0)
			}
			many, manyNodes := build(t, nil, steps...)
			if !maps.Equal(map[uint64]hcrypto.Node(oneNodes), want) {
				t.Errorf("nodes of one batch differ from the naive tree")
			}
			if !maps.Equal(map[uint64]hcrypto.Node(manyNodes), want) {
				t.Errorf("nodes of single appends differ from the naive tree")
			}
			var roots []hcrypto.Node
			var size uint64
			for _, r := range flattree.FullRoots(2 * n) {
				roots = append(roots, want[r])
				size += want[r].Size
			}
			for _, tree := range []*Tree{one, many} {
				if !nodesEqual(tree.Roots(), roots) || tree.Length() != n || tree.ByteLength() != size {
					t.Errorf("roots %v length %d bytes %d, want %v %d %d", tree.Roots(), tree.Length(), tree.ByteLength(), roots, n, size)
				}
				if tree.Hash() != hcrypto.TreeHash(roots) {
					t.Errorf("tree hash differs")
				}
			}
			reopened, err := Open(oneNodes, n, 0, nil)
			if err != nil || !nodesEqual(reopened.Roots(), roots) {
				t.Errorf("Open: %v, roots %v", err, reopened.Roots())
			}
		})
	}
}

func TestByteRangeAndSeek(t *testing.T) {
	for _, n := range edgeLengths(5) {
		tree, _ := build(t, nil, appendStep(n, 0))
		var offset uint64
		for i := range n {
			size := uint64(len(testBlock(i, 0)))
			off, sz, err := tree.ByteRange(2 * i)
			if err != nil || off != offset || sz != size {
				t.Errorf("length %d: ByteRange(block %d) = %d, %d, %v; want %d, %d", n, i, off, sz, err, offset, size)
			}
			for _, pad := range []uint64{0, 1} {
				unpadded := offset - pad*i
				for k := range size - pad {
					res, err := tree.Seek(unpadded+k, pad)
					wantBlock, wantOff := i, k
					if unpadded+k == 0 {
						wantBlock, wantOff = 0, 0
					}
					if err != nil || !res.Found || res.Block != wantBlock || res.Offset != wantOff {
						t.Errorf("length %d: Seek(%d, %d) = %+v, %v; want block %d offset %d", n, unpadded+k, pad, res, err, wantBlock, wantOff)
					}
				}
			}
			offset += size
		}
		if _, _, err := tree.ByteRange(2 * n); !errors.Is(err, ErrOutOfBounds) {
			t.Errorf("length %d: ByteRange past the end: %v", n, err)
		}
		res, err := tree.Seek(offset+1, 0)
		if err != nil || res.Found || res.Start != n {
			t.Errorf("length %d: Seek past the end = %+v, %v", n, res, err)
		}
	}
}

// TestProofRoundTrip proves every block from every requester length at
// tree sizes around powers of two, and verifies each proof.
func TestProofRoundTrip(t *testing.T) {
	s := testSigner(t)
	for _, n := range edgeLengths(5) {
		t.Run(fmt.Sprintf("length=%d", n), func(t *testing.T) {
			tree, full := build(t, s, appendStep(n, 0))
			for start := range n + 1 {
				requester := prefix(t, full, start, 0)
				requester.signature = nil
				for i := range n {
					nodes, err := requester.MissingNodes(2*i, start)
					if err != nil {
						t.Fatal(err)
					}
					req := &wire.Request{Block: &wire.RequestBlock{Index: i, Nodes: nodes}}
					if start < n {
						req.Upgrade = &wire.RequestUpgrade{Start: start, Length: n - start}
					} else if i >= start {
						continue
					}
					d, err := tree.Proof(req)
					if err != nil {
						t.Fatalf("start %d block %d: %v", start, i, err)
					}
					d.Block.Value = testBlock(i, 0)
					b, err := requester.Verify(d, s.verifier())
					if err != nil {
						t.Fatalf("start %d block %d: %v", start, i, err)
					}
					if b.Length() != max(n, start) || b.Hash() != tree.Hash() && start < n {
						t.Errorf("start %d block %d: verified length %d", start, i, b.Length())
					}
					// A changed value never verifies.
					d.Block.Value = append(d.Block.Value, '!')
					if _, err := requester.Verify(d, s.verifier()); !errors.Is(err, ErrBadProof) && !errors.Is(err, ErrBadSignature) {
						t.Errorf("start %d block %d: altered value: %v", start, i, err)
					}
				}
			}
		})
	}
}

func TestProofErrors(t *testing.T) {
	tree, _ := build(t, nil, appendStep(10, 0))
	for _, req := range []*wire.Request{
		{Upgrade: &wire.RequestUpgrade{Start: 10, Length: 1}},
		{Upgrade: &wire.RequestUpgrade{Start: 3, Length: 0}},
		{Upgrade: &wire.RequestUpgrade{Start: 1 << 62, Length: 1}},
		{Block: &wire.RequestBlock{Index: 3, Nodes: 10}},
		{Block: &wire.RequestBlock{Index: 9}, Upgrade: &wire.RequestUpgrade{Start: 0, Length: 8}},
		{Block: &wire.RequestBlock{Index: 1 << 62}},
		{Hash: &wire.RequestHash{Index: 25}},
		{Seek: &wire.RequestSeek{Bytes: 5}, Block: &wire.RequestBlock{Index: 8}, Upgrade: &wire.RequestUpgrade{Start: 5, Length: 5}},
	} {
		if _, err := tree.Proof(req); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%+v: %v, want ErrInvalidRequest", req, err)
		}
	}
	// An empty tree answers with an empty proof.
	d, err := New(MemNodes{}).Proof(&wire.Request{Block: &wire.RequestBlock{Index: 0}, Upgrade: &wire.RequestUpgrade{Start: 0, Length: 1}})
	if err != nil || d.Block != nil || d.Upgrade != nil {
		t.Errorf("empty tree: %+v, %v", d, err)
	}
}

func TestTruncate(t *testing.T) {
	s := testSigner(t)
	for _, n := range edgeLengths(5) {
		for _, to := range []uint64{0, 1, n / 2, n - 1, n} {
			if to > n {
				continue
			}
			tree, nodes := build(t, s, appendStep(n, 0), truncStep(to))
			fresh, freshNodes := build(t, s, appendStep(to, 0))
			if tree.Fork() != 1 || tree.Length() != to || tree.Hash() != fresh.Hash() || tree.ByteLength() != fresh.ByteLength() {
				t.Errorf("truncate %d to %d: fork %d length %d", n, to, tree.Fork(), tree.Length())
			}
			// The same nodes as a fresh tree, except that, as in JS, a
			// parent above the first offset-0 ancestor of the last kept
			// leaf may stay behind; it lies outside the tree.
			for i, fn := range freshNodes {
				if nodes[i] != fn {
					t.Errorf("truncate %d to %d: node %d = %s, fresh %s", n, to, i, nodeString(nodes[i]), nodeString(fn))
				}
			}
			for i := range nodes {
				if _, ok := freshNodes[i]; !ok && flattree.RightSpan(i) < 2*to {
					t.Errorf("truncate %d to %d: node %d left behind inside the tree", n, to, i)
				}
			}
		}
	}
	tree, _ := build(t, nil, appendStep(4, 0))
	if _, err := tree.Truncate(5, 1); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("truncating past the end: %v", err)
	}
}

func TestCommitConflict(t *testing.T) {
	tree, nodes := build(t, nil, appendStep(4, 0))
	apply := func(c *Changes) error { nodes.Apply(c); return nil }
	a, b := tree.Batch(), tree.Batch()
	a.Append([]byte("a"))
	b.Append([]byte("b"))
	if err := tree.Commit(a, apply); err != nil {
		t.Fatal(err)
	}
	if err := tree.Commit(b, apply); !errors.Is(err, ErrConflict) {
		t.Errorf("second commit: %v, want ErrConflict", err)
	}
	// A failed write leaves the tree as it was.
	c := tree.Batch()
	c.Append([]byte("c"))
	boom := errors.New("boom")
	if err := tree.Commit(c, func(*Changes) error { return boom }); err != boom || tree.Length() != 5 {
		t.Errorf("failed write: %v, length %d", err, tree.Length())
	}
}

func TestVerifyErrors(t *testing.T) {
	s := testSigner(t)
	tree, full := build(t, s, appendStep(9, 0))
	requester := prefix(t, full, 4, 0)
	d, err := tree.Proof(&wire.Request{Upgrade: &wire.RequestUpgrade{Start: 4, Length: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := requester.Verify(d, s.verifier()); err != nil {
		t.Fatal(err)
	}
	if got := UpgradeLength(d.Upgrade); got != 9 {
		t.Errorf("UpgradeLength = %d, want 9", got)
	}
	short, err := tree.Proof(&wire.Request{Upgrade: &wire.RequestUpgrade{Start: 4, Length: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if got := UpgradeLength(short.Upgrade); got != 9 {
		t.Errorf("UpgradeLength with additional nodes = %d, want 9", got)
	}
	if _, err := requester.Verify(d, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("nil verifier: %v", err)
	}
	other := *testSigner(t)
	other.key[0] ^= 1
	if _, err := requester.Verify(d, other.verifier()); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other key: %v", err)
	}
	d.Fork = 1
	if _, err := requester.Verify(d, s.verifier()); !errors.Is(err, ErrForkMismatch) {
		t.Errorf("other fork: %v", err)
	}
}
