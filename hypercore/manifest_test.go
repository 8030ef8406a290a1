package hypercore

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
)

// The tests in this file compare with interop/hypercore/manifest_vectors.js,
// which answers a list of operations with hypercore's own caps.js,
// verifier.js and multisig.js.

type op map[string]any

// runJS sends ops to the JS script and returns one raw result per op.
func runJS(t *testing.T, ops []op) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	jsref.JSON(t, ops, &out, "hypercore/manifest_vectors.js")
	if len(out) != len(ops) {
		t.Fatalf("JS returned %d results for %d operations", len(out), len(ops))
	}
	return out
}

func unmarshal(t *testing.T, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

func hx(b []byte) string { return hex.EncodeToString(b) }

// seedHex is the hex of the 32-byte seed filled with b.
func seedHex(b byte) string { k := fill(b); return hx(k[:]) }

func fill(b byte) (k [32]byte) {
	for i := range k {
		k[i] = b
	}
	return k
}

func keyPair(seed byte) hcrypto.KeyPair { return hcrypto.KeyPairFromSeed(fill(seed)) }

// manifestJSON is the form manifest_vectors.js passes to createManifest.
func manifestJSON(m *Manifest) op {
	signers := []op{}
	for _, s := range m.Signers {
		signers = append(signers, op{"namespace": hx(s.Namespace[:]), "publicKey": hx(s.PublicKey[:])})
	}
	o := op{"version": m.Version, "quorum": m.Quorum, "allowPatch": m.AllowPatch, "signers": signers}
	if m.Prologue != nil {
		o["prologue"] = op{"hash": hx(m.Prologue.Hash[:]), "length": m.Prologue.Length}
	}
	if m.Linked != nil {
		var l []string
		for _, k := range m.Linked {
			l = append(l, hx(k[:]))
		}
		o["linked"] = l
	}
	if m.UserData != nil {
		o["userData"] = hx(m.UserData)
	}
	return o
}

// testTree holds every full node of the merkle tree of some blocks.
type testTree struct {
	nodes map[uint64]hcrypto.Node
}

func newTestTree(blocks []string) *testTree {
	t := &testTree{nodes: map[uint64]hcrypto.Node{}}
	head := uint64(2 * len(blocks))
	for i, b := range blocks {
		t.nodes[uint64(2*i)] = hcrypto.Node{Index: uint64(2 * i), Size: uint64(len(b)), Hash: hcrypto.LeafHash([]byte(b))}
	}
	for depth := uint64(1); uint64(1)<<depth <= uint64(len(blocks)); depth++ {
		for off := uint64(0); ; off++ {
			i := flattree.Index(depth, off)
			if flattree.RightSpan(i) >= head {
				break
			}
			l, r, _ := flattree.Children(i)
			a, b := t.nodes[l], t.nodes[r]
			t.nodes[i] = hcrypto.Node{Index: i, Size: a.Size + b.Size, Hash: hcrypto.ParentHash(a, b)}
		}
	}
	return t
}

func (t *testTree) head(length, fork uint64) *signedTree {
	s := &signedTree{fork: fork, length: length}
	for _, i := range flattree.FullRoots(2 * length) {
		s.roots = append(s.roots, t.nodes[i])
	}
	return s
}

func treeJSON(s *signedTree) op {
	roots := []op{}
	for _, r := range s.roots {
		roots = append(roots, op{"index": r.Index, "size": r.Size, "hash": hx(r.Hash[:])})
	}
	return op{"fork": s.fork, "length": s.length, "roots": roots}
}

func TestNamespacesJS(t *testing.T) {
	var got struct{ Tree, Initiator, Responder, Manifest, DefaultNamespace, Encryption string }
	unmarshal(t, runJS(t, []op{{"op": "namespaces"}})[0], &got)
	for _, c := range []struct {
		name string
		go_  [32]byte
		js   string
	}{
		{"NS_TREE", nsTree, got.Tree},
		{"NS_REPLICATE_INITIATOR", nsReplicateInitiator, got.Initiator},
		{"NS_REPLICATE_RESPONDER", nsReplicateResponder, got.Responder},
		{"NS_MANIFEST", nsManifest, got.Manifest},
		{"DEFAULT_NAMESPACE", DefaultNamespace, got.DefaultNamespace},
		{"NS_DEFAULT_ENCRYPTION", nsDefaultEncryption, got.Encryption},
	} {
		if hx(c.go_[:]) != c.js {
			t.Errorf("%s = %x, JS has %s", c.name, c.go_, c.js)
		}
	}
}

// testManifests returns manifests JS creates (valid) and refuses (invalid).
func testManifests() (valid, invalid []*Manifest) {
	s := func(b byte) Signer { return Signer{Namespace: fill(b), PublicKey: keyPair(b).PublicKey} }
	valid = []*Manifest{
		DefaultManifest(keyPair(1).PublicKey),
		{Version: 1, Quorum: 2, Signers: []Signer{s(1), s(2), s(3)}},
		{Version: 1, Quorum: 1, AllowPatch: true, Signers: []Signer{s(1), s(2)}, Prologue: &Prologue{Hash: fill(9), Length: 10}},
		{Version: 1, Quorum: 0, Signers: []Signer{}, Prologue: &Prologue{Hash: fill(8), Length: 0x10000}},
		{Version: 2, Quorum: 1, Signers: []Signer{s(4)}, Linked: [][32]byte{fill(5), fill(6)}, UserData: []byte("hello")},
		{Version: 2, Quorum: 1, Signers: []Signer{s(4)}, UserData: []byte{}},
		{Version: 0, Quorum: 1, Signers: []Signer{s(7)}},
		{Version: 0, Quorum: 2, AllowPatch: true, Signers: []Signer{s(7), s(8)}},
		{Version: 0, Quorum: 0, Signers: []Signer{}, Prologue: &Prologue{Hash: fill(3)}},
	}
	invalid = []*Manifest{
		{Version: 1, Quorum: 2, Signers: []Signer{s(1)}},
		{Version: 1, Quorum: 1, Signers: []Signer{s(1)}, UserData: []byte("x")},
		{Version: 1, Quorum: 1, Signers: []Signer{s(1)}, Linked: [][32]byte{fill(1)}},
	}
	return valid, invalid
}

func TestManifestJS(t *testing.T) {
	valid, invalid := testManifests()
	all := append(valid, invalid...)
	var ops []op
	for _, m := range all {
		ops = append(ops, op{"op": "manifest", "manifest": manifestJSON(m)})
	}
	res := runJS(t, ops)
	var decodeOps []op
	for i, m := range all {
		var r struct {
			OK        bool
			Hex, Hash string
			Error     string
		}
		unmarshal(t, res[i], &r)
		err := m.Validate()
		if i >= len(valid) {
			if r.OK || err == nil {
				t.Errorf("manifest %d: JS ok=%v, Validate() = %v; both should refuse it", i, r.OK, err)
			}
			continue
		}
		if !r.OK || err != nil {
			t.Errorf("manifest %d: JS error %q, Validate() = %v", i, r.Error, err)
			continue
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if hx(enc) != r.Hex {
			t.Errorf("manifest %d: encoding\n got %x\nwant %s", i, enc, r.Hex)
		}
		if h := m.Hash(); hx(h[:]) != r.Hash {
			t.Errorf("manifest %d: hash %x, JS %s", i, h, r.Hash)
		}
		p, err := ParseManifest(enc)
		if err != nil {
			t.Errorf("manifest %d: ParseManifest: %v", i, err)
		} else if p.Hash() != m.Hash() {
			t.Errorf("manifest %d: parsed manifest hashes differently", i)
		}
		decodeOps = append(decodeOps, op{"op": "decodeManifest", "hex": r.Hex})
	}
	// JS decodes and re-encodes what Go encodes.
	for i, raw := range runJS(t, decodeOps) {
		var r struct{ Reencoded string }
		unmarshal(t, raw, &r)
		if r.Reencoded != decodeOps[i]["hex"] {
			t.Errorf("manifest %d: JS re-encoded %s", i, r.Reencoded)
		}
	}
}

func TestDefaultManifest(t *testing.T) {
	pk := keyPair(1).PublicKey
	enc, err := DefaultManifest(pk).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := "0100000101004144eea531e483d54e0c14f4ca68e0644f355343ff6fcb0f005200e12cd747cb" + hx(pk[:])
	if hx(enc) != want || len(enc) != 70 {
		t.Errorf("default manifest = %x, want %s", enc, want)
	}
	for n, want := range []int{0, 1, 2, 2, 3} {
		if got := DefaultQuorum(n); got != want {
			t.Errorf("DefaultQuorum(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestParseManifestErrors(t *testing.T) {
	for _, h := range []string{"", "04", "0100010000", "000003", "01000000fe"} {
		b, _ := hex.DecodeString(h)
		if _, err := ParseManifest(b); !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("ParseManifest(%s) error = %v, want ErrInvalidManifest", h, err)
		}
	}
	var m Manifest
	if err := m.UnmarshalBinary([]byte{4}); err == nil {
		t.Error("UnmarshalBinary(version 4) succeeded")
	}
	bad := &Manifest{Version: 0, Quorum: 1, Signers: []Signer{{}}, UserData: []byte{1}}
	if _, err := bad.MarshalBinary(); !errors.Is(err, ErrInvalidManifest) {
		t.Errorf("MarshalBinary(v0 with userData) error = %v", err)
	}
}

func TestCapabilityJS(t *testing.T) {
	type tc struct {
		initiator bool
		key       [32]byte
		hh        [64]byte
	}
	var cases []tc
	for i, init := range []bool{true, false, true, false} {
		c := tc{initiator: init, key: fill(byte(1 + i))}
		for j := range c.hh {
			c.hh[j] = byte(2 + i*j)
		}
		cases = append(cases, c)
	}
	var ops []op
	for _, c := range cases {
		ops = append(ops, op{"op": "capability", "initiator": c.initiator, "key": hx(c.key[:]), "handshakeHash": hx(c.hh[:])})
	}
	for i, raw := range runJS(t, ops) {
		var r struct{ Hex string }
		unmarshal(t, raw, &r)
		c := cases[i]
		if got := Capability(c.initiator, c.key, c.hh); hx(got[:]) != r.Hex {
			t.Errorf("Capability(%v, %x) = %x, JS %s", c.initiator, c.key[:4], got, r.Hex)
		}
	}
}

func TestSignableJS(t *testing.T) {
	lengths := []uint64{0, 1, 0xfd, 1 << 32, 1<<53 - 1}
	var ops []op
	for i, l := range lengths {
		ctx, th := fill(byte(i)), fill(byte(100+i))
		ops = append(ops,
			op{"op": "signable", "ctx": hx(ctx[:]), "treeHash": hx(th[:]), "length": l, "fork": lengths[len(lengths)-1-i]},
			op{"op": "signableCompat", "treeHash": hx(th[:]), "length": l, "fork": i, "legacy": false},
			op{"op": "signableCompat", "treeHash": hx(th[:]), "length": l, "fork": i, "legacy": true})
	}
	res := runJS(t, ops)
	for i, l := range lengths {
		ctx, th := fill(byte(i)), fill(byte(100+i))
		var a, b, c struct{ Hex string }
		unmarshal(t, res[3*i], &a)
		unmarshal(t, res[3*i+1], &b)
		unmarshal(t, res[3*i+2], &c)
		s := treeSignable(ctx, th, l, lengths[len(lengths)-1-i])
		if hx(s[:]) != a.Hex {
			t.Errorf("treeSignable(length %d) = %x, JS %s", l, s, a.Hex)
		}
		if got := treeSignableCompat(th, l, uint64(i), false); hx(got) != b.Hex || len(got) != 80 {
			t.Errorf("treeSignableCompat(length %d) = %x, JS %s", l, got, b.Hex)
		}
		if got := treeSignableCompat(th, l, uint64(i), true); hx(got) != c.Hex || len(got) != 48 {
			t.Errorf("treeSignableCompat(length %d, legacy) = %x, JS %s", l, got, c.Hex)
		}
	}
}

// TestCoreJS checks the key, manifest, tree hash and signature of a real JS
// core against Go (PROTOCOLS.md §5.11: seed 1, "hello", "world").
func TestCoreJS(t *testing.T) {
	blocks := []string{"hello", "world"}
	kp := keyPair(1)
	var r struct{ Key, DiscoveryKey, TreeHash, Signature, Manifest string }
	unmarshal(t, runJS(t, []op{{"op": "core", "seed": seedHex(1), "blocks": blocks}})[0], &r)

	m := DefaultManifest(kp.PublicKey)
	key := m.Hash()
	if hx(key[:]) != r.Key {
		t.Fatalf("key = %x, JS %s", key, r.Key)
	}
	if dk := hcrypto.DiscoveryKey(key); hx(dk[:]) != r.DiscoveryKey {
		t.Errorf("discovery key = %x, JS %s", dk, r.DiscoveryKey)
	}
	if enc, _ := m.MarshalBinary(); hx(enc) != r.Manifest {
		t.Errorf("manifest = %x, JS %s", enc, r.Manifest)
	}
	tree := newTestTree(blocks).head(2, 0)
	if h := tree.hash(); hx(h[:]) != r.TreeHash {
		t.Errorf("tree hash = %x, JS %s", h, r.TreeHash)
	}
	v := newVerifier(key, m, false)
	sig, err := v.sign(tree, &kp)
	if err != nil {
		t.Fatal(err)
	}
	if hx(sig) != r.Signature || len(sig) != 68 {
		t.Errorf("signature = %x, JS %s", sig, r.Signature)
	}
	jsSig, _ := hex.DecodeString(r.Signature)
	if !v.verify(tree, jsSig) {
		t.Error("Go does not verify the JS core's signature")
	}
	jsSig[10] ^= 1
	if v.verify(tree, jsSig) {
		t.Error("Go verifies a tampered signature")
	}
	if v.verify(newTestTree(blocks).head(1, 0), sig) {
		t.Error("Go verifies the signature over another tree")
	}
	other := keyPair(2)
	if _, err := v.sign(tree, &other); !errors.Is(err, errNotSigner) {
		t.Errorf("signing with a stranger's key: %v", err)
	}
}

// signCase is a manifest, the core key and the signers' seeds (in manifest
// order) whose signatures, combined, make a valid signature.
type signCase struct {
	name   string
	key    [32]byte
	m      *Manifest
	seeds  []byte
	legacy bool
	length uint64 // tree length
}

func signCases() []signCase {
	kp := func(b byte) hcrypto.PublicKey { return keyPair(b).PublicKey }
	def := DefaultManifest(kp(1))
	two := &Manifest{Version: 1, Quorum: 2, Signers: []Signer{{DefaultNamespace, kp(1)}, {fill(7), kp(2)}}}
	v0one := &Manifest{Version: 0, Quorum: 1, Signers: []Signer{{fill(5), kp(3)}}}
	v0two := &Manifest{Version: 0, Quorum: 2, Signers: []Signer{{fill(5), kp(3)}, {fill(6), kp(4)}}}
	pro := &Manifest{Version: 1, Quorum: 1, Signers: []Signer{{DefaultNamespace, kp(1)}}, Prologue: &Prologue{Length: 2}}
	cases := []signCase{
		{name: "default", key: def.Hash(), m: def, seeds: []byte{1}, length: 5},
		{name: "compat", key: kp(1), m: def, seeds: []byte{1}, length: 5},
		{name: "compat-legacy", key: kp(1), m: def, seeds: []byte{1}, legacy: true, length: 3},
		{name: "two-signers", key: two.Hash(), m: two, seeds: []byte{1, 2}, length: 6},
		{name: "v0-one", key: v0one.Hash(), m: v0one, seeds: []byte{3}, length: 4},
		{name: "v0-two", key: v0two.Hash(), m: v0two, seeds: []byte{3, 4}, length: 7},
		{name: "prologue-beyond", key: pro.Hash(), m: pro, seeds: []byte{1}, length: 3},
	}
	return cases
}

// goSignature signs tree with every signer of c and combines the parts.
func goSignature(t *testing.T, c signCase, v *verifier, tree *signedTree) []byte {
	t.Helper()
	if len(c.seeds) == 1 {
		kp := keyPair(c.seeds[0])
		sig, err := v.sign(tree, &kp)
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	var parts []partialSignature
	for i, s := range c.seeds {
		kp := keyPair(s)
		sig, err := v.sign(tree, &kp)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, partialSignature{signer: uint64(i), signature: [64]byte(sig)})
	}
	return v.assemble(parts)
}

// TestSignVerifyJS signs trees in Go and verifies them in JS and Go, and
// checks that JS's signatures are Go's (Ed25519 is deterministic).
func TestSignVerifyJS(t *testing.T) {
	blocks := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g"}
	tt := newTestTree(blocks)
	var ops []op
	var sigs [][]byte
	for _, c := range signCases() {
		tree := tt.head(c.length, 3)
		v := newVerifier(c.key, c.m, c.legacy)
		sig := goSignature(t, c, v, tree)
		sigs = append(sigs, sig)
		if !v.verify(tree, sig) {
			t.Errorf("%s: Go does not verify its own signature", c.name)
		}
		bad := bytes.Clone(sig)
		bad[len(bad)-3] ^= 0x80 // a signature byte in every layout
		if v.verify(tree, bad) {
			t.Errorf("%s: Go verifies a tampered signature", c.name)
		}
		base := op{"key": hx(c.key[:]), "manifest": manifestJSON(c.m), "legacy": c.legacy, "tree": treeJSON(tree)}
		with := func(kv ...any) op {
			o := op{}
			for k, v := range base {
				o[k] = v
			}
			for i := 0; i < len(kv); i += 2 {
				o[kv[i].(string)] = kv[i+1]
			}
			return o
		}
		ops = append(ops, with("op", "verify", "signature", hx(sig)), with("op", "verify", "signature", hx(bad)))
		for _, s := range c.seeds {
			ops = append(ops, with("op", "sign", "seed", seedHex(s)))
		}
	}
	res := runJS(t, ops)
	k := 0
	for i, c := range signCases() {
		var good, bad struct {
			OK    bool
			Error string
		}
		unmarshal(t, res[k], &good)
		unmarshal(t, res[k+1], &bad)
		k += 2
		if !good.OK {
			t.Errorf("%s: JS does not verify Go's signature %x (%s)", c.name, sigs[i], good.Error)
		}
		if bad.OK {
			t.Errorf("%s: JS verifies a tampered signature", c.name)
		}
		tree := tt.head(c.length, 3)
		v := newVerifier(c.key, c.m, c.legacy)
		for _, s := range c.seeds {
			var r struct{ Hex string }
			unmarshal(t, res[k], &r)
			k++
			kp := keyPair(s)
			sig, _ := v.sign(tree, &kp)
			if hx(sig) != r.Hex {
				t.Errorf("%s: signer %d signs\n got %x\nJS  %s", c.name, s, sig, r.Hex)
			}
		}
	}
}

// TestPrologue checks that a tree of exactly the prologue's length is valid
// by hash alone, and that shorter trees are not.
func TestPrologue(t *testing.T) {
	tt := newTestTree([]string{"x", "y", "z"})
	m := &Manifest{Version: 1, Quorum: 1, Signers: []Signer{{DefaultNamespace, keyPair(1).PublicKey}}, Prologue: &Prologue{Hash: tt.head(2, 0).hash(), Length: 2}}
	v := newVerifier(m.Hash(), m, false)
	if !v.verify(tt.head(2, 0), nil) {
		t.Error("the prologue tree does not verify")
	}
	if v.verify(tt.head(1, 0), nil) {
		t.Error("a tree shorter than the prologue verifies")
	}
	if v.verify(tt.head(3, 0), nil) {
		t.Error("a longer tree verifies without a signature")
	}
}

// TestPatchJS has JS build a patched multisig (one signer signed a longer
// tree) from a real core, and checks that Go computes the same upgrade
// nodes, assembles the same bytes and verifies it.
func TestPatchJS(t *testing.T) {
	blocks := []string{"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "g", "hh", "iii", "j", "k"}
	tt := newTestTree(blocks)
	s := func(b byte) Signer { return Signer{Namespace: fill(b + 50), PublicKey: keyPair(b).PublicKey} }
	type patchCase struct {
		m        *Manifest
		verified uint64
		signed   []uint64
	}
	var cases []patchCase
	for _, version := range []int{1, 0} {
		m := &Manifest{Version: version, Quorum: 2, AllowPatch: true, Signers: []Signer{s(1), s(2), s(3)}}
		cases = append(cases,
			patchCase{m, 3, []uint64{3, 7}},
			patchCase{m, 1, []uint64{6, 11}},
			patchCase{m, 4, []uint64{8, 5, 4}},
			patchCase{m, 5, []uint64{5, 5}})
	}
	var ops []op
	for _, c := range cases {
		seeds := []string{}
		for i := range c.signed {
			seeds = append(seeds, seedHex(byte(i+1)))
		}
		ops = append(ops, op{"op": "patch", "manifest": manifestJSON(c.m), "seeds": seeds, "blocks": blocks, "verifiedLength": c.verified, "signedLengths": c.signed})
	}
	for i, raw := range runJS(t, ops) {
		c := cases[i]
		name := fmt.Sprintf("v%d-%d-%v", c.m.Version, c.verified, c.signed)
		var r struct {
			Key, Signature string
			OK             any
			Partials       []struct {
				Signer    uint64
				Signature string
				Patch     uint64
				Nodes     []struct {
					Index, Size uint64
					Hash        string
				}
			}
		}
		unmarshal(t, raw, &r)
		if r.OK != true {
			t.Errorf("%s: JS does not verify its own patched signature: %v", name, r.OK)
		}
		key := c.m.Hash()
		if hx(key[:]) != r.Key {
			t.Fatalf("%s: key %x, JS %s", name, key, r.Key)
		}
		v := newVerifier(key, c.m, false)
		var parts []partialSignature
		for j, l := range c.signed {
			kp := keyPair(byte(j + 1))
			sig, err := v.sign(tt.head(l, 0), &kp)
			if err != nil {
				t.Fatal(err)
			}
			p := partialSignature{signer: uint64(j), signature: [64]byte(sig), patch: l - c.verified}
			for _, idx := range upgradeIndexes(2*c.verified, 2*l) {
				p.nodes = append(p.nodes, tt.nodes[idx])
			}
			if p.patch == 0 {
				p.nodes = nil
			}
			var jsNodes []string
			for _, n := range r.Partials[j].Nodes {
				jsNodes = append(jsNodes, fmt.Sprintf("%d/%d/%s", n.Index, n.Size, n.Hash))
			}
			var goNodes []string
			for _, n := range p.nodes {
				goNodes = append(goNodes, fmt.Sprintf("%d/%d/%x", n.Index, n.Size, n.Hash))
			}
			if fmt.Sprint(goNodes) != fmt.Sprint(jsNodes) {
				t.Errorf("%s: signer %d upgrade nodes\n got %v\nJS  %v", name, j, goNodes, jsNodes)
			}
			parts = append(parts, p)
		}
		sig := v.assemble(parts)
		if hx(sig) != r.Signature {
			t.Errorf("%s: assembled\n got %x\nJS  %s", name, sig, r.Signature)
		}
		tree := tt.head(c.verified, 0)
		jsSig, _ := hex.DecodeString(r.Signature)
		if !v.verify(tree, jsSig) {
			t.Errorf("%s: Go does not verify JS's patched signature", name)
		}
		if !v.verify(tree, sig) {
			t.Errorf("%s: Go does not verify its own patched signature", name)
		}
		// Without patches allowed, a patched proof is checked against the
		// shorter tree and fails.
		strict := *c.m
		strict.AllowPatch = false
		if c.signed[1] != c.verified && newVerifier(key, &strict, false).verify(tree, sig) {
			t.Errorf("%s: verified with patches disallowed", name)
		}
		// Wrong patch nodes fail.
		corrupt := false
		for _, p := range parts {
			for k := range p.nodes {
				p.nodes[k].Hash[0] ^= 1
				corrupt = true
			}
		}
		if corrupt && v.verify(tree, v.assemble(parts)) {
			t.Errorf("%s: verified with corrupt patch nodes", name)
		}
	}
}

// FuzzManifest decodes arbitrary manifests. Properties: no panic; a decoded
// manifest encodes, decodes to the same hash, and encodes to the same bytes.
func FuzzManifest(f *testing.F) {
	valid, _ := testManifests()
	for _, m := range valid {
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded manifest does not encode: %v", err)
		}
		m2, err := ParseManifest(enc)
		if err != nil {
			t.Fatalf("encoding %x does not decode: %v", enc, err)
		}
		enc2, _ := m2.MarshalBinary()
		if !bytes.Equal(enc, enc2) || m.Hash() != m2.Hash() {
			t.Fatalf("encoding not stable: %x then %x", enc, enc2)
		}
	})
}

// TestVerifyMultiRules checks the quorum rules of verifier.js _verifyMulti:
// enough proofs, distinct signers, known signer indexes.
func TestVerifyMultiRules(t *testing.T) {
	tt := newTestTree([]string{"p", "q", "r"})
	tree := tt.head(3, 0)
	m := &Manifest{Version: 1, Quorum: 2, Signers: []Signer{{DefaultNamespace, keyPair(1).PublicKey}, {DefaultNamespace, keyPair(2).PublicKey}}}
	v := newVerifier(m.Hash(), m, false)
	part := func(seed byte, signer uint64) partialSignature {
		kp := keyPair(seed)
		sig, err := v.sign(tree, &kp)
		if err != nil {
			t.Fatal(err)
		}
		return partialSignature{signer: signer, signature: [64]byte(sig)}
	}
	a, b := part(1, 0), part(2, 1)
	tests := []struct {
		name  string
		parts []partialSignature
		want  bool
	}{
		{"both", []partialSignature{a, b}, true},
		{"reversed", []partialSignature{b, a}, true},
		{"one short of quorum", []partialSignature{a}, false},
		{"same signer twice", []partialSignature{a, a}, false},
		{"unknown signer", []partialSignature{a, {signer: 2, signature: b.signature}}, false},
		{"swapped indexes", []partialSignature{{signer: 1, signature: a.signature}, {signer: 0, signature: b.signature}}, false},
	}
	for _, tt := range tests {
		if got := v.verify(tree, v.assemble(tt.parts)); got != tt.want {
			t.Errorf("%s: verify = %v, want %v", tt.name, got, tt.want)
		}
	}
	if v.verify(tree, nil) || v.verify(tree, []byte{1}) {
		t.Error("empty or malformed signature verifies")
	}
	// A patched proof whose nodes are missing fails.
	p := part(2, 1)
	p.patch = 2
	patched := &Manifest{Version: 1, Quorum: 2, AllowPatch: true, Signers: m.Signers}
	if newVerifier(patched.Hash(), patched, false).verify(tree, v.assemble([]partialSignature{a, p})) {
		t.Error("a patched proof without patch nodes verifies")
	}
}
