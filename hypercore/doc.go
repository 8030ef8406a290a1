// Package hypercore is hypercore 11, the append-only, signed, sparsely
// replicated log at the base of the Holepunch data stack, in Go. It matches
// the npm module hypercore 11.39.5: keys, manifests, tree hashes,
// signatures and the replication wire protocol are byte for byte those of
// JS, so Go and JS peers replicate the same cores (PROTOCOLS.md §5).
//
// # Status
//
// The package is being built in parts. What exists today:
//
//   - manifests ([Manifest], [DefaultManifest], [ParseManifest]) and the
//     core key, which is the manifest hash ([Manifest.Hash]);
//   - the replication capability sent in the channel handshake
//     ([Capability]) and the namespaces of hypercore ([DefaultNamespace]
//     and the unexported tree, replication, manifest and encryption
//     namespaces, all derived in caps.go);
//   - tree signatures: the signables of every manifest kind, signing, and
//     verification with quorum and patches (lib/verifier.js,
//     lib/multisig.js), used internally by the core;
//   - internal building blocks: the replication messages and their codecs
//     (hypercore/internal/wire, lib/messages.js), the merkle tree and its
//     proofs (internal/merkle), the block bitfield (internal/bitfield) and
//     the Pebble-backed storage (internal/storage), each at its own stage.
//
// Sessions, the Core type and the replicator come next.
//
// # Keys and manifests
//
// A core's key is the hash of its manifest: BLAKE2b-256 over NS_MANIFEST
// followed by the manifest's encoding. A core made from one key pair has the
// [DefaultManifest] of its public key (version 1, one signer, quorum 1).
// Compat cores of the hypercore 10 era, whose key is the signer's public
// key, are verified but never created by default, as in JS.
//
// # Compatibility
//
// Everything that crosses the wire or is signed matches JS exactly and is
// tested against the pinned JS reference in interop/. The on-disk layout is
// gopear's own (DESIGN.md, Storage).
//
// # Concurrency
//
// Manifests are plain values: safe for concurrent reads, not for
// concurrent mutation. The functions of this package are safe for
// concurrent use.
package hypercore
