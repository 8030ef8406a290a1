package corestore

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/corestore/peer.js (a real
// corestore 7 replicating over TCP) and interop/corestore/keys.js.

// jsStore is a JS corestore in a node process.
type jsStore struct {
	t *testing.T
	p *jsref.Proc
}

// startJSStore starts a JS corestore with the given primary key (random
// when nil).
func startJSStore(t *testing.T, primaryKey *[32]byte) *jsStore {
	t.Helper()
	j := &jsStore{t: t, p: jsref.Start(t, "corestore/peer.js")}
	cmd := map[string]any{"op": "open"}
	if primaryKey != nil {
		cmd["primaryKey"] = hex.EncodeToString(primaryKey[:])
	}
	j.call(cmd, nil)
	return j
}

// call sends cmd, fails the test if the answer is an error, and decodes
// the answer into out (when not nil).
func (j *jsStore) call(cmd map[string]any, out any) {
	j.t.Helper()
	j.p.Send(cmd)
	var raw json.RawMessage
	j.p.Recv(&raw)
	var e struct{ Error string }
	if json.Unmarshal(raw, &e) == nil && e.Error != "" && cmd["op"] != "tryGet" {
		j.t.Fatalf("js %v: %s", cmd["op"], e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			j.t.Fatalf("js %v answered %s: %v", cmd["op"], raw, err)
		}
	}
}

type jsCore struct {
	Key, DiscoveryKey string
	Length            int
	Writable          bool
}

// write makes (or extends) the named core in the JS store with the
// blocks appendN would write.
func (j *jsStore) write(name string, namespaces []string, prefix string, n int, closeAfter bool) jsCore {
	j.t.Helper()
	var c jsCore
	j.call(map[string]any{"op": "write", "name": name, "namespaces": namespaces, "blocks": blocksOf(prefix, n), "close": closeAfter}, &c)
	return c
}

// read has the JS store get the core with key and read its first n
// blocks, and checks them.
func (j *jsStore) read(key hypercore.Key, prefix string, n int) {
	j.t.Helper()
	var res struct {
		Values []string
		Length int
		Peers  int
	}
	j.call(map[string]any{"op": "read", "key": hexKey(key), "length": n, "timeout": 20000}, &res)
	if len(res.Values) != n {
		j.t.Fatalf("js read %d blocks of %s", len(res.Values), key)
	}
	for i, v := range res.Values {
		if want := fmt.Sprintf("%s-%d", prefix, i); v != want {
			j.t.Fatalf("js read block %d of %s = %q, want %q", i, key, v, want)
		}
	}
}

func (j *jsStore) uploads(key hypercore.Key) int {
	j.t.Helper()
	var res struct{ Uploads int }
	j.call(map[string]any{"op": "uploads", "key": hexKey(key)}, &res)
	return res.Uploads
}

// listen has the JS store accept connections; it returns the port.
func (j *jsStore) listen() int {
	j.t.Helper()
	var res struct{ Port int }
	j.call(map[string]any{"op": "listen"}, &res)
	return res.Port
}

// dialJS connects s to the JS store listening on port, as the initiator.
func dialJS(t *testing.T, s *Store, port int) *Replication {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.Replicate(conn, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	return rep
}

// acceptOne listens on loopback and replicates s, as the responder, with
// the first connection; connect is called with the port to dial.
func acceptOne(t *testing.T, s *Store, connect func(port int)) *Replication {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	connect(ln.Addr().(*net.TCPAddr).Port)
	conn := <-accepted
	if conn == nil {
		t.Fatal("no connection")
	}
	rep, err := s.Replicate(conn, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rep.Close() })
	return rep
}

func blocksOf(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

func hexKey(k hypercore.Key) string { return hex.EncodeToString(k[:]) }

func parseKey(t testing.TB, s string) hypercore.Key {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("bad key %q", s)
	}
	return hypercore.Key(b)
}

// TestStoreKeysJS opens the same named cores, in the same namespaces and
// with the same primary keys, in Go and JS stores, and compares what
// Get gives: key, discovery key, manifest version, writability.
func TestStoreKeysJS(t *testing.T) {
	var counting [32]byte
	for i := range counting {
		counting[i] = byte(i * 7)
	}
	primaryKeys := [][32]byte{fill(7), counting}
	namespaces := [][]string{{}, {"app"}, {"app", "v1"}, {""}, {"ünï 🦄"}}
	names := []string{"db", "log", "blobs", "héllo 🦄", strings.Repeat("x", 100)}
	type goCase struct {
		keyCase
		ManifestVersion int `json:"manifestVersion,omitempty"`
	}
	var cases []goCase
	for _, pk := range primaryKeys {
		for _, nss := range namespaces {
			for _, name := range names {
				cases = append(cases, goCase{keyCase: keyCase{PrimaryKey: hx(pk[:]), Namespaces: nss, Name: name, Get: true}})
			}
			cases = append(cases, goCase{keyCase: keyCase{PrimaryKey: hx(pk[:]), Namespaces: nss, Name: "db-v2", Get: true}, ManifestVersion: 2})
		}
	}
	var out []struct {
		Namespace string
		Core      *struct {
			Key, DiscoveryKey string
			ManifestVersion   int
			Writable          bool
		}
	}
	jsref.JSON(t, cases, &out, "corestore/keys.js")
	if len(out) != len(cases) {
		t.Fatalf("JS returned %d results for %d cases", len(out), len(cases))
	}

	stores := make(map[string]*Store)
	for i, c := range cases {
		s := stores[c.PrimaryKey]
		if s == nil {
			pk := [32]byte(mustHex(t, c.PrimaryKey))
			s = memStore(t, &Options{PrimaryKey: &pk})
			stores[c.PrimaryKey] = s
		}
		sess := s
		for _, n := range c.Namespaces {
			sess = sess.Namespace(n)
		}
		core := mustGet(t, sess, Name(c.Name), &GetOptions{ManifestVersion: c.ManifestVersion})
		desc := fmt.Sprintf("primary key %.8s…, namespaces %q, name %q, manifest version %d", c.PrimaryKey, c.Namespaces, c.Name, c.ManifestVersion)
		js := out[i]
		if js.Core == nil {
			t.Fatalf("%s: JS opened no core", desc)
		}
		got := fmt.Sprintf("ns %x key %x dk %x v%d writable %v", sess.NamespaceKey(), [32]byte(core.Key()), [32]byte(core.DiscoveryKey()), core.Manifest().Version, core.Writable())
		want := fmt.Sprintf("ns %s key %s dk %s v%d writable %v", js.Namespace, js.Core.Key, js.Core.DiscoveryKey, js.Core.ManifestVersion, js.Core.Writable)
		if got != want {
			t.Errorf("%s:\n go %s\n js %s", desc, got, want)
		}
		core.Close()
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInteropReplicate replicates a Go and a JS corestore, each with
// several named cores (some open, some only stored, so that the store
// opens them on demand), over one TCP connection, dialled by either side.
// Go gets the JS cores by key and reads them all; JS reads the Go cores.
// Cores neither store holds are rejected.
func TestInteropReplicate(t *testing.T) {
	for _, goDials := range []bool{true, false} {
		t.Run(fmt.Sprintf("goDials=%v", goDials), func(t *testing.T) {
			ctx := ctxT(t, 60*time.Second)
			js := startJSStore(t, nil)
			jsA := js.write("a", nil, "js-a", 40, false)
			jsB := js.write("b", []string{"app"}, "js-b", 25, false)
			jsC := js.write("c", nil, "js-c", 30, true) // JS opens it on demand
			for _, c := range []jsCore{jsA, jsB, jsC} {
				if !c.Writable {
					t.Fatal("JS named core not writable")
				}
			}

			// The Go store: written, closed and reopened, so that "z" is
			// only in storage when the peer asks for it.
			fs := vfs.NewMem()
			pk := [32]byte{0x60}
			s, err := Open(ctx, "store", &Options{FS: fs, PrimaryKey: &pk, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []struct {
				s      *Store
				name   string
				prefix string
				n      int
			}{{s, "x", "go-x", 40}, {s.Namespace("app"), "y", "go-y", 25}, {s, "z", "go-z", 30}} {
				appendN(t, mustGet(t, w.s, Name(w.name), nil), w.prefix, w.n)
			}
			s.Close()
			s = memStore(t, &Options{FS: fs, PrimaryKey: &pk})
			goX := mustGet(t, s, Name("x"), nil)
			goY := mustGet(t, s.Namespace("app"), Name("y"), nil)
			goZ := namedKey(pk, Namespace{}, "z")
			if open, _ := s.Has(hypercore.DiscoveryKey(goZ)); !open {
				t.Fatal("z not stored")
			}

			// One connection.
			if goDials {
				dialJS(t, s, js.listen())
			} else {
				acceptOne(t, s, func(port int) { js.call(map[string]any{"op": "connect", "port": port}, nil) })
			}

			// Go reads the JS cores.
			for _, c := range []struct {
				core   jsCore
				prefix string
			}{{jsA, "js-a"}, {jsB, "js-b"}, {jsC, "js-c"}} {
				r := mustGet(t, s, Key(parseKey(t, c.core.Key)), nil)
				if r.Writable() {
					t.Fatal("replica of a JS core is writable")
				}
				checkBlocks(t, ctx, r, c.prefix, c.core.Length)
				if r.Length() != uint64(c.core.Length) || r.ContiguousLength() != r.Length() {
					t.Fatalf("%s: length %d contiguous %d, want %d", c.prefix, r.Length(), r.ContiguousLength(), c.core.Length)
				}
			}

			// JS reads the Go cores, z opened on demand.
			js.read(goX.Key(), "go-x", 40)
			js.read(goY.Key(), "go-y", 25)
			js.read(goZ, "go-z", 30)

			// Neither store serves a core it does not hold, nor creates it.
			unknown := hypercore.Key(hypercore.DefaultManifest(hcrypto.KeyPairFromSeed([32]byte{1, 2, 3}).PublicKey).Hash())
			var res struct {
				Value *string
				Error string
				Peers int
			}
			js.call(map[string]any{"op": "tryGet", "key": hexKey(unknown), "index": 0, "timeout": 1000}, &res)
			if res.Error == "" || res.Peers != 0 {
				t.Fatalf("js got a core Go does not hold: %+v", res)
			}
			if ok, _ := s.Has(hypercore.DiscoveryKey(unknown)); ok {
				t.Fatal("Go stored a core JS asked for")
			}
			unknown2 := hypercore.Key(hypercore.DefaultManifest(hcrypto.KeyPairFromSeed([32]byte{4, 5, 6}).PublicKey).Hash())
			u := mustGet(t, s, Key(unknown2), nil)
			if _, err := u.Get(ctx, 0, &hypercore.GetOptions{Timeout: 500 * time.Millisecond}); err == nil {
				t.Fatal("Go got a block of a core JS does not hold")
			}
			if len(u.Peers()) != 0 {
				t.Fatal("JS accepted the channel of a core it does not hold")
			}
			var has struct{ Has bool }
			js.call(map[string]any{"op": "has", "discoveryKey": hexKey(hypercore.DiscoveryKey(unknown2))}, &has)
			if has.Has {
				t.Fatal("JS stored a core Go asked for")
			}

			var conns struct{ Connections int }
			js.call(map[string]any{"op": "connections"}, &conns)
			if conns.Connections != 1 {
				t.Fatalf("JS saw %d connections", conns.Connections)
			}
		})
	}
}

// TestInteropManyPeers downloads one core from two JS stores at once, then
// from a Go and a JS store at once. The stores hold the same core because
// they share the primary key and wrote the same blocks under the same
// name, which gives the same key pair, tree and signatures.
func TestInteropManyPeers(t *testing.T) {
	ctx := ctxT(t, 90*time.Second)
	pk := [32]byte{0xaa, 0xbb}
	const n = 600
	prefix := "shared " + strings.Repeat("·", 400)
	js1 := startJSStore(t, &pk)
	js2 := startJSStore(t, &pk)
	c1 := js1.write("shared", []string{"app"}, prefix, n, false)
	c2 := js2.write("shared", []string{"app"}, prefix, n, false)
	if c1.Key != c2.Key {
		t.Fatal("the JS stores made different cores")
	}
	key := parseKey(t, c1.Key)

	t.Run("two JS peers", func(t *testing.T) {
		s := memStore(t, nil)
		dialJS(t, s, js1.listen())
		dialJS(t, s, js2.listen())
		r := mustGet(t, s, Key(key), nil)
		waitFor(t, "two peers", func() bool { return len(r.Peers()) == 2 })
		if _, err := r.Update(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.Download(ctx, hypercore.Range{}); err != nil {
			t.Fatal(err)
		}
		checkBlocks(t, ctx, r, prefix, n)
		u1, u2 := js1.uploads(key), js2.uploads(key)
		t.Logf("uploads: js1 %d, js2 %d", u1, u2)
		if u1 == 0 || u2 == 0 || u1+u2 < n {
			t.Fatalf("uploads: js1 %d, js2 %d, want both > 0 and %d in all", u1, u2, n)
		}
	})

	t.Run("a Go and a JS peer", func(t *testing.T) {
		g := memStore(t, &Options{PrimaryKey: &pk})
		w := mustGet(t, g.Namespace("app"), Name("shared"), nil)
		appendN(t, w, prefix, n)
		if w.Key() != key {
			t.Fatalf("the Go store made core %s, JS %s", w.Key(), key)
		}
		var goUploads atomic.Int64
		stop := w.Watch(func(ev hypercore.Event) {
			if ev.Kind == hypercore.EventUpload {
				goUploads.Add(1)
			}
		})
		defer stop()

		before := js1.uploads(key)
		s := memStore(t, nil)
		// Go to Go over TCP too: s dials g.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := g.Replicate(c, false); err != nil {
				c.Close()
			}
		}()
		dialGo := func() {
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Replicate(conn, true); err != nil {
				t.Fatal(err)
			}
		}
		dialGo()
		dialJS(t, s, js1.listen())
		r := mustGet(t, s, Key(key), nil)
		waitFor(t, "two peers", func() bool { return len(r.Peers()) == 2 })
		if _, err := r.Update(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := r.Download(ctx, hypercore.Range{}); err != nil {
			t.Fatal(err)
		}
		checkBlocks(t, ctx, r, prefix, n)
		uj := js1.uploads(key) - before
		// Upload events are delivered asynchronously.
		waitFor(t, "upload events", func() bool { return int(goUploads.Load())+uj >= n })
		gu := goUploads.Load()
		t.Logf("uploads: go %d, js %d", gu, uj)
		if gu == 0 || uj == 0 {
			t.Fatalf("uploads: go %d, js %d, want both > 0", gu, uj)
		}
	})
}
