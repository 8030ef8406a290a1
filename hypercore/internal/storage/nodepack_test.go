package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/gopear/gopear/hcrypto"
)

// lastLeaf is the block index of the rightmost leaf of flat-tree index i.
func lastLeaf(i uint64) uint64 { return (i + leaves(i) - 1) / 2 }

// treeNodes returns every node index of the full tree of n blocks: the
// nodes whose span ends before block n.
func treeNodes(n uint64) []uint64 {
	var out []uint64
	for i := uint64(0); i < 2*n; i++ {
		if lastLeaf(i) < n {
			out = append(out, i)
		}
	}
	return out
}

func testNode(i uint64) hcrypto.Node {
	n := hcrypto.Node{Index: i, Size: i*7 + 1}
	binary.BigEndian.PutUint64(n.Hash[:], i)
	n.Hash[31] = byte(i)
	return n
}

func TestPackSlot(t *testing.T) {
	seen := make(map[[2]uint64]uint64)
	check := func(i uint64) {
		pack, slot, ok := packSlot(i)
		if !ok {
			t.Fatalf("packSlot(%d) not ok", i)
		}
		if slot < 0 || slot >= packSlots {
			t.Fatalf("packSlot(%d) slot %d", i, slot)
		}
		if got := slotIndex(pack, slot); got != i {
			t.Fatalf("slotIndex(packSlot(%d)) = %d", i, got)
		}
		if got, want := slotLastLeaf(pack, slot), lastLeaf(i); got != want {
			t.Fatalf("slotLastLeaf of %d = %d, want %d", i, got, want)
		}
		if pack != lastLeaf(i)/packLeaves {
			t.Fatalf("node %d in pack %d, its last leaf is %d", i, pack, lastLeaf(i))
		}
		if j, dup := seen[[2]uint64{pack, uint64(slot)}]; dup && j != i {
			t.Fatalf("nodes %d and %d share pack %d slot %d", i, j, pack, slot)
		}
		seen[[2]uint64{pack, uint64(slot)}] = i
	}
	for _, i := range treeNodes(5000) {
		check(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		d := r.IntN(62)
		k := r.Uint64() >> (d + 2)
		check(k<<(d+1) | (1<<d - 1)) // a node of depth d
	}
	// Depth 63 and up: no tree of fewer than 2^63 blocks has them.
	for _, i := range []uint64{math.MaxUint64, 1<<63 - 1} {
		if _, _, ok := packSlot(i); ok {
			t.Fatalf("packSlot(%d) ok", i)
		}
	}
}

func TestPackCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		pack := r.Uint64N(1 << 40)
		var np nodePack
		for slot := range packSlots {
			if r.IntN(3) == 0 {
				np.put(slot, testNode(slotIndex(pack, slot)))
			}
		}
		v := np.appendTo(nil)
		var got nodePack
		if err := decodePack(&got, pack, v); err != nil {
			t.Fatal(err)
		}
		if got.has != np.has {
			t.Fatalf("slots %+v, want %+v", got.has, np.has)
		}
		for slot := range packSlots {
			n, ok, err := packNode(v, slot, slotIndex(pack, slot))
			if err != nil || ok != np.has.has(slot) || ok && n != np.nodes[slot] || ok && got.nodes[slot] != n {
				t.Fatalf("slot %d: %+v %v %v", slot, n, ok, err)
			}
		}
		if len(v) > packHeaderLen {
			if err := decodePack(&got, pack, v[:len(v)-1]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("short pack: err = %v", err)
			}
		}
	}
}

// FuzzPackValue feeds arbitrary stored pack values to the decoders: they
// return ErrCorrupt or nodes, and never panic.
func FuzzPackValue(f *testing.F) {
	var np nodePack
	for _, i := range treeNodes(32) {
		_, slot, _ := packSlot(i)
		np.put(slot, testNode(i))
	}
	f.Add(np.appendTo(nil), uint64(0), uint64(31))
	f.Add([]byte{}, uint64(3), uint64(0))
	f.Fuzz(func(t *testing.T, v []byte, pack, index uint64) {
		var got nodePack
		if err := decodePack(&got, pack, v); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatal(err)
		}
		if _, slot, ok := packSlot(index); ok {
			if _, _, err := packNode(v, slot, index); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatal(err)
			}
		}
	})
}

