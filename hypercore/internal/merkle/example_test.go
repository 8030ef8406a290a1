package merkle_test

import (
	"fmt"

	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// A writer appends blocks and answers a reader's request for block 1 with
// an upgrade from length 0; the reader verifies the proof and stores the
// result. Signatures are left out (a real verifier checks them).
func Example() {
	writerNodes := merkle.MemNodes{}
	writer := merkle.New(writerNodes)
	b := writer.Batch()
	b.Append([]byte("hello"), []byte("world"), []byte("!"))
	b.SetSignature([]byte("signature of the tree"))
	if err := writer.Commit(b, func(c *merkle.Changes) error { writerNodes.Apply(c); return nil }); err != nil {
		panic(err)
	}

	d, err := writer.Proof(&wire.Request{
		Block:   &wire.RequestBlock{Index: 1},
		Upgrade: &wire.RequestUpgrade{Start: 0, Length: 3},
	})
	if err != nil {
		panic(err)
	}
	d.Block.Value = []byte("world")
	fmt.Println("block nodes:", len(d.Block.Nodes), "upgrade nodes:", len(d.Upgrade.Nodes))

	readerNodes := merkle.MemNodes{}
	reader := merkle.New(readerNodes)
	acceptAll := merkle.VerifyFunc(func([32]byte, uint64, uint64, []byte) error { return nil })
	batch, err := reader.Verify(d, acceptAll)
	if err != nil {
		panic(err)
	}
	if err := reader.Commit(batch, func(c *merkle.Changes) error { readerNodes.Apply(c); return nil }); err != nil {
		panic(err)
	}
	fmt.Println("reader length:", reader.Length(), "same tree:", reader.Hash() == writer.Hash())
	// Output:
	// block nodes: 1 upgrade nodes: 1
	// reader length: 3 same tree: true
}
