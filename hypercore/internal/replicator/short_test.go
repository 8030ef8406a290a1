package replicator

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopear/gopear/hypercore/internal/wire"
)

// TestShortProofs downloads a core in a pipeline, so that most requests
// ask for fewer nodes than are missing (counting on nodes promised by the
// requests before them), with the answer to one such short request
// forged once: the reader asks for that block again with every node,
// without blaming the peer, and the download completes.
func TestShortProofs(t *testing.T) {
	w := newWriter(1, nil)
	w.append(blocks(0, 300)...)
	var forged, shortSeen atomic.Int32
	w.proofHook = func(d *wire.Data) {
		if d.Block == nil || d.Block.Index != 201 {
			return
		}
		if len(d.Block.Nodes) == 0 {
			shortSeen.Add(1)
		}
		if forged.CompareAndSwap(0, 1) {
			d.Block.Value = []byte("forged")
		}
	}
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, r, w)
	ctx := ctxT(t, 20*time.Second)
	if _, err := r.rep.Update(ctx); err != nil {
		t.Fatal(err)
	}
	downloadAll(ctx, t, w, r, 300)
	if forged.Load() != 1 || shortSeen.Load() == 0 {
		t.Fatalf("forged %d answers, %d short ones for block 201", forged.Load(), shortSeen.Load())
	}
	peers := r.rep.Peers()
	if len(peers) != 1 || peers[0].InvalidData != 0 {
		t.Fatalf("peers after the forged short answer: %+v", peers)
	}
}
