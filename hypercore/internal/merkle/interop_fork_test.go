package merkle

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopear/gopear/hypercore/internal/wire"
)

type jsReorg struct {
	Wants     []Want `json:"wants"`
	Ancestors uint64 `json:"ancestors"`
	Length    uint64 `json:"length"`
	Fork      uint64 `json:"fork"`
	Nodes     int    `json:"nodes"`
	Error     string `json:"error"`
	Message   string `json:"message"`
}

// TestInteropForks builds truncated and re-appended cores in both
// implementations and compares the trees (nodes deleted and replaced,
// signatures of the new forks), the proofs they give, the verdicts of
// requesters on the same and on an older fork, and reorgs.
func TestInteropForks(t *testing.T) {
	js := startJS(t)
	rng := rand.New(rand.NewPCG(3, 4))

	type forkCore struct {
		name  string
		steps []step
	}
	defs := []forkCore{
		{"base20", []step{appendStep(20, 0)}},
		{"base16", []step{appendStep(16, 0)}},
		{"f1", []step{appendStep(20, 0), truncStep(13), appendStep(7, 1)}},
		{"f1at13", []step{appendStep(20, 0), truncStep(13)}},
		{"f2", []step{appendStep(16, 0), truncStep(8), appendStep(3, 1), truncStep(9), appendStep(10, 2)}},
		{"f2at9", []step{appendStep(16, 0), truncStep(8), appendStep(3, 1), truncStep(9)}},
		{"zero", []step{appendStep(5, 0), truncStep(0), appendStep(6, 1)}},
		// Truncations that leave a stale parent behind in JS storage (its
		// walk up from the last kept leaf stops at the first node at
		// offset 0, before that node's parent); Go stores the same.
		{"t8to4", []step{appendStep(8, 0), truncStep(4)}},
		{"t2to1", []step{appendStep(2, 0), truncStep(1)}},
		{"t16to5", []step{appendStep(16, 0), truncStep(5)}},
	}
	trees := map[string]*Tree{}
	var sig *signer
	for _, def := range defs {
		jt := js.create(def.name, def.steps...)
		if sig == nil {
			sig = newSigner(t, jt.Key)
		}
		tree, nodes := build(t, sig, def.steps...)
		compareTree(t, def.name, tree, nodes, jt)
		trees[def.name] = tree
	}
	if t.Failed() {
		t.FailNow()
	}

	// Blocks of the forked cores belong to several generations; fill
	// values from the tree's own leaves' generation by trying each.
	value := func(tree *Tree, i uint64) []byte {
		leaf, _, _ := tree.Get(2 * i)
		for gen := range uint64(3) {
			if b := testBlock(i, gen); leafNode(2*i, b) == leaf {
				return b
			}
		}
		t.Fatalf("no generation of block %d matches", i)
		return nil
	}

	pairs := []struct{ responder, requester string }{
		{"f1", "f1at13"}, {"f2", "f2at9"}, {"f1", "base16"}, {"f2", "base16"},
		{"base20", "f1at13"}, {"zero", "zero"}, {"f1", "f1"},
	}
	for _, pr := range pairs {
		t.Run(pr.responder+"<-"+pr.requester, func(t *testing.T) {
			resp, req := trees[pr.responder], trees[pr.requester]
			starts := []uint64{0}
			if req.Length() <= resp.Length() && req.Length() > 0 {
				starts = append(starts, req.Length())
			}
			reqs := requestsFor(resp.Length(), starts, seekOffsets(t, resp, rng), rng)
			reqs = capRequests(reqs, 400, rng)
			jsp := js.proofs(pr.responder, reqs)
			var datas []string
			for i, r := range reqs {
				d, err := resp.Proof(r.wire())
				if (err != nil) != (jsp[i].Error != "") {
					t.Errorf("%s: Go error %v, JS %q", r, err, jsp[i].Error)
					continue
				}
				if err != nil {
					continue
				}
				if d.Block != nil {
					d.Block.Value = value(resp, d.Block.Index)
				}
				got := hex.EncodeToString(d.Append(nil))
				if got != jsp[i].Data {
					t.Errorf("%s:\n Go %s\n JS %s", r, got, jsp[i].Data)
					continue
				}
				if r.Upgrade == nil || r.Upgrade.Start == req.Length() {
					datas = append(datas, got)
					datas = append(datas, mutate(t, got, rng)...)
				}
			}
			verdicts := js.verify(pr.requester, datas)
			classes := map[string]int{}
			for _, v := range verdicts {
				classes[jsClass(v)]++
			}
			t.Logf("%d requests, %d proofs verified: %v", len(reqs), len(datas), classes)
			for i, h := range datas {
				raw, _ := hex.DecodeString(h)
				var d wire.Data
				if err := wire.Unmarshal(raw, &d); err != nil {
					t.Fatal(err)
				}
				b, err := req.Verify(&d, sig.verifier())
				compareVerdict(t, fmt.Sprintf("%s verifies %s", pr.requester, h), b, err, verdicts[i])
			}
		})
	}

	reorgs := []struct{ local, remote string }{
		{"base20", "f1"}, {"base16", "f1"}, {"base16", "f2"}, {"f1at13", "f2"}, {"base20", "zero"},
	}
	for _, ro := range reorgs {
		t.Run("reorg "+ro.local+"->"+ro.remote, func(t *testing.T) {
			var jr jsReorg
			js.call(map[string]any{"op": "reorg", "name": ro.local, "from": ro.remote}, &jr)
			if jr.Error != "" {
				t.Fatalf("JS reorg: %s %s", jr.Error, jr.Message)
			}
			local, remote := trees[ro.local], trees[ro.remote]
			full, err := remote.Proof(&wire.Request{Upgrade: &wire.RequestUpgrade{Start: 0, Length: remote.Length()}})
			if err != nil {
				t.Fatal(err)
			}
			r, err := local.Reorg(full, sig.verifier())
			if err != nil {
				t.Fatal(err)
			}
			var wants []Want
			for !r.Finished() {
				w, _ := r.Want()
				wants = append(wants, w)
				if len(wants) > 64 {
					t.Fatal("reorg does not finish")
				}
				d, err := remote.Proof(&wire.Request{Hash: &wire.RequestHash{Index: 2 * w.Start, Nodes: w.Nodes}})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := r.Update(d); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("wants %v, ancestors %d", wants, r.Ancestors())
			if fmt.Sprint(wants) != fmt.Sprint(jr.Wants) || r.Ancestors() != jr.Ancestors ||
				r.Length() != jr.Length || r.Fork() != jr.Fork || len(r.Nodes()) != jr.Nodes {
				t.Errorf("Go reorg wants %v ancestors %d length %d fork %d nodes %d;\nJS %v %d %d %d %d",
					wants, r.Ancestors(), r.Length(), r.Fork(), len(r.Nodes()),
					jr.Wants, jr.Ancestors, jr.Length, jr.Fork, jr.Nodes)
			}
		})
	}
}

// TestInteropSeek compares local seeks with core.seek.
func TestInteropSeek(t *testing.T) {
	js := startJS(t)
	for _, n := range []uint64{1, 2, 5, 16, 33} {
		name := fmt.Sprint(n)
		jt := js.create(name, appendStep(n, 0))
		tree, nodes := build(t, newSigner(t, jt.Key), appendStep(n, 0))
		compareTree(t, name, tree, nodes, jt)
		var offsets []uint64
		for b := uint64(0); b <= tree.ByteLength()+2; b++ {
			offsets = append(offsets, b)
		}
		var got [][]uint64
		js.call(map[string]any{"op": "seeks", "name": name, "offsets": offsets}, &got)
		for i, b := range offsets {
			res, err := tree.Seek(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			var want []uint64
			if res.Found {
				want = []uint64{res.Block, res.Offset}
			}
			if fmt.Sprint(want) != fmt.Sprint(got[i]) {
				t.Errorf("length %d: seek(%d) = %v, JS %v", n, b, want, got[i])
			}
		}
	}
}

// TestInteropPrologue compares proofs of a core whose manifest fixes its
// first 4 blocks by tree hash (upgrades into the prologue are widened to
// it), and the verdicts of requesters on them.
func TestInteropPrologue(t *testing.T) {
	js := startJS(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const p = 4
	jt := js.createPrologue("pro", p, appendStep(p, 0), appendStep(5, 0))
	sig := newSigner(t, jt.Key)
	tree, full := build(t, sig, appendStep(p, 0), appendStep(5, 0))
	pro := &Prologue{Length: p}
	roots, err := tree.RootsAt(p)
	if err != nil {
		t.Fatal(err)
	}
	b := tree.Batch()
	b.roots = roots
	pro.Hash = b.Hash()
	tree.SetPrologue(pro)
	compareTree(t, "pro", tree, full, jt)

	// As the manifest verifier does: a tree within the prologue is
	// checked by hash, longer ones by signature.
	verifier := VerifyFunc(func(h [32]byte, length, fork uint64, s []byte) error {
		if length <= p {
			if length != p || h != pro.Hash {
				return fmt.Errorf("not the prologue")
			}
			return nil
		}
		return sig.verifier()(h, length, fork, s)
	})

	requesters := map[uint64]*Tree{}
	for _, n := range []uint64{0, 4, 6} {
		steps := []step{}
		if n > 0 {
			steps = append(steps, appendStep(p, 0))
		}
		if n > p {
			steps = append(steps, appendStep(n-p, 0))
		}
		js.createPrologue(fmt.Sprint("pro", n), p, steps...)
		r := prefix(t, full, n, 0)
		r.SetPrologue(pro)
		requesters[n] = r
	}

	var reqs []jsRequest
	for s := uint64(0); s <= 9; s++ {
		for l := uint64(0); s+l <= 10; l++ {
			reqs = append(reqs, jsRequest{Upgrade: &jsUp{s, l}})
			reqs = append(reqs, jsRequest{Block: &jsPair{rng.Uint64N(9), 0}, Upgrade: &jsUp{s, l}})
		}
	}
	jsp := js.proofs("pro", reqs)
	byRequester := map[uint64][]string{}
	for i, r := range reqs {
		d, err := tree.Proof(r.wire())
		if (err != nil) != (jsp[i].Error != "") {
			t.Errorf("%s: Go error %v, JS %q", r, err, jsp[i].Error)
			continue
		}
		if err != nil {
			continue
		}
		if d.Block != nil {
			d.Block.Value = testBlock(d.Block.Index, 0)
		}
		got := hex.EncodeToString(d.Append(nil))
		if got != jsp[i].Data {
			t.Errorf("%s:\n Go %s\n JS %s", r, got, jsp[i].Data)
			continue
		}
		for n := range requesters {
			byRequester[n] = append(byRequester[n], got)
		}
	}
	for n, datas := range byRequester {
		verdicts := js.verify(fmt.Sprint("pro", n), datas)
		classes := map[string]int{}
		for _, v := range verdicts {
			classes[jsClass(v)]++
		}
		t.Logf("requester %d: %d proofs: %v", n, len(datas), classes)
		for i, h := range datas {
			raw, _ := hex.DecodeString(h)
			var d wire.Data
			if err := wire.Unmarshal(raw, &d); err != nil {
				t.Fatal(err)
			}
			b, err := requesters[n].Verify(&d, verifier)
			compareVerdict(t, fmt.Sprintf("requester %d verifies %s", n, h), b, err, verdicts[i])
		}
	}
}
