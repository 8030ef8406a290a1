package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild() // the re-executed child of TestProcessCrash; never returns
	}
	goleak.VerifyTestMain(m)
}

func openMem(t testing.TB, fs vfs.FS) *DB {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	db, err := Open("db", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testHeader(seed byte) *Header {
	h := &Header{Manifest: []byte{1, 0, 0, 1, 1, 0}}
	for i := range h.Key {
		h.Key[i] = seed
		h.DiscoveryKey[i] = seed ^ 0x5a
	}
	return h
}

func mustCommit(t testing.TB, b *Batch) {
	t.Helper()
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestFormatVersion(t *testing.T) {
	fs := vfs.NewMem()
	db, err := Open("db", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening a stamped database works.
	db, err = Open("db", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	// A version this build does not know is refused.
	pdb, err := pebble.Open("db", &pebble.Options{FS: fs, Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Set(keyVersion, binary.BigEndian.AppendUint32(nil, formatVersion+1), pebble.Sync)
	pdb.Close()
	if _, err := Open("db", &Options{FS: fs}); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("future version: err = %v, want ErrUnknownFormat", err)
	}

	// A non-empty database without a version is refused.
	fs2 := vfs.NewMem()
	pdb, err = pebble.Open("db", &pebble.Options{FS: fs2, Logger: pebbleLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Set([]byte("someone else's key"), []byte("x"), pebble.Sync)
	pdb.Close()
	if _, err := Open("db", &Options{FS: fs2}); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("no version: err = %v, want ErrUnknownFormat", err)
	}
}

func TestPrimaryKey(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	if _, err := db.PrimaryKey(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	k := [32]byte{1, 2, 3}
	if err := db.SetPrimaryKey(k); err != nil {
		t.Fatal(err)
	}
	if err := db.SetPrimaryKey(k); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	if err := db.SetPrimaryKey([32]byte{9}); !errors.Is(err, ErrExists) {
		t.Fatalf("other key: err = %v, want ErrExists", err)
	}
	db.Close()
	db = openMem(t, fs)
	if got, err := db.PrimaryKey(); err != nil || got != k {
		t.Fatalf("after reopen: %x, %v", got, err)
	}
}

func TestCores(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	var ids []CoreID
	for _, seed := range []byte{3, 1, 2} {
		c, err := db.CreateCore(testHeader(seed))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID())
	}
	if !slices.Equal(ids, []CoreID{1, 2, 3}) {
		t.Fatalf("ids = %v", ids)
	}
	if _, err := db.CreateCore(testHeader(1)); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate: err = %v, want ErrExists", err)
	}
	c, err := db.FindCore(testHeader(2).DiscoveryKey)
	if err != nil || c.ID() != 3 {
		t.Fatalf("FindCore = %v, %v", c, err)
	}
	h, err := c.Header()
	if err != nil {
		t.Fatal(err)
	}
	if want := testHeader(2); h.Key != want.Key || !bytes.Equal(h.Manifest, want.Manifest) || h.SecretKey != nil || h.EncryptionKey != nil {
		t.Fatalf("header = %+v", h)
	}
	if _, err := db.FindCore([32]byte{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing core: err = %v", err)
	}

	// Cores iterate in discovery key order.
	var dks [][32]byte
	for c, err := range db.Cores() {
		if err != nil {
			t.Fatal(err)
		}
		dks = append(dks, c.DiscoveryKey())
	}
	if len(dks) != 3 || !slices.IsSortedFunc(dks, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) }) {
		t.Fatalf("Cores = %x", dks)
	}

	// Aliases.
	ns := [32]byte{7}
	b := db.NewBatch()
	b.PutAlias(ns, "db", c.ID())
	mustCommit(t, b)
	a, err := db.FindAlias(ns, "db")
	if err != nil || a.ID() != c.ID() || a.DiscoveryKey() != c.DiscoveryKey() {
		t.Fatalf("FindAlias = %v, %v", a, err)
	}
	if _, err := db.FindAlias(ns, "other"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing alias: err = %v", err)
	}

	// Ids are not reused after reopening, nor after deletion.
	b = db.NewBatch()
	b.DeleteCore(c)
	mustCommit(t, b)
	if _, err := db.FindCore(c.DiscoveryKey()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted core: err = %v", err)
	}
	if _, err := db.FindAlias(ns, "db"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("alias of deleted core: err = %v", err)
	}
	db.Close()
	db = openMem(t, fs)
	c4, err := db.CreateCore(testHeader(2))
	if err != nil || c4.ID() != 4 {
		t.Fatalf("recreated core: %v, %v", c4, err)
	}
	if _, err := c4.Head(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("new core has a head: %v", err)
	}
}

func TestHeaderRecord(t *testing.T) {
	for _, h := range []*Header{
		{},
		testHeader(1),
		{Key: [32]byte{1}, SecretKey: bytes.Repeat([]byte{2}, 64)},
		{Key: [32]byte{1}, Manifest: []byte{9}, SecretKey: []byte{}, EncryptionKey: bytes.Repeat([]byte{3}, 32)},
	} {
		got, err := decodeHeader(appendHeader(nil, h))
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != h.Key || got.DiscoveryKey != h.DiscoveryKey || !bytes.Equal(got.Manifest, h.Manifest) ||
			!bytes.Equal(got.SecretKey, h.SecretKey) || (got.SecretKey == nil) != (h.SecretKey == nil) ||
			!bytes.Equal(got.EncryptionKey, h.EncryptionKey) || (got.EncryptionKey == nil) != (h.EncryptionKey == nil) {
			t.Errorf("round trip: got %+v, want %+v", got, h)
		}
	}
}

func TestBatchReadWrite(t *testing.T) {
	db := openMem(t, nil)
	c, err := db.CreateCore(testHeader(1))
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID()
	other, err := db.CreateCore(testHeader(2))
	if err != nil {
		t.Fatal(err)
	}

	b := db.NewBatch()
	for i := range uint64(10) {
		b.PutBlock(id, i, []byte{byte(i), byte(i)})
		b.PutNode(id, hcrypto.Node{Index: 2 * i, Size: 2, Hash: [32]byte{byte(i)}})
	}
	b.PutBlock(id, math.MaxUint64, []byte("last"))
	b.PutBlock(other.ID(), 0, []byte("other"))
	b.PutBlock(id, 10, nil) // an empty block is a block
	head := Head{Fork: 2, Length: 11, ByteLength: 20, RootHash: [32]byte{4}, Signature: bytes.Repeat([]byte{5}, 68)}
	b.SetHead(id, &head)
	page := make([]byte, bitfield.BytesPerPage)
	page[0] = 0xff
	b.PutBitfieldPage(id, 0, page)
	b.PutBitfieldPage(id, 5, page)
	b.PutUserData(id, "b", []byte("2"))
	b.PutUserData(id, "a", []byte("1"))
	b.PutUserData(id, "empty", nil)
	// Not visible before Commit.
	if _, err := c.Block(0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("visible before commit: %v", err)
	}
	mustCommit(t, b)
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second commit: err = %v", err)
	}

	for i := range uint64(10) {
		got, err := c.Block(i)
		if err != nil || !bytes.Equal(got, []byte{byte(i), byte(i)}) {
			t.Fatalf("Block(%d) = %x, %v", i, got, err)
		}
		n, ok, err := c.Node(2 * i)
		if err != nil || !ok || n != (hcrypto.Node{Index: 2 * i, Size: 2, Hash: [32]byte{byte(i)}}) {
			t.Fatalf("Node(%d) = %+v, %v, %v", 2*i, n, ok, err)
		}
	}
	if got, err := c.Block(10); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty block = %v, %v", got, err)
	}
	if got, err := c.Block(math.MaxUint64); err != nil || string(got) != "last" {
		t.Fatalf("Block(max) = %q, %v", got, err)
	}
	if _, err := c.Block(11); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Block(11): err = %v", err)
	}
	if has, err := c.HasBlock(3); !has || err != nil {
		t.Fatalf("HasBlock(3) = %v, %v", has, err)
	}
	if _, ok, err := c.Node(1); ok || err != nil {
		t.Fatalf("Node(1) ok=%v err=%v", ok, err)
	}
	if got, err := c.Head(); err != nil || got.Fork != head.Fork || got.Length != head.Length || got.ByteLength != head.ByteLength || got.RootHash != head.RootHash || !bytes.Equal(got.Signature, head.Signature) {
		t.Fatalf("Head = %+v, %v", got, err)
	}
	if got, err := c.BitfieldPage(5); err != nil || !bytes.Equal(got, page) {
		t.Fatalf("BitfieldPage(5): %v", err)
	}
	if _, err := c.BitfieldPage(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("BitfieldPage(1): err = %v", err)
	}
	var pages []uint64
	for e, err := range c.BitfieldPages() {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, e.N)
	}
	if !slices.Equal(pages, []uint64{0, 5}) {
		t.Fatalf("BitfieldPages = %v", pages)
	}
	if got, err := c.UserData("a"); err != nil || string(got) != "1" {
		t.Fatalf("UserData(a) = %q, %v", got, err)
	}
	if got, err := c.UserData("empty"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("UserData(empty) = %v, %v", got, err)
	}
	var keys []string
	for e, err := range c.UserDataAll() {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"a", "b", "empty"}) {
		t.Fatalf("UserDataAll keys = %q", keys)
	}
	var idx []uint64
	for blk, err := range c.Blocks(2, 6, nil) {
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, blk.Index)
	}
	if !slices.Equal(idx, []uint64{2, 3, 4, 5}) {
		t.Fatalf("Blocks(2, 6) = %v", idx)
	}
	var nidx []uint64
	for n, err := range c.NodesEndingIn(0, math.MaxUint64) {
		if err != nil {
			t.Fatal(err)
		}
		nidx = append(nidx, n.Index)
	}
	if len(nidx) != 10 || nidx[9] != 18 {
		t.Fatalf("NodesEndingIn = %v", nidx)
	}

	// Truncate to 4: range deletes, including the block at 2^64-1.
	b = db.NewBatch()
	b.DeleteBlockRange(id, 4, math.MaxUint64)
	b.DeleteTreeFrom(id, 4)
	b.DeleteBitfieldPageRange(id, 1, math.MaxUint64)
	b.DeleteUserData(id, "b")
	b.DeleteBlock(id, 0)
	b.DeleteNode(id, 0)
	mustCommit(t, b)
	idx = idx[:0]
	for blk, err := range c.Blocks(0, math.MaxUint64, nil) {
		if err != nil {
			t.Fatal(err)
		}
		idx = append(idx, blk.Index)
	}
	if !slices.Equal(idx, []uint64{1, 2, 3}) {
		t.Fatalf("blocks after truncate = %v", idx)
	}
	if _, ok, _ := c.Node(6); !ok {
		t.Fatal("node 6 deleted")
	}
	if _, ok, _ := c.Node(8); ok {
		t.Fatal("node 8 kept")
	}
	if _, err := c.BitfieldPage(5); !errors.Is(err, ErrNotFound) {
		t.Fatal("page 5 kept")
	}
	if _, err := c.UserData("b"); !errors.Is(err, ErrNotFound) {
		t.Fatal("user data b kept")
	}
	// The other core is untouched.
	if got, err := other.Block(0); err != nil || string(got) != "other" {
		t.Fatalf("other core: %q, %v", got, err)
	}

	// Bad arguments surface at Commit and nothing is applied.
	b = db.NewBatch()
	b.PutBlock(id, 100, []byte("x"))
	b.PutBitfieldPage(id, 0, []byte("short"))
	if err := b.Commit(); err == nil {
		t.Fatal("short page committed")
	}
	if _, err := c.Block(100); !errors.Is(err, ErrNotFound) {
		t.Fatal("failed batch was partly applied")
	}
}

