package hyperdrive_test

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
)

// Watching a folder of a drive: a write elsewhere does not count, a write
// in the folder is reported as the versions after and before it, whose
// diff says what changed.
func ExampleDrive_Watch() {
	ctx := context.Background()
	store, err := hypercore.OpenStore("", &hypercore.StoreOptions{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	d, err := hyperdrive.New(ctx, store, hypercore.Key{}, nil)
	if err != nil {
		panic(err)
	}
	defer d.Close()

	w, err := d.Watch("/docs")
	if err != nil {
		panic(err)
	}
	defer w.Close()
	if err := d.Put(ctx, "/notes.txt", []byte("not in the folder"), nil); err != nil {
		panic(err)
	}
	if err := d.Put(ctx, "/docs/guide.md", []byte("# Guide\n"), nil); err != nil {
		panic(err)
	}

	u, err := w.Next(ctx)
	if err != nil {
		panic(err)
	}
	for de, err := range u.Current.Diff(ctx, u.Previous.Version(), "/docs") {
		if err != nil {
			panic(err)
		}
		fmt.Println("changed:", de.Left.Key)
	}
	fmt.Println("now at version", u.Current.Version())
	// Output:
	// changed: /docs/guide.md
	// now at version 3
}
