package hypercore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"go.uber.org/goleak"

	"github.com/gopear/gopear/hcrypto"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild() // the re-executed child of TestCrash; never returns
	}
	goleak.VerifyTestMain(m)
}

// seedKeyPair returns the key pair of a 32-byte seed filled with b.
func seedKeyPair(b byte) *hcrypto.KeyPair {
	kp := hcrypto.KeyPairFromSeed([32]byte(bytes.Repeat([]byte{b}, 32)))
	return &kp
}

// memCore opens a core in memory with opts (FS set to a new MemFS unless
// given) and closes it when the test ends.
func memCore(t testing.TB, opts *Options) *Core {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.FS == nil {
		opts.FS = vfs.NewMem()
	}
	c, err := Open("core", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// memStore opens a store in memory, closed when the test ends.
func memStore(t testing.TB) *Store {
	t.Helper()
	s, err := OpenStore("store", &StoreOptions{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustAppend(t testing.TB, c *Core, blocks ...[]byte) AppendResult {
	t.Helper()
	r, err := c.Append(context.Background(), blocks...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustGet(t testing.TB, c *Core, i uint64) []byte {
	t.Helper()
	b, err := c.Get(context.Background(), i, &GetOptions{NoWait: true})
	if err != nil {
		t.Fatalf("get %d: %v", i, err)
	}
	return b
}

func blocksOf(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestAppendGet(t *testing.T) {
	c := memCore(t, &Options{KeyPair: seedKeyPair(1)})
	if !c.Writable() || c.Length() != 0 || c.ByteLength() != 0 || c.Fork() != 0 {
		t.Fatalf("new core: writable=%v length=%d byteLength=%d fork=%d", c.Writable(), c.Length(), c.ByteLength(), c.Fork())
	}
	r := mustAppend(t, c, blocksOf("hello", "world")...)
	if r.Length != 2 || r.ByteLength != 10 {
		t.Fatalf("append result %+v", r)
	}
	r = mustAppend(t, c, []byte("!"))
	if r.Length != 3 || r.ByteLength != 11 || c.Length() != 3 || c.ByteLength() != 11 {
		t.Fatalf("append result %+v, length %d", r, c.Length())
	}
	for i, want := range []string{"hello", "world", "!"} {
		if got := mustGet(t, c, uint64(i)); string(got) != want {
			t.Errorf("block %d = %q, want %q", i, got, want)
		}
	}
	if _, err := c.Get(context.Background(), 3, &GetOptions{NoWait: true}); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("get past the end with NoWait: %v, want ErrNotAvailable", err)
	}
	if r, err := c.Append(context.Background()); err != nil || r.Length != 3 {
		t.Errorf("empty append: %+v %v", r, err)
	}
	if _, err := c.Append(context.Background(), make([]byte, MaxBlockSize+1)); !errors.Is(err, ErrBlockTooLarge) {
		t.Errorf("huge block: %v", err)
	}

	// The known vector of PROTOCOLS.md §5.11.
	want := "d8c3a0597903b28d751c6e0b7107775e388ec5a3cf669bdd1e7ec41b8b8f6e72"
	c2 := memCore(t, &Options{KeyPair: seedKeyPair(1)})
	mustAppend(t, c2, blocksOf("hello", "world")...)
	if got := fmt.Sprintf("%x", [32]byte(c2.Key())); got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	th, _ := c2.TreeHash()
	if got := fmt.Sprintf("%x", th); got != "28ac717e6b6a3fe16b4363f16cf1a308edceccf4a05ec501bd05fdbe5b42215b" {
		t.Errorf("tree hash %s", got)
	}
	if got := fmt.Sprintf("%x", [32]byte(c2.DiscoveryKey())); got != "fb892b1c77fdcb05dcbd234607208b7036e00a13e7f2cc0bbaa463924e57865a" {
		t.Errorf("discovery key %s", got)
	}
	if sig := c2.Signature(); len(sig) != 68 || sig[0] != 1 || sig[1] != 0 {
		t.Errorf("signature %x, want a one-signer multisig", sig)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir, nil) // a fresh random key pair
	if err != nil {
		t.Fatal(err)
	}
	key := c.Key()
	mustAppend(t, c, blocksOf("a", "bb", "ccc")...)
	if err := c.Truncate(context.Background(), 2, nil); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, c, []byte("dddd"))
	if err := c.SetUserData(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	info, _ := c.Info()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := c.Append(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}

	c, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, _ := c.Info()
	if c.Key() != key || got.Length != 3 || got.Fork != 1 || got.ByteLength != 7 || !got.Writable ||
		got.TreeHash != info.TreeHash || !bytes.Equal(got.Signature, info.Signature) {
		t.Fatalf("reopened %+v, was %+v", got, info)
	}
	for i, want := range []string{"a", "bb", "dddd"} {
		if b := mustGet(t, c, uint64(i)); string(b) != want {
			t.Errorf("block %d = %q, want %q", i, b, want)
		}
	}
	if v, err := c.GetUserData(context.Background(), "k"); err != nil || string(v) != "v" {
		t.Errorf("user data %q %v", v, err)
	}
	mustAppend(t, c, []byte("e"))
	if c.Length() != 4 {
		t.Fatal("append after reopen")
	}
}

func TestTruncate(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(2)})
	for i := range 10 {
		mustAppend(t, c, []byte(fmt.Sprint("block", i)))
	}
	before, _ := c.TreeHash()
	if err := c.Truncate(ctx, 11, nil); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("truncate past the end: %v", err)
	}
	if err := c.Truncate(ctx, 4, nil); err != nil {
		t.Fatal(err)
	}
	if c.Length() != 4 || c.Fork() != 1 || c.ByteLength() != 24 {
		t.Fatalf("after truncate: length %d fork %d byteLength %d", c.Length(), c.Fork(), c.ByteLength())
	}
	if ok, _ := c.Has(ctx, 4, 5); ok {
		t.Error("block 4 still stored")
	}
	if _, err := c.Get(ctx, 5, &GetOptions{NoWait: true}); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("get truncated block: %v", err)
	}
	mustAppend(t, c, []byte("new4"))
	if string(mustGet(t, c, 4)) != "new4" || c.Length() != 5 {
		t.Error("append after truncate")
	}
	if h, _ := c.TreeHash(); h == before {
		t.Error("tree hash unchanged")
	}
	if err := c.Truncate(ctx, 2, &TruncateOptions{Fork: 7}); err != nil || c.Fork() != 7 {
		t.Fatalf("truncate with fork: %v, fork %d", err, c.Fork())
	}
	if err := c.Truncate(ctx, 1, &TruncateOptions{Fork: 3}); !errors.Is(err, ErrOutOfBounds) {
		t.Errorf("fork going back: %v", err)
	}
	checkVerifies(t, c)
}

func TestClear(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(3)})
	mustAppend(t, c, blocksOf("a", "b", "c", "d", "e")...)
	h, _ := c.TreeHash()
	if err := c.Clear(ctx, 1, 3); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false, false, true, true} {
		if ok, _ := c.Has(ctx, uint64(i), uint64(i)+1); ok != want {
			t.Errorf("has(%d) = %v", i, ok)
		}
	}
	if ok, _ := c.Has(ctx, 0, 5); ok {
		t.Error("has(0, 5) after clear")
	}
	if _, err := c.Get(ctx, 2, &GetOptions{NoWait: true}); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("get cleared: %v", err)
	}
	if c.ContiguousLength() != 1 {
		t.Errorf("contiguous %d", c.ContiguousLength())
	}
	if h2, _ := c.TreeHash(); h2 != h || c.Length() != 5 {
		t.Error("clear changed the tree")
	}
	if err := c.Clear(ctx, 3, 100); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Has(ctx, 4, 5); ok {
		t.Error("clear to past the end kept the last block")
	}
	// The seek still works on the kept tree.
	if i, off, err := c.Seek(ctx, 3, &GetOptions{NoWait: true}); err != nil || i != 3 || off != 0 {
		t.Errorf("seek after clear: %d %d %v", i, off, err)
	}
}

