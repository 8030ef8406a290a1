package hyperbee_test

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hypercore"
)

// A bee on a hypercore kept in memory: a batch of puts, then a range over
// part of the keys, and the same range at an earlier version.
func Example() {
	ctx := context.Background()
	core, err := hypercore.Open("bee", &hypercore.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer core.Close()

	bee := hyperbee.New(core, nil)
	b := bee.Batch()
	for _, fruit := range []string{"apple", "banana", "cherry", "damson", "elderberry"} {
		if err := b.Put(ctx, []byte(fruit), []byte(fmt.Sprint(len(fruit)))); err != nil {
			panic(err)
		}
	}
	if err := b.Flush(ctx); err != nil {
		panic(err)
	}
	before := bee.Snapshot()
	if err := bee.Del(ctx, []byte("cherry")); err != nil {
		panic(err)
	}

	r := hyperbee.Range{Gte: []byte("b"), Lt: []byte("e")}
	for e, err := range bee.Range(ctx, r) {
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s=%s (seq %d)\n", e.Key, e.Value, e.Seq)
	}
	fmt.Println("at version", before.Version())
	for e, err := range before.Range(ctx, r) {
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s=%s\n", e.Key, e.Value)
	}
	// Output:
	// banana=6 (seq 2)
	// damson=6 (seq 4)
	// at version 6
	// banana=6
	// cherry=6
	// damson=6
}
