package merkle

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
	"github.com/gopear/gopear/internal/jsref"
)

// The interop tests build the same cores in JS (interop/hypercore/merkle.js)
// and in Go, then compare trees, proofs for many request shapes (byte for
// byte, as wire data messages), and the verdicts of both verifiers on the
// same proofs, valid and mutated.

type jsNode struct {
	Index uint64 `json:"index"`
	Size  uint64 `json:"size"`
	Hash  string `json:"hash"`
}

func (n jsNode) node(t testing.TB) hcrypto.Node {
	t.Helper()
	h, err := hex.DecodeString(n.Hash)
	if err != nil || len(h) != 32 {
		t.Fatalf("bad node hash %q", n.Hash)
	}
	return hcrypto.Node{Index: n.Index, Size: n.Size, Hash: [32]byte(h)}
}

func jsNodes(t testing.TB, ns []jsNode) []hcrypto.Node {
	out := make([]hcrypto.Node, len(ns))
	for i, n := range ns {
		out[i] = n.node(t)
	}
	return out
}

type jsTree struct {
	Key        string   `json:"key"`
	Fork       uint64   `json:"fork"`
	Length     uint64   `json:"length"`
	ByteLength uint64   `json:"byteLength"`
	TreeHash   string   `json:"treeHash"`
	Signature  string   `json:"signature"`
	Roots      []jsNode `json:"roots"`
	Nodes      []jsNode `json:"nodes"`
	Error      string   `json:"error"`
	Message    string   `json:"message"`
}

// jsRequest is a request as core.proof takes it.
type jsRequest struct {
	Block   *jsPair `json:"block,omitempty"`
	Hash    *jsPair `json:"hash,omitempty"`
	Seek    *jsSeek `json:"seek,omitempty"`
	Upgrade *jsUp   `json:"upgrade,omitempty"`
}

type jsPair struct {
	Index uint64 `json:"index"`
	Nodes uint64 `json:"nodes"`
}

type jsSeek struct {
	Bytes   uint64 `json:"bytes"`
	Padding uint64 `json:"padding"`
}

type jsUp struct {
	Start  uint64 `json:"start"`
	Length uint64 `json:"length"`
}

func (r jsRequest) wire() *wire.Request {
	w := &wire.Request{}
	if r.Block != nil {
		w.Block = &wire.RequestBlock{Index: r.Block.Index, Nodes: r.Block.Nodes}
	}
	if r.Hash != nil {
		w.Hash = &wire.RequestHash{Index: r.Hash.Index, Nodes: r.Hash.Nodes}
	}
	if r.Seek != nil {
		w.Seek = &wire.RequestSeek{Bytes: r.Seek.Bytes, Padding: r.Seek.Padding}
	}
	if r.Upgrade != nil {
		w.Upgrade = &wire.RequestUpgrade{Start: r.Upgrade.Start, Length: r.Upgrade.Length}
	}
	return w
}

func (r jsRequest) String() string {
	s := ""
	if r.Block != nil {
		s += fmt.Sprintf("block{%d,%d}", r.Block.Index, r.Block.Nodes)
	}
	if r.Hash != nil {
		s += fmt.Sprintf("hash{%d,%d}", r.Hash.Index, r.Hash.Nodes)
	}
	if r.Seek != nil {
		s += fmt.Sprintf("seek{%d,%d}", r.Seek.Bytes, r.Seek.Padding)
	}
	if r.Upgrade != nil {
		s += fmt.Sprintf("upgrade{%d,%d}", r.Upgrade.Start, r.Upgrade.Length)
	}
	return s
}

type jsProof struct {
	Data    string `json:"data"`
	Error   string `json:"error"`
	Message string `json:"message"`
}

type jsVerdict struct {
	OK         bool     `json:"ok"`
	Upgraded   bool     `json:"upgraded"`
	Fork       uint64   `json:"fork"`
	Length     uint64   `json:"length"`
	ByteLength uint64   `json:"byteLength"`
	TreeHash   string   `json:"treeHash"`
	Roots      []jsNode `json:"roots"`
	Nodes      []jsNode `json:"nodes"`
	Error      string   `json:"error"`
	Message    string   `json:"message"`
}

