package hypercore

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/protomux"
	"github.com/gopear/gopear/secretstream"
)

// These tests replicate real cores (Core, not the replicator's fake) over
// TCP on 127.0.0.1 with secretstream and protomux, against real hypercore
// 11 peers (interop/hypercore/peer.js, one core per node process), other Go
// cores, and a scripted hostile peer.

// jsPeer is a node process running interop/hypercore/peer.js.
type jsPeer struct {
	t *testing.T
	p *jsref.Proc
}

func startJSPeer(t *testing.T) *jsPeer {
	t.Helper()
	jsref.Require(t)
	p := jsref.Start(t, "hypercore/peer.js")
	t.Cleanup(p.CloseStdin)
	return &jsPeer{t: t, p: p}
}

// call sends a command and decodes its answer into out (if not nil). An
// answer with an error fails the test unless lenient.
func (j *jsPeer) call(cmd map[string]any, out any, lenient ...bool) map[string]any {
	j.t.Helper()
	j.p.Send(cmd)
	var raw map[string]any
	j.p.Recv(&raw)
	if e, ok := raw["error"]; ok && len(lenient) == 0 {
		j.t.Fatalf("js %v: %v (%v)", cmd["op"], e, raw)
	}
	if out != nil {
		b, _ := json.Marshal(raw)
		if err := json.Unmarshal(b, out); err != nil {
			j.t.Fatal(err)
		}
	}
	return raw
}

type jsCreated struct {
	Key, DiscoveryKey, Manifest string
	Length, Fork                uint64
}

type jsInfo struct {
	Length, ContiguousLength, Fork, ByteLength uint64
	TreeHash                                   string
	Peers, Uploads, Downloads                  int
}

func (j *jsPeer) info() jsInfo {
	j.t.Helper()
	var i jsInfo
	j.call(map[string]any{"op": "info"}, &i)
	return i
}

// get reads block index on the JS side.
func (j *jsPeer) get(index uint64) []byte {
	j.t.Helper()
	var r struct{ Value string }
	j.call(map[string]any{"op": "get", "index": index}, &r)
	return unhex(j.t, r.Value)
}

func (j *jsPeer) listen() int {
	j.t.Helper()
	var r struct{ Port int }
	j.call(map[string]any{"op": "listen"}, &r)
	return r.Port
}

func hexBlocks(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = hex.EncodeToString(b)
	}
	return out
}

// repBlock is block i of a replication test core tagged tag: a few hundred
// bytes, different for each block and tag.
func repBlock(tag string, i int) []byte {
	b := fmt.Appendf(nil, "%s-%d:", tag, i)
	for len(b) < 200+i%300 {
		b = append(b, byte('a'+(i+len(b))%26))
	}
	return b
}

func repBlocks(tag string, from, to int) [][]byte {
	var bs [][]byte
	for i := from; i < to; i++ {
		bs = append(bs, repBlock(tag, i))
	}
	return bs
}

