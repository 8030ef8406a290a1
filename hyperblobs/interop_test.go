package hyperblobs_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/internal/jsref"
)

// jsPut is a put of interop/hyperblobs/blobs.js.
type jsPut struct {
	Size      int    `json:"size"`
	Pattern   string `json:"pattern,omitempty"`
	Seed      int    `json:"seed,omitempty"`
	BlockSize int    `json:"blockSize,omitempty"`
	Chunks    []int  `json:"chunks,omitempty"`
	BlockMap  bool   `json:"blockMap,omitempty"`
	Dedup     bool   `json:"dedup,omitempty"`
}

// jsRead is a read of blobs.js: of put Blob (or of ID), whole or ranged.
type jsRead struct {
	Blob   int            `json:"blob"`
	ID     *hyperblobs.ID `json:"id,omitempty"`
	Start  *uint64        `json:"start,omitempty"`
	Length *uint64        `json:"length,omitempty"`
	End    *uint64        `json:"end,omitempty"`
	Whole  bool           `json:"whole,omitempty"`
}

type jsWriteAnswer struct {
	Key        string            `json:"key"`
	Blocks     [][]byte          `json:"blocks"` // base64 in JSON
	IDs        []hyperblobs.ID   `json:"ids"`
	ByteLength uint64            `json:"byteLength"`
	Reads      []json.RawMessage `json:"reads"`
}

func u(v uint64) *uint64 { return &v }

const mb = 3<<20 + 12345 // a multi-MB blob

// samePuts are puts whose blocks Go must reproduce exactly.
var samePuts = []jsPut{
	{Size: 0},
	{Size: 1, Seed: 1},
	{Size: hyperblobs.DefaultBlockSize - 1, Seed: 2},
	{Size: hyperblobs.DefaultBlockSize, Seed: 3},
	{Size: hyperblobs.DefaultBlockSize + 1, Seed: 4},
	{Size: mb, Seed: 5},
	{Size: 0},
	{Size: 1000, Seed: 6, BlockSize: 100},
	{Size: 5*hyperblobs.DefaultBlockSize + 10, Pattern: "repeat", Seed: 1, Dedup: true},
	{Size: 300000, Seed: 7, BlockMap: true},
	{Size: 0, BlockMap: true},
}

// rangesOf returns reads of every put: whole, and ranges JS answers
// within the blob (JS reads past the end of a blob into the next one).
func rangesOf(puts []jsPut) []jsRead {
	var reads []jsRead
	for i, p := range puts {
		if p.Size == 0 && p.BlockMap {
			continue // JS fails on the empty map ("Cannot read properties of null")
		}
		reads = append(reads, jsRead{Blob: i, Whole: true})
		if p.Size == 0 {
			continue
		}
		n := uint64(p.Size)
		reads = append(reads,
			jsRead{Blob: i, Start: u(0)},
			jsRead{Blob: i, Start: u(n - 1)},
			jsRead{Blob: i, Start: u(n / 3), Length: u(n/2 + 1)},
			jsRead{Blob: i, Start: u(n / 7), End: u(n - n/5 - 1)},
			jsRead{Blob: i, Start: u(0), Length: u(1)},
			jsRead{Blob: i, End: u(n - 1)},
		)
		if n > 65537 {
			reads = append(reads,
				jsRead{Blob: i, Start: u(65535), Length: u(3)},
				jsRead{Blob: i, Start: u(65536), End: u(65536)},
				jsRead{Blob: i, Start: u(1), Length: u(65536)})
		}
	}
	return reads
}

