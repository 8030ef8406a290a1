package flattree_test

import (
	"fmt"

	"github.com/gopear/gopear/flattree"
)

// A tree of 5 blocks has two roots: node 3 over blocks 0 to 3, and leaf 8,
// which is block 4.
func ExampleFullRoots() {
	roots := flattree.FullRoots(2 * 5)
	for _, r := range roots {
		left, right := flattree.Spans(r)
		fmt.Printf("root %d covers blocks %d to %d\n", r, left/2, right/2)
	}
	// Output:
	// root 3 covers blocks 0 to 3
	// root 8 covers blocks 4 to 4
}

// Walking the roots of a tree with an Iterator, as hypercore's proof code
// does.
func ExampleIterator_FullRoot() {
	for it := flattree.NewIterator(0); it.FullRoot(2 * 7); it.NextTree() {
		fmt.Println(it.Index(), it.CountLeaves())
	}
	// Output:
	// 3 4
	// 9 2
	// 12 1
}

func ExampleParent() {
	fmt.Println(flattree.Parent(0), flattree.Parent(2), flattree.Parent(1), flattree.Sibling(1))
	// Output: 1 1 3 5
}
