package hyperdrive_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
	"github.com/gopear/gopear/localdrive"
	"github.com/gopear/gopear/mirrordrive"
)

// fetchFiles is what seedDrive writes: several blocks each, one block,
// empty, and a block map, besides a link.
func fetchFiles() map[string][]byte {
	files := map[string][]byte{"/empty": {}}
	for i := range 3 {
		files[fmt.Sprintf("/big/%d.bin", i)] = gen("big", i, 5*hyperblobs.DefaultBlockSize+123)
	}
	for i := range 60 {
		files[fmt.Sprintf("/small/%d/%02d.txt", i%4, i)] = gen("small", i, 1000+i)
	}
	return files
}

const fetchMapped = "/mapped.bin"

// seeded is a drive seedDrive wrote: its store, key and version, and the
// content of its block-map file.
type seeded struct {
	store   *corestore.Store
	key     hypercore.Key
	version uint64
	mapped  []byte
}

// seedDrive writes fetchFiles, a block-map file (fetchMapped) and a link
// into a new drive in a store of its own.
func seedDrive(t *testing.T, ctx context.Context) seeded {
	t.Helper()
	store, err := corestore.Open(ctx, "seed", &corestore.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	d, err := hyperdrive.New(ctx, store, hypercore.Key{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	for name, data := range fetchFiles() {
		if err := d.Put(ctx, name, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	blobs, err := d.Blobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mapped := gen("mapped", 1, 3*hyperblobs.DefaultBlockSize+5)
	id, err := blobs.Put(ctx, mapped, &hyperblobs.PutOptions{BlockMap: true})
	if err != nil {
		t.Fatal(err)
	}
	blob := hyperdrive.BlobID(id)
	if err := d.PutEntry(ctx, fetchMapped, hyperdrive.EntryValue{Blob: &blob}); err != nil {
		t.Fatal(err)
	}
	if err := d.Symlink(ctx, "/link", "/big/0.bin"); err != nil {
		t.Fatal(err)
	}
	return seeded{store: store, key: d.Key(), version: d.Version(), mapped: mapped}
}

// replica opens the drive key in a new store replicating with seed over
// a pipe, at the seed's version.
func replica(t *testing.T, ctx context.Context, seed *corestore.Store, key hypercore.Key, version uint64) *hyperdrive.Drive {
	t.Helper()
	store, err := corestore.Open(ctx, "replica", &corestore.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	d, err := hyperdrive.New(ctx, store, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	a, b := net.Pipe()
	ra, err := seed.Replicate(a, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ra.Close() })
	rb, err := store.Replicate(b, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rb.Close() })
	waitVersion(t, ctx, d, version)
	return d
}

func TestDownloadFromPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sd := seedDrive(t, ctx)
	seed, key, version := sd.store, sd.key, sd.version

	d := replica(t, ctx, seed, key, version)
	if ok, err := d.Has(ctx, "/"); err != nil || ok {
		t.Fatalf("Has(/) before the download = %v, %v", ok, err)
	}
	var keys []string
	err := d.Download(ctx, "/", &hyperdrive.DownloadOptions{Progress: func(p hyperdrive.DownloadProgress) {
		keys = append(keys, p.Key)
		// The files with content: all but the empty one, and the mapped one.
		if p.Files != len(keys) || p.TotalFiles != len(fetchFiles()) {
			t.Errorf("progress %+v after %d files", p, len(keys))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Every file with content, in key order (the empty file has none).
	var want []string
	for e, err := range d.List(ctx, "/", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if b := e.Value.Blob; b != nil && b.BlockLength > 0 {
			want = append(want, e.Key)
		}
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("progress reported\n%v\nwant\n%v", keys, want)
	}
	for name, data := range fetchFiles() {
		if ok, err := d.Has(ctx, name); err != nil || !ok {
			t.Errorf("Has(%s) = %v, %v", name, ok, err)
		}
		got, err := d.Get(ctx, name)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Get(%s): %d bytes, %v", name, len(got), err)
		}
	}
	if ok, err := d.Has(ctx, fetchMapped); err != nil || !ok {
		t.Errorf("Has(%s) = %v, %v", fetchMapped, ok, err)
	}
}

func TestDownloadEntries(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sd := seedDrive(t, ctx)
	seed, key, version, mapped := sd.store, sd.key, sd.version, sd.mapped

	d := replica(t, ctx, seed, key, version)
	if err := d.DownloadMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Core().Has(ctx, 0, version); err != nil || !n {
		t.Fatalf("db core after DownloadMetadata: has all = %v, %v", n, err)
	}
	// Some files only: the others stay remote.
	var some []*hyperdrive.Entry
	for _, name := range []string{"/big/1.bin", "/small/1/01.txt", "/small/1/05.txt", "/link", "/empty", fetchMapped} {
		e, err := d.Entry(ctx, name)
		if err != nil || e == nil {
			t.Fatalf("Entry(%s) = %v, %v", name, e, err)
		}
		some = append(some, e)
	}
	if err := d.DownloadEntries(ctx, some); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/big/1.bin", "/small/1/01.txt", "/small/1/05.txt", fetchMapped} {
		if ok, err := d.Has(ctx, name); err != nil || !ok {
			t.Errorf("Has(%s) = %v, %v after its download", name, ok, err)
		}
	}
	for _, name := range []string{"/big/0.bin", "/small/2/02.txt"} {
		if ok, err := d.Has(ctx, name); err != nil || ok {
			t.Errorf("Has(%s) = %v, %v: downloaded without being asked", name, ok, err)
		}
	}
	blobs, err := d.Blobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := d.Entry(ctx, fetchMapped)
	got, err := blobs.Get(ctx, hyperblobs.ID(*e.Value.Blob), &hypercore.GetOptions{NoWait: true})
	if err != nil || !bytes.Equal(got, mapped) {
		t.Errorf("block-map file: %d bytes, %v", len(got), err)
	}
	if err := d.DownloadEntries(ctx, nil); err != nil {
		t.Errorf("DownloadEntries(nil) = %v", err)
	}
}

// TestMirrorFromPeer mirrors a drive that is only on a peer into a
// folder: the mirror preloads it and copies several files at once.
func TestMirrorFromPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sd := seedDrive(t, ctx)
	seed, key, version, mapped := sd.store, sd.key, sd.version, sd.mapped

	for name, opts := range map[string]*mirrordrive.Options{
		"defaults":   nil,
		"sequential": {NoPreload: true, Concurrency: 1},
		"three":      {Concurrency: 3},
	} {
		t.Run(name, func(t *testing.T) {
			d := replica(t, ctx, seed, key, version)
			dir := t.TempDir()
			dst, err := localdrive.New(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := mirrordrive.Mirror(ctx, d, dst, opts)
			if err != nil {
				t.Fatal(err)
			}
			files := fetchFiles()
			files[fetchMapped] = mapped
			if res.Count.Add != len(files)+1 {
				t.Errorf("count %+v, want %d adds", res.Count, len(files)+1)
			}
			for name, data := range files {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: %d bytes, %v", name, len(got), err)
				}
			}
			if l, err := os.Readlink(filepath.Join(dir, "link")); err != nil || l != filepath.Join(dir, "big", "0.bin") {
				t.Errorf("link -> %q, %v", l, err)
			}
		})
	}
}
