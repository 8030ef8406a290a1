package replicator

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/protomux"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func blk(i int) []byte { return fmt.Appendf(nil, "block-%d-%s", i, bytes.Repeat([]byte{'x'}, i%37)) }

func blocks(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, blk(i))
	}
	return out
}

// closeAll registers the cores' replicators for closing at the end.
func closeAll(t *testing.T, cores ...*fakeCore) {
	t.Helper()
	t.Cleanup(func() {
		for _, c := range cores {
			c.rep.Close()
		}
	})
}

// connect joins two cores over an in-memory protomux pair; a is the
// stream initiator.
func connect(t *testing.T, a, b *fakeCore) (ma, mb *protomux.Mux) {
	t.Helper()
	ma, mb, open := gatedPair()
	var hh [64]byte
	rand.Read(hh[:])
	if err := a.rep.Attach(ma, hh, true); err != nil {
		t.Fatal(err)
	}
	if err := b.rep.Attach(mb, hh, false); err != nil {
		t.Fatal(err)
	}
	open()
	t.Cleanup(func() { ma.Close(); mb.Close() })
	return ma, mb
}

// gatedPair returns two muxes over a pipe that read nothing until open is
// called, so that both sides can attach before either sees the other's
// open (as a store's cork does).
func gatedPair() (ma, mb *protomux.Mux, open func()) {
	sa, sb := protomux.Pipe()
	gate := make(chan struct{})
	ma = protomux.New(&gatedStream{Stream: sa, gate: gate, closed: make(chan struct{})}, nil)
	mb = protomux.New(&gatedStream{Stream: sb, gate: gate, closed: make(chan struct{})}, nil)
	return ma, mb, func() { close(gate) }
}

type gatedStream struct {
	protomux.Stream
	gate   chan struct{}
	once   sync.Once
	closed chan struct{}
}

func (g *gatedStream) ReadMessage() ([]byte, error) {
	select {
	case <-g.gate:
	case <-g.closed:
	}
	return g.Stream.ReadMessage()
}

func (g *gatedStream) Close() error {
	g.once.Do(func() { close(g.closed) })
	return g.Stream.Close()
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func checkBlocks(t *testing.T, w, r *fakeCore, idx ...uint64) {
	t.Helper()
	for _, i := range idx {
		want, _ := w.block(i)
		got, ok := r.block(i)
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("block %d: got %q (stored %v), want %q", i, got, ok, want)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// downloadAll downloads blocks [0, n) of w into r and checks them.
func downloadAll(ctx context.Context, t *testing.T, w, r *fakeCore, n uint64) *Download {
	t.Helper()
	d, err := r.rep.Download(0, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		checkBlocks(t, w, r, i)
	}
	return d
}

func TestFullDownload(t *testing.T) {
	w := newWriter(1, nil)
	w.append(blocks(0, 300)...)
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, r, w)
	ctx := ctxT(t, 20*time.Second)

	// The eager upgrade may have happened already: then Update is false.
	ok, err := r.rep.Update(ctx)
	if err != nil || (!ok && r.State().Length != 300) {
		t.Fatalf("Update = %v, %v; want true", ok, err)
	}
	if st := r.State(); st.Length != 300 || !st.HasManifest {
		t.Fatalf("after update: %+v", st)
	}
	d := downloadAll(ctx, t, w, r, 300)
	if c, total := d.Progress(); c != 300 || total != 300 {
		t.Fatalf("progress %d/%d", c, total)
	}
	if st := r.State(); st.Contiguous != 300 {
		t.Fatalf("contiguous %d", st.Contiguous)
	}
	// Every block was answered, and every answer released its proof.
	waitFor(t, "the writer's proofs released", func() bool { return w.proofsOut.Load() == 0 })
	// Each proof and each apply knew its peer.
	if n, m := w.anonymous.Load(), r.anonymous.Load(); n != 0 || m != 0 {
		t.Fatalf("%d proofs and %d applies without their peer", n, m)
	}
}

func TestSparseGet(t *testing.T) {
	w := newWriter(2, nil)
	w.append(blocks(0, 1000)...)
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, w, r) // reader is the responder this time
	ctx := ctxT(t, 20*time.Second)

	for _, i := range []uint64{500, 3, 999, 0} {
		if err := r.rep.WaitBlock(ctx, i); err != nil {
			t.Fatalf("WaitBlock(%d): %v", i, err)
		}
		checkBlocks(t, w, r, i)
	}
	if n := r.storedCount(); n != 4 {
		t.Fatalf("stored %d blocks, want 4", n)
	}
}

func TestLiveTail(t *testing.T) {
	w := newWriter(3, nil)
	w.append(blk(0))
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, r, w)
	ctx := ctxT(t, 20*time.Second)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 1; i < 30; i++ {
			time.Sleep(2 * time.Millisecond)
			w.append(blk(i))
		}
	}()
	for i := range uint64(30) {
		if err := r.rep.WaitBlock(ctx, i); err != nil {
			t.Fatalf("WaitBlock(%d): %v", i, err)
		}
		checkBlocks(t, w, r, i)
	}
	<-done
	waitFor(t, "reader length 30", func() bool { return r.State().Length == 30 })
}

