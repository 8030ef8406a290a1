// Package corestore is corestore 7, many hypercores in one store, in Go. It
// matches the npm module corestore 7.12.5: a store holds a primary key from
// which it derives the key pair of every named core, byte for byte as JS
// does, and replicates all its cores with a peer over one stream, with the
// same channels, in the same order, as a JS store (PROTOCOLS.md §5.8). A Go
// store and a JS store replicate with each other in both directions.
//
// # Stores and cores
//
// [Open] opens a store: one Pebble database in a directory (DESIGN.md,
// Storage) holding the primary key, every core, and the names of named
// cores. [Store.Get] opens a core and returns a session of it (a
// *hypercore.Core):
//
//   - [Name] — the core called name in the store's namespace, with the key
//     pair derived from the primary key (writable; JS get({ name }));
//   - [Key] — any core by its key, typically another writer's (read-only,
//     filled in by peers; JS get({ key }));
//   - [DiscoveryKey] — a core the store already holds (JS get({
//     discoveryKey })).
//
// Every Get of one core returns a session of the same shared core, as in
// JS. [Store.Namespace] returns a store in a child namespace, sharing the
// database, the open cores and the replication streams (JS
// store.namespace(name)).
//
// [Store.Purge], or Purge on a session (JS core.purge()), deletes a core
// completely: its sessions close, its channels close on every stream
// (which run on), and its data, key pair and name leave the database in
// one atomic write. A later Get opens a new, empty core.
//
// # Key derivation
//
// A store has a 32-byte primary key, random and kept in its storage. Its
// root namespace is 32 zero bytes; store.namespace(name) makes the child
// namespace BLAKE2b-256(parent ‖ name). A core named name in namespace ns
// has the Ed25519 key pair whose seed is BLAKE2b-256 keyed with the primary
// key over NS_CORESTORE ‖ ns ‖ name, where NS_CORESTORE is
// hcrypto.Namespace("corestore", 1)[0]. Its manifest is
// hypercore.DefaultManifest of the public key (version 1, or the version
// set with [Options.ManifestVersion]; corestore never makes compat cores),
// so its core key is that manifest's hash, and its discovery key the
// discovery key of the core key. Names are bytes: a Go string is used as it
// is, which is what JS does with the UTF-8 encoding of a string name (or
// with a Buffer name). The first Get of a name stores it as an alias of
// the core, and later Gets of the name open that core, as JS does.
// [Namespace], [Namespace.Child] and [DeriveKeyPair] expose the
// derivation without a store.
//
// # Replication
//
// [Store.Replicate] replicates with the peer at the other end of a
// connection: a *secretstream.Conn is used as it is; a plain byte stream
// (a net.Conn) is first secured with a Noise handshake, with a random key
// pair and a 5-second keep-alive, as JS does. On the secret stream runs
// one protomux session, with one "hypercore/alpha" channel per core whose
// id is the core's discovery key. When the stream starts, the store opens
// the channel of every core it has open, corked into one batch; cores
// opened later (Get after Replicate) are added to every running stream.
// When the peer opens a channel for a core the store has not opened, the
// store opens the core if it holds it in its database and serves it, and
// rejects the channel otherwise, as JS does: a store never creates or
// reveals a core because a peer asked for it. The channel protocol itself
// (sync, requests, proofs, ranges, bitfields) is package hypercore's.
//
// # Differences from JS
//
//   - A core attached to a stream stays open while the stream runs, even
//     when no session of it is left: the stream holds a session of it. JS
//     closes such a core once it is idle (no sessions, no peers), a few
//     seconds after its channels close.
//   - Every open core is replicated; JS's inactive sessions (active:
//     false), suspend and resume, watch, groups, staticify, audit and
//     findingPeers are not implemented.
//   - [Replication] owns the stream it was given and closes it when it
//     ends or when the store closes; JS leaves a stream it did not create
//     open when the store closes (its channels close).
//   - A primary key given in [Options] is used without the JS unsafe flag.
//   - A peer's channel open for a core that is only in storage is answered
//     after the core is read from the database, on the protomux reader
//     (protomux pairs synchronously; see package protomux).
//
// # Concurrency
//
// A [Store], its namespaces, the cores it returns and a [Replication] are
// safe for concurrent use. Every goroutine a store starts (one per
// replication stream, and those of the protomux sessions and replicators
// underneath) is stopped by the Close of the store.
package corestore
