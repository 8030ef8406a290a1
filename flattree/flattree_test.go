package flattree_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gopear/gopear/flattree"
)

func TestIndexDepthOffset(t *testing.T) {
	tests := []struct {
		index, depth, offset uint64
	}{
		{0, 0, 0}, {1, 1, 0}, {2, 0, 1}, {3, 2, 0}, {5, 1, 1}, {7, 3, 0},
		{11, 2, 1}, {15, 4, 0}, {23, 3, 1}, {1<<32 - 1, 32, 0}, {1 << 32, 0, 1 << 31},
		{1<<63 - 1, 63, 0},
	}
	for _, tt := range tests {
		if got := flattree.Depth(tt.index); got != tt.depth {
			t.Errorf("Depth(%d) = %d, want %d", tt.index, got, tt.depth)
		}
		if got := flattree.Offset(tt.index); got != tt.offset {
			t.Errorf("Offset(%d) = %d, want %d", tt.index, got, tt.offset)
		}
		if got := flattree.Index(tt.depth, tt.offset); got != tt.index {
			t.Errorf("Index(%d, %d) = %d, want %d", tt.depth, tt.offset, got, tt.index)
		}
	}
}

// TestPowersOfTwo checks the relations between the functions on trees
// whose sizes are powers of two, and one either side.
func TestPowersOfTwo(t *testing.T) {
	for k := range 40 {
		for _, blocks := range []uint64{1<<k - 1, 1 << k, 1<<k + 1} {
			t.Run(fmt.Sprintf("blocks=%d", blocks), func(t *testing.T) {
				roots := flattree.FullRoots(2 * blocks)
				var covered uint64
				next := uint64(0)
				for _, r := range roots {
					l, rs := flattree.Spans(r)
					if l != next {
						t.Fatalf("root %d starts at leaf %d, want %d", r, l, next)
					}
					covered += flattree.CountLeaves(r)
					next = rs + 2
				}
				if covered != blocks {
					t.Fatalf("roots %v cover %d blocks, want %d", roots, covered, blocks)
				}
				if blocks == 1<<k {
					if want := uint64(1)<<k - 1; len(roots) != 1 || roots[0] != want {
						t.Fatalf("FullRoots(%d) = %v, want one root %d", 2*blocks, roots, want)
					}
				}
				if blocks > 0 && len(roots) > 1 && !slices.IsSorted(roots) {
					t.Fatalf("roots %v not left to right", roots)
				}
			})
		}
	}
}

func TestFunctionsAgree(t *testing.T) {
	for i := range uint64(1 << 12) {
		d := flattree.Depth(i)
		p := flattree.Parent(i)
		if flattree.Depth(p) != d+1 {
			t.Fatalf("Parent(%d) = %d at depth %d, want depth %d", i, p, flattree.Depth(p), d+1)
		}
		s := flattree.Sibling(i)
		if flattree.Parent(s) != p || s == i {
			t.Fatalf("Sibling(%d) = %d, parent %d, want parent %d", i, s, flattree.Parent(s), p)
		}
		l, r, ok := flattree.Children(p)
		if !ok || (l != i && r != i) || (l != s && r != s) || l >= r {
			t.Fatalf("Children(%d) = %d, %d, %v; want %d and %d", p, l, r, ok, i, s)
		}
		if lc, ok := flattree.LeftChild(p); !ok || lc != l {
			t.Fatalf("LeftChild(%d) = %d, %v, want %d", p, lc, ok, l)
		}
		if rc, ok := flattree.RightChild(p); !ok || rc != r {
			t.Fatalf("RightChild(%d) = %d, %v, want %d", p, rc, ok, r)
		}
		ls, rs := flattree.Spans(i)
		if ls != flattree.LeftSpan(i) || rs != flattree.RightSpan(i) {
			t.Fatalf("Spans(%d) = %d, %d; LeftSpan %d, RightSpan %d", i, ls, rs, flattree.LeftSpan(i), flattree.RightSpan(i))
		}
		if got, want := (rs-ls)/2+1, flattree.CountLeaves(i); got != want {
			t.Fatalf("CountLeaves(%d) = %d, spans hold %d", i, want, got)
		}
		if got, want := flattree.Count(i), 2*flattree.CountLeaves(i)-1; got != want {
			t.Fatalf("Count(%d) = %d, want %d", i, got, want)
		}
		if got, want := flattree.NextLeaf(i), rs+2; got != want {
			t.Fatalf("NextLeaf(%d) = %d, want %d", i, got, want)
		}
		if i&1 == 0 {
			if _, ok := flattree.LeftChild(i); ok {
				t.Fatalf("LeftChild(%d) of a leaf is ok", i)
			}
			if _, _, ok := flattree.Children(i); ok {
				t.Fatalf("Children(%d) of a leaf is ok", i)
			}
		}
	}
}

func TestPatch(t *testing.T) {
	// Growing the roots of the smaller tree by the patch must reach the
	// roots of the larger one, naming no node twice, no root the smaller
	// tree has, and no node outside the larger tree.
	for from := uint64(2); from <= 128; from += 2 {
		for to := from + 2; to <= 160; to += 2 {
			patch := flattree.Patch(from, to)
			known := map[uint64]bool{}
			for _, r := range flattree.FullRoots(from) {
				known[r] = true
			}
			for _, n := range patch {
				if known[n] {
					t.Fatalf("Patch(%d, %d) = %v names %d twice or names an old root", from, to, patch, n)
				}
				if flattree.RightSpan(n) >= to {
					t.Fatalf("Patch(%d, %d) = %v names %d, outside the tree", from, to, patch, n)
				}
				known[n] = true
			}
			for _, r := range flattree.FullRoots(to) {
				if !known[r] {
					t.Fatalf("Patch(%d, %d) = %v does not reach root %d", from, to, patch, r)
				}
			}
		}
	}
	if got := flattree.Patch(0, 10); got != nil {
		t.Errorf("Patch(0, 10) = %v, want nil", got)
	}
	if got := flattree.Patch(10, 10); got != nil {
		t.Errorf("Patch(10, 10) = %v, want nil", got)
	}
}

func TestFullRootsOddPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("FullRoots(3) did not panic")
		}
	}()
	flattree.FullRoots(3)
}

func TestIteratorFullRootWalk(t *testing.T) {
	for n := uint64(0); n < 1<<10; n++ {
		var got []uint64
		for it := flattree.NewIterator(0); it.FullRoot(2 * n); it.NextTree() {
			got = append(got, it.Index())
		}
		if want := flattree.FullRoots(2 * n); !slices.Equal(got, want) {
			t.Fatalf("walk over %d blocks = %v, want %v", n, got, want)
		}
	}
}

func TestIteratorZeroValue(t *testing.T) {
	var it flattree.Iterator
	if it.Index() != 0 || it.Factor() != 2 || it.Offset() != 0 {
		t.Fatalf("zero Iterator at index %d factor %d offset %d, want 0, 2, 0", it.Index(), it.Factor(), it.Offset())
	}
	if got := it.Parent(); got != 1 {
		t.Fatalf("Parent from zero Iterator = %d, want 1", got)
	}
}

// checkIterator checks that the iterator's state agrees with the
// functions of the package.
func checkIterator(t *testing.T, it *flattree.Iterator, step string) {
	t.Helper()
	i := it.Index()
	if it.Depth() != flattree.Depth(i) || it.Offset() != flattree.Offset(i) || it.Factor() != 2<<flattree.Depth(i) {
		t.Fatalf("after %s: index %d depth %d offset %d factor %d; want depth %d offset %d",
			step, i, it.Depth(), it.Offset(), it.Factor(), flattree.Depth(i), flattree.Offset(i))
	}
	if it.IsLeft() == it.IsRight() || it.IsLeft() != (flattree.Offset(i)%2 == 0) {
		t.Fatalf("after %s: index %d IsLeft %v IsRight %v", step, i, it.IsLeft(), it.IsRight())
	}
	if it.Count() != flattree.Count(i) || it.CountLeaves() != flattree.CountLeaves(i) {
		t.Fatalf("after %s: index %d Count %d CountLeaves %d", step, i, it.Count(), it.CountLeaves())
	}
	if it.PeekLeftSpan() != flattree.LeftSpan(i) || it.PeekRightSpan() != flattree.RightSpan(i) {
		t.Fatalf("after %s: index %d peek spans %d %d", step, i, it.PeekLeftSpan(), it.PeekRightSpan())
	}
}

// FuzzIterator drives an iterator with a random walk and checks every
// step against the plain functions.
func FuzzIterator(f *testing.F) {
	f.Add(uint64(0), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(uint64(7), []byte{3, 3, 3, 6, 6, 6, 9, 8})
	f.Add(uint64(1<<40+5), []byte{2, 2, 7, 1, 0, 0, 5, 4})
	f.Fuzz(func(t *testing.T, start uint64, ops []byte) {
		start %= 1 << 48
		it := flattree.NewIterator(start)
		checkIterator(t, it, "seek")
		for _, op := range ops {
			i := it.Index()
			var got, want uint64
			var name string
			switch op % 10 {
			case 0:
				name, want = "Next", i+it.Factor()
				got = it.Next()
			case 1:
				name, want = "Prev", i
				if it.Offset() > 0 {
					want = i - it.Factor()
				}
				got = it.Prev()
			case 2:
				name, want = "Sibling", flattree.Sibling(i)
				got = it.Sibling()
			case 3:
				if flattree.Depth(i) > 50 {
					continue
				}
				name, want = "Parent", flattree.Parent(i)
				got = it.Parent()
			case 4:
				name, want = "LeftSpan", flattree.LeftSpan(i)
				got = it.LeftSpan()
			case 5:
				name, want = "RightSpan", flattree.RightSpan(i)
				got = it.RightSpan()
			case 6:
				name, want = "LeftChild", i
				if c, ok := flattree.LeftChild(i); ok {
					want = c
				}
				got = it.LeftChild()
			case 7:
				name, want = "RightChild", i
				if c, ok := flattree.RightChild(i); ok {
					want = c
				}
				got = it.RightChild()
			case 8:
				name, want = "NextTree", flattree.NextLeaf(i)
				got = it.NextTree()
			case 9:
				name, want = "PrevTree", 0
				if it.Offset() > 0 {
					want = flattree.LeftSpan(i) - 2
				}
				got = it.PrevTree()
			}
			if got != want || it.Index() != got {
				t.Fatalf("%s from %d = %d (index %d), want %d", name, i, got, it.Index(), want)
			}
			checkIterator(t, it, name)
			if it.Index() > 1<<50 {
				return
			}
		}
		// Contains agrees with the spans.
		ls, rs := flattree.Spans(it.Index())
		for _, j := range []uint64{ls, rs, it.Index(), ls - 1, rs + 1} {
			if want := j >= ls && j <= rs; it.Contains(j) != want {
				t.Fatalf("Contains(%d) at %d = %v, want %v", j, it.Index(), !want, want)
			}
		}
	})
}

func BenchmarkFullRoots(b *testing.B) {
	b.ReportAllocs()
	var dst []uint64
	for i := range b.N {
		dst = flattree.AppendFullRoots(dst[:0], uint64(2*i))
	}
}
