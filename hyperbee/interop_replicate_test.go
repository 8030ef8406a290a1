package hyperbee

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/gopear/gopear/corestore"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/hyperbee/peer.js: a hyperbee
// 2.27.3 in a corestore 7, replicating over TCP on 127.0.0.1. Unlike
// interop_test.go, no blocks are copied by hand: the reader gets the
// writer's core over a real replication stream (secretstream, protomux,
// hypercore/alpha), block by block as its reads need them, and must
// answer every query (gets, every range form, reverse, limits, checkouts,
// history, diff, subs) as the writer answers it locally.

// beePeer is a peer.js process.
type beePeer struct {
	t *testing.T
	p *jsref.Proc
}

func (j *beePeer) call(cmd map[string]any, out any) {
	j.t.Helper()
	j.p.Send(cmd)
	var raw json.RawMessage
	j.p.Recv(&raw)
	var e struct{ Error string }
	if json.Unmarshal(raw, &e) == nil && e.Error != "" {
		j.t.Fatalf("js %v: %s", cmd["op"], e.Error)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		j.t.Fatalf("js %v answered %.300s: %v", cmd["op"], raw, err)
	}
}

// replStore opens a corestore in a temporary folder.
func replStore(t *testing.T) *corestore.Store {
	t.Helper()
	s, err := corestore.Open(context.Background(), t.TempDir(), &corestore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitLength waits until core has at least n blocks: until a peer is
// attached, then by asking peers for updates.
func waitLength(t *testing.T, ctx context.Context, core *hypercore.Core, n uint64) {
	t.Helper()
	for core.Length() < n {
		if len(core.Peers()) == 0 {
			select {
			case <-ctx.Done():
				t.Fatalf("core has %d blocks, want %d: no peer: %v", core.Length(), n, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if _, err := core.Update(ctx, nil); err != nil {
			t.Fatalf("update: %v (length %d, want %d)", err, core.Length(), n)
		}
	}
}

// storedBlocks counts the blocks of core stored locally.
func storedBlocks(t *testing.T, ctx context.Context, core *hypercore.Core) int {
	t.Helper()
	n := 0
	for i := range core.Length() {
		ok, err := core.Has(ctx, i, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

func countKeys(t *testing.T, ctx context.Context, bee *Bee) int {
	t.Helper()
	n := 0
	for _, err := range bee.Range(ctx, Range{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// serve replicates s with every TCP client on loopback, as the stream
// responder, until the test ends; it returns the port.
func serve(t *testing.T, s *corestore.Store) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := s.Replicate(conn, false); err != nil {
				conn.Close()
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// growOps is g.ops(n) followed by a growing phase: batches of puts (a
// few deletions among them) and puts through subs.
func growOps(g *opGen, n int) []jsOp {
	ops := g.ops(n)
	for i := range 240 {
		if i%3 == 2 {
			sub := g.subs[1+g.r.IntN(len(g.subs)-1)]
			for range 10 {
				o := g.op(true, sub)
				o.Sub = sub
				ops = append(ops, o)
			}
			continue
		}
		b := jsOp{T: "batch"}
		for range 25 {
			b.Ops = append(b.Ops, g.op(true, nil))
		}
		ops = append(ops, b)
	}
	return ops
}

func TestInteropReplicate(t *testing.T) {
	jsref.Require(t)
	p := &beePeer{t: t, p: jsref.Start(t, "hyperbee/peer.js")}
	defer p.p.Send(map[string]any{"op": "close"})

	// The bee of interop_test.go (puts, overwrites, deletions that shrink
	// the tree, subs, batches, compare-and-swap), grown again to thousands
	// of keys.
	const seedOps, poolSize = 1500, 4000

	t.Run("GoReadsJS", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		g := newOpGen(31, poolSize)
		ops := growOps(g, seedOps)
		// The lengths between operations, for the queries' versions: Go
		// writes the same blocks as JS (interop_test.go), so a local run
		// gives them.
		bounds := applyOps(t, ctx, New(newMemCore(), nil), ops)
		queries := g.queries(bounds)

		var js struct {
			Key     string            `json:"key"`
			Length  uint64            `json:"length"`
			Port    int               `json:"port"`
			Results []json.RawMessage `json:"results"`
		}
		p.call(map[string]any{"op": "seed", "ops": ops, "queries": queries}, &js)
		if want := uint64(bounds[len(bounds)-1]); js.Length != want {
			t.Fatalf("JS core has %d blocks, Go's run %d", js.Length, want)
		}

		store := replStore(t)
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", js.Port))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := store.Replicate(conn, true)
		if err != nil {
			t.Fatal(err)
		}
		defer rep.Close()
		core, err := store.Get(ctx, corestore.Key(hypercore.Key(unhex(t, js.Key))), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer core.Close()
		waitLength(t, ctx, core, js.Length)

		bee := New(core, nil)
		defer bee.Close()
		if _, err := bee.Get(ctx, g.pool[1]); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		stored := storedBlocks(t, ctx, core)
		if uint64(stored) >= js.Length/4 {
			t.Errorf("one get stored %d of %d blocks: the read is not sparse", stored, js.Length)
		}
		start := time.Now()
		compareAnswers(t, ctx, bee, queries, js.Results)
		t.Logf("JS bee: %d operations, %d keys, %d blocks; Go stored %d blocks for one get, answered %d queries over replication in %v",
			len(ops), countKeys(t, ctx, bee), js.Length, stored, len(queries), time.Since(start).Round(time.Millisecond))
	})

	t.Run("JSReadsGo", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		g := newOpGen(32, poolSize)
		ops := growOps(g, seedOps)
		store := replStore(t)
		core, err := store.Get(ctx, corestore.Name("bee"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer core.Close()
		bee := New(core, nil)
		defer bee.Close()
		bounds := applyOps(t, ctx, bee, ops)
		queries := g.queries(bounds)
		want := make([]any, len(queries))
		for i, q := range queries {
			a, err := goQuery(t, ctx, bee, q)
			if err != nil {
				t.Fatalf("query %d %v: %v", i, q, err)
			}
			want[i] = normal(t, a)
		}
		port := serve(t, store)

		var js struct {
			Length  uint64            `json:"length"`
			Stored  uint64            `json:"stored"`
			Results []json.RawMessage `json:"results"`
		}
		key := core.Key()
		start := time.Now()
		p.call(map[string]any{"op": "read", "key": hex.EncodeToString(key[:]), "port": port,
			"length": core.Length(), "queries": queries, "probe": hex.EncodeToString(g.pool[1])}, &js)
		t.Logf("Go bee: %d operations, %d keys, %d blocks; JS stored %d blocks for one get, answered %d queries over replication in %v",
			len(ops), countKeys(t, ctx, bee), js.Length, js.Stored, len(queries), time.Since(start).Round(time.Millisecond))
		if js.Length != core.Length() {
			t.Errorf("JS core has %d blocks, Go's %d", js.Length, core.Length())
		}
		if js.Stored >= core.Length()/4 {
			t.Errorf("one JS get stored %d of %d blocks: the read is not sparse", js.Stored, core.Length())
		}
		if len(js.Results) != len(queries) {
			t.Fatalf("JS answered %d queries, want %d", len(js.Results), len(queries))
		}
		failures := 0
		for i, q := range queries {
			var got any
			if err := json.Unmarshal(js.Results[i], &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want[i]) {
				t.Errorf("query %d %v:\n JS %s\n Go %s", i, short(q), short(got), short(want[i]))
				if failures++; failures >= 10 {
					t.Fatal("too many failures")
				}
			}
		}
	})
}
