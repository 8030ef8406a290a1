package hypercore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gopear/gopear/protomux"
)

// pipeCores replicates a and b over an in-memory protomux pipe (a
// initiates) and returns a's mux and b's mux, closed when the test ends.
func pipeCores(t *testing.T, a, b *Core) (ma, mb *protomux.Mux) {
	t.Helper()
	sa, sb := protomux.Pipe()
	ma, err := a.Replicate(hhPipe{sa, true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ma.Close() })
	mb, err = b.Replicate(hhPipe{sb, false})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return ma, mb
}

// extMsg is an extension message as a test handler saw it.
type extMsg struct {
	msg  string
	from PeerInfo
}

// inbox is an onMessage handler that queues what it receives.
type inbox chan extMsg

func newInbox() inbox { return make(inbox, 16) }

func (in inbox) handle(msg []byte, from PeerInfo) { in <- extMsg{string(msg), from} }

// next returns the next message, failing t after a while.
func (in inbox) next(t *testing.T) extMsg {
	t.Helper()
	select {
	case m := <-in:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for an extension message")
		return extMsg{}
	}
}

// expect checks that the next message is want.
func (in inbox) expect(t *testing.T, want string) extMsg {
	t.Helper()
	m := in.next(t)
	if m.msg != want {
		t.Fatalf("extension message %q, want %q", m.msg, want)
	}
	return m
}

// empty checks that nothing more arrives for a short while.
func (in inbox) empty(t *testing.T) {
	t.Helper()
	select {
	case m := <-in:
		t.Fatalf("unexpected extension message %q", m.msg)
	case <-time.After(50 * time.Millisecond):
	}
}

func mustRegister(t *testing.T, c *Core, name string, fn func([]byte, PeerInfo)) *Extension {
	t.Helper()
	return mustRegisterOpts(t, c, name, &ExtensionOptions{OnMessage: fn})
}

