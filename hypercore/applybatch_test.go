package hypercore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gopear/gopear/hypercore/internal/merkle"
	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/protomux"
)

// TestApplyBatch applies a run of block proofs made against one reader
// state in one call: they are stored together, a duplicate is stored
// once, a bad one is refused alone, and an upgrade in the middle is
// applied in order.
func TestApplyBatch(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(40)})
	for i := range 40 {
		mustAppend(t, w, []byte(fmt.Sprint("block ", i)))
	}
	r := memCore(t, &Options{Key: w.Key()})
	rc := replCore{r.st}
	if _, err := rc.Apply(proofFor(t, w, r, 0, true), replicator.PeerInfo{}); err != nil {
		t.Fatal(err)
	}
	// The peer each download event names: the one ApplyBatch was told.
	sa, _ := protomux.Pipe()
	peer := protomux.New(sa, nil)
	defer peer.Close()
	downloads := make(chan uint64, 64)
	stop := r.Watch(func(ev Event) {
		if ev.Kind == EventDownload {
			if ev.Peer.Mux != peer {
				t.Errorf("download event of block %d from %p, want %p", ev.Start, ev.Peer.Mux, peer)
			}
			downloads <- ev.Start
		}
	})
	defer stop()

	var ds []*wire.Data
	for i := uint64(1); i < 30; i++ {
		ds = append(ds, proofFor(t, w, r, i, false))
	}
	ds = append(ds, proofFor(t, w, r, 5, false)) // a duplicate
	bad := proofFor(t, w, r, 30, false)
	bad.Block.Value = []byte("not block 30")
	ds = append(ds, bad)
	mustAppend(t, w, []byte("block 40")) // an upgrade, then more blocks
	ds = append(ds, proofFor(t, w, r, 40, false), proofFor(t, w, r, 31, false))

	out := make([]replicator.Applied, len(ds))
	errs := make([]error, len(ds))
	from := make([]replicator.PeerInfo, len(ds))
	for i := range from {
		from[i].Mux = peer
	}
	rc.ApplyBatch(ds, from, out, errs)
	for i, d := range ds {
		idx := d.Block.Index
		switch {
		case d == bad:
			if !errors.Is(errs[i], merkle.ErrBadProof) {
				t.Errorf("bad block %d: %v", idx, errs[i])
			}
		case i == 29: // the duplicate of block 5
			if errs[i] != nil || out[i].Block {
				t.Errorf("duplicate of block 5: %+v, %v", out[i], errs[i])
			}
		default:
			if errs[i] != nil || !out[i].Block || out[i].Index != idx {
				t.Errorf("block %d: %+v, %v", idx, out[i], errs[i])
			}
		}
	}
	if r.Length() != 41 {
		t.Fatalf("length %d after the upgrade", r.Length())
	}
	for i := uint64(0); i < 41; i++ {
		want := i < 30 || i == 31 || i == 40
		got, err := r.Get(context.Background(), i, &GetOptions{NoWait: true})
		if want != (err == nil) || want && string(got) != fmt.Sprint("block ", i) {
			t.Errorf("block %d: %q, %v", i, got, err)
		}
	}
	seen := make(map[uint64]bool)
	for len(seen) < 31 {
		select {
		case i := <-downloads:
			if seen[i] {
				t.Fatalf("two download events for block %d", i)
			}
			seen[i] = true
		case <-time.After(5 * time.Second):
			t.Fatalf("%d download events", len(seen))
		}
	}
	checkVerifies(t, r)

	r.Close()
	rc.ApplyBatch(ds[:2], make([]replicator.PeerInfo, len(ds[:2])), out[:2], errs[:2])
	if !errors.Is(errs[0], ErrClosed) || !errors.Is(errs[1], ErrClosed) {
		t.Fatalf("after close: %v", errs[:2])
	}
}

// TestServeAfterTruncate downloads a core sequentially (so that the
// writer reads blocks and tree nodes ahead), truncates and rewrites its
// tail, and has the reader, still connected, download the new tail: what
// the writer read ahead on the old fork must not be served on the new one.
func TestServeAfterTruncate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := memCore(t, &Options{KeyPair: seedKeyPair(41)})
	var blocks [][]byte
	for i := range 600 {
		blocks = append(blocks, []byte(fmt.Sprint("old ", i)))
	}
	mustAppend(t, w, blocks...)
	r := memCore(t, &Options{Key: w.Key()})
	pipeCores(t, w, r)
	check := func(from, to int, prefix string) {
		t.Helper()
		for r.Fork() != w.Fork() || r.Length() != w.Length() {
			if _, err := r.Update(ctx, nil); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		if err := r.Download(ctx, Range{Start: 0, End: w.Length()}); err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			if got, want := string(mustGet(t, r, uint64(i))), fmt.Sprint(prefix, i); got != want {
				t.Fatalf("block %d: %q, want %q", i, got, want)
			}
		}
		checkVerifies(t, r)
	}
	check(0, 600, "old ")
	if err := w.Truncate(ctx, 590, nil); err != nil {
		t.Fatal(err)
	}
	blocks = blocks[:0]
	for i := 590; i < 600; i++ {
		blocks = append(blocks, []byte(fmt.Sprint("new ", i)))
	}
	mustAppend(t, w, blocks...)
	check(590, 600, "new ")
}

// FuzzApplyBatch feeds a reader runs of a writer's block proofs, some of
// them altered by the fuzzer's bytes: whatever comes, ApplyBatch answers
// each message without panicking, stores only blocks that verify, and
// leaves a core that verifies.
func FuzzApplyBatch(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte{3, 0xff, 9, 0x01}, uint8(2))
	f.Add([]byte{40, 0x80, 41, 0x7f, 42, 0x10}, uint8(7))
	w, err := Open(f.TempDir(), &Options{KeyPair: seedKeyPair(42), NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer w.Close()
	for i := range 24 {
		if _, err := w.Append(context.Background(), []byte(fmt.Sprint("block ", i))); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, edits []byte, dup uint8) {
		r := memCore(t, &Options{Key: w.Key()})
		rc := replCore{r.st}
		if _, err := rc.Apply(proofFor(t, w, r, 0, true), replicator.PeerInfo{}); err != nil {
			t.Fatal(err)
		}
		var ds []*wire.Data
		for i := uint64(1); i < 24; i++ {
			b := wire.Encode(proofFor(t, w, r, i, false))
			// Each pair of bytes of edits xors one byte of one message.
			for k := 0; k+1 < len(edits); k += 2 {
				if int(edits[k])%23 == int(i-1) {
					b[int(edits[k+1])%len(b)] ^= edits[k+1] | 1
				}
			}
			m, err := wire.Parse(wire.TypeData, b)
			if err != nil {
				continue // refused before it reaches the core
			}
			ds = append(ds, m.(*wire.Data))
		}
		if len(ds) > 0 {
			ds = append(ds, ds[int(dup)%len(ds)])
		}
		out := make([]replicator.Applied, len(ds))
		errs := make([]error, len(ds))
		rc.ApplyBatch(ds, make([]replicator.PeerInfo, len(ds)), out, errs)
		for i, d := range ds {
			if errs[i] != nil || !out[i].Block || d.Block == nil {
				continue
			}
			got, err := r.Get(context.Background(), d.Block.Index, &GetOptions{NoWait: true})
			if err != nil || string(got) != fmt.Sprint("block ", d.Block.Index) {
				t.Fatalf("block %d stored as %q, %v", d.Block.Index, got, err)
			}
		}
		checkVerifies(t, r)
	})
}
