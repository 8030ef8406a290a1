package hypercore

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopear/gopear/hypercore/internal/replicator"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/internal/jsref"
)

// The JS side of these tests is interop/hypercore/core.js: real hypercore
// 11 cores driven over JSON lines.

type jsCoreState struct {
	Key          string    `json:"key"`
	DiscoveryKey string    `json:"discoveryKey"`
	Fork         uint64    `json:"fork"`
	Length       uint64    `json:"length"`
	ByteLength   uint64    `json:"byteLength"`
	TreeHash     string    `json:"treeHash"`
	Signature    string    `json:"signature"`
	Manifest     *string   `json:"manifest"`
	Blocks       []*string `json:"blocks"`
	Plain        []*string `json:"plain"`
	Error        string    `json:"error"`
	Message      string    `json:"message"`
}

type jsCores struct {
	t *testing.T
	p *jsref.Proc
}

func startJSCores(t *testing.T) *jsCores {
	p := jsref.Start(t, "hypercore/core.js")
	t.Cleanup(p.CloseStdin)
	return &jsCores{t: t, p: p}
}

func (j *jsCores) call(req map[string]any, resp any) {
	j.t.Helper()
	j.p.Send(req)
	j.p.Recv(resp)
}

func (j *jsCores) state(req map[string]any) jsCoreState {
	j.t.Helper()
	var s jsCoreState
	j.call(req, &s)
	if s.Error != "" {
		j.t.Fatalf("js %v: %s %s", req["op"], s.Error, s.Message)
	}
	return s
}

// coreStep is one step of a core's history: an append of blocks, or a
// truncation when blocks is nil.
type coreStep struct {
	blocks   [][]byte
	truncate uint64
}

func (s coreStep) js() any {
	if s.blocks == nil {
		return map[string]any{"truncate": s.truncate}
	}
	hs := make([]string, len(s.blocks))
	for i, b := range s.blocks {
		hs[i] = hex.EncodeToString(b)
	}
	return map[string]any{"append": hs}
}

// randomSteps returns a history of appends (1 to 40 blocks of 0 to 300
// bytes, some of a few KiB) with a truncation now and then.
func randomSteps(rng *rand.Rand, n int) []coreStep {
	var steps []coreStep
	var length uint64
	for range n {
		if length > 4 && rng.IntN(6) == 0 {
			l := uint64(rng.IntN(int(length)))
			steps = append(steps, coreStep{truncate: l})
			length = l
			continue
		}
		var bs [][]byte
		for range 1 + rng.IntN(40) {
			size := rng.IntN(300)
			if rng.IntN(20) == 0 {
				size = 1000 + rng.IntN(5000)
			}
			b := make([]byte, size)
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			bs = append(bs, b)
		}
		steps = append(steps, coreStep{blocks: bs})
		length += uint64(len(bs))
	}
	return steps
}

