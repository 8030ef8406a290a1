package storage_test

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"github.com/gopear/gopear/hypercore/internal/storage"
)

// An append is one batch: the block, its tree node, the bitfield page and
// the new head commit together or not at all.
func Example() {
	db, err := storage.Open("store", &storage.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer db.Close()

	key := [32]byte{1}
	core, err := db.CreateCore(&storage.Header{Key: key, DiscoveryKey: hcrypto.DiscoveryKey(key)})
	if err != nil {
		panic(err)
	}

	data := []byte("hello")
	leaf := hcrypto.Node{Index: 0, Size: uint64(len(data)), Hash: hcrypto.LeafHash(data)}
	bf := bitfield.New()
	page := bf.AppendPage(nil, 0)
	bitfield.FillPage(page, 0, 0, 1, true)

	b := db.NewBatch()
	b.PutBlock(core.ID(), 0, data)
	b.PutNode(core.ID(), leaf)
	b.PutBitfieldPage(core.ID(), 0, page)
	b.SetHead(core.ID(), &storage.Head{Length: 1, ByteLength: leaf.Size, RootHash: hcrypto.TreeHash([]hcrypto.Node{leaf})})
	if err := b.Commit(); err != nil {
		panic(err)
	}
	bf.SetRange(0, 1, true) // the in-memory bitfield follows the commit

	block, _ := core.Block(0)
	head, _ := core.Head()
	node, ok, _ := core.Node(0)
	fmt.Printf("%s length=%d node=%d/%d/%v contiguous=%d\n", block, head.Length, node.Index, node.Size, ok, bf.ContiguousLength())
	// Output: hello length=1 node=0/5/true contiguous=1
}
