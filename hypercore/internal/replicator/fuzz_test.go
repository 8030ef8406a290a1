package replicator

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// FuzzMessages feeds arbitrary message sequences from a remote into a
// replicator, as a writer (role bit 0) or as an empty reader that is
// waiting for blocks (role bit 1). Input: a role byte, then messages of
// one type byte, one length byte and that many payload bytes. Properties:
// no panic, and Close returns (no hang).
func FuzzMessages(f *testing.F) {
	seed := func(role byte, msgs ...wire.Message) {
		b := []byte{role}
		for _, m := range msgs {
			p := wire.Encode(m)
			if len(p) > 255 {
				continue
			}
			b = append(b, byte(m.Type()), byte(len(p)))
			b = append(b, p...)
		}
		f.Add(b)
	}
	node := hcrypto.Node{Index: 1, Size: 10}
	seed(0, &wire.Sync{Length: 3, Uploading: true, Downloading: true},
		&wire.Request{ID: 1, Block: &wire.RequestBlock{Index: 2, Nodes: 2}},
		&wire.Request{ID: 2, Upgrade: &wire.RequestUpgrade{Start: 0, Length: 5}, Manifest: true},
		&wire.Cancel{Request: 1},
		&wire.Want{Start: 0, Length: 1 << 21},
		&wire.Want{Start: 3, Length: 100, Any: true},
		&wire.Request{ID: 3, Seek: &wire.RequestSeek{Bytes: 7}},
		&wire.Request{ID: 4, Hash: &wire.RequestHash{Index: 3, Nodes: 1}},
		&wire.Extension{Name: "x", Message: []byte("y")})
	seed(1, &wire.Sync{Length: 9, CanUpgrade: true, Uploading: true, Downloading: true, HasManifest: true},
		&wire.Range{Start: 0, Length: 9},
		&wire.Bitfield{Start: 0, Bitfield: []uint32{0xff}},
		&wire.Data{Request: 1, Upgrade: &wire.DataUpgrade{Start: 0, Length: 9, Nodes: []hcrypto.Node{node}, Signature: make([]byte, 68)}},
		&wire.Data{Request: 2, Block: &wire.DataBlock{Index: 1, Value: []byte("v"), Nodes: []hcrypto.Node{node}}},
		&wire.NoData{Request: 1, Reason: 1},
		&wire.Range{Drop: true, Start: 2, Length: 3},
		&wire.Sync{Fork: 2, Length: 4, CanUpgrade: true, Uploading: true},
		&wire.Data{Request: 3, Fork: 2, Upgrade: &wire.DataUpgrade{Start: 0, Length: 4}})
	seed(1, &wire.Range{Start: 1 << 40, Length: 1 << 40}, &wire.Bitfield{Start: 1 << 50, Bitfield: []uint32{1}},
		&wire.Unwant{Start: 0, Length: 1 << 21})

	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		role, data := data[0], data[1:]
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("fuzz iteration hangs:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		w := newWriter(30, &Options{RequestTimeout: 20 * time.Millisecond})
		w.append(blocks(0, 5)...)
		c := w
		if role&1 != 0 {
			c = newReader(w, &Options{RequestTimeout: 20 * time.Millisecond})
		}
		p := newRawPeer(t, c)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		waits := make(chan struct{})
		go func() {
			defer close(waits)
			if role&1 != 0 {
				c.rep.WaitBlock(ctx, 2)
				c.rep.Update(ctx)
			}
		}()
		for len(data) >= 2 {
			typ, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			payload := data[:n]
			data = data[n:]
			if int(typ) < len(p.msgs) {
				p.msgs[typ].Send(payload)
			}
		}
		p.mux.Flush(ctx)
		<-waits

		done := make(chan struct{})
		go func() {
			c.rep.Close()
			if c != w {
				w.rep.Close()
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Close hangs")
		}
	})
}