// replicateConn runs secretstream over conn (as the initiator or not) and
// replicates c over it until the test ends.
func replicateConn(t *testing.T, c *Core, conn net.Conn, initiator bool) *protomux.Mux {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ss *secretstream.Conn
	var err error
	if initiator {
		ss, err = secretstream.Client(ctx, conn, nil)
	} else {
		ss, err = secretstream.Server(ctx, conn, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	mux, err := c.Replicate(ss)
	if err != nil {
		ss.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { mux.Close() })
	return mux
}

// dialCore connects c to a peer listening on port, as the initiator.
func dialCore(t *testing.T, c *Core, port int) *protomux.Mux {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	return replicateConn(t, c, conn, true)
}

// serveCore replicates c with every TCP client of a listener on 127.0.0.1
// until the test ends, and returns the port.
func serveCore(t *testing.T, c *Core) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		muxes []*protomux.Mux
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				ss, err := secretstream.Server(ctx, conn, nil)
				if err != nil {
					return
				}
				mux, err := c.Replicate(ss)
				if err != nil {
					ss.Close()
					return
				}
				mu.Lock()
				muxes = append(muxes, mux)
				mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, m := range muxes {
			m.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// waitLength updates c until it has length n (the peer's sync may not have
// arrived when Update first asks).
func waitLength(t *testing.T, ctx context.Context, c *Core, fork, n uint64) {
	t.Helper()
	for c.Length() != n || c.Fork() != fork {
		if ctx.Err() != nil {
			t.Fatalf("core at fork %d length %d, want fork %d length %d", c.Fork(), c.Length(), fork, n)
		}
		if _, err := c.Update(ctx, nil); err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
		if c.Length() != n || c.Fork() != fork {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// storedBlocks counts the blocks c holds below n.
func storedBlocks(t *testing.T, c *Core, n uint64) int {
	t.Helper()
	count := 0
	for i := range n {
		if ok, err := c.Has(context.Background(), i, i+1); err != nil {
			t.Fatal(err)
		} else if ok {
			count++
		}
	}
	return count
}

func checkBlocksEqual(t *testing.T, c *Core, want [][]byte, from int) {
	t.Helper()
	for i, b := range want {
		got, err := c.Get(context.Background(), uint64(from+i), &GetOptions{NoWait: true})
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("block %d = %q, %v; want %q", from+i, got, err, b)
		}
	}
}

func sameTree(t *testing.T, c *Core, js jsInfo) {
	t.Helper()
	h, err := c.TreeHash()
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(h[:]) != js.TreeHash || c.Length() != js.Length || c.Fork() != js.Fork || c.ByteLength() != js.ByteLength {
		t.Fatalf("Go core fork %d length %d byteLength %d tree %x; JS %+v", c.Fork(), c.Length(), c.ByteLength(), h, js)
	}
}

func readerOf(t *testing.T, key string, opts *Options) *Core {
	t.Helper()
	k, err := hex.DecodeString(key)
	if err != nil || len(k) != 32 {
		t.Fatalf("key %q", key)
	}
	if opts == nil {
		opts = &Options{}
	}
	opts.Key = Key(k)
	return memCore(t, opts)
}

// TestInteropReplicateJSWrites: a JS writer, Go readers.
func TestInteropReplicateJSWrites(t *testing.T) {
	jsref.Require(t)
	t.Run("plain", func(t *testing.T) {
		js := startJSPeer(t)
		all := repBlocks("js", 0, 300)
		var c jsCreated
		js.call(map[string]any{"op": "create", "seed": 31, "blocks": hexBlocks(all)}, &c)
		port := js.listen()
		ctx := testCtx(t, 20*time.Second)

		t.Run("full download", func(t *testing.T) {
			r := readerOf(t, c.Key, nil)
			if hex.EncodeToString(keyBytes(r.DiscoveryKey())) != c.DiscoveryKey {
				t.Fatal("discovery key differs")
			}
			dialCore(t, r, port)
			waitLength(t, ctx, r, 0, 300)
			if err := r.Download(ctx, Range{Start: 0, End: 300}); err != nil {
				t.Fatal(err)
			}
			checkBlocksEqual(t, r, all, 0)
			checkVerifies(t, r)
			sameTree(t, r, js.info())
		})
		t.Run("sparse get", func(t *testing.T) {
			r := readerOf(t, c.Key, nil)
			dialCore(t, r, port)
			for _, i := range []int{250, 3, 299} {
				got, err := r.Get(ctx, uint64(i), &GetOptions{Timeout: 10 * time.Second})
				if err != nil || !bytes.Equal(got, all[i]) {
					t.Fatalf("block %d = %q, %v", i, got, err)
				}
			}
			if n := storedBlocks(t, r, 300); n != 3 {
				t.Fatalf("stored %d blocks, want the 3 asked for", n)
			}
			if r.Length() != 300 {
				t.Fatalf("length %d", r.Length())
			}
		})
		t.Run("live tail", func(t *testing.T) {
			r := readerOf(t, c.Key, nil)
			dialCore(t, r, port)
			if _, err := r.Get(ctx, 299, nil); err != nil {
				t.Fatal(err)
			}
			var appends atomic.Int32
			stop := r.Watch(func(ev Event) {
				if ev.Kind == EventAppend {
					appends.Add(1)
				}
			})
			defer stop()
			more := repBlocks("js", 300, 320)
			errc := make(chan error, 1)
			go func() {
				for i := range more {
					got, err := r.Get(ctx, uint64(300+i), nil)
					if err == nil && !bytes.Equal(got, more[i]) {
						err = fmt.Errorf("got %q", got)
					}
					if err != nil {
						errc <- fmt.Errorf("block %d: %w", 300+i, err)
						return
					}
				}
				errc <- nil
			}()
			for i := 0; i < len(more); i += 2 {
				js.call(map[string]any{"op": "append", "blocks": hexBlocks(more[i : i+2])}, nil)
				time.Sleep(5 * time.Millisecond)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if r.Length() != 320 || appends.Load() == 0 {
				t.Fatalf("length %d after %d append events", r.Length(), appends.Load())
			}
			all = append(all, more...)
		})
		t.Run("fork", func(t *testing.T) {
			r := readerOf(t, c.Key, nil)
			dialCore(t, r, port)
			waitLength(t, ctx, r, 0, 320)
			if err := r.Download(ctx, Range{Start: 0, End: 320}); err != nil {
				t.Fatal(err)
			}
			js.call(map[string]any{"op": "truncate", "length": 310}, nil)
			forked := []byte("forked-310")
			js.call(map[string]any{"op": "append", "blocks": hexBlocks([][]byte{forked})}, nil)
			waitLength(t, ctx, r, 1, 311)
			got, err := r.Get(ctx, 310, &GetOptions{Timeout: 10 * time.Second})
			if err != nil || !bytes.Equal(got, forked) {
				t.Fatalf("block 310 = %q, %v", got, err)
			}
			checkBlocksEqual(t, r, all[:310], 0)
			checkVerifies(t, r)
			sameTree(t, r, js.info())
		})
	})

	t.Run("encrypted", func(t *testing.T) {
		js := startJSPeer(t)
		ek := bytes.Repeat([]byte{7}, 32)
		all := repBlocks("secret", 0, 60)
		var c jsCreated
		js.call(map[string]any{"op": "create", "seed": 32, "blocks": hexBlocks(all), "encryptionKey": hex.EncodeToString(ek)}, &c)
		port := js.listen()
		ctx := testCtx(t, 20*time.Second)
		r := readerOf(t, c.Key, &Options{EncryptionKey: ek})
		dialCore(t, r, port)
		waitLength(t, ctx, r, 0, 60)
		if err := r.Download(ctx, Range{Start: 0, End: 60}); err != nil {
			t.Fatal(err)
		}
		checkBlocksEqual(t, r, all, 0)
		raw, err := r.Get(ctx, 5, &GetOptions{Raw: true})
		if err != nil || bytes.Contains(raw, all[5][:8]) || len(raw) != len(all[5])+EncryptionPadding {
			t.Fatalf("raw block 5 = %x, %v: not encrypted", raw, err)
		}
		checkVerifies(t, r)
		sameTree(t, r, js.info())
	})

	t.Run("manifest", func(t *testing.T) {
		js := startJSPeer(t)
		all := repBlocks("pro", 0, 40)
		var c jsCreated
		js.call(map[string]any{"op": "create", "seed": 33, "blocks": hexBlocks(all), "prologue": 10, "userData": hex.EncodeToString([]byte("gopear"))}, &c)
		port := js.listen()
		ctx := testCtx(t, 20*time.Second)
		r := readerOf(t, c.Key, nil)
		dialCore(t, r, port)
		waitLength(t, ctx, r, 0, 40)
		if err := r.Download(ctx, Range{Start: 0, End: 40}); err != nil {
			t.Fatal(err)
		}
		checkBlocksEqual(t, r, all, 0)
		m := r.Manifest()
		if m == nil || m.Prologue == nil || m.Prologue.Length != 10 || string(m.UserData) != "gopear" || m.Version != 2 {
			t.Fatalf("manifest %+v", m)
		}
		enc, _ := m.MarshalBinary()
		if hex.EncodeToString(enc) != c.Manifest {
			t.Fatalf("manifest %x, JS %s", enc, c.Manifest)
		}
		checkVerifies(t, r)
		sameTree(t, r, js.info())
	})

	// Two signers, quorum 2: every signature is a multisig of both. (A Go
	// writer cannot make one yet: Append signs with one key pair only.)
	t.Run("multisig", func(t *testing.T) {
		js := startJSPeer(t)
		all := repBlocks("multisig", 0, 30)
		var c jsCreated
		js.call(map[string]any{"op": "create", "seed": 34, "signers": []int{34, 35}, "blocks": hexBlocks(all)}, &c)
		port := js.listen()
		ctx := testCtx(t, 20*time.Second)
		r := readerOf(t, c.Key, nil)
		dialCore(t, r, port)
		waitLength(t, ctx, r, 0, 30)
		if err := r.Download(ctx, Range{Start: 0, End: 30}); err != nil {
			t.Fatal(err)
		}
		m := r.Manifest()
		if m == nil || m.Quorum != 2 || len(m.Signers) != 2 || m.Signers[1].PublicKey != seedKeyPair(35).PublicKey {
			t.Fatalf("manifest %+v", m)
		}
		if n := len(r.Signature()); n < 2*64 {
			t.Fatalf("signature of %d bytes: not two signers' proofs", n)
		}
		// A live append, signed by both.
		more := repBlocks("multisig", 30, 32)
		js.call(map[string]any{"op": "append", "blocks": hexBlocks(more)}, nil)
		got, err := r.Get(ctx, 31, &GetOptions{Timeout: 10 * time.Second})
		if err != nil || !bytes.Equal(got, more[1]) {
			t.Fatalf("block 31 = %q, %v", got, err)
		}
		if err := r.Download(ctx, Range{Start: 0, End: 32}); err != nil {
			t.Fatal(err)
		}
		checkBlocksEqual(t, r, append(all, more...), 0)
		checkVerifies(t, r)
		sameTree(t, r, js.info())
	})
}

// goWriter makes a writable core with blocks (the first prologue of them,
// if prologue > 0, fixed by a prologue in a version 2 manifest with user
// data, appended as one batch).
func goWriter(t *testing.T, seed byte, blocks [][]byte, ek []byte, prologue int) *Core {
	t.Helper()
	kp := seedKeyPair(seed)
	opts := &Options{KeyPair: kp, EncryptionKey: ek}
	if prologue > 0 {
		scratch := memCore(t, &Options{KeyPair: kp})
		mustAppend(t, scratch, blocks[:prologue]...)
		h, err := scratch.TreeHash()
		if err != nil {
			t.Fatal(err)
		}
		m := DefaultManifest(kp.PublicKey)
		m.Version = 2
		m.UserData = []byte("gopear")
		m.Prologue = &Prologue{Hash: h, Length: uint64(prologue)}
		opts.Manifest = m
	}
	w := memCore(t, opts)
	if prologue > 0 {
		mustAppend(t, w, blocks[:prologue]...)
		blocks = blocks[prologue:]
	}
	if len(blocks) > 0 {
		mustAppend(t, w, blocks...)
	}
	return w
}

// TestInteropReplicateGoWrites: a Go writer, JS readers.
func TestInteropReplicateGoWrites(t *testing.T) {
	jsref.Require(t)
	t.Run("plain", func(t *testing.T) {
		all := repBlocks("go", 0, 200)
		w := goWriter(t, 41, all, nil, 0)
		port := serveCore(t, w)
		js := startJSPeer(t)
		js.call(map[string]any{"op": "open", "key": hex.EncodeToString(keyBytes(w.Key()))}, nil)
		js.call(map[string]any{"op": "connect", "port": port}, nil)

		t.Run("sparse get", func(t *testing.T) {
			for _, i := range []uint64{150, 0, 199} {
				if got := js.get(i); !bytes.Equal(got, all[i]) {
					t.Fatalf("JS block %d = %q", i, got)
				}
			}
			if i := js.info(); i.Length != 200 || i.ContiguousLength != 1 {
				t.Fatalf("JS after sparse gets: %+v", i)
			}
		})
		t.Run("full download", func(t *testing.T) {
			js.call(map[string]any{"op": "download", "start": 0, "end": 200}, nil)
			i := js.info()
			if i.ContiguousLength != 200 {
				t.Fatalf("JS after download: %+v", i)
			}
			sameTree(t, w, i)
		})
		t.Run("live tail", func(t *testing.T) {
			more := repBlocks("go", 200, 220)
			go func() {
				for _, b := range more {
					time.Sleep(5 * time.Millisecond)
					if _, err := w.Append(context.Background(), b); err != nil {
						return
					}
				}
			}()
			var r struct{ Values []string }
			js.call(map[string]any{"op": "tail", "start": 200, "end": 220}, &r)
			for i, v := range r.Values {
				if v != hex.EncodeToString(more[i]) {
					t.Fatalf("JS block %d = %s", 200+i, v)
				}
			}
			all = append(all, more...)
			sameTree(t, w, js.info())
		})
		t.Run("fork", func(t *testing.T) {
			ctx := context.Background()
			if err := w.Truncate(ctx, 210, nil); err != nil {
				t.Fatal(err)
			}
			forked := []byte("go-forked-210")
			mustAppend(t, w, forked)
			js.call(map[string]any{"op": "waitFor", "fork": 1, "length": 211}, nil)
			if got := js.get(210); !bytes.Equal(got, forked) {
				t.Fatalf("JS block 210 = %q", got)
			}
			if got := js.get(209); !bytes.Equal(got, all[209]) {
				t.Fatalf("JS block 209 = %q", got)
			}
			sameTree(t, w, js.info())
		})
		for _, p := range w.Peers() {
			if p.RemoteFork != w.Fork() {
				t.Errorf("peer %+v", p)
			}
		}
	})

	t.Run("encrypted", func(t *testing.T) {
		ek := bytes.Repeat([]byte{9}, 32)
		all := repBlocks("gosecret", 0, 60)
		w := goWriter(t, 42, all, ek, 0)
		port := serveCore(t, w)
		js := startJSPeer(t)
		js.call(map[string]any{"op": "open", "key": hex.EncodeToString(keyBytes(w.Key())), "encryptionKey": hex.EncodeToString(ek)}, nil)
		js.call(map[string]any{"op": "connect", "port": port}, nil)
		js.call(map[string]any{"op": "download", "start": 0, "end": 60}, nil)
		for _, i := range []uint64{0, 17, 59} {
			if got := js.get(i); !bytes.Equal(got, all[i]) {
				t.Fatalf("JS block %d = %q", i, got)
			}
		}
		sameTree(t, w, js.info())
	})

	t.Run("manifest", func(t *testing.T) {
		all := repBlocks("gopro", 0, 40)
		w := goWriter(t, 43, all, nil, 10)
		port := serveCore(t, w)
		js := startJSPeer(t)
		js.call(map[string]any{"op": "open", "key": hex.EncodeToString(keyBytes(w.Key()))}, nil)
		js.call(map[string]any{"op": "connect", "port": port}, nil)
		js.call(map[string]any{"op": "download", "start": 0, "end": 40}, nil)
		for _, i := range []uint64{0, 9, 10, 39} {
			if got := js.get(i); !bytes.Equal(got, all[i]) {
				t.Fatalf("JS block %d = %q", i, got)
			}
		}
		sameTree(t, w, js.info())
	})
}

// TestInteropReplicateTwoSources downloads one core from two peers at
// once: two JS peers, then a Go and a JS peer. Both hold the same core
// (same key pair, same blocks, so the same signatures).
func TestInteropReplicateTwoSources(t *testing.T) {
	jsref.Require(t)
	const n = 1500
	all := repBlocks("multi", 0, n)
	ctx := testCtx(t, 25*time.Second)

	download := func(t *testing.T, r *Core) {
		t.Helper()
		waitLength(t, ctx, r, 0, n)
		if err := r.Download(ctx, Range{Start: 0, End: n}); err != nil {
			t.Fatal(err)
		}
		checkBlocksEqual(t, r, all, 0)
		checkVerifies(t, r)
	}

	t.Run("two JS peers", func(t *testing.T) {
		a, b := startJSPeer(t), startJSPeer(t)
		var ca, cb jsCreated
		a.call(map[string]any{"op": "create", "seed": 51, "blocks": hexBlocks(all)}, &ca)
		b.call(map[string]any{"op": "create", "seed": 51, "blocks": hexBlocks(all)}, &cb)
		if ca.Key != cb.Key {
			t.Fatal("the JS cores differ")
		}
		r := readerOf(t, ca.Key, nil)
		dialCore(t, r, a.listen())
		dialCore(t, r, b.listen())
		waitFor(t, "two peers", func() bool { return len(r.Peers()) == 2 })
		download(t, r)
		ua, ub := a.info().Uploads, b.info().Uploads
		t.Logf("uploads: JS a %d, JS b %d", ua, ub)
		if ua == 0 || ub == 0 || ua+ub < n {
			t.Fatalf("uploads: JS a %d, JS b %d", ua, ub)
		}
	})

	t.Run("Go and JS peers", func(t *testing.T) {
		w := goWriter(t, 52, all, nil, 0)
		var goUploads atomic.Int32
		stop := w.Watch(func(ev Event) {
			if ev.Kind == EventUpload {
				goUploads.Add(1)
			}
		})
		defer stop()
		js := startJSPeer(t)
		var c jsCreated
		js.call(map[string]any{"op": "create", "seed": 52, "blocks": hexBlocks(all)}, &c)
		if c.Key != hex.EncodeToString(keyBytes(w.Key())) {
			t.Fatal("the Go and JS cores differ")
		}
		r := readerOf(t, c.Key, nil)
		dialCore(t, r, serveCore(t, w))
		dialCore(t, r, js.listen())
		waitFor(t, "two peers", func() bool { return len(r.Peers()) == 2 })
		download(t, r)
		ju := js.info().Uploads
		waitFor(t, "Go upload events", func() bool { return int(goUploads.Load())+ju >= n })
		t.Logf("uploads: Go %d, JS %d", goUploads.Load(), ju)
		if goUploads.Load() == 0 || ju == 0 {
			t.Fatalf("uploads: Go %d, JS %d", goUploads.Load(), ju)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hostilePeer is a scripted peer over TCP: it speaks hypercore/alpha for
// an honest core's key, answers requests with that core's proofs passed
// through hook (nil hook: never answers).
type hostilePeer struct {
	closed chan struct{} // closed when the peer's channel closes
}

func serveHostile(t *testing.T, honest *Core, hook func(*wire.Data) bool) (int, *hostilePeer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hp := &hostilePeer{closed: make(chan struct{})}
	var wg sync.WaitGroup
	var mux *protomux.Mux
	ready := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ready)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ss, err := secretstream.Server(ctx, conn, nil)
		if err != nil {
			return
		}
		mux = protomux.New(ss, nil)
		core := replCore{honest.st}
		dk := honest.DiscoveryKey()
		reqs := make(chan *wire.Request, 256)
		var msgs [10]*protomux.Message[[]byte]
		ch, err := mux.CreateChannel(protomux.ChannelOptions{
			Protocol: "hypercore/alpha", ID: dk[:],
			OnOpen: func(*protomux.Channel, []byte) error {
				st := core.State()
				msgs[wire.TypeSync].Send(wire.Encode(&wire.Sync{Fork: st.Fork, Length: st.Length, CanUpgrade: true, Uploading: true, Downloading: true, HasManifest: true}))
				msgs[wire.TypeRange].Send(wire.Encode(&wire.Range{Start: 0, Length: st.Length}))
				return nil
			},
			OnClose: func(*protomux.Channel, bool) { close(hp.closed) },
		})
		if err != nil {
			mux.Close()
			return
		}
		for i := range msgs {
			typ := wire.Type(i)
			msgs[i] = protomux.AddMessage(ch, cenc.Raw, func(b []byte) error {
				if typ != wire.TypeRequest {
					return nil
				}
				m, err := wire.Parse(typ, b)
				if err == nil {
					select {
					case reqs <- m.(*wire.Request):
					default:
					}
				}
				return nil
			})
		}
		hs := wire.Handshake{Seeks: true, Capability: Capability(false, honest.st.key, ss.HandshakeHash())}
		if err := ch.Open(wire.Encode(&hs)); err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case req := <-reqs:
					if hook == nil {
						continue // never answers
					}
					d, _, err := core.Proof(req, replicator.PeerInfo{})
					if err != nil {
						continue
					}
					if req.Manifest {
						d.Manifest = core.Manifest()
					}
					d.Request = req.ID
					if hook(d) {
						msgs[wire.TypeData].Send(wire.Encode(d))
					}
				case <-hp.closed:
					return
				case <-mux.Done():
					return
				}
			}
		}()
	}()
	t.Cleanup(func() {
		ln.Close()
		<-ready
		if mux != nil {
			mux.Close()
		}
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).Port, hp
}

// TestReplicateHostilePeer connects a real core over TCP to a scripted peer
// that sends bad data for an honest core (or never answers): nothing is
// stored, the peer is dropped, and an honest peer then serves the block.
func TestReplicateHostilePeer(t *testing.T) {
	all := repBlocks("hostile", 0, 50)
	w := goWriter(t, 61, all, nil, 0)
	other := goWriter(t, 62, all[:1], nil, 0)
	honestPort := serveCore(t, w)

	cases := []struct {
		name       string
		hook       func(*wire.Data) bool
		upgradeOK  bool // the hook leaves upgrade-only data valid
		notDropped bool
	}{
		{"bad block", func(d *wire.Data) bool {
			if d.Block != nil {
				d.Block.Value = append([]byte("evil"), d.Block.Value...)
			}
			return true
		}, true, false},
		{"bad proof node", func(d *wire.Data) bool {
			if d.Upgrade != nil && len(d.Upgrade.Nodes) > 0 {
				d.Upgrade.Nodes = slices.Clone(d.Upgrade.Nodes)
				d.Upgrade.Nodes[0].Hash[0] ^= 1
			}
			if d.Block != nil && len(d.Block.Nodes) > 0 {
				d.Block.Nodes = slices.Clone(d.Block.Nodes)
				d.Block.Nodes[0].Hash[3] ^= 1
			}
			return true
		}, false, false},
		{"bad signature", func(d *wire.Data) bool {
			if d.Upgrade != nil {
				d.Upgrade.Signature = bytes.Clone(d.Upgrade.Signature)
				d.Upgrade.Signature[10] ^= 1
			}
			return true
		}, false, false},
		{"wrong fork", func(d *wire.Data) bool { d.Fork += 3; return true }, false, false},
		{"oversize block", func(d *wire.Data) bool {
			if d.Block != nil {
				d.Block.Value = bytes.Repeat([]byte{0xee}, 4<<20)
			}
			return true
		}, true, false},
		{"foreign manifest", func(d *wire.Data) bool {
			if d.Manifest != nil {
				d.Manifest = replCore{other.st}.Manifest()
			}
			return true
		}, false, false},
		{"never answers", nil, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port, hp := serveHostile(t, w, tc.hook)
			r := memCore(t, &Options{Key: w.Key()})
			dialCore(t, r, port)
			_, err := r.Get(context.Background(), 7, &GetOptions{Timeout: 600 * time.Millisecond})
			if err == nil {
				t.Fatal("got a block from the hostile peer")
			}
			if n := storedBlocks(t, r, 50); n != 0 {
				t.Fatalf("stored %d blocks", n)
			}
			if l := r.Length(); l != 0 && !tc.upgradeOK {
				t.Fatalf("length %d from the hostile peer", l)
			}
			if tc.notDropped {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("get: %v", err)
				}
				return
			}
			waitFor(t, "the hostile peer dropped", func() bool { return len(r.Peers()) == 0 })
			select {
			case <-hp.closed:
			case <-time.After(5 * time.Second):
				t.Fatal("the hostile peer's channel is still open")
			}
			dialCore(t, r, honestPort)
			got, err := r.Get(context.Background(), 7, &GetOptions{Timeout: 10 * time.Second})
			if err != nil || !bytes.Equal(got, all[7]) {
				t.Fatalf("block 7 from the honest peer = %q, %v", got, err)
			}
			checkVerifies(t, r)
		})
	}
}
