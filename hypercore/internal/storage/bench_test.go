package storage

import (
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/bitfield"
)

// benchAppend writes count 1 KiB blocks after length in one batch, with
// the tree nodes an append makes (hashes are not computed: this measures
// storage), the bitfield page and the head.
func benchAppend(b *testing.B, db *DB, id CoreID, length uint64, count int, block []byte, page []byte) {
	bt := db.NewBatch()
	for i := length; i < length+uint64(count); i++ {
		bt.PutBlock(id, i, block)
		idx := 2 * i
		bt.PutNode(id, hcrypto.Node{Index: idx, Size: uint64(len(block))})
		// One parent per trailing one bit of i+1... as a tree append does.
		for k := range bits.TrailingZeros64(i + 1) {
			idx = idx - (1 << k)
			bt.PutNode(id, hcrypto.Node{Index: idx, Size: uint64(len(block)) << (k + 1)})
		}
	}
	bt.PutBitfieldPage(id, bitfield.PageOf(length), page)
	bt.SetHead(id, &Head{Length: length + uint64(count), ByteLength: (length + uint64(count)) * uint64(len(block)), Signature: make([]byte, 68)})
	if err := bt.Commit(); err != nil {
		b.Fatal(err)
	}
}

func benchDB(b *testing.B) (*DB, CoreID) {
	db, err := Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	c, err := db.CreateCore(testHeader(1))
	if err != nil {
		b.Fatal(err)
	}
	return db, c.ID()
}

// BenchmarkAppendBatch100 commits batches of 100 appends of 1 KiB (synced,
// on disk); one op is one batch.
func BenchmarkAppendBatch100(b *testing.B) {
	db, id := benchDB(b)
	block := make([]byte, 1024)
	page := make([]byte, bitfield.BytesPerPage)
	b.ReportAllocs()
	b.SetBytes(100 * 1024)
	var length uint64
	for b.Loop() {
		benchAppend(b, db, id, length, 100, block, page)
		length += 100
	}
}

// BenchmarkAppendSync commits one 1 KiB append per synced batch.
func BenchmarkAppendSync(b *testing.B) {
	db, id := benchDB(b)
	block := make([]byte, 1024)
	page := make([]byte, bitfield.BytesPerPage)
	b.ReportAllocs()
	b.SetBytes(1024)
	var length uint64
	for b.Loop() {
		benchAppend(b, db, id, length, 1, block, page)
		length++
	}
}

func benchFilled(b *testing.B, n uint64) (*Core, []byte) {
	db, id := benchDB(b)
	block := make([]byte, 1024)
	page := make([]byte, bitfield.BytesPerPage)
	for l := uint64(0); l < n; l += 1000 {
		benchAppend(b, db, id, l, 1000, block, page)
	}
	c, err := db.FindCore(testHeader(1).DiscoveryKey)
	if err != nil {
		b.Fatal(err)
	}
	return c, block
}

// BenchmarkBlockGet reads random 1 KiB blocks of a 20,000-block core into
// a reused buffer.
func BenchmarkBlockGet(b *testing.B) {
	const n = 20000
	c, _ := benchFilled(b, n)
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	b.SetBytes(1024)
	for b.Loop() {
		var err error
		if buf, err = c.AppendBlock(buf[:0], rng.Uint64N(n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNodeGet reads random leaf nodes (the merkle NodeReader path).
func BenchmarkNodeGet(b *testing.B) {
	const n = 20000
	c, _ := benchFilled(b, n)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := c.Node(2 * rng.Uint64N(n)); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
