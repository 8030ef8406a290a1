package hypercore_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hypercore"
)

// Purging a core of a store: its sessions close, and its key then opens a
// new, empty core.
func ExampleCore_Purge() {
	ctx := context.Background()
	store, err := hypercore.OpenStore("store", &hypercore.StoreOptions{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	core, err := store.Open(ctx, nil) // a new writable core
	if err != nil {
		panic(err)
	}
	if _, err := core.Append(ctx, []byte("hello")); err != nil {
		panic(err)
	}
	other, err := core.Session()
	if err != nil {
		panic(err)
	}
	defer other.Close()

	if err := core.Purge(ctx); err != nil {
		panic(err)
	}
	_, err = other.Get(ctx, 0, nil)
	stored, _ := store.Has(core.DiscoveryKey())
	fmt.Println(errors.Is(err, hypercore.ErrClosed), stored)

	again, err := store.Open(ctx, &hypercore.Options{Key: core.Key()})
	if err != nil {
		panic(err)
	}
	defer again.Close()
	fmt.Println(again.Length(), again.Writable())
	// Output:
	// true false
	// 0 false
}
