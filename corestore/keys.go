package corestore

import (
	"golang.org/x/crypto/blake2b"

	"github.com/gopear/gopear/hcrypto"
	"github.com/gopear/gopear/hypercore"
)

// nsCorestore prefixes what the seed of a named core hashes (index.js NS):
// hcrypto.Namespace("corestore", 1)[0].
var nsCorestore = hcrypto.Namespace("corestore", 1)[0]

// Namespace is the namespace a store derives the keys of named cores in:
// the same name gives different cores in different namespaces. The zero
// Namespace (32 zero bytes) is the namespace of a store's root, as in JS
// (DEFAULT_NAMESPACE); other namespaces are made from it with
// [Namespace.Child].
type Namespace [32]byte

// Child returns the namespace called name inside ns, the namespace of the
// JS session store.namespace(name): BLAKE2b-256(ns ‖ name). Nested calls
// nest: store.namespace(a).namespace(b) is Namespace{}.Child(a).Child(b).
// Any name is valid, the empty one included.
func (ns Namespace) Child(name string) Namespace {
	return Namespace(hcrypto.Hash(ns[:], []byte(name)))
}

// DeriveKeyPair returns the key pair of the core called name in namespace
// ns of the store whose primary key is primaryKey, as the JS store's
// createKeyPair(name, ns) does; store.get({ name }) makes its cores with
// this key pair. Any name is valid here, but JS's store.get refuses the
// empty one.
func DeriveKeyPair(primaryKey [32]byte, ns Namespace, name string) hcrypto.KeyPair {
	return hcrypto.KeyPairFromSeed(deriveSeed(primaryKey, ns, name))
}

// deriveSeed returns the seed of the key pair of a named core:
// BLAKE2b-256 keyed with the primary key over NS_CORESTORE ‖ ns ‖ name.
func deriveSeed(primaryKey [32]byte, ns Namespace, name string) [hcrypto.SeedSize]byte {
	h, err := blake2b.New256(primaryKey[:])
	if err != nil {
		panic(err) // unreachable: a 32-byte key is valid
	}
	h.Write(nsCorestore[:])
	h.Write(ns[:])
	h.Write([]byte(name))
	var seed [hcrypto.SeedSize]byte
	h.Sum(seed[:0])
	return seed
}

// coreAuth is what a store knows of a core it can write: its key pair,
// manifest, key and discovery key (index.js _auth for a named core).
type coreAuth struct {
	keyPair      hcrypto.KeyPair
	manifest     *hypercore.Manifest
	key          [32]byte
	discoveryKey [32]byte
}

// namedCoreAuth derives everything about the core called name in namespace
// ns: its key pair, the single-signer manifest of its public key at the
// given manifest version (1 is JS's default, and gives
// hypercore.DefaultManifest), the manifest hash as its key, and its
// discovery key.
func namedCoreAuth(primaryKey [32]byte, ns Namespace, name string, version int) coreAuth {
	kp := DeriveKeyPair(primaryKey, ns, name)
	m := signerManifest(kp.PublicKey, version)
	key := m.Hash()
	return coreAuth{keyPair: kp, manifest: m, key: key, discoveryKey: hcrypto.DiscoveryKey(key)}
}
