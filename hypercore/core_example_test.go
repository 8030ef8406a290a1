package hypercore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/gopear/gopear/hypercore"
)

// A core in a temporary folder: append two blocks in one atomic batch,
// read one back, and find the block holding a byte offset.
func Example() {
	dir, err := os.MkdirTemp("", "hypercore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	core, err := hypercore.Open(dir, nil) // a new core with a fresh key pair
	if err != nil {
		panic(err)
	}
	defer core.Close()

	ctx := context.Background()
	res, err := core.Append(ctx, []byte("hello"), []byte("world"))
	if err != nil {
		panic(err)
	}
	block, err := core.Get(ctx, 1, nil)
	if err != nil {
		panic(err)
	}
	index, offset, err := core.Seek(ctx, 7, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Length, res.ByteLength, string(block), index, offset, core.Writable())
	// Output: 2 10 world 1 2 true
}
