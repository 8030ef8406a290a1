// Package hcrypto holds the cryptographic primitives of hypercore: Ed25519
// key pairs and signatures, discovery keys, namespaces and the merkle tree
// hashes, plus the sealed boxes hypercore-crypto also exports. It matches
// the JS module hypercore-crypto 3.7.0 (with libsodium, through
// sodium-universal 5, underneath) byte for byte; the interop tests check
// every function against it.
//
// # Hashes
//
// BLAKE2b-256 (libsodium crypto_generichash) is the hash throughout. The
// tree hashes ([LeafHash], [ParentHash], [TreeHash]) prefix a type byte and
// write lengths and indices as 64-bit little-endian integers, as hypercore
// 10 and later do. [DiscoveryKey] uses the core key as the BLAKE2b key and
// the word "hypercore" as the message, not the other way round.
// [LeafHashes] and [ParentHashes] compute many of them at once, eight at a
// time on CPUs with AVX-512 (JS computes them one by one).
//
// # Signatures
//
// Signatures are Ed25519 as libsodium makes and checks them. [Sign] gives
// the same bytes as JS. [Verify] refuses exactly what libsodium's
// crypto_sign_verify_detached refuses, which is more than crypto/ed25519
// refuses: public keys that are non-canonical or of small order, and
// signatures whose R is of small order. A Go peer must not accept a
// signature that a JS peer would reject.
//
// # Keys
//
// [PublicKey] prints and marshals as z-base-32, as Pear does, and parses
// from z-base-32, hex or a pear:// link (see package z32). [SecretKey]
// and [EncryptionKeyPair] do not print their secrets.
//
// # Sealed boxes
//
// [Encrypt] and [Decrypt] are libsodium's anonymous sealed boxes
// (crypto_box_seal). The hypercore protocols do not use them.
//
// Everything in this package is safe for concurrent use.
package hcrypto
