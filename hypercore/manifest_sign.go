package hypercore

import (
	"errors"
	"slices"

	"github.com/gopear/gopear/cenc"
	"github.com/gopear/gopear/flattree"
	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore/internal/wire"
)

// This file signs trees and verifies tree signatures against a manifest,
// as lib/verifier.js and lib/multisig.js of hypercore 11.39.5 do
// (PROTOCOLS.md §5.2). The shapes, by manifest:
//
//   - compat core (key = the single signer's public key): a raw 64-byte
//     Ed25519 signature of the 80-byte compat signable (48 in legacy mode);
//   - version 0: the 112-byte signable with the signer's namespace; a raw
//     signature for one signer without patches, else a version 0 multisig;
//   - version 1 and above: the 112-byte signable with the manifest hash,
//     always wrapped in a multisig (68 bytes for one signer), unless a tree
//     of exactly the prologue's length matches the prologue hash.
//
// Patches (AllowPatch) are supported on verification: a signer may have
// signed a longer tree, and the multisig carries the nodes that extend the
// verified tree to it; the extension is rebuilt here from those nodes.

// errNotSigner is returned when signing with a key the manifest does not
// list.
var errNotSigner = errors.New("hypercore: public key is not a declared signer")

// signedTree is the state of a merkle tree that a signature covers: its
// fork, its length in blocks and its roots, which must be the full roots of
// 2*length from left to right (merkle-tree.js MerkleTreeBatch).
type signedTree struct {
	fork   uint64
	length uint64
	roots  []hcrypto.Node
}

// hash returns the tree hash of t's roots.
func (t *signedTree) hash() [32]byte { return hcrypto.TreeHash(t.roots) }

// verifier signs and verifies the trees of one core (verifier.js Verifier).
// It is immutable after newVerifier, so safe for concurrent use.
type verifier struct {
	key        [32]byte // the core key: the manifest hash, or a compat core's public key
	manifest   *Manifest
	compat     bool // key is the single signer's public key
	legacy     bool // compat signable without NS_TREE (hypercore 9 era)
	version    int  // 0 for compat cores
	allowPatch bool
	quorum     int
}

// newVerifier returns the verifier of the core with this key and
// manifest. The core is compat when the manifest's single signer has the
// key as public key; legacy selects the 48-byte compat signable.
func newVerifier(key [32]byte, m *Manifest, legacy bool) *verifier {
	v := &verifier{key: key, manifest: m, compat: isCompat(key, m), legacy: legacy}
	if v.compat {
		v.quorum = 1
		return v
	}
	v.version = m.Version
	v.allowPatch = m.AllowPatch
	v.quorum = m.Quorum
	return v
}

// signable returns the bytes signer s signs for tree t.
func (v *verifier) signable(t *signedTree, s *Signer) []byte {
	if v.compat {
		return treeSignableCompat(t.hash(), t.length, t.fork, v.legacy)
	}
	ctx := v.key
	if v.version == 0 {
		ctx = s.Namespace
	}
	b := treeSignable(ctx, t.hash(), t.length, t.fork)
	return b[:]
}

// verifySigner reports whether sig is signer i's signature of t.
func (v *verifier) verifySigner(t *signedTree, i int, sig []byte) bool {
	s := &v.manifest.Signers[i]
	return hcrypto.Verify(s.PublicKey[:], v.signable(t, s), sig)
}

// verify reports whether signature is a valid signature of t for this
// core (verifier.js verify). Malformed signatures are invalid, not errors.
func (v *verifier) verify(t *signedTree, signature []byte) bool {
	if v.version == 0 {
		if len(signature) == 0 {
			return false
		}
		if v.compat || (!v.allowPatch && len(v.manifest.Signers) == 1) {
			return v.verifySigner(t, 0, signature)
		}
		return v.verifyMulti(t, signature)
	}
	if p := v.manifest.Prologue; p != nil && t.length <= p.Length {
		return t.length == p.Length && t.hash() == p.Hash
	}
	return v.verifyMulti(t, signature)
}