func TestSeek(t *testing.T) {
	ctx := context.Background()
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			opts := &Options{KeyPair: seedKeyPair(4)}
			if encrypted {
				opts.EncryptionKey = bytes.Repeat([]byte{9}, 32)
			}
			c := memCore(t, opts)
			sizes := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
			var offsets []uint64
			var total uint64
			for _, n := range sizes {
				offsets = append(offsets, total)
				total += uint64(n)
				mustAppend(t, c, bytes.Repeat([]byte{'x'}, n))
			}
			if c.ByteLength() != total {
				t.Fatalf("byteLength %d, want %d", c.ByteLength(), total)
			}
			for b := uint64(0); b <= total; b++ {
				i, off, err := c.Seek(ctx, b, &GetOptions{NoWait: true})
				if err != nil {
					t.Fatalf("seek %d: %v", b, err)
				}
				wi := uint64(len(sizes))
				for j := range sizes {
					if b < offsets[j]+uint64(sizes[j]) {
						wi = uint64(j)
						break
					}
				}
				woff := uint64(0)
				if wi < uint64(len(sizes)) {
					woff = b - offsets[wi]
				}
				if i != wi || off != woff {
					t.Errorf("seek %d = (%d, %d), want (%d, %d)", b, i, off, wi, woff)
				}
			}
			if _, _, err := c.Seek(ctx, total+1, &GetOptions{NoWait: true}); !errors.Is(err, ErrNotAvailable) {
				t.Errorf("seek past the end: %v", err)
			}
		})
	}
}