func TestSnapshot(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	b := db.NewBatch()
	b.PutBlock(c.ID(), 0, []byte("v1"))
	mustCommit(t, b)

	snap, err := db.NewSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	sc := snap.Core(c)

	b = db.NewBatch()
	b.PutBlock(c.ID(), 0, []byte("v2"))
	b.PutBlock(c.ID(), 1, []byte("new"))
	mustCommit(t, b)
	if _, err := db.CreateCore(testHeader(2)); err != nil {
		t.Fatal(err)
	}

	if got, _ := sc.Block(0); string(got) != "v1" {
		t.Fatalf("snapshot sees %q", got)
	}
	if _, err := sc.Block(1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot sees a later block: %v", err)
	}
	if _, err := snap.FindCore(testHeader(2).DiscoveryKey); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot sees a later core: %v", err)
	}
	n := 0
	for _, err := range snap.Cores() {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("snapshot has %d cores", n)
	}
	if got, _ := c.Block(0); string(got) != "v2" {
		t.Fatalf("live core sees %q", got)
	}
	if err := snap.Close(); err != nil {
		t.Fatal(err)
	}
	if err := snap.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.Block(0); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after snapshot close: err = %v", err)
	}
	// A snapshot left open is closed by DB.Close.
	if _, err := db.NewSnapshot(); err != nil {
		t.Fatal(err)
	}
}

