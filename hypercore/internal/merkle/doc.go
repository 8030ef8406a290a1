// Package merkle is hypercore's merkle tree: the roots and nodes of a core,
// appending blocks, truncating, and the proofs peers exchange when they
// replicate (generating them for requests and verifying the ones received).
//
// It matches lib/merkle-tree.js of hypercore 11.39.5 (MerkleTree,
// MerkleTreeBatch, ReorgBatch and the proof functions): the same nodes, the
// same roots and tree hashes, the same node lists in proofs, and the same
// proofs accepted and refused (PROTOCOLS.md §2.4, §5.3, §5.6). The interop
// tests compare all of it with the JS reference.
//
// A [Tree] is the trusted state of a core (fork, length, roots, signature)
// over a [NodeReader] that stores its nodes. Changes are made in a [Batch]
// (appending, truncating, verifying a peer's proof) and applied with
// [Tree.Commit], which hands the nodes to write and delete to the caller, so
// that nodes, blocks and the signature land in one storage batch.
//
// Signatures are manifest-specific and are not checked here: verification
// takes a [SignatureVerifier] from the caller (package hypercore).
//
// Neither a Tree nor a Batch is safe for concurrent use.
//
// # Differences from JS
//
// Deliberate, and limited to inputs no honest peer sends or to local
// helpers:
//
//   - [Tree.ByteOffset] and [Tree.ByteRange] return real offsets where JS
//     returns NaN (any node past the first root). Proof generation still
//     reproduces the JS seek answer that follows from the NaN, so that
//     answers stay byte-identical.
//   - Flat-tree indices at or above 2^62 and seek values at or above 2^55
//     are refused (JS numbers are exact only below 2^53); JS would compute
//     with rounded doubles and also fail in every case we know of.
//
// Behaviour kept from JS although it looks odd: nodes left over at the end
// of an upgrade's node list are ignored; a hash proof's target and its
// sibling can trade size without changing their parent's hash; an
// upgrade whose roots are all stored already is not signature-checked; a
// truncation can leave one stale parent node in storage (outside the
// tree).
package merkle
