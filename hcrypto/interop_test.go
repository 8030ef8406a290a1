package hcrypto_test

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/internal/jsref"
)

type jsNode struct {
	Index uint64 `json:"index"`
	Size  uint64 `json:"size"`
	Hash  string `json:"hash"`
}

type nsRequest struct {
	Name  string `json:"name"`
	Count int    `json:"count,omitempty"`
	IDs   []int  `json:"ids,omitempty"`
}

type signRequest struct {
	SecretKey string `json:"secretKey"`
	Message   string `json:"message"`
}

type cryptoRequest struct {
	DiscoveryKeys []string      `json:"discoveryKeys"`
	Leaves        []string      `json:"leaves"`
	Parents       [][2]jsNode   `json:"parents"`
	Trees         [][]jsNode    `json:"trees"`
	Hashes        [][]string    `json:"hashes"`
	Namespaces    []nsRequest   `json:"namespaces"`
	KeyPairs      []string      `json:"keyPairs"`
	Signs         []signRequest `json:"signs"`
}

type jsKeyPair struct {
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

type cryptoResponse struct {
	DiscoveryKeys []string    `json:"discoveryKeys"`
	Leaves        []string    `json:"leaves"`
	Parents       []string    `json:"parents"`
	Trees         []string    `json:"trees"`
	Hashes        []string    `json:"hashes"`
	Namespaces    [][]string  `json:"namespaces"`
	KeyPairs      []jsKeyPair `json:"keyPairs"`
	Signs         []string    `json:"signs"`
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func rand32(r *rand.Rand) [32]byte { return [32]byte(randBytes(r, 32)) }

func randNode(r *rand.Rand) hcrypto.Node {
	return hcrypto.Node{Index: r.Uint64N(1 << 50), Size: r.Uint64N(1 << 50), Hash: rand32(r)}
}

func toJS(n hcrypto.Node) jsNode {
	return jsNode{Index: n.Index, Size: n.Size, Hash: hex.EncodeToString(n.Hash[:])}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// TestInteropVectors has JS compute discovery keys, tree hashes, generic
// hashes, namespaces, key pairs and signatures, and checks that Go
// computes the same bytes.
func TestInteropVectors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var req cryptoRequest

	var keys [][32]byte
	keys = append(keys, [32]byte{}, [32]byte(bytes.Repeat([]byte{0xff}, 32)))
	for range 20 {
		keys = append(keys, rand32(r))
	}
	for _, k := range keys {
		req.DiscoveryKeys = append(req.DiscoveryKeys, hexOf(k[:]))
	}

	var leaves [][]byte
	for _, n := range []int{0, 1, 2, 63, 64, 127, 128, 129, 255, 256, 1000, 1024, 4096, 65536, 100000} {
		leaves = append(leaves, randBytes(r, n))
	}
	leaves = append(leaves, []byte("hello"), []byte("world"))
	for _, l := range leaves {
		req.Leaves = append(req.Leaves, hexOf(l))
	}

	var parents [][2]hcrypto.Node
	for range 20 {
		parents = append(parents, [2]hcrypto.Node{randNode(r), randNode(r)})
	}
	// Same index on both sides, and left given second.
	parents = append(parents, [2]hcrypto.Node{{Index: 2, Size: 5, Hash: rand32(r)}, {Index: 0, Size: 5, Hash: rand32(r)}})
	for _, p := range parents {
		req.Parents = append(req.Parents, [2]jsNode{toJS(p[0]), toJS(p[1])})
	}

	var trees [][]hcrypto.Node
	for n := range 8 {
		roots := make([]hcrypto.Node, n)
		for i := range roots {
			roots[i] = randNode(r)
		}
		trees = append(trees, roots)
	}
	for _, roots := range trees {
		js := []jsNode{}
		for _, n := range roots {
			js = append(js, toJS(n))
		}
		req.Trees = append(req.Trees, js)
	}

	var hashes [][][]byte
	for n := range 6 {
		var bufs [][]byte
		for range n {
			bufs = append(bufs, randBytes(r, r.IntN(300)))
		}
		hashes = append(hashes, bufs)
	}
	hashes = append(hashes, [][]byte{{}}, [][]byte{{}, {}, {1}})
	for _, bufs := range hashes {
		list := []string{}
		for _, b := range bufs {
			list = append(list, hexOf(b))
		}
		req.Hashes = append(req.Hashes, list)
	}

	// Every namespace of PROTOCOLS.md Appendix A, and some edge cases.
	req.Namespaces = []nsRequest{
		{Name: "hypercore", Count: 6},
		{Name: "hyperswarm/secret-stream", Count: 3},
		{Name: "hyperswarm/dht", IDs: []int{4, 5, 6, 0, 1, 10}},
		{Name: "corestore", Count: 1},
		{Name: "hyperdrive", Count: 1},
		{Name: "autobase", Count: 4},
		{Name: "wakeup", Count: 2},
		{Name: "", Count: 2},
		{Name: "ünïcödé ✓", Count: 1},
		{Name: "ids", IDs: []int{255, 0, 128, 7}},
		{Name: "many", Count: 256},
		{Name: "none", Count: 0},
	}

	var seeds [][32]byte
	seeds = append(seeds, [32]byte{}, [32]byte(bytes.Repeat([]byte{1}, 32)))
	for range 10 {
		seeds = append(seeds, rand32(r))
	}
	for _, s := range seeds {
		req.KeyPairs = append(req.KeyPairs, hexOf(s[:]))
	}

	var messages [][]byte
	for _, n := range []int{0, 1, 32, 100, 5000} {
		messages = append(messages, randBytes(r, n))
	}
	for i, m := range messages {
		kp := hcrypto.KeyPairFromSeed(seeds[i%len(seeds)])
		req.Signs = append(req.Signs, signRequest{SecretKey: hexOf(kp.SecretKey[:]), Message: hexOf(m)})
	}

	var resp cryptoResponse
	jsref.JSON(t, req, &resp, "hcrypto/crypto.js")

	check := func(what string, got [32]byte, want string) {
		t.Helper()
		if g := hexOf(got[:]); g != want {
			t.Errorf("%s = %s, want %s (JS)", what, g, want)
		}
	}
	for i, k := range keys {
		check("DiscoveryKey("+hexOf(k[:])+")", hcrypto.DiscoveryKey(k), resp.DiscoveryKeys[i])
	}
	for i, l := range leaves {
		check("LeafHash(len "+itoa(len(l))+")", hcrypto.LeafHash(l), resp.Leaves[i])
	}
	for i, p := range parents {
		check("ParentHash #"+itoa(i), hcrypto.ParentHash(p[0], p[1]), resp.Parents[i])
	}
	for i, roots := range trees {
		check("TreeHash of "+itoa(len(roots))+" roots", hcrypto.TreeHash(roots), resp.Trees[i])
	}
	for i, bufs := range hashes {
		check("Hash of "+itoa(len(bufs))+" buffers", hcrypto.Hash(bufs...), resp.Hashes[i])
	}
	for i, ns := range req.Namespaces {
		var got [][32]byte
		if ns.IDs != nil {
			ids := make([]byte, len(ns.IDs))
			for j, id := range ns.IDs {
				ids[j] = byte(id)
			}
			got = hcrypto.NamespaceIDs(ns.Name, ids...)
		} else {
			got = hcrypto.Namespace(ns.Name, ns.Count)
		}
		if len(got) != len(resp.Namespaces[i]) {
			t.Errorf("namespace %q: got %d hashes, want %d", ns.Name, len(got), len(resp.Namespaces[i]))
			continue
		}
		for j := range got {
			check("namespace "+ns.Name+"["+itoa(j)+"]", got[j], resp.Namespaces[i][j])
		}
	}
	for i, s := range seeds {
		kp := hcrypto.KeyPairFromSeed(s)
		if g := hexOf(kp.PublicKey[:]); g != resp.KeyPairs[i].PublicKey {
			t.Errorf("KeyPairFromSeed(%x).PublicKey = %s, want %s", s, g, resp.KeyPairs[i].PublicKey)
		}
		if g := hexOf(kp.SecretKey[:]); g != resp.KeyPairs[i].SecretKey {
			t.Errorf("KeyPairFromSeed(%x).SecretKey differs from JS", s)
		}
		if !kp.Validate() {
			t.Errorf("KeyPairFromSeed(%x) does not validate", s)
		}
	}
	for i, m := range messages {
		kp := hcrypto.KeyPairFromSeed(seeds[i%len(seeds)])
		sig := hcrypto.Sign(kp.SecretKey, m)
		if g := hexOf(sig[:]); g != resp.Signs[i] {
			t.Errorf("Sign(message %d) = %s, want %s (JS)", i, g, resp.Signs[i])
		}
		jsSig, _ := hex.DecodeString(resp.Signs[i])
		if !hcrypto.Verify(kp.PublicKey[:], m, jsSig) {
			t.Errorf("Verify refuses the JS signature of message %d", i)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

type verifyCase struct {
	name      string
	PublicKey string `json:"publicKey"`
	Message   string `json:"message"`
	Signature string `json:"signature"`
}

// TestInteropVerify checks that Go's Verify accepts and refuses exactly
// the signatures libsodium does, over adversarial keys and signatures.
func TestInteropVerify(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	cases := adversarialCases(r)
	var got []bool
	jsref.JSON(t, cases, &got, "hcrypto/verify.js")
	if len(got) != len(cases) {
		t.Fatalf("JS answered %d cases, want %d", len(got), len(cases))
	}
	accepted := 0
	for i, c := range cases {
		pk, _ := hex.DecodeString(c.PublicKey)
		msg, _ := hex.DecodeString(c.Message)
		sig, _ := hex.DecodeString(c.Signature)
		if g := hcrypto.Verify(pk, msg, sig); g != got[i] {
			t.Errorf("%s: Verify(pk %s, sig %s) = %v, libsodium says %v", c.name, c.PublicKey, c.Signature, g, got[i])
		}
		if got[i] {
			accepted++
		}
	}
	t.Logf("%d cases, %d accepted by both", len(cases), accepted)
}

type boxRequest struct {
	PublicKey  string `json:"publicKey"`
	SecretKey  string `json:"secretKey,omitempty"`
	Message    string `json:"message,omitempty"`
	Ciphertext string `json:"ciphertext,omitempty"`
}

type boxExchange struct {
	EncryptionKeyPairs []string     `json:"encryptionKeyPairs"`
	Encrypts           []boxRequest `json:"encrypts"`
	Decrypts           []boxRequest `json:"decrypts"`
}

type boxResponse struct {
	EncryptionKeyPairs []jsKeyPair `json:"encryptionKeyPairs"`
	Encrypts           []*string   `json:"encrypts"`
	Decrypts           []*string   `json:"decrypts"`
}

// TestInteropSealedBoxes has JS derive encryption key pairs, seal boxes to
// Go keys and open boxes that Go sealed, including forged boxes from a
// small-order ephemeral key that nacl/box alone would open.
func TestInteropSealedBoxes(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var req boxExchange
	var seeds [][32]byte
	for range 6 {
		seeds = append(seeds, rand32(r))
	}
	seeds = append(seeds, [32]byte{})
	kps := make([]hcrypto.EncryptionKeyPair, len(seeds))
	for i, s := range seeds {
		req.EncryptionKeyPairs = append(req.EncryptionKeyPairs, hexOf(s[:]))
		kps[i] = hcrypto.EncryptionKeyPairFromSeed(s)
	}

	// encKeys and decKeys hold the key pair that opens each box.
	var encKeys, decKeys []hcrypto.EncryptionKeyPair
	addDecrypt := func(kp hcrypto.EncryptionKeyPair, ct []byte) {
		req.Decrypts = append(req.Decrypts, boxRequest{PublicKey: hexOf(kp.PublicKey[:]), SecretKey: hexOf(kp.SecretKey[:]), Ciphertext: hexOf(ct)})
		decKeys = append(decKeys, kp)
	}
	for i, n := range []int{0, 1, 16, 100, 3000} {
		m := randBytes(r, n)
		kp := kps[i%len(kps)]
		req.Encrypts = append(req.Encrypts, boxRequest{PublicKey: hexOf(kp.PublicKey[:]), Message: hexOf(m)})
		encKeys = append(encKeys, kp)
		ct, err := hcrypto.Encrypt(m, kp.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		addDecrypt(kp, ct)
		bad := append([]byte(nil), ct...)
		bad[r.IntN(len(bad))] ^= 1
		addDecrypt(kp, bad)
	}
	for _, ct := range [][]byte{forgedBox(kps[0].PublicKey, []byte("forged")), make([]byte, hcrypto.SealOverhead-1), {}} {
		addDecrypt(kps[0], ct)
	}
	// Small-order public keys: JS throws, Go returns an error.
	for _, pk := range lowOrderX25519() {
		req.Encrypts = append(req.Encrypts, boxRequest{PublicKey: hexOf(pk[:]), Message: "00"})
		encKeys = append(encKeys, hcrypto.EncryptionKeyPair{})
	}

	var resp boxResponse
	jsref.JSON(t, req, &resp, "hcrypto/crypto.js")

	for i, s := range seeds {
		if g := hexOf(kps[i].PublicKey[:]); g != resp.EncryptionKeyPairs[i].PublicKey {
			t.Errorf("EncryptionKeyPairFromSeed(%x).PublicKey = %s, want %s", s, g, resp.EncryptionKeyPairs[i].PublicKey)
		}
		if g := hexOf(kps[i].SecretKey[:]); g != resp.EncryptionKeyPairs[i].SecretKey {
			t.Errorf("EncryptionKeyPairFromSeed(%x).SecretKey differs from JS", s)
		}
	}
	for i, e := range req.Encrypts {
		_, goErr := hcrypto.Encrypt(unhex(t, e.Message), [32]byte(unhex(t, e.PublicKey)))
		jsCT := resp.Encrypts[i]
		if (goErr == nil) != (jsCT != nil) {
			t.Errorf("Encrypt to %s: Go error %v, JS ciphertext %v", e.PublicKey, goErr, jsCT)
			continue
		}
		if jsCT == nil {
			continue
		}
		m, ok := hcrypto.Decrypt(unhex(t, *jsCT), encKeys[i])
		if !ok || hexOf(m) != e.Message {
			t.Errorf("Decrypt of JS box %d = %x, %v; want %s", i, m, ok, e.Message)
		}
	}
	for i, d := range req.Decrypts {
		m, ok := hcrypto.Decrypt(unhex(t, d.Ciphertext), decKeys[i])
		js := resp.Decrypts[i]
		if ok != (js != nil) || (ok && hexOf(m) != *js) {
			t.Errorf("Decrypt of box %d: Go %x, %v; JS %v", i, m, ok, js)
		}
	}
}
