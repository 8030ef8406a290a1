package merkle

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gopear/gopear/hcrypto"
)

// TestAppendParallelHashing checks that appends large enough to hash their
// leaves on several goroutines make the same nodes, in the same order, and
// the same roots as appending the blocks one at a time, for mixed block
// sizes (empty blocks included) and several GOMAXPROCS values.
func TestAppendParallelHashing(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	sizes := []int{0, 1, 100, 1024, 4096, 20000, 70000}
	for _, procs := range []int{1, 2, 3, 8} {
		for _, count := range []int{1, 2, 7, 100, 333} {
			t.Run(fmt.Sprintf("procs=%d/count=%d", procs, count), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				blocks := make([][]byte, count)
				for i := range blocks {
					blocks[i] = make([]byte, sizes[r.IntN(len(sizes))])
					for j := range blocks[i] {
						blocks[i][j] = byte(r.Uint32())
					}
				}
				// Start from a non-empty tree, so that merges reach old roots.
				pre := New(MemNodes{})
				pb := pre.Batch()
				pb.Append(testBlock(0, 1), testBlock(1, 1), testBlock(2, 1))
				nodes := MemNodes{}
				if err := pre.Commit(pb, func(c *Changes) error { nodes.Apply(c); return nil }); err != nil {
					t.Fatal(err)
				}

				got := pre.Batch()
				got.Append(blocks...)
				want := pre.Batch()
				for _, blk := range blocks {
					want.Append(blk)
				}
				if !nodesEqual(got.Nodes(), want.Nodes()) || !nodesEqual(got.Roots(), want.Roots()) {
					t.Fatalf("batch append differs from appending one by one")
				}
				if got.Hash() != want.Hash() || got.Length() != want.Length() || got.ByteLength() != want.ByteLength() {
					t.Fatalf("state differs: %d/%d bytes %d/%d", got.Length(), want.Length(), got.ByteLength(), want.ByteLength())
				}
				for i, blk := range blocks {
					n, ok, err := got.Get(2 * (3 + uint64(i)))
					if err != nil || !ok || n.Hash != hcrypto.LeafHash(blk) || n.Size != uint64(len(blk)) {
						t.Fatalf("leaf %d: %v %v %v", i, n, ok, err)
					}
				}
			})
		}
	}
}

// BenchmarkBatchAppend appends 100 blocks of 1 KiB to a batch, the
// hashing part of a hypercore batch append.
func BenchmarkBatchAppend(b *testing.B) {
	blocks := make([][]byte, 100)
	for i := range blocks {
		blocks[i] = make([]byte, 1024)
	}
	t := New(MemNodes{})
	b.SetBytes(100 * 1024)
	b.ReportAllocs()
	for b.Loop() {
		t.Batch().Append(blocks...)
	}
}
