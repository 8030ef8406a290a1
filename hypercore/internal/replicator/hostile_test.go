package replicator

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gopear/gopear/hypercore/internal/wire"
)

// mirrorOf returns a full replica of w (blocks and tree), made by
// replicating, and closed at the end of the test.
func mirrorOf(t *testing.T, w *fakeCore, n uint64) *fakeCore {
	t.Helper()
	m := newReader(w, nil)
	closeAll(t, m)
	ma, mb := connect(t, m, w)
	d, err := m.rep.Download(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(ctxT(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	ma.Close()
	mb.Close()
	return m
}

func TestHostileSeeders(t *testing.T) {
	cases := []struct {
		name string
		hook func(*wire.Data)
		opts *Options
	}{
		{"bad block", func(d *wire.Data) {
			if d.Block != nil {
				d.Block.Value = append([]byte("evil"), d.Block.Value...)
			}
		}, nil},
		{"bad proof node", func(d *wire.Data) {
			if d.Upgrade != nil && len(d.Upgrade.Nodes) > 0 {
				d.Upgrade.Nodes = append(d.Upgrade.Nodes[:0:0], d.Upgrade.Nodes...)
				d.Upgrade.Nodes[0].Hash[0] ^= 1
			}
			if d.Block != nil && len(d.Block.Nodes) > 0 {
				d.Block.Nodes = append(d.Block.Nodes[:0:0], d.Block.Nodes...)
				d.Block.Nodes[0].Hash[3] ^= 1
			}
		}, nil},
		{"bad signature", func(d *wire.Data) {
			if d.Upgrade != nil {
				d.Upgrade.Signature = bytes.Clone(d.Upgrade.Signature)
				d.Upgrade.Signature[10] ^= 1
			}
		}, nil},
		{"wrong fork", func(d *wire.Data) { d.Fork++ }, nil},
		{"oversize", nil, &Options{MaxBlockSize: 8}},
		{"foreign manifest", nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWriter(20, nil)
			w.append(blocks(0, 50)...)
			closeAll(t, w)
			bad := mirrorOf(t, w, 50)
			bad.proofHook = tc.hook
			bad.evilManifest = tc.name == "foreign manifest"

			// Alone, the hostile peer gives nothing and is dropped.
			r := newReader(w, tc.opts)
			closeAll(t, r)
			connect(t, r, bad)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			err := r.rep.WaitBlock(ctx, 7)
			cancel()
			if err == nil {
				t.Fatal("got a block from the hostile peer")
			}
			if n := r.storedCount(); n != 0 {
				t.Fatalf("stored %d blocks", n)
			}
			if tc.name != "oversize" && tc.name != "wrong fork" && r.State().Length != 0 {
				// An upgrade without blocks may be valid for some hooks.
				if tc.name != "bad block" {
					t.Fatalf("state %+v", r.State())
				}
			}
			waitFor(t, "hostile peer dropped", func() bool { return len(r.rep.Peers()) == 0 })

			// With an honest peer too, the block comes from it.
			r2 := newReader(w, tc.opts)
			closeAll(t, r2)
			connect(t, r2, bad)
			connect(t, r2, w)
			if tc.opts != nil { // oversize: nobody can serve
				return
			}
			if err := r2.rep.WaitBlock(ctxT(t, 10*time.Second), 7); err != nil {
				t.Fatal(err, "\n", r2.rep.dump())
			}
			checkBlocks(t, w, r2, 7)
		})
	}
}

func TestSilentPeerTimesOut(t *testing.T) {
	w := newWriter(21, nil)
	w.append(blocks(0, 10)...)
	r := newReader(w, &Options{RequestTimeout: 100 * time.Millisecond, MaxTimeouts: 1})
	closeAll(t, w, r)

	silent := newRawPeer(t, r)
	silent.expect(t, wire.TypeSync)
	silent.send(&wire.Sync{Length: 10, CanUpgrade: true, Uploading: true, Downloading: true, HasManifest: true})
	silent.send(&wire.Range{Start: 0, Length: 10})
	silent.expect(t, wire.TypeRequest) // the upgrade, never answered

	connect(t, r, w)
	ctx := ctxT(t, 10*time.Second)
	for _, i := range []uint64{3, 9, 0} {
		if err := r.rep.WaitBlock(ctx, i); err != nil {
			t.Fatal(err, "\n", r.rep.dump())
		}
	}
	checkBlocks(t, w, r, 0, 3, 9)
	select {
	case <-silent.ch.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("silent peer not dropped")
	}
}

func TestNoDataGoesElsewhere(t *testing.T) {
	w := newWriter(22, nil)
	w.append(blocks(0, 10)...)
	r := newReader(w, nil)
	closeAll(t, w, r)
	ctx := ctxT(t, 10*time.Second)

	// A peer that claims everything and has nothing.
	liar := newRawPeer(t, r)
	liar.expect(t, wire.TypeSync)
	connect(t, r, w)
	if ok, err := r.rep.Update(ctx); err != nil || (!ok && r.State().Length != 10) {
		t.Fatal(ok, err)
	}
	liar.send(&wire.Sync{Length: 10, Uploading: true, Downloading: true, HasManifest: true, RemoteLength: 10})
	liar.send(&wire.Range{Start: 0, Length: 10})
	go func() {
		for {
			select {
			case m := <-liar.recv:
				if m.typ == wire.TypeRequest {
					req, _ := wire.Parse(m.typ, m.b)
					liar.send(&wire.NoData{Request: req.(*wire.Request).ID, Reason: wire.ReasonNotAvailable})
				}
			case <-liar.ch.Done():
				return
			}
		}
	}()
	d, _ := r.rep.Download(0, 10)
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err, "\n", r.rep.dump())
	}
	checkBlocks(t, w, r, 0, 5, 9)
}

func TestDownloadJumpsGaps(t *testing.T) {
	w := newWriter(23, nil)
	w.append(blocks(0, 10000)...)
	sparse := newReader(w, nil)
	closeAll(t, w, sparse)
	ma, mb := connect(t, sparse, w)
	ctx := ctxT(t, 20*time.Second)
	for i := uint64(9000); i < 9010; i++ {
		if err := sparse.rep.WaitBlock(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	ma.Close()
	mb.Close()

	r := newReader(w, nil)
	closeAll(t, r)
	connect(t, r, sparse)
	d, _ := r.rep.Download(0, 10000)
	defer d.Close()
	waitFor(t, "the blocks past the gap", func() bool { return r.storedCount() == 10 })
	checkBlocks(t, w, r, 9000, 9009)
}