// jsCores drives interop/hypercore/merkle.js.
type jsCores struct {
	t *testing.T
	p *jsref.Proc
}

func startJS(t *testing.T) *jsCores {
	return &jsCores{t: t, p: jsref.Start(t, "hypercore/merkle.js")}
}

func (j *jsCores) call(req map[string]any, resp any) {
	j.t.Helper()
	j.p.Send(req)
	j.p.Recv(resp)
}

func (j *jsCores) create(name string, steps ...step) jsTree {
	j.t.Helper()
	return j.createPrologue(name, 0, steps...)
}

// createPrologue is create for a core whose manifest has a prologue of
// the first prologue blocks (none when 0).
func (j *jsCores) createPrologue(name string, prologue uint64, steps ...step) jsTree {
	j.t.Helper()
	if steps == nil {
		steps = []step{}
	}
	var tr jsTree
	j.call(map[string]any{"op": "create", "name": name, "seed": 1, "steps": steps, "prologue": prologue}, &tr)
	if tr.Error != "" {
		j.t.Fatalf("create %s: %s %s", name, tr.Error, tr.Message)
	}
	return tr
}

func (j *jsCores) proofs(name string, reqs []jsRequest) []jsProof {
	j.t.Helper()
	var out []jsProof
	j.call(map[string]any{"op": "proofs", "name": name, "reqs": reqs}, &out)
	if len(out) != len(reqs) {
		j.t.Fatalf("proofs: %d answers to %d requests", len(out), len(reqs))
	}
	return out
}

func (j *jsCores) verify(name string, datas []string) []jsVerdict {
	j.t.Helper()
	var out []jsVerdict
	j.call(map[string]any{"op": "verify", "name": name, "datas": datas}, &out)
	if len(out) != len(datas) {
		j.t.Fatalf("verify: %d answers to %d proofs", len(out), len(datas))
	}
	return out
}

// newSigner returns the signer of the test cores (seed 1) for the core key
// JS reported.
func newSigner(t testing.TB, keyHex string) *signer {
	key, err := hex.DecodeString(keyHex)
	if err != nil || len(key) != 32 {
		t.Fatalf("bad key %q", keyHex)
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = 1
	}
	return &signer{kp: hcrypto.KeyPairFromSeed(seed), key: [32]byte(key)}
}

// compareTree checks a Go tree against the JS tree of the same core.
func compareTree(t *testing.T, name string, tree *Tree, nodes MemNodes, js jsTree) {
	t.Helper()
	if tree.Length() != js.Length || tree.Fork() != js.Fork || tree.ByteLength() != js.ByteLength {
		t.Errorf("%s: length/fork/byteLength = %d/%d/%d, JS %d/%d/%d", name,
			tree.Length(), tree.Fork(), tree.ByteLength(), js.Length, js.Fork, js.ByteLength)
	}
	h := tree.Hash()
	if got := hex.EncodeToString(h[:]); got != js.TreeHash {
		t.Errorf("%s: tree hash %s, JS %s", name, got, js.TreeHash)
	}
	if got := hex.EncodeToString(tree.Signature()); got != js.Signature {
		t.Errorf("%s: signature %s, JS %s", name, got, js.Signature)
	}
	if !nodesEqual(tree.Roots(), jsNodes(t, js.Roots)) {
		t.Errorf("%s: roots differ from JS", name)
	}
	want := jsNodes(t, js.Nodes)
	if len(want) != len(nodes) {
		t.Errorf("%s: %d stored nodes, JS %d", name, len(nodes), len(want))
	}
	for _, n := range want {
		if got, ok := nodes[n.Index]; !ok || got != n {
			t.Errorf("%s: node %d = %s, JS %s", name, n.Index, nodeString(got), nodeString(n))
		}
	}
}

// interopLengths are the core lengths the interop tests use; every core is
// a prefix of the longest, so each serves as responder and as requester.
var interopLengths = []uint64{0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 100, 1000}

