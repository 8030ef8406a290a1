package hyperdrive_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/hyperdrive"
)

// quiet is how long a test waits to be sure that no update comes.
const quiet = 200 * time.Millisecond

// nextUpdate waits up to 10s for the watcher's next update.
func nextUpdate(t *testing.T, w *hyperdrive.Watcher) hyperdrive.WatchUpdate {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := w.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return u
}

// noUpdate checks that the watcher has no update for a while.
func noUpdate(t *testing.T, w *hyperdrive.Watcher, after string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), quiet)
	defer cancel()
	u, err := w.Next(ctx)
	if err == nil {
		t.Fatalf("update %d -> %d after %s", u.Previous.Version(), u.Current.Version(), after)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next after %s: %v, want a timeout", after, err)
	}
}

func mustPut(t *testing.T, d *hyperdrive.Drive, name, content string) {
	t.Helper()
	if err := d.Put(context.Background(), name, []byte(content), nil); err != nil {
		t.Fatal(err)
	}
}

func TestWatchFolder(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	ctx := context.Background()
	d := newDrive(t, memStore(t), nil)
	mustPut(t, d, "/readme.txt", "before")
	w, err := d.Watch("/docs")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	// Keys beside the folder's range: before it, after it, and names that
	// only start with the folder's name.
	for _, name := range []string{"/a.txt", "/docs0", "/docs.txt", "/docsy/b.txt", "/z/docs/c.txt"} {
		mustPut(t, d, name, "outside")
	}
	noUpdate(t, w, "writes outside the folder")

	mustPut(t, d, "/docs/guide.md", "inside")
	u := nextUpdate(t, w)
	// The writes outside were seen and skipped: the previous version is
	// the one just before the write inside.
	if u.Current.Version() != d.Version() || u.Previous.Version() != d.Version()-1 {
		t.Errorf("update %d -> %d, want %d -> %d", u.Previous.Version(), u.Current.Version(), d.Version()-1, d.Version())
	}
	if got, err := u.Current.Get(ctx, "/docs/guide.md"); err != nil || string(got) != "inside" {
		t.Errorf("current: Get = %q, %v", got, err)
	}
	if ok, err := u.Previous.Exists(ctx, "/docs/guide.md"); err != nil || ok {
		t.Errorf("previous: Exists = %v, %v, want false", ok, err)
	}
	if u.Current.Writable() || u.Previous.Writable() {
		t.Error("the versions of an update are writable; want checkouts")
	}

	// Changes not taken yet merge into one; a deletion is a change.
	mustPut(t, d, "/docs/deeper/x.txt", "x")
	if err := d.Del(ctx, "/docs/guide.md"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	prev := u.Current.Version()
	u = nextUpdate(t, w)
	if u.Previous.Version() != prev || u.Current.Version() != d.Version() {
		t.Errorf("merged update %d -> %d, want %d -> %d", u.Previous.Version(), u.Current.Version(), prev, d.Version())
	}
	var keys []string
	for de, err := range u.Current.Diff(ctx, u.Previous.Version(), "/") {
		if err != nil {
			t.Fatal(err)
		}
		if de.Left != nil {
			keys = append(keys, "+"+de.Left.Key)
		} else {
			keys = append(keys, "-"+de.Right.Key)
		}
	}
	if got := join(keys); got != "+/docs/deeper/x.txt,-/docs/guide.md" {
		t.Errorf("diff of the merged update: %s", got)
	}

	if err := d.Del(ctx, "/docs0"); err != nil {
		t.Fatal(err)
	}
	noUpdate(t, w, "a deletion outside the folder")
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestWatchRoot(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	d := newDrive(t, memStore(t), nil)
	for _, folder := range []string{"", "/"} {
		w, err := d.Watch(folder)
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, d, "/anywhere/"+folder+"x.txt", "x")
		if u := nextUpdate(t, w); u.Current.Version() != d.Version() {
			t.Errorf("Watch(%q): update to %d, want %d", folder, u.Current.Version(), d.Version())
		}
		w.Close()
	}
}

func TestWatchCloseAndCancel(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	d := newDrive(t, memStore(t), nil)
	w, err := d.Watch("/")
	if err != nil {
		t.Fatal(err)
	}

	// A cancelled Next leaves the watcher working.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := w.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a cancelled context: %v", err)
	}
	mustPut(t, d, "/a", "a")
	if u := nextUpdate(t, w); u.Current.Version() != d.Version() {
		t.Errorf("update to %d after a cancelled Next, want %d", u.Current.Version(), d.Version())
	}

	// Close unblocks a waiting Next, and an update left is not delivered.
	done := make(chan error, 1)
	go func() {
		_, err := w.Next(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, hyperdrive.ErrWatcherClosed) {
			t.Errorf("Next across Close: %v, want ErrWatcherClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	mustPut(t, d, "/b", "b")
	if _, err := w.Next(context.Background()); !errors.Is(err, hyperdrive.ErrWatcherClosed) {
		t.Errorf("Next after Close: %v, want ErrWatcherClosed", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// Closing the drive stops its watchers.
	w2, err := d.Watch("/")
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := w2.Next(ctx); !errors.Is(err, hyperdrive.ErrWatcherClosed) {
		t.Errorf("Next after the drive closed: %v, want ErrWatcherClosed", err)
	}
	if _, err := d.Watch("/"); err == nil {
		t.Error("Watch of a closed drive succeeded")
	}
}

func TestWatchCheckout(t *testing.T) {
	d := newDrive(t, memStore(t), nil)
	mustPut(t, d, "/a", "a")
	if _, err := d.Snapshot().Watch("/"); !errors.Is(err, hyperdrive.ErrReadOnly) {
		t.Errorf("Watch of a checkout: %v, want ErrReadOnly", err)
	}
}

// TestWatchReplica watches a read-only replica whose db core grows by
// replication from the writer, over a pipe.
func TestWatchReplica(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seed, err := corestore.Open(ctx, "seed", &corestore.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer seed.Close()
	writer, err := hyperdrive.New(ctx, seed, hypercore.Key{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	mustPut(t, writer, "/src/first.txt", "first")

	store, err := corestore.Open(ctx, "replica", &corestore.Options{FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d, err := hyperdrive.New(ctx, store, writer.Key(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	a, b := net.Pipe()
	ra, err := seed.Replicate(a, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ra.Close()
	rb, err := store.Replicate(b, true)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	waitVersion(t, ctx, d, writer.Version())

	w, err := d.Watch("/src")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	mustPut(t, writer, "/other/x.txt", "outside")
	noUpdate(t, w, "a replicated write outside the folder")

	for i, name := range []string{"/src/second.txt", "/src/sub/third.txt"} {
		mustPut(t, writer, name, name)
		u := nextUpdate(t, w)
		// The update may come before the replica has all of the
		// writer's blocks only if it is for an earlier one.
		for u.Current.Version() < writer.Version() {
			u = nextUpdate(t, w)
		}
		if u.Current.Version() != writer.Version() {
			t.Fatalf("write %d: update to version %d, writer at %d", i, u.Current.Version(), writer.Version())
		}
		if d.Writable() {
			t.Fatal("the replica is writable")
		}
		got, err := u.Current.Get(ctx, name)
		if err != nil || string(got) != name {
			t.Errorf("replica at version %d: Get(%s) = %q, %v", u.Current.Version(), name, got, err)
		}
		if ok, err := u.Previous.Exists(ctx, name); err != nil || ok {
			t.Errorf("previous version %d has %s: %v, %v", u.Previous.Version(), name, ok, err)
		}
	}
}