func TestEncrypted(t *testing.T) {
	ctx := context.Background()
	ek := bytes.Repeat([]byte{5}, 32)
	fs := vfs.NewMem()
	c := memCore(t, &Options{KeyPair: seedKeyPair(5), EncryptionKey: ek, FS: fs})
	r := mustAppend(t, c, blocksOf("secret", "data")...)
	if r.ByteLength != 10 || c.ByteLength() != 10 || !c.Encrypted() {
		t.Fatalf("byteLength %d/%d", r.ByteLength, c.ByteLength())
	}
	if string(mustGet(t, c, 0)) != "secret" {
		t.Fatal("decrypt")
	}
	raw, err := c.Get(ctx, 0, &GetOptions{Raw: true, NoWait: true})
	if err != nil || len(raw) != 6+EncryptionPadding || bytes.Contains(raw, []byte("secret")) {
		t.Fatalf("raw block %x %v", raw, err)
	}
	// The raw block decrypts with the key JS derives.
	enc := NewBlockEncryption(BlockEncryptionKey(c.Key(), ek))
	if p, _ := enc.Decrypt(0, raw); string(p) != "secret" {
		t.Fatalf("raw block does not decrypt: %q", p)
	}
	// The encryption key is stored with the core.
	c.Close()
	c2, err := Open("core", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if string(mustGet(t, c2, 1)) != "data" || c2.ByteLength() != 10 {
		t.Fatal("reopened encrypted core")
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	fs := vfs.NewMem()
	c := memCore(t, &Options{KeyPair: seedKeyPair(6), FS: fs})
	s, err := c.Session()
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, []byte("from session"))
	if c.Length() != 1 || string(mustGet(t, c, 0)) != "from session" {
		t.Fatal("session append not seen")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The core stays open while a session is.
	mustAppend(t, s, []byte("still open"))
	if _, err := c.Get(ctx, 0, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("closed session get: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Now the database is closed: it can be opened again.
	c3, err := Open("core", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if c3.Length() != 2 {
		t.Fatalf("length %d", c3.Length())
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := memStore(t)
	a, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(7)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustAppend(t, a, []byte("a0"))
	b, err := s.Open(ctx, &Options{KeyPair: seedKeyPair(8)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustAppend(t, b, blocksOf("b0", "b1")...)

	// The same core opened again is a session of the same state.
	a2, err := s.Open(ctx, &Options{Key: a.Key()})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	if !a2.Writable() || a2.Length() != 1 {
		t.Fatal("second open of a core")
	}
	mustAppend(t, a2, []byte("a1"))
	if a.Length() != 2 {
		t.Fatal("appends through a second open not shared")
	}

	// By discovery key: only stored cores.
	if _, err := s.OpenDiscoveryKey(ctx, DiscoveryKey(Key{1}), nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown discovery key: %v", err)
	}
	var n int
	for dk, err := range s.DiscoveryKeys() {
		if err != nil {
			t.Fatal(err)
		}
		if dk != a.DiscoveryKey() && dk != b.DiscoveryKey() {
			t.Errorf("unexpected core %s", dk)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d cores", n)
	}
	if err := s.SetAlias([32]byte{}, "b", b.DiscoveryKey()); err != nil {
		t.Fatal(err)
	}
	if dk, err := s.Alias([32]byte{}, "b"); err != nil || dk != b.DiscoveryKey() {
		t.Errorf("alias %s %v", dk, err)
	}
	if _, ok, _ := s.PrimaryKey(); ok {
		t.Error("primary key set")
	}
	if err := s.SetPrimaryKey([32]byte{7}); err != nil {
		t.Fatal(err)
	}
	if k, ok, err := s.PrimaryKey(); !ok || err != nil || k != [32]byte{7} {
		t.Error("primary key")
	}

	// A read-only core by key.
	r, err := s.Open(ctx, &Options{Key: Key{9}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Writable() || r.Manifest() != nil {
		t.Error("a core by key is writable or has a manifest")
	}
	if _, err := r.Append(ctx, []byte("x")); !errors.Is(err, ErrNotWritable) {
		t.Errorf("append to a read-only core: %v", err)
	}
	if _, err := s.Open(ctx, &Options{Key: Key{1}, KeyPair: seedKeyPair(7)}); !errors.Is(err, ErrKeyMismatch) {
		t.Errorf("mismatched key: %v", err)
	}

	// Closing the store closes its cores.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Append(ctx, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("append after store close: %v", err)
	}
}

func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(10)})
	for i := range 8 {
		mustAppend(t, c, []byte(fmt.Sprint("v", i)))
	}
	if err := c.Clear(ctx, 6, 7); err != nil { // block 6 is not stored when the snapshot is made
		t.Fatal(err)
	}
	snap, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	th, _ := snap.TreeHash()
	mustAppend(t, c, []byte("v8"))
	if snap.Length() != 8 || c.Length() != 9 || snap.Writable() {
		t.Fatalf("snapshot length %d, core %d", snap.Length(), c.Length())
	}
	if _, err := snap.Append(ctx, []byte("x")); !errors.Is(err, ErrNotWritable) {
		t.Errorf("append to snapshot: %v", err)
	}
	if _, err := snap.Get(ctx, 8, nil); !errors.Is(err, ErrSnapshotNotAvailable) {
		t.Errorf("get past a snapshot's length: %v", err)
	}
	if _, err := snap.Get(ctx, 6, &GetOptions{NoWait: true}); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("get a block the snapshot lacks: %v", err)
	}

	// Truncate the core below the snapshot, and write different blocks.
	if err := c.Truncate(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, c, blocksOf("w3", "w4", "w5", "w6", "w7")...)
	for i := range 8 {
		if i == 6 {
			continue
		}
		if got := mustGet(t, snap, uint64(i)); string(got) != fmt.Sprint("v", i) {
			t.Errorf("snapshot block %d = %q after truncation", i, got)
		}
	}
	// Block 6 was not in the snapshot and the core's block 6 is another
	// fork's: not available, as JS.
	if _, err := snap.Get(ctx, 6, nil); !errors.Is(err, ErrSnapshotNotAvailable) {
		t.Errorf("get block 6 of a truncated snapshot: %v", err)
	}
	if h, _ := snap.TreeHash(); h != th || snap.Fork() != 0 || snap.Length() != 8 {
		t.Error("snapshot tree changed")
	}
	if i, off, err := snap.Seek(ctx, 5, nil); err != nil || i != 2 || off != 1 {
		t.Errorf("snapshot seek: %d %d %v", i, off, err)
	}
	if ok, _ := snap.Has(ctx, 0, 6); !ok {
		t.Error("snapshot has(0, 6)")
	}
	s2, err := snap.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s2.Length() != 8 || string(mustGet(t, s2, 7)) != "v7" {
		t.Error("snapshot of a snapshot")
	}
	s2.Close()
	if string(mustGet(t, snap, 7)) != "v7" {
		t.Error("closing a snapshot's session closed the snapshot")
	}
}

func TestUserData(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, nil)
	if _, err := c.GetUserData(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing user data: %v", err)
	}
	if err := c.SetUserData(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := c.SetUserData(ctx, "empty", []byte{}); err != nil {
		t.Fatal(err)
	}
	snap, _ := c.Snapshot()
	defer snap.Close()
	if err := c.SetUserData(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUserData(ctx, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted user data: %v", err)
	}
	if v, err := snap.GetUserData(ctx, "a"); err != nil || string(v) != "1" {
		t.Errorf("snapshot user data %q %v", v, err)
	}
	if v, err := c.GetUserData(ctx, "empty"); err != nil || v == nil || len(v) != 0 {
		t.Errorf("empty value %v %v", v, err)
	}
}

func TestGetWaits(t *testing.T) {
	c := memCore(t, &Options{KeyPair: seedKeyPair(11)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan []byte, 1)
	errc := make(chan error, 1)
	go func() {
		b, err := c.Get(ctx, 2, nil)
		got <- b
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	mustAppend(t, c, blocksOf("0", "1", "2")...)
	if b, err := <-got, <-errc; string(b) != "2" || err != nil {
		t.Fatalf("waiting get: %q %v", b, err)
	}

	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := c.Get(short, 9, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("get with deadline: %v", err)
	}
	if _, err := c.Get(context.Background(), 9, &GetOptions{Timeout: 10 * time.Millisecond}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("get with timeout: %v", err)
	}
	// Closing the session wakes its waiters.
	s, _ := c.Session()
	go func() {
		_, err := s.Get(context.Background(), 9, nil)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	s.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("get on a closing session: %v", err)
	}
}

func TestWatch(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(12)})
	var mu sync.Mutex
	var events []Event
	done := make(chan struct{})
	stop := c.Watch(func(ev Event) {
		mu.Lock()
		events = append(events, ev)
		mu.Unlock()
		if ev.Kind == EventTruncate {
			close(done)
		}
	})
	defer stop()
	mustAppend(t, c, []byte("a"))
	mustAppend(t, c, []byte("bb"))
	if err := c.Truncate(ctx, 1, nil); err != nil {
		t.Fatal(err)
	}
	<-done
	mu.Lock()
	defer mu.Unlock()
	// Appends may be merged; the last append event says length 2.
	last := events[len(events)-2]
	if last.Kind != EventAppend || last.Length != 2 || last.ByteLength != 3 || events[0].Start != 0 {
		t.Errorf("append events %+v", events)
	}
	tr := events[len(events)-1]
	if tr.Kind != EventTruncate || tr.Start != 1 || tr.Fork != 1 || tr.Length != 1 {
		t.Errorf("truncate event %+v", tr)
	}

	// A slow watcher never blocks the writer.
	block := make(chan struct{})
	stop2 := c.Watch(func(Event) { <-block })
	for range 100 {
		mustAppend(t, c, []byte("x"))
	}
	close(block)
	stop2()
	stop2()
}

// checkVerifies recomputes the tree hash from the stored nodes and checks
// the stored signature against the manifest.
func checkVerifies(t testing.TB, c *Core) {
	t.Helper()
	st := c.st
	st.mu.RLock()
	defer st.mu.RUnlock()
	roots, err := st.tree.RootsAt(st.tree.Length())
	if err != nil {
		t.Fatal(err)
	}
	h := hcrypto.TreeHash(roots)
	head, err := st.sc.Head()
	if err != nil && st.tree.Length() > 0 {
		t.Fatal(err)
	}
	if st.tree.Length() == 0 {
		return
	}
	if h != head.RootHash {
		t.Fatalf("stored roots hash to %x, head says %x", h, head.RootHash)
	}
	tree := &signedTree{fork: head.Fork, length: head.Length, roots: roots}
	if !newVerifier(st.key, st.manifest, false).verify(tree, head.Signature) {
		t.Fatal("stored signature does not verify")
	}
	for i := range head.Length {
		if !st.bits.Get(i) {
			continue
		}
		b, err := st.sc.Block(i)
		if err != nil {
			t.Fatalf("block %d: %v", i, err)
		}
		n, ok, err := st.sc.Node(2 * i)
		if err != nil || !ok || n.Hash != hcrypto.LeafHash(b) {
			t.Fatalf("block %d does not match its leaf", i)
		}
	}
}

// TestModel runs random appends, truncates, clears and gets against a
// plain slice of blocks.
func TestModel(t *testing.T) {
	ctx := context.Background()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, encrypted := range []bool{false, true} {
		opts := &Options{KeyPair: seedKeyPair(13)}
		if encrypted {
			opts.EncryptionKey = []byte("model key")
		}
		fs := vfs.NewMem()
		opts.FS = fs
		c := memCore(t, opts)
		var model [][]byte
		var cleared = map[uint64]bool{}
		fork := uint64(0)
		for step := range 400 {
			switch op := rng.IntN(10); {
			case op < 5:
				n := 1 + rng.IntN(5)
				var bs [][]byte
				for range n {
					b := make([]byte, rng.IntN(40))
					for j := range b {
						b[j] = byte(rng.Uint32())
					}
					bs = append(bs, b)
				}
				r := mustAppend(t, c, bs...)
				model = append(model, bs...)
				if r.Length != uint64(len(model)) {
					t.Fatalf("step %d: length %d, model %d", step, r.Length, len(model))
				}
			case op < 6 && len(model) > 0:
				l := uint64(rng.IntN(len(model) + 1))
				if err := c.Truncate(ctx, l, nil); err != nil {
					t.Fatal(err)
				}
				fork++
				model = model[:l]
				for i := range cleared {
					if i >= l {
						delete(cleared, i)
					}
				}
			case op < 7 && len(model) > 0:
				s := uint64(rng.IntN(len(model)))
				e := s + uint64(rng.IntN(3))
				if err := c.Clear(ctx, s, e); err != nil {
					t.Fatal(err)
				}
				for i := s; i < min(e, uint64(len(model))); i++ {
					cleared[i] = true
				}
			case op < 8:
				// Reopen.
				c.Close()
				var err error
				if c, err = Open("core", &Options{FS: fs}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { c.Close() })
			default:
				if len(model) == 0 {
					continue
				}
				i := uint64(rng.IntN(len(model)))
				b, err := c.Get(ctx, i, &GetOptions{NoWait: true})
				if cleared[i] {
					if !errors.Is(err, ErrNotAvailable) {
						t.Fatalf("step %d: cleared block %d: %v", step, i, err)
					}
					continue
				}
				if err != nil || !bytes.Equal(b, model[i]) {
					t.Fatalf("step %d: block %d = %x %v, want %x", step, i, b, err, model[i])
				}
			}
			var bl uint64
			for _, b := range model {
				bl += uint64(len(b))
			}
			if c.Length() != uint64(len(model)) || c.ByteLength() != bl || c.Fork() != fork {
				t.Fatalf("step %d: length %d byteLength %d fork %d, model %d %d %d", step, c.Length(), c.ByteLength(), c.Fork(), len(model), bl, fork)
			}
		}
		checkVerifies(t, c)
	}
}

// TestConcurrent reads and snapshots while a writer appends; run with
// -race.
func TestConcurrent(t *testing.T) {
	ctx := context.Background()
	c := memCore(t, &Options{KeyPair: seedKeyPair(14), NoSync: true})
	mustAppend(t, c, []byte("0"))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				l := c.Length()
				i := uint64(k+r) % l
				b, err := c.Get(ctx, i, nil)
				if err != nil || string(b) != fmt.Sprint(i) {
					t.Errorf("get %d: %q %v", i, b, err)
					return
				}
				if k%50 == 0 {
					s, err := c.Snapshot()
					if err != nil {
						t.Error(err)
						return
					}
					if sl := s.Length(); sl > 0 {
						if b, err := s.Get(ctx, sl-1, nil); err != nil || string(b) != fmt.Sprint(sl-1) {
							t.Errorf("snapshot get: %q %v", b, err)
						}
					}
					s.Close()
				}
			}
		}()
	}
	for i := 1; i < 300; i++ {
		mustAppend(t, c, []byte(fmt.Sprint(i)))
	}
	close(stop)
	wg.Wait()
	checkVerifies(t, c)
}
