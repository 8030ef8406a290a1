package hypercore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hypercore/internal/storage"
	"github.com/gopear/gopear/protomux"
)

// checkGone fails unless nothing is stored under the storage core sc (a
// handle of the purged core): no header, head, block, node, bitfield page
// or user data.
func checkGone(t *testing.T, sc *storage.Core) {
	t.Helper()
	if _, err := sc.Header(); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("header of a purged core: %v", err)
	}
	if _, err := sc.Head(); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("head of a purged core: %v", err)
	}
	for b, err := range sc.Blocks(0, math.MaxUint64, nil) {
		t.Errorf("block %d of a purged core (%v)", b.Index, err)
		break
	}
	for n, err := range sc.NodesEndingIn(0, math.MaxUint64) {
		t.Errorf("tree node %d of a purged core (%v)", n.Index, err)
		break
	}
	for p, err := range sc.BitfieldPages() {
		t.Errorf("bitfield page %d of a purged core (%v)", p.N, err)
		break
	}
	for e, err := range sc.UserDataAll() {
		t.Errorf("user data %q of a purged core (%v)", e.Key, err)
		break
	}
}

// TestPurge purges a core with sessions, a snapshot, a watcher and a
// blocked Get open, and opens its key again.
func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	w, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(40), EncryptionKey: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		mustAppend(t, w, []byte(fmt.Sprint("block ", i)))
	}
	if err := w.SetUserData(ctx, "hello", []byte("world")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias([32]byte{1}, "w", w.DiscoveryKey()); err != nil {
		t.Fatal(err)
	}
	other, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(41)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	mustAppend(t, other, []byte("other"))

	sess, err := w.Session()
	if err != nil {
		t.Fatal(err)
	}
	snap, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	sess.Watch(func(ev Event) {
		if ev.Kind == EventClose {
			close(closed)
		}
	})
	blocked := make(chan error, 1)
	go func() {
		_, err := sess.Get(ctx, 100, nil)
		blocked <- err
	}()
	time.Sleep(10 * time.Millisecond)
	sc := w.st.sc
	key, dk := w.Key(), w.DiscoveryKey()

	if err := w.Purge(ctx); err != nil {
		t.Fatal(err)
	}

	// Every session is closed, and what waited returned.
	select {
	case err := <-blocked:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("blocked Get: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("blocked Get did not return")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("no close event")
	}
	if _, err := sess.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("append to a session of a purged core: %v", err)
	}
	if _, err := snap.Get(ctx, 0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("get from a snapshot of a purged core: %v", err)
	}
	if _, err := w.Get(ctx, 0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("get from the purging session: %v", err)
	}
	if err := w.Purge(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("second purge: %v, want ErrClosed", err)
	}
	if err := errors.Join(sess.Close(), snap.Close(), w.Close()); err != nil {
		t.Errorf("closing sessions of a purged core: %v", err)
	}

	// Nothing of it is stored.
	checkGone(t, sc)
	if ok, err := s.Has(dk); ok || err != nil {
		t.Errorf("Has after purge = %v, %v", ok, err)
	}
	for k, err := range s.DiscoveryKeys() {
		if err != nil || k != other.DiscoveryKey() {
			t.Errorf("core %s (%v) listed after purge", k, err)
		}
	}
	if _, err := s.Alias([32]byte{1}, "w"); !errors.Is(err, ErrNotFound) {
		t.Errorf("alias of a purged core: %v", err)
	}
	if _, err := s.OpenDiscoveryKey(ctx, dk, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenDiscoveryKey after purge: %v", err)
	}

	// The key opens as a new, empty core: no manifest, no key pair, no
	// encryption key, no user data.
	r, err := s.Open(ctx, &Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if r.Length() != 0 || r.Manifest() != nil || r.Writable() || r.Encrypted() {
		t.Errorf("reopened core: length %d, manifest %v, writable %v, encrypted %v", r.Length(), r.Manifest(), r.Writable(), r.Encrypted())
	}
	if _, err := r.GetUserData(ctx, "hello"); !errors.Is(err, ErrNotFound) {
		t.Errorf("user data of the reopened core: %v", err)
	}
	if r.st.id == sc.ID() {
		t.Errorf("the new core reuses the purged core's id %d", sc.ID())
	}
	r.Close()
	// With its key pair it is writable again, from length 0.
	w2, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(40)})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if !w2.Writable() || w2.Length() != 0 {
		t.Fatalf("recreated writer: writable %v length %d", w2.Writable(), w2.Length())
	}
	mustAppend(t, w2, []byte("again"))
	checkVerifies(t, w2)
	if string(mustGet(t, other, 0)) != "other" {
		t.Error("the other core changed")
	}
}