// sampleBlocks returns a spread of block indices below length.
func sampleBlocks(length uint64, rng *rand.Rand) []uint64 {
	set := map[uint64]bool{}
	add := func(i uint64) {
		if i < length {
			set[i] = true
		}
	}
	for _, i := range []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, length / 2, length - 1, length - 2, length - 3} {
		add(i)
	}
	for p := uint64(1); p < length; p *= 2 {
		add(p - 1)
		add(p)
		add(p + 1)
	}
	for range 6 {
		if length > 0 {
			add(rng.Uint64N(length))
		}
	}
	out := make([]uint64, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// requestsFor returns the requests the interop tests send to a core of
// length blocks and byteLength bytes: valid and invalid shapes of block,
// hash, seek and upgrade requests, alone and combined.
func requestsFor(length uint64, starts []uint64, offsets []uint64, rng *rand.Rand) []jsRequest {
	var reqs []jsRequest
	add := func(r jsRequest) { reqs = append(reqs, r) }
	up := func(s, l uint64) *jsUp { return &jsUp{s, l} }

	// Upgrades alone, including invalid ones.
	for _, s := range starts {
		if s > length {
			continue
		}
		add(jsRequest{Upgrade: up(s, length-s)})
		add(jsRequest{Upgrade: up(s, 1)})
		add(jsRequest{Upgrade: up(s, (length-s)/2+1)})
		add(jsRequest{Upgrade: up(s, length-s+1)})
	}
	add(jsRequest{Upgrade: up(0, 0)})
	if length > 2 {
		for range 4 {
			s := rng.Uint64N(length - 1)
			add(jsRequest{Upgrade: up(s, 1+rng.Uint64N(length-s))})
		}
	}

	blocks := sampleBlocks(length, rng)
	// Blocks without an upgrade, every nodes count up to one too many.
	for _, i := range blocks {
		maxNodes := MaxMissingNodes(2*i, length)
		for n := uint64(0); n <= maxNodes+1; n++ {
			add(jsRequest{Block: &jsPair{i, n}})
		}
	}
	// Blocks with upgrades, inside and outside the upgraded range.
	for _, s := range starts {
		if s >= length {
			continue
		}
		for _, i := range blocks {
			n := uint64(0)
			if i < s {
				n = MaxMissingNodes(2*i, s)
			}
			add(jsRequest{Block: &jsPair{i, n}, Upgrade: up(s, length-s)})
			if s+1 < length {
				add(jsRequest{Block: &jsPair{i, n}, Upgrade: up(s, 1)})
			}
			if n > 0 {
				add(jsRequest{Block: &jsPair{i, n - 1}, Upgrade: up(s, length-s)})
			}
		}
	}
	// Hashes: leaves and parents, with a few nodes counts.
	for _, i := range blocks {
		for _, index := range []uint64{2 * i, 2*i + 1, 4*i + 3} {
			if index >= 2*length {
				continue
			}
			for n := uint64(0); n <= 2; n++ {
				add(jsRequest{Hash: &jsPair{index, n}})
			}
			for _, s := range starts {
				if s < length {
					add(jsRequest{Hash: &jsPair{index, 0}, Upgrade: up(s, length-s)})
				}
			}
		}
	}
	// Seeks: alone, with upgrades, with blocks and hashes.
	for _, off := range offsets {
		for _, pad := range []uint64{0, 1} {
			add(jsRequest{Seek: &jsSeek{off, pad}})
			for _, s := range starts {
				if s < length {
					add(jsRequest{Seek: &jsSeek{off, pad}, Upgrade: up(s, length-s)})
				}
			}
			for _, i := range blocks {
				maxNodes := MaxMissingNodes(2*i, length)
				add(jsRequest{Seek: &jsSeek{off, pad}, Block: &jsPair{i, maxNodes}})
				add(jsRequest{Seek: &jsSeek{off, pad}, Hash: &jsPair{2 * i, maxNodes}})
				if len(starts) > 1 && starts[1] < length {
					add(jsRequest{Seek: &jsSeek{off, pad}, Block: &jsPair{i, 0}, Upgrade: up(starts[1], length-starts[1])})
				}
			}
		}
	}
	return reqs
}

// capRequests keeps every upgrade-only request and a random sample of the
// others, up to n in all (fewer with -short), so that the interop tests
// stay within seconds on a shared machine. The sample is deterministic.
func capRequests(reqs []jsRequest, n int, rng *rand.Rand) []jsRequest {
	if testing.Short() {
		n /= 4
	}
	var keep, rest []jsRequest
	for _, r := range reqs {
		if r.Block == nil && r.Hash == nil && r.Seek == nil {
			keep = append(keep, r)
		} else {
			rest = append(rest, r)
		}
	}
	rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	return append(keep, rest[:max(0, min(len(rest), n-len(keep)))]...)
}

// seekOffsets returns byte offsets around block boundaries of a tree.
func seekOffsets(t *testing.T, tree *Tree, rng *rand.Rand) []uint64 {
	set := map[uint64]bool{0: true, 1: true, tree.ByteLength(): true, tree.ByteLength() + 3: true}
	if tree.ByteLength() > 0 {
		set[tree.ByteLength()-1] = true
	}
	blocks := sampleBlocks(tree.Length(), rng)
	for _, i := range blocks[:min(4, len(blocks))] {
		off, size, err := tree.ByteRange(2 * i)
		if err != nil {
			t.Fatal(err)
		}
		set[off] = true
		set[off+size/2] = true
	}
	out := make([]uint64, 0, len(set))
	for o := range set {
		out = append(out, o)
	}
	slices.Sort(out)
	if len(out) > 6 {
		out = out[:6]
	}
	return out
}

// goProof answers r from tree with the block value filled in, encoded as a
// data message, or returns the error.
func goProof(tree *Tree, r jsRequest) ([]byte, *wire.Data, error) {
	d, err := tree.Proof(r.wire())
	if err != nil {
		return nil, nil, err
	}
	if d.Block != nil {
		d.Block.Value = testBlock(d.Block.Index, 0)
	}
	return d.Append(nil), d, nil
}

// errClass names the class of a verification error on both sides.
func goClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrForkMismatch):
		return "fork"
	case errors.Is(err, ErrBadSignature):
		return "signature"
	case errors.Is(err, ErrBadProof):
		return "proof"
	}
	return "other: " + err.Error()
}

