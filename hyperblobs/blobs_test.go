package hyperblobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"github.com/gopear/gopear/hyperblobs"
	"github.com/gopear/gopear/hypercore"
)

// gen is the test content, the same function as gen in
// interop/lib/bytes.js: "mix" varies every byte, "repeat" fills
// block k of the blob with k%3 (+seed), so dedup finds repeats.
func gen(pattern string, seed, size, blockSize int) []byte {
	b := make([]byte, size)
	for j := range b {
		if pattern == "repeat" {
			b[j] = byte(j/blockSize%3 + seed)
		} else {
			b[j] = byte(seed*31 + j*7 + j>>9)
		}
	}
	return b
}

func newBlobs(t testing.TB, core hyperblobs.Core, bs int) *hyperblobs.Blobs {
	t.Helper()
	b, err := hyperblobs.New(core, &hyperblobs.Options{BlockSize: bs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPutSizes(t *testing.T) {
	ctx := context.Background()
	for _, bs := range []int{16, hyperblobs.DefaultBlockSize} {
		for _, size := range []int{0, 1, bs - 1, bs, bs + 1, 3*bs + 5} {
			t.Run(fmt.Sprintf("bs=%d,size=%d", bs, size), func(t *testing.T) {
				core := newMemCore([]byte("prefix"))
				b := newBlobs(t, core, bs)
				data := gen("mix", 1, size, bs)
				id, err := b.Put(ctx, data, nil)
				if err != nil {
					t.Fatal(err)
				}
				nblocks := uint64((size + bs - 1) / bs)
				want := hyperblobs.ID{BlockOffset: 1, ByteOffset: 6, BlockLength: nblocks, ByteLength: uint64(size)}
				if id != want {
					t.Errorf("id = %+v, want %+v", id, want)
				}
				raw := core.raw()
				if got := uint64(len(raw)) - 1; got != nblocks {
					t.Fatalf("appended %d blocks, want %d", got, nblocks)
				}
				for i, blk := range raw[1:] {
					if want := data[i*bs : min((i+1)*bs, size)]; !bytes.Equal(blk, want) {
						t.Errorf("block %d = %d bytes, want %d bytes of content", i, len(blk), len(want))
					}
				}
				got, err := b.Get(ctx, id, nil)
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("Get = %d bytes, %v; want %d bytes", len(got), err, size)
				}
			})
		}
	}
}

// TestWriterChunks checks that a Writer cuts any sequence of writes into
// the blocks Put makes.
func TestWriterChunks(t *testing.T) {
	ctx := context.Background()
	const bs = 64
	data := gen("mix", 2, 10*bs+17, bs)
	ref := newMemCore()
	refID, err := newBlobs(t, ref, bs).Put(ctx, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 7, bs - 1, bs, bs + 1, 3 * bs, len(data)} {
		t.Run(fmt.Sprintf("chunk=%d", chunk), func(t *testing.T) {
			core := newMemCore()
			w, err := newBlobs(t, core, bs).CreateWriteStream(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off < len(data); off += chunk {
				if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if w.ID() != refID {
				t.Errorf("id = %+v, want %+v", w.ID(), refID)
			}
			if got, want := core.raw(), ref.raw(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("blocks differ from Put's")
			}
			if core.appends != 1 { // 11 blocks: fewer than 16, one append at Close
				t.Errorf("%d appends, want 1", core.appends)
			}
		})
	}
}

// oddCore returns a core holding a blob in blocks of uneven sizes (as a
// JS write stream fed uneven chunks makes them), empty blocks included,
// after a one-block prefix; and the blob's id and content.
func oddCore() (*memCore, hyperblobs.ID, []byte) {
	data := gen("mix", 3, 1000, 64)
	sizes := []int{1, 100, 0, 63, 64, 65, 200, 7, 0, 300, 200}
	core := newMemCore([]byte("xyz"))
	off := 0
	for _, n := range sizes {
		core.Append(context.Background(), data[off:off+n])
		off += n
	}
	return core, hyperblobs.ID{BlockOffset: 1, ByteOffset: 3, BlockLength: uint64(len(sizes)), ByteLength: 1000}, data
}

func TestReadRanges(t *testing.T) {
	ctx := context.Background()
	core, id, data := oddCore()
	b := newBlobs(t, core, 64)
	for _, start := range []uint64{0, 1, 2, 100, 101, 164, 228, 993, 999, 1000, 1200} {
		for _, length := range []uint64{0, 1, 63, 64, 65, 500, 999, 1000, 5000} {
			r, err := b.CreateReadStream(ctx, id, &hyperblobs.ReadOptions{Start: start, Length: length})
			if err != nil {
				t.Fatal(err)
			}
			s := min(start, 1000)
			e := uint64(1000)
			if length > 0 {
				e = min(s+length, 1000)
			}
			want := data[s:e]
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("start=%d,length=%d: read %d bytes, %v; want %d bytes", start, length, len(got), err, len(want))
			}
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			if err := iotest.TestReader(r, want); err != nil {
				t.Errorf("start=%d,length=%d: %v", start, length, err)
			}
			// WriteTo, from the start and after a first read.
			for _, skip := range []int64{0, 1, 70} {
				if _, err := r.Seek(skip, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				n, err := r.WriteTo(&buf)
				w := want[min(int(skip), len(want)):]
				if err != nil || n != int64(len(w)) || !bytes.Equal(buf.Bytes(), w) {
					t.Errorf("start=%d,length=%d: WriteTo after %d: %d bytes, %v; want %d", start, length, skip, n, err, len(w))
				}
			}
			r.Close()
		}
	}
}

// shortWriter writes at most n bytes in all, then fails.
type shortWriter struct{ n int }

var errFull = errors.New("full")

func (w *shortWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errFull
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteToErrors(t *testing.T) {
	ctx := context.Background()
	core, id, data := oddCore()
	r, err := newBlobs(t, core, 64).CreateReadStream(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.WriteTo(&shortWriter{n: 150})
	if n != 150 || !errors.Is(err, errFull) {
		t.Errorf("WriteTo a full writer = %d, %v", n, err)
	}
	// The read goes on where the write stopped.
	rest, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(rest, data[150:]) {
		t.Errorf("read after a failed WriteTo: %d bytes, %v", len(rest), err)
	}
	r.Close()
	if _, err := r.WriteTo(io.Discard); !errors.Is(err, hyperblobs.ErrClosed) {
		t.Errorf("WriteTo after Close = %v, want ErrClosed", err)
	}
}

func TestReadAtConcurrent(t *testing.T) {
	ctx := context.Background()
	core, id, data := oddCore()
	r, err := newBlobs(t, core, 64).CreateReadStream(ctx, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			for off := g; off < 1000; off += 37 {
				p := make([]byte, 50)
				n, err := r.ReadAt(p, int64(off))
				want := data[off:min(off+50, 1000)]
				if !bytes.Equal(p[:n], want) || (n < 50) != (err == io.EOF) {
					errs <- fmt.Errorf("ReadAt(%d) = %d, %v", off, n, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestBlockMapDedup(t *testing.T) {
	ctx := context.Background()
	const bs = 32
	core := newMemCore()
	b := newBlobs(t, core, bs)
	data := gen("repeat", 0, 7*bs+5, bs) // blocks 0,1,2,0,1,2,0 then a short one
	id, err := b.Put(ctx, data, &hyperblobs.PutOptions{Dedup: true})
	if err != nil {
		t.Fatal(err)
	}
	// 3 distinct full blocks + the short one, then one map block.
	if want := (hyperblobs.ID{BlockOffset: 4, ByteOffset: 3*bs + 5, BlockLength: 1, ByteLength: 1 + 1 + 8*2, BlockMap: true}); id != want {
		t.Errorf("id = %+v, want %+v", id, want)
	}
	got, err := b.Get(ctx, id, nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if n, err := b.ByteLength(ctx, id); n != uint64(len(data)) || err != nil {
		t.Errorf("ByteLength = %d, %v", n, err)
	}
	r, err := b.CreateReadStream(ctx, id, &hyperblobs.ReadOptions{Start: 40, Length: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data[40:140]) {
		t.Errorf("range read = %d bytes, %v", len(got), err)
	}
	// A new version reuses the old blocks.
	data2 := append(bytes.Clone(data[:3*bs]), gen("mix", 9, 10, bs)...)
	id2, err := b.Put(ctx, data2, &hyperblobs.PutOptions{Dedup: true, Previous: &id})
	if err != nil {
		t.Fatal(err)
	}
	if id2.BlockOffset != id.BlockOffset+2 { // one new content block, then the map
		t.Errorf("second version at block %d, want %d", id2.BlockOffset, id.BlockOffset+2)
	}
	if got, err := b.Get(ctx, id2, nil); err != nil || !bytes.Equal(got, data2) {
		t.Errorf("Get second version = %d bytes, %v", len(got), err)
	}
}

func TestClear(t *testing.T) {
	ctx := context.Background()
	core := newMemCore()
	b := newBlobs(t, core, 16)
	keep, _ := b.Put(ctx, []byte("keep this blob!"), nil)
	id, _ := b.Put(ctx, gen("mix", 1, 40, 16), nil)
	if err := b.Clear(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, id, &hyperblobs.GetOptions{NoWait: true}); !errors.Is(err, hypercore.ErrNotAvailable) {
		t.Errorf("Get of a cleared blob: %v, want ErrNotAvailable", err)
	}
	if got, err := b.Get(ctx, keep, nil); string(got) != "keep this blob!" || err != nil {
		t.Errorf("Get of the other blob = %q, %v", got, err)
	}
}

func TestWriteLock(t *testing.T) {
	ctx := context.Background()
	core := newMemCore()
	b := newBlobs(t, core, 4)
	w, err := b.CreateWriteStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abcdef"))
	done := make(chan hyperblobs.ID)
	go func() {
		id, _ := b.Put(ctx, []byte("xy"), nil)
		done <- id
	}()
	w.Write([]byte("gh"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got.BlockOffset != 2 || got.ByteOffset != 8 {
		t.Errorf("the put that waited got %+v, want it after the stream's blocks", got)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, hyperblobs.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

func TestBatch(t *testing.T) {
	ctx := context.Background()
	core := newMemCore([]byte("0"))
	b := newBlobs(t, core, 4)
	bt := b.Batch()
	id1 := bt.Put([]byte("hello"))
	id2 := bt.Put([]byte("world!"))
	if got, err := bt.Get(ctx, id2, nil); string(got) != "world!" || err != nil {
		t.Errorf("batch Get = %q, %v", got, err)
	}
	if err := bt.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[hyperblobs.ID]string{id1: "hello", id2: "world!"} {
		if got, err := b.Get(ctx, id, nil); string(got) != want || err != nil {
			t.Errorf("Get(%+v) = %q, %v", id, got, err)
		}
	}
	if id2.BlockOffset != 3 || id2.ByteOffset != 6 {
		t.Errorf("id2 = %+v", id2)
	}
}

func FuzzDecodeBlockMap(f *testing.F) {
	f.Add([]byte{0, 2, 1, 5, 2, 6})
	f.Add([]byte{1, 0})
	f.Add([]byte{0, 0xfd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, blk []byte) {
		core := newMemCore(blk)
		b := newBlobs(t, core, 16)
		id := hyperblobs.ID{BlockLength: 1, ByteLength: uint64(len(blk)), BlockMap: true}
		refs, err := b.BlockMap(context.Background(), id, nil)
		if err != nil {
			if !errors.Is(err, hyperblobs.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		_ = refs
	})
}