func TestCorruptRecords(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	id := c.ID()
	raw := func(key, value []byte) {
		if err := db.pdb.Set(key, value, pebble.Sync); err != nil {
			t.Fatal(err)
		}
	}
	raw(appendKindKey(nil, id, kindHead), []byte{1, 2})
	raw(appendKindKey(nil, id, kindHeader), []byte{0x80})
	raw(appendPackKey(nil, id, 0), []byte{1, 2, 3})
	raw(appendIndexKey(nil, id, kindBitfield, 0), []byte{1})
	bad := [32]byte{0xee}
	raw(dkeyKey(nil, &bad), []byte{1})

	if _, err := c.Head(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Head: err = %v", err)
	}
	if _, err := c.Header(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Header: err = %v", err)
	}
	if _, _, err := c.Node(4); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Node: err = %v", err)
	}
	for _, err := range c.NodesEndingIn(0, 10) {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("NodesEndingIn: err = %v", err)
		}
	}
	if _, err := c.BitfieldPage(0); !errors.Is(err, ErrCorrupt) {
		t.Errorf("BitfieldPage: err = %v", err)
	}
	for _, err := range c.BitfieldPages() {
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("BitfieldPages: err = %v", err)
		}
	}
	if _, err := db.FindCore(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("FindCore: err = %v", err)
	}
	var sawCorrupt bool
	for _, err := range db.Cores() {
		sawCorrupt = sawCorrupt || errors.Is(err, ErrCorrupt)
	}
	if !sawCorrupt {
		t.Error("Cores did not report the corrupt index entry")
	}
}