func jsClass(v jsVerdict) string {
	switch {
	case v.OK:
		return "ok"
	case v.Error == "FORK_MISMATCH":
		return "fork"
	case v.Error == "INVALID_SIGNATURE":
		return "signature"
	}
	return "proof"
}

// compareVerdict checks the Go verdict on a proof against the JS one.
func compareVerdict(t *testing.T, what string, b *Batch, err error, js jsVerdict) {
	t.Helper()
	if g, j := goClass(err), jsClass(js); g != j {
		t.Errorf("%s: Go %s (%v), JS %s (%s %s)", what, g, err, j, js.Error, js.Message)
		return
	}
	if err != nil {
		return
	}
	h := b.Hash()
	if b.Upgraded() != js.Upgraded || b.Length() != js.Length || b.Fork() != js.Fork ||
		b.ByteLength() != js.ByteLength || hex.EncodeToString(h[:]) != js.TreeHash {
		t.Errorf("%s: batch upgraded=%v length=%d fork=%d bytes=%d, JS %v %d %d %d", what,
			b.Upgraded(), b.Length(), b.Fork(), b.ByteLength(), js.Upgraded, js.Length, js.Fork, js.ByteLength)
	}
	if !nodesEqual(b.Roots(), jsNodes(t, js.Roots)) {
		t.Errorf("%s: batch roots differ from JS", what)
	}
	if !nodesEqual(b.Nodes(), jsNodes(t, js.Nodes)) {
		t.Errorf("%s: batch nodes %v, JS %v", what, b.Nodes(), jsNodes(t, js.Nodes))
	}
}

