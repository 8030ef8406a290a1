package merkle

import (
	"bytes"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// FuzzVerify feeds arbitrary data messages to the verifiers of a requester
// at length 5 and of the full tree (length 13), and to VerifyLeafKnown
// with a few of the tree's nodes known. Properties: no panic, and
// an accepted proof only ever yields genuine nodes (index and hash of the
// responder's tree; sizes are not checked because a hash proof's target
// and its sibling can trade size, which JS accepts too) and, with a
// block, the genuine block value.
func FuzzVerify(f *testing.F) {
	s := testSigner(f)
	tree, full := build(f, s, appendStep(13, 0))
	seeds := []*wire.Request{
		{Upgrade: &wire.RequestUpgrade{Start: 5, Length: 8}},
		{Upgrade: &wire.RequestUpgrade{Start: 5, Length: 3}},
		{Block: &wire.RequestBlock{Index: 2, Nodes: 2}},
		{Block: &wire.RequestBlock{Index: 9}, Upgrade: &wire.RequestUpgrade{Start: 5, Length: 8}},
		{Block: &wire.RequestBlock{Index: 3, Nodes: 2}, Upgrade: &wire.RequestUpgrade{Start: 5, Length: 6}},
		{Hash: &wire.RequestHash{Index: 5, Nodes: 1}},
		{Hash: &wire.RequestHash{Index: 18}, Upgrade: &wire.RequestUpgrade{Start: 5, Length: 8}},
		{Seek: &wire.RequestSeek{Bytes: 40}, Upgrade: &wire.RequestUpgrade{Start: 5, Length: 8}},
		{Seek: &wire.RequestSeek{Bytes: 10}, Block: &wire.RequestBlock{Index: 1, Nodes: 2}},
	}
	for _, r := range seeds {
		d, err := tree.Proof(r)
		if err != nil {
			f.Fatal(err)
		}
		if d.Block != nil {
			d.Block.Value = testBlock(d.Block.Index, 0)
		}
		f.Add(d.Append(nil))
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		var d wire.Data
		if wire.Unmarshal(raw, &d) != nil {
			return
		}
		known := knownMap{0: full[0], 2: full[2], 5: full[5], 9: full[9], 16: full[16]}
		for _, try := range []struct {
			length uint64
			known  bool
		}{{5, false}, {13, false}, {5, true}, {13, true}} {
			length := try.length
			requester := prefix(t, full, length, 0)
			var b *Batch
			var err error
			if try.known && d.Block != nil {
				b, err = requester.VerifyLeafKnown(&d, s.verifier(), hcrypto.LeafHash(d.Block.Value), known)
			} else {
				b, err = requester.Verify(&d, s.verifier())
			}
			if err != nil {
				continue
			}
			for _, n := range b.Nodes() {
				want, ok := full[n.Index]
				if !ok || want.Hash != n.Hash {
					t.Fatalf("length %d accepted a forged node %s", length, nodeString(n))
				}
			}
			if d.Block != nil && !bytes.Equal(d.Block.Value, testBlock(d.Block.Index, 0)) {
				t.Fatalf("length %d accepted a forged value for block %d", length, d.Block.Index)
			}
			if b.Upgraded() && (b.Length() > 13 || b.Hash() != mustRootsHash(t, tree, b.Length())) {
				t.Fatalf("length %d accepted a forged upgrade to %d", length, b.Length())
			}
		}
	})
}

func mustRootsHash(t *testing.T, tree *Tree, length uint64) [32]byte {
	roots, err := tree.RootsAt(length)
	if err != nil {
		t.Fatal(err)
	}
	b := tree.Batch()
	b.roots = roots
	return b.Hash()
}
