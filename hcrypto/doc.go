// Package hcrypto holds the cryptographic primitives of hypercore: Ed25519
// key pairs and signatures, discovery keys, namespaces and the merkle tree
// hashes. It matches the JS module hypercore-crypto 3.7.0 (with libsodium
// from sodium-universal 5 underneath) byte for byte.
//
// BLAKE2b-256 (libsodium crypto_generichash) is the hash throughout.
// Signatures are Ed25519 as libsodium makes and checks them; [Verify]
// refuses exactly what libsodium's crypto_sign_verify_detached refuses,
// which is more than crypto/ed25519 refuses (small-order and non-canonical
// public keys, small-order R).
//
// Everything in this package is safe for concurrent use.
package hcrypto
