package hyperdrive_test

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hyperbee"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
)

// TestPurge purges a drive with both cores: nothing of it is left in the
// store, its views are closed, and its key opens an empty drive.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	d := newDrive(t, s, nil)
	if err := d.Put(ctx, "/a.txt", []byte("content"), nil); err != nil {
		t.Fatal(err)
	}
	key, dbDK := d.Key(), d.DiscoveryKey()
	blobsDK := blobsCore(t, d).DiscoveryKey()
	co := d.Checkout(d.Version())
	if err := co.Purge(ctx); !errors.Is(err, hyperdrive.ErrReadOnly) {
		t.Fatalf("purge of a checkout: %v, want ErrReadOnly", err)
	}

	if err := d.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for _, dk := range []hypercore.Key{dbDK, blobsDK} {
		if ok, err := s.Has(dk); ok || err != nil {
			t.Errorf("core %s after purge: Has = %v, %v", dk, ok, err)
		}
	}
	for dk := range s.DiscoveryKeys() {
		t.Errorf("core %s left in the store", dk)
	}
	// As after Close: the drive's hyperbee is closed.
	if _, err := d.Get(ctx, "/a.txt"); !errors.Is(err, hyperbee.ErrClosed) {
		t.Errorf("Get on a purged drive: %v", err)
	}
	if _, err := co.Get(ctx, "/a.txt"); !errors.Is(err, hyperbee.ErrClosed) {
		t.Errorf("Get on a checkout of a purged drive: %v", err)
	}
	if _, err := d.Core().Get(ctx, 0, nil); !errors.Is(err, hypercore.ErrClosed) {
		t.Errorf("Get on the db core of a purged drive: %v", err)
	}
	if err := d.Purge(ctx); !errors.Is(err, hypercore.ErrClosed) {
		t.Errorf("second purge: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close after purge: %v", err)
	}

	// The key finds nothing: an empty, read-only drive (the key pair is
	// gone with the core).
	d2, err := hyperdrive.New(ctx, s, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if d2.Writable() || d2.Core().Length() != 0 {
		t.Fatalf("drive after purge: writable %v, length %d", d2.Writable(), d2.Core().Length())
	}
	if _, ok := d2.ContentKey(); ok {
		t.Error("drive after purge has a blobs core")
	}
}

// TestPurgeCorestore purges a writable drive of a corestore namespace:
// its name is gone with it, and the namespace's drive, made again, has
// the same key and is empty.
func TestPurgeCorestore(t *testing.T) {
	ctx := context.Background()
	store, err := corestore.Open(ctx, "store", &corestore.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ns := store.Namespace("drive")
	d, err := hyperdrive.New(ctx, ns, hypercore.Key{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "/a.txt", []byte("content"), nil); err != nil {
		t.Fatal(err)
	}
	key := d.Key()
	if err := d.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for dk, err := range store.DiscoveryKeys() {
		t.Errorf("core %s (%v) left in the store", dk, err)
	}
	if _, err := store.Get(ctx, corestore.Name("db"), &corestore.GetOptions{NoCreate: true}); !errors.Is(err, corestore.ErrNotFound) {
		t.Errorf("the drive's db core by name after purge: %v", err)
	}

	d2, err := hyperdrive.New(ctx, ns, hypercore.Key{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if d2.Key() != key || !d2.Writable() {
		t.Fatalf("drive made again: key %s (was %s), writable %v", d2.Key(), key, d2.Writable())
	}
	if ok, err := d2.Exists(ctx, "/a.txt"); ok || err != nil {
		t.Fatalf("a file survived the purge: %v, %v", ok, err)
	}
	if err := d2.Put(ctx, "/b.txt", []byte("again"), nil); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeWithoutBlobs purges a drive known only by its key (no header
// stored, so no blobs core): its db core goes.
func TestPurgeWithoutBlobs(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	key := hypercore.DefaultManifest(dbKeyPair(9).PublicKey).Hash()
	d, err := hyperdrive.New(ctx, s, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	for dk := range s.DiscoveryKeys() {
		t.Errorf("core %s left in the store", dk)
	}
}
