package hcrypto

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestLeafHashes checks LeafHashes against LeafHash at the
// BLAKE2b block boundaries of the leaf stream (9 bytes of prefix, then the
// data), for groups of every size up to a few lanes' worth, with equal and
// mixed lengths.
func TestLeafHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	block := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var sizes []int
	for _, edge := range []int{0, 128, 256, 1024 + 128, 4096} {
		for d := -10; d <= 10; d++ {
			if n := edge - 9 + d; n >= 0 {
				sizes = append(sizes, n)
			}
		}
	}
	sizes = append(sizes, 1024, 65536)
	check := func(t *testing.T, blocks [][]byte) {
		t.Helper()
		got := make([][32]byte, len(blocks))
		LeafHashes(got, blocks)
		for i, b := range blocks {
			if want := LeafHash(b); got[i] != want {
				t.Fatalf("block %d (%d bytes): got %x, want %x", i, len(b), got[i][:8], want[:8])
			}
		}
	}
	for _, n := range sizes {
		for _, count := range []int{1, 2, 3, 7, 8, 9, 17} {
			t.Run(fmt.Sprintf("len=%d,count=%d", n, count), func(t *testing.T) {
				blocks := make([][]byte, count)
				for i := range blocks {
					blocks[i] = block(n)
				}
				check(t, blocks)
			})
		}
	}
	t.Run("mixed", func(t *testing.T) {
		for range 50 {
			blocks := make([][]byte, 1+r.IntN(40))
			for i := range blocks {
				blocks[i] = block(sizes[r.IntN(6)])
			}
			check(t, blocks)
		}
	})
}

// TestParentHashes checks ParentHashes against ParentHash for
// every group size up to a few lanes' worth, with children given in either
// order.
func TestParentHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	node := func(index uint64) Node {
		n := Node{Index: index, Size: r.Uint64N(1 << 40)}
		for i := range n.Hash {
			n.Hash[i] = byte(r.Uint32())
		}
		return n
	}
	for count := range 20 {
		ls := make([]Node, count)
		rs := make([]Node, count)
		for i := range ls {
			ls[i], rs[i] = node(uint64(4*i)), node(uint64(4*i+2))
			if i%3 == 1 {
				ls[i], rs[i] = rs[i], ls[i]
			}
		}
		got := make([][32]byte, count)
		ParentHashes(got, ls, rs)
		for i := range got {
			if want := ParentHash(ls[i], rs[i]); got[i] != want {
				t.Fatalf("count %d, parent %d: got %x, want %x", count, i, got[i][:8], want[:8])
			}
		}
	}
}

// BenchmarkLeafHashes hashes 100 blocks of 1 KiB, as an append of a batch
// of them does.
func BenchmarkLeafHashes(b *testing.B) {
	blocks := make([][]byte, 100)
	for i := range blocks {
		blocks[i] = make([]byte, 1024)
	}
	out := make([][32]byte, len(blocks))
	b.Run("lanes", func(b *testing.B) {
		b.SetBytes(100 * 1024)
		for b.Loop() {
			LeafHashes(out, blocks)
		}
	})
	b.Run("one-by-one", func(b *testing.B) {
		b.SetBytes(100 * 1024)
		for b.Loop() {
			for i, blk := range blocks {
				out[i] = LeafHash(blk)
			}
		}
	})
}
