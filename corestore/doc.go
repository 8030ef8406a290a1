// Package corestore is corestore 7, many hypercores in one store, in Go. It
// will match the npm module corestore 7.12.5: a store holds a primary key
// from which it derives the key pair of every named core, and replicates
// all its cores over one stream (PROTOCOLS.md §5.8).
//
// # Status
//
// The package is being built in parts. What exists today is the derivation
// of named cores' keys, byte for byte that of JS:
//
//   - [Namespace] and [Namespace.Child], the namespaces of
//     store.namespace(name) sessions;
//   - [DeriveKeyPair], the key pair of a named core (store.createKeyPair,
//     and what store.get({ name }) uses).
//
// The store itself (Open, Get, Replicate, storage of the primary key) comes
// next.
//
// # Key derivation
//
// A store has a 32-byte primary key, random and kept in its storage. Its
// root namespace is 32 zero bytes; store.namespace(name) makes the child
// namespace BLAKE2b-256(parent ‖ name). A core named name in namespace ns
// has the Ed25519 key pair whose seed is BLAKE2b-256 keyed with the primary
// key over NS_CORESTORE ‖ ns ‖ name, where NS_CORESTORE is
// hcrypto.Namespace("corestore", 1)[0]. Its manifest is
// hypercore.DefaultManifest of the public key (version 1; corestore never
// makes compat cores), so its core key is that manifest's hash, and its
// discovery key the discovery key of the core key. Names are bytes: a Go
// string is used as it is, which is what JS does with the UTF-8 encoding of
// a string name (or with a Buffer name).
//
// # Concurrency
//
// The functions of this package are safe for concurrent use.
package corestore