func TestUpdate(t *testing.T) {
	w := newWriter(4, nil)
	r := newReader(w, nil)
	closeAll(t, w, r)
	ctx := ctxT(t, 20*time.Second)

	// No peers: nothing to wait for.
	if ok, err := r.rep.Update(ctx); ok || err != nil {
		t.Fatalf("Update without peers = %v, %v", ok, err)
	}
	connect(t, r, w)
	// Both empty: false once the writer synced.
	if ok, err := r.rep.Update(ctx); ok || err != nil {
		t.Fatalf("Update of empty core = %v, %v", ok, err)
	}
	w.append(blocks(0, 5)...)
	waitFor(t, "eager upgrade to 5", func() bool { return r.State().Length == 5 })
	if n := r.storedCount(); n != 0 {
		t.Fatalf("an upgrade stored %d blocks", n)
	}
	if ok, err := r.rep.Update(ctx); ok || err != nil {
		t.Fatalf("Update when up to date = %v, %v", ok, err)
	}
	if ps := r.rep.Peers(); len(ps) != 1 || ps[0].RemoteLength != 5 {
		t.Fatalf("peers %+v", ps)
	}
}

func TestTwoSeeders(t *testing.T) {
	w := newWriter(5, nil)
	w.append(blocks(0, 400)...)
	mirror := newReader(w, nil)
	r := newReader(w, &Options{MaxInflight: 4})
	closeAll(t, w, mirror, r)
	ctx := ctxT(t, 30*time.Second)

	connect(t, mirror, w)
	d, _ := mirror.rep.Download(0, 400)
	if ok, _ := mirror.rep.Update(ctx); !ok && mirror.State().Length != 400 {
		t.Fatal("mirror did not update")
	}
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	var served [2]int
	w.proofHook = func(*wire.Data) { served[0]++ }
	mirror.proofHook = func(*wire.Data) { served[1]++ }
	connect(t, r, w)
	connect(t, r, mirror)
	waitFor(t, "two peers", func() bool { return len(r.rep.Peers()) == 2 })
	if _, err := r.rep.Update(ctx); err != nil {
		t.Fatal(err)
	}
	d, _ = r.rep.Download(0, 400)
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range uint64(400) {
		checkBlocks(t, w, r, i)
	}
	w.mu.Lock()
	a := served[0]
	w.mu.Unlock()
	mirror.mu.Lock()
	b := served[1]
	mirror.mu.Unlock()
	// The faster peer gets more, and with batched replies on a loaded
	// machine it may get nearly all; both must get some.
	if a == 0 || b == 0 {
		t.Fatalf("requests not spread over the seeders: %d and %d", a, b)
	}
}

func TestUpdateFromKeyOnlyAsResponder(t *testing.T) {
	// The reader opens second and is the stream responder; the writer
	// appends while connected.
	w := newWriter(6, nil)
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, w, r)
	w.append(blocks(0, 3)...)
	ctx := ctxT(t, 10*time.Second)
	if err := r.rep.WaitBlock(ctx, 2); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, w, r, 2)
}