// storedNodes returns the node indices core c stores, checking each
// against testNode and Node.
func storedNodes(t *testing.T, c *Core) map[uint64]bool {
	t.Helper()
	got := make(map[uint64]bool)
	for n, err := range c.NodesEndingIn(0, math.MaxUint64) {
		if err != nil {
			t.Fatal(err)
		}
		if n != testNode(n.Index) {
			t.Fatalf("node %d = %+v", n.Index, n)
		}
		if m, ok, err := c.Node(n.Index); !ok || err != nil || m != n {
			t.Fatalf("Node(%d) = %+v, %v, %v", n.Index, m, ok, err)
		}
		got[n.Index] = true
	}
	return got
}

func TestDeleteTreeFrom(t *testing.T) {
	const n = 200
	for _, leaf := range []uint64{0, 1, 31, 32, 33, 64, 100, 127, 128, 199, 200, 1000} {
		db := openMem(t, nil)
		c, err := db.CreateCore(testHeader(1))
		if err != nil {
			t.Fatal(err)
		}
		b := db.NewBatch()
		for _, i := range treeNodes(n) {
			b.PutNode(c.ID(), testNode(i))
		}
		mustCommit(t, b)

		// Truncate and, in the same batch, put back the nodes of the
		// first new block, as a fork does.
		b = db.NewBatch()
		b.DeleteTreeFrom(c.ID(), leaf)
		b.PutNode(c.ID(), testNode(2*leaf))
		mustCommit(t, b)
		got := storedNodes(t, c)
		for _, i := range treeNodes(n + 1) {
			want := lastLeaf(i) < min(leaf, n) || i == 2*leaf
			if got[i] != want {
				t.Fatalf("truncated at %d: node %d stored = %v", leaf, i, got[i])
			}
		}
		if len(got) != len(treeNodes(min(leaf, n)))+1 {
			t.Fatalf("truncated at %d: %d nodes stored", leaf, len(got))
		}
	}
}

// TestBatchNodeOrder checks that within a batch a node's last write wins,
// across puts, deletes and tree deletions of its pack.
func TestBatchNodeOrder(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	id := c.ID()
	b := db.NewBatch()
	for _, i := range treeNodes(100) {
		b.PutNode(id, testNode(i))
	}
	mustCommit(t, b)

	b = db.NewBatch()
	b.DeleteNode(id, 2) // deleted, put back
	b.PutNode(id, testNode(2))
	b.PutNode(id, testNode(4)) // put, deleted
	b.DeleteNode(id, 4)
	b.PutNode(id, testNode(140)) // put in a pack that is then deleted
	b.DeleteTreeFrom(id, 64)
	b.PutNode(id, testNode(130)) // put after the deletion
	b.DeleteNode(id, 1<<64-1)    // never stored
	mustCommit(t, b)
	got := storedNodes(t, c)
	for _, i := range []uint64{2, 130} {
		if !got[i] {
			t.Errorf("node %d missing", i)
		}
	}
	for _, i := range []uint64{4, 140, 128, 127} {
		if got[i] {
			t.Errorf("node %d stored", i)
		}
	}

	// A node index no tree has is refused.
	b = db.NewBatch()
	b.PutNode(id, hcrypto.Node{Index: math.MaxUint64})
	if err := b.Commit(); err == nil {
		t.Fatal("node index 2^64-1 stored")
	}
	if _, ok, err := c.Node(math.MaxUint64); ok || err != nil {
		t.Fatalf("Node(2^64-1) = %v, %v", ok, err)
	}
}

func TestDeleteCoreDropsPackEdits(t *testing.T) {
	db := openMem(t, nil)
	c, _ := db.CreateCore(testHeader(1))
	b := db.NewBatch()
	b.PutNode(c.ID(), testNode(0))
	b.DeleteCore(c)
	mustCommit(t, b)
	if _, ok, err := c.Node(0); ok || err != nil {
		t.Fatalf("Node(0) after DeleteCore = %v, %v", ok, err)
	}
}

