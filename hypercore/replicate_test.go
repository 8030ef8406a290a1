package hypercore

import (
	"bytes"
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

// request asks w for block index of a reader at length have, with an
// upgrade to w's length when have is behind, the way the replicator asks.
func proofFor(t *testing.T, w, r *Core, index uint64, manifest bool) *wire.Data {
	t.Helper()
	rl := r.Length()
	nodes, err := r.st.tree.MissingNodes(2*index, rl)
	if err != nil {
		t.Fatal(err)
	}
	req := &wire.Request{ID: 1, Fork: w.Fork(), Block: &wire.RequestBlock{Index: index, Nodes: nodes}, Manifest: manifest}
	if wl := w.Length(); wl > rl {
		req.Upgrade = &wire.RequestUpgrade{Start: rl, Length: wl - rl}
	}
	d, _, err := (replCore{w.st}).Proof(req, replicator.PeerInfo{})
	if err != nil {
		t.Fatalf("proof of block %d: %v", index, err)
	}
	if manifest {
		d.Manifest = replCore{w.st}.Manifest()
	}
	return d
}

// TestApply feeds a reader the proofs a writer makes, without a
// replicator: blocks, upgrades, the manifest, and refused data.
func TestApply(t *testing.T) {
	ctx := context.Background()
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			var ek []byte
			if encrypted {
				ek = []byte("shared secret")
			}
			w := memCore(t, &Options{KeyPair: seedKeyPair(20), EncryptionKey: ek})
			for i := range 13 {
				mustAppend(t, w, []byte(fmt.Sprint("block ", i)))
			}
			r := memCore(t, &Options{Key: w.Key(), EncryptionKey: ek})
			events := make(chan Event, 16)
			stop := r.Watch(func(ev Event) { events <- ev })
			defer stop()

			d := proofFor(t, w, r, 3, true)
			a, err := (replCore{r.st}).Apply(d, replicator.PeerInfo{})
			if err != nil {
				t.Fatal(err)
			}
			if !a.Block || a.Index != 3 || !a.Upgraded || !a.Manifest || a.State.Length != 13 || !a.State.HasManifest {
				t.Fatalf("applied %+v", a)
			}
			if r.Length() != 13 || r.ByteLength() != w.ByteLength() || r.Manifest() == nil || r.Writable() {
				t.Fatalf("reader: length %d byteLength %d", r.Length(), r.ByteLength())
			}
			if string(mustGet(t, r, 3)) != "block 3" {
				t.Fatal("block 3")
			}
			wh, _ := w.TreeHash()
			rh, _ := r.TreeHash()
			if wh != rh || !bytes.Equal(w.Signature(), r.Signature()) {
				t.Fatal("reader's tree differs")
			}
			kinds := make(map[EventKind]bool)
			for len(kinds) < 3 {
				select {
				case ev := <-events:
					kinds[ev.Kind] = true
					if ev.Kind == EventDownload && (ev.Start != 3 || ev.Bytes != 7) {
						t.Errorf("download event %+v", ev)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("events: %v", kinds)
				}
			}

			// The same data again adds nothing.
			if a, err := (replCore{r.st}).Apply(d, replicator.PeerInfo{}); err != nil || a.Block || a.Upgraded {
				t.Fatalf("applied twice: %+v %v", a, err)
			}

			// Every other block, with its proof against the stored tree.
			for i := range uint64(13) {
				if i == 3 {
					continue
				}
				if _, err := (replCore{r.st}).Apply(proofFor(t, w, r, i, false), replicator.PeerInfo{}); err != nil {
					t.Fatalf("block %d: %v", i, err)
				}
			}
			for i := range uint64(13) {
				if got := string(mustGet(t, r, i)); got != fmt.Sprint("block ", i) {
					t.Errorf("block %d = %q", i, got)
				}
			}
			checkVerifies(t, r)

			// The writer grows; an upgrade with a block past the old length.
			mustAppend(t, w, []byte("block 13"), []byte("block 14"))
			if _, err := (replCore{r.st}).Apply(proofFor(t, w, r, 14, false), replicator.PeerInfo{}); err != nil {
				t.Fatal(err)
			}
			if r.Length() != 15 || string(mustGet(t, r, 14)) != "block 14" {
				t.Fatal("upgrade to 15")
			}

			// Refused data stores nothing.
			mustAppend(t, w, []byte("block 15"))
			bad := proofFor(t, w, r, 15, false)
			bad.Block.Value = append([]byte(nil), bad.Block.Value...)
			bad.Block.Value[len(bad.Block.Value)-1] ^= 1
			if _, err := (replCore{r.st}).Apply(bad, replicator.PeerInfo{}); !errors.Is(err, merkle.ErrBadSignature) && !errors.Is(err, merkle.ErrBadProof) {
				t.Errorf("tampered block: %v", err)
			}
			bad = proofFor(t, w, r, 15, false)
			bad.Upgrade.Signature = append([]byte(nil), bad.Upgrade.Signature...)
			bad.Upgrade.Signature[5] ^= 1
			if _, err := (replCore{r.st}).Apply(bad, replicator.PeerInfo{}); !errors.Is(err, ErrBadSignature) {
				t.Errorf("tampered signature: %v", err)
			}
			bad = proofFor(t, w, r, 15, false)
			bad.Fork = 1
			if _, err := (replCore{r.st}).Apply(bad, replicator.PeerInfo{}); !errors.Is(err, merkle.ErrForkMismatch) {
				t.Errorf("other fork: %v", err)
			}
			if r.Length() != 15 {
				t.Fatal("refused data changed the reader")
			}
			if _, _, err := (replCore{w.st}).Proof(&wire.Request{ID: 2, Fork: 5, Block: &wire.RequestBlock{Index: 1}}, replicator.PeerInfo{}); !errors.Is(err, replicator.ErrNotAvailable) {
				t.Errorf("proof for another fork: %v", err)
			}
			w.Clear(ctx, 1, 2)
			if _, _, err := (replCore{w.st}).Proof(&wire.Request{ID: 2, Block: &wire.RequestBlock{Index: 1}}, replicator.PeerInfo{}); !errors.Is(err, replicator.ErrNotAvailable) {
				t.Errorf("proof for a cleared block: %v", err)
			}
		})
	}
}