func hexOr(b []byte) string {
	if b == nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// compareState checks that a Go core and a JS core agree on everything
// that is visible from outside.
func compareState(t *testing.T, what string, c *Core, js jsCoreState) {
	t.Helper()
	info, err := c.Info()
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("key %x dk %x fork %d length %d byteLength %d treeHash %x signature %s",
		[32]byte(info.Key), [32]byte(info.DiscoveryKey), info.Fork, info.Length, info.ByteLength, info.TreeHash, hexOr(info.Signature))
	want := fmt.Sprintf("key %s dk %s fork %d length %d byteLength %d treeHash %s signature %s",
		js.Key, js.DiscoveryKey, js.Fork, js.Length, js.ByteLength, js.TreeHash, js.Signature)
	if got != want {
		t.Fatalf("%s:\n go %s\n js %s", what, got, want)
	}
	t.Logf("%s: fork %d length %d byteLength %d, %d blocks compared", what, info.Fork, info.Length, info.ByteLength, len(js.Blocks))
	if m := c.Manifest(); m != nil && js.Manifest != nil {
		enc, _ := m.MarshalBinary()
		if hex.EncodeToString(enc) != *js.Manifest {
			t.Errorf("%s: manifest %x, js %s", what, enc, *js.Manifest)
		}
	}
	for i, jb := range js.Blocks {
		raw, err := c.Get(context.Background(), uint64(i), &GetOptions{Raw: true, NoWait: true})
		if jb == nil {
			if err == nil {
				t.Errorf("%s: block %d stored in Go, not in JS", what, i)
			}
			continue
		}
		if err != nil || hex.EncodeToString(raw) != *jb {
			t.Fatalf("%s: raw block %d = %x %v, js %s", what, i, raw, err, *jb)
		}
		if p := js.Plain[i]; p != nil {
			plain, err := c.Get(context.Background(), uint64(i), &GetOptions{NoWait: true})
			if err != nil || hex.EncodeToString(plain) != *p {
				t.Fatalf("%s: block %d = %x %v, js %s", what, i, plain, err, *p)
			}
		}
	}
}

// TestInteropCore applies the same histories to Go and JS cores with the
// same key pair and compares keys, tree hashes, signatures, byte lengths,
// forks, stored blocks (encrypted too) and seeks.
func TestInteropCore(t *testing.T) {
	js := startJSCores(t)
	seed := uint64(20260101)
	rng := rand.New(rand.NewPCG(seed, 7))
	for n := range 6 {
		encrypted := n%2 == 1
		t.Run(fmt.Sprintf("core%d/encrypted=%v", n, encrypted), func(t *testing.T) {
			steps := randomSteps(rng, 4+rng.IntN(10))
			if n == 0 {
				steps = []coreStep{{blocks: blocksOf("hello", "world")}}
			}
			name := fmt.Sprint("core", n)
			seedByte := byte(30 + n)
			req := map[string]any{"op": "create", "name": name, "seed": seedByte}
			var ek []byte
			if encrypted {
				ek = bytes.Repeat([]byte{byte(n)}, 32)
				req["encryptionKey"] = hex.EncodeToString(ek)
			}
			var jsSteps []any
			for _, s := range steps {
				jsSteps = append(jsSteps, s.js())
			}
			req["steps"] = jsSteps
			jsState := js.state(req)

			c := memCore(t, &Options{KeyPair: seedKeyPair(seedByte), EncryptionKey: ek})
			for _, s := range steps {
				if s.blocks == nil {
					if err := c.Truncate(context.Background(), s.truncate, nil); err != nil {
						t.Fatal(err)
					}
					continue
				}
				mustAppend(t, c, s.blocks...)
			}
			compareState(t, name, c, jsState)

			// Seeks at every block boundary, around it, and at random.
			bl := c.ByteLength()
			offsets := []uint64{0, bl}
			if bl > 0 {
				offsets = append(offsets, bl-1)
			}
			for range 40 {
				if bl > 0 {
					offsets = append(offsets, rng.Uint64N(bl))
				}
			}
			var jsSeeks [][2]uint64
			var raw []*[2]uint64
			js.call(map[string]any{"op": "seeks", "name": name, "offsets": offsets}, &raw)
			for _, r := range raw {
				if r == nil {
					t.Fatal("js seek found nothing")
				}
				jsSeeks = append(jsSeeks, *r)
			}
			for i, off := range offsets {
				bi, bo, err := c.Seek(context.Background(), off, &GetOptions{NoWait: true})
				if err != nil {
					t.Fatalf("seek %d: %v", off, err)
				}
				if [2]uint64{bi, bo} != jsSeeks[i] {
					t.Errorf("seek %d = (%d, %d), js %v", off, bi, bo, jsSeeks[i])
				}
			}
		})
	}
}

// TestInteropProofs replicates by hand in both directions, without the
// replicator: a Go reader applies the proofs a JS writer makes for its
// requests, and a JS reader applies the proofs a Go writer makes, for
// plain and encrypted cores. Both readers must end with the writer's
// tree, signature, manifest and blocks.
func TestInteropProofs(t *testing.T) {
	js := startJSCores(t)
	rng := rand.New(rand.NewPCG(42, 42))
	for n, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			var ek []byte
			if encrypted {
				ek = []byte("interop encryption key")
			}
			var steps []any
			var goSteps []coreStep
			for _, s := range randomSteps(rng, 5) {
				if s.blocks == nil {
					continue // one fork: readers follow a single history here
				}
				steps = append(steps, s.js())
				goSteps = append(goSteps, s)
			}
			seedByte := byte(50 + n)

			// JS writer, Go reader.
			wname := fmt.Sprint("jswriter", n)
			req := map[string]any{"op": "create", "name": wname, "seed": seedByte, "steps": steps}
			if ek != nil {
				req["encryptionKey"] = hex.EncodeToString(ek)
			}
			jw := js.state(req)
			key, _ := hex.DecodeString(jw.Key)
			r := memCore(t, &Options{Key: Key(key), EncryptionKey: ek})
			for _, i := range rng.Perm(int(jw.Length)) {
				rl := r.Length()
				nodes, err := r.st.tree.MissingNodes(2*uint64(i), rl)
				if err != nil {
					t.Fatal(err)
				}
				jreq := map[string]any{"block": map[string]any{"index": i, "nodes": nodes}, "manifest": r.Manifest() == nil}
				if jw.Length > rl {
					jreq["upgrade"] = map[string]any{"start": rl, "length": jw.Length - rl}
				}
				var resp struct{ Data, Error, Message string }
				js.call(map[string]any{"op": "proof", "name": wname, "req": jreq}, &resp)
				if resp.Error != "" {
					t.Fatalf("js proof of block %d: %s %s", i, resp.Error, resp.Message)
				}
				raw, _ := hex.DecodeString(resp.Data)
				var d wire.Data
				if err := wire.Unmarshal(raw, &d); err != nil {
					t.Fatal(err)
				}
				if _, err := (replCore{r.st}).Apply(&d, replicator.PeerInfo{}); err != nil {
					t.Fatalf("applying js proof of block %d: %v", i, err)
				}
			}
			compareState(t, "go reader", r, jw)
			checkVerifies(t, r)

			// Go writer, JS reader.
			w := memCore(t, &Options{KeyPair: seedKeyPair(seedByte + 10), EncryptionKey: ek})
			for _, s := range goSteps {
				mustAppend(t, w, s.blocks...)
			}
			rname := fmt.Sprint("jsreader", n)
			rreq := map[string]any{"op": "reader", "name": rname, "key": hex.EncodeToString(keyBytes(w.Key()))}
			if ek != nil {
				rreq["encryptionKey"] = hex.EncodeToString(ek)
			}
			js.state(rreq)
			for _, i := range rng.Perm(int(w.Length())) {
				var jr struct {
					Block struct {
						Index, Nodes uint64
					}
					Upgrade *struct {
						Start, Length uint64
					}
					Manifest bool
				}
				js.call(map[string]any{"op": "request", "name": rname, "index": i, "remoteLength": w.Length()}, &jr)
				wreq := &wire.Request{Fork: w.Fork(), Block: &wire.RequestBlock{Index: jr.Block.Index, Nodes: jr.Block.Nodes}, Manifest: jr.Manifest}
				if jr.Upgrade != nil {
					wreq.Upgrade = &wire.RequestUpgrade{Start: jr.Upgrade.Start, Length: jr.Upgrade.Length}
				}
				d, _, err := (replCore{w.st}).Proof(wreq, replicator.PeerInfo{})
				if err != nil {
					t.Fatalf("go proof of block %d: %v", i, err)
				}
				if jr.Manifest {
					d.Manifest = (replCore{w.st}).Manifest()
				}
				var resp struct {
					OK             bool
					Error, Message string
				}
				js.call(map[string]any{"op": "apply", "name": rname, "data": hex.EncodeToString(wire.Encode(d))}, &resp)
				if resp.Error != "" || !resp.OK {
					t.Fatalf("js applying go proof of block %d: %v %s %s", i, resp.OK, resp.Error, resp.Message)
				}
			}
			jr := js.state(map[string]any{"op": "state", "name": rname})
			compareState(t, "js reader", w, jr)
		})
	}
}

func keyBytes(k Key) []byte { return k[:] }