func TestInterop(t *testing.T) {
	js := startJS(t)
	rng := rand.New(rand.NewPCG(1, 2))

	longest := interopLengths[len(interopLengths)-1]
	type core struct {
		tree  *Tree
		nodes MemNodes
	}
	cores := map[uint64]core{}
	var sig *signer
	for _, n := range interopLengths {
		name := fmt.Sprint(n)
		jt := js.create(name, appendStep(n, 0))
		if sig == nil {
			sig = newSigner(t, jt.Key)
		}
		tree, nodes := build(t, sig, appendStep(n, 0))
		compareTree(t, "length "+name, tree, nodes, jt)
		cores[n] = core{tree, nodes}
	}
	if t.Failed() {
		t.FailNow()
	}
	full := cores[longest].nodes

	for _, length := range interopLengths {
		t.Run(fmt.Sprintf("length=%d", length), func(t *testing.T) {
			tree := cores[length].tree
			starts := []uint64{0}
			for _, s := range interopLengths {
				if s > 0 && s <= length {
					starts = append(starts, s)
				}
			}
			reqs := requestsFor(length, starts, seekOffsets(t, tree, rng), rng)
			reqs = capRequests(reqs, 500, rng)
			jsp := js.proofs(fmt.Sprint(length), reqs)

			// Proof generation: byte-identical messages, same refusals.
			var goData []string
			var goReqs []jsRequest
			okCount := 0
			for i, r := range reqs {
				enc, _, err := goProof(tree, r)
				switch {
				case err != nil && jsp[i].Error == "":
					t.Errorf("%s: Go refused (%v), JS answered", r, err)
				case err == nil && jsp[i].Error != "":
					t.Errorf("%s: Go answered, JS refused (%s %s)", r, jsp[i].Error, jsp[i].Message)
				case err == nil:
					if got := hex.EncodeToString(enc); got != jsp[i].Data {
						t.Errorf("%s:\n Go %s\n JS %s", r, got, jsp[i].Data)
						continue
					}
					okCount++
					goData = append(goData, jsp[i].Data)
					goReqs = append(goReqs, r)
				case !errors.Is(err, ErrInvalidRequest):
					t.Errorf("%s: Go error %v does not wrap ErrInvalidRequest", r, err)
				}
			}
			t.Logf("%d requests, %d answered", len(reqs), okCount)

			// Verification: each proof is checked by the requester (the
			// core at the upgrade's start, or the responder itself),
			// valid as sent and with mutations, by both sides.
			byRequester := map[uint64][]string{}
			for i, r := range goReqs {
				req := length
				if r.Upgrade != nil {
					req = r.Upgrade.Start
				}
				if _, ok := cores[req]; !ok {
					// No JS core of that length: Go alone must accept.
					raw, _ := hex.DecodeString(goData[i])
					var d wire.Data
					if err := wire.Unmarshal(raw, &d); err != nil {
						t.Fatal(err)
					}
					requester := prefix(t, full, req, 0)
					if _, err := requester.Verify(&d, sig.verifier()); err != nil {
						t.Errorf("requester %d refused %s: %v", req, r, err)
					}
					continue
				}
				byRequester[req] = append(byRequester[req], goData[i])
				for _, m := range mutate(t, goData[i], rng) {
					byRequester[req] = append(byRequester[req], m)
				}
			}
			for req, datas := range byRequester {
				requester := prefix(t, full, req, 0)
				requester.signature = cores[req].tree.Signature()
				verdicts := js.verify(fmt.Sprint(req), datas)
				for i, h := range datas {
					raw, _ := hex.DecodeString(h)
					var d wire.Data
					if err := wire.Unmarshal(raw, &d); err != nil {
						t.Fatalf("decoding %s: %v", h, err)
					}
					b, err := requester.Verify(&d, sig.verifier())
					compareVerdict(t, fmt.Sprintf("requester %d, proof %s", req, h), b, err, verdicts[i])
				}
			}
		})
	}
}

