package corestore

import (
	"errors"
	"testing"
	"time"

	"github.com/gopear/gopear/hypercore"
)

// TestPurgeNamed purges a named core, through the store and through a
// session, and gets the name again: a new, empty core with the same
// derived key pair.
func TestPurgeNamed(t *testing.T) {
	ctx := ctxT(t, 10*time.Second)
	s := memStore(t, nil)
	ns := s.Namespace("app")
	for _, viaSession := range []bool{false, true} {
		c := mustGet(t, ns, Name("log"), nil)
		appendN(t, c, "log", 5)
		if err := c.SetUserData(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		key, dk := c.Key(), c.DiscoveryKey()
		other := mustGet(t, s, Key(key), nil) // another session, through another namespace
		if viaSession {
			if err := c.Purge(ctx); err != nil {
				t.Fatal(err)
			}
		} else if err := ns.Purge(ctx, Name("log")); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Get(ctx, 0, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("session of a purged core: %v", err)
		}
		if ok, err := s.Has(dk); ok || err != nil {
			t.Fatalf("Has after purge = %v, %v", ok, err)
		}
		if _, err := ns.Get(ctx, Name("log"), &GetOptions{NoCreate: true}); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get NoCreate after purge: %v", err)
		}
		if _, err := s.Get(ctx, DiscoveryKey(dk), nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get by discovery key after purge: %v", err)
		}
		again := mustGet(t, ns, Name("log"), nil)
		if again.Key() != key || !again.Writable() || again.Length() != 0 {
			t.Fatalf("named core after purge: key %s (was %s), writable %v, length %d", again.Key(), key, again.Writable(), again.Length())
		}
		if _, err := again.GetUserData(ctx, "k"); !errors.Is(err, hypercore.ErrNotFound) {
			t.Errorf("user data survived the purge: %v", err)
		}
		if err := again.Purge(ctx); err != nil { // for the next round
			t.Fatal(err)
		}
		other.Close()
		c.Close()
	}
	if err := s.Purge(ctx, Key(hypercore.Key{1})); !errors.Is(err, ErrNotFound) {
		t.Errorf("purge of a core the store does not hold: %v", err)
	}
	if err := s.Purge(ctx, Ref{}); err == nil {
		t.Error("purge of the zero Ref")
	}
}

// TestPurgeReplicating purges, at the reading store, a core that a stream
// carries: the writer's channel closes, the stream runs on, and the core
// got again is replicated on the same stream from scratch.
func TestPurgeReplicating(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	a, b := memStore(t, nil), memStore(t, nil)
	w := mustGet(t, a, Name("w"), nil)
	appendN(t, w, "w", 10)
	w2 := mustGet(t, a, Name("w2"), nil)
	appendN(t, w2, "w2", 3)
	r := mustGet(t, b, Key(w.Key()), nil)
	r2 := mustGet(t, b, Key(w2.Key()), nil)
	_, rb := pipeStores(t, a, b)
	checkBlocks(t, ctx, r, "w", 10)
	waitFor(t, "writer sees the reader", func() bool { return len(w.Peers()) == 1 })

	if err := r.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "writer's channel closes", func() bool { return len(w.Peers()) == 0 })
	select {
	case <-rb.Done():
		t.Fatalf("the stream ended: %v", rb.Err())
	default:
	}
	if ok, _ := b.Has(r.DiscoveryKey()); ok {
		t.Fatal("purged core still stored")
	}
	checkBlocks(t, ctx, r2, "w2", 3)

	// Got again, the core is attached to the running stream at once.
	r = mustGet(t, b, Key(w.Key()), nil)
	if r.Length() != 0 {
		t.Fatalf("core after purge has length %d", r.Length())
	}
	if _, err := r.Update(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, ctx, r, "w", 10)
	waitFor(t, "writer sees the reader again", func() bool { return len(w.Peers()) == 1 })
}

// TestPurgeServed purges a core that the store holds only for a stream (a
// peer asked for it): the stream's session closes, and the peer's asking
// again finds nothing, so the store does not serve or recreate it.
func TestPurgeServed(t *testing.T) {
	ctx := ctxT(t, 30*time.Second)
	a, b := memStore(t, nil), memStore(t, nil)
	w := mustGet(t, a, Name("w"), nil)
	appendN(t, w, "w", 4)
	// b holds a copy, not open.
	r := mustGet(t, b, Key(w.Key()), nil)
	_, rb := pipeStores(t, a, b)
	checkBlocks(t, ctx, r, "w", 4)
	r.Close()
	rb.Close()

	// c asks b for the core: b opens it from storage for the stream.
	c := memStore(t, nil)
	cr := mustGet(t, c, Key(w.Key()), nil)
	_, rc := pipeStores(t, b, c)
	checkBlocks(t, ctx, cr, "w", 4)
	waitFor(t, "b serves c", func() bool { return len(cr.Peers()) == 1 })

	if err := b.Purge(ctx, Key(w.Key())); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "c's channel closes", func() bool { return len(cr.Peers()) == 0 })
	select {
	case <-rc.Done():
		t.Fatalf("the stream ended: %v", rc.Err())
	default:
	}
	// c asks again on a new stream; b rejects the channel.
	_, rc2 := pipeStores(t, b, c)
	waitFor(t, "b rejects the channel of the purged core", func() bool {
		return !rc2.Mux().Opened(protocol, keyBytes(cr.DiscoveryKey()))
	})
	if ok, _ := b.Has(w.DiscoveryKey()); ok {
		t.Fatal("b stored the purged core again for a peer")
	}
	if len(cr.Peers()) != 0 {
		t.Fatal("b serves a purged core")
	}
}