func mustRegisterOpts(t *testing.T, c *Core, name string, opts *ExtensionOptions) *Extension {
	t.Helper()
	e, err := c.RegisterExtension(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExtension exchanges extension messages between a writer and two
// readers: in both directions, broadcast and to one peer, with
// extensions registered before and after the peers connect, and with
// names only one side knows.
func TestExtension(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(31)})
	mustAppend(t, w, []byte("a"))
	r1 := memCore(t, &Options{Key: w.Key()})
	r2 := memCore(t, &Options{Key: w.Key()})

	// w and r1 register before any peer connects, r2 after.
	win, in1, in2 := newInbox(), newInbox(), newInbox()
	wext := mustRegister(t, w, "ext", win.handle)
	ext1 := mustRegister(t, r1, "ext", in1.handle)
	only1 := mustRegister(t, r1, "only-r1", nil)

	w1, _ := pipeCores(t, w, r1)
	w2, _ := pipeCores(t, w, r2)
	waitFor(t, "peers", func() bool {
		return len(w.Peers()) == 2 && len(r1.Peers()) == 1 && len(r2.Peers()) == 1
	})
	ext2 := mustRegister(t, r2, "ext", in2.handle)

	// Reader to writer; the second message goes with an empty name.
	for _, m := range []string{"from r1", "again r1"} {
		if err := ext1.Broadcast([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if got := win.expect(t, m); got.from.Mux != w1 {
			t.Errorf("message from r1 names mux %p, want %p", got.from.Mux, w1)
		}
	}
	if err := ext2.Broadcast([]byte("from r2")); err != nil {
		t.Fatal(err)
	}
	fromR2 := win.expect(t, "from r2")
	if fromR2.from.Mux != w2 {
		t.Errorf("message from r2 names mux %p, want %p", fromR2.from.Mux, w2)
	}

	// Writer to one reader, answering the peer a message came from.
	if err := wext.Send([]byte("to r2"), fromR2.from); err != nil {
		t.Fatal(err)
	}
	in2.expect(t, "to r2")

	// Writer to everyone.
	if err := wext.Broadcast([]byte("to all")); err != nil {
		t.Fatal(err)
	}
	in1.expect(t, "to all")
	in2.expect(t, "to all")

	// A name the writer did not register is ignored; the names that
	// follow are still resolved right.
	if err := only1.Broadcast([]byte("nobody hears this")); err != nil {
		t.Fatal(err)
	}
	if err := ext1.Broadcast([]byte("after unknown")); err != nil {
		t.Fatal(err)
	}
	win.expect(t, "after unknown")
	unknown := mustRegister(t, w, "unknown-to-readers", nil)
	if err := unknown.Broadcast([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := wext.Broadcast([]byte("after x")); err != nil {
		t.Fatal(err)
	}
	in1.expect(t, "after x")
	in2.expect(t, "after x")
	win.empty(t)
	in1.empty(t)
	in2.empty(t)

	// After Close nothing is delivered, and sending fails.
	if err := ext2.Close(); err != nil {
		t.Fatal(err)
	}
	ext2.Close()
	if err := ext2.Broadcast([]byte("closed")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Broadcast after Close: %v", err)
	}
	if err := wext.Broadcast([]byte("after close")); err != nil {
		t.Fatal(err)
	}
	in1.expect(t, "after close")
	in2.empty(t)

	// A peer that is gone cannot be sent to.
	w2.Close()
	waitFor(t, "r2 gone", func() bool { return len(w.Peers()) == 1 })
	if err := wext.Send([]byte("gone"), fromR2.from); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("Send to a gone peer: %v", err)
	}
	if err := wext.Send([]byte("gone"), PeerInfo{}); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("Send to no peer: %v", err)
	}
	big := make([]byte, MaxExtensionMessageSize)
	if err := wext.Broadcast(big); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("Broadcast of %d bytes: %v", len(big), err)
	}
}

// TestExtensionEncoding checks the two encodings of a message: a
// compact-encoding buffer by default (JS's default, c.buffer), the bare
// payload with Raw; and that a payload that does not decode is ignored.
func TestExtensionEncoding(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(36)})
	r := memCore(t, &Options{Key: w.Key()})
	wraw := mustRegisterOpts(t, w, "ext", &ExtensionOptions{Raw: true})
	rin := newInbox()
	mustRegister(t, r, "ext", rin.handle) // buffer encoding
	rawIn := newInbox()
	mustRegisterOpts(t, r, "raw", &ExtensionOptions{OnMessage: rawIn.handle, Raw: true})
	wbuf := mustRegister(t, w, "raw", nil) // buffer encoding, raw receiver
	pipeCores(t, w, r)
	waitFor(t, "peers", func() bool { return len(w.Peers()) == 1 && len(r.Peers()) == 1 })

	for _, p := range []string{
		"\x05ab",      // length past the end: ignored
		"\x80",        // truncated varint: ignored
		"\x02ok-tail", // bytes after the buffer are ignored, as in JS
		"\x00",        // an empty message
	} {
		if err := wraw.Broadcast([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	rin.expect(t, "ok")
	rin.expect(t, "")
	rin.empty(t)

	if err := wbuf.Broadcast([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	rawIn.expect(t, "\x03abc")
}

// TestExtensionSessions checks that the sessions of a core share its
// extensions: the most recent open registration of a name receives, and
// closing it (or its session) hands the name back.
func TestExtensionSessions(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(32)})
	r := memCore(t, &Options{Key: w.Key()})
	s1, err := w.Session()
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := w.Session()
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()

	in1, in2, rin := newInbox(), newInbox(), newInbox()
	e1 := mustRegister(t, s1, "ext", in1.handle)
	e2 := mustRegister(t, s2, "ext", func([]byte, PeerInfo) { t.Error("replaced handler called") })
	if again := mustRegister(t, s2, "ext", in2.handle); again != e2 {
		t.Fatal("registering a name twice on a session made a second extension")
	}
	rext := mustRegister(t, r, "ext", rin.handle)
	pipeCores(t, w, r)
	waitFor(t, "peers", func() bool { return len(w.Peers()) == 1 && len(r.Peers()) == 1 })

	// The latest registration receives; any session's extension sends.
	rext.Broadcast([]byte("one"))
	in2.expect(t, "one")
	if err := e1.Broadcast([]byte("from s1")); err != nil {
		t.Fatal(err)
	}
	rin.expect(t, "from s1")

	// Closing s2 hands the name back to s1.
	s2.Close()
	if err := e2.Broadcast([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Broadcast on a closed session: %v", err)
	}
	if _, err := s2.RegisterExtension("ext", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("RegisterExtension on a closed session: %v", err)
	}
	rext.Broadcast([]byte("two"))
	in1.expect(t, "two")

	// With no registration left the name is ignored (a marker on another
	// extension, on the same channel, shows that it arrived); a new
	// registration works.
	e1.Close()
	markers := newInbox()
	mustRegister(t, w, "marker", markers.handle)
	rmark := mustRegister(t, r, "marker", nil)
	rext.Broadcast([]byte("three"))
	rmark.Broadcast([]byte("marker"))
	markers.expect(t, "marker")
	in0 := newInbox()
	mustRegister(t, w, "ext", in0.handle)
	rext.Broadcast([]byte("four"))
	in0.expect(t, "four")
	in1.empty(t)
	in2.empty(t)
}

// TestExtensionCloseInHandler closes an extension and answers from its own
// handler, which runs on the mux goroutine.
func TestExtensionCloseInHandler(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(33)})
	r := memCore(t, &Options{Key: w.Key()})
	var wext *Extension
	var once sync.Once
	wext = mustRegister(t, w, "ext", func(msg []byte, from PeerInfo) {
		once.Do(func() {
			if err := wext.Send(append(msg, " back"...), from); err != nil {
				t.Error(err)
			}
			wext.Close()
		})
	})
	rin := newInbox()
	rext := mustRegister(t, r, "ext", rin.handle)
	pipeCores(t, w, r)
	waitFor(t, "peers", func() bool { return len(w.Peers()) == 1 && len(r.Peers()) == 1 })
	rext.Broadcast([]byte("ping"))
	rin.expect(t, "ping back")
	rext.Broadcast([]byte("ping"))
	rin.empty(t)
}

// peerEvents collects a core's peer events.
type peerEvents chan Event

func watchPeers(t *testing.T, c *Core) peerEvents {
	ch := make(peerEvents, 16)
	stop := c.Watch(func(ev Event) {
		if ev.Kind == EventPeerAdd || ev.Kind == EventPeerRemove {
			ch <- ev
		}
	})
	t.Cleanup(stop)
	return ch
}

func (ch peerEvents) next(t *testing.T, kind EventKind) Event {
	t.Helper()
	select {
	case ev := <-ch:
		if ev.Kind != kind {
			t.Fatalf("event %v, want %v", ev.Kind, kind)
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %v", kind)
		return Event{}
	}
}

// TestPeerEvents checks the peer-add and peer-remove events of both ends
// of a connection, on connect, on disconnect and when a core closes.
func TestPeerEvents(t *testing.T) {
	if EventPeerAdd.String() != "peer-add" || EventPeerRemove.String() != "peer-remove" {
		t.Fatalf("event names %q %q", EventPeerAdd, EventPeerRemove)
	}
	w := memCore(t, &Options{KeyPair: seedKeyPair(34)})
	mustAppend(t, w, []byte("a"), []byte("b"))
	r := memCore(t, &Options{Key: w.Key()})
	snap, err := w.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	wev, rev, sev := watchPeers(t, w), watchPeers(t, r), watchPeers(t, snap)

	ma, mb := pipeCores(t, w, r)
	add := wev.next(t, EventPeerAdd)
	if add.Peer.Mux != ma || add.Length != 2 {
		t.Errorf("writer's peer-add %+v, want mux %p and length 2", add, ma)
	}
	if ev := sev.next(t, EventPeerAdd); ev.Peer.Mux != ma {
		t.Errorf("snapshot's peer-add %+v", ev)
	}
	if ev := rev.next(t, EventPeerAdd); ev.Peer.Mux != mb {
		t.Errorf("reader's peer-add %+v", ev)
	}
	if ps := w.Peers(); len(ps) != 1 || ps[0].Mux != ma {
		t.Errorf("writer's peers %+v", ps)
	}

	mb.Close()
	if ev := rev.next(t, EventPeerRemove); ev.Peer.Mux != mb {
		t.Errorf("reader's peer-remove %+v", ev)
	}
	if ev := wev.next(t, EventPeerRemove); ev.Peer.Mux != ma {
		t.Errorf("writer's peer-remove %+v", ev)
	}
	sev.next(t, EventPeerRemove)
	if n := len(w.Peers()) + len(r.Peers()); n != 0 {
		t.Errorf("%d peers after disconnect", n)
	}

	// A core that closes removes its peers first.
	r2 := memCore(t, &Options{Key: w.Key()})
	r2s, err := r2.Session()
	if err != nil {
		t.Fatal(err)
	}
	r2ev := watchPeers(t, r2s)
	pipeCores(t, w, r2)
	wev.next(t, EventPeerAdd)
	r2ev.next(t, EventPeerAdd)
	r2.Close()
	r2s.Close() // the last session: the core closes
	wev.next(t, EventPeerRemove)
	if ps := r2s.Peers(); ps != nil {
		t.Errorf("closed session's peers %+v", ps)
	}
}

// TestExtensionManyPeers exchanges messages with peers that come and go
// concurrently, for the race detector.
func TestExtensionManyPeers(t *testing.T) {
	const n = 4
	w := memCore(t, &Options{KeyPair: seedKeyPair(35)})
	var mu sync.Mutex
	got := map[string]bool{}
	wext := mustRegister(t, w, "ext", func(msg []byte, _ PeerInfo) {
		mu.Lock()
		got[string(msg)] = true
		mu.Unlock()
	})
	var wg sync.WaitGroup
	for i := range n {
		r := memCore(t, &Options{Key: w.Key()})
		ticks := make(chan struct{}, 100)
		rext := mustRegister(t, r, "ext", func([]byte, PeerInfo) { ticks <- struct{}{} })
		wg.Add(1)
		go func() {
			defer wg.Done()
			sa, sb := protomux.Pipe()
			ma, err := w.Replicate(hhPipe{sa, true})
			if err != nil {
				t.Error(err)
				return
			}
			defer ma.Close()
			mb, err := r.Replicate(hhPipe{sb, false})
			if err != nil {
				t.Error(err)
				return
			}
			defer mb.Close()
			deadline := time.Now().Add(10 * time.Second)
			for len(r.Peers()) == 0 || len(w.Peers()) == 0 {
				if time.Now().After(deadline) {
					t.Error("no peer")
					return
				}
				time.Sleep(time.Millisecond)
			}
			hello := fmt.Sprint("hello ", i)
			rext.Broadcast([]byte(hello))
			for range 20 {
				wext.Broadcast([]byte("tick"))
			}
			for {
				mu.Lock()
				ok := got[hello]
				mu.Unlock()
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("writer did not hear %q", hello)
					return
				}
				time.Sleep(time.Millisecond)
			}
			select {
			case <-ticks:
			case <-time.After(10 * time.Second):
				t.Error("reader heard no tick")
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("writer heard %v", got)
	}
}

// TestTransferEventsPeer checks that download and upload events name the
// peer the block came from or went to (JS 'download' and 'upload' from),
// through a plain block and an upgrade with its block.
func TestTransferEventsPeer(t *testing.T) {
	w := memCore(t, &Options{KeyPair: seedKeyPair(35)})
	mustAppend(t, w, []byte("a"), []byte("b"), []byte("c"))
	r := memCore(t, &Options{Key: w.Key()})
	transfers := func(c *Core) chan Event {
		ch := make(chan Event, 16)
		t.Cleanup(c.Watch(func(ev Event) {
			if ev.Kind == EventDownload || ev.Kind == EventUpload {
				ch <- ev
			}
		}))
		return ch
	}
	down, up := transfers(r), transfers(w)
	ma, mb := pipeCores(t, w, r)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, i := range []uint64{2, 0} {
		if _, err := r.Get(ctx, i, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		for _, ev := range []struct {
			ch   chan Event
			kind EventKind
			mux  *protomux.Mux
		}{{down, EventDownload, mb}, {up, EventUpload, ma}} {
			select {
			case e := <-ev.ch:
				if e.Kind != ev.kind || e.Peer.Mux != ev.mux || e.Bytes != 1 {
					t.Errorf("%v event %+v, want its peer's mux %p", ev.kind, e, ev.mux)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("timed out waiting for %v", ev.kind)
			}
		}
	}
}
