// Package hypercore is hypercore 11, the append-only, signed, sparsely
// replicated log at the base of the Holepunch data stack, in Go. It matches
// the npm module hypercore 11.39.5: keys, manifests, tree hashes,
// signatures and the replication wire protocol are byte for byte those of
// JS, so Go and JS peers replicate the same cores (PROTOCOLS.md §5).
//
// # Cores, sessions and stores
//
// [Open] opens (or creates) a core in a directory and returns a [Core],
// which is a session: [Core.Session] makes more sessions of the same core,
// [Core.Snapshot] makes a read-only session whose length, fork and blocks
// stay those of the moment it was made, and the core closes with its last
// session. [Store] is the database underneath, which holds any number of
// cores: corestore opens one with [OpenStore] and calls [Store.Open] (or
// [Store.OpenDiscoveryKey]) for each of its cores, and keeps its primary
// key and name aliases in it. [Open] is a Store with one core.
//
// The API follows JS hypercore 11 (index.js) in Go idiom: [Core.Append],
// [Core.Get] (which waits for peers unless told not to), [Core.Has],
// [Core.Seek], [Core.Update], [Core.Download], [Core.Clear],
// [Core.Truncate], [Core.Purge] (deletes the core from its store), user
// data ([Core.SetUserData], [Core.GetUserData]), [Core.Info], and events through [Core.Watch]. [Core.Replicate] and
// [Core.Attach] replicate the core over a protomux session with the
// replication protocol of package hypercore/internal/replicator;
// [Core.Peers] lists the peers, and [EventPeerAdd] and [EventPeerRemove]
// report them coming and going. [Core.RegisterExtension] adds a named
// [Extension] to the replication protocol, whose messages travel on the
// core's channels to and from JS peers that register the same name.
//
// # Storage and crash safety
//
// Every change (an append, a truncation, a clear, a block or upgrade from
// a peer) is one atomic batch of the Pebble database: blocks, tree nodes,
// bitfield pages, the head with its signature and, when learned, the
// manifest. By default each batch is synced before the call returns, so
// after a crash a core reopens with every acknowledged change and always
// verifies (its stored nodes hash to the signed head); [Options.NoSync]
// trades the latest changes for speed, never consistency. A test kills a
// process appending in a loop at random moments and checks exactly that.
//
// Block encryption ([Options.EncryptionKey], PROTOCOLS.md §5.3) encrypts
// blocks with the core's fork before they are appended and decrypts them
// in Get; byte lengths and seeks do not count the 8 bytes of padding, as
// in JS.
//
// Also here: manifests ([Manifest], [DefaultManifest], [ParseManifest]) and
// the core key, which is the manifest hash ([Manifest.Hash]); the
// replication capability ([Capability]); tree signatures of every manifest
// kind (lib/verifier.js, lib/multisig.js). Internal packages hold the wire
// messages (internal/wire), the merkle tree and its proofs
// (internal/merkle), the block bitfield (internal/bitfield), the storage
// (internal/storage) and the replicator (internal/replicator).
//
// # Differences from JS
//
//   - Clear keeps the tree nodes of cleared blocks (JS deletes those no
//     other local block needs), so a core keeps verifying and seeking
//     after a clear.
//   - [AppendResult.ByteLength] does not count encryption padding, as
//     [Core.ByteLength] does not; JS's append result counts it.
//   - Named and atomic sessions, markings and sweeps, groups, recovery
//     from peers and exclusive sessions are not implemented.
//   - An extension message that does not decode with the receiving
//     extension's encoding is ignored; JS ends the connection.
//   - Closing an [Extension] hands its name back to an earlier, still
//     open registration of the same name by another session; JS leaves
//     the name unhandled on the peers already connected.
//   - Appending with a key pair of a multi-signer manifest signs alone: the
//     signature is partial, as in JS, and combining signatures of several
//     signers is left to the application.
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
// A [Core], its sessions and a [Store] are safe for concurrent use: reads
// proceed while a change commits, and changes of one core are applied one
// at a time. Watchers run on their own goroutines and never hold up a
// change; every goroutine a core starts is stopped by Close. Manifests
// are plain values: safe for concurrent reads, not for concurrent
// mutation.
package hypercore