// TestApplyBadManifest refuses a manifest that is not the core's.
func TestApplyBadManifest(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(21)})
	other := memCore(t, &Options{KeyPair: seedKeyPair(22)})
	mustAppend(t, w, []byte("x"))
	r := memCore(t, &Options{Key: w.Key()})
	d := proofFor(t, w, r, 0, true)
	d.Manifest = replCore{other.st}.Manifest()
	if _, err := (replCore{r.st}).Apply(d, replicator.PeerInfo{}); !errors.Is(err, replicator.ErrInvalidData) {
		t.Fatalf("foreign manifest: %v", err)
	}
	d.Manifest = nil
	if _, err := (replCore{r.st}).Apply(d, replicator.PeerInfo{}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("upgrade without a manifest: %v", err)
	}
	if r.Length() != 0 || r.Manifest() != nil {
		t.Fatal("refused data changed the reader")
	}
}

// hhPipe is a protomux pipe end with a handshake hash, as a secretstream
// connection has.
type hhPipe struct {
	protomux.Stream
	initiator bool
}

func (p hhPipe) HandshakeHash() [64]byte { return [64]byte{1, 2, 3} }
func (p hhPipe) IsInitiator() bool       { return p.initiator }

// TestReplicate replicates a writer to a reader over an in-memory
// protomux pipe with the replicator.
func TestReplicate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	w := memCore(t, &Options{KeyPair: seedKeyPair(23)})
	for i := range 40 {
		mustAppend(t, w, []byte(fmt.Sprint("b", i)))
	}
	r := memCore(t, &Options{Key: w.Key()})
	pipeCores(t, w, r)

	got, err := r.Get(ctx, 17, nil)
	if err != nil || string(got) != "b17" {
		t.Fatalf("replicated get: %q %v", got, err)
	}
	if r.Length() != 40 {
		t.Fatalf("reader length %d", r.Length())
	}
	mustAppend(t, w, []byte("b40"))
	// The writer's sync may not have arrived when Update asks: an update
	// that finds nothing newer is false, as in JS. Ask until it has.
	for r.Length() != 41 {
		if _, err := r.Update(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if r.Length() != 41 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := r.Download(ctx, Range{Start: 0, End: 41}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := r.Has(ctx, 0, 41); !ok {
		t.Fatal("download incomplete")
	}
	checkVerifies(t, r)
	if len(w.Peers()) != 1 {
		t.Errorf("writer peers: %d", len(w.Peers()))
	}
}

// TestReorg moves a reader to the writer's new fork: a fork proof, hash
// proofs for the wants, then one commit that drops the blocks past the
// common ancestor.
func TestReorg(t *testing.T) {
	ctx := context.Background()
	w := memCore(t, &Options{KeyPair: seedKeyPair(24)})
	for i := range 10 {
		mustAppend(t, w, []byte(fmt.Sprint("old", i)))
	}
	r := memCore(t, &Options{Key: w.Key()})
	for i := range uint64(10) {
		if _, err := (replCore{r.st}).Apply(proofFor(t, w, r, i, i == 0), replicator.PeerInfo{}); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := r.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if err := w.Truncate(ctx, 5, nil); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, w, blocksOf("new5", "new6", "new7")...)

	fp, _, err := (replCore{w.st}).Proof(&wire.Request{Fork: w.Fork(), Upgrade: &wire.RequestUpgrade{Start: 0, Length: w.Length()}}, replicator.PeerInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (replCore{r.st}).Apply(fp, replicator.PeerInfo{}); !errors.Is(err, merkle.ErrForkMismatch) {
		t.Fatalf("apply of a higher fork: %v", err)
	}
	ro, err := (replCore{r.st}).Reorg(fp)
	if err != nil {
		t.Fatal(err)
	}
	if ro.Fork() != 1 {
		t.Fatalf("reorg fork %d", ro.Fork())
	}
	for range 64 {
		start, _, nodes, ok := ro.Want()
		if !ok {
			break
		}
		hp, _, err := (replCore{w.st}).Proof(&wire.Request{Fork: w.Fork(), Hash: &wire.RequestHash{Index: 2 * start, Nodes: nodes}}, replicator.PeerInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ro.Update(hp); err != nil {
			t.Fatal(err)
		}
	}
	a, err := ro.Commit()
	if err != nil {
		t.Fatal(err)
	}
	if !a.Upgraded || a.State.Fork != 1 || a.State.Length != 8 {
		t.Fatalf("reorg applied %+v", a)
	}
	wh, _ := w.TreeHash()
	rh, _ := r.TreeHash()
	if wh != rh || r.Fork() != 1 || r.Length() != 8 {
		t.Fatal("reader is not on the writer's fork")
	}
	for i := range uint64(10) {
		ok, _ := r.Has(ctx, i, i+1)
		if ok != (i < 5) {
			t.Errorf("block %d stored: %v", i, ok)
		}
	}
	if _, err := (replCore{r.st}).Apply(proofFor(t, w, r, 6, false), replicator.PeerInfo{}); err != nil {
		t.Fatal(err)
	}
	if string(mustGet(t, r, 6)) != "new6" {
		t.Fatal("block of the new fork")
	}
	checkVerifies(t, r)
	// The snapshot kept the old fork's blocks.
	if string(mustGet(t, snap, 7)) != "old7" {
		t.Fatal("snapshot lost a block in the reorg")
	}
}