// proof is one signer's part of a multisig, in the version 1 shape (a
// version 0 proof's patch becomes its length, as verifier.js does).
type proof struct {
	signer    uint64
	signature [64]byte
	patch     uint64
}

// inflate decodes a multisig of the verifier's version.
func (v *verifier) inflate(signature []byte) ([]proof, []hcrypto.Node, error) {
	d := cenc.NewDecoder(signature)
	if v.version >= 1 {
		var s wire.MultiSignature
		s.Decode(d)
		if err := d.Err(); err != nil {
			return nil, nil, err
		}
		proofs := make([]proof, len(s.Proofs))
		for i, p := range s.Proofs {
			proofs[i] = proof{signer: p.Signer, signature: p.Signature, patch: p.Patch}
		}
		return proofs, s.Patch, nil
	}
	var s wire.MultiSignatureV0
	s.Decode(d)
	if err := d.Err(); err != nil {
		return nil, nil, err
	}
	proofs := make([]proof, len(s.Proofs))
	for i, p := range s.Proofs {
		proofs[i] = proof{signer: p.Signer, signature: p.Signature}
		if p.Patch != nil {
			proofs[i].patch = p.Patch.Length
		}
	}
	return proofs, s.Patch, nil
}

// verifyMulti checks a multisig: the first quorum proofs must come from
// distinct signers and each verify, over t or, for a patched proof when
// the manifest allows patches, over t extended by the patch nodes.
func (v *verifier) verifyMulti(t *signedTree, signature []byte) bool {
	if len(signature) == 0 || v.quorum == 0 {
		return false
	}
	proofs, patch, err := v.inflate(signature)
	if err != nil || len(proofs) < v.quorum {
		return false
	}
	var nodes map[uint64]hcrypto.Node
	if v.allowPatch && len(patch) > 0 {
		nodes = make(map[uint64]hcrypto.Node, len(patch))
		for _, n := range patch {
			nodes[n.Index] = n
		}
	}
	tried := make([]bool, len(v.manifest.Signers))
	for _, p := range proofs[:v.quorum] {
		tree := t
		if p.patch != 0 && v.allowPatch {
			var ok bool
			if tree, ok = extendTree(t, nodes, p.patch); !ok {
				return false
			}
		}
		if p.signer >= uint64(len(v.manifest.Signers)) || tried[p.signer] {
			return false
		}
		tried[p.signer] = true
		if !v.verifySigner(tree, int(p.signer), p.signature[:]) {
			return false
		}
	}
	return true
}

// sign signs t with kp, which must be one of the manifest's signers
// (verifier.js sign). For a single signer of a version 1+ manifest the
// result is the one-proof multisig that goes on the wire; otherwise it is
// the raw 64-byte signature (a partial signature of a multi-signer core,
// to be combined with assemble, or a compat / version 0 signature).
func (v *verifier) sign(t *signedTree, kp *hcrypto.KeyPair) ([]byte, error) {
	for i := range v.manifest.Signers {
		s := &v.manifest.Signers[i]
		if s.PublicKey != kp.PublicKey {
			continue
		}
		sig := kp.Sign(v.signable(t, s))
		if len(v.manifest.Signers) != 1 || v.version == 0 {
			return sig[:], nil
		}
		return v.assemble([]partialSignature{{signer: uint64(i), signature: sig}}), nil
	}
	return nil, errNotSigner
}

// partialSignature is one signer's signature for a multisig
// (multisig.js partialSignature): the signer's index, its signature of a
// tree patch blocks longer than the tree being verified, and the upgrade
// nodes from the verified tree to the signed one.
type partialSignature struct {
	signer    uint64
	signature [64]byte
	patch     uint64
	nodes     []hcrypto.Node
}