// goRead answers rd from b, as blobs.js does (JS end is inclusive).
func goRead(t *testing.T, b *hyperblobs.Blobs, ids []hyperblobs.ID, rd jsRead) []byte {
	t.Helper()
	ctx := context.Background()
	id := rd.ID
	if id == nil {
		id = &ids[rd.Blob]
	}
	if rd.Whole {
		got, err := b.Get(ctx, *id, nil)
		if err != nil {
			t.Fatalf("Get(%+v): %v", *id, err)
		}
		return got
	}
	opts := &hyperblobs.ReadOptions{}
	if rd.Start != nil {
		opts.Start = *rd.Start
	}
	if rd.Length != nil {
		opts.Length = *rd.Length
	} else if rd.End != nil {
		opts.Length = *rd.End - opts.Start + 1
	}
	r, err := b.CreateReadStream(ctx, *id, opts)
	if err != nil {
		t.Fatalf("CreateReadStream(%+v, %+v): %v", *id, *opts, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %+v of %+v: %v", *opts, *id, err)
	}
	return got
}

// checkReads compares b's answers to rds with JS's.
func checkReads(t *testing.T, what string, b *hyperblobs.Blobs, ids []hyperblobs.ID, rds []jsRead, js []json.RawMessage) {
	t.Helper()
	if len(js) != len(rds) {
		t.Fatalf("JS answered %d reads, want %d", len(js), len(rds))
	}
	for i, rd := range rds {
		var want []byte
		if err := json.Unmarshal(js[i], &want); err != nil {
			t.Fatalf("JS read %d (%+v): %s", i, rd, js[i])
		}
		if got := goRead(t, b, ids, rd); !bytes.Equal(got, want) {
			t.Errorf("%s: read %d (blob %d, %v/%v/%v, whole %v): Go %d bytes, JS %d bytes", what, i, rd.Blob,
				deref(rd.Start), deref(rd.Length), deref(rd.End), rd.Whole, len(got), len(want))
		}
	}
}

func deref(p *uint64) any {
	if p == nil {
		return "-"
	}
	return *p
}

// goPuts applies puts to b as blobs.js does.
func goPuts(t *testing.T, b *hyperblobs.Blobs, puts []jsPut) []hyperblobs.ID {
	t.Helper()
	ctx := context.Background()
	var ids []hyperblobs.ID
	for _, p := range puts {
		bs := p.BlockSize
		if bs == 0 {
			bs = b.BlockSize()
		}
		data := gen(p.Pattern, p.Seed, p.Size, bs)
		opts := &hyperblobs.PutOptions{BlockSize: p.BlockSize, BlockMap: p.BlockMap, Dedup: p.Dedup}
		var id hyperblobs.ID
		var err error
		if p.Chunks == nil {
			id, err = b.Put(ctx, data, opts)
		} else {
			var w *hyperblobs.Writer
			if w, err = b.CreateWriteStream(ctx, opts); err != nil {
				t.Fatal(err)
			}
			for off, k := 0, 0; off < len(data); k++ {
				n := p.Chunks[k%len(p.Chunks)]
				if _, err := w.Write(data[off:min(off+n, len(data))]); err != nil {
					t.Fatal(err)
				}
				off += n
			}
			err = w.Close()
			id = w.ID()
		}
		if err != nil {
			t.Fatalf("put %+v: %v", p, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// realCore opens a hypercore in memory with the key pair blobs.js uses
// for seed.
func realCore(t *testing.T, seed byte) *hypercore.Core {
	t.Helper()
	var s [32]byte
	for i := range s {
		s[i] = seed
	}
	kp := hcrypto.KeyPairFromSeed(s)
	c, err := hypercore.Open(t.TempDir(), &hypercore.Options{KeyPair: &kp, FS: vfs.NewMem(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestInteropPut: JS puts blobs of every edge size, block maps and dedup;
// Go puts the same content into a memory core and into a real hypercore
// with the same key pair, and must append the same blocks, return the same
// ids, give the same core key, and read every range as JS does.
func TestInteropPut(t *testing.T) {
	reads := rangesOf(samePuts)
	var js jsWriteAnswer
	jsref.JSON(t, map[string]any{"op": "write", "seed": 3, "puts": samePuts, "reads": reads}, &js, "hyperblobs/blobs.js")

	for _, tc := range []struct {
		name string
		core hyperblobs.Core
	}{{"memcore", newMemCore()}, {"hypercore", realCore(t, 3)}} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBlobs(t, tc.core, 0)
			ids := goPuts(t, b, samePuts)
			for i := range samePuts {
				if ids[i] != js.IDs[i] {
					t.Errorf("put %d (%+v): Go id %+v, JS id %+v", i, samePuts[i], ids[i], js.IDs[i])
				}
			}
			if got := tc.core.Length(); got != uint64(len(js.Blocks)) {
				t.Fatalf("Go core has %d blocks, JS core %d", got, len(js.Blocks))
			}
			for i, want := range js.Blocks {
				got, err := tc.core.Get(context.Background(), uint64(i), nil)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("block %d: Go %d bytes, JS %d bytes (%v)", i, len(got), len(want), err)
				}
			}
			if bl := tc.core.ByteLength(); bl != js.ByteLength {
				t.Errorf("byte length: Go %d, JS %d", bl, js.ByteLength)
			}
			if c, ok := tc.core.(*hypercore.Core); ok {
				if got := keyHex(c.Key()); got != js.Key {
					t.Errorf("core key: Go %s, JS %s", got, js.Key)
				}
			}
			checkReads(t, "Go on its own blocks", b, ids, reads, js.Reads)
		})
	}
}

// streamPuts are JS write streams fed uneven chunks: their blocks are
// what the writes were, which Go must read as JS does.
var streamPuts = []jsPut{
	{Size: 1, Seed: 1, Chunks: []int{7}},
	{Size: 200000, Seed: 2, Chunks: []int{1000, 30000, 1, 65536, 100000}},
	{Size: 150000, Seed: 3, Chunks: []int{70000}},
	{Size: 90000, Seed: 4, Chunks: []int{333}, BlockMap: true},
	{Size: 2 << 20, Seed: 5, Chunks: []int{1 << 20}},
}

// TestInteropReadJS: Go reads blobs whose blocks JS wrote from uneven
// write streams, from a memory core and from a real hypercore holding
// JS's blocks.
func TestInteropReadJS(t *testing.T) {
	reads := rangesOf(streamPuts)
	var js jsWriteAnswer
	jsref.JSON(t, map[string]any{"op": "write", "seed": 4, "puts": streamPuts, "reads": reads}, &js, "hyperblobs/blobs.js")

	mem := newMemCore(js.Blocks...)
	real := realCore(t, 4)
	for i := 0; i < len(js.Blocks); i += 64 {
		if _, err := real.Append(context.Background(), js.Blocks[i:min(i+64, len(js.Blocks))]...); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyHex(real.Key()); got != js.Key {
		t.Errorf("core key: Go %s, JS %s", got, js.Key)
	}
	for _, c := range []struct {
		name string
		core hyperblobs.Core
	}{{"memcore", mem}, {"hypercore", real}} {
		t.Run(c.name, func(t *testing.T) {
			checkReads(t, "Go on JS's blocks", newBlobs(t, c.core, 0), js.IDs, reads, js.Reads)
		})
	}
}

// TestInteropJSReadsGo: JS loads the blocks of Go's writers (uneven
// writes, cut into blocks by the Writer) and reads them as Go does.
func TestInteropJSReadsGo(t *testing.T) {
	core := newMemCore()
	b := newBlobs(t, core, 0)
	ids := goPuts(t, b, append(streamPuts, samePuts[5], samePuts[8]))
	reads := rangesOf(append(streamPuts, samePuts[5], samePuts[8]))
	for i := range reads {
		id := ids[reads[i].Blob]
		reads[i].ID = &id
	}
	var js struct {
		Reads []json.RawMessage `json:"reads"`
	}
	jsref.JSON(t, map[string]any{"op": "read", "blocks": core.raw(), "reads": reads}, &js, "hyperblobs/blobs.js")
	checkReads(t, "JS on Go's blocks", b, ids, reads, js.Reads)
}

func ExampleBlobs() {
	ctx := context.Background()
	core, err := hypercore.Open("", &hypercore.Options{FS: vfs.NewMem()})
	if err != nil {
		panic(err)
	}
	defer core.Close()
	blobs, err := hyperblobs.New(core, &hyperblobs.Options{BlockSize: 4})
	if err != nil {
		panic(err)
	}
	id, err := blobs.Put(ctx, []byte("hello, blobs"), nil)
	if err != nil {
		panic(err)
	}
	r, err := blobs.CreateReadStream(ctx, id, &hyperblobs.ReadOptions{Start: 7, Length: 5})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	part, _ := io.ReadAll(r)
	fmt.Printf("%+v %q\n", id, part)
	// Output: {BlockOffset:0 ByteOffset:0 BlockLength:3 ByteLength:12 BlockMap:false} "blobs"
}

func keyHex(k hypercore.Key) string { return hex.EncodeToString(k[:]) }