// reopen closes db and opens the database in fs again, closed when the
// test ends.
func reopen(t *testing.T, db *DB, fs vfs.FS) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open("db", &Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestMigrateV1 writes a format 1 database by hand (a node a key, the head
// at kind 1) and checks that Open moves it to the current format.
func TestMigrateV1(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	c1, _ := db.CreateCore(testHeader(1))
	c2, _ := db.CreateCore(testHeader(2))
	head := Head{Fork: 1, Length: 70, ByteLength: 700, RootHash: [32]byte{9}, Signature: []byte{1, 2, 3}}
	raw := func(key, value []byte) {
		if err := db.pdb.Set(key, value, pebble.NoSync); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range treeNodes(70) {
		n := testNode(i)
		raw(appendIndexKey(nil, c1.ID(), kindNodeV1, i), appendNodeValue(nil, &n))
	}
	raw(appendKindKey(nil, c1.ID(), kindHeadV1), appendHead(nil, &head))
	raw(appendIndexKey(nil, c1.ID(), kindBlock, 0), []byte("a block of format 1, untagged"))
	raw(keyVersion, binary.BigEndian.AppendUint32(nil, 1))
	db = reopen(t, db, fs)
	c1, err := db.FindCore(testHeader(1).DiscoveryKey)
	if err != nil {
		t.Fatal(err)
	}
	got := storedNodes(t, c1)
	if len(got) != len(treeNodes(70)) {
		t.Fatalf("%d nodes after migration, want %d", len(got), len(treeNodes(70)))
	}
	if h, err := c1.Head(); err != nil || h.Length != 70 || h.Fork != 1 || string(h.Signature) != "\x01\x02\x03" {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	if c2, err = db.FindCore(testHeader(2).DiscoveryKey); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Head(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("core without a head: %v", err)
	}
	for _, kind := range []byte{kindHeadV1, kindNodeV1} {
		lo, hi := indexRange(c1.ID(), kind, 0, math.MaxUint64)
		if kind == kindHeadV1 {
			lo = appendKindKey(nil, c1.ID(), kind)
		}
		for range c1.scan(lo, hi) {
			t.Fatalf("format 1 key of kind %d left", kind)
		}
	}
	v, err := db.getCopy(db.pdb, keyVersion)
	if err != nil || binary.BigEndian.Uint32(v) != formatVersion {
		t.Fatalf("version %x, %v", v, err)
	}
	// Blocks stay untagged, old and new.
	if b, err := c1.Block(0); err != nil || string(b) != "a block of format 1, untagged" {
		t.Fatalf("Block(0) = %q, %v", b, err)
	}
	text := bytes.Repeat([]byte("compressible "), 40)
	b := db.NewBatch()
	b.PutBlock(c1.ID(), 1, text)
	mustCommit(t, b)
	if got, err := db.getCopy(db.pdb, appendIndexKey(nil, c1.ID(), kindBlock, 1)); err != nil || !bytes.Equal(got, text) {
		t.Fatalf("new block of a migrated database stored as %d bytes, %v", len(got), err)
	}
	for blk, err := range c1.Blocks(0, 2, nil) {
		if err != nil || blk.Index > 1 {
			t.Fatalf("Blocks: %+v, %v", blk, err)
		}
	}
}

// TestPackEnd checks that the bound past which a core stores no pack,
// read from the database after a reopen and moved by writes, never hides
// a stored pack from the merge of a later write.
func TestPackEnd(t *testing.T) {
	fs := vfs.NewMem()
	db := openMem(t, fs)
	c, _ := db.CreateCore(testHeader(1))
	b := db.NewBatch()
	b.PutNode(c.ID(), testNode(0))
	b.PutNode(c.ID(), testNode(5*64)) // pack 5
	mustCommit(t, b)
	db = reopen(t, db, fs)
	c, _ = db.FindCore(testHeader(1).DiscoveryKey)
	for _, i := range []uint64{5*64 + 2, 9 * 64, 9*64 + 2, 2} {
		b := db.NewBatch()
		b.PutNode(c.ID(), testNode(i))
		mustCommit(t, b)
	}
	got := storedNodes(t, c)
	for _, i := range []uint64{0, 2, 5 * 64, 5*64 + 2, 9 * 64, 9*64 + 2} {
		if !got[i] {
			t.Errorf("node %d lost", i)
		}
	}
}