func TestTruncateReorg(t *testing.T) {
	w := newWriter(7, nil)
	w.append(blocks(0, 20)...)
	r := newReader(w, nil)
	closeAll(t, w, r)
	connect(t, r, w)
	ctx := ctxT(t, 20*time.Second)
	d, _ := r.rep.Download(0, 20)
	if err := d.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	w.truncate(12)
	w.append([]byte("new-12"), []byte("new-13"))
	waitFor(t, "reader on the new fork", func() bool {
		st := r.State()
		return st.Fork == 1 && st.Length == 14
	})
	for _, i := range []uint64{12, 13} {
		if err := r.rep.WaitBlock(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	checkBlocks(t, w, r, 0, 11, 12, 13)
	if _, ok := r.block(15); ok {
		t.Fatal("block 15 of the old fork is still stored")
	}
}

func TestFreshReaderOfForkedCore(t *testing.T) {
	w := newWriter(8, nil)
	w.append(blocks(0, 10)...)
	w.truncate(5)
	w.append([]byte("x5"))
	r := newReader(w, nil)
	closeAll(t, w, r)
	ma, mb := connect(t, r, w)
	ctx := ctxT(t, 10*time.Second)
	if err := r.rep.WaitBlock(ctx, 5); err != nil {
		t.Fatal(err, "\n", r.rep.dump(), "\nwriter:\n", w.rep.dump(), ma.Err(), mb.Err())
	}
	checkBlocks(t, w, r, 5)
	if st := r.State(); st.Fork != 1 || st.Length != 6 {
		t.Fatalf("state %+v", st)
	}
}

func TestCloseUnblocksWaiters(t *testing.T) {
	w := newWriter(9, nil)
	r := newReader(w, nil)
	connect(t, r, w)
	errc := make(chan error, 2)
	go func() { errc <- r.rep.WaitBlock(context.Background(), 10) }()
	go func() {
		d, err := r.rep.Download(0, 5)
		if err != nil {
			errc <- err
			return
		}
		errc <- d.Wait(context.Background())
	}()
	time.Sleep(20 * time.Millisecond)
	r.rep.Close()
	w.rep.Close()
	for range 2 {
		if err := <-errc; err != ErrClosed {
			t.Fatalf("got %v, want ErrClosed", err)
		}
	}
	if err := r.rep.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBadCapabilityDestroysMux(t *testing.T) {
	w := newWriter(10, nil)
	r := newReader(w, nil)
	closeAll(t, w, r)
	ma, mb, open := gatedPair()
	t.Cleanup(func() { ma.Close(); mb.Close() })
	var hh, other [64]byte
	other[0] = 1
	r.rep.Attach(ma, hh, true)
	w.rep.Attach(mb, other, false) // a different handshake hash
	open()
	select {
	case <-ma.Done():
	case <-mb.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("mux survived a bad capability")
	}
}

func TestExtension(t *testing.T) {
	w := newWriter(11, nil)
	r := newReader(w, nil)
	closeAll(t, w, r)
	got := make(chan string, 4)
	r.rep.RegisterExtension("test", func(_ *PeerInfo, m []byte) { got <- string(m) })
	connect(t, r, w)
	waitFor(t, "peer", func() bool { return len(w.rep.Peers()) == 1 && len(r.rep.Peers()) == 1 })
	w.rep.SendExtension("test", []byte("one"))
	w.rep.SendExtension("test", []byte("two")) // sent with an empty name
	w.rep.SendExtension("other", []byte("ignored"))
	for _, want := range []string{"one", "two"} {
		select {
		case m := <-got:
			if m != want {
				t.Fatalf("got %q, want %q", m, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no extension message")
		}
	}
}

// rawPeer is a scripted remote: a hypercore/alpha channel whose messages
// the test sends and receives as raw payloads.
type rawPeer struct {
	mux  *protomux.Mux
	ch   *protomux.Channel
	msgs [wire.NumTypes]*protomux.Message[[]byte]
	recv chan rawMsg
}

type rawMsg struct {
	typ wire.Type
	b   []byte
}

// newRawPeer connects a scripted remote to c. The remote is the stream
// responder.
func newRawPeer(t testing.TB, c *fakeCore) *rawPeer {
	ma, mb, open := gatedPair()
	defer open()
	var hh [64]byte
	hh[5] = 9
	p := &rawPeer{mux: mb, recv: make(chan rawMsg, 4096)}
	ch, err := mb.CreateChannel(protomux.ChannelOptions{Protocol: Protocol, ID: c.dk[:]})
	if err != nil {
		t.Fatal(err)
	}
	p.ch = ch
	for i := range p.msgs {
		typ := wire.Type(i)
		p.msgs[i] = protomux.AddMessage(ch, cenc.Raw, func(b []byte) error {
			select {
			case p.recv <- rawMsg{typ, b}:
			default:
			}
			return nil
		})
	}
	hs := wire.Handshake{Seeks: true, Capability: c.Capability(false, hh)}
	if err := ch.Open(wire.Encode(&hs)); err != nil {
		t.Fatal(err)
	}
	if err := c.rep.Attach(ma, hh, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ma.Close(); mb.Close() })
	return p
}

func (p *rawPeer) send(m wire.Message) { p.msgs[m.Type()].Send(wire.Encode(m)) }

// expect returns the next message of type typ, skipping others.
func (p *rawPeer) expect(t *testing.T, typ wire.Type) wire.Message {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-p.recv:
			if m.typ != typ {
				continue
			}
			v, err := wire.Parse(m.typ, m.b)
			if err != nil {
				t.Fatal(err)
			}
			return v
		case <-timeout:
			t.Fatalf("no %v message", typ)
		}
	}
}

func TestResponderMessages(t *testing.T) {
	w := newWriter(12, nil)
	w.append(blocks(0, 40)...)
	closeAll(t, w)
	p := newRawPeer(t, w)

	s := p.expect(t, wire.TypeSync).(*wire.Sync)
	if s.Length != 40 || !s.CanUpgrade || !s.HasManifest || !s.Uploading || !s.Downloading {
		t.Fatalf("sync %+v", s)
	}
	rg := p.expect(t, wire.TypeRange).(*wire.Range)
	if rg.Start != 0 || rg.Length != 40 || rg.Drop {
		t.Fatalf("range %+v", rg)
	}
	p.send(&wire.Sync{Length: 0, Uploading: true, Downloading: true})

	// Upgrade + manifest.
	p.send(&wire.Request{ID: 1, Upgrade: &wire.RequestUpgrade{Start: 0, Length: 40}, Manifest: true})
	d := p.expect(t, wire.TypeData).(*wire.Data)
	if d.Request != 1 || d.Upgrade == nil || d.Manifest == nil || len(d.Upgrade.Signature) != 68 {
		t.Fatalf("data %+v", d)
	}
	// A block we have.
	p.send(&wire.Request{ID: 2, Block: &wire.RequestBlock{Index: 7, Nodes: 3}})
	d = p.expect(t, wire.TypeData).(*wire.Data)
	if d.Request != 2 || d.Block == nil || !bytes.Equal(d.Block.Value, blk(7)) {
		t.Fatalf("data %+v", d)
	}
	// A block we lack, and a request of another fork.
	p.send(&wire.Request{ID: 3, Block: &wire.RequestBlock{Index: 70}})
	nd := p.expect(t, wire.TypeNoData).(*wire.NoData)
	if nd.Request != 3 || nd.Reason != wire.ReasonNotAvailable {
		t.Fatalf("noData %+v", nd)
	}
	p.send(&wire.Request{ID: 4, Fork: 3, Upgrade: &wire.RequestUpgrade{Start: 0, Length: 1}, Manifest: true})
	d = p.expect(t, wire.TypeData).(*wire.Data)
	if d.Request != 4 || d.Manifest == nil || d.Upgrade != nil {
		t.Fatalf("manifest-only data %+v", d)
	}
	// An invalid upgrade.
	p.send(&wire.Request{ID: 5, Upgrade: &wire.RequestUpgrade{Start: 30, Length: 20}})
	nd = p.expect(t, wire.TypeNoData).(*wire.NoData)
	if nd.Request != 5 || nd.Reason != wire.ReasonInvalidRequest {
		t.Fatalf("noData %+v", nd)
	}
	// Want: the core is contiguous, so a range answers.
	p.send(&wire.Want{Start: 0, Length: 1 << 21})
	rg = p.expect(t, wire.TypeRange).(*wire.Range)
	if rg.Start != 0 || rg.Length != 40 {
		t.Fatalf("range %+v", rg)
	}
}

func TestResponderBitfieldForSparseCore(t *testing.T) {
	w := newWriter(13, nil)
	w.append(blocks(0, 600)...)
	sparse := newReader(w, nil)
	closeAll(t, w, sparse)
	connect(t, sparse, w)
	ctx := ctxT(t, 10*time.Second)
	for _, i := range []uint64{1, 300, 301, 599} {
		if err := sparse.rep.WaitBlock(ctx, i); err != nil {
			t.Fatal(err, "\n", sparse.rep.dump(), "\nwriter:\n", w.rep.dump())
		}
	}
	p := newRawPeer(t, sparse)
	s := p.expect(t, wire.TypeSync).(*wire.Sync)
	if s.Length != 600 {
		t.Fatalf("sync %+v", s)
	}
	p.send(&wire.Sync{Uploading: true, Downloading: true})
	p.send(&wire.Want{Start: 0, Length: 1 << 21})
	bf := p.expect(t, wire.TypeBitfield).(*wire.Bitfield)
	if bf.Start != 0 || len(bf.Bitfield) != (600+31)/32 {
		t.Fatalf("bitfield start %d, %d words", bf.Start, len(bf.Bitfield))
	}
	has := func(i int) bool { return bf.Bitfield[i/32]&(1<<(i%32)) != 0 }
	for i := range 600 {
		want := i == 1 || i == 300 || i == 301 || i == 599
		if has(i) != want {
			t.Fatalf("bit %d = %v", i, has(i))
		}
	}
}

func TestCancel(t *testing.T) {
	w := newWriter(14, nil)
	w.append(blocks(0, 10)...)
	closeAll(t, w)
	p := newRawPeer(t, w)
	p.expect(t, wire.TypeSync)
	// Cork so that the request and its cancel arrive in one batch, before
	// the serve goroutine can answer.
	p.mux.Cork()
	p.send(&wire.Request{ID: 1, Block: &wire.RequestBlock{Index: 1}})
	p.send(&wire.Cancel{Request: 1})
	p.send(&wire.Request{ID: 2, Block: &wire.RequestBlock{Index: 2}})
	p.mux.Uncork()
	d := p.expect(t, wire.TypeData).(*wire.Data)
	if d.Request != 2 {
		t.Fatalf("answered request %d, want only 2", d.Request)
	}
}