// mutate returns altered copies of a valid data message (hex): node
// hashes, indices, sizes and order, lists shortened and lengthened, the
// fork, the upgrade bounds, the signature and the block.
func mutate(t *testing.T, h string, rng *rand.Rand) []string {
	raw, _ := hex.DecodeString(h)
	var orig wire.Data
	if err := wire.Unmarshal(raw, &orig); err != nil {
		t.Fatal(err)
	}
	var out []string
	emit := func(f func(d *wire.Data) bool) {
		d := cloneData(&orig)
		if f(d) {
			out = append(out, hex.EncodeToString(d.Append(nil)))
		}
	}
	lists := func(d *wire.Data) []*[]hcrypto.Node {
		var ls []*[]hcrypto.Node
		if d.Block != nil {
			ls = append(ls, &d.Block.Nodes)
		}
		if d.Hash != nil {
			ls = append(ls, &d.Hash.Nodes)
		}
		if d.Seek != nil {
			ls = append(ls, &d.Seek.Nodes)
		}
		if d.Upgrade != nil {
			ls = append(ls, &d.Upgrade.Nodes, &d.Upgrade.AdditionalNodes)
		}
		return ls
	}
	nl := len(lists(&orig))
	for li := range nl {
		pick := func(d *wire.Data) (*[]hcrypto.Node, int, bool) {
			l := lists(d)[li]
			if len(*l) == 0 {
				return nil, 0, false
			}
			return l, rng.IntN(len(*l)), true
		}
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok {
				(*l)[i].Hash[rng.IntN(32)] ^= 1
			}
			return ok
		})
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok {
				(*l)[i].Index ^= 2
			}
			return ok
		})
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok {
				(*l)[i].Size++
			}
			return ok
		})
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok && len(*l) > 1 {
				j := (i + 1) % len(*l)
				(*l)[i], (*l)[j] = (*l)[j], (*l)[i]
				return true
			}
			return false
		})
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok {
				*l = slices.Delete(*l, i, i+1)
			}
			return ok
		})
		emit(func(d *wire.Data) bool {
			l, i, ok := pick(d)
			if ok {
				*l = append(*l, (*l)[i])
			}
			return ok
		})
	}
	emit(func(d *wire.Data) bool { d.Fork++; return true })
	emit(func(d *wire.Data) bool {
		if d.Upgrade == nil {
			return false
		}
		d.Upgrade.Signature = append([]byte(nil), d.Upgrade.Signature...)
		if len(d.Upgrade.Signature) > 10 {
			d.Upgrade.Signature[10] ^= 1
		}
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Upgrade == nil {
			return false
		}
		d.Upgrade.Length++
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Upgrade == nil || d.Upgrade.Length < 2 {
			return false
		}
		d.Upgrade.Length--
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Upgrade == nil || d.Upgrade.Start == 0 {
			return false
		}
		d.Upgrade.Start--
		d.Upgrade.Length++
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Block == nil {
			return false
		}
		d.Block.Value = append(append([]byte(nil), d.Block.Value...), 'y')
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Block == nil {
			return false
		}
		d.Block.Index ^= 1
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Block == nil || d.Upgrade == nil || len(d.Block.Nodes) == 0 {
			return false
		}
		// Move the last block node into the upgrade, unfolding the rule.
		last := d.Block.Nodes[len(d.Block.Nodes)-1]
		d.Block.Nodes = d.Block.Nodes[:len(d.Block.Nodes)-1]
		d.Upgrade.Nodes = append([]hcrypto.Node{last}, d.Upgrade.Nodes...)
		return true
	})
	emit(func(d *wire.Data) bool {
		if d.Upgrade == nil {
			return false
		}
		d.Upgrade.Nodes = append(d.Upgrade.Nodes, hcrypto.Node{Index: 1 << 20, Size: 1})
		return true
	})
	// Keep the number of mutants per proof small.
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out[:min(len(out), 4)]
}

func cloneData(d *wire.Data) *wire.Data {
	c := *d
	if d.Block != nil {
		b := *d.Block
		b.Nodes = slices.Clone(b.Nodes)
		c.Block = &b
	}
	if d.Hash != nil {
		h := *d.Hash
		h.Nodes = slices.Clone(h.Nodes)
		c.Hash = &h
	}
	if d.Seek != nil {
		s := *d.Seek
		s.Nodes = slices.Clone(s.Nodes)
		c.Seek = &s
	}
	if d.Upgrade != nil {
		u := *d.Upgrade
		u.Nodes = slices.Clone(u.Nodes)
		u.AdditionalNodes = slices.Clone(u.AdditionalNodes)
		c.Upgrade = &u
	}
	return &c
}
