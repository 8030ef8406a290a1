package hcrypto_test

import (
	"fmt"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
)

func Example() {
	kp := hcrypto.KeyPairFromSeed([32]byte{1})
	msg := []byte("hello")
	sig := hcrypto.Sign(kp.SecretKey, msg)
	fmt.Println(hcrypto.Verify(kp.PublicKey[:], msg, sig[:]))
	fmt.Println(hcrypto.Verify(kp.PublicKey[:], []byte("jello"), sig[:]))
	// Output:
	// true
	// false
}

// The tree hash of a core of two blocks: hash the leaves, their parent,
// then the one root.
func ExampleTreeHash() {
	blocks := [][]byte{[]byte("hello"), []byte("world")}
	var leaves []hcrypto.Node
	for i, b := range blocks {
		leaves = append(leaves, hcrypto.Node{Index: 2 * uint64(i), Size: uint64(len(b)), Hash: hcrypto.LeafHash(b)})
	}
	root := hcrypto.Node{
		Index: flattree.Parent(0),
		Size:  leaves[0].Size + leaves[1].Size,
		Hash:  hcrypto.ParentHash(leaves[0], leaves[1]),
	}
	fmt.Printf("%x\n", hcrypto.TreeHash([]hcrypto.Node{root}))
	// Output: 28ac717e6b6a3fe16b4363f16cf1a308edceccf4a05ec501bd05fdbe5b42215b
}

func ExampleDiscoveryKey() {
	var key [32]byte // the core key; announce the discovery key instead
	fmt.Printf("%x\n", hcrypto.DiscoveryKey(key))
	// Output: 6b7ecf9ce456d56e5145ec4c5661e0c79ee47ddcc9c0504e90aa6fd60746365c
}

func ExampleNamespace() {
	ns := hcrypto.Namespace("hypercore", 6)
	fmt.Printf("tree %x\n", ns[0][:8])
	// Output: tree 9fac70b50ca14efc
}