func TestClosed(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	pending := db.NewBatch()
	pending.PutBlock(c.ID(), 0, []byte("x"))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := pending.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: err = %v", err)
	}
	if _, err := c.Block(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Block: err = %v", err)
	}
	if _, _, err := c.Node(0); !errors.Is(err, ErrClosed) {
		t.Errorf("Node: err = %v", err)
	}
	if _, err := db.CreateCore(testHeader(2)); !errors.Is(err, ErrClosed) {
		t.Errorf("CreateCore: err = %v", err)
	}
	if _, err := db.PrimaryKey(); !errors.Is(err, ErrClosed) {
		t.Errorf("PrimaryKey: err = %v", err)
	}
	if _, err := db.NewSnapshot(); !errors.Is(err, ErrClosed) {
		t.Errorf("NewSnapshot: err = %v", err)
	}
	b := db.NewBatch()
	b.PutBlock(c.ID(), 0, nil)
	if err := b.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("new batch Commit: err = %v", err)
	}
	for _, err := range db.Cores() {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Cores: err = %v", err)
		}
	}
}

// TestCloseWhileReading closes the DB under concurrent readers and
// writers: every call either works or returns ErrClosed, and nothing
// panics (Pebble panics on use of a closed DB; we must not let it).
func TestCloseWhileReading(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	b := db.NewBatch()
	b.PutBlock(c.ID(), 0, []byte("x"))
	mustCommit(t, b)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				var err error
				if g%2 == 0 {
					_, err = c.Block(0)
				} else {
					b := db.NewBatch()
					b.PutBlock(c.ID(), uint64(i), []byte("y"))
					err = b.Commit()
				}
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range 50 {
		c.Block(0) // let the goroutines run a little
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func FuzzDecodeHead(f *testing.F) {
	f.Add(appendHead(nil, &Head{}))
	f.Add(appendHead(nil, &Head{Fork: 1 << 40, Length: 300, ByteLength: 1 << 20, RootHash: [32]byte{1}, Signature: make([]byte, 68)}))
	f.Add([]byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHead(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			return
		}
		// Decoding is strict except for non-minimal varints; re-encoding
		// a decoded head decodes to the same head.
		again, err := decodeHead(appendHead(nil, &h))
		if err != nil || again.Fork != h.Fork || again.Length != h.Length || again.ByteLength != h.ByteLength ||
			again.RootHash != h.RootHash || !bytes.Equal(again.Signature, h.Signature) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, h)
		}
	})
}

func FuzzDecodeHeader(f *testing.F) {
	f.Add(appendHeader(nil, testHeader(1)))
	f.Add(appendHeader(nil, &Header{SecretKey: make([]byte, 64), EncryptionKey: make([]byte, 32)}))
	f.Add([]byte{0x04})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := decodeHeader(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			return
		}
		again, err := decodeHeader(appendHeader(nil, h))
		if err != nil || again.Key != h.Key || again.DiscoveryKey != h.DiscoveryKey || !bytes.Equal(again.Manifest, h.Manifest) ||
			!bytes.Equal(again.SecretKey, h.SecretKey) || !bytes.Equal(again.EncryptionKey, h.EncryptionKey) {
			t.Fatalf("re-decode: %+v, %v; want %+v", again, err, h)
		}
	})
}

// TestIteratorBreak stops iterations early: their Pebble iterators must be
// closed, or DB.Close reports them as leaked.
func TestIteratorBreak(t *testing.T) {
	db, err := Open("db", &Options{FS: vfs.NewMem()})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := db.CreateCore(testHeader(1))
	db.CreateCore(testHeader(2))
	b := db.NewBatch()
	for i := range uint64(5) {
		b.PutBlock(c.ID(), i, []byte{1})
		b.PutNode(c.ID(), hcrypto.Node{Index: 2 * i})
		b.PutUserData(c.ID(), string(rune('a'+i)), []byte{1})
		b.PutBitfieldPage(c.ID(), i, make([]byte, bitfield.BytesPerPage))
	}
	mustCommit(t, b)
	for range db.Cores() {
		break
	}
	for range c.Blocks(0, 10, nil) {
		break
	}
	for range c.NodesEndingIn(0, 10) {
		break
	}
	for range c.UserDataAll() {
		break
	}
	for range c.BitfieldPages() {
		break
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