// TestPurgeOpen purges a core from Open: the database closes with it, and
// the directory then holds no core.
func TestPurgeOpen(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	c, err := Open("core", &Options{FS: fs, KeyPair: seedKeyPair(42)})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, c, blocksOf("a", "b")...)
	sess, err := c.Session()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}
	// The database was closed, so it opens again; it holds no core, so a
	// new one with a fresh key is made.
	c2, err := Open("core", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Key() == c.Key() || c2.Length() != 0 {
		t.Fatalf("reopened directory: key %s (purged %s), length %d", c2.Key(), c.Key(), c2.Length())
	}
}

// TestStorePurge purges by discovery key, several cores in one batch, and
// checks the failures.
func TestStorePurge(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	s, err := OpenStore("store", &StoreOptions{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	var dks []Key
	for i := range 4 {
		c, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(byte(50 + i))})
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, c, []byte(fmt.Sprint("core ", i)))
		dks = append(dks, c.DiscoveryKey())
		if i < 2 {
			c.Close() // cores 0 and 1 are not open
		} else {
			defer c.Close()
		}
	}
	if err := s.Purge(ctx, dks[0], Key{7}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purge with a missing core: %v", err)
	}
	if ok, _ := s.Has(dks[0]); !ok {
		t.Fatal("a failed purge deleted a core")
	}
	// Core 0 (closed) and core 2 (open) together.
	open2, err := s.OpenDiscoveryKey(ctx, dks[2], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, dks[0], dks[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := open2.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("append to a core purged by discovery key: %v", err)
	}
	open2.Close()
	if err := s.Purge(ctx, dks[0]); !errors.Is(err, ErrNotFound) {
		t.Errorf("second purge by discovery key: %v", err)
	}
	// Core 3 through the package function, given twice.
	c3, err := s.OpenDiscoveryKey(ctx, dks[3], nil)
	if err != nil {
		t.Fatal(err)
	}
	c3b, err := c3.Session()
	if err != nil {
		t.Fatal(err)
	}
	if err := Purge(ctx, c3, c3b); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, dks[1]); !errors.Is(err, ErrClosed) {
		t.Errorf("purge on a closed store: %v", err)
	}

	// After reopening, only core 1 is left.
	s, err = OpenStore("store", &StoreOptions{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var left []Key
	for dk, err := range s.DiscoveryKeys() {
		if err != nil {
			t.Fatal(err)
		}
		left = append(left, dk)
	}
	if len(left) != 1 || left[0] != dks[1] {
		t.Fatalf("cores after reopening: %v, want only %s", left, dks[1])
	}
}

// TestPurgeReplicating purges a reader that replicates two cores with a
// writer over one stream: the purged core's channel closes, the stream
// and the other core's channel go on, and the core opened again
// replicates from scratch on the same stream.
func TestPurgeReplicating(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, rs := memStore(t), memStore(t)
	w1, err := ws.Open(ctx, &Options{KeyPair: seedKeyPair(60)})
	if err != nil {
		t.Fatal(err)
	}
	defer w1.Close()
	w2, err := ws.Open(ctx, &Options{KeyPair: seedKeyPair(61)})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	for i := range 10 {
		mustAppend(t, w1, []byte(fmt.Sprint("one ", i)))
		mustAppend(t, w2, []byte(fmt.Sprint("two ", i)))
	}
	r1, err := rs.Open(ctx, &Options{Key: w1.Key()})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := rs.Open(ctx, &Options{Key: w2.Key()})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()

	// Both cores are attached before the muxes read: a core attached to
	// a mux already reading races with the remote's open, which the mux
	// may reject first (as in JS).
	a, b := protomux.Pipe()
	hh := hhPipe{a, true}.HandshakeHash()
	ma := protomux.New(a, &protomux.Options{DeferRead: true})
	defer ma.Close()
	mb := protomux.New(b, &protomux.Options{DeferRead: true})
	defer mb.Close()
	for _, c := range []*Core{w1, w2} {
		if err := c.Attach(ma, hh, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []*Core{r1, r2} {
		if err := c.Attach(mb, hh, false); err != nil {
			t.Fatal(err)
		}
	}
	ma.Start()
	mb.Start()
	for _, c := range []*Core{r1, r2} {
		if _, err := c.Get(ctx, 3, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitPeers := func(c *Core, n int) {
		t.Helper()
		for len(c.Peers()) != n {
			if ctx.Err() != nil {
				t.Fatalf("%d peers, want %d", len(c.Peers()), n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	waitPeers(w1, 1)

	if err := r1.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	// The writer sees the channel close; the stream stays up.
	waitPeers(w1, 0)
	select {
	case <-mb.Done():
		t.Fatal("purging a core ended the stream")
	default:
	}
	if ok, _ := rs.Has(r1.DiscoveryKey()); ok {
		t.Fatal("purged core still stored")
	}
	mustAppend(t, w2, []byte("two 10"))
	for r2.Length() < 11 {
		if _, err := r2.Update(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r2.Get(ctx, 10, nil); err != nil || string(got) != "two 10" {
		t.Fatalf("the other core after the purge: %q, %v", got, err)
	}

	// Opened again, the core replicates over the same stream from length 0.
	r1, err = rs.Open(ctx, &Options{Key: w1.Key()})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	if r1.Length() != 0 {
		t.Fatalf("reopened core has length %d", r1.Length())
	}
	if err := r1.Attach(mb, hh, false); err != nil {
		t.Fatal(err)
	}
	if got, err := r1.Get(ctx, 7, nil); err != nil || string(got) != "one 7" {
		t.Fatalf("get from the reopened core: %q, %v", got, err)
	}
	checkVerifies(t, r1)
}

// TestPurgeConcurrent purges a core while a writer appends, readers read
// and others open and close the same key: nothing is written to the purged
// core after the purge, and opens after it get a new core.
func TestPurgeConcurrent(t *testing.T) {
	ctx := context.Background()
	for round := range 5 {
		s := memStore(t)
		w, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(70)})
		if err != nil {
			t.Fatal(err)
		}
		mustAppend(t, w, []byte("first"))
		sc := w.st.sc
		writer, err := w.Session()
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		wg.Go(func() { // appends until the core is purged
			for {
				if _, err := writer.Append(ctx, []byte("more")); err != nil {
					if !errors.Is(err, ErrClosed) {
						errc <- fmt.Errorf("append: %w", err)
					}
					return
				}
			}
		})
		wg.Go(func() { // reads until the core is purged
			for {
				if _, err := writer.Get(ctx, 0, &GetOptions{NoWait: true}); err != nil {
					// A read that finds the block deleted sees the core
					// closed, not the block cleared.
					if !errors.Is(err, ErrClosed) {
						errc <- fmt.Errorf("get: %w", err)
					}
					return
				}
			}
		})
		var purged sync.WaitGroup
		purged.Add(1)
		wg.Go(func() { // opens and closes the key, before and after the purge
			for i := range 40 {
				c, err := s.Open(ctx, &Options{Key: w.Key()})
				if err != nil {
					errc <- fmt.Errorf("open %d: %w", i, err)
					return
				}
				c.Close()
				if i == 20 {
					purged.Wait()
				}
			}
		})
		for w.Length() < uint64(2+3*round) { // purge mid-stream
			time.Sleep(100 * time.Microsecond)
		}
		if err := w.Purge(ctx); err != nil {
			t.Fatal(err)
		}
		purged.Done()
		wg.Wait()
		writer.Close()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		checkGone(t, sc)
		c, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(70)})
		if err != nil {
			t.Fatal(err)
		}
		if c.Length() != 0 {
			t.Fatalf("core after purge has length %d", c.Length())
		}
		mustAppend(t, c, []byte("new"))
		checkVerifies(t, c)
		c.Close()
	}
}

// TestPurgeContext: a canceled context purges nothing.
func TestPurgeContext(t *testing.T) {
	c := memCore(t, &Options{KeyPair: seedKeyPair(43)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Purge(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("purge with a canceled context: %v", err)
	}
	mustAppend(t, c, []byte("still open"))
}

// TestPurgeTwoStores purges cores of two stores in one call.
func TestPurgeTwoStores(t *testing.T) {
	ctx := context.Background()
	s1, s2 := memStore(t), memStore(t)
	a, err := s1.Open(ctx, &Options{KeyPair: seedKeyPair(44)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s2.Open(ctx, &Options{KeyPair: seedKeyPair(45)})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, a, []byte("a"))
	mustAppend(t, b, []byte("b"))
	if err := Purge(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		s  *Store
		dk Key
	}{{s1, a.DiscoveryKey()}, {s2, b.DiscoveryKey()}} {
		if ok, err := x.s.Has(x.dk); ok || err != nil {
			t.Errorf("core %s after purge: %v, %v", x.dk, ok, err)
		}
	}
}