// assemble combines partial signatures into the multisig of the
// verifier's version (multisig.js assemble and assemblev0).
func (v *verifier) assemble(inputs []partialSignature) []byte {
	if v.version == 0 {
		return wire.Encode(assembleV0(inputs))
	}
	s := &wire.MultiSignature{Proofs: make([]wire.SignatureProof, 0, len(inputs))}
	seen := make(map[uint64]bool)
	for _, in := range inputs {
		for _, n := range in.nodes {
			if !seen[n.Index] {
				seen[n.Index] = true
				s.Patch = append(s.Patch, n)
			}
		}
		s.Proofs = append(s.Proofs, wire.SignatureProof{Signer: in.signer, Signature: in.signature, Patch: in.patch})
	}
	return wire.Encode(s)
}

// assembleV0 builds a version 0 multisig: each patched proof lists the
// indexes of its nodes in the shared patch, which holds each distinct node
// once.
func assembleV0(inputs []partialSignature) *wire.MultiSignatureV0 {
	s := &wire.MultiSignatureV0{Proofs: make([]wire.SignatureProofV0, 0, len(inputs))}
	for _, in := range inputs {
		p := wire.SignatureProofV0{Signer: in.signer, Signature: in.signature}
		if in.patch != 0 {
			q := &wire.PatchV0{Length: in.patch}
			if len(in.nodes) > 0 {
				q.Start = flattree.RightSpan(in.nodes[len(in.nodes)-1].Index)/2 + 1
			}
			for _, n := range in.nodes {
				j := slices.Index(s.Patch, n)
				if j < 0 {
					j = len(s.Patch)
					s.Patch = append(s.Patch, n)
				}
				q.Nodes = append(q.Nodes, uint64(j))
			}
			p.Patch = q
		}
		s.Proofs = append(s.Proofs, p)
	}
	return s
}

// extendTree returns t extended by add blocks, using the patch nodes the
// upgrade from t's length needs (the nodes multisig.js generateUpgrade
// picks, appended as merkle-tree.js verifyUpgrade appends them). It reports
// false if a node is missing or the result does not have the roots of the
// longer tree.
func extendTree(t *signedTree, patch map[uint64]hcrypto.Node, add uint64) (*signedTree, bool) {
	if add > cenc.MaxSafeInteger || t.length > cenc.MaxSafeInteger-add {
		return nil, false
	}
	to := 2 * (t.length + add)
	roots := slices.Clone(t.roots)
	for _, i := range upgradeIndexes(2*t.length, to) {
		n, ok := patch[i]
		if !ok {
			return nil, false
		}
		roots = appendRoot(roots, n)
	}
	want := flattree.FullRoots(to)
	if len(roots) != len(want) {
		return nil, false
	}
	for i, r := range roots {
		if r.Index != want[i] {
			return nil, false
		}
	}
	return &signedTree{fork: t.fork, length: t.length + add, roots: roots}, true
}

// upgradeIndexes returns, in proof order, the indexes of the nodes that
// extend a tree whose head is from (twice its length) to head to: for the
// new root that holds the old last leaf, the right siblings on the path
// from that leaf up; then every later new root.
func upgradeIndexes(from, to uint64) []uint64 {
	var out []uint64
	started := false
	it := flattree.NewIterator(0)
	for ; it.FullRoot(to); it.NextTree() {
		if it.Index()+it.Factor()/2 < from {
			continue // an old root, unchanged
		}
		if !started && from >= 2 && it.Contains(from-2) {
			started = true
			root, last := it.Index(), from-2
			it.Seek(last)
			for it.Index() != root {
				if s := it.Sibling(); s > last {
					out = append(out, s)
				}
				it.Parent()
			}
			continue
		}
		started = true
		out = append(out, it.Index())
	}
	return out
}

// appendRoot appends n to the roots and merges the last two roots while
// they are siblings.
func appendRoot(roots []hcrypto.Node, n hcrypto.Node) []hcrypto.Node {
	roots = append(roots, n)
	for len(roots) > 1 {
		a, b := roots[len(roots)-2], roots[len(roots)-1]
		if flattree.Sibling(b.Index) != a.Index {
			break
		}
		p := hcrypto.Node{Index: flattree.Parent(b.Index), Size: a.Size + b.Size, Hash: hcrypto.ParentHash(a, b)}
		roots = append(roots[:len(roots)-2], p)
	}
	return roots
}
