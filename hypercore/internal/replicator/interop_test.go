package replicator

import (
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gopear/gopear/internal/jsref"
	"github.com/gopear/gopear/protomux"
	"github.com/gopear/gopear/secretstream"
)

// jsCore is a JS hypercore peer (interop/hypercore/replicate.js).
type jsCore struct {
	t    *testing.T
	proc *jsref.Proc
}

func startJS(t *testing.T) *jsCore {
	t.Helper()
	jsref.Require(t)
	return &jsCore{t: t, proc: jsref.Start(t, "hypercore/replicate.js")}
}

// call sends a command and decodes its answer into out (a map if nil).
func (j *jsCore) call(cmd map[string]any, out any) map[string]any {
	j.t.Helper()
	j.proc.Send(cmd)
	var m map[string]any
	if out != nil {
		j.proc.Recv(out)
		return nil
	}
	j.proc.Recv(&m)
	if e, ok := m["error"]; ok && cmd["op"] != "get" {
		j.t.Fatalf("js %v: %v", cmd["op"], e)
	}
	return m
}

func jsBlock(i int) string { return "js-block-" + strconv.Itoa(i) }

// goSide runs a Go replicator for c over a TCP connection with
// secretstream and protomux.
func goSide(t *testing.T, c *fakeCore, conn net.Conn, initiator bool) *protomux.Mux {
	t.Helper()
	ctx := ctxT(t, 10*time.Second)
	var (
		ss  *secretstream.Conn
		err error
	)
	if initiator {
		ss, err = secretstream.Client(ctx, conn, nil)
	} else {
		ss, err = secretstream.Server(ctx, conn, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	mux := protomux.New(ss, nil)
	t.Cleanup(func() { mux.Close() })
	if err := c.rep.Attach(mux, ss.HandshakeHash(), ss.IsInitiator()); err != nil {
		t.Fatal(err)
	}
	return mux
}

// dialJS connects to a JS core that listens.
func dialJS(t *testing.T, js *jsCore, c *fakeCore) *protomux.Mux {
	t.Helper()
	var l struct{ Port int }
	js.call(map[string]any{"op": "listen"}, &l)
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", l.Port))
	if err != nil {
		t.Fatal(err)
	}
	return goSide(t, c, conn, true)
}

// readerOfJS returns an empty Go core for the JS core's key.
func readerOfJS(t *testing.T, key string, opts *Options) *fakeCore {
	t.Helper()
	kb, err := hex.DecodeString(key)
	if err != nil || len(kb) != 32 {
		t.Fatalf("key %q", key)
	}
	w := &fakeCore{key: [32]byte(kb)}
	c := newReader(w, opts)
	closeAll(t, c)
	return c
}

func TestInteropJSWritesGoReads(t *testing.T) {
	js := startJS(t)
	var blocksJS []string
	for i := range 300 {
		blocksJS = append(blocksJS, jsBlock(i))
	}
	var created struct {
		Key, DiscoveryKey string
		Length            int
	}
	js.call(map[string]any{"op": "create", "seed": 1, "blocks": blocksJS}, &created)

	ctx := ctxT(t, 30*time.Second)
	t.Run("full download", func(t *testing.T) {
		r := readerOfJS(t, created.Key, nil)
		if hex.EncodeToString(r.dk[:]) != created.DiscoveryKey {
			t.Fatal("discovery key differs")
		}
		dialJS(t, js, r)
		if ok, err := r.rep.Update(ctx); err != nil || (!ok && r.State().Length != 300) {
			t.Fatal(ok, err, r.rep.dump())
		}
		d, _ := r.rep.Download(0, 300)
		if err := d.Wait(ctx); err != nil {
			t.Fatal(err, r.rep.dump())
		}
		for i := range 300 {
			if v, _ := r.block(uint64(i)); string(v) != jsBlock(i) {
				t.Fatalf("block %d = %q", i, v)
			}
		}
	})
	t.Run("sparse get", func(t *testing.T) {
		r := readerOfJS(t, created.Key, nil)
		dialJS(t, js, r)
		for _, i := range []uint64{250, 3, 299} {
			if err := r.rep.WaitBlock(ctx, i); err != nil {
				t.Fatal(err, r.rep.dump())
			}
			if v, _ := r.block(i); string(v) != jsBlock(int(i)) {
				t.Fatalf("block %d = %q", i, v)
			}
		}
		if n := r.storedCount(); n != 3 {
			t.Fatalf("stored %d blocks", n)
		}
	})
	t.Run("live tail", func(t *testing.T) {
		r := readerOfJS(t, created.Key, nil)
		dialJS(t, js, r)
		if err := r.rep.WaitBlock(ctx, 299); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			for i := uint64(300); i < 320; i++ {
				if err := r.rep.WaitBlock(ctx, i); err != nil {
					errc <- fmt.Errorf("block %d: %w", i, err)
					return
				}
			}
			errc <- nil
		}()
		for i := 300; i < 320; i += 2 {
			js.call(map[string]any{"op": "append", "blocks": []string{jsBlock(i), jsBlock(i + 1)}}, nil)
		}
		if err := <-errc; err != nil {
			t.Fatal(err, r.rep.dump())
		}
		for i := 300; i < 320; i++ {
			if v, _ := r.block(uint64(i)); string(v) != jsBlock(i) {
				t.Fatalf("block %d = %q", i, v)
			}
		}
	})
	t.Run("fork", func(t *testing.T) {
		r := readerOfJS(t, created.Key, nil)
		dialJS(t, js, r)
		d, _ := r.rep.Download(0, 320)
		if err := d.Wait(ctx); err != nil {
			t.Fatal(err, r.rep.dump())
		}
		js.call(map[string]any{"op": "truncate", "length": 310}, nil)
		js.call(map[string]any{"op": "append", "blocks": []string{"forked-310"}}, nil)
		waitFor(t, "reader on fork 1", func() bool {
			st := r.State()
			return st.Fork == 1 && st.Length == 311
		})
		if err := r.rep.WaitBlock(ctx, 310); err != nil {
			t.Fatal(err, r.rep.dump())
		}
		if v, _ := r.block(310); string(v) != "forked-310" {
			t.Fatalf("block 310 = %q", v)
		}
		if v, _ := r.block(309); string(v) != jsBlock(309) {
			t.Fatalf("block 309 = %q", v)
		}
	})
}

func TestInteropGoWritesJSReads(t *testing.T) {
	js := startJS(t)
	w := newWriter(42, nil)
	closeAll(t, w)
	w.append(blocks(0, 200)...)

	js.call(map[string]any{"op": "open", "key": hex.EncodeToString(w.key[:])}, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	js.call(map[string]any{"op": "connect", "port": ln.Addr().(*net.TCPAddr).Port}, nil)
	conn := <-accepted
	if conn == nil {
		t.Fatal("no connection")
	}
	goSide(t, w, conn, false)

	get := func(i int) string {
		t.Helper()
		m := js.call(map[string]any{"op": "get", "index": i}, nil)
		if e, ok := m["error"]; ok {
			t.Fatalf("js get %d: %v\n%s", i, e, w.rep.dump())
		}
		v, _ := m["value"].(string)
		return v
	}
	// Sparse gets first, then an update, then everything.
	for _, i := range []int{150, 0, 199} {
		if v := get(i); v != string(blk(i)) {
			t.Fatalf("js block %d = %q, want %q", i, v, blk(i))
		}
	}
	m := js.call(map[string]any{"op": "update"}, nil)
	if m["length"].(float64) != 200 {
		t.Fatalf("js update: %v", m)
	}
	js.call(map[string]any{"op": "download", "start": 0, "end": 200}, nil)
	info := js.call(map[string]any{"op": "info"}, nil)
	if info["contiguousLength"].(float64) != 200 {
		t.Fatalf("js info after download: %v", info)
	}
	// Live: JS waits for a block Go appends afterwards.
	go func() {
		time.Sleep(50 * time.Millisecond)
		w.append(blocks(200, 205)...)
	}()
	if v := get(204); v != string(blk(204)) {
		t.Fatalf("js block 204 = %q", v)
	}
	if ps := w.rep.Peers(); len(ps) != 1 || ps[0].InvalidRequests != 0 {
		t.Fatalf("peers %+v", ps)
	}
}
